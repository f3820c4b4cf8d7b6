#!/usr/bin/env bash
# The live demo: starts throwaway Syncthing instances (or uses yours: SYNCTHING_URL/SYNCTHING_API_KEY)
# and shows the client at work.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m syncthing_async demo "$@"
