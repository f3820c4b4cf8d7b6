"""Lossless config writes (``syncthing_async._preserve``) over real config fixtures."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncthing_async._preserve import attach_raw, decode_with_raw, diff, raw_of, replace, to_wire
from syncthing_async.models.config import (
    Configuration,
    DefaultIgnores,
    DeviceConfig,
    FolderConfig,
    FolderDevice,
    FolderType,
    GuiConfig,
    LdapConfig,
    ObservedFolder,
    Options,
    VersioningType,
)
from syncthing_async.models.db import FolderSummary

FIXTURES = Path(__file__).parent / "fixtures"

CONFIG_FIXTURES: dict[str, Any] = {
    "config": Configuration,
    "config__peer": Configuration,
    "config_folder": FolderConfig,
    "config_folder__put": FolderConfig,
    "config_defaults_folder": FolderConfig,
    "config_device": DeviceConfig,
    "config_defaults_device": DeviceConfig,
    "config_gui": GuiConfig,
    "config_gui__auth": GuiConfig,
    "config_ldap": LdapConfig,
    "config_options": Options,
    "config_defaults_ignores": DefaultIgnores,
    "config_folders": list[FolderConfig],
    "config_devices": list[DeviceConfig],
}
PATHS = sorted(p for p in FIXTURES.glob("*/config*.json") if p.stem in CONFIG_FIXTURES)


def raw_config(version: str = "1.29.5") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / version / "config.json").read_bytes())
    return data


def apply_patch(current: Any, patch: Any) -> Any:
    """What Syncthing does with a PATCH body: objects and maps merge, arrays replace.

    (https://docs.syncthing.net/rest/config.html, lib/api/confighandler.go)
    """
    if isinstance(current, dict) and isinstance(patch, dict):
        out = dict(current)
        for k, v in patch.items():
            out[k] = apply_patch(current[k], v) if k in current else v
        return out
    return patch


def inject_unknown(raw: dict[str, Any]) -> dict[str, Any]:
    """Add keys no model knows at every level of a configuration payload."""
    raw = copy.deepcopy(raw)
    raw["futureTop"] = {"nested": [1, 2, {"x": None}]}
    for folder in [*raw["folders"], raw["defaults"]["folder"]]:
        folder["futureFolder"] = "f-" + folder["id"]
        folder["versioning"]["futureVersioning"] = 42
        folder["minDiskFree"]["futureSize"] = True
        if "xattrFilter" in folder:  # v1.22.0+
            folder["xattrFilter"]["futureXattr"] = [3]
        for dev in folder["devices"]:
            dev["futureFolderDevice"] = dev["deviceID"][:7]
    for device in [*raw["devices"], raw["defaults"]["device"]]:
        device["futureDevice"] = {"id": device["deviceID"]}
    raw["devices"][0]["ignoredFolders"] = [
        {"time": "2026-11-21T10:00:00.123456789Z", "id": "ign", "label": "L", "futureIgnored": 1}
    ]
    raw["remoteIgnoredDevices"] = [
        {"time": "2026-11-20T10:00:00Z", "deviceID": "R", "name": "", "address": "", "futureRemote": "r"}
    ]
    raw["gui"]["futureGui"] = "g"
    raw["ldap"]["futureLdap"] = 0.5
    raw["options"]["futureOptions"] = ["o"]
    raw["options"]["minHomeDiskFree"]["futureSize"] = "h"
    raw["defaults"]["futureDefaults"] = False
    raw["defaults"]["ignores"]["futureIgnores"] = {}
    return raw


def unknown_paths(value: Any, path: str = "$") -> dict[str, Any]:
    """Every ``future*`` key with its value, by path (list items by their identity when they have one)."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            if k.startswith("future"):
                out[f"{path}.{k}"] = v
            else:
                out.update(unknown_paths(v, f"{path}.{k}"))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            ident = v.get("id") or v.get("deviceID") if isinstance(v, dict) else None
            out.update(unknown_paths(v, f"{path}[{ident or i}]"))
    return out


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_round_trip_is_exact(path: Path) -> None:
    """GET -> to_wire gives back exactly what Syncthing sent, for every real config payload."""
    data = path.read_bytes()
    obj = decode_with_raw(data, CONFIG_FIXTURES[path.stem])
    assert to_wire(obj) == json.loads(data)


@pytest.mark.parametrize("version", ["1.19.2", "1.29.5", "2.x"])
def test_unknown_keys_survive_at_every_level(version: str) -> None:
    raw = inject_unknown(raw_config(version))
    expected_unknown = unknown_paths(raw)
    assert len(expected_unknown) > 15
    cfg = decode_with_raw(json.dumps(raw).encode(), Configuration)

    # untouched: identical
    assert to_wire(cfg) == raw

    # modified in several ways: unknown keys stay, with equal values, changes apply
    cfg.folders[0].label = "Changed"
    cfg.folders[0].versioning.params["keep"] = "7"
    cfg.folders.reverse()  # list items are matched by id, not position
    cfg.devices[0].name = "renamed"
    cfg.gui.theme = "dark"
    cfg.options.max_send_kbps = 100
    cfg.folders.append(FolderConfig(id="brand-new", path="/tmp/new"))
    wire = to_wire(cfg)
    assert unknown_paths(wire) == expected_unknown
    changed = next(f for f in wire["folders"] if f["id"] == raw["folders"][0]["id"])
    assert changed["label"] == "Changed" and changed["versioning"]["params"]["keep"] == "7"
    assert wire["devices"][0]["name"] == "renamed"
    assert (wire["gui"]["theme"], wire["options"]["maxSendKbps"]) == ("dark", 100)
    assert wire["folders"][-1]["id"] == "brand-new" and "futureFolder" not in wire["folders"][-1]
    json.dumps(wire)  # plain JSON builtins


def test_nested_objects_keep_their_own_raw() -> None:
    raw = inject_unknown(raw_config())
    cfg = decode_with_raw(json.dumps(raw).encode(), Configuration)
    folder = cfg.folders[1]
    assert raw_of(folder) == raw["folders"][1]
    assert to_wire(folder) == raw["folders"][1]
    assert to_wire(cfg.gui)["futureGui"] == "g"
    assert to_wire(cfg.folders[1].versioning)["futureVersioning"] == 42
    # a folder moved into another configuration object brings its own unknown keys along
    other = Configuration(folders=[folder])
    assert to_wire(other)["folders"][0]["futureFolder"] == raw["folders"][1]["futureFolder"]


def test_a_folder_kept_after_its_config_is_dropped_keeps_its_raw() -> None:
    import gc

    raw = inject_unknown(raw_config())
    cfg = decode_with_raw(json.dumps(raw).encode(), Configuration)
    folder = cfg.folders[1]
    del cfg
    gc.collect()
    # nothing was linked before the config went away: the folder still finds its own raw JSON,
    # and so does its nested versioning (asked first, deepest-first)
    assert to_wire(folder.versioning)["futureVersioning"] == 42
    assert raw_of(folder) == raw["folders"][1]
    assert to_wire(folder) == raw["folders"][1]


def test_list_payload() -> None:
    data = (FIXTURES / "1.29.5" / "config_folders.json").read_bytes()
    raw = json.loads(data)
    raw[0]["futureFolder"] = 1
    folders = attach_raw(msgspec.json.decode(json.dumps(raw), type=list[FolderConfig]), raw)
    assert to_wire(folders) == raw
    assert to_wire(folders[0])["futureFolder"] == 1


def test_unchanged_fields_keep_their_raw_form() -> None:
    raw = raw_config("2.x")
    raw["folders"][0]["type"] = "holographic"  # a folder type from the future
    raw["folders"][0]["versioning"]["type"] = "git"
    raw["folders"][0]["devices"] = None  # Go's nil slice
    cfg = decode_with_raw(json.dumps(raw).encode(), Configuration)
    folder = cfg.folders[0]
    assert folder.type is FolderType.UNKNOWN and folder.versioning.type is VersioningType.UNKNOWN
    assert folder.devices == []
    wire = to_wire(cfg)
    assert wire["folders"][0]["type"] == "holographic"  # not "unknown"
    assert wire["folders"][0]["versioning"]["type"] == "git"
    assert wire["folders"][0]["devices"] is None
    # nanosecond timestamps go back unrounded
    assert wire["remoteIgnoredDevices"][0]["time"] == "2026-11-20T10:00:00.123456789Z"
    # a changed value is sent as the new value
    folder.type = FolderType.SEND_ONLY
    folder.devices.append(FolderDevice(device_id="X"))
    wire = to_wire(cfg)
    assert wire["folders"][0]["type"] == "sendonly"
    assert wire["folders"][0]["devices"] == [{"deviceID": "X", "introducedBy": "", "encryptionPassword": ""}]


def test_ints_stay_ints_for_v1() -> None:
    """``fsWatcherDelayS`` is an int in 1.x, which rejects ``10.0``; a float in 2.x."""
    v1 = decode_with_raw((FIXTURES / "1.19.2" / "config_folder.json").read_bytes(), FolderConfig)
    assert json.dumps(to_wire(v1)["fsWatcherDelayS"]) == "10"
    v1.fs_watcher_delay_s = 5
    assert json.dumps(to_wire(v1)["fsWatcherDelayS"]) == "5"
    v2 = decode_with_raw((FIXTURES / "2.x" / "config_folder.json").read_bytes(), FolderConfig)
    assert to_wire(v2)["fsWatcherDelayS"] == 10.5


def test_fields_missing_from_the_base_are_left_out_unless_set() -> None:
    """Keys another version does not have are not invented, but an explicit change is sent."""
    v1 = decode_with_raw((FIXTURES / "1.19.2" / "config_folder.json").read_bytes(), FolderConfig)
    wire = to_wire(v1)
    assert "blockIndexing" not in wire and "group" not in wire and "syncXattrs" not in wire
    v1.group = "work"
    assert to_wire(v1)["group"] == "work"


def test_fresh_objects_send_every_field() -> None:
    folder = FolderConfig(id="x", path="/p")
    assert raw_of(folder) is None
    assert to_wire(folder) == msgspec.to_builtins(folder)
    assert to_wire(folder)["pullerMaxPendingKiB"] == 0


def test_attach_raw_needs_dict_structs() -> None:
    with pytest.raises(TypeError, match="dict=True"):
        attach_raw(FolderSummary(), {"state": "idle"})
    # base given explicitly works for any struct
    assert to_wire(FolderSummary(), base={"futureKey": 1})["futureKey"] == 1


# --- replace / copy --------------------------------------------------------------------------


def test_msgspec_replace_drops_the_raw_but_base_can_be_passed() -> None:
    raw = inject_unknown(raw_config())
    cfg = decode_with_raw(json.dumps(raw).encode(), Configuration)
    folder = cfg.folders[0]
    plain = msgspec.structs.replace(folder, label="R")
    assert raw_of(plain) is None  # msgspec.structs.replace does not copy __dict__
    assert raw_of(copy.deepcopy(folder)) is None  # nor does deepcopy
    assert "futureFolder" not in to_wire(plain)
    # nested objects are shared with the original, so they still carry their raw JSON
    assert to_wire(plain)["versioning"]["futureVersioning"] == 42
    wire = to_wire(plain, base=raw_of(folder))
    assert wire["futureFolder"] == raw["folders"][0]["futureFolder"] and wire["label"] == "R"
    kept = replace(folder, label="R")
    assert raw_of(kept) is raw_of(folder)
    assert to_wire(kept) == wire


# --- diff ------------------------------------------------------------------------------------


def folder_pair() -> tuple[FolderConfig, dict[str, Any]]:
    raw = inject_unknown(raw_config())["folders"][0]
    folder = decode_with_raw(json.dumps(raw).encode(), FolderConfig)
    return folder, raw


def test_diff_nothing_changed() -> None:
    folder, _ = folder_pair()
    assert diff(folder, replace(folder)) == {}
    assert diff(folder, copy.deepcopy(folder)) == {}


def test_diff_scalars_and_nested_objects() -> None:
    folder, raw = folder_pair()
    new = copy.deepcopy(folder)
    new.label = "New label"
    new.rescan_interval_s = 60
    new.versioning.type = VersioningType.SIMPLE
    new.min_disk_free.value = 5
    patch = diff(folder, new)
    assert patch == {
        "label": "New label",
        "rescanIntervalS": 60,
        "versioning": {"type": "simple"},
        "minDiskFree": {"value": 5},
    }
    assert apply_patch(raw, patch) == to_wire(new, base=raw)


def test_diff_maps_merge_and_lists_replace() -> None:
    folder, raw = folder_pair()
    folder.versioning.params["keep"] = "5"
    raw["versioning"]["params"]["keep"] = "5"
    new = copy.deepcopy(folder)
    new.versioning.params["cleanoutDays"] = "3"  # map: only the new key
    new.versioning.params["keep"] = "6"
    del new.devices[0]  # list: sent whole
    patch = diff(folder, new)
    assert patch["versioning"] == {"params": {"cleanoutDays": "3", "keep": "6"}}
    assert [d["deviceID"] for d in patch["devices"]] == [d["deviceID"] for d in raw["devices"][1:]]
    # list items keep their unknown keys from the raw JSON of ``old``
    assert all("futureFolderDevice" in d for d in patch["devices"])
    assert apply_patch(raw, patch) == to_wire(new, base=raw)


def test_diff_cannot_remove_map_keys() -> None:
    folder, _ = folder_pair()
    folder.versioning.params["keep"] = "5"
    new = copy.deepcopy(folder)
    del new.versioning.params["keep"]
    with pytest.raises(ValueError, match=r"versioning\.params.*PUT"):
        diff(folder, new)


def test_diff_whole_configuration() -> None:
    raw = inject_unknown(raw_config())
    cfg = decode_with_raw(json.dumps(raw).encode(), Configuration)
    new = copy.deepcopy(cfg)
    new.options.listen_addresses = ["tcp://127.0.0.1:22001"]
    new.gui.theme = "black"
    new.devices[0].ignored_folders.append(ObservedFolder(id="x", label="X"))
    patch = diff(cfg, new)
    assert patch["options"] == {"listenAddresses": ["tcp://127.0.0.1:22001"]}
    assert patch["gui"] == {"theme": "black"}
    dev_patch = patch["devices"]  # the devices list is sent whole, unknown keys kept
    assert dev_patch[0]["futureDevice"] == raw["devices"][0]["futureDevice"]
    assert dev_patch[0]["ignoredFolders"][0]["futureIgnored"] == 1
    assert dev_patch[0]["ignoredFolders"][-1]["id"] == "x"
    assert apply_patch(raw, patch) == to_wire(new, base=raw)


def test_diff_type_mismatch() -> None:
    with pytest.raises(TypeError):
        diff(FolderConfig(), DeviceConfig())  # type: ignore[type-var]


# --- property: applying the PATCH gives the PUT body -----------------------------------------

_text = st.text(alphabet="abcxyz-_ ", max_size=8)


@settings(max_examples=150, deadline=None)
@given(
    label=_text,
    paused=st.booleans(),
    rescan=st.integers(min_value=0, max_value=86400),
    delay=st.one_of(st.integers(min_value=1, max_value=60), st.floats(min_value=0.5, max_value=60)),
    add_params=st.dictionaries(_text, _text, max_size=3),
    drop_devices=st.integers(min_value=0, max_value=2),
    order=st.sampled_from(["random", "alphabetic", "newestFirst"]),
)
def test_patch_equals_put(
    label: str,
    paused: bool,
    rescan: int,
    delay: float,
    add_params: dict[str, str],
    drop_devices: int,
    order: str,
) -> None:
    """Syncthing's merge of ``diff(old, new)`` over the old JSON equals the full body of ``new``."""
    folder, raw = folder_pair()
    new = copy.deepcopy(folder)
    new.label = label
    new.paused = paused
    new.rescan_interval_s = rescan
    new.fs_watcher_delay_s = delay
    new.versioning.params.update(add_params)
    new.devices = new.devices[drop_devices:]
    new.order = msgspec.convert(order, type(new.order))
    patch = diff(folder, new)
    assert apply_patch(raw, patch) == to_wire(new, base=raw)
    assert set(patch) <= set(to_wire(new))
    json.dumps(patch)
