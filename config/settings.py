"""Tailor settings, read from the environment (and an optional `.env`) through django-environ.

The defaults run Tailor embedded: a SQLite file, a local-memory cache and Celery tasks run in
process, so `make run` needs no server. Production sets DATABASE_URL, CACHE_URL and
CELERY_BROKER_URL. Every variable is listed in README.md's configuration table.
"""

import ipaddress
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.client_ip import trusted_networks
from config.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)

# A development key is only acceptable while DEBUG is on; anything else must be configured.
_DEV_SECRET_KEY = "django-insecure-tailor-development-key-only-valid-with-debug-on"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable (50 or more random "
            "characters, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(50))'`)"
            ", or set DEBUG=1 for local development."
        )
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.apps.TailorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "csp",
    "django_prometheus",
    "adminsortable2",
    "config.apps.TailorConfig",
    "content",
    "personalization",
    "consent",
    "experiments",
    "insights",
]

MIDDLEWARE = [
    # Request counts and latencies for /metrics: first and last of the chain.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # Every log line of the request, and its answer, carry the request's id.
    "config.logs.RequestIdMiddleware",
    # As high as possible: before any middleware that can answer (WhiteNoise, CommonMiddleware).
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "personalization.delivery.middleware.VisitorMiddleware",
    "consent.middleware.GlobalPrivacyControlMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "personalization.decisions.context_processors.tailor",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Fail fast when the server is unreachable instead of hanging a request or a readiness probe.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://tailor")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_connect_timeout": 2, "socket_timeout": 2}
    )

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files in production; plain files while developing and testing.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("STATIC_MANIFEST", default=not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}

# --- Security -------------------------------------------------------------------------------
# Production defaults satisfy `manage.py check --deploy`; each can be relaxed through the
# environment, e.g. behind a proxy that terminates TLS and already redirects.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("TRUST_X_FORWARDED_PROTO", False) else None
)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe health over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Abuse resistance -----------------------------------------------------------------------
# Proxies (IPs or networks) whose X-Forwarded-For is believed when they are the peer; the
# client is the right-most address that is not one of them (config/client_ip.py). Empty: the
# peer is the client and X-Forwarded-For is ignored, so it cannot be forged to escape a limit.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
trusted_networks(TRUSTED_PROXIES)  # a mistyped entry stops start-up
# Login attempts (admin and site) by django-axes: after LOGIN_FAILURE_LIMIT failures from one
# client IP, logins from it answer 429 for LOGIN_LOCKOUT_MINUTES. Counted in the cache when it
# is shared between processes (Redis), else in the database (the embedded default).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_TEMPLATE = "site/locked_out.html"
AXES_HANDLER = (
    "axes.handlers.database.AxesDatabaseHandler"
    if CACHES["default"]["BACKEND"].endswith(("LocMemCache", "DummyCache", "FileBasedCache"))
    else "axes.handlers.cache.AxesCacheHandler"
)
# Tracked click links (`/t/<token>`) followed per client IP (DRF's rate syntax).
TAILOR_CLICK_RATE = env.str("TAILOR_CLICK_RATE", default="60/minute")
# Largest request body read (bytes; larger answers 413): a full events batch, 500 events with
# 10 KiB of properties each, fits with 2 KiB per event to spare.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=6 * 1024 * 1024)
# Content-Security-Policy on every page (django-csp): scripts and styles only from Tailor's own
# static files, or inline with the request's nonce (`{{ request.csp_nonce }}`); no inline style
# attributes. Content images may come from any HTTPS host (an item's image_url).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:", "https:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["config.auth.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env.str("API_KEY_RATE", default="6000/minute")},
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tailor API",
    "DESCRIPTION": "Personalized content, events, consent and experiments.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI is served from the installed sidecar package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery ---------------------------------------------------------------------------------
