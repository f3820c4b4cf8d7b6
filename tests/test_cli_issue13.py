"""Issue 13 ("the command line, fit for scripts and bots"): one test per finding, against real
Syncthing 1.19.2 and 1.29.5 where the finding involves one. Each failed on the CLI before the fix."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from syncthing_async.testing.daemon import SyncthingDaemon, free_port, write_files
from tests.cli_support import Follower, conn, one_error_line, run, run_bytes


# 1 ---------------------------------------------------------------------------------------
def test_1_events_fails_fast_when_syncthing_is_not_there() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    res = run("--url", url, "--api-key", "k", "events", "--count", "1", timeout=20)
    assert res.returncode == 3 and res.stdout == ""
    assert one_error_line(res).startswith("error: cannot reach Syncthing: ")


def test_1_events_holds_on_once_connected_and_gives_up_after_max_retries(
    fresh_daemon: SyncthingDaemon,
) -> None:
    d = fresh_daemon
    follower = Follower(*conn(d), "events", "--since", "0", "--max-retries", "2")
    try:
        follower.wait_for(lambda e: e["type"] == "StartupComplete", 30, "StartupComplete")
        d.stop()
        rc = follower.proc.wait(timeout=90)  # backoff 0.5 s doubling: at most 0.5 + 1 + 2 s of waiting
    finally:
        follower.kill()
    follower.interrupt()
    assert rc == 3, follower.errors
    said = [
        e for e in follower.errors if e.startswith("events: connection to Syncthing lost; reconnect attempt")
    ]
    assert [s.split("attempt ")[1].split()[0] for s in said] == ["1", "2"], follower.errors
    assert follower.errors[-1].startswith("error: cannot reach Syncthing: ")
    assert len(follower.errors) == len(said) + 1, follower.errors


# 2 ---------------------------------------------------------------------------------------
def test_2_wait_synced_on_a_paused_folder_says_so_at_once(fresh_daemon: SyncthingDaemon) -> None:
    d = fresh_daemon
    d.add_folder("shared", d.data_dir / "shared")
    assert d.request("PATCH", "/rest/config/folders/shared", json_body={"paused": True}).status == 200
    res = run(*conn(d), "wait-synced", "shared", timeout=30)  # no --timeout: it used to wait forever
    assert res.returncode == 9
    line = one_error_line(res)
    assert line == "error: folder 'shared' is paused: nothing syncs or scans until it is resumed"
    assert "100.0%" not in res.stderr


def test_2_wait_synced_timeout_is_a_timeout_not_a_connection_error(
    make_daemon: Callable[..., SyncthingDaemon],
) -> None:
    never = make_daemon(start=False)  # a device that never comes online
    d = make_daemon(start=False)
    write_files(d.data_dir / "shared", {"a.txt": b"a"})
    d.add_device(never.device_id, name="never")
    d.add_folder("shared", d.data_dir / "shared", [never.device_id])
    d.start()
    d.wait_folder_idle("shared", local_files=1)
    res = run(*conn(d), "wait-synced", "shared", "--device", never.device_id, "--timeout", "2", timeout=30)
    assert res.returncode == 7, res.stderr
    line = res.stderr.splitlines()[-1]
    assert line.startswith(
        f"error: timed out after 2 s: folder 'shared' is not in sync on device {never.device_id[:7]}"
    )
    assert "cannot" not in line and "Traceback" not in res.stderr


# 3 ---------------------------------------------------------------------------------------
def test_3_config_patch_names_refusals_and_old_to_new(fresh_daemon: SyncthingDaemon) -> None:
    d = fresh_daemon
    before = d.get_json("/rest/config/options")
    assert before["relaysEnabled"] is False  # the harness turns relays off
    for changes in ([], ["{}"], ["[]"], ['{"nope": 1}'], ["not json"]):
        res = run(*conn(d), "config", "patch", "options", *changes)
        assert res.returncode == 2, (changes, res.stderr)
        one_error_line(res)
    assert d.get_json("/rest/config/options") == before  # nothing was sent
    res = run(*conn(d), "config", "patch", "options", '{"relays_enabled": true, "maxRecvKbps": 7}')
    assert res.returncode == 0, res.stderr
    assert res.stdout == "options: relaysEnabled: false -> true\noptions: maxRecvKbps: 0 -> 7\n"
    after = d.get_json("/rest/config/options")
    assert after["relaysEnabled"] is True and after["maxRecvKbps"] == 7
    res = run(*conn(d), "config", "patch", "options", '{"maxRecvKbps": 7}')
    assert res.returncode == 0 and res.stdout == "options: maxRecvKbps: 7 (unchanged)\n"
    res = run(*conn(d), "config", "get", "options", '{"a":1}')
    assert res.returncode == 2 and "unrecognized arguments" in one_error_line(res)


# 4 ---------------------------------------------------------------------------------------
def test_4_event_lines_carry_the_wire_payload_whatever_the_flags(daemon: SyncthingDaemon) -> None:
    wire = {
        e[0][1]: e
        for e in json.loads(
            daemon.request("GET", "/rest/events", params={"since": "0", "timeout": "0"}).body,
            object_pairs_hook=list,  # keeps key order and any key Syncthing sent
        )
    }
    plain = run(*conn(daemon), "events", "--since", "0", "--count", "6")
    typed = run(
        *conn(daemon), "events", "--since", "0", "--count", "2", "--types", "Starting,StartupComplete"
    )
    assert plain.returncode == typed.returncode == 0, plain.stderr + typed.stderr
    lines = plain.stdout.splitlines() + typed.stdout.splitlines()
    by_id: dict[int, str] = {}
    for line in lines:
        event = json.loads(line, object_pairs_hook=list)
        assert [k for k, _ in event] == ["id", "globalID", "time", "type", "data"]
        fields = dict(event)
        sent = dict(wire[fields["id"]])
        assert fields["data"] == sent["data"], fields["type"]  # same keys, same order, nothing added
        assert (fields["type"], fields["globalID"]) == (sent["type"], sent.get("globalID", 0))
        assert by_id.setdefault(fields["id"], line) == line  # the same line with or without --types
    assert {dict(json.loads(x))["type"] for x in typed.stdout.splitlines()} == {"Starting", "StartupComplete"}


# 5 ---------------------------------------------------------------------------------------
def test_5_call_binary_byte_for_byte_any_path_and_version_gates(
    daemon: SyncthingDaemon, syncthing_version: str, tmp_path: Path
) -> None:
    png = daemon.request("GET", "/qr/", params={"text": "hello"}).body
    assert png.startswith(b"\x89PNG\r\n")
    res = run_bytes(*conn(daemon), "call", "GET", "/qr/", "text=hello")
    assert res.returncode == 0 and res.stdout == png and res.stderr == b""
    out = tmp_path / "qr.png"
    res = run_bytes(*conn(daemon), "call", "GET", "/qr/", "text=hello", "--output", str(out))
    assert res.returncode == 0 and res.stdout == b"" and out.read_bytes() == png

    res = run(*conn(daemon), "call", "GET", "/rest/nope")
    assert res.returncode == 6
    assert res.stderr.splitlines() == [
        "note: GET /rest/nope is not in this library's endpoint table; sent as is",
        "error: not found: Syncthing has no route GET /rest/nope",
    ]
    page = daemon.request("GET", "/").body
    res = run_bytes(*conn(daemon), "call", "GET", "/")  # the GUI page: unknown to the library, passed through
    assert res.returncode == 0 and res.stdout == page and b"<html" in page
    assert res.stderr.decode().startswith("note: GET / is not in this library's endpoint table")

    res = run(*conn(daemon), "call", "GET", "/metrics")
    if syncthing_version == "1.19.2":
        assert res.returncode == 8
        assert one_error_line(res).startswith("error: /metrics needs Syncthing 1.24.0 or newer; connected")
    else:
        assert res.returncode == 0 and "\n# TYPE " in res.stdout and res.stderr == ""


# 6 ---------------------------------------------------------------------------------------
def test_6_plain_http_to_another_machine_is_one_plain_note_line() -> None:
    # 192.0.2.1 is TEST-NET-1: never a real host; the note comes before any connection attempt.
    res = run(
        "--url", "http://192.0.2.1:8384", "--api-key", "k", "--request-timeout", "2", "status", timeout=30
    )
    assert res.returncode in (3, 7), res.stderr
    note, error = res.stderr.splitlines()
    assert note.startswith("note: the Syncthing API key goes over plain HTTP to 192.0.2.1")
    assert error.startswith("error: ")
    assert "Warning" not in res.stderr and "warn(" not in res.stderr


# 7 ---------------------------------------------------------------------------------------
def test_7_missing_key_and_wrong_key_are_told_apart(daemon: SyncthingDaemon) -> None:
    res = run("--url", daemon.url, "status")
    assert res.returncode == 4
    assert one_error_line(res).startswith("error: no API key given: pass --api-key or set SYNCTHING_API_KEY")
    res = run("--url", daemon.url, "--api-key", "wrong-key", "status")
    assert res.returncode == 4
    assert one_error_line(res).startswith("error: the API key was refused: wrong key")


# 8 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ["--timeout", "5", "status"],
        ["--request-timeout", "0", "status"],
        ["--request-timeout", "-1", "status"],
        ["--request-timeout", "nan", "status"],
        ["wait-synced", "x", "--timeout", "0"],
        ["scan", "x", "--wait", "--timeout", "-1"],
        ["events", "--count", "0"],
        ["events", "--since", "-1"],
        ["events", "--max-retries", "-1"],
    ],
)
def test_8_argument_values_are_checked(argv: list[str]) -> None:
    res = run("--url", "http://127.0.0.1:9", *argv)
    assert res.returncode == 2, res.stderr
    one_error_line(res)


def test_8_rough_edges_name_things_and_say_empty(fresh_daemon: SyncthingDaemon) -> None:
    d = fresh_daemon
    res = run(*conn(d), "scan", "nope")
    assert res.returncode == 6 and one_error_line(res) == "error: no such folder 'nope'"
    res = run(*conn(d), "config", "get", "foo")
    assert res.returncode == 2 and one_error_line(res).startswith("error: unknown config section 'foo'")
    res = run(*conn(d), "config", "get", "folders/nope")
    assert res.returncode == 6 and one_error_line(res) == "error: no such folder 'nope'"
    res = run("--url", d.url + "/rest", "--api-key", d.api_key, "status")
    assert res.returncode == 2
    assert one_error_line(res) == f"error: the URL is Syncthing's base URL, without /rest: {d.url}"
    assert run(*conn(d), "folders").stdout == "no folders\n"
    assert run(*conn(d), "devices").stdout == "no remote devices\n"
    assert json.loads(run(*conn(d), "folders", "--json").stdout) == []
