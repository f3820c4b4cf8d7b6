"""THE endpoint table: every Syncthing REST route this library covers, as plain data.

One row per HTTP method + path. The generator (``render.py``) writes one coroutine per row into
``syncthing_async/_generated/namespaces.py``; ``syncthing_async.ENDPOINTS`` exposes the rows.
Types are written as Python source (annotations), so this module imports nothing from the
package and stays cheap to import. Sources: Syncthing's lib/api/api.go and
lib/api/confighandler.go (routes, PUT/PATCH merge rules) and https://docs.syncthing.net/dev/rest.html
(errors, paging, versions), checked live against 1.19.2 and 1.29.5.

Naming: nouns for reads (``system.status()``), verbs for actions
(``db.scan()``), ``set_``/``clear_`` where one path has several methods; snake_case parameters
mapped to Syncthing's wire names here (``per_page`` -> ``perpage``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "ENDPOINTS",
    "NAMESPACES",
    "Body",
    "Endpoint",
    "Pager",
    "Param",
]

ParamEncoding = Literal["plain", "device", "csv", "time", "duration", "flag", "list"]
BodyKind = Literal["json", "text", "config", "config_item", "config_list", "patch"]
ResponseKind = Literal["json", "json_or_empty", "null_list", "config", "text", "bytes", "none", "meta_js"]
Auth = Literal["key", "none", "debug", "outside"]

DOCS: Final = "https://docs.syncthing.net/"


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter: Python keyword ``name`` sent as ``wire`` in the query, the path or a JSON body.

    Parameters with ``location="body"`` become the keys of a JSON object body.

    ``encoding``: ``plain`` (core encodes), ``device`` (validated locally, canonical form),
    ``csv`` (list joined with commas), ``time`` (datetime -> RFC 3339), ``duration`` (seconds ->
    Go duration), ``flag`` (true -> ``"true"``, false -> omitted), ``list`` (any sequence -> list;
    repeated key in a query).
    """

    name: str
    wire: str
    type: str
    default: str | None = None
    location: Literal["query", "path", "body"] = "query"
    encoding: ParamEncoding = "plain"
    doc: str = ""

    @property
    def required(self) -> bool:
        """True when the caller must pass the parameter."""
        return self.default is None


@dataclass(frozen=True, slots=True)
class Body:
    """The request body, taken from the Python keyword ``name``.

    ``kind``: ``json`` (a mapping, sent as given), ``text`` (text/plain),
    ``config`` (a config object: unknown keys kept, see ``_preserve.to_wire``),
    ``config_item`` (a folder/device whose ``key`` field names it in the path),
    ``config_list`` (a list of those), ``patch`` (only the changed keys).
    """

    name: str
    type: str
    kind: BodyKind
    key: str = ""


@dataclass(frozen=True, slots=True)
class Pager:
    """An async iterator generated beside a paged endpoint: fetches page after page."""

    name: str
    item: str
    items: str
    """Expression over ``page`` giving the page's items in order."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One route: ``method`` + ``path`` (Syncthing's, placeholders like ``{folder_id}``).

    ``namespace`` is the dotted attribute path on the client (``config.folders``) and ``name`` the
    coroutine on it. ``since``/``until`` gate by Syncthing version (``until`` = first version
    without it); ``deprecated`` holds the reason when Syncthing deprecated the route.
    """

    method: str
    path: str
    namespace: str
    name: str
    summary: str
    docs: str | None
    params: tuple[Param, ...] = ()
    body: Body | None = None
    returns: str = "None"
    response: ResponseKind = "none"
    model: str | None = None
    since: str | None = None
    until: str | None = None
    deprecated: str | None = None
    auth: Auth = "key"
    timeout: str | None = None
    pager: Pager | None = None
    rules: str = ""
    handwritten: bool = False

    @property
    def key(self) -> tuple[str, str]:
        """``(method, path)``: unique per row."""
        return (self.method, self.path)

    @property
    def qualname(self) -> str:
        """``namespace.name`` as called on the client, e.g. ``config.folders.get``."""
        return f"{self.namespace}.{self.name}"


# --------------------------------------------------------------------------------- helpers


def _doc(page: str) -> str:
    return f"{DOCS}rest/{page}.html"


def _p(
    name: str,
    type_: str = "str",
    *,
    wire: str | None = None,
    default: str | None = None,
    location: Literal["query", "path", "body"] = "query",
    encoding: ParamEncoding = "plain",
    doc: str = "",
) -> Param:
    return Param(name, wire or name, type_, default, location, encoding, doc)


