# The whole set-up on a fresh machine with only python3 on it: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Stamps record which extras the venv holds, so a second `make` installs nothing.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
# `make run` opens the console (demo mode without Twilio credentials); ARGS=... passes options.
ARGS ?=

.PHONY: run test lint types imports unit screenshots bench-store country-names clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/msgwatch $(ARGS)

# The README's pictures, from a scripted demo session (tui/screenshots.py).
screenshots: $(DEV_STAMP)
	$(BIN)/python -m tui.screenshots --out screenshots

test: lint types imports unit

lint: $(DEV_STAMP)
	$(BIN)/ruff check tui tests bench
	$(BIN)/ruff format --check tui tests bench

types: $(DEV_STAMP)
	$(BIN)/mypy tui

imports: $(DEV_STAMP)
	$(BIN)/lint-imports

unit: $(DEV_STAMP)
	$(BIN)/pytest -q -n 2

# After a phonenumbers upgrade changes its country names (test_country_names.py says so).
country-names: $(DEV_STAMP)
	$(BIN)/python tests/domain/country_name_source.py

bench-store: $(RUN_STAMP)
	$(BIN)/python bench/store.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
