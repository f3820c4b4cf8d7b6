"""EventListener against FakeSyncthing: callbacks, shared polls, bounded consumers, states, lifecycle."""

from __future__ import annotations

import asyncio
import gc
import logging

import anyio
import pytest

from syncthing_async import SyncthingClient
from syncthing_async.events import ConnectionState, EventListener
from syncthing_async.models.events import (
    EventsSkipped,
    FolderPausedEvent,
    ResetReason,
    SkipReason,
    StateChangedEvent,
    StreamItem,
    StreamReset,
)
from syncthing_async.testing import FakeSyncthing
from tests.events_support import client, emit_state, fake, recorded_backoff, summary, take

__all__ = ["client", "fake"]


async def wait_for(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    with anyio.fail_after(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


def paused(fake: FakeSyncthing, folder: str = "f") -> int:
    return fake.emit("FolderPaused", {"id": folder, "label": folder.upper()})


async def test_sync_and_async_callbacks_by_type(fake: FakeSyncthing, client: SyncthingClient) -> None:
    sync_seen: list[StreamItem] = []
    async_seen: list[StreamItem] = []
    all_seen: list[StreamItem] = []

    async def on_paused(item: StreamItem) -> None:
        await asyncio.sleep(0)
        async_seen.append(item)

    async with client.events.listener(poll_timeout=1) as listener:
        unsub_state = listener.subscribe(sync_seen.append, StateChangedEvent)
        listener.subscribe(on_paused, types="FolderPaused")
        listener.subscribe(all_seen.append)
        await fake.wait_polling()
        emit_state(fake, "scanning")
        paused(fake)
        emit_state(fake, "idle")
        await wait_for(lambda: len(all_seen) == 3 and len(sync_seen) == 2 and len(async_seen) == 1)
        assert summary(sync_seen) == [("StateChanged", 3), ("StateChanged", 5)]
        assert isinstance(async_seen[0], FolderPausedEvent) and async_seen[0].data.label == "F"
        assert summary(all_seen) == [("StateChanged", 3), ("FolderPaused", 4), ("StateChanged", 5)]
        assert all_seen[0] is sync_seen[0]  # one decoded object, shared
        unsub_state()
        unsub_state()  # idempotent
        emit_state(fake, "syncing")
        await wait_for(lambda: len(all_seen) == 4)
        await asyncio.sleep(0.05)
        assert len(sync_seen) == 2


async def test_one_shared_poll_per_server_filter(fake: FakeSyncthing, client: SyncthingClient) -> None:
    got: list[list[StreamItem]] = [[] for _ in range(5)]
    async with client.events.listener(poll_timeout=1) as listener:
        for bucket in got:
            listener.subscribe(bucket.append, types={"StateChanged", "FolderPaused"})
        await fake.wait_polling()
        seen_waiting = set()
        for _ in range(50):  # a 1 s poll lasts 50 ms here: sample across several polls
            seen_waiting.add(fake.waiting_polls)
            await asyncio.sleep(0.004)
        assert max(seen_waiting) == 1  # five consumers, one shared poll (never two at once)
        assert {r.path for r in fake.events_requests} == {"/rest/events"}
        change = {
            "folder": "f",
            "folderID": "f",
            "label": "",
            "action": "modified",
            "type": "file",
            "path": "a",
        }
        disk_seen: list[StreamItem] = []
        listener.subscribe(disk_seen.append, types="LocalChangeDetected")
        await fake.wait_polling(2)
        fake.emit("LocalChangeDetected", change)
        emit_state(fake, "idle")
        await wait_for(lambda: all(len(b) == 1 for b in got) and len(disk_seen) == 1)
        assert summary(disk_seen) == [("LocalChangeDetected", 1)]
        assert {r.path for r in fake.events_requests} == {"/rest/events", "/rest/events/disk"}
        assert all("events" not in r.query for r in fake.events_requests)
        assert set(listener.cursors) == {"default", "disk"}


async def test_failing_callback_is_logged_and_isolated(
    fake: FakeSyncthing, client: SyncthingClient, caplog: pytest.LogCaptureFixture
) -> None:
    good: list[StreamItem] = []
    calls: list[int] = []

    def bad(item: StreamItem) -> None:
        calls.append(item.id)  # type: ignore[union-attr]
        raise RuntimeError("consumer bug")

    async def bad_async(item: StreamItem) -> None:
        raise KeyError("async consumer bug")

    with caplog.at_level(logging.ERROR, logger="syncthing_async.events"):
        async with client.events.listener(poll_timeout=1) as listener:
            listener.subscribe(bad, "StateChanged")
            listener.subscribe(bad_async, "StateChanged")
            listener.subscribe(good.append, "StateChanged")
            await fake.wait_polling()
            emit_state(fake, "scanning")
            emit_state(fake, "idle")
            await wait_for(lambda: len(good) == 2 and len(calls) == 2)
            assert listener.state is ConnectionState.CONNECTED
    assert calls == [3, 4]  # the failing callback keeps getting later events
    messages = [r for r in caplog.records if "event callback" in r.getMessage()]
    assert len(messages) == 4
    assert "consumer bug" in caplog.text and "async consumer bug" in caplog.text


async def test_slow_consumer_overflow_is_bounded_and_reported(
    fake: FakeSyncthing, client: SyncthingClient
) -> None:
    fast: list[StreamItem] = []
    async with client.events.listener(poll_timeout=1) as listener:
        listener.subscribe(fast.append, "StateChanged")
        slow = listener.iterate("StateChanged", buffer_size=2)
        await fake.wait_polling()
        for i in range(10):
            emit_state(fake, f"s{i}")  # ids 3..12
        await wait_for(lambda: len(fast) == 10)  # the fast consumer is not held back
        items = await take(slow, 3)
        assert summary(items[:2]) == [("StateChanged", 3), ("StateChanged", 4)]
        assert items[2] == EventsSkipped(count=8, first_id=5, last_id=12, reason=SkipReason.OVERFLOW)
        assert slow.dropped == 8
        emit_state(fake, "later")
        assert summary(await take(slow, 1)) == [("StateChanged", 13)]
        slow.close()


async def test_overflow_marker_comes_before_newer_events(
    fake: FakeSyncthing, client: SyncthingClient
) -> None:
    async with (
        client.events.listener(poll_timeout=1) as listener,
        listener.iterate(buffer_size=1) as slow,
    ):
        await fake.wait_polling()
        emit_state(fake, "a")  # 3 buffered
        emit_state(fake, "b")  # 4 dropped
        await wait_for(lambda: listener.cursors["default"].last_id == 4)
        assert summary(await take(slow, 1)) == [("StateChanged", 3)]
        emit_state(fake, "c")  # 5: the backlog marker goes first, then 5 is dropped (buffer 1)
        await wait_for(lambda: listener.cursors["default"].last_id == 5)
        items = await take(slow, 2)
        assert items[0] == EventsSkipped(count=1, first_id=4, last_id=4, reason=SkipReason.OVERFLOW)
        assert items[1] == EventsSkipped(count=1, first_id=5, last_id=5, reason=SkipReason.OVERFLOW)
        emit_state(fake, "d")
        assert summary(await take(slow, 1)) == [("StateChanged", 6)]


async def test_markers_reach_consumers(fake: FakeSyncthing, client: SyncthingClient) -> None:
    seen: list[StreamItem] = []
    no_markers: list[StreamItem] = []
    async with client.events.listener(poll_timeout=1) as listener:
        listener.subscribe(seen.append, "StateChanged")
        listener.subscribe(no_markers.append, "StateChanged", markers=False)
        await fake.wait_polling()
        fake.drop(2)
        emit_state(fake, "x")  # id 5 after a gap of 2
        await wait_for(lambda: len(seen) == 2)
        fake.restart()
        await wait_for(lambda: len(seen) == 3)
        emit_state(fake, "y")
        await wait_for(lambda: len(seen) == 4)
    assert seen[0] == EventsSkipped(count=2, first_id=3, last_id=4)
    assert isinstance(seen[2], StreamReset) and seen[2].reason is ResetReason.RESTART
    assert summary([seen[1], seen[3]]) == [("StateChanged", 5), ("StateChanged", 3)]
    assert summary(no_markers) == [("StateChanged", 5), ("StateChanged", 3)]


async def test_connection_states(fake: FakeSyncthing, client: SyncthingClient) -> None:
    backoff, rec = recorded_backoff()
    states: list[ConnectionState] = []
    listener = client.events.listener(poll_timeout=1, backoff=backoff)
    unsub = listener.on_state(states.append)
    listener.subscribe(lambda item: None)
    async with listener:
        await fake.wait_polling()
        await wait_for(lambda: listener.state is ConnectionState.CONNECTED)  # poll open for 0.5 s
        await fake.wait_polling()
        fake.sever()  # cuts the open poll
        await wait_for(lambda: states.count(ConnectionState.CONNECTED) == 2)
    assert listener.state is ConnectionState.DISCONNECTED
    assert states == [
        ConnectionState.CONNECTED,
        ConnectionState.DISCONNECTED,
        ConnectionState.RECONNECTING,
        ConnectionState.CONNECTED,
        ConnectionState.DISCONNECTED,
    ]
    assert rec.delays == [1]
    unsub()


async def test_auth_failed_waits_for_reconnect(fake: FakeSyncthing, client: SyncthingClient) -> None:
    backoff, _rec = recorded_backoff()
    states: list[ConnectionState] = []
    seen: list[StreamItem] = []
    async with client.events.listener(poll_timeout=1, backoff=backoff) as listener:
        listener.on_state(states.append)
        listener.subscribe(seen.append, "StateChanged")
        await fake.wait_polling()
        fake.set_api_key("rotated")
        fake.sever()
        await wait_for(lambda: listener.state is ConnectionState.AUTH_FAILED)
        count = len(fake.requests)
        await asyncio.sleep(0.5)
        assert len(fake.requests) == count  # no retry storm: nothing at all until reconnect()
        assert listener.state == "auth_failed"
        emit_state(fake, "while-locked-out")  # id 3: must not be lost
        client.set_api_key("rotated")
        listener.reconnect()
        await wait_for(lambda: len(seen) == 1)
        await wait_for(lambda: listener.state is ConnectionState.CONNECTED)
    assert summary(seen) == [("StateChanged", 3)]
    assert ConnectionState.AUTH_FAILED in states
    assert states[-1] is ConnectionState.DISCONNECTED


async def test_reconnect_cuts_backoff_short(fake: FakeSyncthing, client: SyncthingClient) -> None:
    from syncthing_async.events import Backoff

    backoff = Backoff(initial=30, cap=30, random=lambda: 1.0)  # real sleeps: 30 s
    async with client.events.listener(poll_timeout=1, backoff=backoff) as listener:
        listener.subscribe(lambda item: None)
        await fake.wait_polling()
        fake.sever()
        await wait_for(lambda: listener.state is ConnectionState.RECONNECTING)
        loop = asyncio.get_running_loop()
        started = loop.time()
        listener.reconnect()
        await wait_for(lambda: listener.state is ConnectionState.CONNECTED, timeout=3)
        assert loop.time() - started < 1


async def test_stop_cancels_and_awaits_no_leaks(fake: FakeSyncthing, client: SyncthingClient) -> None:
    listener = client.events.listener(poll_timeout=60)
    listener.subscribe(lambda item: None)
    sub = listener.iterate()
    await listener.start()
    await listener.start()  # no-op
    await fake.wait_polling()
    task = listener._task
    assert task is not None and listener.running
    before = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}
    loop = asyncio.get_running_loop()
    started = loop.time()
    await listener.stop()
    assert loop.time() - started < 0.5
    assert task.done() and not listener.running
    assert listener.state is ConnectionState.DISCONNECTED
    assert [i async for i in sub] == []  # iterator consumers end when the listener stops
    await asyncio.sleep(0.05)
    assert fake.open_connections == 0
    after = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}
    assert not (after - before)
    assert not [t for t in after if "syncthing" in t.get_name()]
    await listener.stop()  # idempotent
    gc.collect()


