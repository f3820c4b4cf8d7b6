"""Response models against real recorded fixtures (1.19.2, 1.29.5) and 2.x shapes from Syncthing's source.

* every fixture decodes into its model;
* drift: every key of every fixture is known to the model (through the rename), unless listed
  in ``KNOWN_IGNORED_KEYS``: a refreshed fixture with new Syncthing fields fails here instead of
  being dropped silently;
* closed sets fall back to ``UNKNOWN``; Syncthing's ``null`` lists/maps read as empty ones.
"""

from __future__ import annotations

import enum
import inspect
import json
import types
import typing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest

from syncthing_async.models import cluster, config, db, debug, stats, svc, system
from syncthing_async.models._base import SyncthingEnum, SyncthingModel
from syncthing_async.models.cluster import PendingDevices, PendingFolders
from syncthing_async.models.config import (
    ConfigInSync,
    Configuration,
    DefaultIgnores,
    DeviceConfig,
    FolderConfig,
    FolderType,
    GuiConfig,
    LdapConfig,
    Options,
    RestartRequired,
    VersioningType,
)
from syncthing_async.models.db import (
    Completion,
    DbBrowse,
    DbFile,
    FileInfoType,
    FolderErrors,
    FolderState,
    FolderSummary,
    FolderVersions,
    Ignores,
    LocalChanged,
    Need,
    RemoteNeed,
    RemoteState,
    RestoreVersionsResult,
)
from syncthing_async.models.debug import DebugFile, HttpMetrics, PeerCompletion
from syncthing_async.models.stats import DeviceStats, FolderStats
from syncthing_async.models.svc import DeviceIDResponse, Languages, RandomString, UsageReport
from syncthing_async.models.system import (
    Connections,
    ConnectionType,
    DebugFacilities,
    DiscoveryCache,
    Health,
    LogLevel,
    LogLevels,
    OkResponse,
    Ping,
    SystemBrowse,
    SystemErrors,
    SystemLog,
    SystemPaths,
    SystemStatus,
    SystemVersion,
    UpgradeInfo,
)

FIXTURES = Path(__file__).parent / "fixtures"
VERSIONS = ("1.19.2", "1.29.5", "2.x")
MODULES = (system, config, db, cluster, stats, svc, debug)

# fixture name (the part before "__") -> response type
FIXTURE_MODELS: dict[str, Any] = {
    "system_status": SystemStatus,
    "system_version": SystemVersion,
    "system_ping": Ping,
    "system_connections": Connections,
    "system_discovery": DiscoveryCache,
    "system_error": SystemErrors,
    "system_log": SystemLog,
    "system_paths": SystemPaths,
    "system_debug": DebugFacilities,
    "system_loglevels": LogLevels,
    "system_browse": SystemBrowse,
    "system_config_insync": ConfigInSync,
    "system_upgrade": UpgradeInfo,
    "system_shutdown": OkResponse,
    "noauth_health": Health,
    "config": Configuration,
    "config_restart_required": RestartRequired,
    "config_insync": ConfigInSync,
    "config_folders": list[FolderConfig],
    "config_folder": FolderConfig,
    "config_devices": list[DeviceConfig],
    "config_device": DeviceConfig,
    "config_defaults_folder": FolderConfig,
    "config_defaults_device": DeviceConfig,
    "config_defaults_ignores": DefaultIgnores,
    "config_options": Options,
    "config_gui": GuiConfig,
    "config_ldap": LdapConfig,
    "cluster_pending_devices": PendingDevices,
    "cluster_pending_folders": PendingFolders,
    "db_status": FolderSummary,
    "db_completion": Completion,
    "db_file": DbFile,
    "db_ignores": Ignores,
    "db_need": Need,
    "db_prio": Need,
    "db_remoteneed": RemoteNeed,
    "db_localchanged": LocalChanged,
    "db_browse": DbBrowse,
    "folder_errors": FolderErrors,
    "folder_pullerrors": FolderErrors,
    "folder_versions": FolderVersions,
    "stats_device": DeviceStats,
    "stats_folder": FolderStats,
    "svc_deviceid": DeviceIDResponse,
    "svc_random_string": RandomString,
    "svc_lang": Languages,
    "svc_report": UsageReport,
    "debug_file": DebugFile,
    "debug_peer_completion": PeerCompletion,
    "debug_httpmetrics": HttpMetrics,
}
# "folder_versions__post" is the answer of POST /rest/folder/versions, not of the GET.
VARIANT_MODELS: dict[str, Any] = {"folder_versions__post": RestoreVersionsResult}

