"""Typed Syncthing events and the two-stage, lazy decoder.

A batch from ``/rest/events`` is decoded in one pass into typed event objects
(``StateChangedEvent``, ``FolderSummaryEvent``, ...) whose ``.data`` payload stays raw
JSON until it is first read; it is then decoded into its ``<Type>Data`` struct and cached.

* A type this library does not know becomes an :class:`UnknownEvent`
  (``.type``, ``.data`` as plain builtins).
* Reading ``.data`` of a typed event whose payload does not fit its struct raises
  :class:`~syncthing_async.SyncthingDecodeError`. The event stream never yields such an
  event: it checks each event before yielding it and turns a misfit into an
  ``UnknownEvent`` whose ``.error`` says why (see :func:`checked_event`).
* :class:`EventsSkipped` and :class:`StreamReset` are markers the stream yields in band.

Docs: https://docs.syncthing.net/dev/events.html
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NamedTuple, TypeAlias, TypeVar, Union

import msgspec

from .._exceptions import SyncthingDecodeError
from ._base import DECODE_ERRORS, LazyDecoder, SyncthingModel
from .db import FolderSummary

__all__ = [
    "DEFAULT_EVENT_TYPES",
    "DISK_EVENT_TYPES",
    "EVENT_TYPES",
    "ClusterConfigReceivedData",
    "ClusterConfigReceivedEvent",
    "ConfigSavedEvent",
    "DeviceConnectedData",
    "DeviceConnectedEvent",
    "DeviceDisconnectedData",
    "DeviceDisconnectedEvent",
    "DeviceDiscoveredData",
    "DeviceDiscoveredEvent",
    "DevicePausedData",
    "DevicePausedEvent",
    "DeviceRejectedData",
    "DeviceRejectedEvent",
    "DeviceResumedData",
    "DeviceResumedEvent",
    "DownloadProgressData",
    "DownloadProgressEvent",
    "Event",
    "EventFolderSummary",
    "EventsSkipped",
    "FailureData",
    "FailureDetails",
    "FailureEvent",
    "FileDownloadProgress",
    "FolderCompletionData",
    "FolderCompletionEvent",
    "FolderErrorsData",
    "FolderErrorsEvent",
    "FolderItemError",
    "FolderPausedData",
    "FolderPausedEvent",
    "FolderRejectedData",
    "FolderRejectedEvent",
    "FolderResumedData",
    "FolderResumedEvent",
    "FolderScanProgressData",
    "FolderScanProgressEvent",
    "FolderSummaryData",
    "FolderSummaryEvent",
    "FolderWatchStateChangedData",
    "FolderWatchStateChangedEvent",
    "GoURL",
    "ItemFinishedData",
    "ItemFinishedEvent",
    "ItemStartedData",
    "ItemStartedEvent",
    "ListenAddressesChangedData",
    "ListenAddressesChangedEvent",
    "LocalChangeDetectedData",
    "LocalChangeDetectedEvent",
    "LocalIndexUpdatedData",
    "LocalIndexUpdatedEvent",
    "LoginAttemptData",
    "LoginAttemptEvent",
    "PendingDevice",
    "PendingDeviceRemoved",
    "PendingDevicesChangedData",
    "PendingDevicesChangedEvent",
    "PendingFolder",
    "PendingFolderRemoved",
    "PendingFoldersChangedData",
    "PendingFoldersChangedEvent",
    "RawEvent",
    "RemoteChangeDetectedData",
    "RemoteChangeDetectedEvent",
    "RemoteDownloadProgressData",
    "RemoteDownloadProgressEvent",
    "RemoteIndexUpdatedData",
    "RemoteIndexUpdatedEvent",
    "ResetReason",
    "SkipReason",
    "StartingData",
    "StartingEvent",
    "StartupCompleteData",
    "StartupCompleteEvent",
    "StateChangedData",
    "StateChangedEvent",
    "StreamItem",
    "StreamReset",
    "UnknownEvent",
    "UpgradeRestartScheduledData",
    "UpgradeRestartScheduledEvent",
    "checked_event",
    "decode_events",
]

_LOG = logging.getLogger("syncthing_async.events")

D = TypeVar("D")


# --------------------------------------------------------------------------------------
# Payload structs (one per event type)
# --------------------------------------------------------------------------------------


class _Data(SyncthingModel, kw_only=True, gc=False):
    """Base of event payloads (shared between a listener's consumers: treat them as read-only)."""


class StartingData(_Data, kw_only=True, gc=False):
    """``Starting``: the first event of a Syncthing process."""

    home: str = ""
    my_id: str = ""


class StartupCompleteData(_Data, kw_only=True, gc=False):
    """``StartupComplete``: startup finished (the docs say data is null; it is ``{myID}``)."""

    my_id: str = ""


class DeviceDiscoveredData(_Data, kw_only=True, gc=False):
    """``DeviceDiscovered``: local (LAN) discovery found a device not already cached."""

    device: str
    if TYPE_CHECKING:
        addrs: list[str]
    else:
        addrs: list[str] | None = None

    def __post_init__(self) -> None:
        if self.addrs is None:
            self.addrs = []


class DeviceConnectedData(_Data, kw_only=True, gc=False):
    """``DeviceConnected``: a connection to a device was accepted (one per connection since 1.25)."""

    id: str
    device_name: str = ""
    client_name: str = ""
    client_version: str = ""
    type: str = ""
    """Connection type such as ``tcp-client``, ``tcp-server``, ``relay-client``, ``quic-server``."""
    addr: str = ""
    """Remote address; empty when Syncthing does not know it."""


class DeviceDisconnectedData(_Data, kw_only=True, gc=False):
    """``DeviceDisconnected``: the last connection to a device closed."""

    id: str
    error: str = ""


class DeviceRejectedData(_Data, kw_only=True, gc=False):
    """``DeviceRejected`` (deprecated, still emitted): an unknown device tried to connect."""

    name: str = ""
    device: str
    address: str = ""


class PendingDevice(_Data, kw_only=True, gc=False):
    """A device that asked to connect and is not configured."""

    device_id: str
    name: str = ""
    address: str = ""


class PendingDeviceRemoved(_Data, kw_only=True, gc=False):
    """A pending device that was dismissed, added or ignored."""

    device_id: str


class PendingDevicesChangedData(_Data, kw_only=True, gc=False):
    """``PendingDevicesChanged``: the set of pending devices changed."""

    if TYPE_CHECKING:
        added: list[PendingDevice]
        removed: list[PendingDeviceRemoved]
    else:
        added: list[PendingDevice] | None = None
        removed: list[PendingDeviceRemoved] | None = None

    def __post_init__(self) -> None:
        if self.added is None:
            self.added = []
        if self.removed is None:
            self.removed = []


class DevicePausedData(_Data, kw_only=True, gc=False):
    """``DevicePaused``: a config change paused the device."""

    device: str


class DeviceResumedData(_Data, kw_only=True, gc=False):
    """``DeviceResumed``: a config change resumed the device."""

    device: str


class ClusterConfigReceivedData(_Data, kw_only=True, gc=False):
    """``ClusterConfigReceived`` (Syncthing >= 1.20.0): a device sent its ClusterConfig."""

    device: str


class LocalChangeDetectedData(_Data, kw_only=True, gc=False):
    """``LocalChangeDetected`` (disk stream): a scan found a changed item."""

    folder: str
    folder_id: str = ""
    """Deprecated duplicate of ``folder``."""
    label: str = ""
    action: str
    """``modified`` or ``deleted``."""
    type: str
    """``file``, ``dir`` or ``symlink``."""
    path: str
    """Path inside the folder, with OS-native separators."""
    modified_by: str = ""
    """Short device ID of the last modifier."""


class RemoteChangeDetectedData(LocalChangeDetectedData, kw_only=True, gc=False):
    """``RemoteChangeDetected`` (disk stream): an item changed locally by pulling remote changes."""


class LocalIndexUpdatedData(_Data, kw_only=True, gc=False):
    """``LocalIndexUpdated``: a local index batch (scan or pull) was committed."""

    folder: str
    items: int = 0
    if TYPE_CHECKING:
        filenames: list[str]
    else:
        filenames: list[str] | None = None
    sequence: int = 0
    version: int = 0
    """Deprecated; equal to ``sequence``."""

    def __post_init__(self) -> None:
        if self.filenames is None:
            self.filenames = []


class RemoteIndexUpdatedData(_Data, kw_only=True, gc=False):
    """``RemoteIndexUpdated``: an index batch from a remote device was applied."""

    device: str
    folder: str
    items: int = 0
    sequence: int = 0
    version: int = 0


class ItemStartedData(_Data, kw_only=True, gc=False):
    """``ItemStarted``: the puller started on an item."""

    folder: str
    item: str
    type: str
    """``file``, ``dir`` or ``symlink``."""
    action: str
    """``update``, ``delete`` or ``metadata``."""


class ItemFinishedData(ItemStartedData, kw_only=True, gc=False):
    """``ItemFinished``: the puller finished an item; ``error`` is None on success."""

    error: str | None = None


class StateChangedData(_Data, kw_only=True, gc=False):
    """``StateChanged``: a folder changed state (``idle``, ``scanning``, ``syncing``, ...)."""

    folder: str
    from_: str = ""
    """Previous state (JSON key ``from``)."""
    to: str
    duration: float | None = None
    """Seconds spent in the previous state; None on the first change."""
    error: str | None = None
    """Set when the new state is ``error``."""


class FolderRejectedData(_Data, kw_only=True, gc=False):
    """``FolderRejected`` (deprecated, still emitted): a device offered an unknown folder."""

    folder: str
    folder_label: str = ""
    device: str


class PendingFolder(_Data, kw_only=True, gc=False):
    """A folder offered by a device and not yet shared with it."""

    folder_id: str
    folder_label: str = ""
    device_id: str
    receive_encrypted: bool = False
    remote_encrypted: bool = False


class PendingFolderRemoved(_Data, kw_only=True, gc=False):
    """A pending folder that went away; ``device_id`` empty means for every device."""

    folder_id: str
    device_id: str = ""


class PendingFoldersChangedData(_Data, kw_only=True, gc=False):
    """``PendingFoldersChanged``: the set of pending folders changed."""

    if TYPE_CHECKING:
        added: list[PendingFolder]
        removed: list[PendingFolderRemoved]
    else:
        added: list[PendingFolder] | None = None
        removed: list[PendingFolderRemoved] | None = None

    def __post_init__(self) -> None:
        if self.added is None:
            self.added = []
        if self.removed is None:
            self.removed = []


class FileDownloadProgress(_Data, kw_only=True, gc=False):
    """Pull progress of one file, counted in blocks (and approximate bytes)."""

    total: int = 0
    reused: int = 0
    copied_from_origin: int = 0
    copied_from_origin_shifted: int = 0
    pulled: int = 0
    copied_from_elsewhere: int = 0
    pulling: int = 0
    bytes_done: int = 0
    bytes_total: int = 0


DownloadProgressData: TypeAlias = dict[str, dict[str, FileDownloadProgress]]
"""``DownloadProgress`` payload: ``{folder_id: {file_name: FileDownloadProgress}}``."""


class RemoteDownloadProgressData(_Data, kw_only=True, gc=False):
    """``RemoteDownloadProgress``: a peer reported download progress (blocks per file)."""

    device: str
    folder: str
    if TYPE_CHECKING:
        state: dict[str, int]
    else:
        state: dict[str, int] | None = None

    def __post_init__(self) -> None:
        if self.state is None:
            self.state = {}


EventFolderSummary = FolderSummary
"""The summary carried by ``FolderSummary`` events: the same struct as ``/rest/db/status``."""


class FolderSummaryData(_Data, kw_only=True, gc=False):
    """``FolderSummary``: a folder's counters changed (at most every 2 s per folder)."""

    folder: str
    summary: FolderSummary


class FolderCompletionData(_Data, kw_only=True, gc=False):
    """``FolderCompletion``: how far a remote device is with a shared folder."""

    folder: str
    device: str
    completion: float = 0.0
    """Percent, 0-100."""
    global_bytes: int = 0
    need_bytes: int = 0
    global_items: int = 0
    need_items: int = 0
    need_deletes: int = 0
    sequence: int = 0
    remote_state: str = ""
    """``valid``, ``paused``, ``notSharing`` or ``unknown`` (Syncthing >= 1.20.0)."""


class FolderItemError(_Data, kw_only=True, gc=False):
    """One item that failed to sync."""

    path: str
    error: str


class FolderErrorsData(_Data, kw_only=True, gc=False):
    """``FolderErrors``: a pull pass ended with errors."""

    folder: str
    if TYPE_CHECKING:
        errors: list[FolderItemError]
    else:
        errors: list[FolderItemError] | None = None

    def __post_init__(self) -> None:
        if self.errors is None:
            self.errors = []


class FolderScanProgressData(_Data, kw_only=True, gc=False):
    """``FolderScanProgress``: bytes hashed so far during a scan."""

    folder: str
    current: int = 0
    total: int = 0
    rate: float = 0.0
    """Bytes per second."""


class FolderPausedData(_Data, kw_only=True, gc=False):
    """``FolderPaused``: a config change paused the folder."""

    id: str
    label: str = ""


class FolderResumedData(_Data, kw_only=True, gc=False):
    """``FolderResumed``: a config change resumed the folder."""

    id: str
    label: str = ""


class FolderWatchStateChangedData(_Data, kw_only=True, gc=False):
    """``FolderWatchStateChanged``: the watcher's error changed; None means "no error"."""

    folder: str
    from_: str | None = None
    to: str | None = None


class GoURL(SyncthingModel, kw_only=True, gc=False, rename="pascal"):
    """A Go ``url.URL`` serialised field by field (capitalised keys), as in ListenAddressesChanged."""

    scheme: str = ""
    opaque: str = ""
    user: dict[str, Any] | None = None
    host: str = ""
    path: str = ""
    raw_path: str = ""
    omit_host: bool = False
    force_query: bool = False
    raw_query: str = ""
    fragment: str = ""
    raw_fragment: str = ""

    @property
    def url(self) -> str:
        """The URL as a string (``tcp://127.0.0.1:22000``)."""
        if self.opaque:
            text = f"{self.scheme}:{self.opaque}"
        else:
            text = f"{self.scheme}://{self.host}{self.raw_path or self.path}" if self.scheme else ""
            if not self.scheme:
                text = f"{self.host}{self.path}"
        if self.raw_query or self.force_query:
            text += f"?{self.raw_query}"
        if self.fragment:
            text += f"#{self.raw_fragment or self.fragment}"
        return text


class ListenAddressesChangedData(_Data, kw_only=True, gc=False):
    """``ListenAddressesChanged``: a listener's LAN/WAN addresses changed."""

    address: GoURL
    if TYPE_CHECKING:
        lan: list[GoURL]
        wan: list[GoURL]
    else:
        lan: list[GoURL] | None = None
        wan: list[GoURL] | None = None

    def __post_init__(self) -> None:
        if self.lan is None:
            self.lan = []
        if self.wan is None:
            self.wan = []


class LoginAttemptData(_Data, kw_only=True, gc=False):
    """``LoginAttempt``: a GUI login (only with GUI authentication on)."""

    success: bool
    username: str = ""
    remote_address: str = ""
    """``ip:port`` up to 1.29.5; the client IP from 1.29.6."""
    proxy: str = ""
    """The proxy's address when ``X-Forwarded-For`` was trusted (Syncthing >= 1.29.6)."""


class FailureDetails(SyncthingModel, kw_only=True, gc=False, rename="pascal"):
    """Object form of a ``Failure`` payload (Syncthing >= 1.28.0)."""

    description: str = ""
    goroutines: str = ""
    if TYPE_CHECKING:
        extra: dict[str, str]
    else:
        extra: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if self.extra is None:
            self.extra = {}


FailureData: TypeAlias = str | FailureDetails
"""``Failure`` payload: usually a string; an object since 1.28.0."""


class UpgradeRestartScheduledData(_Data, kw_only=True, gc=False):
    """``UpgradeRestartScheduled`` (Syncthing >= 2.0.15): restart after an automatic upgrade."""

    delay_s: int = 0
    new_version: str = ""


# --------------------------------------------------------------------------------------
# Envelope and event objects
# --------------------------------------------------------------------------------------


class RawEvent(SyncthingModel, kw_only=True, gc=False):
    """The event envelope with the payload kept as raw JSON."""

    id: int
    global_id: int = 0
    time: datetime
    type: str
    data: msgspec.Raw = msgspec.Raw(b"null")


_ENVELOPE_RENAME = {"global_id": "globalID", "_raw": "data"}


class _Decoded:
    """A payload decoded on first read, kept with its raw JSON.

    It lives in the ``_raw`` slot, which decoding only ever fills with ``msgspec.Raw``: the cache
    is not a field, so no key a server sends can set it.
    """

    __slots__ = ("raw", "value")

    def __init__(self, raw: msgspec.Raw, value: Any) -> None:
        self.raw = raw
        self.value = value

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Decoded, (self.raw, self.value))


