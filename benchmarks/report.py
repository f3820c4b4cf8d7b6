"""Turn a run's results into the Markdown results table (with targets) for ``benchmarks/README.md``."""

from __future__ import annotations

import math
from typing import Any

BEGIN = "<!-- BEGIN RESULTS -->"
END = "<!-- END RESULTS -->"

CALL_LABELS = {
    "system_status": "`GET /rest/system/status` (small)",
    "db_status": "`GET /rest/db/status` (small)",
    "db_browse": "`GET /rest/db/browse` (large)",
    "config": "`GET /rest/config` (large)",
}
CALL_TARGETS = {"system_status": 1.10, "db_status": 1.10, "db_browse": 1.15, "config": 1.15}
EVENT_LABELS = {
    "ours": "ours: `events.stream()`, every `.data` read",
    "ours_few": "ours: `events.stream(types={StateChanged, FolderSummary})`",
    "callbacks": "ours: `events.listener()` callback, every `.data` read",
    "raw": "raw limit: aiohttp + one-pass msgspec into the same `<Type>Data` Structs",
    "aiosyncthing": "aiosyncthing 0.7.1 `events.listen()` (dicts)",
}


def us(x: float | None) -> str:
    if x is None or math.isnan(x):
        return "n/a"
    if x >= 1e-3:
        return f"{x * 1e3:.2f} ms"
    return f"{x * 1e6:.1f} µs"


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def fx(r: float | None) -> str:
    return "n/a" if r is None else f"{r:.2f}x"


def verdict(r: float | None, target: float) -> str:
    if r is None:
        return "n/a"
    return "met" if r <= target else "**missed**"


