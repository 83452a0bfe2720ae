# Two commands for a fresh machine: `make run` (the app on :3000) and `make test` (the whole suite).
SHELL := /bin/bash
# The project's own Node 22 and bun (scripts/install.sh puts both in .tools) come first.
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export PYTHONPATH := $(CURDIR)

.PHONY: install install-test run test test-unit lint-imports bench-search bench-import bench-inbox bench-inbound bench-floor bench-ui

install:
	@bash scripts/install.sh

install-test:
	@bash scripts/install.sh --test

run: install
	.venv/bin/reflex run

test: install-test
	@bash scripts/test.sh

test-unit: install-test lint-imports
	.venv/bin/python -m pytest tests/unit tests/lambdas -q

# The import contracts in .importlinter (scripts/test.sh runs them before the suite).
lint-imports: install-test
	.venv/bin/lint-imports --no-cache

bench-search: install
	.venv/bin/python bench/contacts_search.py

bench-import: install
	.venv/bin/python bench/contacts_import.py

bench-inbox: install-test
	.venv/bin/python bench/inbox_latency.py

bench-inbound: install
	.venv/bin/python bench/inbound_throughput.py

bench-floor: install
	.venv/bin/python bench/dynamodb_local_floor.py

bench-ui: install
	.venv/bin/python bench/ui_responsiveness.py