class Event(msgspec.Struct, Generic[D], kw_only=True, gc=False, rename=_ENVELOPE_RENAME):
    """A Syncthing event: ``.id``, ``.global_id``, ``.time``, ``.type`` and a typed, lazy ``.data``.

    ``id`` is the per-subscription sequence the stream's cursor counts; ``global_id`` is
    process-wide. ``data`` is decoded on first access and cached.
    """

    id: int
    global_id: int = 0
    time: datetime
    if TYPE_CHECKING:
        _raw: msgspec.Raw | _Decoded = msgspec.Raw(b"null")
    else:
        _raw: msgspec.Raw = msgspec.Raw(b"null")

    _decoder: ClassVar[msgspec.json.Decoder[Any] | None] = None
    _data_type: ClassVar[Any] = None
    _type_name: ClassVar[str] = ""

    if TYPE_CHECKING:

        @property
        def type(self) -> str:
            """Syncthing's event type name (``"StateChanged"``)."""
            ...

    @property
    def data(self) -> D:
        """The typed payload; raises SyncthingDecodeError if it does not fit its struct."""
        raw = self._raw
        if isinstance(raw, _Decoded):
            return raw.value  # type: ignore[no-any-return]
        value = self._decode(raw)
        self._raw = _Decoded(raw, value)
        return value  # type: ignore[no-any-return]

    @property
    def raw_json(self) -> bytes:
        """The payload exactly as Syncthing sent it (JSON bytes)."""
        raw = self._raw
        return bytes(raw.raw if isinstance(raw, _Decoded) else raw)

    def _decode(self, raw: msgspec.Raw) -> Any:
        decoder = self._decoder
        try:
            if decoder is None:
                return msgspec.json.decode(raw)
            return decoder.decode(raw)
        except DECODE_ERRORS as err:
            raise SyncthingDecodeError(
                f"event {self.type} (id {self.id})",
                str(err),
                bytes(raw)[:200].decode("utf-8", "replace"),
            ) from err

    def __repr__(self) -> str:
        try:
            shown = repr(self.data)
        except SyncthingDecodeError:
            shown = f"<undecodable {self.raw_json[:60]!r}>"
        name = type(self).__name__
        return f"{name}(id={self.id}, global_id={self.global_id}, time={self.time!r}, data={shown})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        if (self.type, self.id, self.global_id, self.time) != (
            other.type,
            other.id,
            other.global_id,
            other.time,
        ):
            return False
        try:
            return bool(self.data == other.data)
        except SyncthingDecodeError:
            return self.raw_json == other.raw_json

    def __hash__(self) -> int:
        return hash((self.type, self.id, self.global_id, self.time))


