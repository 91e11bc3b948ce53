#!/usr/bin/env bash
# Drives the turnstile binary with the official Codex Python SDK (PyPI: openai-codex), installed
# into a project-local virtualenv. The SDK pins a bundled Codex runtime as a dependency; we point
# it at our binary instead, so it is installed with --no-deps plus its real dependencies.
# Then an independent websocket client (PyPI: websockets) drives `--listen ws://`.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/python-sdk
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import openai_codex' 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps "openai-codex==0.163.0"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "pydantic>=2.12" "packaging>=26.2"
fi
if ! "$venv/bin/python" -c 'import websockets' 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "websockets==17.4"
fi
cargo build --quiet -p io-adapters --bin turnstile
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
TURNSTILE_HOME="$home" "$venv/bin/python" tests/python/sdk_smoke.py "$PWD/target/debug/turnstile"
TURNSTILE_HOME="$home" "$venv/bin/python" tests/python/ws_smoke.py "$PWD/target/debug/turnstile"
