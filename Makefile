# Every target bootstraps its own virtual environment from the lock of tested versions.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run crawl test test-fast test-latest demo lint check lock clean

# The lock pins every package (and its hashes) the tests passed with; the project itself is
# installed on top without touching them. The interpreter's own pip is enough.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)  ## the daemon on the shipped config
	$(BIN)/newsmon run

crawl: $(STAMP)  ## one-off crawl of every configured site
	$(BIN)/newsmon crawl

test: $(STAMP)  ## every test: unit, then end-to-end crawls over HTTP
	$(BIN)/pytest -q

test-fast: $(STAMP)  ## the unit tests only (under a minute)
	$(BIN)/pytest -q -m "not e2e" tests/unit

test-latest:  ## the whole suite against the newest releases of every dependency (not the lock)
	bash .ci/latest

demo: $(STAMP)  ## crawl the bundled offline replicas and show matches and alerts
	$(BIN)/python -m replica.demo

lint: $(STAMP)  ## ruff, formatting, mypy, and the import layers (no cycles)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy && $(BIN)/lint-imports

check: $(STAMP)
	$(BIN)/newsmon check

lock: $(STAMP)  ## re-pin requirements.lock after changing dependencies in pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url \
		--no-emit-find-links --extra test --extra dev --extra ui -o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