FOLDER = _p("folder", doc="folder ID")
FOLDER_OPT = _p("folder", "str | None", default="None", doc="folder ID")
DEVICE = _p("device", "DeviceID | str", encoding="device", doc="device ID")
DEVICE_OPT = _p("device", "DeviceID | str | None", default="None", encoding="device", doc="device ID")
FILE = _p("file", doc="path relative to the folder root")
PAGE = _p("page", "int | None", default="None", doc="1-based page number")
PER_PAGE = _p("per_page", "int | None", wire="perpage", default="None", doc="items per page (default 65536)")
FOLDER_ID = _p("folder_id", wire="folder_id", location="path", doc="folder ID")
DEVICE_ID = _p("device_id", "DeviceID | str", wire="device_id", location="path", encoding="device")

_PUT_RULES = (
    "The body is decoded over the hard-coded defaults: omitted fields are reset"
    " (Syncthing's lib/api/confighandler.go)."
)
_PUT_ITEM_RULES = (
    "The body is decoded over defaults/{kind}: omitted fields get the defaults; Syncthing stores it"
    " under the body's {key} (Syncthing's lib/api/confighandler.go)."
)
_UPSERT_RULES = (
    "Upsert by {key}: each listed {kind} is decoded over defaults/{kind} and replaces or joins the"
    " existing ones; {kind}s not listed are kept (Syncthing's lib/api/confighandler.go)."
)
_PATCH_RULES = (
    "PATCH merges over the current object: omitted fields stay, nested objects and maps merge"
    " key by key, arrays are replaced; a fetched-and-modified model sends only its changed fields"
    " (Syncthing's lib/api/confighandler.go)."
)


def _paged(pager: str, item: str, items: str) -> Pager:
    return Pager(name=pager, item=item, items=items)


# --------------------------------------------------------------------------------- the table

