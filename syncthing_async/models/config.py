"""Models for ``/rest/config/*`` (the configuration objects and the small status answers).

Every configuration struct is declared with ``dict=True`` so that a decoded object can carry the
raw JSON it came from (see :mod:`syncthing_async._preserve`): sending an object back with
``to_wire()`` then keeps every key a newer Syncthing sent that these models do not know.

Defaults are Syncthing's own defaults where the versions agree. Fields that only some versions
send are documented with the version that added or removed them. ``fs_watcher_delay_s``,
``fs_watcher_timeout_s`` and ``puller_delay_s`` are ``int | float`` because they are ints in v1.x
(which rejects ``10.0`` on input) and floats in v2.x.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from ._base import SyncthingEnum, SyncthingModel
from ._fields import NullDict, NullList

__all__ = [
    "AuthMode",
    "BlockPullOrder",
    "Compression",
    "ConfigInSync",
    "Configuration",
    "CopyRangeMethod",
    "DefaultIgnores",
    "Defaults",
    "DeviceConfig",
    "FilesystemType",
    "FolderConfig",
    "FolderDevice",
    "FolderType",
    "GuiConfig",
    "LdapConfig",
    "LdapTransport",
    "MinDiskFree",
    "ObservedDevice",
    "ObservedFolder",
    "Options",
    "PullOrder",
    "RestartRequired",
    "VersioningConfig",
    "VersioningType",
    "XattrFilter",
    "XattrFilterEntry",
]

_CONFIG_URL = "https://docs.syncthing.net/rest/config.html"


# --- enums -----------------------------------------------------------------------------------


class FolderType(SyncthingEnum):
    """Folder type (input also accepts the legacy ``readwrite``/``readonly``)."""

    SEND_RECEIVE = "sendreceive"
    SEND_ONLY = "sendonly"
    RECEIVE_ONLY = "receiveonly"
    RECEIVE_ENCRYPTED = "receiveencrypted"
    UNKNOWN = "unknown"


class FilesystemType(SyncthingEnum):
    """Filesystem backend of a folder or versioner."""

    BASIC = "basic"
    FAKE = "fake"
    UNKNOWN = "unknown"


class VersioningType(SyncthingEnum):
    """File versioning strategy; ``NONE`` (empty) means versioning is off."""

    NONE = ""
    SIMPLE = "simple"
    STAGGERED = "staggered"
    TRASHCAN = "trashcan"
    EXTERNAL = "external"
    UNKNOWN = "unknown"


class PullOrder(SyncthingEnum):
    """Order in which needed files are pulled (``FolderConfig.order``)."""

    RANDOM = "random"
    ALPHABETIC = "alphabetic"
    SMALLEST_FIRST = "smallestFirst"
    LARGEST_FIRST = "largestFirst"
    OLDEST_FIRST = "oldestFirst"
    NEWEST_FIRST = "newestFirst"
    UNKNOWN = "unknown"


class BlockPullOrder(SyncthingEnum):
    """Order in which the blocks of a file are pulled."""

    STANDARD = "standard"
    RANDOM = "random"
    IN_ORDER = "inOrder"
    UNKNOWN = "unknown"


class CopyRangeMethod(SyncthingEnum):
    """Method used to copy data between files."""

    STANDARD = "standard"
    IOCTL = "ioctl"
    COPY_FILE_RANGE = "copy_file_range"
    SENDFILE = "sendfile"
    DUPLICATE_EXTENTS = "duplicate_extents"
    ALL = "all"
    UNKNOWN = "unknown"


class Compression(SyncthingEnum):
    """What a device connection compresses."""

    METADATA = "metadata"
    ALWAYS = "always"
    NEVER = "never"
    UNKNOWN = "unknown"


class AuthMode(SyncthingEnum):
    """GUI authentication backend."""

    STATIC = "static"
    LDAP = "ldap"
    UNKNOWN = "unknown"


class LdapTransport(SyncthingEnum):
    """LDAP connection transport."""

    PLAIN = "plain"
    TLS = "tls"
    STARTTLS = "starttls"
    UNKNOWN = "unknown"


# --- small nested structs --------------------------------------------------------------------


class MinDiskFree(SyncthingModel, kw_only=True, dict=True):
    """A size with unit (``%``, ``kB``, ``MB``, ``GB``, ``TB``): ``minDiskFree``, ``minHomeDiskFree``."""

    value: float = 1
    unit: str = "%"


class VersioningConfig(SyncthingModel, kw_only=True, dict=True):
    """``FolderConfig.versioning``; ``params`` keys depend on ``type`` (``keep``, ``cleanoutDays``...)."""

    type: VersioningType = VersioningType.NONE
    params: NullDict[str, str] = msgspec.field(default_factory=dict)
    cleanup_interval_s: int = 3600
    fs_path: str = ""
    fs_type: FilesystemType = FilesystemType.BASIC

    def __post_init__(self) -> None:
        if self.params is None:
            self.params = {}


class XattrFilterEntry(SyncthingModel, kw_only=True, dict=True):
    """One extended-attribute filter rule (v1.22.0+)."""

    match: str = ""
    permit: bool = False


class XattrFilter(SyncthingModel, kw_only=True, dict=True):
    """``FolderConfig.xattr_filter`` (v1.22.0+)."""

    entries: NullList[XattrFilterEntry] = msgspec.field(default_factory=list)
    max_single_entry_size: int = 1024
    max_total_size: int = 4096

    def __post_init__(self) -> None:
        if self.entries is None:
            self.entries = []


class FolderDevice(SyncthingModel, kw_only=True, dict=True):
    """A device a folder is shared with (``FolderConfig.devices``)."""

    device_id: str
    introduced_by: str = ""
    encryption_password: str = ""


class ObservedFolder(SyncthingModel, kw_only=True, dict=True):
    """A folder a device offered that is ignored (``DeviceConfig.ignored_folders``)."""

    time: datetime | None = None
    id: str = ""
    label: str = ""


class ObservedDevice(SyncthingModel, kw_only=True, dict=True):
    """An ignored remote device (``Configuration.remote_ignored_devices``)."""

    time: datetime | None = None
    device_id: str = ""
    name: str = ""
    address: str = ""


# --- folder / device -------------------------------------------------------------------------


class FolderConfig(SyncthingModel, kw_only=True, dict=True, weakref=True):
    """A folder: ``GET /rest/config/folders/{id}``: https://docs.syncthing.net/rest/config.html"""

    __doc_url__ = _CONFIG_URL

    id: str = ""
    label: str = ""
    filesystem_type: FilesystemType = FilesystemType.BASIC
    path: str = ""
    type: FolderType = FolderType.SEND_RECEIVE
    devices: NullList[FolderDevice] = msgspec.field(default_factory=list)
    group: str = ""
    """v2.1.0+."""
    rescan_interval_s: int = 3600
    fs_watcher_enabled: bool = True
    fs_watcher_delay_s: int | float = 10
    fs_watcher_timeout_s: int | float = 0
    """v1.27.8+."""
    ignore_perms: bool = False
    auto_normalize: bool = True
    min_disk_free: MinDiskFree = msgspec.field(default_factory=MinDiskFree)
    versioning: VersioningConfig = msgspec.field(default_factory=VersioningConfig)
    copiers: int = 0
    puller_max_pending_kib: int = msgspec.field(default=0, name="pullerMaxPendingKiB")
    hashers: int = 0
    order: PullOrder = PullOrder.RANDOM
    ignore_delete: bool = False
    scan_progress_interval_s: int = 0
    puller_pause_s: int = 0
    puller_delay_s: int | float = 1
    """v2.0.0+."""
    max_conflicts: int = 10
    disable_sparse_files: bool = False
    disable_temp_indexes: bool = False
    """Removed in v2.0.0."""
    paused: bool = False
    weak_hash_threshold_pct: int = 25
    """Removed in v2.0.0."""
    marker_name: str = ".stfolder"
    copy_ownership_from_parent: bool = False
    mod_time_window_s: int = 0
    max_concurrent_writes: int = 2
    disable_fsync: bool = False
    block_pull_order: BlockPullOrder = BlockPullOrder.STANDARD
    copy_range_method: CopyRangeMethod = CopyRangeMethod.STANDARD
    case_sensitive_fs: bool = msgspec.field(default=False, name="caseSensitiveFS")
    junctions_as_dirs: bool = False
    sync_ownership: bool = False
    """v1.21.0+."""
    send_ownership: bool = False
    """v1.21.0+."""
    sync_xattrs: bool = False
    """v1.22.0+."""
    send_xattrs: bool = False
    """v1.22.0+."""
    xattr_filter: XattrFilter = msgspec.field(default_factory=XattrFilter)
    """v1.22.0+."""
    block_indexing: bool = True
    """v2.1.0+."""

    def __post_init__(self) -> None:
        if self.devices is None:
            self.devices = []