async def test_restart_listener_continues_cursor(fake: FakeSyncthing, client: SyncthingClient) -> None:
    seen: list[StreamItem] = []
    listener = client.events.listener(poll_timeout=1)
    listener.subscribe(seen.append, "StateChanged")
    async with listener:
        await fake.wait_polling()
        emit_state(fake, "a")
        await wait_for(lambda: len(seen) == 1)
    emit_state(fake, "b")  # while stopped
    async with listener:
        await wait_for(lambda: len(seen) == 2)
    assert summary(seen) == [("StateChanged", 3), ("StateChanged", 4)]
    saved = listener.cursors["default"]
    assert saved.last_id == 4
    emit_state(fake, "c")
    resumed: list[StreamItem] = []
    other = EventListener(client._core, since=saved, poll_timeout=1)
    other.subscribe(resumed.append, "StateChanged")
    async with other:
        await wait_for(lambda: len(resumed) == 1)
    assert summary(resumed) == [("StateChanged", 5)]


async def test_run_in_callers_task_group(fake: FakeSyncthing, client: SyncthingClient) -> None:
    seen: list[StreamItem] = []
    listener = client.events.listener(poll_timeout=1)
    listener.subscribe(seen.append, "FolderPaused")
    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.run)
        await fake.wait_polling()
        with pytest.raises(RuntimeError):
            await listener.start()
        paused(fake)
        await wait_for(lambda: len(seen) == 1)
        await listener.stop()
    assert not listener.running