def targets(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(target, measured, limit, verdict) rows."""
    rows: list[tuple[str, str, str, str]] = []
    calls = results.get("calls", {})
    for bench, target in CALL_TARGETS.items():
        per = calls.get(bench)
        if not per:
            continue
        r = ratio(per.get("ours", {}).get("cpu"), per.get("raw", {}).get("cpu"))
        rows.append((f"{CALL_LABELS[bench]}: CPU vs raw", fx(r), f"<= {target:.2f}x", verdict(r, target)))
    ev = results.get("events", {})
    if ev:
        raw = ev.get("raw", {}).get("cpu_per_event")
        for impl in ("ours", "callbacks"):
            if impl in ev:
                r = ratio(ev[impl]["cpu_per_event"], raw)
                rows.append((f"events, {impl}: CPU/event vs raw", fx(r), "<= 1.30x", verdict(r, 1.3)))
        if "aiosyncthing" in ev and "ours" in ev:
            r = ratio(ev["ours"]["cpu_per_event"], ev["aiosyncthing"]["cpu_per_event"])
            rows.append(("events, ours: CPU/event vs aiosyncthing", fx(r), "<= 0.60x", verdict(r, 0.6)))
        if "ours_few" in ev and "ours" in ev:
            r = ratio(ev["ours_few"]["cpu_per_event"], ev["ours"]["cpu_per_event"])
            rows.append(("events, few types: CPU/event vs all types", fx(r), "(lower is better)", "info"))
    idle = results.get("idle", {})
    if "ours" in idle:
        if "aiosyncthing" in idle:
            r = ratio(idle["ours"]["cpu_per_min"], idle["aiosyncthing"]["cpu_per_min"])
            rows.append(("idle streams: CPU/min vs aiosyncthing", fx(r), "<= 0.20x", verdict(r, 0.2)))
        rss = idle["ours"]["rss_mb"]
        rows.append(
            (
                "idle streams: resident memory",
                f"{rss:.1f} MB",
                "< 100 MB",
                "met" if rss < 100 else "**missed**",
            )
        )
    imp = results.get("import", {})
    if "ours" in imp and "aiohttp" in imp:
        extra = (imp["ours"]["wall"] - imp["aiohttp"]["wall"]) * 1e3
        rows.append(
            (
                "import: `syncthing_async` over `aiohttp`",
                f"+{extra:.1f} ms",
                "<= +30 ms",
                "met" if extra <= 30 else "**missed**",
            )
        )
    return rows


def render(results: dict[str, Any], meta: dict[str, Any]) -> str:
    out: list[str] = []
    out.append(
        f"Run: {meta.get('date', '?')}, size `{meta.get('size', '?')}`, "
        f"took {meta.get('duration_s', '?')} s.  "
    )
    out.append(
        f"Machine: {meta.get('machine', '?')}; Python {meta.get('python', '?')}; "
        f"Syncthing {meta.get('syncthing', '?')}.  "
    )
    vers = ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items())
    out.append(f"Versions: {vers}.  ")
    ds = meta.get("dataset")
    if ds:
        out.append(
            f"Data: folder of {ds['files']} files (`db/browse` answer {ds['browse_bytes'] / 1e6:.2f} MB), "
            f"config with {ds['folders']} folders ({ds['config_bytes'] / 1e6:.2f} MB)."
        )
    out.append("")
    rows = targets(results)
    if rows:
        out += ["### Targets", "", "| target | measured | goal | verdict |", "|---|---|---|---|"]
        out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
        out.append("")
    calls = results.get("calls")
    if calls:
        impls = ["ours", "raw", "aiosyncthing", "python-syncthing"]
        out += [
            "### Calls against real Syncthing (client CPU per call; wall per call in brackets)",
            "",
            "| call | ours | raw limit | aiosyncthing | python-syncthing | ours/raw | ours/aiosyncthing |",
            "|---|---|---|---|---|---|---|",
        ]
        for bench, per in calls.items():
            cells = []
            for impl in impls:
                r = per.get(impl)
                cells.append(f"{us(r['cpu'])} ({us(r['wall'])})" if r else "n/a")
            ours = per.get("ours", {}).get("cpu")
            out.append(
                f"| {CALL_LABELS.get(bench, bench)} | {' | '.join(cells)} | "
                f"{fx(ratio(ours, per.get('raw', {}).get('cpu')))} | "
                f"{fx(ratio(ours, per.get('aiosyncthing', {}).get('cpu')))} |"
            )
        out.append("")
    ev = results.get("events")
    if ev:
        raw = ev.get("raw", {}).get("cpu_per_event")
        aio = ev.get("aiosyncthing", {}).get("cpu_per_event")
        out += [
            "### Event ingestion (1000-event batches answered at once)",
            "",
            "| consumer | CPU per event | events/s | payloads read | vs raw | vs aiosyncthing |",
            "|---|---|---|---|---|---|",
        ]
        for impl, r in ev.items():
            out.append(
                f"| {EVENT_LABELS.get(impl, impl)} | {us(r['cpu_per_event'])} | {r['events_per_s']:,.0f} | "
                f"{r['payloads_read']:,} | {fx(ratio(r['cpu_per_event'], raw))} | "
                f"{fx(ratio(r['cpu_per_event'], aio))} |"
            )
        out.append("")
    idle = results.get("idle")
    if idle:
        any_r = next(iter(idle.values()))
        out += [
            f"### Idle: {any_r['streams']} concurrent idle event streams in one process "
            f"(server holds each poll for its `timeout`; window {any_r['seconds']:.0f} s)",
            "",
            "| client | CPU per minute | RSS (MB) | RSS before streams (MB) | streams failed |",
            "|---|---|---|---|---|",
        ]
        for impl, r in idle.items():
            out.append(
                f"| {impl} | {r['cpu_per_min']:.3f} s | {r['rss_mb']:.1f} | {r['rss_baseline_mb']:.1f} | "
                f"{r['streams_failed']} |"
            )
        out.append("")
    imp = results.get("import")
    if imp:
        out += [
            "### Import time (best of N, minus an empty interpreter)",
            "",
            "| module | wall |",
            "|---|---|",
        ]
        for k, r in imp.items():
            extra = f" (`-X importtime`: {r['importtime_us'] / 1e3:.1f} ms)" if "importtime_us" in r else ""
            out.append(f"| {k} | {r['wall'] * 1e3:.1f} ms{extra} |")
        out.append("")
    return "\n".join(out)


def update_readme(path: Any, table: str) -> None:
    text = path.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    path.write_text(text[:start] + "\n" + table + "\n" + text[end:])
