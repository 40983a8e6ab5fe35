# `make run-console` and `make test` are the two commands README.md opens with.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

$(BIN)/hypercare: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/hypercare

.PHONY: install test console
install: $(BIN)/hypercare

test: install
	$(BIN)/python -m pytest

console: install
	$(BIN)/hypercare console
