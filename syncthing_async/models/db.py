"""Models for ``/rest/db/*`` and ``/rest/folder/*`` responses and request bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeAlias

import msgspec

from ._base import SyncthingEnum, SyncthingModel
from ._fields import NullDict, NullList

__all__ = [
    "Availability",
    "BrowseEntry",
    "Completion",
    "DbBrowse",
    "DbFile",
    "FileError",
    "FileInfo",
    "FileInfoType",
    "FileVersion",
    "FilesPage",
    "FolderErrors",
    "FolderState",
    "FolderSummary",
    "FolderVersions",
    "Ignores",
    "IgnoresRequest",
    "LocalChanged",
    "MtimeMapping",
    "MtimeValue",
    "Need",
    "RemoteNeed",
    "RemoteState",
    "RestoreVersionsRequest",
    "RestoreVersionsResult",
]


class FolderState(SyncthingEnum):
    """Folder state; ``NONE`` (empty) is what a paused or stopped folder reports."""

    NONE = ""
    IDLE = "idle"
    SCANNING = "scanning"
    SCAN_WAITING = "scan-waiting"
    SYNC_WAITING = "sync-waiting"
    SYNC_PREPARING = "sync-preparing"
    SYNCING = "syncing"
    CLEANING = "cleaning"
    CLEAN_WAITING = "clean-waiting"
    ERROR = "error"
    STARTING = "starting"
    """v2.1.0+."""
    UNKNOWN = "unknown"


class RemoteState(SyncthingEnum):
    """Whether the remote device shares the folder back (``Completion.remote_state``, v1.20.0+)."""

    UNKNOWN = "unknown"
    NOT_SHARING = "notSharing"
    PAUSED = "paused"
    VALID = "valid"


class FileInfoType(SyncthingEnum):
    """Type of an index entry."""

    FILE = "FILE_INFO_TYPE_FILE"
    DIRECTORY = "FILE_INFO_TYPE_DIRECTORY"
    SYMLINK = "FILE_INFO_TYPE_SYMLINK"
    SYMLINK_FILE = "FILE_INFO_TYPE_SYMLINK_FILE"
    """Deprecated protocol value."""
    SYMLINK_DIRECTORY = "FILE_INFO_TYPE_SYMLINK_DIRECTORY"
    """Deprecated protocol value."""
    UNKNOWN = "unknown"


# --- /rest/db/status -------------------------------------------------------------------------


class FolderSummary(SyncthingModel, kw_only=True):
    """``GET /rest/db/status`` (and the ``FolderSummary`` event): https://docs.syncthing.net/rest/db-status-get.html

    Before v1.27.4 ``receive_only_*`` come only for receive-only/encrypted folders, ``error`` and
    ``watch_error`` only when set, ``sequence`` is the local + global sum and ``remote_sequence``
    is absent. A paused folder reports zeros and ``state`` ``NONE``.
    """

    __doc_url__ = "https://docs.syncthing.net/rest/db-status-get.html"

    state: FolderState = FolderState.UNKNOWN
    state_changed: datetime | None = None
    error: str = ""
    watch_error: str = ""
    errors: int = 0
    pull_errors: int = 0
    """Deprecated duplicate of ``errors``."""
    invalid: str = ""
    """Deprecated, always empty."""
    global_files: int = 0
    global_directories: int = 0
    global_symlinks: int = 0
    global_deleted: int = 0
    global_bytes: int = 0
    global_total_items: int = 0
    local_files: int = 0
    local_directories: int = 0
    local_symlinks: int = 0
    local_deleted: int = 0
    local_bytes: int = 0
    local_total_items: int = 0
    need_files: int = 0
    need_directories: int = 0
    need_symlinks: int = 0
    need_deletes: int = 0
    need_bytes: int = 0
    need_total_items: int = 0
    receive_only_changed_files: int = 0
    receive_only_changed_directories: int = 0
    receive_only_changed_symlinks: int = 0
    receive_only_changed_deletes: int = 0
    receive_only_changed_bytes: int = 0
    receive_only_total_items: int = 0
    in_sync_files: int = 0
    in_sync_bytes: int = 0
    version: int = 0
    """Deprecated, equal to ``sequence``."""
    sequence: int = 0
    remote_sequence: NullDict[str, int] = msgspec.field(default_factory=dict)
    """Device ID -> that device's sequence (v1.27.4+)."""
    ignore_patterns: bool = False

    def __post_init__(self) -> None:
        if self.remote_sequence is None:
            self.remote_sequence = {}


