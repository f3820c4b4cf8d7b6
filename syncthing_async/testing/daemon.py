"""Throwaway real Syncthing daemons, for tests (ours and yours) and the demo.

Deliberately synchronous and independent of the client (``subprocess`` + ``urllib``), so that a
bug in the library can never hide a bug in the harness. From async code, call the blocking
methods (``start``, ``stop``, ``add_folder``...) through ``anyio.to_thread.run_sync``.
Binaries: ``SYNCTHING_BIN_1_19``/``SYNCTHING_BIN_1_29`` or, in a checkout, the ones
``scripts/install-syncthing.sh`` installs.

Every daemon lives in its own temporary home, listens on 127.0.0.1 only (GUI/REST and sync
port), has discovery, relays, NAT, usage reporting, crash reporting and upgrades switched off,
and runs in a session of its own, so :meth:`SyncthingDaemon.stop` can stop it by its own PID and
find the child process Syncthing forks. Leftovers are killed at interpreter exit.

Configuration (:meth:`SyncthingDaemon.add_folder`, :meth:`SyncthingDaemon.add_device`) is written
into ``config.xml`` while the daemon is stopped, and sent through the REST config API
(``PUT /rest/config/{folders,devices}/<id>``) while it runs.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import json
import os
import random
import secrets
import shutil
import signal
import socket
import ssl
import string
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, TypeVar

__all__ = [
    "BINARIES",
    "DEFAULT_TEST_FILES",
    "VERSIONS",
    "DaemonPair",
    "HarnessError",
    "Response",
    "SyncthingDaemon",
    "binary_for",
    "close_all",
    "free_port",
    "pair",
    "session_members",
    "wait_connected",
    "wait_until",
    "write_files",
]

REPO_ROOT = Path(__file__).resolve().parent.parent.parent

BINARIES: dict[str, Path] = {
    "1.19.2": Path(os.environ.get("SYNCTHING_BIN_1_19") or "/usr/bin/syncthing"),
    "1.29.5": Path(
        os.environ.get("SYNCTHING_BIN_1_29")
        or REPO_ROOT / ".cache" / "syncthing-1.29.5" / "usr" / "bin" / "syncthing"
    ),
}
"""Syncthing version -> binary. Override with SYNCTHING_BIN_1_19 / SYNCTHING_BIN_1_29."""

VERSIONS: tuple[str, ...] = tuple(BINARIES)

DEFAULT_TEST_FILES: dict[str, bytes] = {
    "hello.txt": b"hello world\n",
    "sub/nested.txt": b"nested file\n",
    "data.bin": bytes(range(256)) * 16,
}
"""Files the shared ``daemon`` fixture puts in its folder "default-test" (path -> content)."""

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
_API_KEY_ALPHABET = string.ascii_letters + string.digits
_PORT_RANGE = (20000, 32000)  # below Linux's ephemeral range, so outgoing sockets never take them
_ENV_DROP_PREFIXES = ("ST",)
_ENV_DROP = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy"}

T = TypeVar("T")


class HarnessError(RuntimeError):
    """The harness could not set up, start or stop a daemon."""


def binary_for(version: str) -> Path:
    """Return the binary of ``version``; raise :class:`HarnessError` if it is not installed."""
    try:
        path = BINARIES[version]
    except KeyError:
        raise HarnessError(f"unknown Syncthing version {version!r}; known: {VERSIONS}") from None
    if not (path.is_file() and os.access(path, os.X_OK)):
        var = "SYNCTHING_BIN_" + "_".join(version.split(".")[:2])
        raise HarnessError(
            f"Syncthing {version} binary not found at {path}. Run scripts/install-syncthing.sh or set {var}."
        )
    return path


# --------------------------------------------------------------------------- processes, ports

_LIVE_SESSIONS: dict[int, str] = {}  # session id (= monitor PID) -> home, of daemons not stopped
_HANDED_OUT_PORTS: set[int] = set()


@atexit.register
def _kill_leftovers() -> None:
    """Safety net: SIGKILL every process of every daemon that was never stopped."""
    for sid in list(_LIVE_SESSIONS):
        _signal_session(sid, signal.SIGKILL)
        _LIVE_SESSIONS.pop(sid, None)


def free_port() -> int:
    """Return a currently free TCP port on 127.0.0.1 not yet handed out by this process."""
    rng = random.SystemRandom()
    for _ in range(500):
        port = rng.randrange(*_PORT_RANGE)
        if port in _HANDED_OUT_PORTS:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT_PORTS.add(port)
        return port
    raise HarnessError("no free loopback port found")


def session_members(sid: int) -> list[int]:
    """PIDs of the live (non-zombie) processes in session ``sid`` (Linux /proc).

    Each daemon is started in a new session. Syncthing's monitor process puts its child into a
    process group of its own, but the child stays in the session, so the session id finds both.
    """
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp session ...": comm may contain spaces, so split after ")".
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == sid and fields[0] not in ("Z", "X"):
            pids.append(int(entry.name))
    return pids


def _signal_session(sid: int, sig: signal.Signals) -> None:
    for pid in session_members(sid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def wait_until(
    predicate: Callable[[], T | None],
    *,
    timeout: float,
    interval: float = 0.1,
    message: str = "condition",
) -> T:
    """Poll ``predicate`` until it returns a truthy value (returned); HarnessError on timeout."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = predicate()
        except (OSError, HarnessError, ValueError) as exc:  # daemon busy/restarting
            last_error = exc
            result = None
        if result:
            return result
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise HarnessError(f"timed out after {timeout:g} s waiting for {message}{detail}")
        time.sleep(interval)


