# camblur: make help lists every target.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SETUP_STAMP := $(VENV)/.setup-stamp
# Locks with hashes (make lock): the dev/test venv (any platform, Python >= 3.11) and the zip.
DEV_LOCK := requirements/dev.txt
LAMBDA_LOCK := requirements/lambda.txt

# Lambda artefact: one zip for every function. Architecture and Python must match the
# Terraform variables lambda_architecture / lambda_runtime (checked by the contract test).
LAMBDA_ARCH ?= arm64
LAMBDA_PYTHON ?= 3.13
# The zip carries bytecode for that Python, found on PATH/pyenv/uv or at LAMBDA_PYTHON_BIN;
# LAMBDA_BYTECODE=0 builds without it where that Python is missing.
LAMBDA_PYTHON_BIN ?=
LAMBDA_BYTECODE ?= 1
DIST := dist
LAMBDA_ZIP := $(DIST)/camblur-lambda.zip

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_.-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: setup
setup: $(SETUP_STAMP) ## Create .venv with everything dev, tests and the demo need (idempotent)

$(SETUP_STAMP): pyproject.toml $(DEV_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --require-hashes --requirement $(DEV_LOCK)
	$(VENV)/bin/pip install --quiet --no-deps --no-build-isolation --editable .
	$(PY) -m devtools.plate_model
	touch $@

.PHONY: lock
lock: setup ## Refresh both locks from pyproject.toml, online (UPGRADE=1: newest versions)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	  --generate-hashes --quiet --custom-compile-command 'make lock' --output-file $(DEV_LOCK) \
	  $(if $(filter 1,$(UPGRADE)),--upgrade)
	$(PY) -m devtools.build_lambda --lock --python $(LAMBDA_PYTHON) $(if $(filter 1,$(UPGRADE)),--upgrade)

.PHONY: lint
lint: setup ## Lint and format-check the Python code (ruff)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

.PHONY: format
format: setup ## Format the Python code (ruff)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: build
build: setup ## Build the Lambda zip into dist/ from requirements/lambda.txt, with bytecode (LAMBDA_ARCH=arm64|x86_64, LAMBDA_PYTHON=3.13)
	$(PY) -m devtools.build_lambda --arch $(LAMBDA_ARCH) --python $(LAMBDA_PYTHON) --output $(LAMBDA_ZIP) \
	  $(if $(LAMBDA_PYTHON_BIN),--interpreter $(LAMBDA_PYTHON_BIN)) $(if $(filter 0,$(LAMBDA_BYTECODE)),--no-bytecode)

# test-tf and test-py side by side: the integration tests mostly wait on the provider's fixed
# waits (S3, SQS). Where make can (GNU make 4), each one's output is printed whole at its end.
OUTPUT_SYNC := $(if $(filter output-sync,$(.FEATURES)),--output-sync=target)

.PHONY: test
test: setup build ## Run every test: ruff, Terraform checks, unit and integration tests
	$(MAKE) lint
	$(MAKE) -j2 $(OUTPUT_SYNC) test-tf test-py NO_BUILD=1

# loadgroup: the tests that use the one deployment of environments/local share a worker
# (tests/integration/conftest.py); the other worker runs the unit tests meanwhile.
.PHONY: test-py
test-py: setup $(if $(NO_BUILD),,build) ## Unit and integration tests (pytest, 2 workers; CI runs it beside lint and test-tf)
	$(PY) -m pytest -n 2 --dist loadgroup

.PHONY: unit
unit: setup ## Unit tests only: no Terraform, no embedded endpoint, no zip
	$(PY) -m pytest tests/unit -q -n 2

.PHONY: bench
bench: setup ## Benchmark the live blur against the decode+encode floor
	$(PY) benchmarks/bench_live_plates.py  # live with plates 2160p: <ms> (<n> crops)
	$(PY) benchmarks/bench_live_blur.py

.PHONY: bench-import
bench-import: setup ## Time importing the live handler from the unzipped zip, with and without bytecode
	$(PY) benchmarks/bench_import.py

.PHONY: clean
clean: ## Remove build output and caches (keeps .venv)
	rm -rf $(DIST) build .pytest_cache .ruff_cache demo-output

include $(wildcard mk/*.mk)

.PHONY: erase
erase: setup ## Erase pictures on request, audited: make erase [ENV=local] ARGS="--camera cam-1 [--since T --until T] | --key K"
	$(VENV)/bin/camblur erase --env $(or $(ENV),local) $(ARGS)