class DeviceConfig(SyncthingModel, kw_only=True, dict=True, weakref=True):
    """A device: ``GET /rest/config/devices/{id}``: https://docs.syncthing.net/rest/config.html"""

    __doc_url__ = _CONFIG_URL

    device_id: str = ""
    name: str = ""
    addresses: NullList[str] = msgspec.field(default_factory=lambda: ["dynamic"])
    compression: Compression = Compression.METADATA
    cert_name: str = ""
    introducer: bool = False
    skip_introduction_removals: bool = False
    introduced_by: str = ""
    paused: bool = False
    allowed_networks: NullList[str] = msgspec.field(default_factory=list)
    auto_accept_folders: bool = False
    max_send_kbps: int = 0
    max_recv_kbps: int = 0
    ignored_folders: NullList[ObservedFolder] = msgspec.field(default_factory=list)
    max_request_kib: int = msgspec.field(default=0, name="maxRequestKiB")
    untrusted: bool = False
    remote_gui_port: int = msgspec.field(default=0, name="remoteGUIPort")
    num_connections: int = 0
    """v1.25.0+."""
    group: str = ""
    """v2.1.0+."""

    def __post_init__(self) -> None:
        if self.addresses is None:
            self.addresses = []
        if self.allowed_networks is None:
            self.allowed_networks = []
        if self.ignored_folders is None:
            self.ignored_folders = []