_SYSTEM: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        "/rest/system/status",
        "system",
        "status",
        "System status: ID, uptime, listeners.",
        _doc("system-status-get"),
        returns="SystemStatus",
        response="json",
        model="SystemStatus",
    ),
    Endpoint(
        "GET",
        "/rest/system/version",
        "system",
        "version",
        "Version and build information.",
        _doc("system-version-get"),
        returns="SystemVersion",
        response="json",
        model="SystemVersion",
    ),
    Endpoint(
        "GET",
        "/rest/system/ping",
        "system",
        "ping",
        "Liveness check (GET).",
        _doc("system-ping-get"),
        returns="Ping",
        response="json",
        model="Ping",
    ),
    Endpoint(
        "POST",
        "/rest/system/ping",
        "system",
        "ping_post",
        "Liveness check (POST).",
        _doc("system-ping-post"),
        returns="Ping",
        response="json",
        model="Ping",
    ),
    Endpoint(
        "GET",
        "/rest/system/connections",
        "system",
        "connections",
        "Connections to devices and traffic totals.",
        _doc("system-connections-get"),
        returns="Connections",
        response="json",
        model="Connections",
    ),
    Endpoint(
        "GET",
        "/rest/system/discovery",
        "system",
        "discovery",
        "Discovery cache: device ID -> addresses.",
        _doc("system-discovery-get"),
        returns="DiscoveryCache",
        response="json",
        model="DiscoveryCache",
    ),
    Endpoint(
        "GET",
        "/rest/system/error",
        "system",
        "errors",
        "Recent warnings and errors.",
        _doc("system-error-get"),
        returns="SystemErrors",
        response="json",
        model="SystemErrors",
    ),
    Endpoint(
        "POST",
        "/rest/system/error",
        "system",
        "report_error",
        "Log an error message and show it in the GUI.",
        _doc("system-error-post"),
        body=Body("message", "str", "text"),
    ),
    Endpoint(
        "POST",
        "/rest/system/error/clear",
        "system",
        "clear_errors",
        "Clear the recent errors.",
        _doc("system-error-clear-post"),
    ),
    Endpoint(
        "GET",
        "/rest/system/log",
        "system",
        "log",
        "Recent log lines.",
        _doc("system-log-get"),
        params=(_p("since", "datetime | str | None", default="None", encoding="time"),),
        returns="SystemLog",
        response="json",
        model="SystemLog",
    ),
    Endpoint(
        "GET",
        "/rest/system/log.txt",
        "system",
        "log_text",
        "Recent log lines as plain text.",
        _doc("system-log-get"),
        params=(_p("since", "datetime | str | None", default="None", encoding="time"),),
        returns="str",
        response="text",
    ),
    Endpoint(
        "GET",
        "/rest/system/loglevels",
        "system",
        "log_levels",
        "Log facilities and their levels.",
        _doc("system-loglevels-get"),
        returns="LogLevels",
        response="json",
        model="LogLevels",
        since="2.0.0",
    ),
    Endpoint(
        "POST",
        "/rest/system/loglevels",
        "system",
        "set_log_levels",
        "Set log levels: facility -> DEBUG/INFO/WARN/ERROR.",
        _doc("system-loglevels-post"),
        body=Body("levels", "Mapping[str, str]", "json"),
        since="2.0.0",
    ),
    Endpoint(
        "GET",
        "/rest/system/debug",
        "system",
        "debug_facilities",
        "Debug facilities and which are enabled (v1.x).",
        None,
        returns="DebugFacilities",
        response="json",
        model="DebugFacilities",
        until="2.0.0",
    ),
    Endpoint(
        "POST",
        "/rest/system/debug",
        "system",
        "set_debug",
        "Enable or disable debug facilities (v1.x).",
        None,
        params=(
            _p("enable", "Sequence[str] | None", default="None", encoding="csv"),
            _p("disable", "Sequence[str] | None", default="None", encoding="csv"),
        ),
        until="2.0.0",
    ),
    Endpoint(
        "GET",
        "/rest/system/paths",
        "system",
        "paths",
        "Paths of config, database, logs.",
        _doc("system-paths-get"),
        returns="SystemPaths",
        response="json",
        model="SystemPaths",
        since="1.21.0",
    ),
    Endpoint(
        "GET",
        "/rest/system/browse",
        "system",
        "browse",
        "Directories whose path starts with ``current`` (prefix match).",
        _doc("system-browse-get"),
        params=(_p("current", "str | None", default="None"), _p("filesystem", "str | None", default="None")),
        returns="list[str]",
        response="null_list",
        model="list[str]",
    ),
    Endpoint(
        "GET",
        "/rest/system/upgrade",
        "system",
        "upgrade_info",
        "Running and latest version (501/503 when upgrades are disabled).",
        _doc("system-upgrade-get"),
        returns="UpgradeInfo",
        response="json",
        model="UpgradeInfo",
    ),
    Endpoint(
        "POST",
        "/rest/system/upgrade",
        "system",
        "upgrade",
        "Upgrade and restart if a newer version exists; None when already newest.",
        _doc("system-upgrade-post"),
        returns="OkResponse | None",
        response="json_or_empty",
        model="OkResponse",
        timeout="max(self._core.timeout, 120.0)",
    ),
    Endpoint(
        "POST",
        "/rest/system/pause",
        "system",
        "pause",
        "Pause one device, or all without ``device``.",
        _doc("system-pause-post"),
        params=(DEVICE_OPT,),
    ),
    Endpoint(
        "POST",
        "/rest/system/resume",
        "system",
        "resume",
        "Resume one device, or all without ``device``.",
        _doc("system-resume-post"),
        params=(DEVICE_OPT,),
    ),
    Endpoint(
        "POST",
        "/rest/system/restart",
        "system",
        "restart",
        "Restart Syncthing (event ids reset).",
        _doc("system-restart-post"),
        returns="OkResponse",
        response="json",
        model="OkResponse",
    ),
    Endpoint(
        "POST",
        "/rest/system/shutdown",
        "system",
        "shutdown",
        "Shut Syncthing down.",
        _doc("system-shutdown-post"),
        returns="OkResponse",
        response="json",
        model="OkResponse",
    ),
    Endpoint(
        "POST",
        "/rest/system/reset",
        "system",
        "reset",
        "Reset the database (or one folder's index), then restart.",
        _doc("system-reset-post"),
        params=(FOLDER_OPT,),
        returns="OkResponse",
        response="json",
        model="OkResponse",
    ),
    Endpoint(
        "GET",
        "/rest/system/config",
        "system",
        "config",
        "Whole configuration (deprecated alias).",
        _doc("system-config-get"),
        returns="Configuration",
        response="config",
        model="Configuration",
        deprecated="since v1.12.0; use config.get()",
    ),
    Endpoint(
        "POST",
        "/rest/system/config",
        "system",
        "set_config",
        "Replace the whole configuration (deprecated alias).",
        _doc("system-config-post"),
        body=Body("config", "Configuration | Mapping[str, Any]", "config"),
        deprecated="since v1.12.0; use config.put()",
        rules=_PUT_RULES,
    ),
    Endpoint(
        "GET",
        "/rest/system/config/insync",
        "system",
        "config_in_sync",
        "Whether the running config matches the saved one (deprecated).",
        _doc("system-config-insync-get"),
        returns="ConfigInSync",
        response="json",
        model="ConfigInSync",
        deprecated="since v1.12.0; use config.restart_required()",
    ),
)

