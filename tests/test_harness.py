"""Tests of the real-Syncthing test harness itself (tests/harness.py and its fixtures)."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from syncthing_async.testing import daemon as harness
from syncthing_async.testing.daemon import (
    DEFAULT_TEST_FILES,
    REPO_ROOT,
    DaemonPair,
    HarnessError,
    SyncthingDaemon,
    binary_for,
    session_members,
    wait_until,
)
from tests.conftest import DEFAULT_TEST_FOLDER

pytestmark = pytest.mark.daemon


def _alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _start_time(st: SyncthingDaemon) -> str:
    start_time: str = st.get_json("/rest/system/status")["startTime"]
    return start_time


# ----------------------------------------------------------------------------- binaries


def test_binary_reports_its_version(syncthing_version: str) -> None:
    out = subprocess.run(
        [str(binary_for(syncthing_version)), "--version"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    assert out.startswith(f"syncthing v{syncthing_version}")
    assert out[len(f"syncthing v{syncthing_version}")] in " -"


def test_missing_binary_fails_loudly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(harness.BINARIES, "1.29.5", tmp_path / "no-such-syncthing")
    with pytest.raises(HarnessError, match=r"install-syncthing\.sh"):
        SyncthingDaemon("1.29.5", base_dir=tmp_path)
    with pytest.raises(HarnessError, match="unknown Syncthing version"):
        binary_for("0.0.1")


# ----------------------------------------------------------------------------- shared daemon


def test_ping_with_key(daemon: SyncthingDaemon, syncthing_version: str) -> None:
    resp = daemon.request("GET", "/rest/system/ping")
    assert resp.status == 200
    assert resp.json() == {"ping": "pong"}
    assert resp.headers["X-Syncthing-Version"].startswith(f"v{syncthing_version}")
    assert resp.headers["X-Syncthing-Id"] == daemon.device_id
    assert daemon.get_json("/rest/system/status")["myID"] == daemon.device_id
    assert daemon.version == syncthing_version


@pytest.mark.parametrize("key", [False, "wrong-key-0123456789abcdefghijkl"], ids=["none", "wrong"])
def test_ping_without_valid_key_is_403(daemon: SyncthingDaemon, key: bool | str) -> None:
    resp = daemon.request("GET", "/rest/system/ping", api_key=key)
    assert resp.status == 403
    assert resp.text.strip() == "CSRF Error"


def test_daemon_is_isolated_on_loopback(daemon: SyncthingDaemon) -> None:
    gui = daemon.get_json("/rest/config/gui")
    assert gui["address"] == f"127.0.0.1:{daemon.gui_port}"
    assert gui["debugging"] is True
    assert gui["useTLS"] is False
    options = daemon.get_json("/rest/config/options")
    assert options["listenAddresses"] == [f"tcp://127.0.0.1:{daemon.listen_port}"]
    for flag in ("globalAnnounceEnabled", "localAnnounceEnabled", "relaysEnabled", "natEnabled"):
        assert options[flag] is False, flag
    assert options["urAccepted"] == -1
    assert options["autoUpgradeIntervalH"] == 0
    assert options["crashReportingEnabled"] is False
    assert options["startBrowser"] is False
    assert _port_open(daemon.listen_port)


def test_shared_daemon_has_default_test_folder(daemon: SyncthingDaemon) -> None:
    folders = daemon.get_json("/rest/config/folders")
    assert [f["id"] for f in folders] == [DEFAULT_TEST_FOLDER]
    assert folders[0]["path"] == str(daemon.data_dir / DEFAULT_TEST_FOLDER)
    status = daemon.db_status(DEFAULT_TEST_FOLDER)
    assert status["state"] == "idle"
    assert status["localFiles"] == len(DEFAULT_TEST_FILES)
    assert status["localDirectories"] == 1  # "sub"
    # Syncthing counts every directory as 128 bytes (protocol.SyntheticDirectorySize).
    files_size = sum(len(c) for c in DEFAULT_TEST_FILES.values())
    assert status["localBytes"] == files_size + 128
    for rel, content in DEFAULT_TEST_FILES.items():
        assert (daemon.data_dir / DEFAULT_TEST_FOLDER / rel).read_bytes() == content


def test_debugging_flag(daemon: SyncthingDaemon, fresh_daemon: SyncthingDaemon) -> None:
    assert daemon.request("GET", "/rest/debug/peerCompletion").status == 200
    resp = fresh_daemon.request("GET", "/rest/debug/peerCompletion")
    assert resp.status == 403
    assert resp.text.strip() == "Debugging disabled"


# ----------------------------------------------------------------------------- lifecycle


def test_restart_gives_new_process(fresh_daemon: SyncthingDaemon) -> None:
    old_pid = fresh_daemon.pid
    old_start = _start_time(fresh_daemon)
    old_first_event = fresh_daemon.get_json("/rest/events", since="0", timeout="1")[0]
    fresh_daemon.restart()
    assert fresh_daemon.pid != old_pid
    assert not _alive(old_pid)
    assert _start_time(fresh_daemon) != old_start
    first_event = fresh_daemon.get_json("/rest/events", since="0", timeout="1")[0]
    assert first_event["id"] == old_first_event["id"] == 1  # event ids start over
    assert first_event["time"] != old_first_event["time"]


def test_stop_leaves_no_process(fresh_daemon: SyncthingDaemon) -> None:
    pids = fresh_daemon.process_pids()
    assert fresh_daemon.pid in pids
    assert len(pids) == 2  # Syncthing's monitor process and the child it runs
    fresh_daemon.stop()
    assert not fresh_daemon.running
    assert fresh_daemon.process_pids() == []
    assert not any(_alive(pid) for pid in pids)
    assert not _port_open(fresh_daemon.gui_port)
    assert not _port_open(fresh_daemon.listen_port)
    fresh_daemon.stop()  # idempotent
    with pytest.raises(OSError):
        fresh_daemon.request("GET", "/rest/system/ping", timeout=2)


def test_stop_also_kills_an_orphaned_child(fresh_daemon: SyncthingDaemon) -> None:
    pids = fresh_daemon.process_pids()
    os.kill(fresh_daemon.pid, signal.SIGKILL)  # the child survives its monitor
    wait_until(lambda: not _alive(fresh_daemon.pid), timeout=5, message="monitor to die")
    assert any(_alive(pid) for pid in pids)
    fresh_daemon.stop()
    assert not any(_alive(pid) for pid in pids)


def test_leftovers_are_killed_at_interpreter_exit(syncthing_version: str, tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        from pathlib import Path
        from syncthing_async.testing.daemon import SyncthingDaemon
        st = SyncthingDaemon({syncthing_version!r}, base_dir=Path({str(tmp_path)!r}))
        st.start()
        print(st.pid, *st.process_pids())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    sid, *pids = (int(p) for p in out)
    assert len(pids) == 2
    wait_until(lambda: not session_members(sid), timeout=10, message="leftovers to be killed")
    assert not any(_alive(pid) for pid in pids)


def test_start_moves_off_a_taken_gui_port(make_daemon: Callable[..., SyncthingDaemon]) -> None:
    st = make_daemon(start=False)
    taken = st.gui_port
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", taken))
        blocker.listen()
        st.start()
    assert st.gui_port != taken
    assert st.get_json("/rest/config/gui")["address"] == f"127.0.0.1:{st.gui_port}"
    assert "address already in use" in st.log_tail(1000)


def test_add_folder_while_running_persists(fresh_daemon: SyncthingDaemon) -> None:
    path = fresh_daemon.data_dir / "live"
    (path / "f.txt").parent.mkdir(parents=True)
    (path / "f.txt").write_bytes(b"live\n")
    fresh_daemon.add_folder("live", path)
    status = fresh_daemon.wait_folder_idle("live", local_files=1)
    assert status["localBytes"] == 5
    fresh_daemon.restart()
    assert [f["id"] for f in fresh_daemon.get_json("/rest/config/folders")] == ["live"]


def test_auto_restart_survives_rest_restart(
    make_daemon: Callable[..., SyncthingDaemon],
) -> None:
    st = make_daemon(auto_restart=True)
    old_start = _start_time(st)
    assert st.request("POST", "/rest/system/restart").status == 200
    wait_until(lambda: _start_time(st) != old_start, timeout=30, message="the daemon to come back")
    assert st.running
    assert st.pid in st.process_pids()


# ----------------------------------------------------------------------------- options


def test_https_daemon(https_daemon: SyncthingDaemon) -> None:
    resp = https_daemon.request("GET", "/rest/system/ping")  # verified against cert_path
    assert resp.status == 200
    assert resp.json() == {"ping": "pong"}
    assert https_daemon.cert_path.is_file()
    plain = https_daemon.request("GET", "/rest/system/ping", https=False)
    assert plain.status == 307
    assert plain.headers["Location"] == f"{https_daemon.https_url}/rest/system/ping"


def test_gui_auth(make_daemon: Callable[..., SyncthingDaemon], syncthing_version: str) -> None:
    st = make_daemon(gui_user="alice", gui_password="s3cret pw")
    assert st.request("GET", "/rest/system/ping").status == 200  # the key still works
    no_key = st.request("GET", "/rest/system/ping", api_key=False)
    assert no_key.status == (401 if syncthing_version == "1.19.2" else 403)
    basic = base64.b64encode(b"alice:s3cret pw").decode()
    with_basic = st.request(
        "GET", "/rest/system/ping", api_key=False, headers={"Authorization": f"Basic {basic}"}
    )
    assert (with_basic.status, with_basic.text.strip()) == (403, "CSRF Error")
    assert st.get_json("/rest/config/gui")["user"] == "alice"


# ----------------------------------------------------------------------------- pairs


def test_pair_syncs_files(daemon_pair: DaemonPair) -> None:
    a, b, folder_id, path_a, path_b = daemon_pair
    assert a.is_connected_to(b.device_id)
    assert b.is_connected_to(a.device_id)
    (path_a / "from_a.txt").write_bytes(b"written on a\n")
    wait_until(
        lambda: (
            (path_b / "from_a.txt").is_file() and (path_b / "from_a.txt").read_bytes() == b"written on a\n"
        ),
        timeout=60,
        interval=0.2,
        message="from_a.txt to reach b",
    )
    (path_b / "from_b.txt").write_bytes(b"written on b\n")
    wait_until(
        lambda: (path_a / "from_b.txt").is_file(),
        timeout=60,
        interval=0.2,
        message="from_b.txt to reach a",
    )
    assert (path_a / "from_b.txt").read_bytes() == b"written on b\n"
    status = b.wait_folder_idle(folder_id, local_files=2, timeout=60)
    assert status["needFiles"] == 0


@pytest.mark.parametrize("syncthing_version", ["1.29.5"], indirect=True, ids=["st1.29"])
def test_pair_while_running(make_daemon: Callable[..., SyncthingDaemon], syncthing_version: str) -> None:
    assert syncthing_version == "1.29.5"  # the indirect override reaches the fixtures
    a = make_daemon()
    b = make_daemon()
    result = harness.pair(a, b, "late", a.data_dir / "late", b.data_dir / "late")
    assert a.version == b.version == "1.29.5"
    (result.path_a / "x").write_bytes(b"x")
    wait_until(lambda: (result.path_b / "x").is_file(), timeout=60, message="x to reach b")