class UnknownEvent(Event[Any], kw_only=True, gc=False, rename=_ENVELOPE_RENAME):
    """An event of a type this library does not know, or whose payload did not fit its struct.

    ``.data`` (and ``.raw_data``) hold the payload as plain builtins; ``.error`` says why the
    typed decoding failed (None for an unknown type).
    """

    type: str
    error: str | None = None

    def __repr__(self) -> str:
        extra = f", error={self.error!r}" if self.error is not None else ""
        try:
            shown = repr(self.data)
        except SyncthingDecodeError:
            shown = f"<undecodable {self.raw_json[:60]!r}>"
        return (
            f"UnknownEvent(type={self.type!r}, id={self.id}, global_id={self.global_id}, "
            f"time={self.time!r}, data={shown}{extra})"
        )

    @property
    def raw_data(self) -> Any:
        """The payload as builtins (dict, list, str, number or None)."""
        return self.data

    @classmethod
    def from_event(cls, event: Event[Any], error: str | None = None) -> UnknownEvent:
        """Turn an event whose payload did not fit into an UnknownEvent."""
        return cls(
            id=event.id,
            global_id=event.global_id,
            time=event.time,
            type=event.type,
            _raw=msgspec.Raw(event.raw_json),
            error=error,
        )


class _DecoderOnFirstUse:
    """Class attribute that builds the payload decoder on first access and then replaces itself
    with it, so importing the module stays cheap and later lookups cost nothing extra."""

    def __get__(self, obj: object, owner: type[Event[Any]]) -> msgspec.json.Decoder[Any]:
        decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(owner._data_type)
        owner._decoder = decoder
        return decoder


