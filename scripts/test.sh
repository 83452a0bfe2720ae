#!/usr/bin/env bash
# The whole suite: import contracts (.importlinter), then unit (moto), Lambda handlers, integration
# (DynamoDB Local), infra (CDK synth), browser; the fuzz sample sits with the unit tests (make fuzz runs it long).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/node_modules/.bin:$PATH" REFLEX_USE_SYSTEM_BUN=1 PYTHONPATH="$PWD"
.venv/bin/lint-imports --no-cache
.venv/bin/python -m pytest -q -p no:cacheprovider tests/unit tests/lambdas tests/fuzz tests/integration tests/infra tests/e2e "$@"
