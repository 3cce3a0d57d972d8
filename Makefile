# `make demo` and `make test` work on a fresh machine with only python3:
# they create .venv and install sdbridge with what it needs (once; again when pyproject.toml changes).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench lint clean chromium postgresql dist-test fuzz

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint,postgresql,oscal,sign]'
	touch $(STAMP)

demo: $(STAMP)
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
