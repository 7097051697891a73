"""The version of everything decisions read from the content app (see `config.versioning`).

Slot definitions are cached per process; any save or delete of content bumps the version.
"""

from config.versioning import SharedVersion

CONTENT_VERSION = SharedVersion("tailor:content:version")

content_version = CONTENT_VERSION.current
content_version_bump = CONTENT_VERSION.bump
