"""Typed events: every Syncthing event type decodes, lazily, misfits never break decoding, and each
type is declared exactly once (syncthing_async/models/events/_types.py)."""

from __future__ import annotations

import inspect
import logging
import re
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

import syncthing_async
from syncthing_async import SyncthingDecodeError
from syncthing_async.models import events as ev
from syncthing_async.models.events import (
    DEFAULT_EVENT_TYPES,
    DISK_EVENT_TYPES,
    EVENT_TYPES,
    Event,
    EventsSkipped,
    FailureDetails,
    StateChangedData,
    StateChangedEvent,
    StreamReset,
    UnknownEvent,
    _decode,
    _types,
    checked_event,
    decode_events,
)
from syncthing_async.models.events._envelope import _CLASS_BY_TYPE, _register_declared

# Syncthing's 33 event types: those listed at https://docs.syncthing.net/dev/events.html and
# UpgradeRestartScheduled (Syncthing >= 2.0.15; lib/events/events.go). 1.19.2 lacks the two marked ones.
SYNCTHING_TYPES = {
    "Starting",
    "StartupComplete",
    "DeviceDiscovered",
    "DeviceConnected",
    "DeviceDisconnected",
    "DeviceRejected",
    "PendingDevicesChanged",
    "DevicePaused",
    "DeviceResumed",
    "ClusterConfigReceived",  # v1.20.0
    "LocalChangeDetected",
    "RemoteChangeDetected",
    "LocalIndexUpdated",
    "RemoteIndexUpdated",
    "ItemStarted",
    "ItemFinished",
    "StateChanged",
    "FolderRejected",
    "PendingFoldersChanged",
    "ConfigSaved",
    "DownloadProgress",
    "RemoteDownloadProgress",
    "FolderSummary",
    "FolderCompletion",
    "FolderErrors",
    "FolderScanProgress",
    "FolderPaused",
    "FolderResumed",
    "FolderWatchStateChanged",
    "ListenAddressesChanged",
    "LoginAttempt",
    "Failure",
    "UpgradeRestartScheduled",  # v2.0.15
}

DEV = "TCJZTUK-H3TFKTL-MLJTN4M-CVKFO2U-YKPAMCA-5PYXEIT-2YXOULE-TU2RTQ4"
URL_OBJ = {
    "Scheme": "tcp",
    "Opaque": "",
    "User": None,
    "Host": "127.0.0.1:22201",
    "Path": "",
    "RawPath": "",
    "OmitHost": False,
    "ForceQuery": False,
    "RawQuery": "",
    "Fragment": "",
    "RawFragment": "",
}
SUMMARY_119 = {  # recorded from a real Syncthing 1.19.2
    "errors": 0,
    "globalBytes": 140,
    "globalDeleted": 0,
    "globalDirectories": 1,
    "globalFiles": 2,
    "globalSymlinks": 0,
    "globalTotalItems": 3,
    "ignorePatterns": False,
    "inSyncBytes": 140,
    "inSyncFiles": 2,
    "invalid": "",
    "localBytes": 140,
    "localDeleted": 0,
    "localDirectories": 1,
    "localFiles": 2,
    "localSymlinks": 0,
    "localTotalItems": 3,
    "needBytes": 0,
    "needDeletes": 0,
    "needDirectories": 0,
    "needFiles": 0,
    "needSymlinks": 0,
    "needTotalItems": 0,
    "pullErrors": 0,
    "sequence": 3,
    "state": "idle",
    "stateChanged": "2026-11-26T21:43:28Z",
    "version": 3,
}

