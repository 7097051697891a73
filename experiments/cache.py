"""The version of everything assignment reads from the experiments app (see `config.versioning`).

Running experiments are cached per process; any save or delete of an experiment, a variation
or a metric bumps the version, so every process reloads within a second.
"""

from config.versioning import SharedVersion

EXPERIMENTS_VERSION = SharedVersion("tailor:experiments:version")

experiments_version = EXPERIMENTS_VERSION.current
experiments_version_bump = EXPERIMENTS_VERSION.bump