# Keys a fixture has that a model deliberately does not declare: (model class name, wire key) ->
# why. Keep it short; everything else must be modelled.
KNOWN_IGNORED_KEYS: dict[tuple[str, str], str] = {
    # The usage report (UsageReport) is a loose dict on purpose, so it never drifts; FileInfo's
    # per-OS ``platform`` data is a loose dict too. Nothing is ignored at the moment.
}


def fixture_files() -> list[Path]:
    return sorted(p for v in VERSIONS for p in (FIXTURES / v).glob("*.json"))


def model_for(path: Path) -> Any:
    name = path.stem
    return VARIANT_MODELS.get(name) or FIXTURE_MODELS[name.split("__")[0]]


def fixture_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def load(version: str, name: str) -> Any:
    path = FIXTURES / version / f"{name}.json"
    return msgspec.json.decode(path.read_bytes(), type=model_for(path))


ALL = fixture_files()


def test_fixture_set_is_complete() -> None:
    """Each version directory has fixtures, and every fixture name maps to a model."""
    for version in VERSIONS:
        assert list((FIXTURES / version).glob("*.json")), version
    unmapped = [
        fixture_id(p)
        for p in ALL
        if p.stem not in VARIANT_MODELS and p.stem.split("__")[0] not in FIXTURE_MODELS
    ]
    assert unmapped == []
    # every model in the table has at least one real (1.19.2 / 1.29.5) or 2.x fixture
    used = {p.stem.split("__")[0] for p in ALL}
    assert set(FIXTURE_MODELS) - used == set()


@pytest.mark.parametrize("path", ALL, ids=fixture_id)
def test_fixture_decodes(path: Path) -> None:
    obj = msgspec.json.decode(path.read_bytes(), type=model_for(path))
    raw = json.loads(path.read_bytes())
    if isinstance(raw, (dict, list)) and raw:
        assert obj  # something came out of a non-empty payload


# --- drift -----------------------------------------------------------------------------------


def _drift(value: Any, t: mi.Type, path: str) -> list[str]:
    if isinstance(t, mi.StructType):
        if not isinstance(value, dict):
            return []
        fields = {f.encode_name: f for f in t.fields}
        out: list[str] = []
        for key, sub in value.items():
            field = fields.get(key)
            if field is None:
                if (t.cls.__name__, key) not in KNOWN_IGNORED_KEYS:
                    out.append(f"{path}.{key} ({t.cls.__name__})")
            else:
                out += _drift(sub, field.type, f"{path}.{key}")
        return out
    if isinstance(t, mi.ListType) and isinstance(value, list):
        return [d for i, v in enumerate(value) for d in _drift(v, t.item_type, f"{path}[{i}]")]
    if isinstance(t, mi.DictType) and isinstance(value, dict):
        return [d for k, v in value.items() for d in _drift(v, t.value_type, f"{path}[{k!r}]")]
    if isinstance(t, mi.UnionType):
        for member in t.types:
            if isinstance(value, dict) and isinstance(member, (mi.StructType, mi.DictType)):
                return _drift(value, member, path)
            if isinstance(value, list) and isinstance(member, mi.ListType):
                return _drift(value, member, path)
    return []


@pytest.mark.parametrize("path", ALL, ids=fixture_id)
def test_no_drift(path: Path) -> None:
    """Every key in the fixture is known to its model (through the rename)."""
    raw = json.loads(path.read_bytes())
    assert _drift(raw, mi.type_info(model_for(path)), "$") == []


def test_drift_detects_unknown_keys() -> None:
    """The drift check itself works: an unknown nested key is reported with its path."""
    raw = json.loads((FIXTURES / "1.29.5" / "config.json").read_bytes())
    raw["folders"][0]["versioning"]["brandNew"] = 1
    raw["options"]["alsoNew"] = True
    found = _drift(raw, mi.type_info(Configuration), "$")
    assert sorted(found) == [
        "$.folders[0].versioning.brandNew (VersioningConfig)",
        "$.options.alsoNew (Options)",
    ]
    # ... and the model still decodes it (unknown keys are ignored, never forbidden)
    msgspec.convert(raw, Configuration)