async def test_subscription_validation(client: SyncthingClient) -> None:
    listener = client.events.listener()
    with pytest.raises(ValueError, match="unknown"):
        listener.subscribe(print, "NoSuchEvent")
    with pytest.raises(ValueError, match="buffer_size"):
        client.events.listener(buffer_size=0)
    sub = listener.iterate("StateChanged")
    sub.close()
    assert [i async for i in sub] == []


async def test_ready_consumers_keep_up_with_a_burst(fake: FakeSyncthing, client: SyncthingClient) -> None:
    # A 500-event batch through 16-item buffers: consumers that are ready (not busy) drain
    # their whole buffer each time the poller yields, so nothing is dropped.
    got: list[StreamItem] = []
    async_got: list[StreamItem] = []

    async def on_event(item: StreamItem) -> None:
        async_got.append(item)

    async with client.events.listener(poll_timeout=1, buffer_size=16) as listener:
        listener.subscribe(got.append, "FolderScanProgress")
        listener.subscribe(on_event, "FolderScanProgress")
        sub = listener.iterate("FolderScanProgress")
        task = asyncio.create_task(take(sub, 500))
        await fake.wait_polling()
        for i in range(500):
            fake.emit("FolderScanProgress", {"folder": "f", "current": i, "total": 500, "rate": 1.0})
        items = await task
        await wait_for(lambda: len(got) == 500 and len(async_got) == 500)
        sub.close()
    for seen in (items, got, async_got):
        assert [getattr(i, "id", None) for i in seen] == list(range(3, 503))


async def test_iterator_created_before_start_waits_for_it(
    fake: FakeSyncthing, client: SyncthingClient
) -> None:
    listener = client.events.listener(poll_timeout=1)
    sub = listener.iterate("FolderPaused")
    task = asyncio.create_task(take(sub, 1))
    await asyncio.sleep(0.05)
    assert not task.done()
    async with listener:
        await fake.wait_polling()
        paused(fake)
        assert summary(await task) == [("FolderPaused", 3)]
    assert [i async for i in sub] == []  # ended by stop()


def test_unstarted_listener_leaks_nothing(client: SyncthingClient) -> None:
    listener = client.events.listener()
    listener.subscribe(print)
    listener.iterate()
    del listener
    gc.collect()  # no ResourceWarning for unclosed memory streams (warnings are errors here)
