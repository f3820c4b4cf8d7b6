"""StateMirror: a live, typed copy of one Syncthing's folders, devices and system state.

Kept current from the event stream, with full snapshots only when needed:

* at start, **after** the event stream is established (so nothing between the snapshot and
  the first event is lost; events older than the snapshot just replay into the same state);
* after an ``EventsSkipped`` marker (events were lost) or a ``StreamReset`` (Syncthing
  restarted). A connection failure is ridden out by the event engine, which resumes from its
  position: nothing to resync. A snapshot that fails is retried once the listener has
  reconnected, or at the next event.

The mirror is a consumer of an :class:`~syncthing_async.events.EventListener` (its own, or one
you pass in and run yourself) with no retry loop, backoff or task of its own. Its lifecycle is the
listener's: ``await mirror.run()`` in a task you own (raises the first failure, e.g.
AuthenticationError, then runs until cancelled), ``start()``/``stop()``, ``async with``,
``wait_connected()``, ``on_state``, ``last_error``. Once the client (or the aiohttp session lent
to it) is closed, the mirror stops by itself with the state ``CLOSED``; the last views stay
readable.

Views are immutable structs, replaced on change; a :class:`FolderView` carries the whole folder
summary Syncthing reports. ``subscribe(callback)`` reports each change as a
:class:`MirrorChange`. This is what an integration needs instead of polling the expensive
``/rest/db/status`` every few minutes::

    async with StateMirror(client) as mirror:
        print(mirror.folders["default"].state, mirror.is_in_sync("default"))
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import anyio
import msgspec
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream

from ._aio import Callbacks
from ._exceptions import NotFoundError, SyncthingAPIError, SyncthingClosedError, SyncthingError
from ._helpers import SyncProgress
from .events import Backoff, ConnectionState, EventListener
from .events._engine import describe_failure
from .events._lifecycle import Service
from .models.config import Configuration, FolderConfig
from .models.db import Completion, FileError, FolderState, FolderSummary
from .models.events import Event, EventsSkipped, StreamItem, StreamReset, UnknownEvent

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


DeviceCompletion = SyncProgress
"""How complete a remote device's copy of a folder is: a :class:`SyncProgress` with ``device``."""


