VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
RUNTIME_LOCK := layers/common/requirements.lock
DEV_LOCK := requirements-dev.lock
# A function with dependencies of its own (not the layer's) has functions/<name>/requirements.txt.
FUNCTION_REQUIREMENTS := $(wildcard functions/*/requirements.txt)
# Resolved for the Lambda python3.11 runtime: manylinux2014 wheels on arm64 fit x86_64 too.
UV_COMPILE := $(BIN)/uv pip compile --quiet --generate-hashes --python-version 3.11 \
	--custom-compile-command "make lock"
LAMBDA_PLATFORM := --python-platform aarch64-manylinux2014

.PHONY: install lock inspector dev test lint sam bench clean

# The development set, at the versions the layer ships (requirements-dev.lock, with hashes).
$(BIN)/companion: pyproject.toml $(DEV_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(BIN)/companion

install: $(BIN)/companion

# Re-resolve the locks after editing layers/common/requirements.txt, a function's
# requirements.txt or pyproject.toml (pins already in a lock are kept when they still fit;
# `make lock UPGRADE=--upgrade` moves everything to the newest versions allowed). The
# development set is resolved first, runtime packages included, so that the runtime lock
# takes the very versions the tests run (aws-sam-cli, say, pins boto3 exactly).
lock: install
	$(UV_COMPILE) $(UPGRADE) --universal --extra dev -o $(DEV_LOCK) pyproject.toml $(FUNCTION_REQUIREMENTS)
	$(UV_COMPILE) $(UPGRADE) $(LAMBDA_PLATFORM) -c $(DEV_LOCK) -o $(RUNTIME_LOCK) \
		layers/common/requirements.txt
	for requirements in $(FUNCTION_REQUIREMENTS); do \
		$(UV_COMPILE) $(UPGRADE) $(LAMBDA_PLATFORM) -c $(DEV_LOCK) \
			$$(sed -n 's/^\([A-Za-z0-9._-]*\)==.*/--no-emit-package \1/p' $(RUNTIME_LOCK)) \
			-o "$${requirements%.txt}.lock" "$$requirements" || exit 1; \
	done

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
