# One place for the commands the README documents.
#   make test   - set up the environment and run every test against the real stack
#   make demo   - run the demo pipeline traced with zero code changes; print a trace tree
#   make up     - bring the local stack up (Jaeger v2, Neo4j, Redis); make down stops it
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PLUGINS := $(sort $(dir $(wildcard instrumentors/*/pyproject.toml)))
# The shared helpers (podcast-kg-otel-util): the layer under both the distro and the plugins.
UTIL := util

.PHONY: venv up down test lint test-neo4j5

$(VENV)/.installed: pyproject.toml requirements-dev.txt $(UTIL)/pyproject.toml $(wildcard instrumentors/*/pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt -e $(UTIL) -e . $(addprefix -e ,$(PLUGINS))
	touch $@

venv: $(VENV)/.installed

up:
	deploy/local/up

down:
	deploy/local/down

test: venv
	$(PY) -m pytest
	$(MAKE) test-neo4j5

# docs/configuration.md's table of variables, generated from podcast_kg_otel/settings.
.PHONY: docs
docs: venv
	$(PY) -m podcast_kg_otel.settings.docs

# The neo4j plugin's driver matrix: its tests again with the last 5.x driver.
NEO4J5_VENV := .venv-neo4j5
NEO4J5_PY := $(NEO4J5_VENV)/bin/python
$(NEO4J5_VENV)/.installed: requirements-dev.txt instrumentors/neo4j/pyproject.toml $(UTIL)/pyproject.toml
	$(PYTHON) -m venv $(NEO4J5_VENV)
	$(NEO4J5_PY) -m pip install -q --upgrade pip
	$(NEO4J5_PY) -m pip install -q neo4j==5.28.8 opentelemetry-sdk==1.45.2 \
		opentelemetry-exporter-otlp-proto-http==1.45.2 \
		$$(grep -E '^(pytest|pytest-asyncio|pytest-timeout|opentelemetry-distro|pandas)==' requirements-dev.txt) \
		-e $(UTIL) -e instrumentors/neo4j
	touch $@

test-neo4j5: $(NEO4J5_VENV)/.installed
	$(NEO4J5_PY) -m pytest instrumentors/neo4j

# langchain-core's own unit suite (from its sdist, at the pinned version) run plain and
# with our instrumentor on for the whole session; fails when any test's outcome differs.
# See instrumentors/langchain/suite/run_suite.py.
.PHONY: test-langchain-suite
LCSUITE_VENV := .venv-lcsuite
LCSUITE_PY := $(LCSUITE_VENV)/bin/python
LANGCHAIN_CORE_PIN := $(shell grep -E '^langchain-core==' requirements-dev.txt)
LCSUITE_CACHE := $(HOME)/.cache/podcast-kg-otel/lcsuite
LCSUITE_SDIST := $(LCSUITE_CACHE)/$(subst ==,-,$(subst -,_,$(LANGCHAIN_CORE_PIN)))
$(LCSUITE_VENV)/.installed: requirements-dev.txt instrumentors/langchain/suite/requirements.txt instrumentors/langchain/pyproject.toml $(UTIL)/pyproject.toml
	$(PYTHON) -m venv $(LCSUITE_VENV)
	$(LCSUITE_PY) -m pip install -q --upgrade pip
	$(LCSUITE_PY) -m pip install -q -r instrumentors/langchain/suite/requirements.txt \
		$(LANGCHAIN_CORE_PIN) -e $(UTIL) -e instrumentors/langchain
	touch $@

$(LCSUITE_SDIST)/pyproject.toml: requirements-dev.txt | $(LCSUITE_VENV)/.installed
	mkdir -p $(LCSUITE_CACHE)
	$(LCSUITE_PY) -m pip download -q --no-binary :all: --no-deps $(LANGCHAIN_CORE_PIN) -d $(LCSUITE_CACHE)
	tar -xzf $(LCSUITE_SDIST).tar.gz -C $(LCSUITE_CACHE)
	touch $@

test-langchain-suite: $(LCSUITE_VENV)/.installed $(LCSUITE_SDIST)/pyproject.toml
	$(LCSUITE_PY) instrumentors/langchain/suite/run_suite.py $(LCSUITE_SDIST)

# actionlint checks the GitHub Actions workflows (the release workflow): built once from
# the Go module proxy into the stack's cache directory.
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := $(HOME)/.cache/podcast-kg-otel/bin/actionlint-$(ACTIONLINT_VERSION)
$(ACTIONLINT):
	mkdir -p $(dir $@)
	GOBIN=$$(mktemp -d) && GOBIN=$$GOBIN go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION) \
		&& mv $$GOBIN/actionlint $@

lint: venv $(ACTIONLINT)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	$(ACTIONLINT) .github/workflows/*.yml

# The scale set-up run for real (deploy/scale): start its local stack (Cassandra x2,
# gateway collectors x2, tail-sampling Jaeger collectors x2, Jaeger query; loopback
# addresses, not the local stack's ports), run tests/scale, and stop the stack whatever
# the outcome. See deploy/README.md, "Scale: run it on one machine".
.PHONY: test-scale
test-scale: venv
	deploy/scale/local-up && $(PY) -m pytest tests/scale; status=$$?; deploy/scale/local-down; exit $$status

# The main job in one command: the environment, the local stack, the podcast pipeline
# under opentelemetry-instrument (configured by environment variables only), then one
# episode's trace read back from Jaeger and printed as a tree.
.PHONY: demo
demo: venv
	deploy/local/up
	$(PY) -m stacktools.demo

# Release artifacts: an sdist and a wheel of each of the five distributions in dist/,
# built from this checkout with the venv's hatchling (no download at build time) and
# checked by twine (metadata, long description rendering).
DISTRIBUTIONS := . $(UTIL) instrumentors/neo4j instrumentors/langchain \
	instrumentors/faster_whisper
.PHONY: dist
dist: venv
	rm -rf dist
	for project in $(DISTRIBUTIONS); do \
		$(PY) -m build --no-isolation --sdist --wheel --outdir dist $$project || exit 1; \
	done
	$(VENV)/bin/twine check --strict dist/*
