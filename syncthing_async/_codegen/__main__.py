"""``python -m syncthing_async._codegen [--check]``: write (or verify) the generated files."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from .render import PACKAGE_DIR, render


def stale_files(root: Path = PACKAGE_DIR) -> dict[str, tuple[str, str]]:
    """Generated files whose content on disk differs: path -> (on disk, expected)."""
    out: dict[str, tuple[str, str]] = {}
    for rel, expected in render().items():
        path = (root / rel).resolve()
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != expected:
            out[rel] = (current, expected)
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m syncthing_async._codegen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 and show a diff if stale")
    args = parser.parse_args(argv)
    stale = stale_files()
    if args.check:
        for rel, (current, expected) in stale.items():
            sys.stdout.writelines(
                difflib.unified_diff(
                    current.splitlines(keepends=True),
                    expected.splitlines(keepends=True),
                    f"{rel} (on disk)",
                    f"{rel} (from spec)",
                )
            )
        if stale:
            sys.stdout.write(
                f"{len(stale)} generated file(s) are stale: run python -m syncthing_async._codegen\n"
            )
            return 1
        sys.stdout.write("generated files are up to date\n")
        return 0
    for rel, (_current, expected) in stale.items():
        path = (PACKAGE_DIR / rel).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(expected, encoding="utf-8")
        sys.stdout.write(f"wrote {path}\n")
    if not stale:
        sys.stdout.write("generated files are up to date\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
