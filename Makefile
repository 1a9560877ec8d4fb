# One place for the commands the README documents.
#   make test   - set up the environment and run every test against the real stack
#   make up     - bring the local stack up (Jaeger v2, Neo4j, Redis); make down stops it
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PLUGINS := $(sort $(dir $(wildcard instrumentors/*/pyproject.toml)))

.PHONY: venv up down test lint

$(VENV)/.installed: pyproject.toml requirements-dev.txt $(wildcard instrumentors/*/pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt -e . $(addprefix -e ,$(PLUGINS))
	touch $@

venv: $(VENV)/.installed

up:
	deploy/local/up

down:
	deploy/local/down

test: venv
	$(PY) -m pytest

lint: venv
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