# --- /rest/db/completion ---------------------------------------------------------------------


class Completion(SyncthingModel, kw_only=True):
    """``GET /rest/db/completion``: https://docs.syncthing.net/rest/db-completion-get.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/db-completion-get.html"

    completion: float
    """Percent, 0-100."""
    global_bytes: int = 0
    need_bytes: int = 0
    global_items: int = 0
    need_items: int = 0
    need_deletes: int = 0
    sequence: int = 0
    remote_state: RemoteState = RemoteState.UNKNOWN
    """v1.20.0+; meaningless for aggregates."""


# --- FileInfo and /rest/db/file --------------------------------------------------------------


class FileInfo(SyncthingModel, kw_only=True, gc=False):
    """An index entry (``/rest/db/file``, ``/rest/db/need``...): https://docs.syncthing.net/rest/db-file-get.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/db-file-get.html"

    name: str
    type: FileInfoType = FileInfoType.FILE
    size: int = 0
    deleted: bool = False
    invalid: bool = False
    ignored: bool = False
    must_rescan: bool = False
    no_permissions: bool = False
    modified: datetime | None = None
    modified_by: str = ""
    """Short device ID (7 characters)."""
    sequence: int = 0
    version: list[str] = msgspec.field(default_factory=list)
    """Version vector as ``"SHORTID:counter"`` strings (never ``null``)."""
    local_flags: int = 0
    num_blocks: int | None = None
    """None where Syncthing does not know it (truncated entries in need lists)."""
    permissions: str = ""
    """Octal, e.g. ``"0644"``; empty when the entry has no permission bits."""
    platform: dict[str, Any] | None = None
    """Per-OS data (ownership, xattrs), keyed by platform (v1.22.0+)."""
    inode_change: datetime | None = None
    blocks_hash: str | None = None
    """Base64 (v1.23.3+)."""
    previous_blocks_hash: str | None = None
    """Base64 (v2.0.10+)."""


class Availability(SyncthingModel, kw_only=True):
    """A device that has a file (``DbFile.availability``)."""

    id: str
    from_temporary: bool = False


class MtimeValue(SyncthingModel, kw_only=True):
    """Real and virtual modification time of a file (v1.x)."""

    real: datetime
    virtual: datetime


class MtimeMapping(SyncthingModel, kw_only=True):
    """``DbFile.mtime`` (v1.x only)."""

    err: str | None = None
    value: MtimeValue | None = None


class DbFile(SyncthingModel, kw_only=True):
    """``GET /rest/db/file``: https://docs.syncthing.net/rest/db-file-get.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/db-file-get.html"

    global_: FileInfo = msgspec.field(name="global")
    local: FileInfo
    availability: NullList[Availability] = msgspec.field(default_factory=list)
    mtime: MtimeMapping | None = None
    """v1.x only (removed in v2.0.0)."""

    def __post_init__(self) -> None:
        if self.availability is None:
            self.availability = []


# --- /rest/db/ignores ------------------------------------------------------------------------


class Ignores(SyncthingModel, kw_only=True):
    """``GET``/``POST /rest/db/ignores``: https://docs.syncthing.net/rest/db-ignores-get.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/db-ignores-get.html"

    ignore: NullList[str] = msgspec.field(default_factory=list)
    """The ``.stignore`` lines."""
    expanded: NullList[str] = msgspec.field(default_factory=list)
    """The resulting glob patterns."""
    error: str | None = None
    """Load or parse error (v1.27.1+ also reports an unknown folder here)."""

    def __post_init__(self) -> None:
        if self.ignore is None:
            self.ignore = []
        if self.expanded is None:
            self.expanded = []