# --- enums -----------------------------------------------------------------------------------


def _enums() -> list[type[SyncthingEnum]]:
    out = []
    for module in MODULES:
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, SyncthingEnum):
                out.append(obj)
    return out


@pytest.mark.parametrize("enum_cls", _enums(), ids=lambda e: e.__name__)
def test_enum_unknown_fallback(enum_cls: type[SyncthingEnum]) -> None:
    assert "UNKNOWN" in enum_cls.__members__
    assert msgspec.json.decode(b'"some-future-value"', type=enum_cls) is enum_cls.UNKNOWN  # type: ignore[attr-defined]
    for member in enum_cls:
        assert msgspec.json.decode(msgspec.json.encode(member), type=enum_cls) is member


def test_enum_fields_fall_back_in_models() -> None:
    folder = msgspec.json.decode(
        b'{"id": "f", "type": "holographic", "order": "byMood", "versioning": {"type": "git"}}',
        type=FolderConfig,
    )
    assert folder.type is FolderType.UNKNOWN
    assert folder.versioning.type is VersioningType.UNKNOWN
    summary = msgspec.json.decode(b'{"state": "dreaming"}', type=FolderSummary)
    assert summary.state is FolderState.UNKNOWN
    comp = msgspec.json.decode(b'{"completion": 50, "remoteState": "confused"}', type=Completion)
    assert comp.remote_state is RemoteState.UNKNOWN


# --- null lists / maps -----------------------------------------------------------------------


def _is_null_container(t: Any) -> bool:
    """A ``NullList``/``NullDict`` field: ``list|dict`` or None at runtime."""
    args = typing.get_args(t)
    if typing.get_origin(t) not in (typing.Union, types.UnionType) or type(None) not in args:
        return False
    return any(typing.get_origin(a) in (list, dict) for a in args)


def _dummy(t: Any) -> Any:
    """A minimal JSON value of type ``t`` (for the required fields of a synthetic payload)."""
    origin = typing.get_origin(t)
    if origin in (typing.Union, types.UnionType):
        return _dummy(next(a for a in typing.get_args(t) if a is not type(None)))
    if origin is list:
        return []
    if origin is dict:
        return {}
    if t is datetime:
        return "2026-01-01T00:00:00Z"
    if t is bool:
        return False
    if t in (int, float):
        return 0
    if t is str:
        return ""
    if inspect.isclass(t) and issubclass(t, enum.Enum):
        return next(iter(t)).value
    if inspect.isclass(t) and issubclass(t, msgspec.Struct):
        return {f.encode_name: _dummy(f.type) for f in msgspec.structs.fields(t) if f.required}
    raise AssertionError(f"no dummy for {t!r}")


def _models() -> list[type[SyncthingModel]]:
    out = []
    for module in MODULES:
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, SyncthingModel):
                out.append(obj)
    return out


def _null_fields(cls: type[msgspec.Struct]) -> list[msgspec.structs.FieldInfo]:
    """``NullList``/``NullDict`` fields (a plain ``dict | None = None`` such as ``platform`` is not)."""
    return [
        f
        for f in msgspec.structs.fields(cls)
        if _is_null_container(f.type) and f.default_factory is not msgspec.NODEFAULT
    ]


@pytest.mark.parametrize("cls", [c for c in _models() if _null_fields(c)], ids=lambda c: c.__name__)
def test_null_containers_read_as_empty(cls: type[msgspec.Struct]) -> None:
    """Every NullList/NullDict field reads ``null`` as an empty list/map (and so does absence)."""
    payload = {f.encode_name: _dummy(f.type) for f in msgspec.structs.fields(cls) if f.required}
    nulls = _null_fields(cls)
    obj = msgspec.convert({**payload, **{f.encode_name: None for f in nulls}}, cls)
    missing = msgspec.convert(payload, cls)
    for f in nulls:
        empty = [] if list in map(typing.get_origin, typing.get_args(f.type)) else {}
        assert getattr(obj, f.name) == empty, f.name
        assert getattr(missing, f.name) == f.default_factory(), f.name


