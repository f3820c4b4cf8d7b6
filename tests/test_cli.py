"""The installed ``syncthing-async`` command, end to end against real daemons."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from syncthing_async.testing.daemon import SyncthingDaemon

CLI = Path(sys.executable).parent / "syncthing-async"


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    assert CLI.exists(), f"console script not installed next to {sys.executable}"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SYNCTHING_", "ST"))}
    return subprocess.run(
        [str(CLI), *args], capture_output=True, text=True, timeout=timeout, env={**base, **(env or {})}
    )


def conn(d: SyncthingDaemon) -> list[str]:
    return ["--url", d.url, "--api-key", d.api_key]


def test_status_shows_device_id(daemon: SyncthingDaemon) -> None:
    res = run(*conn(daemon), "status")
    assert res.returncode == 0, res.stderr
    assert daemon.device_id in res.stdout
    assert daemon.api_key not in res.stdout + res.stderr


def test_env_configuration_and_folders_devices(daemon: SyncthingDaemon) -> None:
    env = {"SYNCTHING_URL": daemon.url, "SYNCTHING_API_KEY": daemon.api_key}
    folders = run("folders", env=env)
    assert folders.returncode == 0, folders.stderr
    assert folders.stdout.startswith("default-test\t")
    devices = run("devices", env=env)
    assert devices.returncode == 0, devices.stderr


def test_events_since_zero_prints_json_lines(daemon: SyncthingDaemon) -> None:
    res = run(*conn(daemon), "events", "--since", "0", "--count", "3")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 3
    events = [json.loads(line) for line in lines]
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert events[0]["type"] == "Starting" and events[0]["id"] == 1
    assert all({"id", "globalID", "time", "type", "data"} <= e.keys() for e in events)


def test_wrong_key_exits_nonzero_with_one_line(daemon: SyncthingDaemon) -> None:
    res = run("--url", daemon.url, "--api-key", "definitely-wrong-key", "status")
    assert res.returncode == 4
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "authentication failed" in lines[0]
    assert "Traceback" not in res.stderr and "definitely-wrong-key" not in res.stderr


def test_no_syncthing_and_unknown_folder_are_one_line_errors(daemon: SyncthingDaemon, tmp_path: Path) -> None:
    res = run("--url", "http://127.0.0.1:9", "--api-key", "k", "status")
    assert res.returncode == 3 and len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr
    res = run("status", env={"HOME": str(tmp_path)})  # no config.xml anywhere
    assert res.returncode == 1 and "config.xml" in res.stderr and "Traceback" not in res.stderr
    res = run(*conn(daemon), "call", "GET", "/rest/db/status", "folder=nope")
    assert res.returncode == 5 and res.stderr.strip() == "error: no such folder"


def test_call_config_get_patch_and_scan(make_daemon) -> None:
    d: SyncthingDaemon = make_daemon()
    res = run(*conn(d), "call", "GET", "/rest/system/ping")
    assert res.returncode == 0 and json.loads(res.stdout) == {"ping": "pong"}
    res = run(*conn(d), "call", "GET", "/rest/not/a/route")
    assert res.returncode == 2 and "not a Syncthing endpoint" in res.stderr
    res = run(*conn(d), "config", "patch", "options", '{"maxSendKbps": 123}')
    assert res.returncode == 0, res.stderr
    res = run(*conn(d), "config", "get", "options")
    assert json.loads(res.stdout)["maxSendKbps"] == 123
    res = run(*conn(d), "config", "get")
    assert res.returncode == 0 and json.loads(res.stdout)["gui"]["apiKey"] == "<redacted>"
    res = run(*conn(d), "call", "GET", "/rest/config/gui")
    assert res.returncode == 0 and json.loads(res.stdout)["apiKey"] == "<redacted>"
    assert d.api_key not in res.stdout
    res = run(*conn(d), "scan", "default-test", "--wait", "--timeout", "30")
    assert res.returncode == 5 and "no such folder" in res.stderr


@pytest.mark.parametrize("argv", [[], ["nope"], ["events", "--since", "x"], ["call"]])
def test_usage_errors_exit_2(argv: list[str]) -> None:
    res = run(*argv)
    assert res.returncode == 2 and "usage:" in res.stderr and "Traceback" not in res.stderr


def test_scan_wait_and_wait_synced_on_a_real_folder(daemon: SyncthingDaemon) -> None:
    res = run(*conn(daemon), "scan", "default-test", "--wait", "--timeout", "60")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "default-test: scanned"
    res = run(*conn(daemon), "wait-synced", "default-test", "--timeout", "60")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "default-test: in sync"
    assert "100.0%" in res.stderr  # the progress bar (non-tty: one line per change)
    res = run(*conn(daemon), "wait-synced", "nope", "--timeout", "10")
    assert res.returncode == 5 and "no such folder" in res.stderr.lower()
