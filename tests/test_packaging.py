"""A clean, non-editable install with no dev packages imports and pulls in only the runtime deps."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

_CLOSURE = r"""
import importlib.metadata as md, json, re, sys
def name(req):
    return re.split(r"[ ;<>=!~\[(]", req, maxsplit=1)[0].lower().replace("_", "-")
todo, seen = ["aiohttp", "msgspec", "anyio"], set()
while todo:
    n = todo.pop()
    if n in seen:
        continue
    seen.add(n)
    try:
        reqs = md.requires(n) or []
    except md.PackageNotFoundError:
        continue
    todo += [name(r) for r in reqs if "extra ==" not in r]
installed = {d.metadata["Name"].lower().replace("_", "-") for d in md.distributions()}
import syncthing_async, syncthing_async.models, syncthing_async.events
files = md.files("syncthing_async") or []
print(json.dumps({"closure": sorted(seen), "installed": sorted(installed),
                  "version": syncthing_async.__version__,
                  "typed": any(str(f).endswith("py.typed") for f in files)}))
"""


@pytest.mark.slow
def test_clean_install_imports_with_only_runtime_dependencies(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-cache-dir", str(ROOT)],
        check=True,
        timeout=600,
    )
    out = subprocess.run([py, "-c", _CLOSURE], check=True, capture_output=True, text=True, timeout=60)
    info = json.loads(out.stdout)
    extra = set(info["installed"]) - set(info["closure"]) - {"pip", "setuptools", "syncthing-async"}
    assert extra == set(), f"unexpected packages installed: {extra}"
    assert {"aiohttp", "msgspec", "anyio"} <= set(info["installed"])
    assert info["typed"], "py.typed missing from the wheel"
    # The console script exists and runs without dev packages.
    cli = subprocess.run(
        [env_dir / "bin" / "syncthing-async", "--help"], capture_output=True, text=True, timeout=60
    )
    assert cli.returncode == 0 and "status" in cli.stdout
    assert sys.version_info >= (3, 11)


def test_lower_bounds_run_uses_the_pyproject_bounds() -> None:
    """scripts/test.sh tests the lowest aiohttp, msgspec and anyio that pyproject.toml allows."""
    import re
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    deps = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    bounds = {}
    for dep in deps:
        name, low = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", dep).groups()  # type: ignore[union-attr]
        bounds[name] = tuple(int(x) for x in low.split("."))
    script = (root / "scripts" / "test.sh").read_text()
    lowest = re.search(r"^LOWEST=\((.*)\)$", script, re.M)
    assert lowest is not None
    pinned = dict(re.findall(r'"([A-Za-z0-9_.-]+)==([0-9.]+)"', lowest.group(1)))
    assert set(pinned) == set(bounds) == {"aiohttp", "msgspec", "anyio"}
    for name, version in pinned.items():
        parts = tuple(int(x) for x in version.split("."))
        assert parts[: len(bounds[name])] == bounds[name], (name, version, bounds[name])