def test_null_lists_in_real_payloads() -> None:
    ignores = load("1.19.2", "db_ignores__none")
    assert (ignores.ignore, ignores.expanded, ignores.error) == ([], [], None)
    errors = load("1.19.2", "folder_errors__empty")
    assert errors.errors == []
    paused = load("1.29.5", "db_status__paused")
    assert paused.remote_sequence == {}
    assert paused.state is FolderState.NONE
    file = load("1.19.2", "db_file__no_peers")
    assert file.availability == []
    need = load("2.x", "db_need")
    assert need.progress == [] and need.queued == [] and len(need.rest) == 2


# --- specific shapes -------------------------------------------------------------------------


def test_system_status_and_version() -> None:
    st = load("1.19.2", "system_status")
    assert st.my_id == "TCJZTUK-H3TFKTL-MLJTN4M-CVKFO2U-YKPAMCA-5PYXEIT-2YXOULE-TU2RTQ4"
    assert st.start_time == datetime(2026, 11, 26, 21, 43, 27, tzinfo=UTC)
    listener = st.connection_service_status["tcp://127.0.0.1:22201"]
    assert listener.error is None and listener.lan_addresses == ["tcp://127.0.0.1:22201"]
    assert st.last_dial_status["tcp://127.0.0.1:22999"].error.startswith("dial tcp")  # type: ignore[union-attr]
    assert st.discovery_enabled is False and st.discovery_status == {}
    st2 = load("2.x", "system_status")
    assert st2.discovery_enabled and st2.discovery_methods == 3
    assert st2.discovery_status["IPv4 local"].error is None
    v = load("1.19.2", "system_version")
    assert (v.version, v.is_beta, v.container, v.extra, v.tags) == ("v1.19.2-ds1", True, False, "", [])
    v129 = load("1.29.5", "system_version")
    assert v129.container is True and v129.tags == ["stnoupgrade"]


def test_log_level_int_in_v1_and_str_in_v2() -> None:
    assert [e.level for e in load("1.19.2", "system_error").errors] == [3, 3]
    assert [e.level for e in load("2.x", "system_error").errors] == ["WARN", "ERROR"]
    assert all(isinstance(m.level, int) for m in load("1.29.5", "system_log").messages)
    levels = load("2.x", "system_loglevels")
    assert levels.levels["model"] is LogLevel.DEBUG and levels.packages["api"] == "REST API"


def test_connections_across_versions() -> None:
    c119 = load("1.19.2", "system_connections")
    assert len(c119.connections) == 2  # 1.19.2 lists the local device too
    assert all(d.primary is None and d.secondary == [] for d in c119.connections.values())
    c2 = load("2.x", "system_connections")
    peer = next(d for d in c2.connections.values() if d.connected)
    assert peer.primary is not None and peer.primary.type is ConnectionType.TCP_CLIENT
    assert [s.type for s in peer.secondary] == [ConnectionType.QUIC_CLIENT]
    offline = next(d for d in c2.connections.values() if not d.connected)
    assert offline.type is ConnectionType.NONE and offline.primary is None


def test_folder_summary_versions() -> None:
    old = load("1.19.2", "db_status")
    assert old.state is FolderState.IDLE and old.remote_sequence == {} and old.receive_only_total_items == 0
    new = load("1.29.5", "db_status")
    assert new.remote_sequence and all(isinstance(v, int) for v in new.remote_sequence.values())
    ro = load("1.29.5", "db_status__receiveonly")
    assert ro.receive_only_changed_files == 1
    assert load("2.x", "db_status__starting").state is FolderState.STARTING
    assert load("1.29.5", "db_status__needy").need_files == 2


def test_file_info_shapes() -> None:
    remote = load("1.19.2", "db_remoteneed")
    assert [f.num_blocks for f in remote.files] == [None, None, None]
    assert remote.files[1].type is FileInfoType.DIRECTORY and remote.files[0].permissions == "0644"
    f129 = load("1.29.5", "db_file")
    assert f129.global_.num_blocks == 1 and f129.global_.blocks_hash
    assert f129.availability[0].from_temporary is False and f129.mtime is not None
    f2 = load("2.x", "db_file")
    assert f2.global_.previous_blocks_hash and f2.mtime is None
    dbg = load("1.19.2", "debug_file")
    assert dbg.global_versions.startswith("{{Version") and dbg.availability == [
        "7777777-777777N-7777777-777777N-7777777-777777N-7777777-77777Q4"
    ]
    browse = load("1.29.5", "db_browse")
    assert [e.name for e in browse] == ["a.txt", "sub"] and browse[1].children[0].name == "b.txt"
    assert browse[0].children == []