# type -> (payload as Syncthing sends it, attribute path -> expected value)
SAMPLES: dict[str, tuple[Any, dict[str, Any]]] = {
    "Starting": ({"home": "/home/user/.local/state/syncthing", "myID": DEV}, {"my_id": DEV}),
    "StartupComplete": ({"myID": DEV}, {"my_id": DEV}),
    "DeviceDiscovered": (
        {"device": DEV, "addrs": ["tcp://1.2.3.4:22000"]},
        {"addrs": ["tcp://1.2.3.4:22000"]},
    ),
    "DeviceConnected": (
        {
            "addr": "127.0.0.1:22000",
            "id": DEV,
            "deviceName": "Laptop",
            "clientName": "syncthing",
            "clientVersion": "v1.29.5",
            "type": "tcp-client",
        },
        {
            "device_name": "Laptop",
            "type": "tcp-client",
            "addr": "127.0.0.1:22000",
            "client_version": "v1.29.5",
        },
    ),
    "DeviceDisconnected": ({"id": DEV, "error": "EOF"}, {"error": "EOF"}),
    "DeviceRejected": ({"name": "n", "device": DEV, "address": "1.2.3.4:5"}, {"address": "1.2.3.4:5"}),
    "PendingDevicesChanged": (
        {"added": [{"address": "127.0.0.1:51807", "deviceID": DEV, "name": "dusty"}]},
        {"added.0.device_id": DEV, "added.0.name": "dusty", "removed": []},
    ),
    "DevicePaused": ({"device": DEV}, {"device": DEV}),
    "DeviceResumed": ({"device": DEV}, {"device": DEV}),
    "ClusterConfigReceived": ({"device": DEV}, {"device": DEV}),
    "LocalChangeDetected": (
        {
            "action": "modified",
            "folder": "test1",
            "folderID": "test1",
            "label": "Test One",
            "modifiedBy": "TCJZTUK",
            "path": "sub/b.txt",
            "type": "file",
        },
        {"folder_id": "test1", "modified_by": "TCJZTUK", "path": "sub/b.txt", "type": "file"},
    ),
    "RemoteChangeDetected": (
        {
            "action": "deleted",
            "folder": "f",
            "folderID": "f",
            "label": "",
            "modifiedBy": "X",
            "path": "a",
            "type": "dir",
        },
        {"action": "deleted", "type": "dir"},
    ),
    "LocalIndexUpdated": (
        {
            "filenames": ["sub", "sub/b.txt", "a.txt"],
            "folder": "test1",
            "items": 3,
            "sequence": 3,
            "version": 3,
        },
        {"items": 3, "filenames": ["sub", "sub/b.txt", "a.txt"], "sequence": 3},
    ),
    "RemoteIndexUpdated": (
        {"device": DEV, "folder": "f", "items": 2, "sequence": 9, "version": 9},
        {"items": 2, "sequence": 9},
    ),
    "ItemStarted": (
        {"item": "test.txt", "folder": "default", "type": "file", "action": "update"},
        {"item": "test.txt", "action": "update"},
    ),
    "ItemFinished": (
        {"item": "test.txt", "folder": "default", "error": None, "type": "file", "action": "update"},
        {"error": None, "item": "test.txt"},
    ),
    "StateChanged": (
        {"duration": 0.596050047, "folder": "test1", "from": "scan-waiting", "to": "scanning"},
        {"from_": "scan-waiting", "to": "scanning", "duration": 0.596050047, "error": None},
    ),
    "FolderRejected": ({"folder": "f", "folderLabel": "F", "device": DEV}, {"folder_label": "F"}),
    "PendingFoldersChanged": (
        {
            "added": [
                {
                    "deviceID": DEV,
                    "folderID": "GXWxf-3zgnU",
                    "folderLabel": "My Pictures",
                    "receiveEncrypted": False,
                    "remoteEncrypted": True,
                }
            ],
            "removed": [{"folderID": "abcde-fghij"}],
        },
        {"added.0.remote_encrypted": True, "removed.0.folder_id": "abcde-fghij", "removed.0.device_id": ""},
    ),
    "ConfigSaved": ({"version": 36, "folders": [], "devices": []}, {"version": 36}),
    "DownloadProgress": (
        {
            "folder1": {
                "file1": {
                    "total": 800,
                    "pulling": 2,
                    "reused": 633,
                    "pulled": 38,
                    "bytesTotal": 1,
                    "bytesDone": 1,
                }
            }
        },
        {"folder1.file1.reused": 633, "folder1.file1.copied_from_origin_shifted": 0},
    ),
    "RemoteDownloadProgress": (
        {"state": {"tahr64-6.0.5.iso": 1784}, "device": DEV, "folder": "Dokumente"},
        {"state": {"tahr64-6.0.5.iso": 1784}},
    ),
    "FolderSummary": (
        {"folder": "test1", "summary": SUMMARY_119},
        {
            "summary.global_files": 2,
            "summary.need_deletes": 0,
            "summary.in_sync_bytes": 140,
            "summary.state": "idle",
            "summary.state_changed": datetime(2026, 11, 26, 21, 43, 28, tzinfo=UTC),
            "summary.remote_sequence": {},
            "summary.receive_only_total_items": 0,
        },
    ),
    "FolderCompletion": (
        {
            "completion": 100,
            "device": DEV,
            "folder": "default",
            "globalBytes": 17,
            "globalItems": 4,
            "needBytes": 0,
            "needDeletes": 0,
            "needItems": 0,
            "remoteState": "valid",
            "sequence": 12,
        },
        {"completion": 100.0, "global_items": 4, "remote_state": "valid"},
    ),
    "FolderErrors": (
        {"folder": "f", "errors": [{"path": "a", "error": "permission denied"}]},
        {"errors.0.error": "permission denied"},
    ),
    "FolderScanProgress": ({"folder": "f", "current": 100, "total": 200, "rate": 5.5}, {"rate": 5.5}),
    "FolderPaused": ({"id": "f", "label": "F"}, {"id": "f", "label": "F"}),
    "FolderResumed": ({"id": "f", "label": "F"}, {"id": "f"}),
    "FolderWatchStateChanged": ({"folder": "f", "to": "watch failed"}, {"from_": None, "to": "watch failed"}),
    "ListenAddressesChanged": (
        {"address": URL_OBJ, "lan": [URL_OBJ], "wan": [URL_OBJ, {**URL_OBJ, "Host": "0.0.0.0:0"}]},
        {
            "address.host": "127.0.0.1:22201",
            "wan.1.host": "0.0.0.0:0",
            "address.url": "tcp://127.0.0.1:22201",
        },
    ),
    "LoginAttempt": (
        {"proxy": "127.0.0.1", "remoteAddress": "192.168.178.10", "username": "me", "success": False},
        {"success": False, "remote_address": "192.168.178.10", "proxy": "127.0.0.1"},
    ),
    "Failure": ("index handler got paused while already paused", {}),
    "UpgradeRestartScheduled": (
        {"delayS": 60, "newVersion": "v2.0.16"},
        {"delay_s": 60, "new_version": "v2.0.16"},
    ),
}


