"""StateMirror: a live, typed copy of one Syncthing's folders, devices and system state.

Kept current from the event stream, with full snapshots only when needed:

* at start, **after** the event stream is established (so nothing between the snapshot and
  the first event is lost; events older than the snapshot just replay into the same state);
* after an ``EventsSkipped`` marker (events were lost) or a ``StreamReset`` (Syncthing
  restarted), and after a connection failure that the stream could not ride out.

Once the client (or the aiohttp session lent to it) is closed, the mirror stops by itself with
``connection_state`` ``CLOSED``; the last views stay readable.

Everything runs in **one** owned task (``start()``/``stop()``, ``async with``, or ``await
mirror.run()`` inside your own task group). Views are immutable structs, replaced on change;
``subscribe(callback)`` reports each change as a :class:`MirrorChange`. This is what an
integration needs instead of polling the expensive ``/rest/db/status`` every few minutes::

    async with StateMirror(client) as mirror:
        print(mirror.folders["default"].state, mirror.is_in_sync("default"))
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

import anyio
import msgspec

from ._exceptions import (
    AuthenticationError,
    NotFoundError,
    SyncthingAPIError,
    SyncthingClosedError,
    SyncthingError,
)
from ._helpers import open_established_stream
from .events import Backoff, ConnectionState, EventCursor
from .events._stream import describe_failure
from .models.config import Configuration, FolderConfig
from .models.db import Completion, FileError, FolderState, FolderSummary
from .models.events import Event, EventsSkipped, StreamReset, UnknownEvent

if TYPE_CHECKING:
    from ._client import SyncthingClient

__all__ = [
    "ChangeCallback",
    "ChangeKind",
    "DeviceCompletion",
    "DeviceView",
    "FolderView",
    "MirrorChange",
    "StateMirror",
    "SystemView",
]

_LOG = logging.getLogger("syncthing_async.mirror")

_TYPES = (
    "StateChanged",
    "FolderSummary",
    "FolderCompletion",
    "FolderErrors",
    "FolderPaused",
    "FolderResumed",
    "DeviceConnected",
    "DeviceDisconnected",
    "DevicePaused",
    "DeviceResumed",
    "ConfigSaved",
)

ChangeKind = Literal["folder", "device", "system", "resync", "connection"]


# --------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------


class DeviceCompletion(msgspec.Struct, frozen=True, kw_only=True):
    """How complete a remote device's copy of a folder is, as this Syncthing knows it."""

    completion: float = 0.0
    """Percent, 0-100 (Syncthing reports 100 for a device it has no index from: see ``done``)."""
    need_bytes: int = 0
    need_items: int = 0
    need_deletes: int = 0
    global_bytes: int = 0
    global_items: int = 0
    sequence: int = 0
    """Newest index sequence received from the device (0: none yet)."""
    remote_state: str = ""
    """``valid``, ``paused``, ``notSharing`` or ``unknown`` (v1.20.0+; empty before)."""

    @property
    def done(self) -> bool:
        """The device has everything (and has told us so through its index)."""
        if self.need_bytes or self.need_items or self.need_deletes:
            return False
        return self.completion >= 100.0 and (self.sequence > 0 or self.global_items == 0)


class FolderView(msgspec.Struct, frozen=True, kw_only=True):
    """One folder: configuration, state, counters, errors and completion per remote device."""

    id: str
    label: str = ""
    path: str = ""
    type: str = ""
    paused: bool = False
    devices: tuple[str, ...] = ()
    """Remote devices the folder is shared with."""
    state: FolderState = FolderState.UNKNOWN
    state_changed: datetime | None = None
    error: str = ""
    """The folder's error (state ``error``), empty when none."""
    watch_error: str = ""
    errors: int = 0
    """Number of items that failed to sync."""
    pull_errors: tuple[FileError, ...] = ()
    need_bytes: int = 0
    need_items: int = 0
    need_deletes: int = 0
    global_bytes: int = 0
    global_items: int = 0
    local_bytes: int = 0
    local_items: int = 0
    in_sync_bytes: int = 0
    sequence: int = 0
    completion: Mapping[str, DeviceCompletion] = msgspec.field(default_factory=dict)
    """Remote device ID -> completion of this folder on that device."""

    @property
    def in_sync(self) -> bool:
        """Idle, needing nothing and without a folder error."""
        return (
            self.state is FolderState.IDLE
            and not self.need_items
            and not self.need_bytes
            and not self.need_deletes
            and not self.error
        )

    @property
    def local_completion(self) -> float:
        """Percent of the global bytes present locally."""
        if self.global_bytes <= 0:
            return 100.0
        return max(0.0, min(100.0, 100.0 * (1.0 - self.need_bytes / self.global_bytes)))


