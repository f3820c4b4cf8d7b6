"""Every Syncthing event type this library knows, each declared once: its payload struct
(``<Type>Data``) followed directly by its event class.

An event type is one declaration, nothing else (here for a type ``Example``)::

    class ExampleEvent(Event[ExampleData], tag="Example"):
        '''What an Example event means.'''

The tag is Syncthing's type name; declaring the class registers it, and its ``type``, its
payload type (the ``X`` of ``Event[X]``), :data:`EVENT_TYPES`, :data:`DEFAULT_EVENT_TYPES`, the
batch decoder's tagged union and the public exports all derive from the registry. A type that
Syncthing sends only on the disk subscription (``/rest/events/disk``) also sets
``_subscription = "disk"``.

Types and payloads: https://docs.syncthing.net/dev/events.html and the per-type pages linked
from it; the list of types in Syncthing's source is lib/events/events.go.

Every public name here is exported by ``syncthing_async.models.events`` (a star import), so
this module imports its helpers as modules or under private names.
"""

import collections.abc
import typing

from .. import _base
from .. import db as _db
from ._envelope import Event, _register_declared


class _Data(_base.SyncthingModel, kw_only=True, gc=False):
    """Base of event payloads (shared between a listener's consumers: treat them as read-only)."""


class StartingData(_Data, kw_only=True, gc=False):
    """``Starting``: the first event of a Syncthing process."""

    home: str = ""
    my_id: str = ""


class StartingEvent(Event[StartingData], tag="Starting"):
    """First event of a Syncthing process."""


class StartupCompleteData(_Data, kw_only=True, gc=False):
    """``StartupComplete``: startup finished (the docs say data is null; it is ``{myID}``)."""

    my_id: str = ""


class StartupCompleteEvent(Event[StartupCompleteData], tag="StartupComplete"):
    """Startup finished."""


class DeviceDiscoveredData(_Data, kw_only=True, gc=False):
    """``DeviceDiscovered``: local (LAN) discovery found a device not already cached."""

    device: str
    if typing.TYPE_CHECKING:
        addrs: list[str]
    else:
        addrs: list[str] | None = None

    def __post_init__(self) -> None:
        if self.addrs is None:
            self.addrs = []


class DeviceDiscoveredEvent(Event[DeviceDiscoveredData], tag="DeviceDiscovered"):
    """Local discovery found a new device."""


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


class DeviceConnectedEvent(Event[DeviceConnectedData], tag="DeviceConnected"):
    """A device connected."""


class DeviceDisconnectedData(_Data, kw_only=True, gc=False):
    """``DeviceDisconnected``: the last connection to a device closed."""

    id: str
    error: str = ""


class DeviceDisconnectedEvent(Event[DeviceDisconnectedData], tag="DeviceDisconnected"):
    """A device's last connection closed."""


class DeviceRejectedData(_Data, kw_only=True, gc=False):
    """``DeviceRejected`` (deprecated, still emitted): an unknown device tried to connect."""

    name: str = ""
    device: str
    address: str = ""


class DeviceRejectedEvent(Event[DeviceRejectedData], tag="DeviceRejected"):
    """An unknown device tried to connect (deprecated)."""


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

    if typing.TYPE_CHECKING:
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


class PendingDevicesChangedEvent(Event[PendingDevicesChangedData], tag="PendingDevicesChanged"):
    """The pending devices changed."""


class DevicePausedData(_Data, kw_only=True, gc=False):
    """``DevicePaused``: a config change paused the device."""

    device: str


class DevicePausedEvent(Event[DevicePausedData], tag="DevicePaused"):
    """A device was paused."""


class DeviceResumedData(_Data, kw_only=True, gc=False):
    """``DeviceResumed``: a config change resumed the device."""

    device: str


class DeviceResumedEvent(Event[DeviceResumedData], tag="DeviceResumed"):
    """A device was resumed."""


class ClusterConfigReceivedData(_Data, kw_only=True, gc=False):
    """``ClusterConfigReceived`` (Syncthing >= 1.20.0): a device sent its ClusterConfig."""

    device: str


class ClusterConfigReceivedEvent(Event[ClusterConfigReceivedData], tag="ClusterConfigReceived"):
    """A device sent its ClusterConfig."""


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


class LocalChangeDetectedEvent(Event[LocalChangeDetectedData], tag="LocalChangeDetected"):
    """A scan found a changed item (disk)."""

    _subscription = "disk"


class RemoteChangeDetectedData(LocalChangeDetectedData, kw_only=True, gc=False):
    """``RemoteChangeDetected`` (disk stream): an item changed locally by pulling remote changes."""