def _envelope(type_: str, data: Any, id_: int = 1, gid: int = 1) -> dict[str, Any]:
    return {
        "id": id_,
        "globalID": gid,
        "time": "2026-11-26T21:43:28.119087236+01:00",
        "type": type_,
        "data": data,
    }


def _dig(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(obj, dict):
            obj = obj[part]
        elif isinstance(obj, list):
            obj = obj[int(part)]
        else:
            obj = getattr(obj, part)
    return obj


def test_registry_covers_syncthing_types() -> None:
    assert set(EVENT_TYPES) == SYNCTHING_TYPES
    assert len(EVENT_TYPES) == 33
    assert {"LocalChangeDetected", "RemoteChangeDetected"} == DISK_EVENT_TYPES
    assert DEFAULT_EVENT_TYPES == SYNCTHING_TYPES - DISK_EVENT_TYPES
    for name, (cls, _data_type) in EVENT_TYPES.items():
        assert cls.__name__ == f"{name}Event"
        assert cls.type == name  # type: ignore[comparison-overlap]
        assert getattr(ev, f"{name}Event") is cls
    assert set(SAMPLES) == SYNCTHING_TYPES


@pytest.mark.parametrize("type_name", sorted(SAMPLES))
def test_each_type_decodes(type_name: str) -> None:
    payload, expected = SAMPLES[type_name]
    batch = msgspec.json.encode([_envelope(type_name, payload, 7, 11)])
    (event,) = decode_events(batch)
    cls, data_type = EVENT_TYPES[type_name]
    assert type(event) is cls
    assert (event.id, event.global_id, event.type) == (7, 11, type_name)
    assert event.time == datetime(2026, 11, 26, 20, 43, 28, 119087, tzinfo=UTC)
    data = event.data
    if isinstance(data_type, type) and issubclass(data_type, msgspec.Struct):
        assert isinstance(data, data_type)
    for path, value in expected.items():
        assert _dig(data, path) == value, path
    assert checked_event(event) is event
    # what was decoded can be encoded back to Syncthing's keys
    assert msgspec.json.decode(msgspec.json.encode(data)) == msgspec.json.decode(
        msgspec.json.encode(msgspec.json.decode(msgspec.json.encode(payload), type=data_type))
    )


def test_failure_payload_string_and_object() -> None:
    batch = msgspec.json.encode(
        [
            _envelope("Failure", "boom", 1),
            _envelope("Failure", {"Description": "d", "Goroutines": "g", "Extra": {"k": "v"}}, 2),
            _envelope("Failure", {"Description": "d", "Goroutines": "g", "Extra": None}, 3),
        ]
    )
    one, two, three = decode_events(batch)
    assert one.data == "boom"
    assert two.data == FailureDetails(description="d", goroutines="g", extra={"k": "v"})
    assert three.data.extra == {}


def test_null_lists_and_maps_become_empty() -> None:
    batch = msgspec.json.encode(
        [
            _envelope("ListenAddressesChanged", {"address": URL_OBJ, "lan": None, "wan": None}, 1),
            _envelope("FolderErrors", {"folder": "f", "errors": None}, 2),
            _envelope("LocalIndexUpdated", {"folder": "f", "items": 0, "filenames": None}, 3),
            _envelope("RemoteDownloadProgress", {"device": DEV, "folder": "f", "state": None}, 4),
            _envelope("DeviceDiscovered", {"device": DEV, "addrs": None}, 5),
            _envelope("PendingFoldersChanged", {"removed": None}, 6),
        ]
    )
    events = decode_events(batch)
    assert [type(e).__name__ for e in events] == [
        "ListenAddressesChangedEvent",
        "FolderErrorsEvent",
        "LocalIndexUpdatedEvent",
        "RemoteDownloadProgressEvent",
        "DeviceDiscoveredEvent",
        "PendingFoldersChangedEvent",
    ]
    assert events[0].data.lan == [] and events[0].data.wan == []
    assert events[1].data.errors == []
    assert events[2].data.filenames == []
    assert events[3].data.state == {}
    assert events[4].data.addrs == []
    assert events[5].data.added == [] and events[5].data.removed == []


def test_decoding_is_lazy_and_cached() -> None:
    # A payload that does not fit: decoding the batch succeeds, only reading .data fails.
    batch = msgspec.json.encode(
        [
            _envelope("StateChanged", {"folder": "f", "to": 5}, 1),
            _envelope("StateChanged", {"folder": "f", "to": "idle"}, 2),
        ]
    )
    bad, good = decode_events(batch)
    assert type(bad) is StateChangedEvent
    with pytest.raises(SyncthingDecodeError) as info:
        bad.data  # noqa: B018
    assert "$.to" in info.value.detail
    assert "StateChanged" in str(info.value)
    first = good.data
    assert first is good.data
    assert first == StateChangedData(folder="f", to="idle")


def test_checked_event_turns_misfit_into_unknown(caplog: pytest.LogCaptureFixture) -> None:
    batch = msgspec.json.encode([_envelope("FolderSummary", {"folder": "f", "summary": "nope"}, 4, 9)])
    (event,) = decode_events(batch)
    with caplog.at_level(logging.WARNING, logger="syncthing_async.events"):
        out = checked_event(event)
    assert isinstance(out, UnknownEvent)
    assert (out.type, out.id, out.global_id, out.time) == ("FolderSummary", 4, 9, event.time)
    assert out.data == {"folder": "f", "summary": "nope"}
    assert out.raw_data == out.data
    assert out.error is not None and "$.summary" in out.error
    assert "FolderSummary" in repr(out)


def test_unknown_type_becomes_unknown_event() -> None:
    batch = msgspec.json.encode(
        [
            _envelope("StateChanged", {"folder": "f", "from": "idle", "to": "scanning"}, 1),
            _envelope("SomethingNew", {"x": [1, 2]}, 2),
            _envelope("StateChanged", {"folder": "f", "from": "scanning", "to": "idle"}, 3),
        ]
    )
    events = decode_events(batch)
    assert [e.id for e in events] == [1, 2, 3]
    assert type(events[0]) is StateChangedEvent and type(events[2]) is StateChangedEvent
    unknown = events[1]
    assert isinstance(unknown, UnknownEvent)
    assert unknown.type == "SomethingNew"
    assert unknown.data == {"x": [1, 2]}
    assert unknown.error is None
    assert checked_event(unknown) is unknown
    assert events[2].data.from_ == "scanning"


def test_negative_since_padding_decodes() -> None:
    pad = b'{"id":0,"globalID":0,"time":"0001-01-01T00:00:00Z","type":"Unknown","data":null}'
    (event,) = decode_events(b"[" + pad + b"]")
    assert isinstance(event, UnknownEvent)
    assert event.id == 0 and event.data is None
    assert event.time == datetime(1, 1, 1, tzinfo=UTC)


def test_broken_envelope_is_dropped_and_not_json_raises() -> None:
    good = msgspec.json.encode(_envelope("DevicePaused", {"device": DEV}, 2))
    events = decode_events(b'[{"id": "x", "type": "DevicePaused"}, ' + good + b"]")
    assert [e.id for e in events] == [2]
    with pytest.raises(SyncthingDecodeError):
        decode_events(b'[{"id": 1, "globalID": 1, "time": "2026')
    with pytest.raises(SyncthingDecodeError):
        decode_events(b'{"not": "a list"}')
    assert decode_events(b"[]\n") == []


def test_pattern_matching_and_equality() -> None:
    batch = msgspec.json.encode(
        [_envelope("StateChanged", {"folder": "f", "from": "idle", "to": "syncing"}, 5)]
    )
    (event,) = decode_events(batch)
    match event:
        case StateChangedEvent(data=StateChangedData(folder=folder, to=to)):
            assert (folder, to) == ("f", "syncing")
        case _:
            pytest.fail("no match")
    (again,) = decode_events(batch)
    assert event == again and hash(event) == hash(again)
    assert event != decode_events(batch.replace(b'"syncing"', b'"idle"'))[0]
    assert isinstance(event, Event)
    assert "StateChangedEvent(id=5" in repr(event)
    assert event.raw_json == msgspec.json.encode({"folder": "f", "from": "idle", "to": "syncing"})


def test_markers() -> None:
    skipped = EventsSkipped(count=3, first_id=4, last_id=6)
    assert skipped.reason == ev.SkipReason.GAP and skipped.type == "EventsSkipped"
    reset = StreamReset(reason=ev.ResetReason.RESTART, last_id=30)
    assert reset.type == "StreamReset" and reset.filter == "default"
    assert msgspec.json.decode(msgspec.json.encode(skipped), type=EventsSkipped) == skipped


def test_eager_decoding_is_the_same_events() -> None:
    batch = msgspec.json.encode(
        [
            _envelope(name, payload, i + 1, i + 1)
            for i, (name, (payload, _expected)) in enumerate(sorted(SAMPLES.items()))
        ]
    )
    lazy = decode_events(batch)
    eager = decode_events(batch, eager=True)
    assert len(eager) == len(lazy) == 33
    for one, other in zip(lazy, eager, strict=True):
        cls = EVENT_TYPES[one.type][0]
        assert isinstance(other, cls) and type(other).__name__ == cls.__name__
        assert other.data == one.data
        assert other == one and hash(other) == hash(one)
        assert msgspec.json.decode(other.raw_json, type=EVENT_TYPES[one.type][1]) == one.data
        assert repr(other) == repr(one)
        assert checked_event(other) is other
    match eager[0]:
        case Event(type="ClusterConfigReceived"):
            pass
        case _:
            pytest.fail("no match")


def test_eager_decoding_falls_back_when_something_does_not_fit() -> None:
    batch = msgspec.json.encode(
        [
            _envelope("StateChanged", {"folder": "f", "to": "idle"}, 1),
            _envelope("StateChanged", {"folder": "f", "to": 7}, 2),
            _envelope("SomethingNew", {}, 3),
        ]
    )
    events = decode_events(batch, eager=True)
    assert [type(e).__name__ for e in events] == ["StateChangedEvent", "StateChangedEvent", "UnknownEvent"]
    assert events[0].data.to == "idle"
    assert isinstance(checked_event(events[1]), UnknownEvent)


# --- each type declared once -------------------------------------------------------------------

PACKAGE_DIR = Path(syncthing_async.__file__).parent
TYPES_FILE = Path(_types.__file__)


def _package_lines() -> list[tuple[Path, int, str]]:
    return [
        (path, lineno, line)
        for path in sorted(PACKAGE_DIR.rglob("*.py"))
        for lineno, line in enumerate(path.read_text().splitlines(), 1)
    ]


def test_registry_is_the_declarations() -> None:
    assert set(_CLASS_BY_TYPE) == set(EVENT_TYPES) == SYNCTHING_TYPES
    assert {name: cls for name, (cls, _data) in EVENT_TYPES.items()} == _CLASS_BY_TYPE
    # the batch decoder's tagged union is built from the same registry
    assert tuple(_CLASS_BY_TYPE.values()) == _decode._ALL_EVENT_CLASSES
    # one class per Syncthing type name, and one type name per class
    assert len(set(_CLASS_BY_TYPE.values())) == len(_CLASS_BY_TYPE)


@pytest.mark.parametrize("type_name", sorted(SYNCTHING_TYPES))
def test_each_type_is_declared_exactly_once(type_name: str) -> None:
    cls, data_type = EVENT_TYPES[type_name]
    assert cls.__module__ == _types.__name__
    assert cls.__name__ == cls.__qualname__ == f"{type_name}Event"
    assert cls.__struct_config__.tag == type_name
    assert cls.__struct_config__.tag_field == "type"
    assert cls.type == type_name  # type: ignore[comparison-overlap]
    assert cls.__doc__
    # the declaration line names the payload type and the tag; the registry derives from it
    first = inspect.getsource(cls).splitlines()[0]
    match = re.fullmatch(rf'class {type_name}Event\(Event\[(.+)\], tag="{type_name}"\):', first)
    assert match, first
    assert eval(match.group(1), vars(_types)) == data_type == cls._data_type
    # nothing else in the package declares the class or registers the name
    declared = re.compile(rf"\bclass\s+{type_name}Event\b")
    registered = re.compile(
        rf"""(\btag\s*=\s*|_typed\(\s*|\bregister\w*\(\s*)["']{type_name}["']"""
        rf"""|["']{type_name}["']\s*:\s*\(?\s*\w*Event\b"""
    )
    hits = [
        (path, lineno)
        for path, lineno, line in _package_lines()
        if declared.search(line) or registered.search(line)
    ]
    assert hits == [(TYPES_FILE, inspect.getsourcelines(cls)[1])]


def test_no_tagged_event_class_outside_the_types_module() -> None:
    tagged = re.compile(r"""^\s*class\s+\w+\(.*\btag\s*=\s*["'](\w+)["']""")
    found: dict[str, list[Path]] = {}
    for path, _lineno, line in _package_lines():
        match = tagged.search(line)
        if match and match.group(1) in SYNCTHING_TYPES:
            found.setdefault(match.group(1), []).append(path)
    assert found == {name: [TYPES_FILE] for name in SYNCTHING_TYPES}


def test_a_second_or_misnamed_declaration_is_refused() -> None:
    before = dict(_CLASS_BY_TYPE)
    types.new_class("StateChangedEvent", (Event[StateChangedData],), {"tag": "StateChanged"})
    with pytest.raises(TypeError, match="declared twice"):
        _register_declared()
    types.new_class("Misnamed", (Event[StateChangedData],), {"tag": "SomethingNew"})
    with pytest.raises(TypeError, match="declared as"):
        _register_declared()
    assert before == _CLASS_BY_TYPE
    assert StateChangedEvent.type == "StateChanged"  # type: ignore[comparison-overlap]


def test_a_declaration_is_the_registration() -> None:
    new = types.new_class("ShinyNewEvent", (Event[StateChangedData],), {"tag": "ShinyNew"})
    try:
        assert _register_declared()["ShinyNew"] is new
        assert (new.type, new._type_name, new._data_type) == ("ShinyNew", "ShinyNew", StateChangedData)
        event = new(
            id=1, time=datetime(2026, 1, 1, tzinfo=UTC), _raw=msgspec.Raw(b'{"folder":"f","to":"idle"}')
        )
        assert event.type == "ShinyNew" and event.data == StateChangedData(folder="f", to="idle")
    finally:
        del _CLASS_BY_TYPE["ShinyNew"]
    # a subclass of a registered type (the eager decoder's hidden variants) is no new type
    variant = _decode._eager(StateChangedEvent)
    assert _register_declared()["StateChanged"] is StateChangedEvent and variant is not StateChangedEvent


def test_public_exports_derive_from_the_declarations() -> None:
    import syncthing_async.events as public

    for cls, data_type in EVENT_TYPES.values():
        for module in (ev, public):
            assert getattr(module, cls.__name__) is cls and cls.__name__ in module.__all__
            if isinstance(data_type, type):  # a payload struct, declared just before its class
                assert data_type.__module__ == _types.__name__
                assert (
                    getattr(module, data_type.__name__) is data_type and data_type.__name__ in module.__all__
                )
    declared = {
        n for n, v in vars(_types).items() if not n.startswith("_") and not isinstance(v, types.ModuleType)
    }
    assert declared <= set(ev.__all__) <= set(public.__all__)
    for module in (ev, public):
        assert len(set(module.__all__)) == len(module.__all__)
        for name in module.__all__:
            assert not isinstance(getattr(module, name), types.ModuleType), name
        assert {"Any", "TYPE_CHECKING", "annotations", "typing", "collections"}.isdisjoint(module.__all__)
    # the private names other modules import from syncthing_async.models.events
    for name in ("_CLASS_BY_TYPE", "_Decoded", "_Malformed", "_decode_batch"):
        assert hasattr(ev, name), name


# --- the recorded real events (tests/fixtures/<version>/events) ------------------------------

_RECORDED = Path(__file__).resolve().parent / "fixtures"


def _recorded_batches() -> list[tuple[str, str, bytes]]:
    return [
        (version, path.stem, path.read_bytes())
        for version in ("1.19.2", "1.29.5")
        for path in sorted((_RECORDED / version / "events").glob("*.json"))
    ]


@pytest.mark.parametrize(
    ("version", "stream", "raw"), _recorded_batches(), ids=lambda v: v if isinstance(v, str) else ""
)
@pytest.mark.parametrize("eager", [False, True], ids=["lazy", "eager"])
def test_every_recorded_real_event_decodes_to_its_typed_class(
    version: str, stream: str, raw: bytes, eager: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """Each event the real daemon sent decodes to its own class with its typed payload, never to
    UnknownEvent, and nothing is dropped or logged as a misfit."""
    envelopes = msgspec.json.decode(raw)
    assert len(envelopes) >= 3
    with caplog.at_level(logging.WARNING, logger="syncthing_async"):
        events = decode_events(raw, eager=eager)
        checked = [checked_event(e) for e in events]
    assert caplog.records == []
    assert [e.id for e in events] == [env["id"] for env in envelopes]  # nothing dropped
    for env, event, same in zip(envelopes, events, checked, strict=True):
        cls, data_type = EVENT_TYPES[env["type"]]
        assert isinstance(event, cls), (env["type"], type(event).__name__)
        assert same is event, f"{env['type']} #{env['id']}: {getattr(same, 'error', '')}"
        assert not isinstance(event, UnknownEvent)
        assert event.type == env["type"] and event.global_id == env["globalID"]
        if env["data"] is not None:
            assert event.data is not None
        # the payload model keeps every field Syncthing sent: re-encoding and decoding is stable
        assert msgspec.convert(msgspec.to_builtins(event.data), data_type) == event.data
    if eager:  # the one-pass decode took every payload (it falls back to lazy on any misfit)
        assert ev._decode_batch(raw, True)[1] is True
    kinds = {type(e).__name__ for e in events}
    if stream == "disk":
        assert {e.type for e in events} <= DISK_EVENT_TYPES
    else:
        assert len(kinds) >= 15 and not ({e.type for e in events} & DISK_EVENT_TYPES)
