# Quick start: `make run` starts the app, `make test` runs every test. Both install what they need.
# `make test-fast` runs the quick part of the tests while you work.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test test-fast init bench worker clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt pyproject.toml
	$(BIN)/pip install --quiet -r requirements.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

init: $(VENV)/.installed
	$(BIN)/brightrun init

run: init
	$(BIN)/streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT)

worker: init
	$(BIN)/brightrun worker

# Debian's PostgreSQL server and Chromium are installed when missing (the tests start their own
# PostgreSQL on 127.0.0.1 and drive Chromium headless through Playwright).
test: $(VENV)/.installed-test
	@scripts/ensure-test-packages
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# The quick part: no browser, no PostgreSQL, no fault or load tests (markers in pyproject.toml),
# on two pytest-xdist workers. It prints its own time: about a minute on 2 cores.
test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 -m "not browser and not postgres and not slow" $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean-venv:
	rm -rf $(VENV)