def _typed(name: str, data_type: Any, doc: str) -> Any:
    """Build ``<name>Event(Event[data_type])`` tagged with its Syncthing type name."""
    cls = type(
        f"{name}Event",
        (Event,),
        {
            "__doc__": doc,
            "__module__": __name__,
            "__qualname__": f"{name}Event",
            "_decoder": _DecoderOnFirstUse(),
            "_data_type": data_type,
            "_type_name": name,
            "type": name,
        },
        kw_only=True,
        gc=False,
        rename=_ENVELOPE_RENAME,
        tag_field="type",
        tag=name,
    )
    return cls


if TYPE_CHECKING:
    # Static view of the generated classes: each is an Event with its payload type.
    class StartingEvent(Event[StartingData]): ...

    class StartupCompleteEvent(Event[StartupCompleteData]): ...

    class DeviceDiscoveredEvent(Event[DeviceDiscoveredData]): ...

    class DeviceConnectedEvent(Event[DeviceConnectedData]): ...

    class DeviceDisconnectedEvent(Event[DeviceDisconnectedData]): ...

    class DeviceRejectedEvent(Event[DeviceRejectedData]): ...

    class PendingDevicesChangedEvent(Event[PendingDevicesChangedData]): ...

    class DevicePausedEvent(Event[DevicePausedData]): ...

    class DeviceResumedEvent(Event[DeviceResumedData]): ...

    class ClusterConfigReceivedEvent(Event[ClusterConfigReceivedData]): ...

    class LocalChangeDetectedEvent(Event[LocalChangeDetectedData]): ...

    class RemoteChangeDetectedEvent(Event[RemoteChangeDetectedData]): ...

    class LocalIndexUpdatedEvent(Event[LocalIndexUpdatedData]): ...

    class RemoteIndexUpdatedEvent(Event[RemoteIndexUpdatedData]): ...

    class ItemStartedEvent(Event[ItemStartedData]): ...

    class ItemFinishedEvent(Event[ItemFinishedData]): ...

    class StateChangedEvent(Event[StateChangedData]): ...

    class FolderRejectedEvent(Event[FolderRejectedData]): ...

    class PendingFoldersChangedEvent(Event[PendingFoldersChangedData]): ...

    class ConfigSavedEvent(Event[dict[str, Any]]): ...

    class DownloadProgressEvent(Event[DownloadProgressData]): ...

    class RemoteDownloadProgressEvent(Event[RemoteDownloadProgressData]): ...

    class FolderSummaryEvent(Event[FolderSummaryData]): ...

    class FolderCompletionEvent(Event[FolderCompletionData]): ...

    class FolderErrorsEvent(Event[FolderErrorsData]): ...

    class FolderScanProgressEvent(Event[FolderScanProgressData]): ...

    class FolderPausedEvent(Event[FolderPausedData]): ...

    class FolderResumedEvent(Event[FolderResumedData]): ...

    class FolderWatchStateChangedEvent(Event[FolderWatchStateChangedData]): ...

    class ListenAddressesChangedEvent(Event[ListenAddressesChangedData]): ...

    class LoginAttemptEvent(Event[LoginAttemptData]): ...

    class FailureEvent(Event[FailureData]): ...

    class UpgradeRestartScheduledEvent(Event[UpgradeRestartScheduledData]): ...