_CONFIG: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        "/rest/config",
        "config",
        "get",
        "The whole configuration.",
        _doc("config"),
        returns="Configuration",
        response="config",
        model="Configuration",
    ),
    Endpoint(
        "PUT",
        "/rest/config",
        "config",
        "put",
        "Replace the whole configuration.",
        _doc("config"),
        body=Body("config", "Configuration | Mapping[str, Any]", "config"),
        rules=_PUT_RULES,
    ),
    Endpoint(
        "GET",
        "/rest/config/restart-required",
        "config",
        "restart_required",
        "Whether a restart is needed for the config to take effect.",
        _doc("config"),
        returns="RestartRequired",
        response="json",
        model="RestartRequired",
    ),
    Endpoint(
        "GET",
        "/rest/config/insync",
        "config",
        "in_sync",
        "Undocumented alias of system.config_in_sync.",
        None,
        returns="ConfigInSync",
        response="json",
        model="ConfigInSync",
        deprecated="undocumented alias; use restart_required()",
    ),
)


def _collection(kind: str, plural: str, model: str, key: str, id_param: Param) -> tuple[Endpoint, ...]:
    ns = f"config.{plural}"
    base = f"/rest/config/{plural}"
    item = f"{base}/{{{id_param.wire}}}"
    any_model = f"{model} | Mapping[str, Any]"
    return (
        Endpoint(
            "GET",
            base,
            ns,
            "list",
            f"All {kind}s.",
            _doc("config"),
            returns=f"list[{model}]",
            response="config",
            model=f"list[{model}]",
        ),
        Endpoint(
            "PUT",
            base,
            ns,
            "put_many",
            f"Add or replace several {kind}s (never deletes).",
            _doc("config"),
            body=Body(plural, f"Sequence[{any_model}]", "config_list", key),
            rules=_UPSERT_RULES.format(key=key, kind=kind),
        ),
        Endpoint(
            "POST",
            base,
            ns,
            "create",
            f"Add (or replace) one {kind}.",
            _doc("config"),
            body=Body(kind, any_model, "config"),
            rules=_PUT_ITEM_RULES.format(kind=kind, key=key),
        ),
        Endpoint(
            "GET",
            item,
            ns,
            "get",
            f"One {kind} (404 when unknown).",
            _doc("config"),
            params=(id_param,),
            returns=model,
            response="config",
            model=model,
        ),
        Endpoint(
            "PUT",
            item,
            ns,
            "put",
            f"Replace one {kind} (its ``{key}`` must match).",
            _doc("config"),
            params=(id_param,),
            body=Body(kind, any_model, "config_item", key),
            rules=_PUT_ITEM_RULES.format(kind=kind, key=key),
        ),
        Endpoint(
            "PATCH",
            item,
            ns,
            "patch",
            f"Change some fields of one {kind}.",
            _doc("config"),
            params=(id_param,),
            body=Body("changes", f"{any_model}", "patch"),
            rules=_PATCH_RULES,
        ),
        Endpoint(
            "DELETE",
            item,
            ns,
            "delete",
            f"Remove one {kind} (no error when unknown).",
            _doc("config"),
            params=(id_param,),
        ),
    )


def _single(
    ns: str,
    path: str,
    model: str,
    label: str,
    *,
    get: str = "get",
    put: str = "put",
    patch: str = "patch",
    arg: str = "",
    note: str = "",
) -> tuple[Endpoint, ...]:
    arg = arg or ns.rsplit(".", 1)[-1]
    any_model = f"{model} | Mapping[str, Any]"
    return (
        Endpoint(
            "GET",
            path,
            ns,
            get,
            f"The {label}{note}.",
            _doc("config"),
            returns=model,
            response="config",
            model=model,
        ),
        Endpoint(
            "PUT",
            path,
            ns,
            put,
            f"Replace the {label}.",
            _doc("config"),
            body=Body(arg, any_model, "config"),
            rules=_PUT_RULES,
        ),
        Endpoint(
            "PATCH",
            path,
            ns,
            patch,
            f"Change some fields of the {label}.",
            _doc("config"),
            body=Body("changes", any_model, "patch"),
            rules=_PATCH_RULES,
        ),
    )


