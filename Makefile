# Two commands do everything on a fresh machine:
#   make run   - the console with demo data on http://127.0.0.1:8000 (SQLite under var/)
#   make test  - installs what the tests need and runs the whole suite
PYTHON ?= $(shell scripts/find-python)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint benchmark benchmark-postgres system-packages clean

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

# The whole suite on SQLite, then the database-specific tests (marked postgres)
# again on a throwaway PostgreSQL server that tests/pg.py starts and removes.
test: $(STAMP) system-packages lint
	$(VENV)/bin/pytest
	$(VENV)/bin/pytest --postgres

# make benchmark N=1000000 [JSON=file]: on DATABASE_URL's database server (SQLite by default).
N ?= 1000
BENCH_ARGS = --accesses $(N) $(if $(JSON),--json $(JSON))
benchmark: $(STAMP)
	DEBUG=1 $(PY) manage.py benchmark $(BENCH_ARGS)

# The same on a throwaway PostgreSQL server (Debian's postgresql package).
benchmark-postgres: $(STAMP)
	DEBUG=1 $(PY) -m tests.pg -- $(PY) manage.py benchmark $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var staticfiles test-artifacts