else:
    StartingEvent = _typed("Starting", StartingData, "First event of a Syncthing process.")
    StartupCompleteEvent = _typed("StartupComplete", StartupCompleteData, "Startup finished.")
    DeviceDiscoveredEvent = _typed(
        "DeviceDiscovered", DeviceDiscoveredData, "Local discovery found a new device."
    )
    DeviceConnectedEvent = _typed("DeviceConnected", DeviceConnectedData, "A device connected.")
    DeviceDisconnectedEvent = _typed(
        "DeviceDisconnected", DeviceDisconnectedData, "A device's last connection closed."
    )
    DeviceRejectedEvent = _typed(
        "DeviceRejected", DeviceRejectedData, "An unknown device tried to connect (deprecated)."
    )
    PendingDevicesChangedEvent = _typed(
        "PendingDevicesChanged", PendingDevicesChangedData, "The pending devices changed."
    )
    DevicePausedEvent = _typed("DevicePaused", DevicePausedData, "A device was paused.")
    DeviceResumedEvent = _typed("DeviceResumed", DeviceResumedData, "A device was resumed.")
    ClusterConfigReceivedEvent = _typed(
        "ClusterConfigReceived", ClusterConfigReceivedData, "A device sent its ClusterConfig."
    )
    LocalChangeDetectedEvent = _typed(
        "LocalChangeDetected", LocalChangeDetectedData, "A scan found a changed item (disk)."
    )
    RemoteChangeDetectedEvent = _typed(
        "RemoteChangeDetected", RemoteChangeDetectedData, "A pull changed an item (disk)."
    )
    LocalIndexUpdatedEvent = _typed(
        "LocalIndexUpdated", LocalIndexUpdatedData, "A local index batch was committed."
    )
    RemoteIndexUpdatedEvent = _typed(
        "RemoteIndexUpdated", RemoteIndexUpdatedData, "A remote index batch was applied."
    )
    ItemStartedEvent = _typed("ItemStarted", ItemStartedData, "The puller started on an item.")
    ItemFinishedEvent = _typed("ItemFinished", ItemFinishedData, "The puller finished an item.")
    StateChangedEvent = _typed("StateChanged", StateChangedData, "A folder changed state.")
    FolderRejectedEvent = _typed(
        "FolderRejected", FolderRejectedData, "A device offered an unknown folder (deprecated)."
    )
    PendingFoldersChangedEvent = _typed(
        "PendingFoldersChanged", PendingFoldersChangedData, "The pending folders changed."
    )
    ConfigSavedEvent = _typed(
        "ConfigSaved", dict[str, Any], "The configuration was saved; data is the whole config."
    )
    DownloadProgressEvent = _typed(
        "DownloadProgress", DownloadProgressData, "Pull progress per folder and file."
    )
    RemoteDownloadProgressEvent = _typed(
        "RemoteDownloadProgress", RemoteDownloadProgressData, "A peer reported download progress."
    )
    FolderSummaryEvent = _typed("FolderSummary", FolderSummaryData, "A folder's counters changed.")
    FolderCompletionEvent = _typed(
        "FolderCompletion", FolderCompletionData, "A remote device's completion of a folder."
    )
    FolderErrorsEvent = _typed("FolderErrors", FolderErrorsData, "A pull pass ended with errors.")
    FolderScanProgressEvent = _typed(
        "FolderScanProgress", FolderScanProgressData, "Scan progress of a folder."
    )
    FolderPausedEvent = _typed("FolderPaused", FolderPausedData, "A folder was paused.")
    FolderResumedEvent = _typed("FolderResumed", FolderResumedData, "A folder was resumed.")
    FolderWatchStateChangedEvent = _typed(
        "FolderWatchStateChanged", FolderWatchStateChangedData, "A folder watcher's error changed."
    )
    ListenAddressesChangedEvent = _typed(
        "ListenAddressesChanged", ListenAddressesChangedData, "Listen addresses changed."
    )
    LoginAttemptEvent = _typed("LoginAttempt", LoginAttemptData, "A GUI login attempt.")
    FailureEvent = _typed("Failure", FailureData, "An internal failure was reported.")
    UpgradeRestartScheduledEvent = _typed(
        "UpgradeRestartScheduled",
        UpgradeRestartScheduledData,
        "A restart after an automatic upgrade is scheduled.",
    )


