# The two commands a user needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench install clean audit

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# constraints.txt pins the tested versions (see its header for how to refresh it).
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]' -c constraints.txt
	@touch $(STAMP)

install: $(STAMP)

## demo: local sandbox + Smart Parking example (Ctrl-C stops both)
demo: $(STAMP)
	$(BIN)/python scripts/demo.py

## test: the whole suite (installs Chromium/PostgreSQL when missing), then the audit
test: $(STAMP)
	scripts/system-deps.sh
	@status=0; scripts/test.sh || status=1; $(BIN)/python scripts/audit.py || status=1; exit $$status

## audit: known vulnerabilities in the pinned dependencies (skips, saying so, when PyPI's
## vulnerability data cannot be reached)
audit: $(STAMP)
	$(BIN)/python scripts/audit.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .venv-sdk .nox test-output .mypy_cache .ruff_cache
