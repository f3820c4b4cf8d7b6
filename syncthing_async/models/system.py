"""Models for ``/rest/system/*`` and ``/rest/noauth/health`` responses and request bodies."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import msgspec

from ._base import SyncthingEnum, SyncthingModel
from ._fields import NullDict, NullList

__all__ = [
    "ConnectionServiceStatus",
    "ConnectionStats",
    "ConnectionTotals",
    "ConnectionType",
    "Connections",
    "DebugFacilities",
    "DeviceConnection",
    "DiscoveryCache",
    "DiscoveryCacheEntry",
    "DiscoveryStatusEntry",
    "Health",
    "LastDialStatus",
    "LogEntry",
    "LogLevel",
    "LogLevels",
    "LogLevelsRequest",
    "OkResponse",
    "Ping",
    "SystemBrowse",
    "SystemErrors",
    "SystemLog",
    "SystemPaths",
    "SystemStatus",
    "SystemVersion",
    "UpgradeInfo",
]


class Ping(SyncthingModel, kw_only=True):
    """``{"ping": "pong"}`` from ``GET``/``POST /rest/system/ping``: https://docs.syncthing.net/rest/system-ping-get.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/system-ping-get.html"

    ping: str


class Health(SyncthingModel, kw_only=True):
    """``{"status": "OK"}`` from ``GET /rest/noauth/health`` (v1.22.1+): https://docs.syncthing.net/rest/noauth-health-get.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/noauth-health-get.html"

    status: str


class OkResponse(SyncthingModel, kw_only=True):
    """``{"ok": "restarting"}`` from restart/shutdown/reset/upgrade: https://docs.syncthing.net/rest/system-restart-post.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/system-restart-post.html"

    ok: str


# --- /rest/system/status ---------------------------------------------------------------------


class ConnectionServiceStatus(SyncthingModel, kw_only=True):
    """One listener in ``SystemStatus.connection_service_status``: https://docs.syncthing.net/rest/system-status-get.html"""

    error: str | None = None
    lan_addresses: NullList[str] = msgspec.field(default_factory=list)
    wan_addresses: NullList[str] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        if self.lan_addresses is None:
            self.lan_addresses = []
        if self.wan_addresses is None:
            self.wan_addresses = []


class LastDialStatus(SyncthingModel, kw_only=True):
    """Last dial attempt of one address in ``SystemStatus.last_dial_status`` (``error`` None = success): https://docs.syncthing.net/rest/system-status-get.html"""

    when: datetime
    error: str | None = None


class DiscoveryStatusEntry(SyncthingModel, kw_only=True):
    """One discovery method in ``SystemStatus.discovery_status`` (``error`` None = running fine): https://docs.syncthing.net/rest/system-status-get.html"""

    error: str | None = None


class SystemStatus(SyncthingModel, kw_only=True):
    """``GET /rest/system/status``: https://docs.syncthing.net/rest/system-status-get.html

    ``discovery_*`` are sent only while local or global discovery is on; ``cpu_percent`` is always 0.
    """

    __doc_url__ = "https://docs.syncthing.net/rest/system-status-get.html"

    my_id: str
    start_time: datetime
    uptime: int = 0
    goroutines: int = 0
    alloc: int = 0
    sys: int = 0
    tilde: str = ""
    path_separator: str = "/"
    ur_version_max: int = 0
    cpu_percent: float = 0
    gui_address_overridden: bool = False
    gui_address_used: str = ""
    connection_service_status: NullDict[str, ConnectionServiceStatus] = msgspec.field(default_factory=dict)
    last_dial_status: NullDict[str, LastDialStatus] = msgspec.field(default_factory=dict)
    discovery_enabled: bool = False
    discovery_status: NullDict[str, DiscoveryStatusEntry] = msgspec.field(default_factory=dict)
    discovery_methods: int = 0
    discovery_errors: NullDict[str, str | None] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.connection_service_status is None:
            self.connection_service_status = {}
        if self.last_dial_status is None:
            self.last_dial_status = {}
        if self.discovery_status is None:
            self.discovery_status = {}
        if self.discovery_errors is None:
            self.discovery_errors = {}