def test_config_names_and_version_differences() -> None:
    cfg = load("1.19.2", "config")
    assert cfg.version == 36 and cfg.gui.api_key == "test-api-key-123" and cfg.gui.use_tls is False
    assert cfg.options.ur_accepted == -1 and cfg.options.local_announce_mc_addr == "[ff12::8384]:21027"
    assert cfg.options.unacked_notification_ids == ["authenticationUserAndPassword"]
    folder = cfg.folders[0]
    assert folder.fs_watcher_delay_s == 10 and isinstance(folder.fs_watcher_delay_s, int)
    assert folder.puller_max_pending_kib == 0 and folder.case_sensitive_fs is False
    assert folder.devices[0].device_id.startswith("M47G4QY")
    cfg2 = load("2.x", "config")
    f2 = cfg2.folders[0]
    assert f2.fs_watcher_delay_s == 10.5 and f2.group == "work" and f2.block_indexing is True
    assert f2.xattr_filter.entries[0].match == "user.*"
    assert cfg2.gui.session_cookie_duration_s == 604800
    assert cfg2.remote_ignored_devices[0].name == "ignored-peer"
    assert load("1.19.2", "config_ldap").bind_dn == ""
    assert load("1.19.2", "config_gui__auth").password.startswith("$2a$")


def test_small_answers() -> None:
    assert load("1.19.2", "svc_deviceid").valid
    bad = load("1.19.2", "svc_deviceid__error")
    assert not bad.valid and bad.id is None and "incorrect length" in (bad.error or "")
    assert load("1.19.2", "svc_deviceid__empty").id == ""
    assert load("1.29.5", "system_shutdown").ok == "shutting down"
    assert load("1.19.2", "config_restart_required").requires_restart is False
    assert load("1.19.2", "config_insync").config_in_sync is True
    paths = load("1.29.5", "system_paths")
    assert paths.base_dir_config and paths.base_dir_user_home == "/home/user"
    assert load("2.x", "system_paths").legacy_database.endswith("index-v0.14.0.db")
    pending = load("1.29.5", "cluster_pending_folders")
    assert list(pending) == ["offered"] and len(pending["offered"].offered_by) == 1
    versions = load("1.29.5", "folder_versions")
    assert versions["old.txt"][0].version_time == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert load("1.29.5", "folder_versions__post") == {}
    stats_ = load("1.19.2", "stats_device")
    assert all(s.last_seen.year == 1970 for s in stats_.values())
    metrics = load("1.29.5", "debug_httpmetrics")
    assert all(len(m.percentiles_ms) == 3 for m in metrics.values())


def test_request_bodies_encode_with_wire_names() -> None:
    assert msgspec.json.encode(db.IgnoresRequest(ignore=["*.tmp"])) == b'{"ignore":["*.tmp"]}'
    body: db.RestoreVersionsRequest = {"a.txt": datetime(2026, 1, 1, 12, tzinfo=UTC)}
    assert msgspec.json.encode(body) == b'{"a.txt":"2026-01-01T12:00:00Z"}'
    levels: system.LogLevelsRequest = {"model": LogLevel.DEBUG}
    assert msgspec.json.encode(levels) == b'{"model":"DEBUG"}'
    dev = DeviceConfig(device_id="X", remote_gui_port=8384, max_request_kib=1)
    wire = msgspec.to_builtins(dev)
    assert wire["deviceID"] == "X" and wire["remoteGUIPort"] == 8384 and wire["maxRequestKiB"] == 1


def test_public_names_are_exported() -> None:
    """``__all__`` of every model module lists exactly its public classes and aliases."""
    for module in MODULES:
        public = {
            name
            for name, obj in vars(module).items()
            if not name.startswith("_")
            and getattr(obj, "__module__", module.__name__) == module.__name__
            and (inspect.isclass(obj) or isinstance(obj, types.GenericAlias))
        }
        assert public <= set(module.__all__), (module.__name__, public - set(module.__all__))
        for name in module.__all__:
            assert hasattr(module, name), (module.__name__, name)


def test_response_models_document_their_url() -> None:
    for cls in _models():
        if "__doc_url__" in vars(cls):
            assert cls.__doc_url__.startswith("https://docs.syncthing.net/rest/"), cls
            assert cls.__doc_url__ in (cls.__doc__ or ""), cls
