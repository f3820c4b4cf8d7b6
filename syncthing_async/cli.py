"""The ``syncthing-async`` command line (also ``python -m syncthing_async``).

Built for scripts and bots: a command that cannot reach Syncthing fails at once with one line on
stderr; every failure has its own exit code (:data:`EXIT_CODES`, also in ``--help``); listing
commands take ``--json``; ``events`` prints one documented JSON shape per line (docs/CLI.md).
The API key is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Final, NoReturn, TextIO
from urllib.parse import parse_qsl, urlsplit

import anyio
import msgspec

from ._client import SyncthingClient
from ._codegen.spec import Endpoint
from ._core import quote
from ._deviceid import to_device_id_str
from ._endpoints import ENDPOINTS
from ._exceptions import (
    AuthenticationError,
    AuthReason,
    ConfigNotFoundError,
    InvalidArgumentError,
    NotFoundError,
    RedirectRefusedError,
    SyncthingAPIError,
    SyncthingConnectionError,
    SyncthingError,
    SyncthingTimeoutError,
    UnsupportedError,
)
from ._helpers import SyncProgress
from .demo import progress_bar
from .events import Backoff, ConnectionState
from .models.config import DeviceConfig, FolderConfig, GuiConfig, LdapConfig, Options
from .models.events import EventsSkipped, StreamItem, StreamReset

__all__ = ["EXIT_CODES", "build_parser", "main", "render_help"]

EXIT_OK: Final = 0
EXIT_ERROR: Final = 1
EXIT_USAGE: Final = 2
EXIT_CONNECT: Final = 3
EXIT_AUTH: Final = 4
EXIT_API: Final = 5
EXIT_NOT_FOUND: Final = 6
EXIT_TIMEOUT: Final = 7
EXIT_UNSUPPORTED: Final = 8
EXIT_PAUSED: Final = 9
EXIT_INTERRUPTED: Final = 130

EXIT_CODES: Final[tuple[tuple[int, str], ...]] = (
    (EXIT_OK, "success"),
    (EXIT_ERROR, "any other error (no config.xml found, an answer that does not decode, ...)"),
    (EXIT_USAGE, "usage: a bad, missing or extra argument; a bad URL, key or fingerprint"),
    (EXIT_CONNECT, "cannot connect: refused, DNS, TLS; events: --max-retries used up"),
    (EXIT_AUTH, "authentication: no API key given, or Syncthing refused the key"),
    (EXIT_API, "Syncthing refused the request (HTTP 400, 5xx, a redirect not followed)"),
    (EXIT_NOT_FOUND, "not found: no such folder, device, config section or route"),
    (EXIT_TIMEOUT, "timed out: --timeout passed, or no answer within --request-timeout"),
    (EXIT_UNSUPPORTED, "the connected Syncthing version lacks the endpoint"),
    (EXIT_PAUSED, "the folder or device is paused"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C)"),
)

_ENC = msgspec.json.Encoder()
_LOG_NAME = "syncthing_async"
_SECRET_KEYS = frozenset({"apiKey", "password"})


class CliError(Exception):
    """An expected failure: one line for stderr and its exit code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _json(value: Any) -> str:
    return _ENC.encode(value).decode()


