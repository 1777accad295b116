# The README's two commands: `make demo` and `make test`. Each creates .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
DEMO_STAMP := $(VENV)/.installed-demo

.PHONY: test demo lint typecheck pytest chaos bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,emulator]'
	touch $(STAMP) $(DEMO_STAMP)

$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[emulator]'
	touch $(DEMO_STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy --strict reconciler

pytest: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck pytest

demo: $(DEMO_STAMP)
	$(BIN)/python scripts/demo.py

chaos: $(STAMP)
	$(BIN)/pytest -q tests/chaos tests/e2e/test_racing_applies.py --chaos-full

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
