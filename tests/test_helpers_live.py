"""wait_for_idle / wait_for_sync / scan against two real, paired Syncthing daemons."""

from __future__ import annotations

import os
import time

import anyio
import pytest

from syncthing_async import NotFoundError, SyncthingClient, SyncthingTimeoutError
from syncthing_async._helpers import (
    SyncProgress,
    scan,
    scan_and_wait,
    wait_for_idle,
    wait_for_sync,
)
from syncthing_async.models.db import FolderState
from tests.harness import DaemonPair, write_files

pytestmark = pytest.mark.daemon


async def settle(client: SyncthingClient, folder: str, device: str) -> None:
    """Wait until the peer's ClusterConfig is in (v1.20+: ``remoteState`` valid).

    Syncthing 1.29 stopped within about a second of connecting hangs ~10 s in shutdown.
    """
    if await client.get_syncthing_version() < "1.20.0":
        return
    with anyio.fail_after(30):
        while (await client.db.completion(folder=folder, device=device)).remote_state != "valid":
            await anyio.sleep(0.05)


def _files(prefix: str, count: int, size: int) -> dict[str, bytes]:
    return {f"{prefix}/f{i:03d}.bin": os.urandom(size) for i in range(count)}


async def test_wait_for_sync_on_device_times_out_then_completes(daemon_pair: DaemonPair) -> None:
    a, b, folder, path_a, path_b = daemon_pair
    files = _files("batch", 12, 200_000)
    async with SyncthingClient(a.url, a.api_key) as ca:
        # B is down: A adds files and knows that B lacks them, so B's completion stays < 100.
        await settle(ca, folder, b.device_id)
        await anyio.to_thread.run_sync(b.stop)
        write_files(path_a, files)
        await scan_and_wait(ca, folder, timeout=30)
        status = await ca.db.status(folder=folder)
        assert status.local_files >= len(files)
        assert status.state is FolderState.IDLE

        started = time.monotonic()
        with pytest.raises(SyncthingTimeoutError):
            await wait_for_sync(ca, folder, b.device_id, timeout=2)
        assert 1.9 <= time.monotonic() - started < 10

        # The wait starts while B is still down, and B is started only after its first progress
        # report: so that report is taken before B can copy anything (a fact, not a race with
        # how fast B connects and pulls on a loaded machine).
        seen: list[SyncProgress] = []
        first_report = anyio.Event()
        results: list[SyncProgress] = []

        def on_progress(p: SyncProgress) -> None:
            seen.append(p)
            first_report.set()

        async def wait() -> None:
            results.append(
                await wait_for_sync(ca, folder, b.device_id.lower(), timeout=90, progress=on_progress)
            )

        async with anyio.create_task_group() as tg:
            tg.start_soon(wait)
            with anyio.fail_after(30):
                await first_report.wait()
            assert not seen[0].done  # B is down and lacks the files: it really has to wait
            await anyio.to_thread.run_sync(b.start)
        final = results[0]

    assert final.done and final.completion == 100.0
    assert final.device == b.device_id
    assert final.need_bytes == 0 and final.need_items == 0
    assert not seen[0].done
    assert seen[-1] == final
    for rel, content in files.items():  # B really has every file
        assert (path_b / rel).read_bytes() == content


async def test_wait_for_sync_local_and_idle(daemon_pair: DaemonPair) -> None:
    a, b, folder, path_a, path_b = daemon_pair
    files = _files("local", 8, 500_000)
    async with (
        SyncthingClient(a.url, a.api_key) as ca,
        SyncthingClient(b.url, b.api_key) as cb,
    ):
        write_files(path_a, files)
        await scan(ca, folder, "local", wait=True, timeout=30)
        # Wait until B has heard of the new files (its global index counts them) ...
        with anyio.fail_after(60):
            while (await cb.db.status(folder=folder)).global_files < len(files):
                await anyio.sleep(0.05)
        # ... then B's local wait must only return once every one of them is on disk.
        seen: list[SyncProgress] = []
        final = await wait_for_sync(cb, folder, timeout=90, progress=seen.append)
        assert final.done and final.state is FolderState.IDLE and final.device is None
        for rel, content in files.items():
            assert (path_b / rel).read_bytes() == content
        fresh = await cb.db.status(folder=folder)
        assert fresh.need_total_items == 0 and fresh.need_bytes == 0
        assert seen and seen[-1] == final

        await wait_for_idle(cb, folder, timeout=10)  # idle now: returns at once
        with pytest.raises(NotFoundError):
            await wait_for_sync(ca, "no-such-folder", timeout=5)
        with pytest.raises(NotFoundError):
            await wait_for_idle(ca, "no-such-folder", timeout=5)
