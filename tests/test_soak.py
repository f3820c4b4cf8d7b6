"""Short soak (about 30 s of changes): real paired daemons, injected faults, restarts, nothing lost.

The long run with the published figures is ``python scripts/soak.py`` (docs/RELIABILITY.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from syncthing_async.models.events import EventsSkipped, StreamReset
from tests.faultproxy import FaultKind
from tests.soak_engine import SoakConfig, run_soak

pytestmark = [pytest.mark.daemon, pytest.mark.slow]


@pytest.mark.timeout(240)
async def test_short_soak(tmp_path: Path) -> None:
    config = SoakConfig(
        duration=30.0,
        restart_times=(22.0, 27.0),
        seed=20261126,
        change_interval=0.02,  # fast enough that a 13 s outage overflows Syncthing's 1000-event buffer
        outage=13.0,
        outage_start=3.0,
        base_dir=tmp_path,
    )
    report = await run_soak(config)
    print("\n" + report.table())
    print("problems:", report.problems)

    # the scenario really happened
    assert report.restarts == 2
    assert len(report.lives) == 3
    assert report.markers[StreamReset.__name__] == 2  # one reset per restart, no spurious ones
    assert report.markers[EventsSkipped.__name__] >= 1  # the outage overflowed the buffer
    assert report.lives[0].skipped, "the gap was not reported in life 0"
    assert report.file_changes > 50
    # each kind is proven deterministically in test_faultproxy.py; here the mix must be broad
    for kind in (FaultKind.RESET, FaultKind.STALL, FaultKind.HALF_CLOSE, FaultKind.DRIP, FaultKind.REFUSE):
        assert report.faults[kind] > 0, f"no {kind} fault was injected"
    assert sum(report.faults.values()) >= 10
    assert all(life.emitted > 5 for life in report.lives)
    assert report.delivered_once > 200
    assert report.reported_skipped > 0

    # the guarantee: each event delivered exactly once or reported inside a marker
    assert report.problems == []
    assert report.lost == 0
    assert report.duplicated == 0
    assert report.delivered_once + report.reported_skipped == report.emitted

    # memory flat, nothing leaked
    assert report.memory["lib_end"] - report.memory["lib_start"] < 512 * 1024, report.memory
    assert report.leaked_tasks == []
    assert report.socket_fds_after <= report.socket_fds_before