def write_files(root: Path, files: Mapping[str, bytes]) -> None:
    """Create ``root`` and write ``files`` (relative path -> content) below it."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


# --------------------------------------------------------------------------- HTTP


@dataclass(frozen=True)
class Response:
    """A finished HTTP exchange (any status; redirects are not followed)."""

    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _http(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    body: bytes | None,
    timeout: float,
    ssl_context: ssl.SSLContext | None,
) -> Response:
    host = urllib.parse.urlsplit(url).hostname
    if host != "127.0.0.1":  # the harness never talks to anything but loopback
        raise HarnessError(f"refusing non-loopback URL host {host!r}")
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        _NoRedirect(),
        urllib.request.HTTPSHandler(context=ssl_context),
    )
    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
    try:
        with opener.open(req, timeout=timeout) as resp:
            return Response(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as err:
        with err:
            return Response(err.code, err.headers, err.read())


# --------------------------------------------------------------------------- config.xml helpers


def _set_child_text(parent: ET.Element, tag: str, text: str) -> None:
    child = parent.find(tag)
    if child is None:
        child = ET.SubElement(parent, tag)
    child.text = text


def _replace_children(parent: ET.Element, tag: str, texts: Iterable[str]) -> None:
    for child in parent.findall(tag):
        parent.remove(child)
    for text in texts:
        ET.SubElement(parent, tag).text = text


def _insert_top_level(root: ET.Element, elem: ET.Element) -> None:
    """Insert a folder/device element before <gui> (order does not matter to Syncthing)."""
    children = list(root)
    index = next((i for i, c in enumerate(children) if c.tag == "gui"), len(children))
    root.insert(index, elem)


def _bool(value: bool) -> str:
    return "true" if value else "false"


# --------------------------------------------------------------------------- the daemon


class SyncthingDaemon:
    """One throwaway Syncthing daemon (generated at construction, started by :meth:`start`).

    Construction runs ``syncthing generate`` and writes the harness settings into config.xml, so
    :attr:`device_id` is known before the daemon starts. Use :meth:`close` (or ``with``) to stop
    it and delete its home.

    Options: ``gui_tls`` (``<gui tls="true">``: plain HTTP gets 307 to HTTPS), ``gui_debugging``
    (v1.x ``/rest/debug/*``), ``gui_user``/``gui_password`` (GUI auth on; the API key still
    works), ``reconnect_interval_s`` (``options.reconnectionIntervalS``), ``env`` (extra
    environment). ``auto_restart``: run without ``--no-restart``; then ``POST
    /rest/system/restart`` restarts the child process (same :attr:`pid`), whereas with
    ``--no-restart`` (the default) it makes the daemon exit for good.
    """

    def __init__(
        self,
        version: str = "1.29.5",
        *,
        base_dir: Path | None = None,
        name: str | None = None,
        gui_tls: bool = False,
        gui_debugging: bool = False,
        gui_user: str | None = None,
        gui_password: str | None = None,
        reconnect_interval_s: int | None = None,
        auto_restart: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> None:
        if (gui_user is None) != (gui_password is None):
            raise ValueError("gui_user and gui_password go together")
        self.version = version
        self.binary = binary_for(version)
        self.home = Path(tempfile.mkdtemp(prefix=f"st{version}-", dir=base_dir))
        self.data_dir = self.home / "data"
        self.data_dir.mkdir()
        self.log_path = self.home / "syncthing.log"
        self.name = name or self.home.name
        self.api_key = "".join(secrets.choice(_API_KEY_ALPHABET) for _ in range(32))
        self.gui_tls = gui_tls
        self.gui_debugging = gui_debugging
        self.gui_user = gui_user
        self.gui_password = gui_password
        self.reconnect_interval_s = reconnect_interval_s
        self.auto_restart = auto_restart
        self.extra_env = dict(env or {})
        self.gui_port = free_port()
        self.listen_port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None
        self._pid: int | None = None
        self._ssl_context: ssl.SSLContext | None = None
        try:
            self._generate()
            self.device_id = self._read_device_id()
            self._edit_config(self._apply_harness_settings)
        except BaseException:
            shutil.rmtree(self.home, ignore_errors=True)
            raise

    def __repr__(self) -> str:  # never shows the API key
        state = f"pid={self._pid}" if self.running else "stopped"
        return f"<SyncthingDaemon {self.version} {self.url} {state} home={self.home}>"

    # ---------------------------------------------------------------- addresses

    @property
    def url(self) -> str:
        """Plain-HTTP base URL (answers 307 to HTTPS when ``gui_tls`` is on)."""
        return f"http://127.0.0.1:{self.gui_port}"

    @property
    def https_url(self) -> str:
        """HTTPS base URL (always works: the GUI listener speaks both)."""
        return f"https://127.0.0.1:{self.gui_port}"

    @property
    def base_url(self) -> str:
        """The URL a client should use: :attr:`https_url` with ``gui_tls``, else :attr:`url`."""
        return self.https_url if self.gui_tls else self.url

    @property
    def listen_address(self) -> str:
        """Sync protocol address other devices dial (``tcp://127.0.0.1:<listen_port>``)."""
        return f"tcp://127.0.0.1:{self.listen_port}"

    @property
    def config_path(self) -> Path:
        return self.home / "config.xml"

    @property
    def cert_path(self) -> Path:
        """Self-signed GUI certificate (created by Syncthing at first start; no IP SANs)."""
        return self.home / "https-cert.pem"

    @property
    def pid(self) -> int:
        """PID of the last started (monitor) process; also its process group and session id."""
        if self._pid is None:
            raise HarnessError("daemon was never started")
        return self._pid

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def process_pids(self) -> list[int]:
        """Live processes of the daemon: the monitor (:attr:`pid`) and the child it forks."""
        return [] if self._pid is None else session_members(self._pid)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "<no log>"
        return "\n".join(text.splitlines()[-lines:])

    def ssl_context(self) -> ssl.SSLContext:
        """Context trusting this daemon's certificate (hostname check off: it has no IP SAN)."""
        if self._ssl_context is None:
            if not self.cert_path.exists():
                raise HarnessError(f"{self.cert_path} does not exist yet (start the daemon)")
            ctx = ssl.create_default_context(cafile=str(self.cert_path))
            ctx.check_hostname = False
            self._ssl_context = ctx
        return self._ssl_context

    # ---------------------------------------------------------------- generation and config

    def _run(self, *args: str, stdin: str | None = None) -> str:
        proc = subprocess.run(
            [str(self.binary), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=30,
            env=self._env(),
            check=False,
        )
        if proc.returncode != 0:
            raise HarnessError(
                f"syncthing {args[0]} ({self.version}) failed with {proc.returncode}:\n"
                f"{proc.stdout}{proc.stderr}"
            )
        return proc.stdout

    def _generate(self) -> None:
        args = ["generate", f"--home={self.home}", "--no-default-folder", "--skip-port-probing"]
        if self.gui_user is not None:
            args += [f"--gui-user={self.gui_user}", "--gui-password=-"]
        self._run(*args, stdin=self.gui_password)
        if not self.config_path.exists():
            raise HarnessError(f"syncthing generate wrote no {self.config_path}")

    def _read_device_id(self) -> str:
        out = self._run("serve", "--device-id", f"--home={self.home}").strip()
        if len(out) != 63 or out.count("-") != 7:
            raise HarnessError(f"unexpected device ID output {out!r}")
        return out

    def _edit_config(self, edit: Callable[[ET.Element], None]) -> None:
        if self.running:
            raise HarnessError("config.xml must not be edited while the daemon runs")
        tree = ET.parse(self.config_path)
        edit(tree.getroot())
        tree.write(self.config_path, encoding="unicode")

    def _apply_harness_settings(self, root: ET.Element) -> None:
        for folder in root.findall("folder"):  # no default folder, whatever generate did
            root.remove(folder)
        for device in root.findall("device"):
            if device.get("id") == self.device_id:
                device.set("name", self.name)
        gui = root.find("gui")
        options = root.find("options")
        if gui is None or options is None:
            raise HarnessError("generated config.xml has no <gui> or <options>")
        gui.set("tls", _bool(self.gui_tls))
        gui.set("debugging", _bool(self.gui_debugging))
        self._set_gui_address(root)
        _set_child_text(gui, "apikey", self.api_key)
        _replace_children(options, "listenAddress", [self.listen_address])
        settings = {
            "globalAnnounceEnabled": "false",
            "localAnnounceEnabled": "false",
            "relaysEnabled": "false",
            "natEnabled": "false",
            "urAccepted": "-1",
            "autoUpgradeIntervalH": "0",
            "crashReportingEnabled": "false",
            "startBrowser": "false",
        }
        if self.reconnect_interval_s is not None:
            settings["reconnectionIntervalS"] = str(self.reconnect_interval_s)
        for tag, text in settings.items():
            _set_child_text(options, tag, text)

    def _template(self, root: ET.Element, kind: str) -> ET.Element:
        """A copy of ``<defaults><kind>`` (every field at the version's own default)."""
        template = root.find(f"defaults/{kind}")
        return copy.deepcopy(template) if template is not None else ET.Element(kind)

    def add_device(self, device_id: str, address: str = "dynamic", *, name: str = "") -> None:
        """Make ``device_id`` known (config.xml when stopped, REST when running)."""
        if self.running:
            body = {"deviceID": device_id, "name": name, "addresses": [address]}
            self._config_put(f"/rest/config/devices/{device_id}", body)
            return

        def edit(root: ET.Element) -> None:
            for old in root.findall("device"):
                if old.get("id") == device_id:
                    root.remove(old)
            elem = self._template(root, "device")
            elem.set("id", device_id)
            elem.set("name", name)
            for old_addr in elem.findall("address"):
                elem.remove(old_addr)
            addr = ET.Element("address")
            addr.text = address
            elem.insert(0, addr)
            _insert_top_level(root, elem)

        self._edit_config(edit)

    def add_folder(
        self,
        folder_id: str,
        path: Path,
        devices: Iterable[str] = (),
        *,
        label: str | None = None,
        folder_type: str = "sendreceive",
        fs_watcher_delay_s: int = 1,
        rescan_interval_s: int = 3600,
    ) -> None:
        """Add a folder shared with ``devices`` (device IDs; the local device is implied).

        ``path`` is created. The watcher delay defaults to 1 s (Syncthing's is 10 s) so changes on
        disk are picked up fast. Written to config.xml when stopped, sent via REST when running.
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        device_ids = [self.device_id, *(d for d in devices if d != self.device_id)]
        label = folder_id if label is None else label
        if self.running:
            body = {
                "id": folder_id,
                "label": label,
                "path": str(path),
                "type": folder_type,
                "rescanIntervalS": rescan_interval_s,
                "fsWatcherEnabled": True,
                "fsWatcherDelayS": fs_watcher_delay_s,
                "devices": [{"deviceID": d} for d in device_ids],
            }
            self._config_put(f"/rest/config/folders/{urllib.parse.quote(folder_id)}", body)
            return

        def edit(root: ET.Element) -> None:
            for old in root.findall("folder"):
                if old.get("id") == folder_id:
                    root.remove(old)
            elem = self._template(root, "folder")
            elem.attrib.update(
                {
                    "id": folder_id,
                    "label": label,
                    "path": str(path),
                    "type": folder_type,
                    "rescanIntervalS": str(rescan_interval_s),
                    "fsWatcherEnabled": "true",
                    "fsWatcherDelayS": str(fs_watcher_delay_s),
                }
            )
            for old_dev in elem.findall("device"):
                elem.remove(old_dev)
            for i, dev_id in enumerate(device_ids):
                dev = ET.Element("device", {"id": dev_id, "introducedBy": ""})
                ET.SubElement(dev, "encryptionPassword").text = ""
                elem.insert(1 + i, dev)
            _insert_top_level(root, elem)

        self._edit_config(edit)

    def _config_put(self, path: str, body: object) -> None:
        resp = self.request("PUT", path, json_body=body)
        if resp.status != 200:
            raise HarnessError(f"PUT {path} -> {resp.status}: {resp.text.strip()}")

    # ---------------------------------------------------------------- process control

    def _env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(_ENV_DROP_PREFIXES) and k.lower() not in _ENV_DROP
        }
        # STHASHING skips v1.19's start-up hash benchmark (~1 s); it adds the tag "sthashing".
        env.update({"STNODEFAULTFOLDER": "1", "STNOUPGRADE": "1", "STHASHING": "minio"})
        env.update(self.extra_env)
        return env

    def _serve_args(self) -> list[str]:
        args = [str(self.binary), "serve", f"--home={self.home}", "--no-browser", "--no-upgrade"]
        if not self.auto_restart:
            args.append("--no-restart")
        return args

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start ``syncthing serve``; return once ``/rest/system/ping`` answers with the key.

        If the GUI port was taken meanwhile (Syncthing exits), a new port is picked and the start
        retried, up to 3 attempts. On failure the error carries the tail of the daemon's log.
        """
        if self.running:
            return
        self.stop()  # clean up after a process that exited on its own (e.g. REST shutdown)
        for attempt in range(1, 4):
            log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
            try:
                self._start_once(timeout, log_offset)
                return
            except HarnessError:
                in_use = f"127.0.0.1:{self.gui_port}: bind: address already in use"
                if attempt == 3 or in_use not in self._log_since(log_offset, lines=1000):
                    raise
            self.gui_port = free_port()
            self._edit_config(self._set_gui_address)

    def _set_gui_address(self, root: ET.Element) -> None:
        gui = root.find("gui")
        if gui is None:
            raise HarnessError("config.xml has no <gui>")
        _set_child_text(gui, "address", f"127.0.0.1:{self.gui_port}")

    def _start_once(self, timeout: float, log_offset: int) -> None:
        self._ssl_context = None  # the certificate may be regenerated
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                self._serve_args(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._env(),
                start_new_session=True,
            )
        self._pid = self._proc.pid
        _LIVE_SESSIONS[self._pid] = str(self.home)
        deadline = time.monotonic() + timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                self.stop()
                raise HarnessError(
                    f"Syncthing {self.version} exited with {code} during start-up; "
                    f"log tail:\n{self._log_since(log_offset)}"
                )
            if self._ping_ok():
                return
            if time.monotonic() >= deadline:
                self.stop()
                raise HarnessError(
                    f"Syncthing {self.version} did not answer /rest/system/ping within "
                    f"{timeout:g} s; log tail:\n{self._log_since(log_offset)}"
                )
            time.sleep(0.05)

    def _log_since(self, offset: int, lines: int = 40) -> str:
        with self.log_path.open("rb") as fh:
            fh.seek(offset)
            text = fh.read().decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:]) or "<empty log>"

    def _ping_ok(self) -> bool:
        try:
            resp = self.request("GET", "/rest/system/ping", timeout=2)
        except (OSError, HarnessError):
            return False
        if resp.status != 200:
            return False
        try:
            return bool(resp.json() == {"ping": "pong"})
        except ValueError:
            return False

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the daemon; return when none of its processes is left. Idempotent.

        SIGTERM goes to every process of the daemon's session (the monitor at :attr:`pid` and its
        child); whatever is still alive after ``timeout`` seconds gets SIGKILL.
        """
        proc = self._proc
        if proc is None:
            return
        sid = proc.pid
        deadline = time.monotonic() + timeout
        _signal_session(sid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        while session_members(sid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if proc.poll() is None or session_members(sid):
            _signal_session(sid, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT)
            wait_until(
                lambda: not session_members(sid),
                timeout=STOP_TIMEOUT,
                interval=0.05,
                message=f"the processes of session {sid} to vanish after SIGKILL",
            )
        self._proc = None
        _LIVE_SESSIONS.pop(sid, None)

    def terminate(self) -> None:
        """Send SIGTERM to the daemon's processes without waiting (see :func:`close_all`)."""
        if self._proc is not None:
            _signal_session(self._proc.pid, signal.SIGTERM)

    def restart(self, timeout: float = START_TIMEOUT) -> None:
        """Stop and start again with the same home: a new process (event ids start over)."""
        self.stop()
        self.start(timeout)

    def close(self) -> None:
        """Stop the daemon and delete its home."""
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> SyncthingDaemon:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---------------------------------------------------------------- REST (urllib)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: object = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        api_key: bool | str = True,
        https: bool | None = None,
        timeout: float = 10.0,
    ) -> Response:
        """One HTTP request to the daemon; any status is returned, redirects are not followed.

        ``api_key``: True sends this daemon's key, False none, a string that key.
        ``https``: None uses :attr:`base_url`; True/False force HTTPS/HTTP.
        """
        use_https = self.gui_tls if https is None else https
        url = (self.https_url if use_https else self.url) + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        all_headers = dict(headers or {})
        if api_key:
            all_headers["X-API-Key"] = self.api_key if api_key is True else str(api_key)
        if json_body is not None:
            data = json.dumps(json_body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        return _http(
            method,
            url,
            headers=all_headers,
            body=data,
            timeout=timeout,
            ssl_context=self.ssl_context() if use_https else None,
        )

    def get_json(self, path: str, **params: str) -> Any:
        """GET ``path`` with the key and return its JSON; HarnessError unless 200."""
        resp = self.request("GET", path, params=params or None)
        if resp.status != 200:
            raise HarnessError(f"GET {path} -> {resp.status}: {resp.text.strip()}")
        return resp.json()

    def db_status(self, folder_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.get_json("/rest/db/status", folder=folder_id)
        return result

    def wait_folder_idle(
        self, folder_id: str, *, local_files: int | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        """Wait until the folder is idle (and has ``local_files`` files); return its status."""

        def check() -> dict[str, Any] | None:
            status = self.db_status(folder_id)
            if status.get("state") != "idle":
                return None
            if local_files is not None and status.get("localFiles") != local_files:
                return None
            return status

        return wait_until(check, timeout=timeout, message=f"folder {folder_id!r} to be idle")

    def is_connected_to(self, device_id: str) -> bool:
        conns = self.get_json("/rest/system/connections")["connections"]
        return bool(conns.get(device_id, {}).get("connected"))


def close_all(daemons: Iterable[SyncthingDaemon]) -> None:
    """Close several daemons, shutting them down in parallel (each takes about 1 s)."""
    daemons = list(daemons)
    for st in daemons:
        st.terminate()
    errors: list[BaseException] = []
    for st in daemons:
        try:
            st.close()
        except BaseException as exc:  # close the others first
            errors.append(exc)
    if errors:
        raise errors[0]


# --------------------------------------------------------------------------- pairs


class DaemonPair(NamedTuple):
    """Two paired daemons sharing ``folder_id`` at ``path_a`` (on ``a``) and ``path_b`` (on ``b``)."""

    a: SyncthingDaemon
    b: SyncthingDaemon
    folder_id: str
    path_a: Path
    path_b: Path


def wait_connected(a: SyncthingDaemon, b: SyncthingDaemon, timeout: float = 60.0) -> None:
    """Wait until ``a`` and ``b`` both report a connection to each other."""
    wait_until(
        lambda: a.is_connected_to(b.device_id) and b.is_connected_to(a.device_id),
        timeout=timeout,
        interval=0.2,
        message=f"{a.name} and {b.name} to connect",
    )


def pair(
    a: SyncthingDaemon,
    b: SyncthingDaemon,
    folder_id: str,
    path_a: Path,
    path_b: Path,
    *,
    wait: bool = True,
) -> DaemonPair:
    """Introduce ``a`` and ``b`` to each other and share ``folder_id`` between them.

    Works on stopped daemons (config.xml) and on running ones (REST). If both run and ``wait`` is
    true, return only once they are connected.
    """
    a.add_device(b.device_id, b.listen_address, name=b.name)
    b.add_device(a.device_id, a.listen_address, name=a.name)
    a.add_folder(folder_id, path_a, devices=[b.device_id])
    b.add_folder(folder_id, path_b, devices=[a.device_id])
    if wait and a.running and b.running:
        wait_connected(a, b)
    return DaemonPair(a, b, folder_id, Path(path_a), Path(path_b))
