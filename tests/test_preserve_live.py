"""Lossless config writes against real Syncthing daemons (1.19.2 and 1.29.5).

What ``to_wire`` and ``diff`` produce must be accepted by Syncthing and must give exactly the
configuration the caller meant; the merge that ``tests/test_preserve.py`` simulates for PATCH is
checked here against Syncthing's own.
"""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest

from syncthing_async._preserve import decode_with_raw, diff, raw_of, to_wire
from syncthing_async.models.config import Configuration, FolderConfig, Options, VersioningType

pytestmark = pytest.mark.daemon

Daemon = Any  # the test-suite's real-daemon handle (see conftest.py): .request(), .add_folder(), .data_dir


def get_raw(st: Daemon, path: str) -> bytes:
    resp = st.request("GET", path)
    assert resp.status == 200, resp.text
    return resp.body


def send(st: Daemon, method: str, path: str, body: Any) -> None:
    resp = st.request(
        method, path, data=msgspec.json.encode(body), headers={"Content-Type": "application/json"}
    )
    assert resp.status == 200, f"{method} {path} -> {resp.status}: {resp.text}"


@pytest.fixture
def st(fresh_daemon: Daemon) -> Daemon:
    fresh_daemon.add_folder("f1", fresh_daemon.data_dir / "f1", label="Folder one")
    return fresh_daemon


def test_put_whole_config_from_to_wire(st: Daemon) -> None:
    before = decode_with_raw(get_raw(st, "/rest/config"), Configuration)
    original = copy.deepcopy(raw_of(before))
    assert to_wire(before) == original
    folder = next(f for f in before.folders if f.id == "f1")
    folder.label = "Renamed by to_wire"
    before.options.max_send_kbps = 123
    send(st, "PUT", "/rest/config", to_wire(before))

    after = msgspec.json.decode(get_raw(st, "/rest/config"))
    expected = copy.deepcopy(original)
    next(f for f in expected["folders"] if f["id"] == "f1")["label"] = "Renamed by to_wire"
    expected["options"]["maxSendKbps"] = 123
    assert after == expected


def test_patch_from_diff_matches_syncthing_merge(st: Daemon) -> None:
    raw = get_raw(st, "/rest/config/folders/f1")
    old = decode_with_raw(raw, FolderConfig)
    new = copy.deepcopy(old)
    new.label = "Patched"
    new.rescan_interval_s = 120
    new.fs_watcher_delay_s = 3
    new.versioning.type = VersioningType.SIMPLE
    new.versioning.params.update({"keep": "4", "cleanoutDays": "2"})
    patch = diff(old, new)
    assert set(patch) == {"label", "rescanIntervalS", "fsWatcherDelayS", "versioning"}
    send(st, "PATCH", "/rest/config/folders/f1", patch)

    got = msgspec.json.decode(get_raw(st, "/rest/config/folders/f1"))
    assert got == to_wire(new, base=raw_of(old))

    # a second PATCH only adds a map key: Syncthing keeps the others (maps merge)
    old2 = decode_with_raw(msgspec.json.encode(got), FolderConfig)
    new2 = copy.deepcopy(old2)
    new2.versioning.params["keep"] = "9"
    patch2 = diff(old2, new2)
    assert patch2 == {"versioning": {"params": {"keep": "9"}}}
    send(st, "PATCH", "/rest/config/folders/f1", patch2)
    got2 = msgspec.json.decode(get_raw(st, "/rest/config/folders/f1"))
    assert got2["versioning"]["params"] == {"keep": "9", "cleanoutDays": "2"}
    assert got2 == to_wire(new2, base=raw_of(old2))


def test_put_single_objects_keeps_everything(st: Daemon) -> None:
    """PUT resets omitted fields to defaults, so the body must be complete: to_wire's is."""
    opts_raw = get_raw(st, "/rest/config/options")
    opts = decode_with_raw(opts_raw, Options)
    opts.max_recv_kbps = 77
    send(st, "PUT", "/rest/config/options", to_wire(opts))
    expected = dict(msgspec.json.decode(opts_raw), maxRecvKbps=77)
    assert msgspec.json.decode(get_raw(st, "/rest/config/options")) == expected

    folder_raw = get_raw(st, "/rest/config/folders/f1")
    folder = decode_with_raw(folder_raw, FolderConfig)
    folder.paused = True
    send(st, "PUT", "/rest/config/folders/f1", to_wire(folder))
    expected = dict(msgspec.json.decode(folder_raw), paused=True)
    assert msgspec.json.decode(get_raw(st, "/rest/config/folders/f1")) == expected
