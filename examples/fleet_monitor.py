"""A fleet monitor: many Syncthing instances watched from one process.

One shared ``aiohttp.ClientSession``, one :class:`~syncthing_async.mirror.StateMirror` per
instance (each a single background task following events), change lines as they happen and a
summary table every ``--interval`` seconds, read from the mirrors (no polling of Syncthing).

Instances come from ``--instance NAME=URL`` (key from ``SYNCTHING_API_KEY_<NAME>`` or
``SYNCTHING_API_KEY``) and/or ``--config fleet.json``: ``[{"name": ..., "url": ...,
"api_key": ...}, ...]``::

    python examples/fleet_monitor.py --config fleet.json --interval 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import anyio

from syncthing_async import SyncthingClient, SyncthingError
from syncthing_async.mirror import MirrorChange, StateMirror


@dataclass
class Instance:
    name: str
    url: str
    api_key: str | None = field(repr=False, default=None)
    mirror: StateMirror | None = None
    error: str = ""


def _uptime(seconds: float) -> str:
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h" if days else f"{hours:02d}:{minutes:02d}:{sec:02d}"


def summary_table(instances: list[Instance]) -> str:
    """One line per instance: version, uptime, folders in sync, devices connected, link state."""
    rows = [("INSTANCE", "DEVICE", "VERSION", "UPTIME", "IN SYNC", "CONNECTED", "LINK")]
    for inst in instances:
        mirror = inst.mirror
        if mirror is None or mirror.system is None:
            rows.append((inst.name, "-", "-", "-", "-", "-", inst.error or "starting"))
            continue
        folders = mirror.folders
        devices = mirror.devices
        in_sync = sum(1 for f in folders.values() if f.in_sync)
        connected = sum(1 for d in devices.values() if d.connected)
        rows.append(
            (
                inst.name,
                mirror.system.my_id[:7],
                mirror.system.version,
                _uptime(mirror.system.uptime),
                f"{in_sync}/{len(folders)}",
                f"{connected}/{len(devices)}",
                str(mirror.connection_state),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)


def describe(inst: Instance, change: MirrorChange) -> str | None:
    """A one-line description of a change worth logging (None for noise)."""
    mirror = inst.mirror
    if mirror is None:
        return None
    if change.kind == "folder" and change.id is not None:
        view = mirror.folders.get(change.id)
        if view is None:
            return f"[{inst.name}] folder {change.id} removed"
        need = f", needs {view.need_items} items" if view.need_items else ""
        return f"[{inst.name}] folder {view.label or view.id}: {view.state.value or 'paused'}{need}"
    if change.kind == "device" and change.id is not None:
        dev = mirror.devices.get(change.id)
        if dev is None:
            return f"[{inst.name}] device {change.id[:7]} removed"
        link = "connected" if dev.connected else "disconnected"
        return f"[{inst.name}] device {dev.name or dev.id[:7]}: {link}{' (paused)' if dev.paused else ''}"
    if change.kind in ("connection", "resync"):
        return f"[{inst.name}] {change.kind}: {mirror.connection_state}"
    return None


async def watch(inst: Instance, session: aiohttp.ClientSession, retry: float, quiet: bool) -> None:
    """Follow one instance until cancelled; retry the first connection every ``retry`` s."""
    async with SyncthingClient(inst.url, inst.api_key, session=session) as client:
        mirror = StateMirror(client)
        while True:
            try:
                await mirror.start()
                break
            except SyncthingError as err:
                inst.error = f"unreachable: {type(err).__name__}"
                print(f"[{inst.name}] {err}; retrying in {retry:g} s", flush=True)
                await anyio.sleep(retry)
        inst.mirror, inst.error = mirror, ""
        if not quiet:

            def log(change: MirrorChange) -> None:
                line = describe(inst, change)
                if line:
                    print(line, flush=True)

            mirror.subscribe(log)
        try:
            await anyio.sleep_forever()
        finally:
            with anyio.CancelScope(shield=True):
                await mirror.stop()


def load_instances(config: Path | None, specs: list[str]) -> list[Instance]:
    instances: list[Instance] = []
    if config is not None:
        for item in json.loads(config.read_text()):
            instances.append(Instance(item["name"], item["url"], item.get("api_key")))
    for spec in specs:
        name, sep, url = spec.partition("=")
        if not sep or not name or not url:
            raise SystemExit(f"--instance wants NAME=URL, not {spec!r}")
        env_key = "SYNCTHING_API_KEY_" + "".join(c if c.isalnum() else "_" for c in name.upper())
        instances.append(Instance(name, url, os.environ.get(env_key) or os.environ.get("SYNCTHING_API_KEY")))
    return instances


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Watch many Syncthing instances from one process.")
    parser.add_argument("--config", type=Path, help="JSON list of {name, url, api_key}")
    parser.add_argument(
        "--instance", action="append", default=[], metavar="NAME=URL", help="repeatable; key from env"
    )
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between summary tables")
    parser.add_argument("--retry", type=float, default=10.0, help="seconds between connection attempts")
    parser.add_argument("--duration", type=float, default=None, help="seconds to run (default: until Ctrl-C)")
    parser.add_argument("--quiet", action="store_true", help="only the summary tables")
    args = parser.parse_args(argv)
    instances = load_instances(args.config, args.instance)
    if not instances:
        parser.error("no instances: give --config and/or --instance")

    # One connection pool for the whole fleet; one watcher task per instance.
    async with aiohttp.ClientSession() as session, anyio.create_task_group() as tg:
        for inst in instances:
            tg.start_soon(watch, inst, session, args.retry, args.quiet, name=f"watch-{inst.name}")
        with anyio.move_on_after(args.duration):
            while True:
                await anyio.sleep(args.interval)
                print(summary_table(instances), flush=True)
        print(summary_table(instances), flush=True)  # the last picture, still live
        tg.cancel_scope.cancel()
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(main()))