_ALL_EVENT_CLASSES: tuple[type[Event[Any]], ...] = (
    StartingEvent,
    StartupCompleteEvent,
    DeviceDiscoveredEvent,
    DeviceConnectedEvent,
    DeviceDisconnectedEvent,
    DeviceRejectedEvent,
    PendingDevicesChangedEvent,
    DevicePausedEvent,
    DeviceResumedEvent,
    ClusterConfigReceivedEvent,
    LocalChangeDetectedEvent,
    RemoteChangeDetectedEvent,
    LocalIndexUpdatedEvent,
    RemoteIndexUpdatedEvent,
    ItemStartedEvent,
    ItemFinishedEvent,
    StateChangedEvent,
    FolderRejectedEvent,
    PendingFoldersChangedEvent,
    ConfigSavedEvent,
    DownloadProgressEvent,
    RemoteDownloadProgressEvent,
    FolderSummaryEvent,
    FolderCompletionEvent,
    FolderErrorsEvent,
    FolderScanProgressEvent,
    FolderPausedEvent,
    FolderResumedEvent,
    FolderWatchStateChangedEvent,
    ListenAddressesChangedEvent,
    LoginAttemptEvent,
    FailureEvent,
    UpgradeRestartScheduledEvent,
)

EVENT_TYPES: Mapping[str, tuple[type[Event[Any]], Any]] = {
    cls._type_name: (cls, cls._data_type) for cls in _ALL_EVENT_CLASSES
}
"""Syncthing type name -> (event class, payload type) for the 33 types of
https://docs.syncthing.net/dev/events.html."""

