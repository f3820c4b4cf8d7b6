"""A chat-bot notifier: a message when a folder finishes syncing or a device disconnects.

The "chat" is stdout here; replace :meth:`Notifier.send` with your chat API call. It follows a
:class:`~syncthing_async.mirror.StateMirror`, so it keeps working through reconnects and
Syncthing restarts (a restart resyncs the mirror; nothing is announced twice)::

    SYNCTHING_API_KEY=... python examples/chat_bot_notifier.py --url http://127.0.0.1:8384
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Awaitable, Callable

from syncthing_async import SyncthingClient, SyncthingError
from syncthing_async.mirror import FolderView, MirrorChange, StateMirror
from syncthing_async.models.db import FolderState


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


_PULL_STATES = frozenset({FolderState.SYNC_WAITING, FolderState.SYNC_PREPARING, FolderState.SYNCING})


def _pulling(view: FolderView) -> bool:
    """Syncing, or knowing it needs something (a scan alone does not count)."""
    return bool(view.need_items or view.need_bytes or view.need_deletes) or view.state in _PULL_STATES


class Notifier:
    """Turns mirror changes into chat messages (edge-triggered, one per transition)."""

    def __init__(self, mirror: StateMirror, send: Callable[[str], Awaitable[None]] | None = None) -> None:
        self.mirror = mirror
        self._send = send
        self._syncing: dict[str, int] = {}
        """Folders being synced -> the most bytes they needed meanwhile."""
        self._connected: dict[str, bool] = {}

    async def send(self, text: str) -> None:
        if self._send is not None:
            await self._send(text)
        else:
            print(text, flush=True)

    def remember(self) -> None:
        """Take the current state as known (no messages for how things already are)."""
        for folder_id, view in self.mirror.folders.items():
            if _pulling(view):
                self._syncing[folder_id] = view.need_bytes
        for dev_id, dev in self.mirror.devices.items():
            self._connected[dev_id] = dev.connected

    async def on_change(self, change: MirrorChange) -> None:
        mirror = self.mirror
        folder_ids = [change.id] if change.kind == "folder" and change.id else []
        device_ids = [change.id] if change.kind == "device" and change.id else []
        if change.kind == "resync":
            folder_ids, device_ids = list(mirror.folders), list(mirror.devices)
        for folder_id in folder_ids:
            view = mirror.folders.get(folder_id)
            if view is None:
                self._syncing.pop(folder_id, None)
                continue
            if _pulling(view):
                self._syncing[folder_id] = max(self._syncing.get(folder_id, 0), view.need_bytes)
            elif view.in_sync and folder_id in self._syncing:
                moved = self._syncing.pop(folder_id)
                extra = f" ({_size(moved)} pulled)" if moved else ""
                await self.send(f"✅ Folder '{view.label or folder_id}' finished syncing{extra}.")
        for dev_id in device_ids:
            dev = mirror.devices.get(dev_id)
            if dev is None:
                self._connected.pop(dev_id, None)
                continue
            was_connected = self._connected.get(dev_id, False)
            self._connected[dev_id] = dev.connected
            if was_connected and not dev.connected:
                await self.send(f"⚠️ Device '{dev.name or dev_id[:7]}' disconnected.")
            elif dev.connected and not was_connected:
                await self.send(f"🔌 Device '{dev.name or dev_id[:7]}' connected ({dev.address}).")


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Post a chat message (stdout) when a folder finishes syncing or a device disconnects."
    )
    parser.add_argument("--url", default=os.environ.get("SYNCTHING_URL", "http://127.0.0.1:8384"))
    parser.add_argument(
        "--api-key", default=None, help="API key (default: the SYNCTHING_API_KEY environment variable)"
    )
    parser.add_argument("--duration", type=float, default=None, help="seconds to run (default: until Ctrl-C)")
    args = parser.parse_args(argv)
    api_key = args.api_key or os.environ.get("SYNCTHING_API_KEY")

    async with SyncthingClient(args.url, api_key) as client:
        mirror = StateMirror(client)
        notifier = Notifier(mirror)
        try:
            await mirror.start()
        except SyncthingError as err:
            print(f"cannot follow Syncthing at {args.url}: {err}", file=sys.stderr)
            return 1
        try:
            notifier.remember()
            mirror.subscribe(notifier.on_change)
            system = mirror.system
            who = system.my_id[:7] if system else "?"
            print(
                f"🤖 Watching Syncthing {who}: {len(mirror.folders)} folders, {len(mirror.devices)} devices."
            )
            print("ready", flush=True)
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(args.duration if args.duration is not None else float("inf"))
        finally:
            await mirror.stop()
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(main()))
