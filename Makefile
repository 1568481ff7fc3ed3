# The two commands a user needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## demo: local sandbox + Smart Parking example (Ctrl-C stops both)
demo: $(STAMP)
	$(BIN)/python scripts/demo.py

## test: the whole suite (installs Chromium/PostgreSQL when missing)
test: $(STAMP)
	scripts/system-deps.sh
	scripts/test.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .venv-sdk .nox test-output .mypy_cache .ruff_cache