# --- gui / ldap / options --------------------------------------------------------------------


class GuiConfig(SyncthingModel, kw_only=True, dict=True):
    """``GET /rest/config/gui``; ``password`` is the bcrypt hash: https://docs.syncthing.net/rest/config.html"""

    __doc_url__ = _CONFIG_URL

    enabled: bool = True
    address: str = "127.0.0.1:8384"
    unix_socket_permissions: str = ""
    user: str = ""
    password: str = ""
    auth_mode: AuthMode = AuthMode.STATIC
    use_tls: bool = msgspec.field(default=False, name="useTLS")
    api_key: str = ""
    insecure_admin_access: bool = False
    theme: str = "default"
    debugging: bool = False
    """v1.x only (removed in v2.0.0)."""
    insecure_skip_hostcheck: bool = msgspec.field(default=False, name="insecureSkipHostcheck")
    insecure_allow_frame_loading: bool = False
    send_basic_auth_prompt: bool = False
    """v1.26.0+."""
    metrics_without_auth: bool = False
    """v1.29.6+."""
    session_cookie_duration_s: int = 604800
    """v2.1.0+."""
    session_cookie_path: str = "/"
    """v2.1.0+."""


class LdapConfig(SyncthingModel, kw_only=True, dict=True):
    """``GET /rest/config/ldap``: https://docs.syncthing.net/rest/config.html"""

    __doc_url__ = _CONFIG_URL

    address: str = ""
    bind_dn: str = msgspec.field(default="", name="bindDN")
    transport: LdapTransport = LdapTransport.PLAIN
    insecure_skip_verify: bool = False
    search_base_dn: str = msgspec.field(default="", name="searchBaseDN")
    search_filter: str = ""