_CONFIG_ITEMS: tuple[Endpoint, ...] = (
    *_collection("folder", "folders", "FolderConfig", "id", FOLDER_ID),
    *_collection("device", "devices", "DeviceConfig", "deviceID", DEVICE_ID),
    *_single(
        "config.defaults",
        "/rest/config/defaults/folder",
        "FolderConfig",
        "folder template",
        note=" (``id`` is empty)",
        get="folder",
        put="put_folder",
        patch="patch_folder",
        arg="folder",
    ),
    *_single(
        "config.defaults",
        "/rest/config/defaults/device",
        "DeviceConfig",
        "device template",
        get="device",
        put="put_device",
        patch="patch_device",
        arg="device",
    ),
    Endpoint(
        "GET",
        "/rest/config/defaults/ignores",
        "config.defaults",
        "ignores",
        "Default ignore patterns for new folders.",
        _doc("config"),
        returns="DefaultIgnores",
        response="json",
        model="DefaultIgnores",
    ),
    Endpoint(
        "PUT",
        "/rest/config/defaults/ignores",
        "config.defaults",
        "set_ignores",
        "Replace the default ignore patterns.",
        _doc("config"),
        params=(_p("lines", "Sequence[str]", location="body", encoding="list"),),
        rules='The body ``{"lines": [...]}`` replaces the whole list (lib/api/confighandler.go).',
    ),
    *_single("config.options", "/rest/config/options", "Options", "options"),
    *_single("config.ldap", "/rest/config/ldap", "LdapConfig", "LDAP settings"),
    *_single(
        "config.gui",
        "/rest/config/gui",
        "GuiConfig",
        "GUI settings",
        note=" (a change restarts the GUI listener)",
    ),
)

_CLUSTER: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        "/rest/cluster/pending/devices",
        "cluster",
        "pending_devices",
        "Devices that tried to connect and are not configured.",
        _doc("cluster-pending-devices-get"),
        returns="PendingDevices",
        response="json",
        model="PendingDevices",
    ),
    Endpoint(
        "DELETE",
        "/rest/cluster/pending/devices",
        "cluster",
        "dismiss_pending_device",
        "Forget a pending device.",
        _doc("cluster-pending-devices-delete"),
        params=(DEVICE,),
    ),
    Endpoint(
        "GET",
        "/rest/cluster/pending/folders",
        "cluster",
        "pending_folders",
        "Folders offered by devices, optionally of one device.",
        _doc("cluster-pending-folders-get"),
        params=(DEVICE_OPT,),
        returns="PendingFolders",
        response="json",
        model="PendingFolders",
    ),
    Endpoint(
        "DELETE",
        "/rest/cluster/pending/folders",
        "cluster",
        "dismiss_pending_folder",
        "Forget a pending folder (of one device, or all without ``device``).",
        _doc("cluster-pending-folders-delete"),
        params=(FOLDER, DEVICE_OPT),
    ),
)

