"""Record real REST responses of a Syncthing binary into ``tests/fixtures/<version>/``.

Usage::

    python scripts/record_fixtures.py --binary /tmp/st129/usr/bin/syncthing --out tests/fixtures/1.29.5

Three throwaway instances run on 127.0.0.1 only, each in its own temporary home, with discovery,
relays, NAT, usage and crash reporting and upgrades switched off:

* **A** is recorded. It has folders ``test1`` (a few files, ``.stignore``, simple versioning with
  one archived version, shared with B and with a made-up unreachable peer), ``ro1``
  (receive-only with a local change), ``needy`` (shared by B, but A's ``minDiskFree`` can never be
  met, so A keeps needing B's files) and ``paused1`` (paused).
* **B** is a connected peer. It shares ``test1`` and ``needy`` and offers ``offered``, which A
  does not have (a pending folder).
* **C** knows A, but A does not know C (a pending device).

Every instance is stopped by its own PID (SIGTERM to the process group this script created).
Temporary paths in the bodies are rewritten to ``/home/user/st``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

FAKE_PEER = "M47G4QY-UXIKMM5-SVL72PN-XOVLWTB-2IO6QUE-5W2JP6D-XASA7C7-SRFSGQH"
REWRITE_TO = "/home/user/st"
IGNORES_BODY = b'{"ignore": ["*.tmp", "// comment", "/build"]}'
Row = tuple[str, "Instance", str, str, dict[str, str], bytes | None]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Instance:
    """One Syncthing process in its own temporary home."""

    def __init__(self, binary: str, base: Path, name: str) -> None:
        self.binary = binary
        self.name = name
        self.home = base / name
        self.data = base / f"{name}-data"
        self.data.mkdir(parents=True)
        self.gui_port = free_port()
        self.sync_port = free_port()
        self.api_key = f"recorder-key-{name}"
        self.proc: subprocess.Popen[bytes] | None = None
        subprocess.run(
            [binary, "generate", f"--home={self.home}", "--no-default-folder", "--skip-port-probing"],
            check=True,
            capture_output=True,
        )
        tree = ET.parse(self.home / "config.xml")
        self.device_id = tree.getroot().findall("device")[0].attrib["id"]
        self._configure(tree.getroot())
        tree.write(self.home / "config.xml")

    def _configure(self, root: ET.Element) -> None:
        gui = root.find("gui")
        assert gui is not None
        gui.set("debugging", "true")  # v1.x: /rest/debug/* needs it
        _set(gui, "address", f"127.0.0.1:{self.gui_port}")
        _set(gui, "apikey", self.api_key)
        opts = root.find("options")
        assert opts is not None
        for old in opts.findall("listenAddress"):
            opts.remove(old)
        ET.SubElement(opts, "listenAddress").text = f"tcp://127.0.0.1:{self.sync_port}"
        for key, value in {
            "globalAnnounceEnabled": "false",
            "localAnnounceEnabled": "false",
            "relaysEnabled": "false",
            "natEnabled": "false",
            "urAccepted": "-1",
            "autoUpgradeIntervalH": "0",
            "crashReportingEnabled": "false",
            "startBrowser": "false",
            "reconnectionIntervalS": "5",
        }.items():
            _set(opts, key, value)

    def start(self) -> None:
        env = dict(os.environ, STNOUPGRADE="1", STNORESTART="1")
        env.pop("STGUIAPIKEY", None)
        self.proc = subprocess.Popen(
            [self.binary, "serve", f"--home={self.home}", "--no-browser", "--no-restart", "--no-upgrade"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(lambda: self.try_get("/rest/system/ping") is not None, 30, f"{self.name} start")

    def stop(self) -> None:
        if self.proc is None:
            return
        pid = self.proc.pid
        if self.proc.poll() is None:
            os.kill(pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(pid, signal.SIGKILL)  # the group this script created for this instance
            self.proc.wait(10)
        # The monitor forks a child in the same group: wait until the group is gone.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            os.killpg(pid, signal.SIGKILL)
        self.proc = None

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, bytes]:
        url = f"http://127.0.0.1:{self.gui_port}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        req = urllib.request.Request(url, data=body, method=method)
        req.add_header("X-API-Key", self.api_key)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def try_get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        try:
            status, body = self.request("GET", path, params)
        except OSError:
            return None
        return json.loads(body) if status == 200 and body.strip() else None

    def call(self, method: str, path: str, payload: Any = None) -> bytes:
        body = None if payload is None else json.dumps(payload).encode()
        status, data = self.request(method, path, None, body, {"Content-Type": "application/json"})
        if status != 200:
            raise RuntimeError(f"{self.name}: {method} {path} -> {status} {data!r}")
        return data


def _set(parent: ET.Element, tag: str, text: str) -> None:
    el = parent.find(tag)
    if el is None:
        el = ET.SubElement(parent, tag)
    el.text = text


def wait_until(cond: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.25)
    raise TimeoutError(f"timed out waiting for {what}")


def write(root: Path, files: Mapping[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def setup(a: Instance, b: Instance, c: Instance) -> None:
    write(
        a.data / "test1",
        {
            "a.txt": "hello\n",
            "sub/b.txt": "world\n",
            "x.tmp": "ignored\n",
            ".stignore": "*.tmp\n// comment\n",
            ".stversions/old~20260101-120000.txt": "old version\n",
        },
    )
    write(a.data / "ro1", {"local-only.txt": "changed here\n"})
    (a.data / "needy").mkdir()
    (a.data / "paused1").mkdir()
    write(b.data / "test1", {})
    write(b.data / "needy", {"big.txt": "x" * 5000 + "\n", "small.txt": "small\n"})
    write(b.data / "offered", {"o.txt": "offered\n"})

    def dev(inst: Instance, name: str) -> dict[str, Any]:
        return {"deviceID": inst.device_id, "name": name, "addresses": [f"tcp://127.0.0.1:{inst.sync_port}"]}

    a.call("POST", "/rest/config/devices", dev(b, "peer-b"))
    a.call(
        "POST",
        "/rest/config/devices",
        {"deviceID": FAKE_PEER, "name": "fakepeer", "addresses": [f"tcp://127.0.0.1:{free_port()}"]},
    )
    devs_ab = [{"deviceID": b.device_id}, {"deviceID": FAKE_PEER}]
    a.call(
        "POST",
        "/rest/config/folders",
        {
            "id": "test1",
            "label": "Test One",
            "path": str(a.data / "test1"),
            "devices": devs_ab,
            "fsWatcherEnabled": False,
            "versioning": {"type": "simple", "params": {"keep": "5"}},
        },
    )
    a.call(
        "POST",
        "/rest/config/folders",
        {
            "id": "ro1",
            "label": "Receive only",
            "path": str(a.data / "ro1"),
            "type": "receiveonly",
            "devices": [{"deviceID": FAKE_PEER}],
            "fsWatcherEnabled": False,
        },
    )
    a.call(
        "POST",
        "/rest/config/folders",
        {
            "id": "needy",
            "label": "Needy",
            "path": str(a.data / "needy"),
            "devices": [{"deviceID": b.device_id}],
            "fsWatcherEnabled": False,
            "minDiskFree": {"value": 900, "unit": "TB"},
        },
    )
    a.call(
        "POST",
        "/rest/config/folders",
        {"id": "paused1", "path": str(a.data / "paused1"), "paused": True, "fsWatcherEnabled": False},
    )
    b.call("POST", "/rest/config/devices", dev(a, "peer-a"))
    for fid in ("test1", "needy", "offered"):
        b.call(
            "POST",
            "/rest/config/folders",
            {
                "id": fid,
                "path": str(b.data / fid),
                "devices": [{"deviceID": a.device_id}],
                "fsWatcherEnabled": False,
            },
        )
    c.call("POST", "/rest/config/devices", dev(a, "peer-a"))

    def connected() -> bool:
        conns = a.try_get("/rest/system/connections") or {}
        return bool(conns.get("connections", {}).get(b.device_id, {}).get("connected"))

    wait_until(connected, 60, "A-B connection")

    def pending(path: str, key: str) -> bool:
        return key in (a.try_get(path) or {})

    wait_until(lambda: pending("/rest/cluster/pending/folders", "offered"), 60, "pending folder")
    wait_until(lambda: pending("/rest/cluster/pending/devices", c.device_id), 60, "pending device")

    def needy_needs() -> bool:
        need = a.try_get("/rest/db/need", {"folder": "needy"}) or {}
        return bool(need.get("progress") or need.get("queued") or need.get("rest"))

    wait_until(needy_needs, 60, "needy need list")

    def idle(folder: str) -> bool:
        st = a.try_get("/rest/db/status", {"folder": folder}) or {}
        return st.get("state") == "idle" and st.get("globalFiles", 0) > 0

    wait_until(lambda: idle("test1"), 60, "test1 idle")

    def b_synced() -> bool:
        return (b.try_get("/rest/db/completion", {"folder": "test1"}) or {}).get("completion") == 100

    wait_until(b_synced, 60, "B synced")
    a.request("POST", "/rest/system/error", body=b"hello from the fixture recorder")
    time.sleep(2)


def recordings(a: Instance, b: Instance) -> list[Row]:
    """(fixture name, instance, method, path, params, body); ``events/*`` go to a sub-directory."""
    g = "GET"
    ab = {"folder": "test1", "device": b.device_id}
    afake = {"folder": "test1", "device": FAKE_PEER}
    rows: list[Row] = [
        ("system_status", a, g, "/rest/system/status", {}, None),
        ("system_version", a, g, "/rest/system/version", {}, None),
        ("system_ping", a, g, "/rest/system/ping", {}, None),
        ("system_ping__post", a, "POST", "/rest/system/ping", {}, None),
        ("system_connections", a, g, "/rest/system/connections", {}, None),
        ("system_connections__peer", b, g, "/rest/system/connections", {}, None),
        ("system_discovery", a, g, "/rest/system/discovery", {}, None),
        ("system_error", a, g, "/rest/system/error", {}, None),
        ("system_log", a, g, "/rest/system/log", {}, None),
        ("system_paths", a, g, "/rest/system/paths", {}, None),
        ("system_debug", a, g, "/rest/system/debug", {}, None),
        ("system_loglevels", a, g, "/rest/system/loglevels", {}, None),
        ("system_browse", a, g, "/rest/system/browse", {"current": str(a.data) + "/"}, None),
        ("system_browse__roots", a, g, "/rest/system/browse", {}, None),
        ("system_config_insync", a, g, "/rest/system/config/insync", {}, None),
        ("system_upgrade", a, g, "/rest/system/upgrade", {}, None),
        ("config", a, g, "/rest/config", {}, None),
        ("config__peer", b, g, "/rest/config", {}, None),
        ("config_restart_required", a, g, "/rest/config/restart-required", {}, None),
        ("config_insync", a, g, "/rest/config/insync", {}, None),
        ("config_folders", a, g, "/rest/config/folders", {}, None),
        ("config_folder", a, g, "/rest/config/folders/test1", {}, None),
        ("config_devices", a, g, "/rest/config/devices", {}, None),
        ("config_device", a, g, f"/rest/config/devices/{b.device_id}", {}, None),
        ("config_defaults_folder", a, g, "/rest/config/defaults/folder", {}, None),
        ("config_defaults_device", a, g, "/rest/config/defaults/device", {}, None),
        ("config_defaults_ignores", a, g, "/rest/config/defaults/ignores", {}, None),
        ("config_options", a, g, "/rest/config/options", {}, None),
        ("config_gui", a, g, "/rest/config/gui", {}, None),
        ("config_ldap", a, g, "/rest/config/ldap", {}, None),
        ("cluster_pending_devices", a, g, "/rest/cluster/pending/devices", {}, None),
        ("cluster_pending_folders", a, g, "/rest/cluster/pending/folders", {}, None),
        ("db_status", a, g, "/rest/db/status", {"folder": "test1"}, None),
        ("db_status__receiveonly", a, g, "/rest/db/status", {"folder": "ro1"}, None),
        ("db_status__needy", a, g, "/rest/db/status", {"folder": "needy"}, None),
        ("db_status__paused", a, g, "/rest/db/status", {"folder": "paused1"}, None),
        ("db_completion", a, g, "/rest/db/completion", {"folder": "test1"}, None),
        ("db_completion__device", a, g, "/rest/db/completion", ab, None),
        ("db_completion__unknown", a, g, "/rest/db/completion", afake, None),
        ("db_completion__aggregate", a, g, "/rest/db/completion", {}, None),
        ("db_file", a, g, "/rest/db/file", {"folder": "test1", "file": "a.txt"}, None),
        ("db_file__dir", a, g, "/rest/db/file", {"folder": "test1", "file": "sub"}, None),
        ("db_file__needed", a, g, "/rest/db/file", {"folder": "needy", "file": "big.txt"}, None),
        ("db_ignores", a, g, "/rest/db/ignores", {"folder": "test1"}, None),
        ("db_ignores__none", a, g, "/rest/db/ignores", {"folder": "ro1"}, None),
        ("db_ignores__unknown", a, g, "/rest/db/ignores", {"folder": "nope"}, None),
        ("db_need", a, g, "/rest/db/need", {"folder": "needy"}, None),
        ("db_need__empty", a, g, "/rest/db/need", {"folder": "test1", "page": "1", "perpage": "10"}, None),
        ("db_remoteneed", a, g, "/rest/db/remoteneed", afake, None),
        ("db_localchanged", a, g, "/rest/db/localchanged", {"folder": "ro1"}, None),
        ("db_localignored", a, g, "/rest/db/localignored", {"folder": "test1"}, None),
        ("db_browse", a, g, "/rest/db/browse", {"folder": "test1"}, None),
        ("db_browse__levels0", a, g, "/rest/db/browse", {"folder": "test1", "levels": "0"}, None),
        ("folder_errors", a, g, "/rest/folder/errors", {"folder": "needy"}, None),
        ("folder_errors__empty", a, g, "/rest/folder/errors", {"folder": "test1"}, None),
        ("folder_pullerrors", a, g, "/rest/folder/pullerrors", {"folder": "test1"}, None),
        ("folder_versions", a, g, "/rest/folder/versions", {"folder": "test1"}, None),
        ("stats_device", a, g, "/rest/stats/device", {}, None),
        ("stats_folder", a, g, "/rest/stats/folder", {}, None),
        ("svc_deviceid", a, g, "/rest/svc/deviceid", {"id": FAKE_PEER.lower()}, None),
        ("svc_deviceid__error", a, g, "/rest/svc/deviceid", {"id": "ABC"}, None),
        ("svc_random_string", a, g, "/rest/svc/random/string", {"length": "12"}, None),
        ("svc_report", a, g, "/rest/svc/report", {}, None),
        ("noauth_health", a, g, "/rest/noauth/health", {}, None),
        ("debug_file", a, g, "/rest/debug/file", {"folder": "test1", "file": "a.txt"}, None),
        ("debug_peer_completion", a, g, "/rest/debug/peerCompletion", {}, None),
        ("debug_httpmetrics", a, g, "/rest/debug/httpmetrics", {}, None),
        ("events/default", a, g, "/rest/events", {"since": "0", "timeout": "0"}, None),
        ("events/disk", a, g, "/rest/events/disk", {"since": "0", "timeout": "0"}, None),
        ("db_ignores__post", a, "POST", "/rest/db/ignores", {"folder": "test1"}, IGNORES_BODY),
        ("db_prio", a, "POST", "/rest/db/prio", {"folder": "needy", "file": "small.txt"}, None),
    ]
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument(
        "--keep-existing", action="store_true", help="do not overwrite fixtures that already exist"
    )
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    base = Path(tempfile.mkdtemp(prefix="strec-"))
    insts = [Instance(args.binary, base, n) for n in ("A", "B", "C")]
    a, b, c = insts
    written: list[str] = []

    home = os.path.expanduser("~")

    def save(name: str, body: bytes) -> None:
        target = args.out / f"{name}.json"
        if args.keep_existing and target.exists():
            return
        text = body.decode().replace(str(base), REWRITE_TO)
        if home not in ("", "/"):
            text = text.replace(f'"{home}', '"/home/user')
        json.loads(text)  # must be JSON
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text if text.endswith("\n") else text + "\n")
        written.append(name)

    try:
        for inst in insts:
            inst.start()
        setup(a, b, c)
        for name, inst, method, path, params, body in recordings(a, b):
            hdrs = {"Content-Type": "application/json"} if body else {}
            status, data = inst.request(method, path, params, body, hdrs)
            if status != 200 or not data.strip():
                print(f"skip {name}: {method} {path} -> {status} {data[:80]!r}", file=sys.stderr)
                continue
            save(name, data)
        # Restore the archived version (POST /rest/folder/versions) and record its answer.
        _, vbody = a.request("GET", "/rest/folder/versions", {"folder": "test1"})
        vtime = json.loads(vbody)["old.txt"][0]["versionTime"]
        status, data = a.request(
            "POST", "/rest/folder/versions", {"folder": "test1"}, json.dumps({"old.txt": vtime}).encode()
        )
        if status == 200:
            save("folder_versions__post", data)
        status, data = c.request("POST", "/rest/system/shutdown")
        if status == 200:
            save("system_shutdown", data)
    finally:
        for inst in insts:
            inst.stop()
        shutil.rmtree(base, ignore_errors=True)
    print("wrote", len(written), "fixtures:", " ".join(sorted(written)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