class Options(SyncthingModel, kw_only=True, dict=True):
    """``GET /rest/config/options``: https://docs.syncthing.net/rest/config.html"""

    __doc_url__ = _CONFIG_URL

    listen_addresses: NullList[str] = msgspec.field(default_factory=lambda: ["default"])
    global_announce_servers: NullList[str] = msgspec.field(default_factory=lambda: ["default"])
    global_announce_enabled: bool = True
    local_announce_enabled: bool = True
    local_announce_port: int = 21027
    local_announce_mc_addr: str = msgspec.field(default="[ff12::8384]:21027", name="localAnnounceMCAddr")
    max_send_kbps: int = 0
    max_recv_kbps: int = 0
    reconnection_interval_s: int = 60
    relays_enabled: bool = True
    relay_reconnect_interval_m: int = 10
    start_browser: bool = True
    nat_enabled: bool = True
    nat_lease_minutes: int = 60
    nat_renewal_minutes: int = 30
    nat_timeout_seconds: int = 10
    ur_accepted: int = 0
    """-1 declined, 0 undecided, n accepted report version n."""
    ur_seen: int = 0
    ur_unique_id: str = msgspec.field(default="", name="urUniqueId")
    ur_url: str = msgspec.field(default="https://data.syncthing.net/newdata", name="urURL")
    ur_post_insecurely: bool = False
    ur_initial_delay_s: int = 1800
    restart_on_wakeup: bool = True
    """Removed in v1.21.0."""
    auto_upgrade_interval_h: int = 12
    upgrade_to_pre_releases: bool = False
    keep_temporaries_h: int = 24
    cache_ignored_files: bool = False
    """Removed in v2.1.3."""
    progress_update_interval_s: int = 5
    limit_bandwidth_in_lan: bool = False
    min_home_disk_free: MinDiskFree = msgspec.field(default_factory=MinDiskFree)
    releases_url: str = msgspec.field(default="https://upgrades.syncthing.net/meta.json", name="releasesURL")
    always_local_nets: NullList[str] = msgspec.field(default_factory=list)
    overwrite_remote_device_names_on_connect: bool = False
    temp_index_min_blocks: int = 10
    unacked_notification_ids: NullList[str] = msgspec.field(
        default_factory=list, name="unackedNotificationIDs"
    )
    traffic_class: int = 0
    set_low_priority: bool = True
    max_folder_concurrency: int = 0
    cr_url: str = msgspec.field(default="https://crash.syncthing.net/newcrash", name="crURL")
    crash_reporting_enabled: bool = True
    stun_keepalive_start_s: int = 180
    stun_keepalive_min_s: int = 20
    stun_servers: NullList[str] = msgspec.field(default_factory=lambda: ["default"])
    database_tuning: str = "auto"
    """Removed in v2.0.0."""
    max_concurrent_incoming_request_kib: int = msgspec.field(
        default=0, name="maxConcurrentIncomingRequestKiB"
    )
    announce_lan_addresses: bool = msgspec.field(default=True, name="announceLANAddresses")
    send_full_index_on_upgrade: bool = False
    feature_flags: NullList[str] = msgspec.field(default_factory=list)
    audit_enabled: bool = False
    """v1.29.6+."""
    audit_file: str = ""
    """v1.29.6+."""
    connection_limit_enough: int = 0
    connection_limit_max: int = 0
    insecure_allow_old_tls_versions: bool = msgspec.field(default=False, name="insecureAllowOldTLSVersions")
    """Removed in v1.29.6."""
    connection_priority_tcp_lan: int = 10
    """v1.23.5+ (this and the other ``connection_priority_*``)."""
    connection_priority_quic_lan: int = 20
    connection_priority_tcp_wan: int = 30
    connection_priority_quic_wan: int = 40
    connection_priority_relay: int = 50
    connection_priority_upgrade_threshold: int = 0

    def __post_init__(self) -> None:
        if self.listen_addresses is None:
            self.listen_addresses = []
        if self.global_announce_servers is None:
            self.global_announce_servers = []
        if self.always_local_nets is None:
            self.always_local_nets = []
        if self.unacked_notification_ids is None:
            self.unacked_notification_ids = []
        if self.stun_servers is None:
            self.stun_servers = []
        if self.feature_flags is None:
            self.feature_flags = []


# --- defaults / whole configuration ----------------------------------------------------------


class DefaultIgnores(SyncthingModel, kw_only=True, dict=True):
    """``GET /rest/config/defaults/ignores`` (v1.19.0+): https://docs.syncthing.net/rest/config.html"""

    __doc_url__ = _CONFIG_URL

    lines: NullList[str] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        if self.lines is None:
            self.lines = []


class Defaults(SyncthingModel, kw_only=True, dict=True):
    """``Configuration.defaults``: templates for new folders and devices, default ignores."""

    folder: FolderConfig = msgspec.field(default_factory=FolderConfig)
    device: DeviceConfig = msgspec.field(default_factory=DeviceConfig)
    ignores: DefaultIgnores = msgspec.field(default_factory=DefaultIgnores)


class Configuration(SyncthingModel, kw_only=True, dict=True):
    """The whole configuration: ``GET /rest/config``: https://docs.syncthing.net/rest/config.html"""

    __doc_url__ = _CONFIG_URL

    version: int = 0
    """Config schema version (1.19.2 writes 36)."""
    folders: NullList[FolderConfig] = msgspec.field(default_factory=list)
    devices: NullList[DeviceConfig] = msgspec.field(default_factory=list)
    gui: GuiConfig = msgspec.field(default_factory=GuiConfig)
    ldap: LdapConfig = msgspec.field(default_factory=LdapConfig)
    options: Options = msgspec.field(default_factory=Options)
    remote_ignored_devices: NullList[ObservedDevice] = msgspec.field(default_factory=list)
    defaults: Defaults = msgspec.field(default_factory=Defaults)

    def __post_init__(self) -> None:
        if self.folders is None:
            self.folders = []
        if self.devices is None:
            self.devices = []
        if self.remote_ignored_devices is None:
            self.remote_ignored_devices = []


# --- small answers ---------------------------------------------------------------------------


class ConfigInSync(SyncthingModel, kw_only=True):
    """``GET /rest/config/insync`` and ``/rest/system/config/insync`` (deprecated): https://docs.syncthing.net/rest/system-config-insync-get.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/system-config-insync-get.html"

    config_in_sync: bool


class RestartRequired(SyncthingModel, kw_only=True):
    """``GET /rest/config/restart-required``: https://docs.syncthing.net/rest/config.html"""

    __doc_url__ = _CONFIG_URL

    requires_restart: bool
