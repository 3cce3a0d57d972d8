# `make demo` needs python3 (3.11 or newer) and installs sdbridge alone into .venv;
# `make test` installs the test, lint and optional extras too, and Chromium and PostgreSQL
# with apt (as root on Debian). Each installs once, and again when pyproject.toml changes.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_STAMP := $(VENV)/.installed-demo
STAMP  := $(VENV)/.installed

.PHONY: demo test bench lint clean chromium postgresql dist-test fuzz

# Debian's python3 leaves out the venv module: it is installed with apt when missing.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV) 2>/dev/null || { rm -rf $(VENV); apt-get update -qq \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip

$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(DEMO_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,lint,postgresql,oscal,sign,serve]'
	touch $(STAMP) $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/sdbridge demo

# The HTML report is tested in a real headless Chromium (Debian's package).
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || echo "could not install chromium: the HTML report test will fail"

# The store is tested on a real PostgreSQL server too (Debian's package; the tests start a
# throw-away cluster of their own in a temporary folder and stop it at the end).
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } || echo "could not install postgresql: the store tests on PostgreSQL will fail"

test: $(STAMP) chromium postgresql
	$(BIN)/python -m pytest -q

# The package as installed: wheel + sdist built, the wheel installed in a fresh venv outside
# the tree, the first commands a user runs.
dist-test: $(STAMP)
	PYTHON=$(PYTHON) bash scripts/dist_test.sh

# The property tests with many more examples than `make test` runs (tests/fuzz): each for at
# least FUZZ_MINUTES minutes, a new seed every round.
FUZZ_MINUTES ?= 2
fuzz: $(STAMP)
	$(BIN)/python scripts/fuzz.py $(FUZZ_MINUTES)

# Style and types: ruff (lint + format check) and mypy on src/.
lint: $(STAMP)
	$(BIN)/ruff check src tests scripts bench
	$(BIN)/ruff format --check src tests scripts bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/check_1m.py

clean:
	rm -rf $(VENV) sdbridge-demo .pytest_cache