DISK_EVENT_TYPES: frozenset[str] = frozenset({"LocalChangeDetected", "RemoteChangeDetected"})
"""Types in Syncthing's disk subscription (``/rest/events/disk``)."""

DEFAULT_EVENT_TYPES: frozenset[str] = frozenset(EVENT_TYPES) - DISK_EVENT_TYPES
"""Types in Syncthing's default subscription (``/rest/events`` without ``events=``)."""


# --------------------------------------------------------------------------------------
# Markers
# --------------------------------------------------------------------------------------


class SkipReason(enum.StrEnum):
    """Why events were skipped."""

    GAP = "gap"
    """Ids jumped: Syncthing's 1000-event buffer overflowed, or it dropped events."""
    RESUME = "resume"
    """The saved cursor is older than what Syncthing still buffers."""
    RESTART = "restart"
    """After a restart, the new process's first events were already gone."""
    OVERFLOW = "overflow"
    """A listener consumer was too slow; its bounded buffer was full."""
    MALFORMED = "malformed"
    """Syncthing sent the event, but its envelope (time, type...) did not decode."""


class ResetReason(enum.StrEnum):
    """Why the stream's cursor was reset."""

    RESTART = "restart"
    """Syncthing's start time changed: the process restarted and its ids began again at 1."""
    ID_REGRESS = "id_regress"
    """Event ids went backwards with no start-time change (treated like a restart)."""
    DEVICE_CHANGED = "device_changed"
    """A different Syncthing device now answers at this address."""


class EventsSkipped(msgspec.Struct, kw_only=True, frozen=True):
    """In-band marker: ``count`` events (ids ``first_id``..``last_id``) were lost before the next one.

    Consumers that mirror state should refetch it (e.g. ``/rest/db/status``).
    """

    count: int
    first_id: int
    last_id: int
    reason: SkipReason = SkipReason.GAP
    filter: str = "default"
    """The server subscription (``default`` or ``disk``)."""

    @property
    def type(self) -> str:
        """Marker name, for uniform logging."""
        return "EventsSkipped"


class StreamReset(msgspec.Struct, kw_only=True, frozen=True):
    """In-band marker: Syncthing restarted (or ids regressed); the stream restarts at the new first id.

    Events of the old process after ``last_id`` are lost; ``old_start_time`` and
    ``new_start_time`` come from ``/rest/system/status``.
    """

    reason: ResetReason
    last_id: int
    """The last id delivered before the reset (old numbering)."""
    old_start_time: datetime | None = None
    new_start_time: datetime | None = None
    device_id: str = ""
    filter: str = "default"

    @property
    def type(self) -> str:
        """Marker name, for uniform logging."""
        return "StreamReset"


StreamItem: TypeAlias = Event[Any] | EventsSkipped | StreamReset
"""What an event stream yields: events and in-band markers."""


# --------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------

_BATCH_DECODER: LazyDecoder[list[Event[Any]]] = LazyDecoder(
    list[Union[_ALL_EVENT_CLASSES]]  # type: ignore[valid-type]  # noqa: UP007
)


def _eager_data(self: Event[Any]) -> Any:
    return self._raw


def _eager_raw_json(self: Event[Any]) -> bytes:
    return msgspec.json.encode(self._raw)


def _eager(cls: type[Event[Any]]) -> type[Event[Any]]:
    """A hidden subclass of ``cls`` whose payload is decoded in the same pass as the envelope.

    Same name, same ``isinstance``/``match`` behaviour; its ``data`` field holds the decoded
    payload instead of raw JSON. Used when every payload will be read anyway.
    """
    eager: type[Event[Any]] = type(
        cls.__name__,
        (cls,),
        {
            "__annotations__": {"_raw": cls._data_type},
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
            "_decoder": None,
            "data": property(_eager_data, doc="The typed payload (already decoded)."),
            "raw_json": property(_eager_raw_json, doc="The payload as JSON bytes (re-encoded)."),
        },
        kw_only=True,
        gc=False,
        rename=_ENVELOPE_RENAME,
        tag_field="type",
        tag=cls._type_name,
    )
    return eager


