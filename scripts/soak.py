"""Long soak run: the figures of docs/RELIABILITY.md.

    python scripts/soak.py --duration 300 --restarts 6

Two real paired Syncthing daemons on 127.0.0.1, a steady stream of file changes, the fault proxy
between the client and the consumed daemon, restarts of that daemon, and a fault-free reader as
the reference (see tests/soak_engine.py). Prints the figures as a Markdown table; exits 1 if any
event was lost or duplicated (or anything else broke the guarantee). Bounded: the whole run is
cancelled after ``2 * duration + 300`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.soak_engine import SoakConfig, SoakReport, run_soak


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of changes under faults")
    parser.add_argument("--restarts", type=int, default=6, help="restarts of the consumed daemon")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--version", default="1.29.5", help="Syncthing version (see tests/harness.py)")
    parser.add_argument("--fault-rate", type=float, default=0.5, help="fault probability per new connection")
    parser.add_argument("--outage", type=float, default=0.0, help="seconds of one long outage (0: none)")
    parser.add_argument("--outage-start", type=float, default=0.0, help="when the outage begins (s)")
    parser.add_argument("--memory-every", type=float, default=30.0, help="seconds between memory samples")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


def _figures(report: SoakReport) -> dict[str, object]:
    return {
        "duration_s": report.config.duration,
        "elapsed_s": round(report.elapsed, 1),
        "version": report.config.version,
        "seed": report.config.seed,
        "restarts": report.restarts,
        "lives": len(report.lives),
        "file_changes": report.file_changes,
        "proxied_connections": report.proxied_connections,
        "faults": {str(k): v for k, v in sorted(report.faults.items())},
        "outage_s": report.config.outage,
        "events_emitted": report.emitted,
        "delivered_once": report.delivered_once,
        "reported_skipped": report.reported_skipped,
        "markers": dict(report.markers),
        "lost": report.lost,
        "duplicated": report.duplicated,
        "memory": report.memory,
        "memory_samples": report.memory_samples,
        "leaked_tasks": report.leaked_tasks,
        "socket_fds": [report.socket_fds_before, report.socket_fds_after],
        "per_life": [
            {
                "life": life.index,
                "emitted": life.emitted,
                "delivered_once": life.delivered_once,
                "reported_skipped": life.reported_skipped,
                "lost": len(life.lost),
                "duplicated": len(life.duplicated),
            }
            for life in report.lives
        ],
        "problems": report.problems,
    }


async def _main(args: argparse.Namespace) -> int:
    config = SoakConfig(
        duration=args.duration,
        restarts=args.restarts,
        seed=args.seed,
        version=args.version,
        fault_rate=args.fault_rate,
        memory_every=args.memory_every,
        outage=args.outage,
        outage_start=args.outage_start,
    )
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        config.base_dir = Path(tmp)
        report = await asyncio.wait_for(run_soak(config), 2 * args.duration + 300)
    print(report.table())
    if report.memory_samples:
        print("\nlibrary memory samples (s, KiB):", [(t, b // 1024) for t, b in report.memory_samples])
    for line in report.problems:
        print("PROBLEM:", line)
    if args.json:
        args.json.write_text(json.dumps(_figures(report), indent=2, default=str) + "\n")
    return 1 if report.problems else 0


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR)
    return asyncio.run(_main(args))


if __name__ == "__main__":
    raise SystemExit(main())
