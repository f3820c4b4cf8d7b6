"""EventStream against FakeSyncthing: cursor, filters, gaps, restarts, resume, cancellation."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

import pytest

from syncthing_async import SyncthingClient, SyncthingDecodeError
from syncthing_async.events import ConnectionState, EventCursor
from syncthing_async.models.events import (
    EventsSkipped,
    ResetReason,
    SkipReason,
    StartingEvent,
    StateChangedData,
    StateChangedEvent,
    StreamReset,
    UnknownEvent,
)
from syncthing_async.testing import FakeSyncthing
from tests.events_support import (
    FAST_SCALE,
    client,
    emit_state,
    fake,
    no_negative_since_and_always_timeout,
    summary,
    take,
    until,
)

__all__ = ["client", "fake"]


async def test_new_events_only_by_default(fake: FakeSyncthing, client: SyncthingClient) -> None:
    async with client.events.stream(poll_timeout=1) as stream:
        task = asyncio.create_task(take(stream, 2))
        await fake.wait_polling()
        emit_state(fake, "scanning")
        emit_state(fake, "idle")
        items = await task
    assert summary(items) == [("StateChanged", 3), ("StateChanged", 4)]
    first = items[0]
    assert isinstance(first, StateChangedEvent)
    assert first.data == StateChangedData(folder="f", from_="idle", to="scanning")
    assert stream.last_id == 4
    assert stream.state is ConnectionState.DISCONNECTED  # closed
    no_negative_since_and_always_timeout(fake)
    # primed with since=0&limit=1&timeout=0, then long polls from the head
    assert fake.events_requests[0].query == {"since": "0", "limit": "1", "timeout": "0"}
    assert fake.events_requests[1].query == {"since": "2", "timeout": "1"}


async def test_since_zero_replays_buffer_in_order(fake: FakeSyncthing, client: SyncthingClient) -> None:
    emit_state(fake, "scanning")
    stream = client.events.stream(since=0, poll_timeout=1)
    items = await take(stream, 3)
    assert summary(items) == [("Starting", 1), ("StartupComplete", 2), ("StateChanged", 3)]
    assert isinstance(items[0], StartingEvent)
    assert items[0].data.my_id == fake.device_id
    cursor = stream.cursor
    assert cursor is not None
    assert (cursor.device_id, cursor.start_time, cursor.filter, cursor.last_id) == (
        fake.device_id,
        fake.start_time,
        "default",
        3,
    )
    await stream.aclose()


async def test_idle_polls_are_normal(fake: FakeSyncthing, client: SyncthingClient) -> None:
    # poll_timeout 1 s -> 50 ms idle replies on the fake; read_margin keeps the HTTP timeout above it
    states: list[ConnectionState] = []
    async with client.events.stream(poll_timeout=1, read_margin=0.5, on_state=states.append) as stream:
        task = asyncio.create_task(take(stream, 1, timeout=30))

        def idle_polls() -> int:
            return sum(1 for r in fake.events_requests if r.query.get("timeout") == "1")

        await until(lambda: idle_polls() >= 4, "several idle [] answers, each followed by a new poll")
        assert not task.done()  # idle answers are not items
        emit_state(fake, "syncing")
        (item,) = await task
    assert summary([item]) == [("StateChanged", 3)]
    assert states == [ConnectionState.CONNECTED, ConnectionState.DISCONNECTED]


async def test_idle_poll_costs_one_request(fake: FakeSyncthing, client: SyncthingClient) -> None:
    # An idle stream sends only its polls: after the first idle answer has checked the newest id,
    # an idle answer to a poll sent right after the previous one needs no head or status check.
    async with client.events.stream(poll_timeout=1, read_margin=0.5) as stream:
        task = asyncio.create_task(take(stream, 1, timeout=30))
        # the first idle answer (50 ms) is followed by its one head check, then by the next poll
        await until(
            lambda: (
                sum(1 for r in fake.requests if r.query.get("limit") == "1") == 2  # enter + check
                and fake.requests[-1].query == {"since": "2", "timeout": "1"}
            ),
            "the head check after the first idle answer, then a poll",
        )
        start = len(fake.requests)
        await until(lambda: len(fake.requests) - start >= 6, "six more requests while idle")
        idle = fake.requests[start:]
        emit_state(fake, "syncing")
        (item,) = await task
    assert summary([item]) == [("StateChanged", 3)]
    assert all(r.path == "/rest/events" and r.query == {"since": "2", "timeout": "1"} for r in idle), idle
    assert sum(1 for r in fake.requests if r.path == "/rest/system/status") == 1  # at 'async with' only
    # after a batch was handed out, the first idle answer checks the head once (a restart may hide
    # behind the consumer's pause), then polling alone resumes
    stream = client.events.stream(since=3, poll_timeout=1, read_margin=0.5, identity_check_after=3600)
    emit_state(fake, "idle")
    assert summary(await take(stream, 1)) == [("StateChanged", 4)]
    start = len(fake.requests)
    task = asyncio.create_task(take(stream, 1, timeout=30))

    def plain_polls_after_start() -> int:
        return sum(1 for r in fake.requests[start:] if r.path == "/rest/events" and "limit" not in r.query)

    await until(lambda: plain_polls_after_start() >= 5, "five idle polls after the batch")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    after = [(r.path, r.query.get("limit")) for r in fake.requests[start:]]
    assert after.count(("/rest/events", "1")) == 1
    assert after.count(("/rest/events", None)) >= 5
    assert ("/rest/system/status", None) not in after
    await stream.aclose()


async def test_client_side_type_filter(fake: FakeSyncthing, client: SyncthingClient) -> None:
    for _ in range(3):
        fake.emit("DevicePaused", {"device": "x"})
        emit_state(fake, "scanning")
    stream = client.events.stream(types={StateChangedEvent, "FolderPaused"}, since=0, poll_timeout=1)
    items = await take(stream, 3)
    assert summary(items) == [("StateChanged", 4), ("StateChanged", 6), ("StateChanged", 8)]
    # one server subscription: no events= filter was ever sent
    assert all("events" not in r.query for r in fake.events_requests)
    # the cursor moves past filtered events once the batch is consumed
    task = asyncio.create_task(take(stream, 1))
    await fake.wait_polling()
    assert stream.last_id == 8
    fake.emit("FolderPaused", {"id": "f", "label": "F"})
    assert summary(await task) == [("FolderPaused", 9)]
    await stream.aclose()


async def test_types_validation(client: SyncthingClient) -> None:
    with pytest.raises(ValueError, match="unknown Syncthing event type"):
        client.events.stream(types={"StateChange"})
    with pytest.raises(ValueError, match="disk=True"):
        client.events.stream(types="LocalChangeDetected")
    with pytest.raises(ValueError, match="not in the disk event stream"):
        client.events.stream(types="StateChanged", disk=True)
    with pytest.raises(ValueError, match="poll_timeout"):
        client.events.stream(poll_timeout=0)
    with pytest.raises(ValueError, match="poll_timeout"):
        client.events.stream(poll_timeout=0.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="since"):
        client.events.stream(since=-1)


async def test_disk_stream(fake: FakeSyncthing, client: SyncthingClient) -> None:
    change = {"folder": "f", "folderID": "f", "label": "", "action": "modified", "type": "file", "path": "a"}
    fake.emit("LocalChangeDetected", change)
    emit_state(fake, "idle")
    fake.emit("RemoteChangeDetected", {**change, "path": "b"})
    stream = client.events.stream(disk=True, since=0, poll_timeout=1)
    items = await take(stream, 2)
    assert summary(items) == [("LocalChangeDetected", 1), ("RemoteChangeDetected", 2)]
    assert items[1].data.path == "b"  # type: ignore[union-attr]
    assert stream.cursor is not None and stream.cursor.filter == "disk"
    assert {r.path for r in fake.events_requests} == {"/rest/events/disk"}
    await stream.aclose()


async def test_gap_yields_events_skipped(fake: FakeSyncthing, client: SyncthingClient) -> None:
    stream = client.events.stream(poll_timeout=1)
    task = asyncio.create_task(take(stream, 3))
    await fake.wait_polling()
    emit_state(fake, "scanning")  # id 3
    await asyncio.sleep(0.05)
    fake.drop(4)  # ids 4..7 consumed, never stored
    emit_state(fake, "idle")  # id 8
    items = await task
    assert items[1] == EventsSkipped(count=4, first_id=4, last_id=7, reason=SkipReason.GAP, filter="default")
    assert summary(items) == [("StateChanged", 3), ("EventsSkipped", 4), ("StateChanged", 8)]
    await stream.aclose()


async def test_buffer_overflow_while_away_is_a_gap(fake: FakeSyncthing, client: SyncthingClient) -> None:
    stream = client.events.stream(since=0, poll_timeout=1)
    assert summary(await take(stream, 2)) == [("Starting", 1), ("StartupComplete", 2)]
    for i in range(1500):  # ids 3..1502; the ring keeps 503..1502
        fake.emit("FolderScanProgress", {"folder": "f", "current": i, "total": 1500, "rate": 1.0})
    items = await take(stream, 2)
    assert items[0] == EventsSkipped(count=500, first_id=3, last_id=502)
    assert summary(items[1:]) == [("FolderScanProgress", 503)]
    rest = await take(stream, 999)
    assert [e.id for e in rest] == list(range(504, 1503))  # type: ignore[union-attr]
    await stream.aclose()


async def test_restart_mid_poll_yields_reset_then_new_life(
    fake: FakeSyncthing, client: SyncthingClient
) -> None:
    stream = client.events.stream(since=0, poll_timeout=1)
    assert summary(await take(stream, 2)) == [("Starting", 1), ("StartupComplete", 2)]
    emit_state(fake, "scanning")
    assert summary(await take(stream, 1)) == [("StateChanged", 3)]
    old_start = fake.start_time
    task = asyncio.create_task(take(stream, 4))
    await fake.wait_polling()
    fake.restart()  # cuts the poll; ids start again at 1
    emit_state(fake, "syncing")  # id 3 of the new life
    items = await task
    reset = items[0]
    assert isinstance(reset, StreamReset)
    assert reset.reason is ResetReason.RESTART
    assert reset.last_id == 3
    assert reset.old_start_time == old_start
    assert reset.new_start_time == fake.start_time > old_start
    assert summary(items[1:]) == [("Starting", 1), ("StartupComplete", 2), ("StateChanged", 3)]
    cursor = stream.cursor
    assert cursor is not None and cursor.start_time == fake.start_time and cursor.last_id == 3
    no_negative_since_and_always_timeout(fake)
    await stream.aclose()


async def test_hidden_restart_detected_by_head_check(fake: FakeSyncthing, client: SyncthingClient) -> None:
    stream = client.events.stream(since=0, poll_timeout=1, identity_check_after=3600)
    for _ in range(5):
        emit_state(fake, "scanning")
    assert [e.id for e in await take(stream, 7)] == list(range(1, 8))  # type: ignore[union-attr]
    task = asyncio.create_task(take(stream, 3))
    await fake.wait_polling()
    fake.restart(start_time=fake.start_time)  # same startTime: only the ids tell
    items = await task
    assert isinstance(items[0], StreamReset)
    assert items[0].reason is ResetReason.ID_REGRESS
    assert summary(items[1:]) == [("Starting", 1), ("StartupComplete", 2)]
    await stream.aclose()


async def test_restart_while_consumer_busy_is_detected(fake: FakeSyncthing, client: SyncthingClient) -> None:
    # The restart happens between two polls and the new process already has more events than
    # our since: without the start-time check those first ids would be lost silently.
    stream = client.events.stream(since=0, poll_timeout=1, identity_check_after=0.2)
    assert summary(await take(stream, 2)) == [("Starting", 1), ("StartupComplete", 2)]
    fake.restart()
    for _ in range(4):
        emit_state(fake, "scanning")  # new life ids 3..6 > our since (2)
    await asyncio.sleep(0.3)  # the consumer was busy
    items = await take(stream, 7)
    assert isinstance(items[0], StreamReset) and items[0].reason is ResetReason.RESTART
    assert [getattr(e, "id", None) for e in items[1:]] == [1, 2, 3, 4, 5, 6]
    await stream.aclose()


async def test_device_changed(fake: FakeSyncthing, client: SyncthingClient) -> None:
    stream = client.events.stream(since=0, poll_timeout=1)
    await take(stream, 2)
    fake.device_id = "P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2"
    fake.restart()
    items = await take(stream, 2)
    assert isinstance(items[0], StreamReset)
    assert items[0].reason is ResetReason.DEVICE_CHANGED
    assert items[0].device_id == fake.device_id
    await stream.aclose()


async def test_cursor_resume_no_loss_no_replay(fake: FakeSyncthing) -> None:
    async with SyncthingClient(fake.url, fake.api_key) as first:
        stream = first.events.stream(since=0, poll_timeout=1)
        for _ in range(3):
            emit_state(fake, "scanning")
        assert [e.id for e in await take(stream, 4)] == [1, 2, 3, 4]  # type: ignore[union-attr]
        saved = stream.cursor
        assert saved is not None
        text = saved.to_json()
        await stream.aclose()
    for _ in range(2):
        emit_state(fake, "idle")  # 6, 7 arrive while no client runs
    async with SyncthingClient(fake.url, fake.api_key) as second:
        resumed = second.events.stream(since=EventCursor.from_json(text), poll_timeout=1)
        items = await take(resumed, 3)
        assert [e.id for e in items] == [5, 6, 7]  # type: ignore[union-attr]
        await resumed.aclose()


async def test_cursor_resume_after_restart(fake: FakeSyncthing, client: SyncthingClient) -> None:
    old = EventCursor(device_id=fake.device_id, start_time=fake.start_time, last_id=2)
    fake.restart()
    emit_state(fake, "scanning")
    stream = client.events.stream(since=old, poll_timeout=1)
    assert stream.cursor == old
    items = await take(stream, 4)
    assert isinstance(items[0], StreamReset)
    assert (items[0].reason, items[0].last_id, items[0].old_start_time) == (
        ResetReason.RESTART,
        2,
        old.start_time,
    )
    assert summary(items[1:]) == [("Starting", 1), ("StartupComplete", 2), ("StateChanged", 3)]
    await stream.aclose()


async def test_cursor_too_old_reports_resume_gap(fake: FakeSyncthing, client: SyncthingClient) -> None:
    cursor = EventCursor(device_id=fake.device_id, start_time=fake.start_time, last_id=2)
    for i in range(1010):  # ids 3..1012, ring keeps 13..1012
        fake.emit("FolderScanProgress", {"folder": "f", "current": i, "total": 1, "rate": 1.0})
    stream = client.events.stream(since=cursor, poll_timeout=1)
    items = await take(stream, 2)
    assert items[0] == EventsSkipped(count=10, first_id=3, last_id=12, reason=SkipReason.RESUME)
    assert getattr(items[1], "id", None) == 13
    await stream.aclose()
    with pytest.raises(ValueError, match="cursor is for the default stream"):
        client.events.stream(since=cursor, disk=True)


async def test_unknown_type_and_misfit_never_break_the_stream(
    fake: FakeSyncthing, client: SyncthingClient, caplog: pytest.LogCaptureFixture
) -> None:
    fake.emit("BrandNewType", {"x": 1})
    fake.emit("StateChanged", {"folder": "f", "to": 42})  # does not fit
    emit_state(fake, "idle")
    with caplog.at_level(logging.WARNING, logger="syncthing_async.events"):
        stream = client.events.stream(since=2, poll_timeout=1)
        items = await take(stream, 3)
    unknown, misfit, good = items
    assert isinstance(unknown, UnknownEvent) and unknown.type == "BrandNewType" and unknown.data == {"x": 1}
    assert isinstance(misfit, UnknownEvent) and misfit.type == "StateChanged" and misfit.error
    assert isinstance(good, StateChangedEvent) and good.data.to == "idle"
    assert "does not fit" in caplog.text
    await stream.aclose()
    # validate=False: payloads stay lazy; a misfit raises on access, the stream does not
    lazy = client.events.stream(since=2, poll_timeout=1, validate=False, types="StateChanged")
    bad, ok = await take(lazy, 2)
    assert isinstance(bad, StateChangedEvent)
    with pytest.raises(SyncthingDecodeError):
        bad.data  # noqa: B018
    assert ok.data.to == "idle"  # type: ignore[union-attr]
    await lazy.aclose()


async def test_cancel_consumer_is_fast_and_releases_connection(
    fake: FakeSyncthing, client: SyncthingClient
) -> None:
    stream = client.events.stream(poll_timeout=60)  # a real 60 s poll on the fake (timeout_scale 0.05 -> 3 s)
    task = asyncio.create_task(take(stream, 1, timeout=30))
    await fake.wait_polling()
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The cancel did not wait for the poll's answer: the server still holds that poll (the fake,
    # like Syncthing, answers only at an event or at its 3 s timeout) ...
    assert fake.waiting_polls == 1
    # ... and a generous bound, far below those 3 s (not a latency figure: a loaded machine)
    assert time.monotonic() - started < 1.5
    await until(lambda: fake.open_connections == 0, "the poll's connection closed, not kept waiting")
    await stream.aclose()


async def test_aclose_from_another_task_ends_iteration(fake: FakeSyncthing, client: SyncthingClient) -> None:
    stream = client.events.stream(poll_timeout=60)
    task = asyncio.create_task(take(stream, 1, timeout=30))
    await fake.wait_polling()
    started = time.monotonic()
    await stream.aclose()
    assert await asyncio.wait_for(task, 20) == []  # a bound only
    assert fake.waiting_polls == 1  # ended without waiting for the server's answer (3 s away)
    assert time.monotonic() - started < 1.5  # generous: far below the 3 s poll on a loaded machine
    assert stream.closed
    await stream.aclose()  # idempotent
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()


async def test_aclose_inside_the_loop_stops_at_once(fake: FakeSyncthing, client: SyncthingClient) -> None:
    for _ in range(5):
        emit_state(fake, "x")
    stream = client.events.stream(since=0, poll_timeout=1)
    seen = []
    async for item in stream:
        seen.append(item)
        if len(seen) == 3:
            await stream.aclose()
    assert [getattr(i, "id", None) for i in seen] == [1, 2, 3]
    assert stream.last_id == 3


async def test_get_one_shot(fake: FakeSyncthing, client: SyncthingClient) -> None:
    emit_state(fake, "scanning")
    evs = await client.events.get(since=1, timeout=0)
    assert [(e.type, e.id) for e in evs] == [("StartupComplete", 2), ("StateChanged", 3)]
    assert [e.id for e in await client.events.get(limit=1)] == [3]
    with pytest.raises(ValueError, match="since"):
        await client.events.get(since=-1)


async def test_fake_start_time_moves_on_restart(fake: FakeSyncthing) -> None:
    before = fake.start_time
    fake.restart()
    assert fake.start_time - before >= timedelta(seconds=1)
    assert FAST_SCALE < 1
