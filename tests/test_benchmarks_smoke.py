"""The benchmark suite (``benchmarks/``) at a tiny size, so it cannot rot.

Runs our client, the raw limit and the local event source for real (a real Syncthing 1.29.5 for
the calls); the peers (aiosyncthing, python-syncthing) need their own venvs and are left to
``bash benchmarks/run.sh``. Checks structure and sanity of the numbers, never their speed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from benchmarks import report, runner

pytestmark = [pytest.mark.daemon, pytest.mark.slow]


def _positive(x: Any) -> bool:
    return isinstance(x, float) and math.isfinite(x) and x > 0


@pytest.fixture(scope="module")
def tiny_run() -> runner.Run:
    run = runner.Run(runner.SIZES["tiny"], peers=False)
    runner.versions(run)
    runner.bench_import(run)
    runner.bench_calls(run)
    runner.bench_events(run)
    runner.bench_idle(run)
    runner.bench_scale(run)
    return run


def test_calls_against_real_syncthing(tiny_run: runner.Run) -> None:
    calls = tiny_run.results["calls"]
    assert tiny_run.meta["syncthing"] == "v1.29.5"
    ds = tiny_run.meta["dataset"]
    assert ds["files"] == runner.SIZES["tiny"].files
    assert ds["folders"] == runner.SIZES["tiny"].folders + 1
    assert set(calls) == {"system_status", "db_status", "db_browse", "config"}
    for bench, per in calls.items():
        assert set(per) == {"ours", "raw", "lean"}, bench
        for impl, r in per.items():
            assert _positive(r["cpu"]) and _positive(r["wall"]), (bench, impl, r)
            assert r["samples"] >= 1
        # Our client returns exactly the Structs the raw limit decodes into.
        assert per["ours"]["result_type"] == per["raw"]["result_type"], bench
        # The lean limit decodes into the benchmark's own minimal Structs.
        assert "Lean" in per["lean"]["result_type"], bench
    assert calls["system_status"]["ours"]["result_type"] == "SystemStatus"
    assert calls["db_status"]["ours"]["result_type"] == "FolderSummary"
    assert calls["db_browse"]["ours"]["result_type"] == "list[BrowseEntry]"
    assert calls["config"]["ours"]["result_type"] == "Configuration"


def test_event_ingestion(tiny_run: runner.Run) -> None:
    ev = tiny_run.results["events"]
    size = runner.SIZES["tiny"]
    assert set(ev) == {"ours", "ours_few", "callbacks", "raw", "lean"}
    for impl, r in ev.items():
        assert _positive(r["cpu_per_event"]) and _positive(r["events_per_s"]), (impl, r)
        assert r["events"] > 0
    for impl in ("ours", "raw", "lean"):
        assert ev[impl]["events"] == size.events_n
        assert ev[impl]["payloads_read"] == size.events_n
        assert ev[impl]["skipped"] == 0
    # Every type of the mix arrives typed, with its typed payload.
    for impl in ("ours", "callbacks"):
        types = ev[impl]["types"]
        assert set(types) == set(runner_mix()), impl
        assert types["StateChanged"] == "StateChangedEvent/StateChangedData"
        assert types["FolderSummary"] == "FolderSummaryEvent/FolderSummaryData"
    assert set(ev["raw"]["types"]) == set(runner_mix())
    assert ev["raw"]["types"]["ItemStarted"].endswith("/ItemStartedData")
    # The type-filtered consumer saw all ids but decoded only its two types.
    few = ev["ours_few"]
    assert few["events"] == size.events_n
    assert set(few["types"]) == {"StateChanged", "FolderSummary"}
    assert 0 < few["payloads_read"] < size.events_n


def runner_mix() -> set[str]:
    from benchmarks.event_source import MIX

    return set(MIX)


def test_idle_streams(tiny_run: runner.Run) -> None:
    idle = tiny_run.results["idle"]
    assert set(idle) == {"ours", "raw"}
    for impl, r in idle.items():
        assert r["streams"] == runner.SIZES["tiny"].idle_streams
        assert r["streams_failed"] == 0, (impl, r["errors"])
        assert r["cpu_per_min"] >= 0 and math.isfinite(r["cpu_per_min"])
        assert _positive(r["rss_mb"])


def test_scale_and_fleet(tiny_run: runner.Run) -> None:
    scale = tiny_run.results["scale"]
    size = runner.SIZES["tiny"]
    seen = {(r["impl"], r["streams"]) for r in scale["idle"]}
    assert {("ours", n) for n in size.scale_counts} <= seen
    for r in scale["idle"]:
        assert r["streams_failed"] == 0, r["errors"]
        assert _positive(r["rss_mb"])
    for impl in ("ours", "lean"):
        f = scale["fleet"][impl]
        assert f["streams_failed"] == 0, f["errors"]
        assert f["lost"] == 0 and f["duplicated"] == 0, f
        assert f["events"] > 0


def test_import_time(tiny_run: runner.Run) -> None:
    imp = tiny_run.results["import"]
    for key in ("aiohttp", "aiohttp+msgspec", "ours"):
        assert math.isfinite(imp[key]["wall"]), key
    assert _positive(imp["ours"]["importtime_us"])


def test_report_renders_every_section(tiny_run: runner.Run, tmp_path: Path) -> None:
    table = report.render(tiny_run.results, tiny_run.meta)
    for heading in (
        "### Targets",
        "### Calls",
        "### Event ingestion",
        "### Idle",
        "### Scale",
        "### Busy fleet",
    ):
        assert heading in table
    rows = report.targets(tiny_run.results)
    verdicts = {r[3] for r in rows}
    assert verdicts <= {"met", "**missed**", "info", "n/a"}
    assert any("db/browse" in r[0] for r in rows)
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{report.BEGIN}\nSTALE-TABLE\n{report.END}\noutro\n")
    report.update_readme(readme, table)
    text = readme.read_text()
    assert "STALE-TABLE" not in text and "### Targets" in text and text.endswith("outro\n")


def test_event_source_batches_continue_from_since() -> None:
    from benchmarks.event_source import batch_tails

    tails = batch_tails(1000)
    assert len(tails) == 1000
    assert all(t.startswith(b',"time":') for t in tails)