_DB: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        "/rest/db/status",
        "db",
        "status",
        "Folder summary (an expensive call).",
        _doc("db-status-get"),
        params=(FOLDER,),
        returns="FolderSummary",
        response="json",
        model="FolderSummary",
    ),
    Endpoint(
        "GET",
        "/rest/db/completion",
        "db",
        "completion",
        "Completion of a folder (all without ``folder``) on a device (local without ``device``).",
        _doc("db-completion-get"),
        params=(FOLDER_OPT, DEVICE_OPT),
        returns="Completion",
        response="json",
        model="Completion",
    ),
    Endpoint(
        "GET",
        "/rest/db/file",
        "db",
        "file",
        "Global and local index entries of one file.",
        _doc("db-file-get"),
        params=(FOLDER, FILE),
        returns="DbFile",
        response="json",
        model="DbFile",
    ),
    Endpoint(
        "GET",
        "/rest/db/ignores",
        "db",
        "ignores",
        "Ignore patterns of a folder.",
        _doc("db-ignores-get"),
        params=(FOLDER,),
        returns="Ignores",
        response="json",
        model="Ignores",
    ),
    Endpoint(
        "POST",
        "/rest/db/ignores",
        "db",
        "set_ignores",
        "Replace a folder's ignore patterns.",
        _doc("db-ignores-post"),
        params=(FOLDER, _p("lines", "Sequence[str]", wire="ignore", location="body", encoding="list")),
        returns="Ignores",
        response="json",
        model="Ignores",
    ),
    Endpoint(
        "GET",
        "/rest/db/need",
        "db",
        "need",
        "One page of what the folder still needs.",
        _doc("db-need-get"),
        params=(FOLDER, PAGE, PER_PAGE),
        returns="Need",
        response="json",
        model="Need",
        pager=_paged("iter_need", "FileInfo", "[*page.progress, *page.queued, *page.rest]"),
    ),
    Endpoint(
        "GET",
        "/rest/db/remoteneed",
        "db",
        "remote_need",
        "One page of what a device still needs.",
        _doc("db-remoteneed-get"),
        params=(FOLDER, DEVICE, PAGE, PER_PAGE),
        returns="RemoteNeed",
        response="json",
        model="RemoteNeed",
        pager=_paged("iter_remote_need", "FileInfo", "page.files"),
    ),
    Endpoint(
        "GET",
        "/rest/db/localchanged",
        "db",
        "local_changed",
        "One page of locally changed items of a receive-only folder.",
        _doc("db-localchanged-get"),
        params=(FOLDER, PAGE, PER_PAGE),
        returns="LocalChanged",
        response="json",
        model="LocalChanged",
        pager=_paged("iter_local_changed", "FileInfo", "page.files"),
    ),
    Endpoint(
        "GET",
        "/rest/db/browse",
        "db",
        "browse",
        "Directory tree of the global index.",
        _doc("db-browse-get"),
        params=(
            FOLDER,
            _p("prefix", "str | None", default="None"),
            _p("levels", "int | None", default="None", doc="-1 unlimited, 0 children only"),
            _p("dirs_only", "bool", wire="dirsonly", default="False", encoding="flag"),
        ),
        returns="list[BrowseEntry]",
        response="null_list",
        model="list[BrowseEntry]",
    ),
    Endpoint(
        "POST",
        "/rest/db/scan",
        "db",
        "scan",
        "Rescan a folder (all without ``folder``); returns when the scan is done (up to 10 min here).",
        _doc("db-scan-post"),
        params=(
            FOLDER_OPT,
            _p("subdirs", "Sequence[str] | None", wire="sub", default="None", encoding="list"),
            _p(
                "next_scan_delay",
                "int | None",
                wire="next",
                default="None",
                doc="seconds until the next automatic scan",
            ),
        ),
        timeout="max(self._core.timeout, 600.0)",
    ),
    Endpoint(
        "POST",
        "/rest/db/prio",
        "db",
        "prioritize",
        "Move a file to the top of the download queue.",
        _doc("db-prio-post"),
        params=(FOLDER, FILE, PAGE, PER_PAGE),
        returns="Need",
        response="json",
        model="Need",
    ),
    Endpoint(
        "POST",
        "/rest/db/override",
        "db",
        "override",
        "Make a send-only folder's state global.",
        _doc("db-override-post"),
        params=(FOLDER,),
    ),
    Endpoint(
        "POST",
        "/rest/db/revert",
        "db",
        "revert",
        "Revert local changes of a receive-only folder.",
        _doc("db-revert-post"),
        params=(FOLDER,),
    ),
)

_FOLDER: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        "/rest/folder/errors",
        "folder",
        "errors",
        "One page of the folder's pull errors.",
        _doc("folder-errors-get"),
        params=(FOLDER, PAGE, PER_PAGE),
        returns="FolderErrors",
        response="json",
        model="FolderErrors",
        pager=_paged("iter_errors", "FileError", "page.errors"),
    ),
    Endpoint(
        "GET",
        "/rest/folder/pullerrors",
        "folder",
        "pull_errors",
        "Deprecated alias of errors().",
        _doc("folder-pullerrors-get"),
        params=(FOLDER, PAGE, PER_PAGE),
        returns="FolderErrors",
        response="json",
        model="FolderErrors",
        deprecated="deprecated alias; use errors()",
    ),
    Endpoint(
        "GET",
        "/rest/folder/versions",
        "folder",
        "versions",
        "Archived versions per file.",
        _doc("folder-versions-get"),
        params=(FOLDER,),
        returns="FolderVersions",
        response="json",
        model="FolderVersions",
    ),
    Endpoint(
        "POST",
        "/rest/folder/versions",
        "folder",
        "restore_versions",
        "Restore files to archived versions; returns the failures only.",
        _doc("folder-versions-post"),
        params=(FOLDER,),
        body=Body("versions", "Mapping[str, datetime | str]", "json"),
        returns="RestoreVersionsResult",
        response="json",
        model="RestoreVersionsResult",
    ),
)

