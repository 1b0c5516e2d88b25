# Every target bootstraps its own virtual environment from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run crawl test demo lint check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

run: $(STAMP)  ## the daemon on the shipped config
	$(BIN)/newsmon run

crawl: $(STAMP)  ## one-off crawl of every configured site
	$(BIN)/newsmon crawl

test: $(STAMP)
	$(BIN)/pytest -q

demo: $(STAMP)  ## crawl the bundled offline replicas and show matches and alerts
	$(BIN)/python -m replica.demo

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

check: $(STAMP)
	$(BIN)/newsmon check

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