# --- /rest/system/version --------------------------------------------------------------------


class SystemVersion(SyncthingModel, kw_only=True):
    """``GET /rest/system/version``: https://docs.syncthing.net/rest/system-version-get.html

    Distro builds (``v1.19.2-ds1``) may report ``is_beta`` true; do not trust it.
    """

    __doc_url__ = "https://docs.syncthing.net/rest/system-version-get.html"

    version: str
    long_version: str = ""
    codename: str = ""
    os: str = ""
    arch: str = ""
    is_beta: bool = False
    is_candidate: bool = False
    is_release: bool = False
    date: datetime | None = None
    tags: NullList[str] = msgspec.field(default_factory=list)
    stamp: str = ""
    user: str = ""
    extra: str = ""
    """v1.23.7+."""
    container: bool = False
    """v1.23.0+."""

    def __post_init__(self) -> None:
        if self.tags is None:
            self.tags = []


# --- /rest/system/connections ----------------------------------------------------------------


class ConnectionType(SyncthingEnum):
    """Transport of a connection; ``NONE`` (empty) when not connected."""

    NONE = ""
    TCP_CLIENT = "tcp-client"
    TCP_SERVER = "tcp-server"
    RELAY_CLIENT = "relay-client"
    RELAY_SERVER = "relay-server"
    QUIC_CLIENT = "quic-client"
    QUIC_SERVER = "quic-server"
    UNKNOWN = "unknown"


class ConnectionStats(SyncthingModel, kw_only=True):
    """One connection (``primary`` / ``secondary[]``, v1.25.0+): https://docs.syncthing.net/rest/system-connections-get.html"""

    at: datetime
    in_bytes_total: int = 0
    out_bytes_total: int = 0
    started_at: datetime | None = None
    address: str = ""
    type: ConnectionType = ConnectionType.NONE
    is_local: bool = False
    crypto: str = ""


class DeviceConnection(SyncthingModel, kw_only=True):
    """One device in ``Connections.connections``: https://docs.syncthing.net/rest/system-connections-get.html

    Since v1.25.0 ``type``, ``address``, ``crypto`` and ``is_local`` repeat the primary connection's.
    """

    at: datetime
    in_bytes_total: int = 0
    out_bytes_total: int = 0
    started_at: datetime | None = None
    connected: bool = False
    paused: bool = False
    address: str = ""
    client_version: str = ""
    type: ConnectionType = ConnectionType.NONE
    crypto: str = ""
    is_local: bool = False
    """v1.23.0+."""
    primary: ConnectionStats | None = None
    """v1.25.0+."""
    secondary: NullList[ConnectionStats] = msgspec.field(default_factory=list)
    """v1.25.0+; omitted when there is none."""

    def __post_init__(self) -> None:
        if self.secondary is None:
            self.secondary = []


class ConnectionTotals(SyncthingModel, kw_only=True):
    """``Connections.total``: https://docs.syncthing.net/rest/system-connections-get.html"""

    at: datetime
    in_bytes_total: int = 0
    out_bytes_total: int = 0


class Connections(SyncthingModel, kw_only=True):
    """``GET /rest/system/connections`` (1.19.2 also lists the local device): https://docs.syncthing.net/rest/system-connections-get.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/system-connections-get.html"

    connections: NullDict[str, DeviceConnection] = msgspec.field(default_factory=dict)
    total: ConnectionTotals

    def __post_init__(self) -> None:
        if self.connections is None:
            self.connections = {}


# --- /rest/system/discovery ------------------------------------------------------------------


class DiscoveryCacheEntry(SyncthingModel, kw_only=True):
    """One device in the discovery cache: https://docs.syncthing.net/rest/system-discovery-get.html"""

    addresses: NullList[str] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        if self.addresses is None:
            self.addresses = []


DiscoveryCache: TypeAlias = dict[str, DiscoveryCacheEntry]
"""``GET /rest/system/discovery``: device ID -> cache entry. https://docs.syncthing.net/rest/system-discovery-get.html"""


