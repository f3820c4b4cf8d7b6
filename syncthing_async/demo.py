"""The live demo behind ``syncthing-async demo`` (and ``bash scripts/demo.sh``).

With no Syncthing given, it starts two throwaway instances on 127.0.0.1, pairs them, shares a
folder, writes files on one side and shows the other side's live event stream and a progress bar
until the folder is in sync; then it stops everything it started. Pointed at your Syncthing
(``--url`` or ``SYNCTHING_URL``), it shows that instance live instead.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from ._client import SyncthingClient
from ._helpers import SyncProgress
from .models.events import EventsSkipped, StreamReset

__all__ = ["progress_bar", "run_demo"]

_SHOWN = frozenset(
    {
        "ItemStarted",
        "ItemFinished",
        "StateChanged",
        "FolderCompletion",
        "FolderSummary",
        "LocalIndexUpdated",
        "RemoteIndexUpdated",
        "DeviceConnected",
        "DeviceDisconnected",
    }
)


def _say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _describe(item: Any) -> str:
    if isinstance(item, (EventsSkipped, StreamReset)):
        return f"  !! {item!r}"
    d = item.data
    name = item.type
    if name in ("ItemStarted", "ItemFinished"):
        extra = f" error={d.error}" if name == "ItemFinished" and d.error else ""
        return f"  #{item.id:<4} {name:<18} {d.folder}/{d.item} ({d.action}){extra}"
    if name == "StateChanged":
        return f"  #{item.id:<4} {name:<18} {d.folder}: {d.from_} -> {d.to}"
    if name == "FolderCompletion":
        return f"  #{item.id:<4} {name:<18} {d.folder} on {d.device[:7]}: {d.completion:.1f}%"
    if name == "FolderSummary":
        s = d.summary
        return f"  #{item.id:<4} {name:<18} {d.folder}: {s.state}, need {s.need_files} files"
    if name in ("LocalIndexUpdated", "RemoteIndexUpdated"):
        return f"  #{item.id:<4} {name:<18} {d.folder}: {d.items} items"
    return f"  #{item.id:<4} {name}"


async def _overview(client: SyncthingClient) -> list[str]:
    status = await client.system.status()
    version = await client.system.version()
    _say(f"device   {status.my_id}")
    _say(f"version  {version.version} ({version.os}/{version.arch}), up {status.uptime} s")
    folders = await client.config.folders.list()
    for f in folders:
        state = "paused" if f.paused else (await client.db.status(folder=f.id)).state
        _say(f"folder   {f.id:<12} {state!s:<10} {f.path}")
    for dev in await client.config.devices.list():
        if dev.device_id != status.my_id:
            _say(f"device   {dev.device_id[:7]}  {dev.name or '-'}")
    return [f.id for f in folders]


def progress_bar(fraction: float, width: int = 30) -> str:
    """A text progress bar: ``[#####.....]  50.0%``."""
    done = round(max(0.0, min(1.0, fraction)) * width)
    return "[" + "#" * done + "." * (width - done) + f"] {fraction * 100:5.1f}%"


async def _watch(client: SyncthingClient, seconds: float) -> None:
    _say("\nlive events (Ctrl-C to stop):")
    with anyio.move_on_after(seconds or None):
        async with client.events.stream(types=_SHOWN) as stream:
            async for item in stream:
                _say(_describe(item))


async def _two_instances(seconds: float, files: int) -> int:
    from .testing.daemon import BINARIES, SyncthingDaemon, pair

    version = "1.29.5" if BINARIES["1.29.5"].exists() else "1.19.2"
    base = Path(tempfile.mkdtemp(prefix="syncthing-async-demo-"))
    a = SyncthingDaemon(version, base_dir=base, name="alice")
    b = SyncthingDaemon(version, base_dir=base, name="bob")
    try:
        _say(f"starting two throwaway Syncthing {version} instances on 127.0.0.1 ...")
        await anyio.to_thread.run_sync(a.start)
        await anyio.to_thread.run_sync(b.start)
        path_a, path_b = a.data_dir / "demo", b.data_dir / "demo"
        await anyio.to_thread.run_sync(lambda: pair(a, b, "demo", path_a, path_b))
        async with (
            SyncthingClient(a.url, a.api_key) as alice,
            SyncthingClient(b.url, b.api_key) as bob,
        ):
            _say("\nalice:")
            await _overview(alice)
            _say("\nbob:")
            await _overview(bob)
            async with bob.events.stream(types=_SHOWN) as stream:
                _say(f"\nwriting {files} files on alice; bob's live event stream:")
                await anyio.to_thread.run_sync(_write_files, path_a, files)
                await alice.db.scan(folder="demo")
                with anyio.fail_after(seconds or 120):
                    async for item in stream:
                        _say(_describe(item))
                        if await _in_sync(bob, path_b, files):
                            break
                with anyio.move_on_after(2):  # the tail logged while we checked
                    async for item in stream:
                        _say(_describe(item))
            _say("")
            summary = await bob.db.status(folder="demo")
            files_bytes = f"{summary.local_files} files, {summary.local_bytes} bytes"
            _say(f"bob: {progress_bar(1.0)} {files_bytes}: in sync")
        return 0
    except TimeoutError:
        _say("the folder did not get in sync in time")
        return 1
    finally:
        _say("stopping the throwaway instances ...")
        await anyio.to_thread.run_sync(a.close)
        await anyio.to_thread.run_sync(b.close)
        # each instance removed its own home; the folder holding both goes too
        await anyio.to_thread.run_sync(lambda: shutil.rmtree(base, ignore_errors=True))


def _write_files(path: Path, files: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        (path / f"file-{i:03d}.txt").write_bytes(os.urandom(2048) * (i + 1))


async def _in_sync(client: SyncthingClient, path: Path, files: int) -> bool:
    s = await client.db.status(folder="demo")
    progress = SyncProgress.from_summary("demo", s)  # the one place progress is computed
    _say(f"  bob {progress_bar(progress.completion / 100)}  state={s.state}")
    return s.local_files >= files and progress.done


async def run_demo(client: SyncthingClient | None, *, seconds: float = 0, files: int = 20) -> int:
    """Run the demo against ``client`` or, when None, two throwaway local instances."""
    if client is None:
        return await _two_instances(seconds, files)
    _say(f"connected to {client.url}")
    await _overview(client)
    await _watch(client, seconds)
    return 0
