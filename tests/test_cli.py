"""The installed ``syncthing-async`` command, end to end against real daemons: the everyday commands.

Issue 13's findings, one test each, are in tests/test_cli_issue13.py; the event line shape over a
real restart in tests/test_cli_events.py; docs against ``--help`` in tests/test_cli_docs.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncthing_async.testing.daemon import SyncthingDaemon
from tests.cli_support import conn, one_error_line, run


def test_status_shows_device_id(daemon: SyncthingDaemon) -> None:
    res = run(*conn(daemon), "status")
    assert res.returncode == 0, res.stderr
    assert daemon.device_id in res.stdout
    assert daemon.api_key not in res.stdout + res.stderr
    res = run(*conn(daemon), "status", "--json")
    assert res.returncode == 0, res.stderr
    status = json.loads(res.stdout)
    assert status["deviceID"] == daemon.device_id and status["url"] == daemon.url
    assert status["version"].startswith("v" + daemon.version)


def test_env_configuration_and_folders_devices(daemon: SyncthingDaemon) -> None:
    env = {"SYNCTHING_URL": daemon.url, "SYNCTHING_API_KEY": daemon.api_key}
    folders = run("folders", env=env)
    assert folders.returncode == 0, folders.stderr
    header, row = folders.stdout.splitlines()
    assert header.split() == ["ID", "LABEL", "STATE", "PATH"]
    assert row.split()[:3] == ["default-test", "default-test", "idle"]
    as_json = json.loads(run("folders", "--json", env=env).stdout)
    assert [(f["id"], f["state"], f["paused"]) for f in as_json] == [("default-test", "idle", False)]
    devices = run("devices", env=env)
    assert devices.returncode == 0, devices.stderr
    assert devices.stdout == "no remote devices\n"
    assert json.loads(run("devices", "--json", env=env).stdout) == []


def test_wrong_key_exits_4_with_one_line(daemon: SyncthingDaemon) -> None:
    res = run("--url", daemon.url, "--api-key", "definitely-wrong-key", "status")
    assert res.returncode == 4 and res.stdout == ""
    assert "API key was refused" in one_error_line(res)
    assert "definitely-wrong-key" not in res.stderr


def test_no_syncthing_and_unknown_folder_are_one_line_errors(daemon: SyncthingDaemon, tmp_path: Path) -> None:
    res = run("--url", "http://127.0.0.1:9", "--api-key", "k", "status")
    assert res.returncode == 3 and "cannot reach Syncthing" in one_error_line(res)
    res = run("status", env={"HOME": str(tmp_path)})  # no config.xml anywhere
    assert res.returncode == 1 and "config.xml" in one_error_line(res)
    res = run(*conn(daemon), "call", "GET", "/rest/db/status", "folder=nope")
    assert res.returncode == 6
    assert one_error_line(res) == "error: not found: no such folder (folder=nope)"


def test_call_config_get_patch_and_scan(make_daemon) -> None:
    d: SyncthingDaemon = make_daemon()
    res = run(*conn(d), "call", "GET", "/rest/system/ping")
    assert res.returncode == 0 and json.loads(res.stdout) == {"ping": "pong"} and res.stderr == ""
    res = run(*conn(d), "config", "patch", "options", '{"maxSendKbps": 123}')
    assert res.returncode == 0, res.stderr
    assert res.stdout == "options: maxSendKbps: 0 -> 123\n"
    res = run(*conn(d), "config", "get", "options")
    assert json.loads(res.stdout)["maxSendKbps"] == 123
    assert d.get_json("/rest/config/options")["maxSendKbps"] == 123
    res = run(*conn(d), "config", "get")
    assert res.returncode == 0 and json.loads(res.stdout)["gui"]["apiKey"] == "<redacted>"
    res = run(*conn(d), "call", "GET", "/rest/config/gui")
    assert res.returncode == 0 and json.loads(res.stdout)["apiKey"] == "<redacted>"
    assert d.api_key not in res.stdout
    res = run(*conn(d), "scan", "default-test", "--wait", "--timeout", "30")
    assert res.returncode == 6 and one_error_line(res) == "error: no such folder 'default-test'"


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["nope"],
        ["events", "--since", "x"],
        ["call"],
        ["config"],
        ["config", "get", "options", "extra"],
        ["status", "extra"],
    ],
)
def test_usage_errors_exit_2_in_one_line(argv: list[str]) -> None:
    res = run(*argv)
    assert res.returncode == 2, res.stderr
    assert "see: syncthing-async" in one_error_line(res)


def test_scan_wait_and_wait_synced_on_a_real_folder(daemon: SyncthingDaemon) -> None:
    res = run(*conn(daemon), "scan", "default-test", "--wait", "--timeout", "60")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "default-test: scanned"
    res = run(*conn(daemon), "wait-synced", "default-test", "--timeout", "60")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "default-test: in sync"
    assert "100.0%" in res.stderr  # the progress bar (non-tty: one line per change)
    res = run(*conn(daemon), "wait-synced", "nope", "--timeout", "10")
    assert res.returncode == 6 and one_error_line(res) == "error: no such folder 'nope'"


def test_tables_align_columns(fresh_daemon: SyncthingDaemon) -> None:
    d = fresh_daemon
    d.add_folder("a", d.data_dir / "a", label="short")
    d.add_folder("a-much-longer-id", d.data_dir / "b", label="a much longer label")
    res = run(*conn(d), "folders")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 3
    for column in ("LABEL", "STATE", "PATH"):
        start = lines[0].index(column)
        assert all(line[start - 2 : start] == "  " and line[start] != " " for line in lines), res.stdout