class DeviceView(msgspec.Struct, frozen=True, kw_only=True):
    """One remote device from the configuration, with its connection."""

    id: str
    name: str = ""
    paused: bool = False
    connected: bool = False
    address: str = ""
    """Remote address of the connection (empty when not connected)."""
    client_version: str = ""
    connection_type: str = ""


class SystemView(msgspec.Struct, frozen=True, kw_only=True):
    """The Syncthing process: identity, version and start time."""

    my_id: str
    version: str = ""
    long_version: str = ""
    start_time: datetime
    uptime_at_fetch: int = 0
    fetched_at: float = 0.0
    """``time.monotonic()`` when ``uptime_at_fetch`` was read."""

    @property
    def uptime(self) -> float:
        """Seconds since Syncthing started (measured with this host's monotonic clock)."""
        return self.uptime_at_fetch + max(0.0, time.monotonic() - self.fetched_at)


class MirrorChange(msgspec.Struct, frozen=True):
    """What changed: ``kind`` and the folder or device ``id`` (None for system/resync/connection).

    A folder or device that is no longer in ``mirror.folders``/``mirror.devices`` was removed.
    """

    kind: ChangeKind
    id: str | None = None


ChangeCallback = Callable[[MirrorChange], Awaitable[None] | None]
"""Called for each change, inside the mirror's task; may be sync or async (keep it short)."""


# --------------------------------------------------------------------------------------
# The mirror
# --------------------------------------------------------------------------------------


def _completion(c: Any) -> DeviceCompletion:
    """From a Completion (REST) or FolderCompletion event data."""
    return DeviceCompletion(
        completion=float(c.completion),
        need_bytes=int(c.need_bytes),
        need_items=int(c.need_items),
        need_deletes=int(c.need_deletes),
        global_bytes=int(c.global_bytes),
        global_items=int(c.global_items),
        sequence=int(c.sequence),
        remote_state=str(c.remote_state),
    )


def _summary_fields(s: Any) -> dict[str, Any]:
    """FolderView fields from a FolderSummary (REST) or the FolderSummary event's summary."""
    state = s.state if isinstance(s.state, FolderState) else FolderState(s.state)
    return {
        "state": state,
        "state_changed": s.state_changed,
        "error": s.error or "",
        "watch_error": s.watch_error or "",
        "errors": int(s.errors),
        "need_bytes": int(s.need_bytes),
        "need_items": int(s.need_total_items),
        "need_deletes": int(s.need_deletes),
        "global_bytes": int(s.global_bytes),
        "global_items": int(s.global_total_items),
        "local_bytes": int(s.local_bytes),
        "local_items": int(s.local_total_items),
        "in_sync_bytes": int(s.in_sync_bytes),
        "sequence": int(s.sequence),
    }


