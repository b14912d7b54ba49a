# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-slow lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

## Import the bundled UCI Online Retail data into demo.duckdb and print the KPIs.
demo: $(VENV)/.installed
	$(BIN)/aovlab demo --workspace demo.duckdb

## Run the whole test suite (DuckDB, Spark and PostgreSQL engines, real data from ../shared/data).
test: $(VENV)/.installed
	./scripts/ensure-java.sh
	./scripts/ensure-chromium.sh
	./scripts/ensure-postgres.sh
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

## The multi-million-row crash tests (kill -9 while DuckDB writes the commit); minutes long.
test-slow: $(VENV)/.installed
	$(BIN)/python -m pytest -q -m slow -s

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/kpis.py

clean:
	rm -rf $(VENV) demo.duckdb .pytest_cache
