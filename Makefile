# Two commands: `make run` (set up everything, then chat or run the Telegram bot) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run setup test test-sqlite test-cluster lint clean

run: setup
	$(BIN)/tthc-bot start

setup: $(VENV)/.installed .env
	@mkdir -p var
	$(BIN)/tthc-bot db upgrade
	$(BIN)/tthc-bot kb validate
	$(BIN)/tthc-bot demo seed --if-empty

$(VENV)/.installed: pyproject.toml
	@$(PY) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $@

# The first time: a .env with a fresh random SECRET_KEY (it signs buttons and keys the phone-number hashes;
# the bot refuses to serve citizens without one). An existing .env is never overwritten.
.env:
	@$(PY) -c 'import secrets; print("# Written by make on first run; see .env.example for every setting.\nSECRET_KEY=" + secrets.token_urlsafe(48))' > $@
	@echo "wrote .env with a new random SECRET_KEY"

# The whole suite, on SQLite and on the local PostgreSQL server (DATABASE_TEST_URL to change it).
test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

# ruff (lint and format), mypy and the import rules of docs/architecture.md; CI runs it before the tests.
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Cluster mode (docs/deployment.md): three instances behind haproxy on a fresh PostgreSQL database, 3,000 messages,
# one instance killed mid-burst; haproxy from Debian's packages, installed if missing. Stops by itself (9 min at most).
test-cluster: $(VENV)/.installed
	command -v haproxy >/dev/null || (apt-get update -qq && apt-get install -y -qq haproxy)
	TTHC_CLUSTER_TEST=1 timeout 600 $(BIN)/python -m pytest -q -p no:cacheprovider -s tests/cluster

test-sqlite: $(VENV)/.installed
	$(BIN)/python -m pytest -q --db=sqlite

clean:
	rm -rf $(VENV) var .pytest_cache
