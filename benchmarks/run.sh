#!/usr/bin/env bash
# One command for the whole benchmark suite: bash benchmarks/run.sh [--size tiny|full] [--no-peers] ...
# Creates the peers' venv under benchmarks/.work/ (pip, PyPI) on first use, runs every benchmark
# in one run and writes the results table into benchmarks/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-}"
if [[ -z "$PYTHON" ]]; then
  if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python
  elif [[ -x /tmp/venv/bin/python ]]; then PYTHON=/tmp/venv/bin/python
  else PYTHON=python3; fi
fi
"$PYTHON" -c "import syncthing_async, aiohttp, msgspec, anyio" 2>/dev/null || {
  echo "run.sh: $PYTHON cannot import syncthing_async and its deps; set PYTHON=<venv>/bin/python" >&2
  exit 2
}
exec "$PYTHON" -m benchmarks --update-readme "$@"
