# One place for the commands the README documents.
#   make test   - set up the environment and run every test against the real stack
#   make demo   - run the demo pipeline traced with zero code changes; print a trace tree
#   make up     - bring the local stack up (Jaeger v2, Neo4j, Redis); make down stops it
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PLUGINS := $(sort $(dir $(wildcard instrumentors/*/pyproject.toml)))

.PHONY: venv up down test lint test-neo4j5

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
	$(MAKE) test-neo4j5

# The neo4j plugin's driver matrix: its tests again with the last 5.x driver.
NEO4J5_VENV := .venv-neo4j5
NEO4J5_PY := $(NEO4J5_VENV)/bin/python
$(NEO4J5_VENV)/.installed: requirements-dev.txt instrumentors/neo4j/pyproject.toml instrumentors/util/pyproject.toml
	$(PYTHON) -m venv $(NEO4J5_VENV)
	$(NEO4J5_PY) -m pip install -q --upgrade pip
	$(NEO4J5_PY) -m pip install -q neo4j==5.28.8 opentelemetry-sdk==1.45.2 \
		opentelemetry-exporter-otlp-proto-http==1.45.2 \
		$$(grep -E '^(pytest|pytest-asyncio|pytest-timeout|opentelemetry-distro|pandas)==' requirements-dev.txt) \
		-e instrumentors/util -e instrumentors/neo4j
	touch $@

test-neo4j5: $(NEO4J5_VENV)/.installed
	$(NEO4J5_PY) -m pytest instrumentors/neo4j

lint: venv
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

# The main job in one command: the environment, the local stack, the podcast pipeline
# under opentelemetry-instrument (configured by environment variables only), then one
# episode's trace read back from Jaeger and printed as a tree.
.PHONY: demo
demo: venv
	deploy/local/up
	$(PY) -m stacktools.demo