def _redact(value: Any) -> Any:
    """Hide secrets in JSON output (the config carries ``gui.apiKey`` and ``gui.password``)."""
    if isinstance(value, dict):
        return {k: ("<redacted>" if k in _SECRET_KEYS and v else _redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def _out(line: str, stream: TextIO | None = None) -> None:
    (stream or sys.stdout).write(line + "\n")


def _note(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Aligned columns (two spaces apart); the last column is not padded."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers) - 1)]
    for row in [headers, *rows]:
        cells = [str(c).ljust(w) for c, w in zip(row, widths, strict=False)]
        _out("  ".join([*cells, str(row[-1])]).rstrip())


# -- argument types ------------------------------------------------------------------------


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds > 0")
    return value


def _seconds_or_zero(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds >= 0")
    return value


def _whole(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text} is below {minimum}")
        return value

    parse.__name__ = f"whole number >= {minimum}"
    return parse


# -- connection ----------------------------------------------------------------------------


async def _connect(args: argparse.Namespace) -> SyncthingClient:
    url = args.url or os.environ.get("SYNCTHING_URL")
    key = args.api_key or os.environ.get("SYNCTHING_API_KEY")
    if url:
        path = urlsplit(url).path.rstrip("/")
        if path == "/rest" or path.endswith("/rest"):
            raise CliError(
                EXIT_USAGE,
                f"the URL is Syncthing's base URL, without /rest: {url.rstrip('/')[: -len('/rest')]}",
            )
        return SyncthingClient(
            url,
            key,
            timeout=args.request_timeout,
            fingerprint=args.fingerprint,
            ssl=not args.insecure,
        )
    client = await SyncthingClient.from_local(timeout=args.request_timeout)
    if key:
        client.set_api_key(key)
    return client


async def _folder(client: SyncthingClient, folder_id: str) -> FolderConfig:
    try:
        return await client.config.folders.get(folder_id=folder_id)
    except NotFoundError:
        raise CliError(EXIT_NOT_FOUND, f"no such folder {folder_id!r}") from None


async def _device(client: SyncthingClient, device: str) -> DeviceConfig:
    device_id = to_device_id_str(device)
    try:
        return await client.config.devices.get(device_id=device_id)
    except NotFoundError:
        raise CliError(EXIT_NOT_FOUND, f"no such device {device_id}") from None


def _check_not_paused(folder: FolderConfig) -> None:
    if folder.paused:
        raise CliError(
            EXIT_PAUSED, f"folder {folder.id!r} is paused: nothing syncs or scans until it is resumed"
        )


# -- status, folders, devices --------------------------------------------------------------


async def cmd_status(client: SyncthingClient, args: argparse.Namespace) -> int:
    """Print the device id, version, uptime, URL and connected peers."""
    status = await client.system.status()
    version = await client.system.version()
    conns = await client.system.connections()
    connected = sum(1 for dev, c in conns.connections.items() if c.connected and dev != status.my_id)
    if args.json:
        _out(
            _json(
                {
                    "deviceID": status.my_id,
                    "version": version.version,
                    "os": version.os,
                    "arch": version.arch,
                    "uptime": status.uptime,
                    "url": client.url,
                    "connectedPeers": connected,
                }
            )
        )
        return EXIT_OK
    _table(
        ["device:", status.my_id],
        [
            ["version:", f"{version.version} ({version.os}/{version.arch})"],
            ["uptime:", f"{status.uptime} s"],
            ["url:", client.url],
            ["peers:", f"{connected} connected"],
        ],
    )
    return EXIT_OK


async def cmd_folders(client: SyncthingClient, args: argparse.Namespace) -> int:
    """List folders with their state."""
    rows: list[dict[str, Any]] = []
    for folder in await client.config.folders.list():
        state = "paused" if folder.paused else str((await client.db.status(folder=folder.id)).state)
        rows.append(
            {
                "id": folder.id,
                "label": folder.label,
                "type": str(folder.type),
                "state": state,
                "paused": folder.paused,
                "path": folder.path,
            }
        )
    if args.json:
        _out(_json(rows))
    elif not rows:
        _out("no folders")
    else:
        _table(
            ["ID", "LABEL", "STATE", "PATH"],
            [[r["id"], r["label"] or "-", r["state"], r["path"]] for r in rows],
        )
    return EXIT_OK


async def cmd_devices(client: SyncthingClient, args: argparse.Namespace) -> int:
    """List the remote devices with their connection state."""
    conns = (await client.system.connections()).connections
    my_id = (await client.system.status()).my_id
    rows: list[dict[str, Any]] = []
    for dev in await client.config.devices.list():
        if dev.device_id == my_id:
            continue
        c = conns.get(dev.device_id)
        connected = bool(c and c.connected)
        rows.append(
            {
                "deviceID": dev.device_id,
                "name": dev.name,
                "state": "paused" if dev.paused else ("connected" if connected else "disconnected"),
                "paused": dev.paused,
                "connected": connected,
                "address": c.address if c is not None and connected else None,
            }
        )
    if args.json:
        _out(_json(rows))
    elif not rows:
        _out("no remote devices")
    else:
        _table(
            ["DEVICE", "NAME", "STATE", "ADDRESS"],
            [[r["deviceID"], r["name"] or "-", r["state"], r["address"] or "-"] for r in rows],
        )
    return EXIT_OK


# -- events --------------------------------------------------------------------------------

EVENTS_HELP: Final = """\
Output: one JSON object per line, the same shape whatever the flags:
  {"id": N, "globalID": N, "time": "RFC 3339", "type": "Name", "data": {...}}
Syncthing's events: id, globalID, time and type from the event; data is the payload exactly as
Syncthing sent it (only whitespace removed). Two more types mark what the stream noticed:
  EventsSkipped  ids were lost (buffer overflow): id = the last lost id, globalID null,
                 data {"count", "firstID", "lastID", "reason", "filter"}
  StreamReset    Syncthing restarted: id 0 (ids start over), globalID null, data {"reason",
                 "lastID", "oldStartTime", "newStartTime", "deviceID", "filter"}
A marker's time is when the client noticed. "id" is always where the stream stands: pass it
as --since to resume. The JSON Schema is in docs/CLI.md.

Fails at once if Syncthing cannot be reached at the start. Once connected, a lost connection
is retried with backoff (each retry said on stderr), forever unless --max-retries N."""


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def event_line(item: StreamItem) -> str:
    """One JSON line for an event or a marker (the shape documented in EVENTS_HELP)."""
    now = datetime.now(UTC).isoformat()
    if isinstance(item, EventsSkipped):
        data: dict[str, Any] = {
            "count": item.count,
            "firstID": item.first_id,
            "lastID": item.last_id,
            "reason": str(item.reason),
            "filter": item.filter,
        }
        return _json({"id": item.last_id, "globalID": None, "time": now, "type": item.type, "data": data})
    if isinstance(item, StreamReset):
        data = {
            "reason": str(item.reason),
            "lastID": item.last_id,
            "oldStartTime": _iso(item.old_start_time),
            "newStartTime": _iso(item.new_start_time),
            "deviceID": item.device_id,
            "filter": item.filter,
        }
        return _json({"id": 0, "globalID": None, "time": now, "type": item.type, "data": data})
    raw = msgspec.json.format(item.raw_json, indent=0).decode()
    return (
        f'{{"id":{item.id},"globalID":{item.global_id},"time":{_json(item.time)},'
        f'"type":{_json(item.type)},"data":{raw}}}'
    )


class _SaidBackoff(Backoff):
    """The stream's backoff, saying each reconnect attempt on stderr."""

    def delay(self, attempt: int) -> float:
        seconds = super().delay(attempt)
        _note(f"events: connection to Syncthing lost; reconnect attempt {attempt + 1} in {seconds:.1f} s")
        return seconds


class _QuietRetries(logging.Filter):
    """The CLI says each retry itself; drop the library's own retry log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "syncthing_retry", False)


async def cmd_events(client: SyncthingClient, args: argparse.Namespace) -> int:
    """Print events as JSON lines until interrupted or --count lines were printed."""
    types = [t.strip() for t in args.types.split(",") if t.strip()] if args.types else None
    lost = False

    def on_state(state: ConnectionState) -> None:
        nonlocal lost
        if state is ConnectionState.RECONNECTING:
            lost = True
        elif state is ConnectionState.CONNECTED and lost:
            lost = False
            _note("events: reconnected")

    stream = client.events.stream(
        types=types,
        disk=args.disk,
        since=args.since,
        validate=False,  # the payload stays the raw wire JSON
        max_retries=args.max_retries,
        backoff=_SaidBackoff(initial=0.5, cap=30.0),
        on_state=on_state,
    )
    await client.system.status()  # fail fast: unreachable or refused at the start is an error now
    logging.getLogger(f"{_LOG_NAME}.events").addFilter(_QuietRetries())
    count = 0
    out = sys.stdout
    async with stream:
        async for item in stream:
            out.write(event_line(item) + "\n")
            out.flush()
            count += 1
            if args.count is not None and count >= args.count:
                break
    return EXIT_OK


# -- wait-synced, scan ---------------------------------------------------------------------


async def cmd_wait_synced(client: SyncthingClient, args: argparse.Namespace) -> int:
    """Wait until a folder is in sync, with a live progress bar on stderr."""
    folder = await _folder(client, args.folder)
    _check_not_paused(folder)
    device: str | None = None
    if args.device:
        dev = await _device(client, args.device)
        device = dev.device_id
        if dev.paused:
            raise CliError(EXIT_PAUSED, f"device {device} is paused: it syncs nothing until it is resumed")
        if device not in {d.device_id for d in folder.devices}:
            raise CliError(EXIT_NOT_FOUND, f"folder {folder.id!r} is not shared with device {device}")
    tty = sys.stderr.isatty()
    last: list[SyncProgress] = []

    def progress(p: SyncProgress) -> None:
        last[:] = [p]
        line = f"{args.folder}: {progress_bar(p.completion / 100)} need {p.need_items} items"
        sys.stderr.write(("\r" + line) if tty else (line + "\n"))
        sys.stderr.flush()

    with anyio.move_on_after(args.timeout) as scope:
        await client.wait_for_sync(args.folder, device=device, progress=progress)
    if tty:
        sys.stderr.write("\n")
    if scope.cancelled_caught:
        where = "locally" if device is None else f"on device {device[:7]}"
        state = f" (need {last[0].need_items} items, {last[0].completion:.1f} %)" if last else ""
        raise CliError(
            EXIT_TIMEOUT,
            f"timed out after {args.timeout:g} s: folder {args.folder!r} is not in sync {where} yet{state}",
        )
    _out(f"{args.folder}: in sync")
    return EXIT_OK


async def cmd_scan(client: SyncthingClient, args: argparse.Namespace) -> int:
    """Ask Syncthing to rescan a folder, optionally waiting until it is idle again."""
    _check_not_paused(await _folder(client, args.folder))
    if not args.wait:
        await client.db.scan(folder=args.folder, subdirs=[args.sub] if args.sub else None)
        _out(f"{args.folder}: scan requested")
        return EXIT_OK
    with anyio.move_on_after(args.timeout) as scope:
        await client.scan_and_wait(args.folder, sub=args.sub)
    if scope.cancelled_caught:
        raise CliError(
            EXIT_TIMEOUT, f"timed out after {args.timeout:g} s: folder {args.folder!r} is not idle again yet"
        )
    _out(f"{args.folder}: scanned")
    return EXIT_OK


# -- config --------------------------------------------------------------------------------

_SECTIONS: Final = (
    "options",
    "gui",
    "ldap",
    "folders",
    "devices",
    "defaults/folder",
    "defaults/device",
    "defaults/ignores",
    "restart-required",
)
_PATCH_MODELS: Final[dict[str, type[msgspec.Struct]]] = {
    "options": Options,
    "gui": GuiConfig,
    "ldap": LdapConfig,
    "folders": FolderConfig,
    "devices": DeviceConfig,
    "defaults/folder": FolderConfig,
    "defaults/device": DeviceConfig,
}


_PATCHABLE: Final = ("options", "gui", "ldap", "defaults/folder", "defaults/device")


def _section(text: str, *, patch: bool) -> tuple[str, str, str]:
    """``(url path part, kind, item id)``: kind is the section, or ``folders``/``devices`` for one item."""
    section = text.strip("/")
    kind, _, item = section.partition("/")
    if kind in ("folders", "devices") and item:
        return f"{kind}/{quote(item, kind[:-1] + ' id')}", kind, item
    if section in (_PATCHABLE if patch else _SECTIONS):
        return section, section, ""
    if patch:
        raise CliError(
            EXIT_USAGE,
            f"cannot patch config section {section!r}: "
            f"use one of {', '.join(_PATCHABLE)}, folders/ID, devices/ID",
        )
    raise CliError(
        EXIT_USAGE,
        f"unknown config section {section!r}: use one of {', '.join(_SECTIONS)}, folders/ID, devices/ID",
    )


async def _config_get(client: SyncthingClient, section: str, kind: str, item: str) -> Any:
    path = "/rest/config" + (f"/{section}" if section else "")
    try:
        return await client._core.request("GET", path)
    except NotFoundError:
        if item:
            what = "folder" if kind == "folders" else "device"
            raise CliError(EXIT_NOT_FOUND, f"no such {what} {item!r}") from None
        raise CliError(EXIT_NOT_FOUND, f"config section {section!r} not found on this Syncthing") from None


def _shown(key: str, value: Any) -> str:
    return "<redacted>" if key in _SECRET_KEYS and value else _json(value)


async def cmd_config_get(client: SyncthingClient, args: argparse.Namespace) -> int:
    """Print the whole config, or one section, as JSON (secrets redacted)."""
    section, kind, item = _section(args.section, patch=False) if args.section else ("", "", "")
    _out(_json(_redact(await _config_get(client, section, kind, item))))
    return EXIT_OK


async def cmd_config_patch(client: SyncthingClient, args: argparse.Namespace) -> int:
    """PATCH a section with the given keys and print each change as old -> new."""
    section, kind, item = _section(args.section, patch=True)
    try:
        changes = msgspec.json.decode(args.changes)
    except msgspec.DecodeError as err:
        raise CliError(EXIT_USAGE, f"the changes are not valid JSON: {err}") from None
    if not isinstance(changes, dict) or not changes:
        raise CliError(
            EXIT_USAGE, "the changes must be a non-empty JSON object, e.g. '{\"relaysEnabled\": true}'"
        )
    current = await _config_get(client, section, kind, item)
    if not isinstance(current, dict):
        raise CliError(EXIT_USAGE, f"config section {section!r} is not an object")
    names: dict[str, str] = {k: k for k in current}
    for field in msgspec.structs.fields(_PATCH_MODELS[kind]):
        names[field.name] = field.encode_name
        names[field.encode_name] = field.encode_name
    body: dict[str, Any] = {}
    for key, value in changes.items():
        wire = names.get(key)
        if wire is None:
            raise CliError(
                EXIT_USAGE,
                f"{section} has no key {key!r}: use Syncthing's key (see `config get {section}`) "
                "or this library's attribute name",
            )
        body[wire] = value
    await client._core.request("PATCH", "/rest/config/" + section, json=body)
    if section == "gui" and isinstance(body.get("apiKey"), str) and body["apiKey"]:
        client.set_api_key(body["apiKey"])  # read the result back with the key just set
    after = current
    for attempt in range(10):  # a gui change restarts Syncthing's listener under our feet
        try:
            after = await _config_get(client, section, kind, item)
            break
        except SyncthingConnectionError:
            if attempt == 9:
                raise
            await anyio.sleep(0.5)
    for key in body:
        old, new = current.get(key), after.get(key)
        if old == new:
            _out(f"{section}: {key}: {_shown(key, old)} (unchanged)")
        else:
            _out(f"{section}: {key}: {_shown(key, old)} -> {_shown(key, new)}")
    return EXIT_OK


# -- call ----------------------------------------------------------------------------------


def _match_endpoint(method: str, path: str) -> Endpoint | None:
    parts = path.split("/")
    for ep in ENDPOINTS:
        if ep.method != method:
            continue
        pattern = ep.path.split("/")
        if len(pattern) == len(parts) and all(
            p == q or (p.startswith("{") and p.endswith("}") and q)
            for p, q in zip(pattern, parts, strict=True)
        ):
            return ep
    return None


async def cmd_call(client: SyncthingClient, args: argparse.Namespace) -> int:
    """Call any path under the base URL; print JSON (secrets redacted) or write the answer's bytes."""
    method = args.method.upper()
    if "://" in args.path:
        raise CliError(EXIT_USAGE, "PATH is the part after the base URL, e.g. /rest/system/status")
    split = urlsplit(args.path if args.path.startswith("/") else "/" + args.path)
    path = split.path
    params: dict[str, object] = dict(parse_qsl(split.query, keep_blank_values=True))
    for item in args.params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CliError(EXIT_USAGE, f"parameter {item!r} is not KEY=VALUE")
        params[key] = value
    body = None
    if args.body is not None:
        try:
            body = msgspec.json.decode(args.body)
        except msgspec.DecodeError as err:
            raise CliError(EXIT_USAGE, f"--body is not valid JSON: {err}") from None
    ep = _match_endpoint(method, path)
    if ep is None:
        _note(f"note: {method} {path} is not in this library's endpoint table; sent as is")
    elif ep.since or ep.until:
        await client._core.require(ep.path, since=ep.since, until=ep.until)
    try:
        payload = await client._core.request(method, path, params=params, json=body, expect="bytes")
    except NotFoundError as err:
        if err.body == "404 page not found":
            raise CliError(EXIT_NOT_FOUND, f"not found: Syncthing has no route {method} {path}") from None
        shown = ", ".join(f"{k}={v}" for k, v in params.items())
        raise CliError(
            EXIT_NOT_FOUND, f"not found: {err.body or path}" + (f" ({shown})" if shown else "")
        ) from None
    text: str | None = None
    if ep is None or ep.response not in ("bytes", "text", "meta_js"):
        try:
            text = _json(_redact(msgspec.json.decode(payload))) if payload.strip() else ""
        except msgspec.DecodeError:
            text = None
    data = payload if text is None else (text + "\n" if text else "").encode()
    key = client._core._api_key
    if key and key.encode() in data:
        data = data.replace(key.encode(), b"<redacted>")
    if args.output:
        await anyio.Path(args.output).write_bytes(data)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return EXIT_OK


async def cmd_demo(client: SyncthingClient | None, args: argparse.Namespace) -> int:
    """Run the live demo (see syncthing_async.demo)."""
    from .demo import run_demo

    return await run_demo(client, seconds=args.seconds, files=args.files)


Command = Callable[[SyncthingClient, argparse.Namespace], Awaitable[int]]


# -- parser --------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {_one_line(message)} (see: {self.prog} --help)\n")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Fixed width, so ``--help`` reads the same everywhere (docs/CLI.md holds it verbatim)."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=100, max_help_position=30)


def _exit_codes_text() -> str:
    return "exit codes:\n" + "\n".join(f"  {code:<4} {text}" for code, text in EXIT_CODES)


MAIN_HELP: Final = """\
Connection: --url/--api-key, else $SYNCTHING_URL/$SYNCTHING_API_KEY, else the local Syncthing's
config.xml. A command that cannot reach Syncthing fails at once. Every failure is one line on
stderr ("error: ..."); notes (a plain-HTTP key, a reconnect) are single lines too. The API key
is never printed. Run `syncthing-async COMMAND --help` for each command."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and documentation)."""
    parser = _Parser(
        prog="syncthing-async",
        description="Talk to Syncthing: status, folders, devices, events, waits, config and any endpoint.",
        epilog=MAIN_HELP + "\n\n" + _exit_codes_text(),
        formatter_class=_Formatter,
        allow_abbrev=False,
    )
    parser.add_argument("--url", help="Syncthing's base URL (default: $SYNCTHING_URL or local config.xml)")
    parser.add_argument("--api-key", help="API key (default: $SYNCTHING_API_KEY or local config.xml)")
    parser.add_argument("--fingerprint", help="SHA-256 pin of Syncthing's HTTPS certificate")
    parser.add_argument("--insecure", action="store_true", help="do not verify TLS (prefer --fingerprint)")
    parser.add_argument(
        "--request-timeout",
        type=_seconds,
        default=10.0,
        metavar="S",
        help="give up on one request after S seconds (default 10)",
    )
    parser.add_argument("--timeout", dest="global_timeout", default=None, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help: str, func: Any, epilog: str | None = None) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help,
            description=help[:1].upper() + help[1:] + ".",
            epilog=epilog,
            formatter_class=_Formatter,
            allow_abbrev=False,
        )
        p.set_defaults(func=func)
        return p

    json_help = "print JSON instead of a table"
    add("status", "device id, version, uptime", cmd_status).add_argument(
        "--json", action="store_true", help="print one JSON object"
    )
    add("folders", "folders and their state", cmd_folders).add_argument(
        "--json", action="store_true", help=json_help
    )
    add("devices", "remote devices and their connection", cmd_devices).add_argument(
        "--json", action="store_true", help=json_help
    )

    ev = add("events", "print events as JSON lines", cmd_events, EVENTS_HELP)
    ev.add_argument("--types", help="comma-separated event types (filtered by the client)")
    ev.add_argument("--disk", action="store_true", help="the disk stream (LocalChangeDetected...)")
    ev.add_argument(
        "--since", type=_whole(0), default=None, metavar="ID", help="start after this id (0: all buffered)"
    )
    ev.add_argument("--count", type=_whole(1), default=None, metavar="N", help="stop after N lines")
    ev.add_argument(
        "--max-retries",
        type=_whole(0),
        default=None,
        metavar="N",
        help="once connected, give up after N failed reconnects in a row (default: never)",
    )

    ws = add("wait-synced", "wait until a folder is in sync (progress bar on stderr)", cmd_wait_synced)
    ws.add_argument("folder", help="folder id")
    ws.add_argument("--device", help="wait for this remote device's copy instead")
    ws.add_argument("--timeout", type=_seconds, default=None, metavar="S", help="give up after S seconds")

    sc = add("scan", "rescan a folder", cmd_scan)
    sc.add_argument("folder", help="folder id")
    sc.add_argument("--sub", help="only this sub path")
    sc.add_argument("--wait", action="store_true", help="wait until the folder is idle again")
    sc.add_argument(
        "--timeout", type=_seconds, default=None, metavar="S", help="with --wait: give up after S seconds"
    )

    cf = sub.add_parser(
        "config",
        help="config get [SECTION] | config patch SECTION CHANGES",
        description="Read the config, or change some keys of one section.",
        formatter_class=_Formatter,
        allow_abbrev=False,
    )
    cfs = cf.add_subparsers(dest="action", required=True, metavar="ACTION")
    get = cfs.add_parser(
        "get",
        help="print the config or one section as JSON",
        description="Print the config, or one section, as JSON (the API key and password redacted).",
        formatter_class=_Formatter,
        allow_abbrev=False,
    )
    get.add_argument(
        "section",
        nargs="?",
        default="",
        help=f"{', '.join(_SECTIONS)}, folders/ID or devices/ID",
    )
    get.set_defaults(func=cmd_config_get)
    patch = cfs.add_parser(
        "patch",
        help="change keys of one section, printing old -> new",
        description=(
            "Change some keys of one section (HTTP PATCH) and print each as `section: key: old -> new`.\n"
            "Keys are Syncthing's (relaysEnabled) or this library's attribute names (relays_enabled);\n"
            "an empty or unknown change is refused."
        ),
        formatter_class=_Formatter,
        allow_abbrev=False,
    )
    patch.add_argument(
        "section", help="options, gui, ldap, defaults/folder, defaults/device, folders/ID, devices/ID"
    )
    patch.add_argument("changes", help="a JSON object of keys to change")
    patch.set_defaults(func=cmd_config_patch)

    ca = add(
        "call",
        "call any path under the base URL: call GET /rest/db/status folder=ID",
        cmd_call,
        "Routes this library knows are checked against the connected version first; other paths are\n"
        "sent as they are, with a note on stderr. JSON answers print as one line (secrets redacted);\n"
        "any other answer (text, a PNG) is written byte for byte.",
    )
    ca.add_argument("method", help="GET, POST, PUT, PATCH, DELETE")
    ca.add_argument("path", help="the path after the base URL, e.g. /rest/system/status or /qr/")
    ca.add_argument("params", nargs="*", help="KEY=VALUE query parameters")
    ca.add_argument("--body", help="JSON request body")
    ca.add_argument("--output", metavar="FILE", help="write the answer to FILE instead of stdout")

    demo = add("demo", "the live demo (throwaway Syncthing instances unless --url is given)", None)
    demo.add_argument(
        "--seconds",
        type=_seconds_or_zero,
        default=0.0,
        metavar="S",
        help="stop after S seconds (0: until synced)",
    )
    demo.add_argument("--files", type=_whole(1), default=20, metavar="N", help="how many files to write")
    return parser


def render_help() -> str:
    """Every ``--help`` text as Markdown: the generated part of docs/CLI.md."""
    parser = build_parser()
    blocks = [("syncthing-async", parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                blocks.append((f"syncthing-async {name}", sub))
                for inner in sub._actions:
                    if isinstance(inner, argparse._SubParsersAction):
                        blocks.extend((f"syncthing-async {name} {n}", p) for n, p in inner.choices.items())
    out = []
    for title, p in blocks:
        out.append(f"### `{title}`\n\n```text\n{p.format_help().rstrip()}\n```\n")
    return "\n".join(out)


# -- errors and main -----------------------------------------------------------------------


def _explain(err: BaseException, has_key: bool) -> tuple[int, str]:
    """The exit code and the one-line message for a failure."""
    if isinstance(err, CliError):
        return err.code, str(err)
    if isinstance(err, AuthenticationError):
        said = f"(Syncthing answered {err.status}: {err.body})" if err.body else f"(HTTP {err.status})"
        reason = err.reason
        if reason is AuthReason.HOST_CHECK:
            return EXIT_AUTH, f"Syncthing refused the host name in the URL (host check) {said}"
        if reason is AuthReason.DEBUGGING_DISABLED:
            return EXIT_AUTH, f"debug endpoints are off: set gui.debugging in Syncthing {said}"
        if not has_key:
            return EXIT_AUTH, f"no API key given: pass --api-key or set SYNCTHING_API_KEY {said}"
        if reason is AuthReason.GUI_AUTH:
            return EXIT_AUTH, f"the API key was refused (GUI authentication is on) {said}"
        return EXIT_AUTH, f"the API key was refused: wrong key {said}"
    if isinstance(err, SyncthingTimeoutError):
        return EXIT_TIMEOUT, f"timed out: {err}"
    if isinstance(err, SyncthingConnectionError):
        return EXIT_CONNECT, f"cannot reach Syncthing: {err}"
    if isinstance(err, NotFoundError):
        return EXIT_NOT_FOUND, f"not found: {err.method} {err.url}: {err.body}"
    if isinstance(err, RedirectRefusedError):
        return EXIT_API, f"{err.method} {err.url}: {err.body}"
    if isinstance(err, SyncthingAPIError):
        return EXIT_API, f"Syncthing refused {err.method} {err.url} (HTTP {err.status}): {err.body or '-'}"
    if isinstance(err, UnsupportedError):
        return EXIT_UNSUPPORTED, str(err)
    if isinstance(err, InvalidArgumentError):
        return EXIT_USAGE, str(err)
    if isinstance(err, ConfigNotFoundError):
        return EXIT_ERROR, str(err)
    if isinstance(err, SyncthingError):
        return EXIT_ERROR, str(err)
    if isinstance(err, ValueError):  # bad values found after parsing: --types, --fingerprint
        return EXIT_USAGE, str(err)
    return EXIT_ERROR, f"unexpected {type(err).__name__}: {err}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Notes(logging.Handler):
    """The library's warnings (e.g. a key over plain HTTP) as one plain ``note:`` line each."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _note("note: " + _one_line(record.getMessage()))
        except Exception:  # pragma: no cover - never let a note break the command
            self.handleError(record)


def _setup_logging() -> None:
    logger = logging.getLogger(_LOG_NAME)
    if not any(isinstance(h, _Notes) for h in logger.handlers):
        handler = _Notes(logging.WARNING)
        logger.addHandler(handler)
    logger.propagate = False


async def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        if args.url or os.environ.get("SYNCTHING_URL"):
            async with await _connect(args) as client:
                return await cmd_demo(client, args)
        return await cmd_demo(None, args)
    client = await _connect(args)
    args._has_key = client._core.has_api_key
    async with client:
        func: Command = args.func
        return await func(client, args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.global_timeout is not None:
        parser.error(
            "--timeout before the command is gone: use --request-timeout S for one request, "
            "or the command's own --timeout (wait-synced, scan --wait)"
        )
    _setup_logging()
    args._has_key = True
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, and keep Python's exit flush silent.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as err:
        code, message = _explain(err, args._has_key)
        _out("error: " + _one_line(message), sys.stderr)
        return code
