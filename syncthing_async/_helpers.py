"""Race-free waiting helpers built on the event stream: wait until idle, until synced, scan and wait.

Every helper follows the same order, so no change can slip between reading and waiting:

1. **subscribe**: note the newest event id of Syncthing's default subscription (which keeps the
   last 1000 events since the process started) and open a stream from exactly there;
2. **read** the current state (``/rest/db/status`` or ``/rest/db/completion``);
3. **act** (e.g. ``POST /rest/db/scan``), then **wait** on events, re-reading the state after an
   ``EventsSkipped`` or ``StreamReset`` marker.

Timeouts raise :class:`~syncthing_async.SyncthingTimeoutError`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from ._deviceid import DeviceID, to_device_id_str
from ._exceptions import SyncthingTimeoutError
from .events import Backoff, ConnectionState, EventStream
from .events._stream import TypesArg
from .models.db import Completion, FolderState
from .models.events import EventsSkipped, StreamReset

if TYPE_CHECKING:
    from ._client import SyncthingClient

__all__ = [
    "ProgressCallback",
    "SyncProgress",
    "open_established_stream",
    "scan",
    "scan_and_wait",
    "wait_for_idle",
    "wait_for_sync",
]

T = TypeVar("T")

ProgressCallback = Callable[["SyncProgress"], Awaitable[None] | None]
"""Gets a :class:`SyncProgress` on every change seen while waiting; may be sync or async."""


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """How far a folder is synced: locally (``device`` None) or on a remote ``device``."""

    folder: str
    device: str | None
    completion: float
    """Percent, 0-100."""
    need_bytes: int
    need_items: int
    need_deletes: int
    global_bytes: int
    global_items: int
    state: FolderState | None = None
    """The local folder state (only when ``device`` is None)."""
    sequence: int = 0
    """With ``device``: the newest index sequence this Syncthing has from that device."""
    remote_state: str = ""
    """With ``device``: ``valid``, ``paused``, ``notSharing`` or ``unknown`` (v1.20.0+)."""

    @property
    def done(self) -> bool:
        """True when nothing is left to sync (and, locally, the folder is idle)."""
        if self.need_bytes or self.need_items or self.need_deletes:
            return False
        if self.device is None:
            return self.state is FolderState.IDLE
        # Syncthing reports 100 % for a device it never got an index from (sequence 0):
        # such a device holds none of the global items yet.
        return self.completion >= 100.0 and (self.sequence > 0 or self.global_items == 0)

    @classmethod
    def from_summary(cls, folder: str, summary: Any) -> SyncProgress:
        """From a FolderSummary (``/rest/db/status`` or the ``FolderSummary`` event's summary)."""
        global_bytes = int(summary.global_bytes)
        need_bytes = int(summary.need_bytes)
        pct = 100.0 if global_bytes <= 0 else 100.0 * (1.0 - need_bytes / global_bytes)
        state = summary.state
        return cls(
            folder=folder,
            device=None,
            completion=max(0.0, min(100.0, pct)),
            need_bytes=need_bytes,
            need_items=int(summary.need_total_items),
            need_deletes=int(summary.need_deletes),
            global_bytes=global_bytes,
            global_items=int(summary.global_total_items),
            state=state if isinstance(state, FolderState) else FolderState(state),
        )

    @classmethod
    def from_completion(cls, folder: str, device: str, completion: Any) -> SyncProgress:
        """From a Completion (``/rest/db/completion`` or the ``FolderCompletion`` event)."""
        return cls(
            folder=folder,
            device=device,
            completion=float(completion.completion),
            need_bytes=int(completion.need_bytes),
            need_items=int(completion.need_items),
            need_deletes=int(completion.need_deletes),
            global_bytes=int(completion.global_bytes),
            global_items=int(completion.global_items),
            sequence=int(completion.sequence),
            remote_state=str(getattr(completion, "remote_state", "") or ""),
        )


async def open_established_stream(
    client: SyncthingClient,
    types: TypesArg = None,
    *,
    poll_timeout: int = 60,
    backoff: Backoff | None = None,
    on_state: Callable[[ConnectionState], None] | None = None,
) -> EventStream:
    """An event stream that yields every event Syncthing logs after this call returns.

    It starts at the newest id of the default subscription (``since=0&limit=1&timeout=0``)
    with a cursor bound to the answering process, so a restart in between becomes a
    ``StreamReset`` instead of silently lost events. Close it (``async with``) when done.
    """
    stream = client.events.stream(types, poll_timeout=poll_timeout, backoff=backoff, on_state=on_state)
    await stream.__aenter__()  # fixes the start (identity + newest id); entering again is a no-op
    return stream


async def _within(timeout: float | None, what: str, fn: Callable[[], Awaitable[T]]) -> T:
    if timeout is not None and (math.isnan(timeout) or timeout < 0):
        raise ValueError("timeout must be None or >= 0")
    with anyio.move_on_after(timeout):
        return await fn()
    raise SyncthingTimeoutError(f"{what} did not happen within {timeout:g} s")


async def _report(progress: ProgressCallback | None, value: SyncProgress) -> None:
    if progress is None:
        return
    result = progress(value)
    if inspect.isawaitable(result):
        await result


def _poll_timeout(timeout: float | None) -> int:
    """A server long-poll no longer than needed (an abandoned poll lingers on the server)."""
    if timeout is None:
        return 60
    return max(1, min(60, math.ceil(timeout) + 1))


async def _until_idle(client: SyncthingClient, folder: str, stream: EventStream) -> None:
    summary = await client.db.status(folder=folder)
    if summary.state is FolderState.IDLE:
        return
    async for item in stream:
        if isinstance(item, (EventsSkipped, StreamReset)):
            summary = await client.db.status(folder=folder)
            if summary.state is FolderState.IDLE:
                return
            continue
        data = item.data
        if data.folder != folder:
            continue
        if item.type == "StateChanged":
            if data.to == FolderState.IDLE:
                return
        elif data.summary.state == FolderState.IDLE:  # FolderSummary
            return
    raise SyncthingTimeoutError("the event stream ended")  # pragma: no cover - closed elsewhere


async def wait_for_idle(client: SyncthingClient, folder: str, *, timeout: float | None = None) -> None:
    """Return once ``folder`` is idle (now, or at some moment after the call).

    Raises NotFoundError for an unknown folder and SyncthingTimeoutError after ``timeout`` s.
    """

    async def run() -> None:
        stream = await open_established_stream(
            client, ("StateChanged", "FolderSummary"), poll_timeout=_poll_timeout(timeout)
        )
        async with stream:
            await _until_idle(client, folder, stream)

    await _within(timeout, f"folder {folder!r} becoming idle", run)


async def wait_for_sync(
    client: SyncthingClient,
    folder: str,
    device: DeviceID | str | None = None,
    *,
    timeout: float | None = None,
    progress: ProgressCallback | None = None,
) -> SyncProgress:
    """Return once ``folder`` is fully synced; the final :class:`SyncProgress`.

    ``device=None``: the local copy needs nothing (``needBytes``/``needItems``/``needDeletes``
    0) and the folder is idle. With ``device``: that remote device's completion of the folder
    (as this Syncthing knows it from the device's index) is 100 %; a device that never sent an
    index for a non-empty folder is not synced (Syncthing itself reports 100 % for it).
    ``progress`` is called with the current progress first and then on every change.
    Raises NotFoundError for an unknown (or, with ``device``, paused) folder,
    InvalidDeviceIDError for a malformed ``device`` and SyncthingTimeoutError after ``timeout`` s.
    """
    dev = None if device is None else to_device_id_str(device)

    async def read() -> SyncProgress:
        if dev is None:
            return SyncProgress.from_summary(folder, await client.db.status(folder=folder))
        comp: Completion = await client.db.completion(folder=folder, device=dev)
        return SyncProgress.from_completion(folder, dev, comp)

    async def run() -> SyncProgress:
        types = ("StateChanged", "FolderSummary") if dev is None else ("FolderCompletion",)
        stream = await open_established_stream(client, types, poll_timeout=_poll_timeout(timeout))
        async with stream:
            current = await read()
            await _report(progress, current)
            if current.done:
                return current
            async for item in stream:
                if isinstance(item, (EventsSkipped, StreamReset)):
                    new = await read()
                else:
                    data = item.data
                    if data.folder != folder:
                        continue
                    if item.type == "FolderSummary":
                        new = SyncProgress.from_summary(folder, data.summary)
                    elif item.type == "FolderCompletion":
                        if data.device != dev:
                            continue
                        new = SyncProgress.from_completion(folder, dev, data)  # type: ignore[arg-type]
                    elif data.to == FolderState.IDLE:  # StateChanged: the summary may lag behind
                        new = await read()
                    else:
                        new = SyncProgress(
                            folder=folder,
                            device=None,
                            completion=current.completion,
                            need_bytes=current.need_bytes,
                            need_items=current.need_items,
                            need_deletes=current.need_deletes,
                            global_bytes=current.global_bytes,
                            global_items=current.global_items,
                            state=FolderState(data.to),
                        )
                if new != current:
                    current = new
                    await _report(progress, current)
                if current.done:
                    return current
            raise SyncthingTimeoutError("the event stream ended")  # pragma: no cover

    where = "locally" if dev is None else f"on {dev[:7]}"
    return await _within(timeout, f"folder {folder!r} being in sync {where}", run)


async def scan(
    client: SyncthingClient,
    folder: str,
    sub: Sequence[str] | str | None = None,
    *,
    wait: bool = False,
    timeout: float | None = None,
) -> None:
    """Rescan ``folder`` (only the paths in ``sub`` if given).

    Syncthing answers ``POST /rest/db/scan`` once the scan pass itself is done. With
    ``wait=True`` this also waits until the folder is idle again (what the scan found, and a
    pull it triggered, are handled); the subscription is opened before the scan is requested,
    so nothing is missed. Raises NotFoundError/ServerError for an unknown or paused folder and
    SyncthingTimeoutError after ``timeout`` seconds.
    """
    subdirs = [sub] if isinstance(sub, str) else (None if sub is None else list(sub))

    async def run() -> None:
        if not wait:
            await client.db.scan(folder=folder, subdirs=subdirs)
            return
        stream = await open_established_stream(
            client, ("StateChanged", "FolderSummary"), poll_timeout=_poll_timeout(timeout)
        )
        async with stream:
            await client.db.scan(folder=folder, subdirs=subdirs)
            await _until_idle(client, folder, stream)

    await _within(timeout, f"scan of folder {folder!r}", run)


async def scan_and_wait(
    client: SyncthingClient,
    folder: str,
    sub: Sequence[str] | str | None = None,
    *,
    timeout: float | None = None,
) -> None:
    """``scan(..., wait=True)``: rescan ``folder`` and return once it is idle again."""
    await scan(client, folder, sub, wait=True, timeout=timeout)