class StateMirror:
    """A live copy of one Syncthing's state, kept current from events (see the module doc).

    ``start()`` returns once the first snapshot is in (and raises its error, e.g.
    AuthenticationError, if it failed); later failures are retried in the background with
    ``backoff`` while the last known state stays readable (``connection_state`` says how
    fresh it is).
    """

    def __init__(
        self,
        client: SyncthingClient,
        *,
        poll_timeout: int = 60,
        read_margin: float = 10.0,
        backoff: Backoff | None = None,
    ) -> None:
        self._client = client
        self.poll_timeout = poll_timeout
        self.read_margin = read_margin
        """Seconds a poll may run past ``poll_timeout`` before it counts as lost (see EventStream)."""
        self.backoff = backoff or Backoff(initial=0.5, cap=30.0)
        self._folders: dict[str, FolderView] = {}
        self._devices: dict[str, DeviceView] = {}
        self._system: SystemView | None = None
        self._callbacks: list[ChangeCallback] = []
        self._conn = ConnectionState.DISCONNECTED
        self._ready = anyio.Event()
        self._first_error: BaseException | None = None
        self._task: asyncio.Task[None] | None = None
        self._running = False
        self.resync_count = 0
        """Full snapshots taken so far (1 after start; more after gaps, restarts, failures)."""
        self.last_error: BaseException | None = None
        """The last failure the background task retried after (None after a success)."""

    # -- read API ------------------------------------------------------------------------
    @property
    def folders(self) -> Mapping[str, FolderView]:
        """Folder ID -> :class:`FolderView` (read-only)."""
        return MappingProxyType(self._folders)

    @property
    def devices(self) -> Mapping[str, DeviceView]:
        """Remote device ID -> :class:`DeviceView` (read-only; the local device is not listed)."""
        return MappingProxyType(self._devices)

    @property
    def system(self) -> SystemView | None:
        """The Syncthing process (None before the first snapshot)."""
        return self._system

    @property
    def ready(self) -> bool:
        """True once the first snapshot is in."""
        return self._ready.is_set() and self._system is not None

    @property
    def connection_state(self) -> ConnectionState:
        """State of the event stream behind the mirror."""
        return self._conn

    @property
    def available(self) -> bool:
        """Ready and connected: the views are current."""
        return self.ready and self._conn is ConnectionState.CONNECTED

    @property
    def running(self) -> bool:
        """True while the mirror's task runs."""
        return self._running

    def is_in_sync(self, folder: str, device: str | None = None) -> bool:
        """Is ``folder`` in sync locally (``device`` None) or on remote ``device``?

        Raises KeyError for a folder the mirror does not know.
        """
        view = self._folders[folder]
        if device is None:
            return view.in_sync
        comp = view.completion.get(device)
        return comp is not None and comp.done

    async def wait_ready(self) -> None:
        """Wait for the first snapshot."""
        await self._ready.wait()

    # -- callbacks -----------------------------------------------------------------------
    def subscribe(self, callback: ChangeCallback) -> Callable[[], None]:
        """Call ``callback(change)`` after every change; returns an unsubscribe callable."""
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._callbacks.remove(callback)

        return unsubscribe

    async def _notify(self, changes: Iterable[MirrorChange]) -> None:
        for change in changes:
            for callback in list(self._callbacks):
                try:
                    result = callback(change)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    _LOG.exception("mirror change callback %r failed", callback)

    async def _set_conn(self, state: ConnectionState) -> None:
        if state is not self._conn:
            self._conn = state
            await self._notify([MirrorChange("connection")])

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        """Start the owned task; return after the first snapshot (raising its error)."""
        if self._task is not None and not self._task.done():
            return
        if self._running:
            raise RuntimeError("the mirror is already running via run()")
        self._ready = anyio.Event()
        self._first_error = None
        self._task = asyncio.get_running_loop().create_task(self.run(), name="syncthing-state-mirror")
        waiter = asyncio.ensure_future(self._ready.wait())
        try:
            await asyncio.wait({waiter, self._task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
        error = self._first_error
        if error is None and self._task.done() and not self._task.cancelled():
            error = self._task.exception()
        if error is not None:
            await self.stop()
            raise error

    async def stop(self) -> None:
        """Stop the task and wait for it (idempotent); the last views stay readable."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        await asyncio.wait({task})
        if not task.cancelled() and task.exception() is not None:
            _LOG.error("state mirror task failed", exc_info=task.exception())

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def run(self) -> None:
        """Follow Syncthing in the calling task until cancelled (``start()`` runs this for you)."""
        if self._running:
            raise RuntimeError("the mirror is already running")
        self._running = True
        self._cursor = None
        attempt = 0
        closed = False
        try:
            while True:
                try:
                    await self._follow()
                except SyncthingClosedError as err:
                    self.last_error = err
                    if not self._ready.is_set():  # start() raises it
                        self._first_error = err
                        self._ready.set()
                        return
                    _LOG.info("state mirror stops: the Syncthing client (or its session) was closed")
                    closed = True
                    await self._set_conn(ConnectionState.CLOSED)
                    return
                except SyncthingError as err:
                    self.last_error = err
                    if not self._ready.is_set():  # the first snapshot failed: start() raises it
                        self._first_error = err
                        self._ready.set()
                        return
                    _LOG.warning(
                        "state mirror lost Syncthing at %s: %s; retrying",
                        self._client.url,
                        describe_failure(err, "state"),
                    )
                    _LOG.debug("state mirror failure details: %r", err)
                    auth = isinstance(err, AuthenticationError)
                    await self._set_conn(
                        ConnectionState.AUTH_FAILED if auth else ConnectionState.RECONNECTING
                    )
                else:  # pragma: no cover - the stream only ends when closed
                    return
                if self._connected_once:
                    attempt = 0
                await anyio.sleep(self.backoff.delay(attempt))
                attempt = min(attempt + 1, 32)
        finally:
            self._running = False
            if not closed:
                self._conn = ConnectionState.DISCONNECTED  # not reported: the mirror is stopping

    async def _follow(self) -> None:
        """Open (or resume) the stream, snapshot if needed, then apply events until a failure."""
        self._connected_once = False
        client = self._client
        cursor = self._cursor
        if cursor is None:
            stream = await open_established_stream(client, _TYPES, poll_timeout=self.poll_timeout)
        else:
            await client.system.status()  # reachable again? (raises if not)
            stream = client.events.stream(_TYPES, since=cursor, poll_timeout=self.poll_timeout)
        stream.max_retries = 0  # failures come back here: reported, then resumed from the cursor
        stream.read_margin = self.read_margin
        async with stream:
            if cursor is None:
                await self._resync()
            self._cursor = stream.cursor
            self.last_error = None
            self._connected_once = True
            await self._set_conn(ConnectionState.CONNECTED)
            self._ready.set()
            async for item in stream:
                if isinstance(item, (EventsSkipped, StreamReset)):
                    _LOG.info("state mirror resyncs after %s", item.type)
                    self._cursor = None  # if the snapshot fails, start over with a new one
                    await self._resync()
                elif isinstance(item, UnknownEvent):
                    _LOG.debug("state mirror ignores %r", item)
                else:
                    await self._notify(await self._apply(item))
                self._cursor = stream.cursor

    _connected_once = False
    _cursor: EventCursor | None = None

    # -- snapshots -----------------------------------------------------------------------
    async def _resync(self) -> None:
        client = self._client
        status = await client.system.status()
        version = await client.system.version()
        config = await client.config.get()
        conns = await client.system.connections()
        my_id = status.my_id
        folders: dict[str, FolderView] = {}
        for fc in config.folders:
            folders[fc.id] = await self._fetch_folder(fc, my_id)
        devices: dict[str, DeviceView] = {}
        for dc in config.devices:
            if dc.device_id == my_id:
                continue
            conn = conns.connections.get(dc.device_id)
            devices[dc.device_id] = DeviceView(
                id=dc.device_id,
                name=dc.name,
                paused=dc.paused,
                connected=bool(conn and conn.connected),
                address=conn.address if conn and conn.connected else "",
                client_version=conn.client_version if conn and conn.connected else "",
                connection_type=str(conn.type) if conn and conn.connected else "",
            )
        self._folders = folders
        self._devices = devices
        self._system = SystemView(
            my_id=my_id,
            version=version.version,
            long_version=version.long_version,
            start_time=status.start_time,
            uptime_at_fetch=status.uptime,
            fetched_at=time.monotonic(),
        )
        self._my_id = my_id
        self.resync_count += 1
        await self._notify([MirrorChange("resync")])

    _my_id = ""

    async def _fetch_folder(self, fc: FolderConfig, my_id: str) -> FolderView:
        client = self._client
        remote = tuple(d.device_id for d in fc.devices if d.device_id != my_id)
        base = FolderView(
            id=fc.id, label=fc.label, path=fc.path, type=str(fc.type), paused=fc.paused, devices=remote
        )
        try:
            summary: FolderSummary = await client.db.status(folder=fc.id)
        except NotFoundError:  # removed meanwhile
            return base
        view = msgspec.structs.replace(base, **_summary_fields(summary))
        if fc.paused:
            return view
        completion: dict[str, DeviceCompletion] = {}
        for dev in remote:
            try:
                comp: Completion = await client.db.completion(folder=fc.id, device=dev)
            except SyncthingAPIError:  # paused/stopped folder
                continue
            completion[dev] = _completion(comp)
        pull_errors: tuple[FileError, ...] = ()
        if view.errors:
            with contextlib.suppress(SyncthingAPIError):
                pull_errors = tuple((await client.folder.errors(folder=fc.id)).errors)
        return msgspec.structs.replace(view, completion=completion, pull_errors=pull_errors)

    # -- events --------------------------------------------------------------------------
    def _set_folder(self, view: FolderView) -> list[MirrorChange]:
        if self._folders.get(view.id) == view:
            return []
        self._folders[view.id] = view
        return [MirrorChange("folder", view.id)]

    def _set_device(self, view: DeviceView) -> list[MirrorChange]:
        if self._devices.get(view.id) == view:
            return []
        self._devices[view.id] = view
        return [MirrorChange("device", view.id)]

    async def _apply(self, ev: Event[Any]) -> list[MirrorChange]:
        kind = ev.type
        data = ev.data
        replace = msgspec.structs.replace
        if kind == "ConfigSaved":
            return await self._reconcile_config()
        if kind.startswith("Device"):
            dev_id = data.device if kind in ("DevicePaused", "DeviceResumed") else data.id
            device = self._devices.get(dev_id)
            if device is None:
                return []
            if kind == "DeviceConnected":
                device = replace(
                    device,
                    connected=True,
                    address=data.addr,
                    client_version=data.client_version,
                    connection_type=data.type,
                )
            elif kind == "DeviceDisconnected":
                device = replace(device, connected=False, address="", client_version="", connection_type="")
            else:
                device = replace(device, paused=kind == "DevicePaused")
            return self._set_device(device)
        folder_id = data.id if kind in ("FolderPaused", "FolderResumed") else data.folder
        folder = self._folders.get(folder_id)
        if folder is None:
            return []
        if kind == "StateChanged":
            state = FolderState(data.to)
            error = (data.error or "") if state is FolderState.ERROR else ""
            return self._set_folder(replace(folder, state=state, state_changed=ev.time, error=error))
        if kind == "FolderSummary":
            fields = _summary_fields(data.summary)
            if not fields["errors"]:
                fields["pull_errors"] = ()
            return self._set_folder(replace(folder, **fields))
        if kind == "FolderCompletion":
            completion = dict(folder.completion)
            completion[data.device] = _completion(data)
            return self._set_folder(replace(folder, completion=completion))
        if kind == "FolderErrors":
            errors = tuple(FileError(path=e.path, error=e.error) for e in data.errors or ())
            return self._set_folder(replace(folder, errors=len(errors), pull_errors=errors))
        # FolderPaused / FolderResumed: the whole folder changes (counters, completion).
        config = await self._client.config.folders.get(folder_id=folder_id)
        return self._set_folder(await self._fetch_folder(config, self._my_id))

    async def _reconcile_config(self) -> list[MirrorChange]:
        config: Configuration = await self._client.config.get()
        my_id = self._my_id
        changes: list[MirrorChange] = []
        replace = msgspec.structs.replace
        seen: set[str] = set()
        for fc in config.folders:
            seen.add(fc.id)
            old = self._folders.get(fc.id)
            remote = tuple(d.device_id for d in fc.devices if d.device_id != my_id)
            if old is None or old.paused != fc.paused or set(old.devices) != set(remote):
                changes += self._set_folder(await self._fetch_folder(fc, my_id))
            else:
                changes += self._set_folder(replace(old, label=fc.label, path=fc.path, type=str(fc.type)))
        for gone in set(self._folders) - seen:
            del self._folders[gone]
            changes.append(MirrorChange("folder", gone))
        seen.clear()
        new_devices = False
        for dc in config.devices:
            if dc.device_id == my_id:
                continue
            seen.add(dc.device_id)
            old_dev = self._devices.get(dc.device_id)
            if old_dev is None:
                new_devices = True
                old_dev = DeviceView(id=dc.device_id)
            changes += self._set_device(replace(old_dev, name=dc.name, paused=dc.paused))
        for gone in set(self._devices) - seen:
            del self._devices[gone]
            changes.append(MirrorChange("device", gone))
        if new_devices:
            conns = await self._client.system.connections()
            for dev_id, conn in conns.connections.items():
                device = self._devices.get(dev_id)
                if device is not None and conn.connected:
                    changes += self._set_device(
                        replace(
                            device,
                            connected=True,
                            address=conn.address,
                            client_version=conn.client_version,
                            connection_type=str(conn.type),
                        )
                    )
        return changes

    def __repr__(self) -> str:
        return (
            f"<StateMirror {self._client.url} folders={len(self._folders)} "
            f"devices={len(self._devices)} state={self._conn}>"
        )