class FolderView(msgspec.Struct, frozen=True, kw_only=True):
    """One folder: configuration, the whole summary Syncthing reports, errors, and progress per
    remote device. The summary's counters are also attributes (``view.need_bytes``...)."""

    id: str
    label: str = ""
    path: str = ""
    type: str = ""
    paused: bool = False
    devices: tuple[str, ...] = ()
    """Remote devices the folder is shared with."""
    summary: FolderSummary = msgspec.field(default_factory=FolderSummary)
    """Everything ``/rest/db/status`` reports (kept current by FolderSummary/StateChanged events)."""
    pull_errors: tuple[FileError, ...] = ()
    completion: Mapping[str, SyncProgress] = msgspec.field(default_factory=dict)
    """Remote device ID -> progress of this folder on that device."""

    def __getattr__(self, name: str) -> Any:
        """The summary's fields read as the view's own (``view.need_bytes``, ``view.global_files``)."""
        if name in FolderSummary.__struct_fields__:
            return getattr(self.summary, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def state(self) -> FolderState:
        """The folder's state (``paused`` for a paused folder)."""
        return self.summary.state

    @property
    def need_items(self) -> int:
        """Items the local copy still needs (``needTotalItems``)."""
        return self.summary.need_total_items

    @property
    def global_items(self) -> int:
        """Items in the global state (``globalTotalItems``)."""
        return self.summary.global_total_items

    @property
    def local_items(self) -> int:
        """Items in the local copy (``localTotalItems``)."""
        return self.summary.local_total_items

    @property
    def progress(self) -> SyncProgress:
        """How far the local copy is synced (the one place progress is computed)."""
        return SyncProgress.from_summary(self.id, self.summary)

    @property
    def in_sync(self) -> bool:
        """Idle, needing nothing and without a folder error."""
        return self.progress.done and not self.summary.error

    @property
    def local_completion(self) -> float:
        """Percent of the global bytes present locally."""
        return self.progress.completion


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


class StateMirror(Service):
    """A live copy of one Syncthing's state, kept current from events (see the module doc).

    ``run()``/``start()`` return or proceed once the first snapshot is in, raising its failure
    (e.g. AuthenticationError). Pass ``listener=`` to share an :class:`EventListener` you run
    yourself; by default the mirror runs one of its own inside its ``run()``.
    """

    _task_name = "syncthing-state-mirror"

    def __init__(
        self,
        client: SyncthingClient,
        *,
        poll_timeout: int = 60,
        read_margin: float = 10.0,
        backoff: Backoff | None = None,
        listener: EventListener | None = None,
    ) -> None:
        super().__init__()
        self._client = client
        self._own_listener = listener is None
        self._listener = listener or client.events.listener(
            poll_timeout=poll_timeout,
            read_margin=read_margin,
            backoff=backoff or Backoff(initial=0.5, cap=30.0),
        )
        self._folders: dict[str, FolderView] = {}
        self._devices: dict[str, DeviceView] = {}
        self._system: SystemView | None = None
        self._callbacks: Callbacks[ChangeCallback] = Callbacks("mirror change")
        self._ready = anyio.Event()
        self._lock = anyio.Lock()  # one change at a time: an event, or a snapshot
        self._stale = False  # the last snapshot failed: take one again when possible
        self._my_id = ""
        self.resync_count = 0
        """Full snapshots taken so far (1 after start; more after gaps and restarts)."""

    # -- read API ------------------------------------------------------------------------
    @property
    def listener(self) -> EventListener:
        """The event listener the mirror consumes."""
        return self._listener

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
        """The same as :attr:`state` (the listener's connection state)."""
        return self._state

    @property
    def available(self) -> bool:
        """Ready, connected and not waiting for a snapshot: the views are current."""
        return self.ready and self._state is ConnectionState.CONNECTED and not self._stale

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
        """Call ``callback(change)`` after every change; returns an unsubscribe callable.

        Connection-state changes come as ``MirrorChange("connection")`` too (see ``on_state``).
        """
        return self._callbacks.add(callback)

    async def _notify(self, changes: Iterable[MirrorChange]) -> None:
        for change in changes:
            for callback in self._callbacks:
                try:
                    result = callback(change)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    _LOG.exception("mirror change callback %r failed", callback)

    # -- running -------------------------------------------------------------------------
    async def _serve(self, task_status: TaskStatus[None]) -> None:
        listener = self._listener
        items = listener.iterate(_TYPES)
        send, states = anyio.create_memory_object_stream[ConnectionState](math.inf)
        unsubscribe = listener.on_state(send.send_nowait)
        try:
            async with anyio.create_task_group() as tg:
                if self._own_listener:
                    await tg.start(listener.run)  # raises the first failure (e.g. a wrong key)
                else:
                    await listener.wait_connected()
                self._set_state(listener.state, listener.last_error)
                async with self._lock:
                    await self._resync()  # after the subscription is fixed: nothing is missed
                self._ready.set()
                task_status.started()
                tg.start_soon(self._follow_states, states)
                async for item in items:
                    await self._take(item)
                if listener.state is ConnectionState.CLOSED:
                    _LOG.info("state mirror stops: the Syncthing client (or its session) was closed")
                    self._set_state(ConnectionState.CLOSED, listener.last_error)
                tg.cancel_scope.cancel()
        finally:
            unsubscribe()
            items.close()
            send.close()
            states.close()

    async def _follow_states(self, states: MemoryObjectReceiveStream[ConnectionState]) -> None:
        """Mirror the listener's state; after a reconnect, retake a snapshot that failed."""
        async for state in states:
            self._set_state(state, self._listener.last_error)
            await self._notify([MirrorChange("connection")])
            if state is ConnectionState.CONNECTED and self._stale:
                async with self._lock:
                    await self._resync_or_mark()

    async def _take(self, item: StreamItem) -> None:
        async with self._lock:
            if isinstance(item, (EventsSkipped, StreamReset)) or self._stale:
                _LOG.info("state mirror resyncs after %s", item.type)
                await self._resync_or_mark()
            elif isinstance(item, UnknownEvent):
                _LOG.debug("state mirror ignores %r", item)
            else:
                try:
                    changes = await self._apply(item)
                except SyncthingClosedError:
                    raise
                except SyncthingError as err:  # a read the event needed failed: resync later
                    self._mark_stale(err)
                    return
                await self._notify(changes)

    async def _resync_or_mark(self) -> None:
        try:
            await self._resync()
        except SyncthingClosedError:
            raise
        except SyncthingError as err:
            self._mark_stale(err)

    def _mark_stale(self, err: SyncthingError) -> None:
        self._stale = True
        self.last_error = err
        _LOG.warning(
            "state mirror could not read Syncthing at %s: %s; it resyncs after the next reconnect or event",
            self._client.url,
            describe_failure(err, "state"),
        )

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
        self._stale = False
        self.resync_count += 1
        await self._notify([MirrorChange("resync")])

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
        view = msgspec.structs.replace(base, summary=summary)
        if fc.paused:
            return view
        completion: dict[str, SyncProgress] = {}
        for dev in remote:
            try:
                comp: Completion = await client.db.completion(folder=fc.id, device=dev)
            except SyncthingAPIError:  # paused/stopped folder
                continue
            completion[dev] = SyncProgress.from_completion(fc.id, dev, comp)
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
            summary = replace(folder.summary, state=state, state_changed=ev.time, error=error)
            return self._set_folder(replace(folder, summary=summary))
        if kind == "FolderSummary":
            summary = data.summary
            errors = folder.pull_errors if summary.errors else ()
            return self._set_folder(replace(folder, summary=summary, pull_errors=errors))
        if kind == "FolderCompletion":
            completion = dict(folder.completion)
            completion[data.device] = SyncProgress.from_completion(folder_id, data.device, data)
            return self._set_folder(replace(folder, completion=completion))
        if kind == "FolderErrors":
            errors = tuple(FileError(path=e.path, error=e.error) for e in data.errors or ())
            summary = replace(folder.summary, errors=len(errors))
            return self._set_folder(replace(folder, summary=summary, pull_errors=errors))
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
            f"devices={len(self._devices)} state={self._state}>"
        )