_STATS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        "/rest/stats/device",
        "stats",
        "devices",
        "Last seen and connection duration per device.",
        _doc("stats-device-get"),
        returns="DeviceStats",
        response="json",
        model="DeviceStats",
    ),
    Endpoint(
        "GET",
        "/rest/stats/folder",
        "stats",
        "folders",
        "Last scan and last synced file per folder.",
        _doc("stats-folder-get"),
        returns="FolderStats",
        response="json",
        model="FolderStats",
    ),
)

_SVC: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        "/rest/svc/deviceid",
        "svc",
        "device_id",
        "Validate a device ID on the server (no local check: that is the point).",
        _doc("svc-deviceid-get"),
        params=(_p("device_id", wire="id"),),
        returns="DeviceIDResponse",
        response="json",
        model="DeviceIDResponse",
    ),
    Endpoint(
        "GET",
        "/rest/svc/lang",
        "svc",
        "lang",
        "Languages from the request's Accept-Language.",
        _doc("svc-lang-get"),
        returns="list[str]",
        response="null_list",
        model="list[str]",
    ),
    Endpoint(
        "GET",
        "/rest/svc/random/string",
        "svc",
        "random_string",
        "A random string (API-key alphabet).",
        _doc("svc-random-string-get"),
        params=(_p("length", "int | None", default="None"),),
        returns="RandomString",
        response="json",
        model="RandomString",
    ),
    Endpoint(
        "GET",
        "/rest/svc/report",
        "svc",
        "report",
        "Preview of the usage report (slow: ~1.5 s).",
        _doc("svc-report-get"),
        params=(_p("version", "int | None", default="None"),),
        returns="UsageReport",
        response="json",
        model="UsageReport",
        timeout="max(self._core.timeout, 30.0)",
    ),
    Endpoint(
        "GET",
        "/qr/",
        "svc",
        "qr",
        "PNG QR code of ``text`` (outside /rest).",
        None,
        params=(_p("text"),),
        returns="bytes",
        response="bytes",
        auth="outside",
    ),
    Endpoint(
        "GET",
        "/meta.js",
        "svc",
        "meta",
        "The GUI's ``metadata`` object (device ID; outside /rest).",
        None,
        returns="dict[str, Any]",
        response="meta_js",
        auth="outside",
    ),
    Endpoint(
        "GET",
        "/metrics",
        "svc",
        "metrics",
        "Prometheus metrics as text (outside /rest).",
        f"{DOCS}users/metrics.html",
        returns="str",
        response="text",
        since="1.24.0",
        auth="outside",
    ),
)

_NOAUTH: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        "/rest/noauth/health",
        "noauth",
        "health",
        '``{"status": "OK"}`` without credentials.',
        _doc("noauth-health-get"),
        returns="Health",
        response="json",
        model="Health",
        since="1.22.1",
        auth="none",
    ),
    Endpoint(
        "POST",
        "/rest/noauth/auth/password",
        "noauth",
        "login",
        "GUI login: sets the session cookie (only while GUI auth is on).",
        None,
        params=(
            _p("username", location="body"),
            _p("password", location="body"),
            _p("stay_logged_in", "bool", wire="stayLoggedIn", default="False", location="body"),
        ),
        since="1.26.0",
        auth="none",
    ),
    Endpoint(
        "POST",
        "/rest/noauth/auth/logout",
        "noauth",
        "logout",
        "GUI logout: clears the session cookie (only while GUI auth is on).",
        None,
        since="1.26.0",
        auth="none",
    ),
)

