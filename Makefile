VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: install inspector dev test lint sam bench clean

$(BIN)/companion: pyproject.toml layers/common/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/companion

install: $(BIN)/companion

# The MCP Inspector, whose CLI tests/integration/test_mcp.py runs: installed from the npm
# registry by its lock file into tests/mcp_inspector (git-ignored node_modules) where npm
# exists; without Node that one test is skipped.
INSPECTOR := tests/mcp_inspector/node_modules/.bin/mcp-inspector
inspector:
	@if [ -x $(INSPECTOR) ]; then :; \
	elif command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/mcp_inspector --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the MCP Inspector test will be skipped"; fi

dev: install
	$(BIN)/companion dev

test: install inspector
	$(BIN)/pytest -q

# Figures, not assertions: each script prints its own and rewrites its section of
# docs/BENCHMARKS.md (about 10 minutes on 2 cores).
bench: install
	for script in tests/benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf .aws-sam .pytest_cache .ruff_cache
