"""Settings for the test suite: production settings with test-only secrets and fast hashing.

The services (DATABASE_URL, CACHE_URL, CELERY_BROKER_URL) come from the environment that
`make test` prepares.
"""

import os

# A developer's `.env` (written by `make run`: DEBUG on) must not turn the suite into DEBUG mode.
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault(
    "SECRET_KEY", "tailor-test-suite-secret-key-not-used-anywhere-else-0123456789"
)
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("STATIC_MANIFEST", "0")
# Page views and impressions are written in the request that records them, so that a test sees
# them at once; tests of the buffers set a larger size themselves.
os.environ.setdefault("TAILOR_WRITE_BUFFER_SIZE", "1")
# Webhook receivers in tests listen on loopback: the SSRF guard allows it here only (its own
# tests turn it back on).
os.environ.setdefault("TAILOR_WEBHOOK_ALLOW_PRIVATE", "1")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Serve static files from the apps' folders; the suite never runs collectstatic.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
