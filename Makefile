# Every target installs what it needs; `make test` is the one command CI and the README use.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help install engine browser lint format test test-unit demo images bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip
	@# compat mode: a plain path entry, no import hook (the hook costs ~40 ms per start)
	@$(BIN)/pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	@# bytecode now, so each CLI start skips compiling (even with PYTHONDONTWRITEBYTECODE)
	@$(BIN)/python -m compileall -q sandbox
	@touch $@

install: $(STAMP) ## Create .venv and install sandbox with its test tools

engine: ## Make sure a Docker engine answers (starts one as root on Debian/Ubuntu)
	@bash .ci/ensure-docker.sh

browser: ## Make sure headless chromium is there for the HTML report test (apt as root)
	@bash .ci/ensure-chromium.sh

lint: install ## ruff (lint + format check) and mypy
	$(BIN)/ruff check sandbox tests bench examples
	$(BIN)/ruff format --check sandbox tests bench examples
	$(BIN)/mypy sandbox

format: install ## Format the code with ruff
	$(BIN)/ruff format sandbox tests bench examples
	$(BIN)/ruff check --fix sandbox tests bench examples

test: install engine browser ## Unit and Docker integration tests (builds the offline image once)
	$(BIN)/pytest tests

test-unit: install ## Unit tests only (no Docker)
	$(BIN)/pytest tests/unit

demo: install engine ## Run the bundled examples in containers: each must PASS
	bash examples/demo.sh

images: install engine ## Build the offline image profile (sklearn-1.2)
	$(BIN)/sandbox images build sklearn-1.2

bench: install engine ## Benchmarks: print ratios measured side by side
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/datagen.py
	$(BIN)/python bench/derived_images.py
	$(BIN)/python bench/controller_memory.py
	$(BIN)/python bench/copy_mode.py

clean: ## Remove the workspace and leftover containers of the tool
	-$(BIN)/sandbox clean-workspace 2>/dev/null
	rm -rf .sandbox
