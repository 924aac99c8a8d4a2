VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: install dev test lint sam bench clean

$(BIN)/companion: pyproject.toml layers/common/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/companion

install: $(BIN)/companion

dev: install
	$(BIN)/companion dev

test: install
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
