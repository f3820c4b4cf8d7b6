"""``syncthing-async events``: every line of a real run across a Syncthing restart follows the
schema documented in docs/CLI.md, and the reconnect is said in plain words."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from syncthing_async.cli import event_line
from syncthing_async.models.events import EventsSkipped, ResetReason, SkipReason, StreamReset
from syncthing_async.testing.daemon import SyncthingDaemon
from tests.cli_support import Follower, conn, events_schema, validate


def test_markers_follow_the_schema() -> None:
    schema = events_schema()
    skipped = json.loads(event_line(EventsSkipped(count=3, first_id=5, last_id=7, reason=SkipReason.GAP)))
    assert not validate(skipped, schema), validate(skipped, schema)
    assert (skipped["type"], skipped["id"], skipped["data"]["count"]) == ("EventsSkipped", 7, 3)
    now = datetime.now(UTC)
    reset = json.loads(
        event_line(
            StreamReset(
                reason=ResetReason.RESTART, last_id=9, old_start_time=now, new_start_time=now, device_id="X"
            )
        )
    )
    assert not validate(reset, schema), validate(reset, schema)
    assert (reset["type"], reset["id"], reset["data"]["lastID"]) == ("StreamReset", 0, 9)
    assert validate({**reset, "id": 3}, schema) and validate({**reset, "extra": 1}, schema)


def test_events_across_a_planned_restart_follow_the_documented_schema(
    make_daemon: Callable[..., SyncthingDaemon],
) -> None:
    d = make_daemon(auto_restart=True)
    old_start = d.get_json("/rest/system/status")["startTime"]
    follower = Follower(*conn(d), "events", "--since", "0")
    try:
        follower.wait_for(lambda e: e["type"] == "StartupComplete", 30, "StartupComplete")
        assert d.request("POST", "/rest/system/restart").status == 200
        reset = follower.wait_for(lambda e: e["type"] == "StreamReset", 90, "a StreamReset line")
        follower.wait_for(lambda e: e["type"] == "StartupComplete", 60, "the new process's StartupComplete")
    finally:
        rc = follower.interrupt()
    assert rc == 130, follower.errors

    schema = events_schema()
    lines = [json.loads(line) for line in follower.lines]
    for line, event in zip(follower.lines, lines, strict=True):
        assert not validate(event, schema), (line, validate(event, schema))
    at = lines.index(reset)
    before, after = lines[:at], lines[at + 1 :]
    assert [e["id"] for e in before] == list(range(1, len(before) + 1))
    assert before[0]["type"] == "Starting" and after[0]["type"] == "Starting"
    assert [e["id"] for e in after] == list(range(1, len(after) + 1))  # the new process, from its first
    data = reset["data"]
    assert data["reason"] == "restart" and data["lastID"] == before[-1]["id"]
    assert data["deviceID"] == d.device_id
    assert datetime.fromisoformat(data["oldStartTime"]) == datetime.fromisoformat(old_start)
    assert datetime.fromisoformat(data["newStartTime"]) > datetime.fromisoformat(old_start)

    said = "\n".join(follower.errors)
    assert "events: connection to Syncthing lost; reconnect attempt 1 in " in said
    assert follower.errors[-1] == "events: reconnected"
    assert all(e.startswith("events: ") for e in follower.errors), said
    assert "TransferEncodingError" not in said and "Traceback" not in said and "400" not in said