class RemoteChangeDetectedEvent(Event[RemoteChangeDetectedData], tag="RemoteChangeDetected"):
    """A pull changed an item (disk)."""

    _subscription = "disk"


class LocalIndexUpdatedData(_Data, kw_only=True, gc=False):
    """``LocalIndexUpdated``: a local index batch (scan or pull) was committed."""

    folder: str
    items: int = 0
    if typing.TYPE_CHECKING:
        filenames: list[str]
    else:
        filenames: list[str] | None = None
    sequence: int = 0
    version: int = 0
    """Deprecated; equal to ``sequence``."""

    def __post_init__(self) -> None:
        if self.filenames is None:
            self.filenames = []


class LocalIndexUpdatedEvent(Event[LocalIndexUpdatedData], tag="LocalIndexUpdated"):
    """A local index batch was committed."""


class RemoteIndexUpdatedData(_Data, kw_only=True, gc=False):
    """``RemoteIndexUpdated``: an index batch from a remote device was applied."""

    device: str
    folder: str
    items: int = 0
    sequence: int = 0
    version: int = 0


class RemoteIndexUpdatedEvent(Event[RemoteIndexUpdatedData], tag="RemoteIndexUpdated"):
    """A remote index batch was applied."""


class ItemStartedData(_Data, kw_only=True, gc=False):
    """``ItemStarted``: the puller started on an item."""

    folder: str
    item: str
    type: str
    """``file``, ``dir`` or ``symlink``."""
    action: str
    """``update``, ``delete`` or ``metadata``."""


class ItemStartedEvent(Event[ItemStartedData], tag="ItemStarted"):
    """The puller started on an item."""


class ItemFinishedData(ItemStartedData, kw_only=True, gc=False):
    """``ItemFinished``: the puller finished an item; ``error`` is None on success."""

    error: str | None = None


class ItemFinishedEvent(Event[ItemFinishedData], tag="ItemFinished"):
    """The puller finished an item."""


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


class StateChangedEvent(Event[StateChangedData], tag="StateChanged"):
    """A folder changed state."""


class FolderRejectedData(_Data, kw_only=True, gc=False):
    """``FolderRejected`` (deprecated, still emitted): a device offered an unknown folder."""

    folder: str
    folder_label: str = ""
    device: str


class FolderRejectedEvent(Event[FolderRejectedData], tag="FolderRejected"):
    """A device offered an unknown folder (deprecated)."""


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

    if typing.TYPE_CHECKING:
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


class PendingFoldersChangedEvent(Event[PendingFoldersChangedData], tag="PendingFoldersChanged"):
    """The pending folders changed."""


class ConfigSavedEvent(Event[dict[str, typing.Any]], tag="ConfigSaved"):
    """The configuration was saved; data is the whole config."""


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


DownloadProgressData: typing.TypeAlias = dict[str, dict[str, FileDownloadProgress]]
"""``DownloadProgress`` payload: ``{folder_id: {file_name: FileDownloadProgress}}``."""


class DownloadProgressEvent(Event[DownloadProgressData], tag="DownloadProgress"):
    """Pull progress per folder and file."""


class RemoteDownloadProgressData(_Data, kw_only=True, gc=False):
    """``RemoteDownloadProgress``: a peer reported download progress (blocks per file)."""

    device: str
    folder: str
    if typing.TYPE_CHECKING:
        state: dict[str, int]
    else:
        state: dict[str, int] | None = None

    def __post_init__(self) -> None:
        if self.state is None:
            self.state = {}


class RemoteDownloadProgressEvent(Event[RemoteDownloadProgressData], tag="RemoteDownloadProgress"):
    """A peer reported download progress."""


EventFolderSummary = _db.FolderSummary
"""The summary carried by ``FolderSummary`` events: the same struct as ``/rest/db/status``."""


class FolderSummaryData(_Data, kw_only=True, gc=False):
    """``FolderSummary``: a folder's counters changed (at most every 2 s per folder)."""

    folder: str
    summary: _db.FolderSummary


class FolderSummaryEvent(Event[FolderSummaryData], tag="FolderSummary"):
    """A folder's counters changed."""


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


class FolderCompletionEvent(Event[FolderCompletionData], tag="FolderCompletion"):
    """A remote device's completion of a folder."""


class FolderItemError(_Data, kw_only=True, gc=False):
    """One item that failed to sync."""

    path: str
    error: str


class FolderErrorsData(_Data, kw_only=True, gc=False):
    """``FolderErrors``: a pull pass ended with errors."""

    folder: str
    if typing.TYPE_CHECKING:
        errors: list[FolderItemError]
    else:
        errors: list[FolderItemError] | None = None

    def __post_init__(self) -> None:
        if self.errors is None:
            self.errors = []


