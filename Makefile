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

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf .aws-sam .pytest_cache .ruff_cache
