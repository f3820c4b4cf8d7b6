"""StateMirror against real daemons: equal to freshly fetched state through a sync and a restart."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from syncthing_async import SyncthingClient, SyncthingConnectionError
from syncthing_async._helpers import wait_for_sync
from syncthing_async.events import ConnectionState
from syncthing_async.mirror import MirrorChange, StateMirror
from syncthing_async.models.db import FolderState
from tests.events_support import library_tasks
from tests.harness import SyncthingDaemon, pair, wait_connected, write_files

pytestmark = pytest.mark.daemon

FOLDER = "shared"


async def fetched_state(client: SyncthingClient) -> dict[str, Any]:
    """What the REST API says right now, in the mirror's terms."""
    status = await client.system.status()
    version = await client.system.version()
    config = await client.config.get()
    conns = await client.system.connections()
    folders: dict[str, Any] = {}
    for fc in config.folders:
        s = await client.db.status(folder=fc.id)
        remote = sorted(d.device_id for d in fc.devices if d.device_id != status.my_id)
        completion = {}
        for dev in remote:
            c = await client.db.completion(folder=fc.id, device=dev)
            completion[dev] = (c.completion, c.need_bytes, c.need_items, c.need_deletes, c.global_items)
        folders[fc.id] = {
            "label": fc.label,
            "paused": fc.paused,
            "devices": remote,
            "state": s.state,
            "error": s.error,
            "errors": s.errors,
            "need": (s.need_bytes, s.need_total_items, s.need_deletes),
            "global": (s.global_bytes, s.global_total_items),
            "local": (s.local_bytes, s.local_total_items),
            "completion": completion,
        }
    devices = {}
    for dc in config.devices:
        if dc.device_id == status.my_id:
            continue
        conn = conns.connections[dc.device_id]
        devices[dc.device_id] = {
            "name": dc.name,
            "paused": dc.paused,
            "connected": conn.connected,
            "address": conn.address if conn.connected else "",
        }
    system = {"my_id": status.my_id, "start_time": status.start_time, "version": version.version}
    return {"folders": folders, "devices": devices, "system": system}


def mirrored_state(mirror: StateMirror) -> dict[str, Any]:
    """The same picture, read from the mirror only."""
    folders = {
        f.id: {
            "label": f.label,
            "paused": f.paused,
            "devices": sorted(f.devices),
            "state": f.state,
            "error": f.error,
            "errors": f.errors,
            "need": (f.need_bytes, f.need_items, f.need_deletes),
            "global": (f.global_bytes, f.global_items),
            "local": (f.local_bytes, f.local_items),
            "completion": {
                dev: (c.completion, c.need_bytes, c.need_items, c.need_deletes, c.global_items)
                for dev, c in f.completion.items()
            },
        }
        for f in mirror.folders.values()
    }
    devices = {
        d.id: {"name": d.name, "paused": d.paused, "connected": d.connected, "address": d.address}
        for d in mirror.devices.values()
    }
    sys_ = mirror.system
    assert sys_ is not None
    system = {"my_id": sys_.my_id, "start_time": sys_.start_time, "version": sys_.version}
    return {"folders": folders, "devices": devices, "system": system}


async def assert_mirror_matches(
    mirror: StateMirror,
    client: SyncthingClient,
    *,
    timeout: float = 45.0,
    extra: Callable[[], bool] = lambda: True,
) -> None:
    """Events arrive with a short delay: the mirror must equal a fresh fetch once things settle."""
    last: tuple[dict[str, Any], dict[str, Any]] | None = None
    with anyio.move_on_after(timeout):
        while True:
            try:
                fresh = await fetched_state(client)
            except SyncthingConnectionError:  # the daemon is restarting
                await anyio.sleep(0.25)
                continue
            mirrored = mirrored_state(mirror)
            if fresh == mirrored and extra():
                return
            last = (mirrored, fresh)
            await anyio.sleep(0.25)
    assert last is not None
    assert last[0] == last[1]
    raise AssertionError("extra condition not met")


async def test_mirror_follows_sync_and_restart(make_daemon: Callable[..., SyncthingDaemon]) -> None:
    a = make_daemon(start=False, auto_restart=True, reconnect_interval_s=2)
    b = make_daemon(start=False, reconnect_interval_s=2)
    pair(a, b, FOLDER, a.data_dir / FOLDER, b.data_dir / FOLDER)
    write_files(b.data_dir / FOLDER, {"seed.txt": b"seed"})
    await anyio.to_thread.run_sync(a.start)
    await anyio.to_thread.run_sync(b.start)
    await anyio.to_thread.run_sync(wait_connected, a, b)
    baseline = asyncio.all_tasks()

    changes: list[MirrorChange] = []
    async with (
        SyncthingClient(a.url, a.api_key) as ca,
        SyncthingClient(b.url, b.api_key) as cb,
        StateMirror(ca, poll_timeout=5) as mirror,
    ):
        unsubscribe = mirror.subscribe(changes.append)
        assert mirror.ready and mirror.available
        assert mirror.resync_count == 1
        assert mirror.system is not None and mirror.system.my_id == a.device_id
        assert mirror.system.uptime >= 0
        assert set(mirror.devices) == {b.device_id}
        # The mirror's task and its structured children (listener, poll, state follower).
        assert 1 <= len(library_tasks(baseline)) <= 4
        await assert_mirror_matches(mirror, ca)

        # 1) A sync: B gets new files, A pulls them. Only events keep the mirror current.
        files = {f"dir/f{i}.bin": os.urandom(300_000) for i in range(10)}
        write_files(b.data_dir / FOLDER, files)
        await cb.db.scan(folder=FOLDER)
        await wait_for_sync(cb, FOLDER, a.device_id, timeout=60)
        await assert_mirror_matches(mirror, ca, extra=lambda: mirror.is_in_sync(FOLDER, b.device_id))
        assert mirror.resync_count == 1, "events alone kept the mirror current"
        assert mirror.is_in_sync(FOLDER) and mirror.is_in_sync(FOLDER, b.device_id)
        view = mirror.folders[FOLDER]
        assert view.state is FolderState.IDLE and view.local_items >= len(files) + 2
        assert any(c.kind == "folder" and c.id == FOLDER for c in changes)
        for rel, content in files.items():
            assert (a.data_dir / FOLDER / rel).read_bytes() == content

        # 2) A restart through REST: new process, event ids start again -> StreamReset -> resync.
        old_start = mirror.system.start_time
        changes.clear()
        await ca.system.restart()
        await assert_mirror_matches(
            mirror,
            ca,
            timeout=60,
            extra=lambda: (
                mirror.system is not None
                and mirror.system.start_time != old_start
                and mirror.devices[b.device_id].connected
            ),
        )
        assert mirror.resync_count >= 2
        assert mirror.connection_state is ConnectionState.CONNECTED
        assert any(c.kind == "resync" for c in changes)
        assert any(c.kind == "connection" for c in changes)  # it saw the outage
        assert mirror.is_in_sync(FOLDER)
        # Let the new connection settle (Syncthing 1.29 stopped right after connecting hangs ~10 s).
        if await ca.get_syncthing_version() >= "1.20.0":
            with anyio.fail_after(30):
                while (await ca.db.completion(folder=FOLDER, device=b.device_id)).remote_state != "valid":
                    await anyio.sleep(0.05)

        unsubscribe()
        unsubscribe()  # idempotent
    assert not mirror.running
    await asyncio.sleep(0)
    assert asyncio.all_tasks() == baseline
