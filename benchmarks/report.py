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
#: Client CPU per call against the lean limit (raw aiohttp + msgspec into minimal Structs).
CALL_TARGETS = {"system_status": 1.05, "db_status": 1.05, "db_browse": 1.10, "config": 1.15}
#: Event CPU per event against the lean limit.
EVENT_TARGETS = {"ours": 1.10, "callbacks": 1.30}
EVENT_LABELS = {
    "ours": "ours: `events.stream()`, every `.data` read",
    "ours_few": "ours: `events.stream(types={StateChanged, FolderSummary})`",
    "callbacks": "ours: `events.listener()` callback, every `.data` read",
    "raw": "raw into our Structs: aiohttp + one-pass msgspec into the library's `<Type>Data` Structs",
    "lean": "**lean limit**: aiohttp + one-pass msgspec into minimal Structs (fields only)",
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
        r = ratio(per.get("ours", {}).get("cpu"), per.get("lean", {}).get("cpu"))
        rows.append(
            (f"{CALL_LABELS[bench]}: CPU vs lean limit", fx(r), f"<= {target:.2f}x", verdict(r, target))
        )
    ev = results.get("events", {})
    if ev:
        lean = ev.get("lean", {}).get("cpu_per_event")
        for impl, target in EVENT_TARGETS.items():
            if impl in ev:
                r = ratio(ev[impl]["cpu_per_event"], lean)
                rows.append(
                    (
                        f"events, {impl}: CPU/event vs lean limit (every payload read)",
                        fx(r),
                        f"<= {target:.2f}x",
                        verdict(r, target),
                    )
                )
        if "aiosyncthing" in ev and "ours" in ev:
            r = ratio(ev["ours"]["cpu_per_event"], ev["aiosyncthing"]["cpu_per_event"])
            rows.append(("events, ours: CPU/event vs aiosyncthing", fx(r), "<= 0.60x", verdict(r, 0.6)))
        if "ours_few" in ev and "ours" in ev:
            r = ratio(ev["ours_few"]["cpu_per_event"], ev["ours"]["cpu_per_event"])
            rows.append(("events, few types: CPU/event vs all types", fx(r), "(lower is better)", "info"))
    idle = results.get("idle", {})
    if "ours" in idle:
        n = idle["ours"]["streams"]
        if "aiosyncthing" in idle:
            r = ratio(idle["ours"]["cpu_per_min"], idle["aiosyncthing"]["cpu_per_min"])
            rows.append((f"{n} idle streams: CPU/min vs aiosyncthing", fx(r), "<= 0.20x", verdict(r, 0.2)))
        rss = idle["ours"]["rss_mb"]
        rows.append(
            (
                f"{n} idle streams: resident memory",
                f"{rss:.1f} MB",
                "< 100 MB",
                "met" if rss < 100 else "**missed**",
            )
        )
    scale = results.get("scale", {})
    idle_rows = scale.get("idle", [])
    if idle_rows:
        top = max(r["streams"] for r in idle_rows)
        at_top = {r["impl"]: r for r in idle_rows if r["streams"] == top}
        ours = at_top.get("ours")
        if ours:
            if "aiosyncthing" in at_top:
                r = ratio(ours["cpu_per_min"], at_top["aiosyncthing"]["cpu_per_min"])
                rows.append(
                    (f"{top:,} idle streams: CPU/min vs aiosyncthing", fx(r), "<= 0.10x", verdict(r, 0.10))
                )
            rows.append(
                (
                    f"{top:,} idle streams: resident memory",
                    f"{ours['rss_mb']:.1f} MB",
                    "<= 300 MB",
                    "met" if ours["rss_mb"] <= 300 else "**missed**",
                )
            )
            failed = ours["streams_failed"]
            rows.append(
                (
                    f"{top:,} idle streams: failed streams",
                    str(failed),
                    "0",
                    "met" if failed == 0 else "**missed**",
                )
            )
    fleet = scale.get("fleet", {}).get("ours")
    if fleet:
        ok = not (fleet["lost"] or fleet["duplicated"] or fleet["behind"] or fleet["streams_failed"])
        rows.append(
            (
                f"busy fleet ({fleet['streams']:,} streams x {fleet['rate']} events/s): all delivered",
                f"{fleet['events']:,} delivered, {fleet['lost']} lost, {fleet['duplicated']} twice, "
                f"{fleet['behind']} behind",
                "none lost",
                "met" if ok else "**missed**",
            )
        )
        rows.append(("busy fleet: client CPU per event", us(fleet["cpu_per_event"]), "(reported)", "info"))
    mirror = results.get("mirror", {})
    if "ours" in mirror:
        rows.append(
            ("StateMirror: CPU per event ingested", us(mirror["ours"]["cpu_per_event"]), "(reported)", "info")
        )
    imp = results.get("import", {})
    if "importtime_us" in imp.get("ours", {}) and "importtime_us" in imp.get("aiohttp", {}):
        extra = (imp["ours"]["importtime_us"] - imp["aiohttp"]["importtime_us"]) / 1e3
        rows.append(
            (
                "import: `syncthing_async` over `aiohttp` (`-X importtime`, cumulative)",
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
        impls = ["ours", "lean", "raw", "aiosyncthing", "python-syncthing"]
        out += [
            "### Calls against real Syncthing (client CPU per call; wall per call in brackets)",
            "",
            "| call | ours | **lean limit** | raw into our Structs | aiosyncthing | python-syncthing "
            "| ours/lean | raw/lean | ours/aiosyncthing |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for bench, per in calls.items():
            cells = []
            for impl in impls:
                r = per.get(impl)
                cells.append(f"{us(r['cpu'])} ({us(r['wall'])})" if r else "n/a")
            ours = per.get("ours", {}).get("cpu")
            lean_cpu = per.get("lean", {}).get("cpu")
            out.append(
                f"| {CALL_LABELS.get(bench, bench)} | {' | '.join(cells)} | "
                f"{fx(ratio(ours, lean_cpu))} | "
                f"{fx(ratio(per.get('raw', {}).get('cpu'), lean_cpu))} | "
                f"{fx(ratio(ours, per.get('aiosyncthing', {}).get('cpu')))} |"
            )
        out.append("")
    ev = results.get("events")
    if ev:
        raw = ev.get("lean", {}).get("cpu_per_event")
        aio = ev.get("aiosyncthing", {}).get("cpu_per_event")
        out += [
            "### Event ingestion (1000-event batches answered at once)",
            "",
            "| consumer | CPU per event | events/s | payloads read | vs lean limit | vs aiosyncthing |",
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
    scale = results.get("scale", {})
    if scale.get("idle"):
        win = scale["idle"][0]["seconds"]
        out += [
            f"### Scale: idle event streams in one process, one instance (URL path prefix) each "
            f"(window {win:.0f} s)",
            "",
            "| client | streams | CPU per minute | CPU/min per 1000 streams | RSS (MB) | RSS per stream (KB) "
            "| start-up CPU | failed |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in sorted(scale["idle"], key=lambda r: (r["impl"], r["streams"])):
            per_k = r["cpu_per_min"] / r["streams"] * 1000
            per_stream = (r["rss_mb"] - r["rss_baseline_mb"]) * 1024 / r["streams"]
            out.append(
                f"| {r['impl']} | {r['streams']:,} | {r['cpu_per_min']:.3f} s | {per_k:.3f} s | "
                f"{r['rss_mb']:.1f} | {per_stream:.1f} | {r.get('startup_cpu_s', float('nan')):.2f} s | "
                f"{r['streams_failed']} |"
            )
        out.append("")
    fleet = scale.get("fleet")
    if fleet:
        any_f = next(iter(fleet.values()))
        out += [
            f"### Busy fleet: {any_f['streams']:,} streams in one process, {any_f['rate']} events/s each "
            f"(one burst per second per instance; window {any_f['seconds']:.0f} s; every payload read)",
            "",
            "| client | events delivered | expected | lost | twice | behind | CPU per event | CPU share "
            "| RSS (MB) | failed |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for impl, r in fleet.items():
            label = (
                "ours: `events.stream(since=0)`" if impl == "ours" else "lean limit (aiohttp + lean Structs)"
            )
            out.append(
                f"| {label} | {r['events']:,} | {r['expected_events']:,.0f} | {r['lost']} | "
                f"{r['duplicated']} | {r['behind']} | {us(r['cpu_per_event'])} | "
                f"{r['cpu_share'] * 100:.0f} % | {r['rss_mb']:.1f} | {r['streams_failed']} |"
            )
        out.append("")
    mirror = results.get("mirror")
    if mirror:
        out += [
            "### StateMirror: events ingested (1000-event batches, new rows)",
            "",
            "| consumer | CPU per event | events/s |",
            "|---|---|---|",
        ]
        for impl, r in mirror.items():
            out.append(f"| {impl} | {us(r['cpu_per_event'])} | {r['events_per_s']:,.0f} |")
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