# Without a broker, tasks run in process (eager) so the embedded default needs no server.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = (
    env.str(
        "CELERY_RESULT_BACKEND",
        default=CELERY_BROKER_URL
        if CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
        else "",
    )
    or None
)
CELERY_RESULT_EXPIRES = env.int("CELERY_RESULT_EXPIRES", default=86_400)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 300}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Workers log through LOGGING below (JSON lines, a task's id as their request_id).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Batch runs (config/runs.py): a run without a heartbeat for this long lost its worker; the
# reaper (every minute) fails it and starts it again, up to this many attempts in all.
TAILOR_RUN_STALE_SECONDS = env.int("TAILOR_RUN_STALE_SECONDS", default=300)
TAILOR_RUN_MAX_ATTEMPTS = env.int("TAILOR_RUN_MAX_ATTEMPTS", default=3)

# --- Privacy --------------------------------------------------------------------------------
# "opt-in" (GDPR: nothing optional until the visitor agrees) or "opt-out" (allowed until refused).
TAILOR_CONSENT_MODE = env.str("TAILOR_CONSENT_MODE", default="opt-in")
if TAILOR_CONSENT_MODE not in {"opt-in", "opt-out"}:
    raise ImproperlyConfigured("TAILOR_CONSENT_MODE must be 'opt-in' or 'opt-out'")
# Salt for the hashes of IP address and user agent kept as proof of consent.
TAILOR_CONSENT_PROOF_SALT = env.str("TAILOR_CONSENT_PROOF_SALT", default=SECRET_KEY)
# Consent banner (consent/cookies.py): the signed cookie that remembers a browser's choice
# when no visitor profile is kept (everything refused). Six months, then the banner asks again.
TAILOR_CONSENT_COOKIE = "tailor_consent"
TAILOR_CONSENT_COOKIE_AGE = env.int("TAILOR_CONSENT_COOKIE_DAYS", default=180) * 86_400

# --- Personalization ------------------------------------------------------------------------
# The request header a CDN sets with the visitor's country (Cloudflare's by default).
TAILOR_COUNTRY_HEADER = "HTTP_" + env.str(
    "TAILOR_COUNTRY_HEADER", default="CF-IPCountry"
).upper().replace("-", "_")
TAILOR_VISITOR_COOKIE = "tailor_vid"
TAILOR_VISITOR_COOKIE_AGE = env.int("TAILOR_VISITOR_COOKIE_DAYS", default=395) * 86_400
TAILOR_SESSION_GAP_MINUTES = 30
# Page views, impressions and exposures are written in bulk (config/buffers.py): when this many
# rows wait in a process, or when the oldest has waited this many seconds.
TAILOR_WRITE_BUFFER_SIZE = env.int("TAILOR_WRITE_BUFFER_SIZE", default=200)
TAILOR_WRITE_BUFFER_SECONDS = env.float("TAILOR_WRITE_BUFFER_SECONDS", default=2.0)
# A write failing on a transient error is tried again this many times (backoff from 0.5 s);
# while writes fail, a process keeps at most this many rows of a kind, dropping the oldest.
TAILOR_WRITE_BUFFER_RETRIES = env.int("TAILOR_WRITE_BUFFER_RETRIES", default=5)
TAILOR_WRITE_BUFFER_MAX_ROWS = env.int("TAILOR_WRITE_BUFFER_MAX_ROWS", default=10_000)
EVENT_RETENTION_DAYS = env.int("EVENT_RETENTION_DAYS", default=395)
# Anyone can post events from a browser console: by default browsers send no purchases and no
# times of their own (their events are stamped on arrival). Sites that need either allow it here.
TAILOR_BROWSER_PURCHASES = env.bool("TAILOR_BROWSER_PURCHASES", default=False)
TAILOR_BROWSER_BACKDATE_SECONDS = env.int("TAILOR_BROWSER_BACKDATE_SECONDS", default=0)
if TAILOR_BROWSER_BACKDATE_SECONDS < 0:
    raise ImproperlyConfigured("TAILOR_BROWSER_BACKDATE_SECONDS must be 0 or more")
TAILOR_AFFINITY_HALF_LIFE_DAYS = env.float("TAILOR_AFFINITY_HALF_LIFE_DAYS", default=30.0)
# The currency of prices without their own (`metadata.currency`) and of revenue figures.
TAILOR_CURRENCY = env.str("TAILOR_CURRENCY", default="EUR")
# --- Recommendations --------------------------------------------------------------------------
# How much each event type says about interest in an item (types not listed count 0). Override
# with e.g. TAILOR_EVENT_WEIGHTS="view=1,click=2,add_to_cart=4,purchase=8,rating=3".
TAILOR_EVENT_WEIGHTS = {
    key: float(value)
    for key, value in env.dict(
        "TAILOR_EVENT_WEIGHTS",
        default={"view": 1.0, "click": 2.0, "add_to_cart": 4.0, "purchase": 8.0, "rating": 3.0},
    ).items()
}
# At most 1,000,000: affinities count an event's weight in quanta of 2⁻⁴⁰ in a 64-bit integer.
if any(not 0 <= weight <= 1_000_000 for weight in TAILOR_EVENT_WEIGHTS.values()):
    raise ImproperlyConfigured("TAILOR_EVENT_WEIGHTS: every weight must be from 0 to 1,000,000")
# An interaction counts half as much after this many days (training signal, not features).
TAILOR_RECOMMENDATION_HALF_LIFE_DAYS = env.float(
    "TAILOR_RECOMMENDATION_HALF_LIFE_DAYS", default=90.0
)
# Items in each visitor's stored list, and similar items stored per item.
TAILOR_RECOMMENDATIONS_STORED = env.int("TAILOR_RECOMMENDATIONS_STORED", default=50)
# Training reads a seeded sample of at most this many visitors (all are scored): bounded memory.
_SAMPLE = "TAILOR_RECOMMENDATION_TRAINING_VISITORS"
TAILOR_RECOMMENDATION_TRAINING_VISITORS = env.int(_SAMPLE, default=200_000)
if TAILOR_RECOMMENDATION_TRAINING_VISITORS < 1:
    raise ImproperlyConfigured(f"{_SAMPLE} must be 1 or more")

# --- Scores ---------------------------------------------------------------------------------
# Churn is "no activity in the next N days", purchase "a purchase in the next N days"; training
# needs events older than twice N. Training reads the events of at most this many visitors.
TAILOR_SCORES_HORIZON_DAYS = env.int("TAILOR_SCORES_HORIZON_DAYS", default=30)
if TAILOR_SCORES_HORIZON_DAYS < 1:
    raise ImproperlyConfigured("TAILOR_SCORES_HORIZON_DAYS must be 1 or more")
TAILOR_SCORES_TRAINING_VISITORS = env.int("TAILOR_SCORES_TRAINING_VISITORS", default=200_000)
# --- Insights (README, "Insights"; checked by InsightsConfig): conversion, window, smallest cell.
TAILOR_INSIGHTS_CONVERSION_EVENT = env.str("TAILOR_INSIGHTS_CONVERSION_EVENT", default="purchase")
TAILOR_INSIGHTS_ATTRIBUTION_HOURS = env.int("TAILOR_INSIGHTS_ATTRIBUTION_HOURS", default=72)
TAILOR_INSIGHTS_MIN_VISITORS = env.int("TAILOR_INSIGHTS_MIN_VISITORS", default=10)
# --- Delivery -------------------------------------------------------------------------------
# Browsers on these origins (e.g. "https://shop.example.com") may post events cross-origin;
# CORS applies to the events endpoint only. Empty: same-origin only.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/v1/events$"
CORS_ALLOW_CREDENTIALS = env.bool("CORS_ALLOW_CREDENTIALS", default=False)
# The public origin of tracked links (`/t/<token>`) in email blocks and API answers, e.g.
# "https://tailor.example.com"; empty: the host the API was called on.
TAILOR_TRACKING_BASE_URL = env.str("TAILOR_TRACKING_BASE_URL", default="")
# Webhooks (README "Triggers and webhooks"). Secrets are encrypted with SECRET_KEY unless set.
TAILOR_WEBHOOK_SECRET_KEY = env.str("TAILOR_WEBHOOK_SECRET_KEY", default="")
TAILOR_WEBHOOK_ALLOW_PRIVATE = env.bool("TAILOR_WEBHOOK_ALLOW_PRIVATE", default=False)
TAILOR_WEBHOOK_TIMEOUT_SECONDS = env.float("TAILOR_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
TAILOR_WEBHOOK_RETRY_HOURS = env.float("TAILOR_WEBHOOK_RETRY_HOURS", default=24.0)

# --- Metrics --------------------------------------------------------------------------------
# /metrics (config/metrics.py) answers these addresses or networks, and anyone sending
# `Authorization: Bearer <TAILOR_METRICS_TOKEN>` when a token is set; others get 403.
TAILOR_METRICS_ALLOWED_IPS = env.list("TAILOR_METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
TAILOR_METRICS_TOKEN = env.str("TAILOR_METRICS_TOKEN", default="")
for _network in TAILOR_METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _error:
        raise ImproperlyConfigured(f"TAILOR_METRICS_ALLOWED_IPS: {_error}") from None
PROMETHEUS_EXPORT_MIGRATIONS = False

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# "json": one object a line with the request id (config/logs.py); "plain" for reading by eye.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'plain'")
LOGGING = logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)
