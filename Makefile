# Two commands for a fresh machine: `make run` (the app on :3000) and `make test` (the whole suite).
SHELL := /bin/bash
# The project's own Node 22 and bun (scripts/install.sh puts both in .tools) come first.
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export PYTHONPATH := $(CURDIR)

.PHONY: install install-test run test test-unit lint-imports fuzz bench-search bench-import bench-inbox bench-bulk bench-inbound bench-floor bench-ui bench-message-log bench-crash bench-bulk-crash bench-writes bench-dashboard bench-ai scale-demo

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

# The long fuzz run: Hypothesis over the webhook parsers and doors, Schemathesis over /api as each role
# (`make test` runs a short derandomised sample of the same properties).
fuzz: install-test
	HYPOTHESIS_PROFILE=fuzz .venv/bin/python -m pytest -q -p no:cacheprovider tests/fuzz --hypothesis-show-statistics

bench-search: install-test
	.venv/bin/python bench/contacts_search.py

bench-import: install-test
	.venv/bin/python bench/contacts_import.py

bench-bulk: install-test
	.venv/bin/python bench/bulk_throughput.py

bench-inbox: install-test
	.venv/bin/python bench/inbox_latency.py

bench-inbound: install-test
	.venv/bin/python bench/inbound_throughput.py

bench-floor: install-test
	.venv/bin/python bench/dynamodb_local_floor.py

bench-ui: install-test
	.venv/bin/python bench/ui_responsiveness.py

bench-message-log: install-test
	.venv/bin/python bench/message_log.py

bench-crash: install-test
	.venv/bin/python bench/crash_recovery.py

bench-bulk-crash: install-test
	.venv/bin/python bench/bulk_crash.py

bench-writes: install-test
	.venv/bin/python bench/write_paths.py

bench-dashboard: install-test
	.venv/bin/python bench/dashboard.py

bench-ai: install-test
	.venv/bin/python bench/ai_eval.py

# Two app processes sharing their state through Redis (Debian's redis-server, started on a loopback port) and one
# DynamoDB Local: a browser on either sees what the other stored, live; prints the times it measured.
scale-demo: install-test
	.venv/bin/python scripts/scale_demo.py
