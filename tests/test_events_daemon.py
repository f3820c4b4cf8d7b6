"""The event stream against real Syncthing daemons (1.19.2 and 1.29.5): issue #4's must-show list."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from syncthing_async import SyncthingClient
from syncthing_async.events import Backoff, ConnectionState, EventCursor, EventStream
from syncthing_async.models.events import (
    Event,
    EventsSkipped,
    FolderCompletionEvent,
    ItemFinishedEvent,
    ItemStartedEvent,
    ResetReason,
    StartingEvent,
    StateChangedEvent,
    StreamItem,
    StreamReset,
)
from tests.harness import DaemonPair, SyncthingDaemon

pytestmark = pytest.mark.daemon

FAST_BACKOFF = Backoff(initial=0.1, factor=2.0, cap=1.0)


class Collector:
    """Runs ``async for`` over a stream in a task and keeps everything it yields."""

    def __init__(self, stream: EventStream) -> None:
        self.stream = stream
        self.items: list[StreamItem] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for item in self.stream:
            self.items.append(item)

    @property
    def events(self) -> list[Event[object]]:
        return [i for i in self.items if isinstance(i, Event)]

    async def wait(
        self, predicate: Callable[[list[StreamItem]], bool], timeout: float = 60.0, what: str = ""
    ) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self.items):
            if self.task.done():
                self.task.result()  # re-raise what ended the stream
                raise AssertionError("the stream ended")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or predicate}; got {self.items[-20:]}")
            await asyncio.sleep(0.05)

    async def established(self) -> None:
        await self.wait(lambda _: self.stream.state is ConnectionState.CONNECTED, 30, "the poll to be open")

    async def close(self) -> None:
        await self.stream.aclose()
        await asyncio.wait_for(self.task, 5)


def truth(daemon: SyncthingDaemon, since: int = 0) -> list[tuple[int, str]]:
    """What Syncthing itself holds in the default subscription after ``since``: (id, type)."""
    return [(e["id"], e["type"]) for e in daemon.get_json("/rest/events", since=str(since), timeout="0")]


def scan(daemon: SyncthingDaemon, folder: str) -> None:
    resp = daemon.request("POST", "/rest/db/scan", params={"folder": folder})
    assert resp.status == 200, resp.text


async def test_paired_sync_yields_item_state_and_completion_events(daemon_pair: DaemonPair) -> None:
    a, b, folder, path_a, path_b = daemon_pair
    files = {f"file{i}.txt": os.urandom(2048 + i) for i in range(3)}
    async with SyncthingClient(b.url, b.api_key) as client:
        stream = client.events.stream(
            types={ItemStartedEvent, ItemFinishedEvent, StateChangedEvent, FolderCompletionEvent},
            backoff=FAST_BACKOFF,
        )
        got = Collector(stream)
        await got.established()
        for name, content in files.items():
            (path_a / name).write_bytes(content)
        scan(a, folder)

        def synced(items: list[StreamItem]) -> bool:
            finished = {
                e.data.item for e in items if isinstance(e, ItemFinishedEvent) and e.data.error is None
            }
            states = [
                e.data.to for e in items if isinstance(e, StateChangedEvent) and e.data.folder == folder
            ]
            back_idle = "syncing" in states and "idle" in states[states.index("syncing") :]
            completion = any(
                isinstance(e, FolderCompletionEvent)
                and e.data.folder == folder
                and e.data.device == a.device_id
                for e in items
            )
            return set(files) <= finished and back_idle and completion

        await got.wait(synced, 90, "ItemFinished for every file, syncing -> idle and FolderCompletion")
        await got.close()

    events = got.events
    assert all(e.type in {"ItemStarted", "ItemFinished", "StateChanged", "FolderCompletion"} for e in events)
    for name in files:
        started = [i for i, e in enumerate(events) if isinstance(e, ItemStartedEvent) and e.data.item == name]
        finished = [
            i for i, e in enumerate(events) if isinstance(e, ItemFinishedEvent) and e.data.item == name
        ]
        assert started and finished and started[0] < finished[-1], name
        start_ev = events[started[0]]
        assert isinstance(start_ev, ItemStartedEvent)
        assert (start_ev.data.folder, start_ev.data.type, start_ev.data.action) == (folder, "file", "update")
        assert (path_b / name).read_bytes() == files[name]
    assert any(
        isinstance(e, StateChangedEvent) and e.data.to == "syncing" and e.data.folder == folder
        for e in events
    )
    ids = [e.id for e in events]
    assert ids == sorted(set(ids))  # no duplicate, in order
    assert not [i for i in got.items if isinstance(i, (EventsSkipped, StreamReset))]


async def test_restart_of_consumed_daemon_yields_reset_then_new_life(fresh_daemon: SyncthingDaemon) -> None:
    st = fresh_daemon
    async with SyncthingClient(st.url, st.api_key) as client:
        got = Collector(client.events.stream(since=0, backoff=FAST_BACKOFF))
        await got.wait(lambda items: any(getattr(i, "type", "") == "StartupComplete" for i in items), 30)
        old_start = client_start = got.stream.cursor.start_time  # type: ignore[union-attr]
        await got.established()
        await asyncio.to_thread(st.restart)
        await got.wait(lambda items: any(isinstance(i, StreamReset) for i in items), 60, "a StreamReset")
        st.add_folder("after-restart", st.data_dir / "after-restart")  # new events in the new life
        await got.wait(
            lambda items: any(
                isinstance(e, StateChangedEvent) and e.data.folder == "after-restart" for e in items
            ),
            60,
            "events of the new process",
        )
        await got.close()
        new_truth = truth(st)

    resets = [i for i in got.items if isinstance(i, StreamReset)]
    assert len(resets) == 1
    reset = resets[0]
    assert reset.reason is ResetReason.RESTART
    assert reset.old_start_time == old_start == client_start
    assert reset.new_start_time is not None and reset.new_start_time > old_start
    assert reset.device_id == st.device_id
    cut = got.items.index(reset)
    before = [e.id for e in got.items[:cut] if isinstance(e, Event)]
    after = [e for e in got.items[cut + 1 :] if isinstance(e, Event)]
    assert before == list(range(1, len(before) + 1))  # first life: 1..n, no gap, no duplicate
    assert isinstance(after[0], StartingEvent) and after[0].id == 1  # new life from its first event
    after_ids = [e.id for e in after]
    assert after_ids == list(range(1, len(after_ids) + 1))
    assert [(e.id, e.type) for e in after] == new_truth[: len(after)]
    assert not [i for i in got.items if isinstance(i, EventsSkipped)]


async def test_gui_change_reconnects_with_same_cursor_and_loses_nothing(
    fresh_daemon: SyncthingDaemon,
) -> None:
    st = fresh_daemon
    folder = st.data_dir / "watched"
    folder.mkdir()
    (folder / "before.txt").write_bytes(b"before")
    st.add_folder("watched", folder)
    disk_states: list[ConnectionState] = []
    async with SyncthingClient(st.url, st.api_key) as client:
        main = client.events.stream(since=0, backoff=FAST_BACKOFF)
        # The disk subscription is not woken by ConfigSaved, so its poll is surely open (and cut)
        # when Syncthing restarts the GUI listener.
        disk = client.events.stream(disk=True, since=0, backoff=FAST_BACKOFF, on_state=disk_states.append)
        got, got_disk = Collector(main), Collector(disk)
        await got_disk.wait(lambda items: len(items) >= 1, 30, "the first scan's LocalChangeDetected")
        await got.established()
        await got_disk.established()
        main_cursor, disk_cursor = main.cursor, disk.cursor
        assert main_cursor is not None and disk_cursor is not None
        # Any GUI setting change makes Syncthing restart its GUI listener, cutting open connections.
        resp = st.request("PATCH", "/rest/config/gui", json_body={"theme": "black"})
        assert resp.status == 200, resp.text
        await got_disk.wait(
            lambda _: ConnectionState.RECONNECTING in disk_states, 30, "the disk poll to be cut"
        )
        await got_disk.wait(lambda _: disk_states[-1] is ConnectionState.CONNECTED, 30, "the reconnect")
        (folder / "after.txt").write_bytes(b"after")
        scan(st, "watched")
        st.add_folder("after-gui", st.data_dir / "after-gui")
        await got_disk.wait(
            lambda items: any(getattr(getattr(e, "data", None), "path", "") == "after.txt" for e in items),
            60,
            "LocalChangeDetected for after.txt",
        )
        await got.wait(
            lambda items: any(
                isinstance(e, StateChangedEvent) and e.data.folder == "after-gui" for e in items
            ),
            60,
            "events after the reconnect",
        )
        await got.close()
        await got_disk.close()
        disk_truth = [(e["id"], e["type"]) for e in st.get_json("/rest/events/disk", since="0", timeout="0")]

    for stream, before in ((main, main_cursor), (disk, disk_cursor)):
        after = stream.cursor
        assert after is not None
        assert (after.device_id, after.start_time, after.filter) == (
            before.device_id,
            before.start_time,
            before.filter,
        )
    for collected in (got, got_disk):
        assert not [i for i in collected.items if isinstance(i, (StreamReset, EventsSkipped))]
    ours = [(e.id, e.type) for e in got.events]
    assert ours == truth(st)[: len(ours)]  # every event Syncthing logged, once, in order
    assert any(t == "ConfigSaved" for _, t in ours)
    ours_disk = [(e.id, e.type) for e in got_disk.events]
    assert ours_disk == disk_truth[: len(ours_disk)]
    assert disk_states.count(ConnectionState.CONNECTED) >= 2


async def test_saved_cursor_resumes_in_new_client_without_loss_or_replay(
    fresh_daemon: SyncthingDaemon,
) -> None:
    st = fresh_daemon
    async with SyncthingClient(st.url, st.api_key) as first:
        stream = first.events.stream(since=0)
        seen: list[int] = []
        async for item in stream:
            assert isinstance(item, Event)
            seen.append(item.id)
            if len(seen) == 2:
                break
        saved = stream.cursor
        assert saved is not None and saved.last_id == 2
        text = saved.to_json()
        await stream.aclose()
    # events happen while no client is connected
    for name in ("r1", "r2"):
        st.add_folder(name, st.data_dir / name)
    expected = truth(st, since=2)
    assert expected
    async with SyncthingClient(st.url, st.api_key) as second:
        resumed = second.events.stream(since=EventCursor.from_json(text))
        got: list[tuple[int, str]] = []
        async for item in resumed:
            assert isinstance(item, Event), item
            got.append((item.id, item.type))
            if len(got) == len(expected):
                break
        await resumed.aclose()
    assert got == expected
    assert got[0][0] == 3


def _established_connections_to(port: int) -> int:
    """ESTABLISHED TCP connections from this process to 127.0.0.1:``port`` (Linux /proc)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            parts = line.split()
            remote, state, inode = parts[2], parts[3], parts[9]
            if state == "01" and inode in inodes and int(remote.rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


async def _until(check: Callable[[], bool], what: str, bound: float = 20.0) -> None:
    """Wait for a fact; ``bound`` only keeps a broken test from hanging."""
    deadline = time.monotonic() + bound
    while not check():
        assert time.monotonic() < deadline, f"not within {bound:g} s: {what}"
        await asyncio.sleep(0.01)


async def test_cancel_returns_fast_without_leaks(fresh_daemon: SyncthingDaemon) -> None:
    st = fresh_daemon
    before = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}
    async with SyncthingClient(st.url, st.api_key) as client:
        stream = client.events.stream()  # a real 60 s long poll
        got = Collector(stream)
        await got.established()
        assert _established_connections_to(st.gui_port) == 1
        started = time.monotonic()
        got.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await got.task
        # not waiting for the 60 s poll to end: a generous bound for a loaded 2-core machine
        assert time.monotonic() - started < 5
        await _until(lambda: _established_connections_to(st.gui_port) == 0, "the poll's connection gone")
        # the listener: stop() cancels and awaits its task
        listener = client.events.listener()
        listener.subscribe(lambda item: None)
        await listener.start()
        await _until(lambda: listener.state is ConnectionState.CONNECTED, "the listener connected")
        await _until(lambda: _established_connections_to(st.gui_port) == 1, "the listener's poll open")
        started = time.monotonic()
        await listener.stop()
        assert time.monotonic() - started < 5  # as above: far below the 60 s poll
        await _until(lambda: _established_connections_to(st.gui_port) == 0, "the listener's poll gone")
    after = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}
    assert not (after - before)