class IgnoresRequest(SyncthingModel, kw_only=True):
    """Body of ``POST /rest/db/ignores``: https://docs.syncthing.net/rest/db-ignores-post.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/db-ignores-post.html"

    ignore: list[str]


# --- paged file lists ------------------------------------------------------------------------


class Need(SyncthingModel, kw_only=True):
    """``GET /rest/db/need`` and ``POST /rest/db/prio``: https://docs.syncthing.net/rest/db-need-get.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/db-need-get.html"

    progress: NullList[FileInfo] = msgspec.field(default_factory=list)
    """Being pulled now."""
    queued: NullList[FileInfo] = msgspec.field(default_factory=list)
    """Queued next, in order."""
    rest: NullList[FileInfo] = msgspec.field(default_factory=list)
    page: int = 1
    perpage: int = 65536

    def __post_init__(self) -> None:
        if self.progress is None:
            self.progress = []
        if self.queued is None:
            self.queued = []
        if self.rest is None:
            self.rest = []


class FilesPage(SyncthingModel, kw_only=True):
    """A page of index entries: ``{files, page, perpage}``."""

    files: NullList[FileInfo] = msgspec.field(default_factory=list)
    page: int = 1
    perpage: int = 65536

    def __post_init__(self) -> None:
        if self.files is None:
            self.files = []


class RemoteNeed(FilesPage, kw_only=True):
    """``GET /rest/db/remoteneed``: https://docs.syncthing.net/rest/db-remoteneed-get.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/db-remoteneed-get.html"


class LocalChanged(FilesPage, kw_only=True):
    """``GET /rest/db/localchanged``: https://docs.syncthing.net/rest/db-localchanged-get.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/db-localchanged-get.html"


# --- /rest/db/browse -------------------------------------------------------------------------


class BrowseEntry(SyncthingModel, kw_only=True, gc=False):
    """One entry of ``GET /rest/db/browse``: https://docs.syncthing.net/rest/db-browse-get.html"""

    name: str
    type: FileInfoType = FileInfoType.FILE
    mod_time: datetime | None = None
    size: int = 0
    children: list[BrowseEntry] = msgspec.field(default_factory=list)
    """Omitted for files and at the ``levels`` limit (Go omits an empty list, never sends ``null``).

    A plain ``list`` with no ``__post_init__`` (like ``FileInfo.version``): a browse answer has one
    entry per file, and a per-entry hook cost about 15 % of decoding a 20,000-file tree."""


DbBrowse: TypeAlias = list[BrowseEntry]
"""``GET /rest/db/browse``: https://docs.syncthing.net/rest/db-browse-get.html"""


# --- /rest/folder/errors, /rest/folder/versions ----------------------------------------------


class FileError(SyncthingModel, kw_only=True):
    """One failed item in ``FolderErrors.errors``."""

    path: str
    error: str


class FolderErrors(SyncthingModel, kw_only=True):
    """``GET /rest/folder/errors`` (and deprecated ``pullerrors``): https://docs.syncthing.net/rest/folder-errors-get.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/folder-errors-get.html"

    folder: str
    errors: NullList[FileError] = msgspec.field(default_factory=list)
    page: int = 1
    perpage: int = 65536

    def __post_init__(self) -> None:
        if self.errors is None:
            self.errors = []


class FileVersion(SyncthingModel, kw_only=True):
    """One archived version of a file: https://docs.syncthing.net/rest/folder-versions-get.html"""

    version_time: datetime
    """When it was archived; pass this back to restore it."""
    mod_time: datetime
    size: int


FolderVersions: TypeAlias = dict[str, list[FileVersion]]
"""``GET /rest/folder/versions``: relative path -> archived versions. https://docs.syncthing.net/rest/folder-versions-get.html"""

RestoreVersionsRequest: TypeAlias = dict[str, datetime]
"""Body of ``POST /rest/folder/versions``: relative path -> ``version_time``. https://docs.syncthing.net/rest/folder-versions-post.html"""

RestoreVersionsResult: TypeAlias = dict[str, str | None]
"""Answer of ``POST /rest/folder/versions``: relative path -> error, for failures only. https://docs.syncthing.net/rest/folder-versions-post.html"""
