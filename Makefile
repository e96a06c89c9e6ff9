# Two commands do everything on a fresh machine:
#   make run   - the console with demo data on http://127.0.0.1:8000 (SQLite under var/)
#   make test  - installs what the tests need and runs the whole suite
PYTHON ?= $(shell scripts/find-python)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint benchmark system-packages clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	scripts/run-demo

system-packages:
	scripts/system-packages

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

test: $(STAMP) system-packages lint
	$(VENV)/bin/pytest

benchmark: $(STAMP)
	DEBUG=1 $(PY) manage.py benchmark --accesses $${N:-1000}

clean:
	rm -rf $(VENV) var staticfiles test-artifacts
