# Tailor: `make run` serves the embedded demo, `make test` runs the whole suite on real services.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
SERVICES := scripts/with-services.sh
PYTEST_ARGS ?=

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

run: install
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py setup_schedules
	DEBUG=1 $(PY) manage.py seed_demo
	DEBUG=1 $(PY) manage.py ensure_admin
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000

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
