# Two commands on a fresh machine: `make demo` and `make test`. Set-up is idempotent: the venv is
# rebuilt only when pyproject.toml or requirements-offline.txt change.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.tuneproof-installed
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup demo test lint typecheck unit clean chromium postgres

setup: $(STAMP)

$(STAMP): pyproject.toml requirements-offline.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first and pinned: an unpinned resolve pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/python -m pip install -q --no-deps -r requirements-offline.txt
	touch $(STAMP)

demo: setup
	$(BIN)/tuneproof demo

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	# the package's layers (pyproject.toml [tool.importlinter]): a cycle or upward import fails
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy src/tuneproof

unit: setup
	$(BIN)/pytest -m "not slow" -q

# Headless Chromium renders report.html in tests/report/test_browser.py (skipped without it).
chromium:
	@if command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	else echo "note: chromium is missing and this is not root: 'sudo apt-get install chromium'," \
		"or tests/report/test_browser.py is skipped"; fi

# Debian's PostgreSQL for the competition tests' throw-away clusters (skipped without it).
postgres:
	@if command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq postgresql; \
	else echo "note: postgresql is missing and this is not root: 'sudo apt-get install postgresql'," \
		"or the PostgreSQL tests in tests/compete are skipped"; fi

test: lint typecheck chromium postgres
	$(BIN)/pytest -q --durations=15

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
