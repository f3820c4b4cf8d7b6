"""Draw the ratio table and the scale curve as PNGs from a run's raw results.

Runs under the charts' own venv (``benchmarks/.work/charts``, matplotlib from PyPI), never the
client's: ``<charts venv>/bin/python benchmarks/charts.py results.json out_dir``. Standalone (no
import of ``syncthing_async`` or ``benchmarks``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

CALLS = {
    "system_status": ("system/status", 1.05),
    "db_status": ("db/status", 1.05),
    "db_browse": ("db/browse 20k files", 1.10),
    "config": ("config 501 folders", 1.15),
}


def ratios_chart(results: dict[str, Any], out: Path) -> None:
    """Bars: ours and raw-into-our-Structs against the lean limit (1.0), with the goal marked."""
    labels: list[str] = []
    ours: list[float] = []
    raw: list[float] = []
    goals: list[float] = []
    for bench, (label, goal) in CALLS.items():
        per = results.get("calls", {}).get(bench)
        if not per or "lean" not in per:
            continue
        lean = per["lean"]["cpu"]
        labels.append(label)
        ours.append(per["ours"]["cpu"] / lean)
        raw.append(per["raw"]["cpu"] / lean if "raw" in per else float("nan"))
        goals.append(goal)
    ev = results.get("events", {})
    if "lean" in ev:
        lean = ev["lean"]["cpu_per_event"]
        for impl, label, goal in (("ours", "events: stream", 1.10), ("callbacks", "events: listener", 1.30)):
            if impl in ev:
                labels.append(label)
                ours.append(ev[impl]["cpu_per_event"] / lean)
                raw.append(ev["raw"]["cpu_per_event"] / lean if "raw" in ev else float("nan"))
                goals.append(goal)
    if not labels:
        return
    fig, ax = plt.subplots(figsize=(9, 4.2), dpi=110)
    x = range(len(labels))
    w = 0.38
    bars = ax.bar([i - w / 2 for i in x], ours, w, label="syncthing_async", color="#3572b0")
    ax.bar([i + w / 2 for i in x], raw, w, label="raw aiohttp + msgspec into our Structs", color="#9dbbe0")
    for i, g in enumerate(goals):
        ax.hlines(g, i - 0.48, i + 0.48, colors="#c0392b", linestyles="--", linewidth=1.4)
    ax.axhline(1.0, color="black", linewidth=0.8)
    for b, v in zip(bars, ours, strict=True):
        ax.annotate(f"{v:.2f}x", (b.get_x() + b.get_width() / 2, v), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(list(x), labels, fontsize=8)
    ax.set_ylabel("client CPU / lean limit")
    ax.set_ylim(0, max([*ours, *goals, 1.0]) * 1.2)
    ax.set_title("Client CPU against the lean limit (1.0); red dashes: goal", fontsize=10)
    ax.plot([], [], color="#c0392b", linestyle="--", label="goal")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def scale_chart(results: dict[str, Any], out: Path) -> None:
    """CPU per minute and RSS against the number of idle streams (one process)."""
    rows = list(results.get("scale", {}).get("idle", []))
    idle = results.get("idle", {})
    for impl, r in idle.items():
        rows.append(r | {"impl": impl})
    if not rows:
        return
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), dpi=110)
    styles = {"ours": ("#3572b0", "o-"), "raw": ("#7f8c8d", "s--"), "aiosyncthing": ("#e67e22", "^:")}
    for impl, (color, style) in styles.items():
        pts = sorted((r["streams"], r["cpu_per_min"], r["rss_mb"]) for r in rows if r["impl"] == impl)
        if not pts:
            continue
        xs = [p[0] for p in pts]
        ax1.plot(xs, [p[1] for p in pts], style, color=color, label=impl)
        ax2.plot(xs, [p[2] for p in pts], style, color=color, label=impl)
    ax1.set_xlabel("idle event streams in one process")
    ax1.set_ylabel("client CPU seconds per minute")
    ax1.set_title("CPU per minute", fontsize=10)
    ax2.set_xlabel("idle event streams in one process")
    ax2.set_ylabel("resident memory (MB)")
    ax2.axhline(300, color="#c0392b", linestyle="--", linewidth=1, label="goal 300 MB")
    ax2.set_title("RSS", fontsize=10)
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def main() -> None:
    data = json.loads(Path(sys.argv[1]).read_text())
    out_dir = Path(sys.argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    ratios_chart(data["results"], out_dir / "ratios.png")
    scale_chart(data["results"], out_dir / "scale.png")


if __name__ == "__main__":
    main()