# --- /rest/system/error, /rest/system/log, /rest/system/loglevels, /rest/system/debug ----------


class LogEntry(SyncthingModel, kw_only=True):
    """One log line: https://docs.syncthing.net/rest/system-log-get.html

    ``level`` is an int in v1.x (0 debug ... 3 warning) and a string (``"INFO"``, ``"WARN"``...) in v2.x.
    """

    when: datetime
    message: str
    level: int | str = 0


class SystemErrors(SyncthingModel, kw_only=True):
    """``GET /rest/system/error``: https://docs.syncthing.net/rest/system-error-get.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/system-error-get.html"

    errors: NullList[LogEntry] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        if self.errors is None:
            self.errors = []


class SystemLog(SyncthingModel, kw_only=True):
    """``GET /rest/system/log``: https://docs.syncthing.net/rest/system-log-get.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/system-log-get.html"

    messages: NullList[LogEntry] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        if self.messages is None:
            self.messages = []


class LogLevel(SyncthingEnum):
    """A v2.x log level name."""

    DEBUG = "DEBUG"
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"
    UNKNOWN = "UNKNOWN"


class LogLevels(SyncthingModel, kw_only=True):
    """``GET /rest/system/loglevels`` (v2.0.0+): https://docs.syncthing.net/rest/system-loglevels-get.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/system-loglevels-get.html"

    packages: NullDict[str, str] = msgspec.field(default_factory=dict)
    """Facility -> description."""
    levels: NullDict[str, LogLevel] = msgspec.field(default_factory=dict)
    """Facility -> current level."""

    def __post_init__(self) -> None:
        if self.packages is None:
            self.packages = {}
        if self.levels is None:
            self.levels = {}


LogLevelsRequest: TypeAlias = dict[str, LogLevel]
"""Body of ``POST /rest/system/loglevels`` (v2.0.0+): facility -> level. https://docs.syncthing.net/rest/system-loglevels-post.html"""


class DebugFacilities(SyncthingModel, kw_only=True):
    """``GET /rest/system/debug`` (v1.x only; replaced by loglevels in v2.0.0): https://docs.syncthing.net/rest/system-loglevels-get.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/system-loglevels-get.html"

    facilities: NullDict[str, str] = msgspec.field(default_factory=dict)
    """Facility -> description."""
    enabled: NullList[str] = msgspec.field(default_factory=list)
    """Facilities with debug logging on."""

    def __post_init__(self) -> None:
        if self.facilities is None:
            self.facilities = {}
        if self.enabled is None:
            self.enabled = []


# --- /rest/system/paths, browse, upgrade -----------------------------------------------------


class SystemPaths(SyncthingModel, kw_only=True):
    """``GET /rest/system/paths`` (v1.21.0+): https://docs.syncthing.net/rest/system-paths-get.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/system-paths-get.html"

    config: str = ""
    cert_file: str = ""
    key_file: str = ""
    https_cert_file: str = ""
    https_key_file: str = ""
    database: str = ""
    legacy_database: str = ""
    """v2.x."""
    log_file: str = ""
    panic_log: str = ""
    audit_log: str = ""
    gui_assets: str = ""
    def_folder: str = ""
    lock_file: str = ""
    csrf_tokens: str = ""
    """Older versions only."""
    base_dir_config: str = msgspec.field(default="", name="baseDir-config")
    base_dir_data: str = msgspec.field(default="", name="baseDir-data")
    base_dir_user_home: str = msgspec.field(default="", name="baseDir-userHome")


SystemBrowse: TypeAlias = list[str]
"""``GET /rest/system/browse``: matching directories (Syncthing may send ``null``). https://docs.syncthing.net/rest/system-browse-get.html"""


class UpgradeInfo(SyncthingModel, kw_only=True):
    """``GET /rest/system/upgrade``: https://docs.syncthing.net/rest/system-upgrade-get.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/system-upgrade-get.html"

    running: str
    latest: str
    newer: bool = False
    major_newer: bool = False
