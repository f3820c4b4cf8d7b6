#!/usr/bin/env bash
# The project's test command: installs what it needs, then lint, types and pytest:
#   1. the whole suite (real daemons included) on the main venv's Python (3.11),
#   2. the fast suite (`-m "not daemon"`) on Python 3.12 and 3.13, each in its own venv,
#   3. the fast suite on 3.11 with the lowest aiohttp, msgspec and anyio that pyproject allows.
# The Pythons come from pyenv (part of the machine image) or PATH; a missing one is an error.
# SYNCTHING_ASYNC_MATRIX=0 runs step 1 only (a quick local loop). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== ruff"
.venv/bin/ruff check .
echo "== mypy --strict"
.venv/bin/mypy
echo "== pytest (Python $(.venv/bin/python -c 'import sys; print(sys.version.split()[0])'), everything)"
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"

if [ "${SYNCTHING_ASYNC_MATRIX:-1}" = "0" ]; then
    exit 0
fi

find_python() {  # find_python 3.12 -> a python3.12 from pyenv's versions or PATH
    local want=$1 root candidate
    root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
    for candidate in "$root"/versions/"$want".*/bin/python"$want"; do
        [ -x "$candidate" ] && { echo "$candidate"; return 0; }
    done
    command -v "python$want" && return 0
    echo "python$want not found (pyenv root: $root)" >&2
    return 1
}

make_venv() {  # make_venv DIR PYTHON [pip requirement...]: a venv with the package and its test tools
    local dir=$1 py=$2
    shift 2
    if [ ! -x "$dir/bin/python" ]; then
        "$py" -m venv "$dir"
    fi
    "$dir/bin/python" -m pip install -q --disable-pip-version-check -e ".[test]" "$@"
}

for version in 3.12 3.13; do
    py=$(find_python "$version")
    make_venv ".venv-$version" "$py"
    echo "== pytest (Python $version, not daemon)"
    ".venv-$version/bin/python" -m pytest -q -p no:cacheprovider "$@" -m "not daemon"
done

# The lowest versions pyproject.toml allows (keep in step with its [project] dependencies).
LOWEST=("aiohttp==3.10.11" "msgspec==0.18.6" "anyio==4.2.0")
make_venv .venv-lowest .venv/bin/python "${LOWEST[@]}"
echo "== pytest (lowest: ${LOWEST[*]}, not daemon)"
.venv-lowest/bin/python -m pytest -q -p no:cacheprovider "$@" -m "not daemon"