class FolderErrorsEvent(Event[FolderErrorsData], tag="FolderErrors"):
    """A pull pass ended with errors."""


class FolderScanProgressData(_Data, kw_only=True, gc=False):
    """``FolderScanProgress``: bytes hashed so far during a scan."""

    folder: str
    current: int = 0
    total: int = 0
    rate: float = 0.0
    """Bytes per second."""


class FolderScanProgressEvent(Event[FolderScanProgressData], tag="FolderScanProgress"):
    """Scan progress of a folder."""


class FolderPausedData(_Data, kw_only=True, gc=False):
    """``FolderPaused``: a config change paused the folder."""

    id: str
    label: str = ""


class FolderPausedEvent(Event[FolderPausedData], tag="FolderPaused"):
    """A folder was paused."""


class FolderResumedData(_Data, kw_only=True, gc=False):
    """``FolderResumed``: a config change resumed the folder."""

    id: str
    label: str = ""


class FolderResumedEvent(Event[FolderResumedData], tag="FolderResumed"):
    """A folder was resumed."""


class FolderWatchStateChangedData(_Data, kw_only=True, gc=False):
    """``FolderWatchStateChanged``: the watcher's error changed; None means "no error"."""

    folder: str
    from_: str | None = None
    to: str | None = None


class FolderWatchStateChangedEvent(Event[FolderWatchStateChangedData], tag="FolderWatchStateChanged"):
    """A folder watcher's error changed."""


class GoURL(_base.SyncthingModel, kw_only=True, gc=False, rename="pascal"):
    """A Go ``url.URL`` serialised field by field (capitalised keys), as in ListenAddressesChanged."""

    scheme: str = ""
    opaque: str = ""
    user: dict[str, typing.Any] | None = None
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
    if typing.TYPE_CHECKING:
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


class ListenAddressesChangedEvent(Event[ListenAddressesChangedData], tag="ListenAddressesChanged"):
    """Listen addresses changed."""


class LoginAttemptData(_Data, kw_only=True, gc=False):
    """``LoginAttempt``: a GUI login (only with GUI authentication on)."""

    success: bool
    username: str = ""
    remote_address: str = ""
    """``ip:port`` up to 1.29.5; the client IP from 1.29.6."""
    proxy: str = ""
    """The proxy's address when ``X-Forwarded-For`` was trusted (Syncthing >= 1.29.6)."""


class LoginAttemptEvent(Event[LoginAttemptData], tag="LoginAttempt"):
    """A GUI login attempt."""


class FailureDetails(_base.SyncthingModel, kw_only=True, gc=False, rename="pascal"):
    """Object form of a ``Failure`` payload (Syncthing >= 1.28.0)."""

    description: str = ""
    goroutines: str = ""
    if typing.TYPE_CHECKING:
        extra: dict[str, str]
    else:
        extra: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if self.extra is None:
            self.extra = {}


FailureData: typing.TypeAlias = str | FailureDetails
"""``Failure`` payload: usually a string; an object since 1.28.0."""


class FailureEvent(Event[FailureData], tag="Failure"):
    """An internal failure was reported."""


class UpgradeRestartScheduledData(_Data, kw_only=True, gc=False):
    """``UpgradeRestartScheduled`` (Syncthing >= 2.0.15): restart after an automatic upgrade."""

    delay_s: int = 0
    new_version: str = ""


class UpgradeRestartScheduledEvent(Event[UpgradeRestartScheduledData], tag="UpgradeRestartScheduled"):
    """A restart after an automatic upgrade is scheduled."""


# --------------------------------------------------------------------------------------
# Derived from the declarations above (nothing to edit here when a type is added)
# --------------------------------------------------------------------------------------

EVENT_TYPES: collections.abc.Mapping[str, tuple[type[Event[typing.Any]], typing.Any]] = {
    name: (cls, cls._data_type) for name, cls in _register_declared().items()
}
"""Syncthing type name -> (event class, payload type) for every type declared above."""

DISK_EVENT_TYPES: frozenset[str] = frozenset(
    name for name, (cls, _) in EVENT_TYPES.items() if cls._subscription == "disk"
)
"""Types in Syncthing's disk subscription (``/rest/events/disk``)."""

DEFAULT_EVENT_TYPES: frozenset[str] = frozenset(EVENT_TYPES) - DISK_EVENT_TYPES
"""Types in Syncthing's default subscription (``/rest/events`` without ``events=``)."""