_EAGER_BATCH_DECODER: LazyDecoder[list[Event[Any]]] = LazyDecoder(
    list[Union[tuple(_eager(cls) for cls in _ALL_EVENT_CLASSES)]]  # type: ignore[misc]  # noqa: UP007
)
_ENVELOPES_DECODER: LazyDecoder[list[RawEvent]] = LazyDecoder(list[RawEvent])
_ITEMS_DECODER: LazyDecoder[list[msgspec.Raw]] = LazyDecoder(list[msgspec.Raw])
_ENVELOPE_DECODER: LazyDecoder[RawEvent] = LazyDecoder(RawEvent)
_CLASS_BY_TYPE: dict[str, type[Event[Any]]] = {cls._type_name: cls for cls in _ALL_EVENT_CLASSES}


class _IdOnly(msgspec.Struct, gc=False, rename={"global_id": "globalID"}):
    """What is read of an envelope that does not fit: its id, and the rest if it has a usable type."""

    id: int
    global_id: Any = 0
    type: Any = ""


_ID_DECODER: LazyDecoder[_IdOnly] = LazyDecoder(_IdOnly)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Malformed(Event[None], kw_only=True, gc=False, rename=_ENVELOPE_RENAME):
    """Stands in a batch for an element whose envelope did not decode; only ``id`` is known.

    Never yielded: the stream reports it as ``EventsSkipped(reason=MALFORMED)``.
    """

    time: datetime = _EPOCH
    type: str = ""
    error: str = ""


class _Batch(NamedTuple):
    events: list[Event[Any]]
    decoded: bool
    """Every payload is already decoded (the eager pass)."""
    malformed: bool
    """Some elements are :class:`_Malformed` placeholders."""
    dropped: int
    """Elements left out because not even their id could be read."""


def _from_envelope(env: RawEvent) -> Event[Any]:
    cls = _CLASS_BY_TYPE.get(env.type)
    if cls is None:
        return UnknownEvent(id=env.id, global_id=env.global_id, time=env.time, type=env.type, _raw=env.data)
    return cls(id=env.id, global_id=env.global_id, time=env.time, _raw=env.data)


def decode_events(payload: bytes | memoryview | str, *, eager: bool = False) -> list[Event[Any]]:
    """Decode a ``/rest/events`` reply into event objects (payloads stay lazy).

    Unknown types become :class:`UnknownEvent`. An element whose envelope itself is broken
    (no id or time) is dropped with a warning. Raises SyncthingDecodeError only when the
    reply is not a JSON array. ``eager=True`` decodes every payload in the same pass (the
    fastest way when all of them will be read); if any payload does not fit, or a type is
    unknown, the batch is decoded lazily instead.
    """
    batch = _decode_batch(payload, eager)
    if batch.malformed:
        return [e for e in batch.events if type(e) is not _Malformed]
    return batch.events


def _decode_batch(payload: bytes | memoryview | str, eager: bool) -> _Batch:
    """Decode a batch; an element whose envelope does not fit becomes a :class:`_Malformed`."""
    if eager:
        try:
            return _Batch(_EAGER_BATCH_DECODER().decode(payload), True, False, 0)
        except DECODE_ERRORS:
            pass
    try:
        return _Batch(_BATCH_DECODER().decode(payload), False, False, 0)
    except DECODE_ERRORS:
        pass
    try:
        return _Batch([_from_envelope(env) for env in _ENVELOPES_DECODER().decode(payload)], False, False, 0)
    except DECODE_ERRORS:
        pass
    try:
        items = _ITEMS_DECODER().decode(payload)
    except DECODE_ERRORS as err:
        text = bytes(payload[:200]) if not isinstance(payload, str) else payload[:200].encode()
        raise SyncthingDecodeError("/rest/events", str(err), text.decode("utf-8", "replace")) from err
    out: list[Event[Any]] = []
    malformed = False
    dropped = 0
    for item in items:
        try:
            out.append(_from_envelope(_ENVELOPE_DECODER().decode(item)))
            continue
        except DECODE_ERRORS as err:
            error = str(err)
        try:
            ident = _ID_DECODER().decode(item)
        except DECODE_ERRORS:
            dropped += 1
            _LOG.warning("dropping an event whose envelope does not fit and has no id: %s", error)
            continue
        _LOG.warning("event %d: its envelope does not fit: %s", ident.id, error)
        gid = ident.global_id if type(ident.global_id) is int else 0
        name = ident.type if type(ident.type) is str else ""
        out.append(_Malformed(id=ident.id, global_id=gid, type=name, error=error))
        malformed = True
    return _Batch(out, False, malformed, dropped)


_WARNED_TYPES: set[str] = set()


def checked_event(event: Event[Any]) -> Event[Any]:
    """Return ``event`` with its payload decoded, or an UnknownEvent if the payload does not fit.

    Logs a warning once per event type whose payload fails.
    """
    if type(event) is UnknownEvent:
        return event
    try:
        event.data  # noqa: B018 - decode and cache
    except SyncthingDecodeError as err:
        if event.type not in _WARNED_TYPES:
            _WARNED_TYPES.add(event.type)
            _LOG.warning(
                "%s event payload does not fit its model; yielding UnknownEvent: %s", event.type, err.detail
            )
        return UnknownEvent.from_event(event, error=err.detail)
    return event
