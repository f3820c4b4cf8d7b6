"""Example: testing your own Syncthing-driven code with ``syncthing_async.testing.FakeSyncthing``.

No Syncthing binary needed: the fake serves the event API exactly like Syncthing (ids,
long polls, restarts) and canned replies for anything else you tell it about
(``fake.respond(method, path, body)``). Run it with::

    pytest examples/test_with_fake.py

In your own project you can also enable ready-made fixtures (``fake_syncthing``,
``fake_syncthing_client``) in ``conftest.py``::

    pytest_plugins = ["syncthing_async.testing.pytest_plugin"]
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import anyio
import pytest
import pytest_asyncio

from syncthing_async import SyncthingClient, SyncthingTimeoutError
from syncthing_async._helpers import wait_for_idle
from syncthing_async.mirror import MirrorChange, StateMirror
from syncthing_async.models.db import FolderState
from syncthing_async.testing import FakeSyncthing

PEER = "MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD"


def folder_summary(state: str, need_bytes: int = 0, need_items: int = 0) -> dict[str, object]:
    """The fields of ``/rest/db/status`` (and of the FolderSummary event) our code looks at."""
    return {
        "state": state,
        "needBytes": need_bytes,
        "needTotalItems": need_items,
        "globalBytes": 1000,
        "globalTotalItems": 10,
        "localBytes": 1000 - need_bytes,
        "localTotalItems": 10 - need_items,
    }


async def changed_until(mirror: StateMirror, condition: Callable[[], bool], timeout: float = 10) -> None:
    """Wait (on the mirror's change callbacks, no polling) until ``condition()`` holds."""
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


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeSyncthing]:
    # timeout_scale shrinks idle long polls so the tests never wait for them.
    async with FakeSyncthing(timeout_scale=0.05) as st:
        st.respond(
            "GET",
            "/rest/config",
            {
                "version": 37,
                "folders": [
                    {
                        "id": "photos",
                        "label": "Photos",
                        "path": "/data/photos",
                        "devices": [{"deviceID": st.device_id}, {"deviceID": PEER}],
                    }
                ],
                "devices": [{"deviceID": st.device_id, "name": "me"}, {"deviceID": PEER, "name": "laptop"}],
            },
        )
        st.respond("GET", "/rest/db/status", folder_summary("idle"))
        st.respond("GET", "/rest/db/completion", {"completion": 100, "globalItems": 10, "sequence": 5})
        st.respond(
            "GET",
            "/rest/system/connections",
            {
                "connections": {
                    PEER: {"at": "2024-01-01T00:00:00Z", "connected": True, "address": "10.0.0.2:22000"}
                },
                "total": {"at": "2024-01-01T00:00:00Z"},
            },
        )
        yield st


@pytest_asyncio.fixture
async def client(fake: FakeSyncthing) -> AsyncIterator[SyncthingClient]:
    async with SyncthingClient(fake.url, fake.api_key) as c:
        yield c


async def test_wait_for_idle_returns_on_the_state_changed_event(
    fake: FakeSyncthing, client: SyncthingClient
) -> None:
    fake.respond("GET", "/rest/db/status", folder_summary("syncing", need_bytes=500, need_items=5))
    async with anyio.create_task_group() as tg:
        tg.start_soon(wait_for_idle, client, "photos")
        await fake.wait_polling()  # the helper subscribed and is waiting on events
        fake.emit("StateChanged", {"folder": "photos", "from": "syncing", "to": "idle"})
    # Leaving the task group means wait_for_idle returned.


async def test_wait_for_idle_times_out(fake: FakeSyncthing, client: SyncthingClient) -> None:
    fake.respond("GET", "/rest/db/status", folder_summary("scanning"))
    with pytest.raises(SyncthingTimeoutError):
        await wait_for_idle(client, "photos", timeout=0.5)


async def test_mirror_follows_events_and_a_restart(fake: FakeSyncthing, client: SyncthingClient) -> None:
    changes: list[MirrorChange] = []
    async with StateMirror(client, poll_timeout=1) as mirror:
        mirror.subscribe(changes.append)
        assert mirror.folders["photos"].label == "Photos"
        assert mirror.is_in_sync("photos") and mirror.is_in_sync("photos", PEER)
        assert mirror.devices[PEER].connected and mirror.devices[PEER].name == "laptop"

        fake.emit("StateChanged", {"folder": "photos", "from": "idle", "to": "syncing"})
        fake.emit("DeviceDisconnected", {"id": PEER, "error": "reading: EOF"})
        await changed_until(mirror, lambda: not mirror.devices[PEER].connected)
        assert mirror.folders["photos"].state is FolderState.SYNCING
        assert not mirror.is_in_sync("photos")
        assert MirrorChange("device", PEER) in changes

        # A restart: the mirror notices (new start time, ids from 1) and takes a new snapshot.
        fake.respond("GET", "/rest/db/status", folder_summary("idle"))
        fake.restart()
        await changed_until(mirror, lambda: mirror.resync_count >= 2 and mirror.available)
        photos = mirror.folders["photos"]  # a new immutable view after the resync
        assert photos.state is FolderState.IDLE
        assert mirror.devices[PEER].connected  # from the fresh /rest/system/connections
        assert mirror.system is not None and mirror.system.start_time == fake.start_time
