"""Run the benchmarks: ``python -m benchmarks [--size full|tiny] [--no-peers] [--only ...]``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .report import render, update_readme
from .runner import BENCH, SIZES, WORK, draw_charts, execute


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--no-peers", action="store_true", help="skip aiosyncthing / python-syncthing")
    parser.add_argument("--only", default="", help="comma-separated subset: import,calls,events,idle")
    parser.add_argument("--idle-seconds", type=float, default=None, help="idle measuring window")
    parser.add_argument(
        "--update-readme", action="store_true", help="write the table into benchmarks/README.md"
    )
    parser.add_argument("--json", type=Path, default=None, help="where to write the raw results")
    parser.add_argument("--no-charts", action="store_true", help="skip the PNG charts (matplotlib)")
    args = parser.parse_args(argv)
    if args.idle_seconds is not None:
        SIZES[args.size].idle_seconds = args.idle_seconds
    only = {s.strip() for s in args.only.split(",") if s.strip()} or None
    run = execute(args.size, peers=not args.no_peers, only=only)
    table = render(run.results, run.meta)
    print(table)
    out = args.json or WORK / f"results-{args.size}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": run.meta, "results": run.results}, indent=2))
    print(f"\nraw results: {out}", file=sys.stderr)
    if not args.no_charts:
        # The charts belong to the README: drawn into benchmarks/img only with --update-readme.
        target = BENCH / "img" if args.update_readme else WORK / "img"
        draw_charts(out, target)
    if args.update_readme:
        update_readme(Path(__file__).with_name("README.md"), table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