_DEBUG: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        "/rest/debug/cpuprof",
        "debug",
        "cpu_profile",
        "CPU profile (pprof) over ``duration`` s.",
        _doc("debug"),
        params=(_p("duration", "float", default="30.0", encoding="duration"),),
        returns="bytes",
        response="bytes",
        auth="debug",
        timeout="self._core.timeout + duration",
    ),
    Endpoint(
        "GET",
        "/rest/debug/heapprof",
        "debug",
        "heap_profile",
        "Heap profile (pprof).",
        _doc("debug"),
        returns="bytes",
        response="bytes",
        auth="debug",
        timeout="max(self._core.timeout, 60.0)",
    ),
    Endpoint(
        "GET",
        "/rest/debug/support",
        "debug",
        "support_bundle",
        "Support bundle (zip; slow).",
        _doc("debug"),
        returns="bytes",
        response="bytes",
        auth="debug",
        timeout="max(self._core.timeout, 120.0)",
    ),
    Endpoint(
        "GET",
        "/rest/debug/file",
        "debug",
        "file",
        "Database details of one file.",
        _doc("debug"),
        params=(FOLDER, FILE),
        returns="DebugFile",
        response="json",
        model="DebugFile",
        auth="debug",
    ),
    Endpoint(
        "GET",
        "/rest/debug/peerCompletion",
        "debug",
        "peer_completion",
        "Completion percentage per device (v1.x).",
        None,
        returns="PeerCompletion",
        response="json",
        model="PeerCompletion",
        auth="debug",
        until="2.0.0",
    ),
    Endpoint(
        "GET",
        "/rest/debug/httpmetrics",
        "debug",
        "http_metrics",
        "Timing statistics per REST path (v1.x).",
        None,
        returns="HttpMetrics",
        response="json",
        model="HttpMetrics",
        auth="debug",
        until="2.0.0",
    ),
)

_EVENTS: tuple[Endpoint, ...] = (
    # Handwritten (syncthing_async/events): get() is one poll; stream()/listener() follow the stream.
    Endpoint(
        "GET",
        "/rest/events",
        "events",
        "get",
        "One poll of the event stream (``events.stream()`` follows it).",
        _doc("events-get"),
        params=(
            _p("since", "int", default="0"),
            _p("limit", "int | None", default="None"),
            _p("timeout", "int", default="0"),
        ),
        returns="list[Event[Any]]",
        handwritten=True,
    ),
    Endpoint(
        "GET",
        "/rest/events/disk",
        "events",
        "get",
        "One poll of the disk event stream: ``events.get(disk=True)``.",
        _doc("events-get"),
        params=(
            _p("since", "int", default="0"),
            _p("limit", "int | None", default="None"),
            _p("timeout", "int", default="0"),
        ),
        returns="list[Event[Any]]",
        handwritten=True,
    ),
)

ENDPOINTS: Final[tuple[Endpoint, ...]] = (
    *_SYSTEM,
    *_CONFIG,
    *_CONFIG_ITEMS,
    *_CLUSTER,
    *_DB,
    *_FOLDER,
    *_STATS,
    *_SVC,
    *_NOAUTH,
    *_DEBUG,
    *_EVENTS,
)
"""Every covered route, in a stable order."""

NAMESPACES: Final[dict[str, tuple[str, str]]] = {
    "system": ("SystemAPI", "``/rest/system/*``."),
    "config": (
        "ConfigAPI",
        "``/rest/config`` (with ``.folders``, ``.devices``, ``.defaults``, ``.options``,"
        " ``.gui``, ``.ldap``).",
    ),
    "config.folders": ("ConfigFoldersAPI", "``/rest/config/folders[/{folder_id}]``."),
    "config.devices": ("ConfigDevicesAPI", "``/rest/config/devices[/{device_id}]``."),
    "config.defaults": ("ConfigDefaultsAPI", "``/rest/config/defaults/*``."),
    "config.options": ("ConfigOptionsAPI", "``/rest/config/options``."),
    "config.gui": ("ConfigGuiAPI", "``/rest/config/gui``."),
    "config.ldap": ("ConfigLdapAPI", "``/rest/config/ldap``."),
    "cluster": ("ClusterAPI", "``/rest/cluster/*``."),
    "db": ("DbAPI", "``/rest/db/*``."),
    "folder": ("FolderAPI", "``/rest/folder/*``."),
    "stats": ("StatsAPI", "``/rest/stats/*``."),
    "svc": ("SvcAPI", "``/rest/svc/*`` plus ``/qr/``, ``/meta.js`` and ``/metrics``."),
    "noauth": ("NoauthAPI", "``/rest/noauth/*``."),
    "debug": ("DebugAPI", "``/rest/debug/*``."),
}
"""Generated namespace -> (class name, docstring). ``events`` is handwritten."""
