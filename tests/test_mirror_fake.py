"""StateMirror against FakeSyncthing: gaps, dropped connections, auth failure, config changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest
import pytest_asyncio

from syncthing_async import AuthenticationError, SyncthingClient
from syncthing_async.events import Backoff, ConnectionState
from syncthing_async.mirror import MirrorChange, StateMirror
from syncthing_async.models.db import FolderState
from syncthing_async.testing import FakeSyncthing

PEER = "MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD"
FAST = Backoff(initial=0.01, cap=0.05)


def config(st: FakeSyncthing, *folders: str) -> dict[str, Any]:
    return {
        "version": 37,
        "folders": [
            {"id": f, "label": f.title(), "devices": [{"deviceID": st.device_id}, {"deviceID": PEER}]}
            for f in folders
        ],
        "devices": [{"deviceID": st.device_id, "name": "me"}, {"deviceID": PEER, "name": "peer"}],
    }


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeSyncthing]:
    async with FakeSyncthing(timeout_scale=0.05) as st:
        st.respond("GET", "/rest/config", config(st, "photos"))
        st.respond("GET", "/rest/db/status", {"state": "idle", "globalTotalItems": 3})
        st.respond("GET", "/rest/db/completion", {"completion": 100, "globalItems": 3, "sequence": 2})
        st.respond(
            "GET",
            "/rest/system/connections",
            {"connections": {PEER: {"at": "2024-01-01T00:00:00Z"}}, "total": {"at": "2024-01-01T00:00:00Z"}},
        )
        yield st


@pytest_asyncio.fixture
async def client(fake: FakeSyncthing) -> AsyncIterator[SyncthingClient]:
    async with SyncthingClient(fake.url, fake.api_key) as c:
        yield c


async def until(mirror: StateMirror, condition: Callable[[], bool], timeout: float = 10) -> None:
    changed = anyio.Event()

    def on_change(_: MirrorChange) -> None:
        changed.set()

    unsubscribe = mirror.subscribe(on_change)
    try:
        with anyio.fail_after(timeout):
            while not condition():
                await changed.wait()
                changed = anyio.Event()
    finally:
        unsubscribe()


async def test_gap_resyncs_but_dropped_connection_resumes(
    fake: FakeSyncthing, client: SyncthingClient
) -> None:
    states: list[ConnectionState] = []
    async with StateMirror(client, poll_timeout=1, backoff=FAST) as mirror:
        mirror.subscribe(lambda c: states.append(mirror.connection_state) if c.kind == "connection" else None)
        assert mirror.resync_count == 1
        assert mirror.devices[PEER].connected is False

        # Events are applied without any snapshot.
        fake.emit("DeviceConnected", {"id": PEER, "addr": "10.0.0.2:22000", "clientVersion": "v1.29.5"})
        await until(mirror, lambda: mirror.devices[PEER].connected)
        assert mirror.devices[PEER].address == "10.0.0.2:22000"
        assert mirror.resync_count == 1

        # A dropped connection: reported, then resumed from the cursor (no snapshot, no loss).
        await fake.wait_polling()
        fake.sever()
        fake.emit("StateChanged", {"folder": "photos", "from": "idle", "to": "scanning"})
        await until(mirror, lambda: mirror.folders["photos"].state is FolderState.SCANNING)
        await until(mirror, lambda: mirror.connection_state is ConnectionState.CONNECTED)
        assert ConnectionState.RECONNECTING in states
        assert mirror.resync_count == 1

        # Lost events (an id gap): EventsSkipped -> a new snapshot.
        fake.drop(3)
        fake.emit("StateChanged", {"folder": "photos", "from": "scanning", "to": "idle"})
        await until(mirror, lambda: mirror.resync_count == 2)
        assert mirror.folders["photos"].state is FolderState.IDLE


async def test_config_saved_adds_and_removes_folders(fake: FakeSyncthing, client: SyncthingClient) -> None:
    async with StateMirror(client, poll_timeout=1, backoff=FAST) as mirror:
        assert set(mirror.folders) == {"photos"}
        new = config(fake, "photos", "docs")
        fake.respond("GET", "/rest/config", new)
        fake.emit("ConfigSaved", new)
        await until(mirror, lambda: "docs" in mirror.folders)
        assert mirror.folders["docs"].label == "Docs" and mirror.is_in_sync("docs", PEER)
        new = config(fake, "docs")
        fake.respond("GET", "/rest/config", new)
        fake.emit("ConfigSaved", new)
        await until(mirror, lambda: "photos" not in mirror.folders)
        with pytest.raises(KeyError):
            mirror.is_in_sync("photos")
        assert mirror.resync_count == 1


async def test_start_raises_first_error_and_leaves_nothing(fake: FakeSyncthing) -> None:
    async with SyncthingClient(fake.url, "wrong-key") as client:
        mirror = StateMirror(client)
        with pytest.raises(AuthenticationError):
            await mirror.start()
        assert not mirror.running and not mirror.ready
        await asyncio.sleep(0)
        assert not [t for t in asyncio.all_tasks() if t.get_name() == "syncthing-state-mirror"]


async def test_run_in_own_task_group(fake: FakeSyncthing, client: SyncthingClient) -> None:
    mirror = StateMirror(client, poll_timeout=1)
    async with anyio.create_task_group() as tg:
        tg.start_soon(mirror.run)
        await mirror.wait_ready()
        assert mirror.running and mirror.available
        with pytest.raises(RuntimeError):
            await mirror.start()
        tg.cancel_scope.cancel()
    assert not mirror.running
    assert mirror.folders["photos"].state is FolderState.IDLE  # last state stays readable
