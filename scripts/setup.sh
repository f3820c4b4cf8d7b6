#!/usr/bin/env bash
# Set up everything the demo and the tests need on a fresh Debian machine:
# the two real Syncthing versions (1.19.2 and 1.29.5) and a venv in .venv with the test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-syncthing.sh
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
