# One task runner: developers and CI run the same targets.
PYTHON ?= python3
PG_PORT ?= 54329
PG_DIR ?= /tmp/commops-pg
export COMMOPS_TEST_POSTGRES_URL ?= $(shell cat $(PG_DIR)/url 2>/dev/null)

.PHONY: install dev lint typecheck test check bench services services-stop docs docs-check

install:
	$(PYTHON) -m pip install .

dev:
	$(PYTHON) -m pip install -e '.[dev,perceval,spark]'

lint:
	ruff check src tests bench scripts
	ruff format --check src tests bench scripts

typecheck:
	mypy

test:
	pytest -n 2 --dist loadfile

check: lint typecheck docs-check test

docs:
	$(PYTHON) scripts/gen_cli_docs.py

docs-check:
	$(PYTHON) scripts/gen_cli_docs.py --check

bench:
	$(PYTHON) bench/git_import.py $(REPO)

# A throwaway PostgreSQL on loopback for the store tests (CI uses it too).
services:
	bash scripts/postgres.sh start $(PG_DIR) $(PG_PORT)

services-stop:
	bash scripts/postgres.sh stop $(PG_DIR) $(PG_PORT)
