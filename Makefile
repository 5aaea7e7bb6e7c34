# The two set-up commands of the README: `make serve [ARGS="serve options"]` and `make test`. Both
# build .venv from pyproject.toml on first use, so a fresh clone needs nothing but python3 (with
# venv) and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: compile serve test lint bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

# Bytecode is compiled ahead: with PYTHONDONTWRITEBYTECODE set (as on CI machines here), an
# editable install would otherwise compile the project's modules on every start (~50 ms).
compile: $(STAMP)
	$(BIN)/python -m compileall -q mockserver contracts openapi

# Options for chats-mock serve: make serve ARGS="--port 9000 --scenarios ./my-scenarios"
ARGS ?=

serve: compile
	$(BIN)/chats-mock serve $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -n auto

lint: $(STAMP)
	$(BIN)/ruff check mockserver contracts tests bench
	$(BIN)/ruff format --check mockserver contracts tests bench
	$(BIN)/mypy

bench: compile
	$(BIN)/python bench/run.py
