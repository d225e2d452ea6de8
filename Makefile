# The two commands of the README: `make run` and `make test`.
# Everything the project needs is installed from here into .venv.

PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export TIDINGS_TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/tidings
TEST_DATA_DIR := $(CURDIR)/var/test
# The suite sets its own TIDINGS_* variables: a developer's exported ones
# (a Redis backend, an https base URL) must not leak into it.
CLEAN_ENV := env $(foreach v,$(filter TIDINGS_%,$(.VARIABLES)),$(if $(filter TIDINGS_TEST_%,$(v)),,-u $(v)))
IS_CI := $(filter true 1 yes,$(shell echo '$(CI)' | tr A-Z a-z))

.PHONY: run test test-sqlite test-postgres lint install bench clean fuzz

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Tidings needs Python 3.12 or newer; found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/tidings migrate
	$(BIN)/tidings demo
	$(BIN)/tidings serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The two suites may run side by side: each has its own data directory and Redis database.
export TIDINGS_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
SQLITE_REDIS_URL ?= redis://127.0.0.1:6379/14

test-sqlite: $(STAMP)
	rm -rf $(TEST_DATA_DIR)/sqlite
	$(CLEAN_ENV) TIDINGS_DATA_DIR=$(TEST_DATA_DIR)/sqlite TIDINGS_TEST_REDIS_URL=$(SQLITE_REDIS_URL) \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

# PostgreSQL runs when it answers; with CI=true it must answer.
test-postgres: $(STAMP)
	@if $(BIN)/python scripts/postgres_ready.py "$$TIDINGS_TEST_POSTGRES_URL"; then \
		rm -rf $(TEST_DATA_DIR)/postgres; \
		echo "== test suite on PostgreSQL"; \
		$(CLEAN_ENV) TIDINGS_DATA_DIR=$(TEST_DATA_DIR)/postgres TIDINGS_DATABASE_URL="$$TIDINGS_TEST_POSTGRES_URL" \
			$(BIN)/python -m pytest $(PYTEST_ARGS); \
	elif [ -n "$(IS_CI)" ]; then \
		echo "PostgreSQL is required in CI and does not answer at $$TIDINGS_TEST_POSTGRES_URL"; exit 1; \
	else \
		echo "== PostgreSQL does not answer at $$TIDINGS_TEST_POSTGRES_URL: skipping its run"; \
	fi

# Both databases at once (two cores), each suite's output shown when it ends; then the few
# tests marked serial (a worker killed and restarted on a clock), one database after the other.
test: lint
	@echo "== test suites on SQLite and PostgreSQL, side by side"
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres PYTEST_ARGS='-m "not serial"'
	@echo "== tests that need the machine to themselves"
	$(MAKE) --no-print-directory test-sqlite test-postgres PYTEST_ARGS='-m serial'

# The API fuzz test, long: before a release (docs/api.md, "Fuzzing"). make test runs it short.
TIDINGS_FUZZ_EXAMPLES ?= 200
TIDINGS_FUZZ_STEPS ?= 50
fuzz: $(STAMP)
	rm -rf $(TEST_DATA_DIR)/fuzz
	$(CLEAN_ENV) TIDINGS_DATA_DIR=$(TEST_DATA_DIR)/fuzz TIDINGS_FUZZ_EXAMPLES=$(TIDINGS_FUZZ_EXAMPLES) \
		TIDINGS_FUZZ_STEPS=$(TIDINGS_FUZZ_STEPS) $(BIN)/python -m pytest tests/core/test_api_fuzz.py $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench --list

clean:
	rm -rf $(VENV) var *.egg-info
