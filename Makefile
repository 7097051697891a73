# Tailor: `make run` serves the embedded demo, `make test` runs the whole suite on real services.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
SERVICES := scripts/with-services.sh
PYTEST_ARGS ?=
PORT ?= 8000

.PHONY: install lock system-deps run test lint format worker beat bench clean

UV_VERSION := 0.13.9

# Exactly the versions in uv.lock (`make lock` updates it after a change to pyproject.toml).
$(INSTALLED): pyproject.toml uv.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet 'uv==$(UV_VERSION)'
	$(VENV)/bin/uv sync --quiet --frozen --extra dev --inexact
	touch $(INSTALLED)

install: $(INSTALLED)

lock:
	test -x $(VENV)/bin/uv || { test -x $(PY) || $(PYTHON) -m venv $(VENV); $(PY) -m pip install --quiet 'uv==$(UV_VERSION)'; }
	$(VENV)/bin/uv lock

# Debian packages the tests drive: Redis and Chromium (PostgreSQL 15 is on the machine image).
system-deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  sudo=""; [ "$$(id -u)" = "0" ] || sudo="sudo"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi

# A local .env for development (DEBUG on, a generated SECRET_KEY), written once and never
# overwritten: every `manage.py` command reads it, so they work as README shows them.
.env:
	umask 077; $(PYTHON) -c 'import secrets; print("# Written once by make run for local development; never used in production.\nDEBUG=1\nSECRET_KEY=" + secrets.token_urlsafe(50))' > .env.tmp && mv .env.tmp .env
	@echo "wrote .env (DEBUG=1 and a new SECRET_KEY)"

run: install .env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_schedules
	$(PY) manage.py seed_demo
	$(PY) manage.py ensure_admin
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Style, who may import whom (contracts in pyproject.toml), module and function sizes.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) scripts/check_sizes.py

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: install system-deps lint
	$(SERVICES) $(VENV)/bin/pytest $(PYTEST_ARGS)

# A worker and a scheduler on the configured broker (CELERY_BROKER_URL must name one).
worker: install
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A config beat --loglevel=INFO

bench: install system-deps
	$(SERVICES) $(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
