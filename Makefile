# Two commands on a fresh machine: `make run` (the demo) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/backoffice

.PHONY: run test test-all lint bench venv install install-dev system-packages-run system-packages-test

# Missing Debian packages are installed with apt as root; otherwise this stops with the command to run.
system-packages-run system-packages-test:
	@PYTHON=$(PYTHON) scripts/ensure-system-packages $(@:system-packages-%=%)

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

install: $(PY)
	$(PIP) install --quiet -r requirements.txt $$(grep -E '^pyftpdlib' requirements-dev.txt)

install-dev: $(PY)
	$(PIP) install --quiet -r requirements-dev.txt

# The demo: SQLite, local files, a loopback FTP server with today's sample file, mails in var/mail/.
run: system-packages-run install
	mkdir -p var
	$(PY) manage.py migrate --noinput --verbosity 0
	$(PY) manage.py setup_schedules
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py demo_setup
	@echo "Serving on http://127.0.0.1:8000/ (admin at /admin/) after one poll of the demo FTP; Ctrl-C stops everything."
	trap 'trap - INT TERM EXIT; kill 0' INT TERM EXIT; \
	$(PY) manage.py demo_ftp & \
	$(PY) manage.py demo_moneybird & \
	$(PY) manage.py poll_ftp --wait 15; \
	$(PY) manage.py qcluster & \
	$(PY) manage.py runserver --noreload 127.0.0.1:8000

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DATABASE_URL=sqlite:///:memory: $(PY) manage.py makemigrations --check --dry-run

# The whole suite against the local PostgreSQL (slow cases excluded; see test-all).
test: system-packages-test lint
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(VENV)/bin/pytest -m "not slow"

test-all: system-packages-test lint
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(VENV)/bin/pytest

bench: install-dev
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) bench/ingest.py
