"""The ``syncthing-async`` command line (also ``python -m syncthing_async``).

Connection: ``--url``/``--api-key`` flags, else ``SYNCTHING_URL``/``SYNCTHING_API_KEY``, else the
local Syncthing's ``config.xml``. Expected failures print one line to stderr and exit non-zero:
2 usage, 3 cannot connect, 4 authentication, 5 other API errors (unknown folder...), 1 other.
The API key is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TextIO

import msgspec

from ._client import SyncthingClient
from ._endpoints import ENDPOINTS
from ._exceptions import (
    AuthenticationError,
    InvalidArgumentError,
    SyncthingAPIError,
    SyncthingConnectionError,
    SyncthingError,
)
from ._helpers import SyncProgress
from .demo import progress_bar

__all__ = ["main"]

EXIT_USAGE = 2
EXIT_CONNECT = 3
EXIT_AUTH = 4
EXIT_API = 5

_ENC = msgspec.json.Encoder()


def _json(value: Any) -> str:
    return _ENC.encode(value).decode()


def _redact(value: Any) -> Any:
    """Hide API keys in JSON output (the config carries ``gui.apiKey``)."""
    if isinstance(value, dict):
        return {k: ("<redacted>" if k == "apiKey" and v else _redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def _out(line: str, stream: TextIO | None = None) -> None:
    (stream or sys.stdout).write(line + "\n")


async def _connect(args: argparse.Namespace) -> SyncthingClient:
    url = args.url or os.environ.get("SYNCTHING_URL")
    key = args.api_key or os.environ.get("SYNCTHING_API_KEY")
    if url:
        return SyncthingClient(
            url,
            key,
            timeout=args.timeout,
            fingerprint=args.fingerprint,
            ssl=not args.insecure,
        )
    client = await SyncthingClient.from_local(timeout=args.timeout)
    if key:
        client.set_api_key(key)
    return client


# -- commands ------------------------------------------------------------------------------


async def cmd_status(client: SyncthingClient, args: argparse.Namespace) -> int:
    """Print the device id, version and uptime."""
    status = await client.system.status()
    version = await client.system.version()
    conns = await client.system.connections()
    connected = sum(1 for dev, c in conns.connections.items() if c.connected and dev != status.my_id)
    _out(f"device:   {status.my_id}")
    _out(f"version:  {version.version} ({version.os}/{version.arch})")
    _out(f"uptime:   {status.uptime} s")
    _out(f"url:      {client.url}")
    _out(f"peers:    {connected} connected")
    return 0


async def cmd_folders(client: SyncthingClient, args: argparse.Namespace) -> int:
    """List folders with their state."""
    for folder in await client.config.folders.list():
        state = "paused" if folder.paused else str((await client.db.status(folder=folder.id)).state)
        _out(f"{folder.id}\t{folder.label or '-'}\t{state}\t{folder.path}")
    return 0


async def cmd_devices(client: SyncthingClient, args: argparse.Namespace) -> int:
    """List devices with their connection state."""
    conns = (await client.system.connections()).connections
    my_id = (await client.system.status()).my_id
    for dev in await client.config.devices.list():
        if dev.device_id == my_id:
            continue
        c = conns.get(dev.device_id)
        state = "paused" if dev.paused else ("connected" if c and c.connected else "disconnected")
        address = c.address if c and c.connected else "-"
        _out(f"{dev.device_id}\t{dev.name or '-'}\t{state}\t{address}")
    return 0


def _event_line(item: Any) -> str:
    from .models.events import Event

    if isinstance(item, Event):
        raw = msgspec.json.format(item.raw_json, indent=0).decode()
        return (
            f'{{"id":{item.id},"globalID":{item.global_id},"time":{_json(item.time)},'
            f'"type":{_json(item.type)},"data":{raw}}}'
        )
    return _json({"marker": item.type, **msgspec.to_builtins(item)})


async def cmd_events(client: SyncthingClient, args: argparse.Namespace) -> int:
    """Print events as JSON lines (one object per line) until interrupted or --count is reached."""
    types = [t.strip() for t in args.types.split(",") if t.strip()] if args.types else None
    count = 0
    async with client.events.stream(types=types, disk=args.disk, since=args.since) as stream:
        async for item in stream:
            _out(_event_line(item))
            sys.stdout.flush()
            count += 1
            if args.count and count >= args.count:
                break
    return 0


async def cmd_wait_synced(client: SyncthingClient, args: argparse.Namespace) -> int:
    """Wait until a folder is in sync, with a live progress bar on stderr."""
    tty = sys.stderr.isatty()

    def progress(p: SyncProgress) -> None:
        line = f"{args.folder}: {progress_bar(p.completion / 100)} need {p.need_items} items"
        if tty:
            sys.stderr.write("\r" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    await client.wait_for_sync(args.folder, device=args.device, timeout=args.wait_timeout, progress=progress)
    if tty:
        sys.stderr.write("\n")
    _out(f"{args.folder}: in sync")
    return 0


async def cmd_scan(client: SyncthingClient, args: argparse.Namespace) -> int:
    """Ask Syncthing to rescan a folder, optionally waiting until it is idle again."""
    if args.wait:
        await client.scan_and_wait(args.folder, sub=args.sub, timeout=args.wait_timeout)
        _out(f"{args.folder}: scanned")
    else:
        await client.db.scan(folder=args.folder, subdirs=[args.sub] if args.sub else None)
        _out(f"{args.folder}: scan requested")
    return 0


async def cmd_config(client: SyncthingClient, args: argparse.Namespace) -> int:
    """``config get [SECTION]`` prints JSON; ``config patch SECTION JSON`` sends a PATCH."""
    section = (args.section or "").strip("/")
    path = "/rest/config" + (f"/{section}" if section else "")
    if args.action == "get":
        _out(_json(_redact(await client._core.request("GET", path))))
        return 0
    if not section:
        _out("error: config patch needs a SECTION such as options, gui or folders/ID", sys.stderr)
        return EXIT_USAGE
    try:
        body = msgspec.json.decode(args.json)
    except msgspec.DecodeError as err:
        _out(f"error: the patch is not valid JSON: {err}", sys.stderr)
        return EXIT_USAGE
    await client._core.request("PATCH", path, json=body)
    _out(f"patched {section}")
    return 0


def _match_endpoint(method: str, path: str) -> bool:
    for ep in ENDPOINTS:
        if ep.method != method:
            continue
        pattern = ep.path.split("/")
        parts = path.split("/")
        if len(pattern) == len(parts) and all(
            p == q or (p.startswith("{") and p.endswith("}") and q)
            for p, q in zip(pattern, parts, strict=True)
        ):
            return True
    return False


async def cmd_call(client: SyncthingClient, args: argparse.Namespace) -> int:
    """Call any endpoint of ENDPOINTS: ``call GET /rest/db/status folder=default``."""
    method = args.method.upper()
    path = args.path if args.path.startswith("/") else "/" + args.path
    if not _match_endpoint(method, path):
        _out(f"error: {method} {path} is not a Syncthing endpoint this library knows", sys.stderr)
        return EXIT_USAGE
    params: dict[str, object] = {}
    for item in args.params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            _out(f"error: parameter {item!r} is not KEY=VALUE", sys.stderr)
            return EXIT_USAGE
        params[key] = value
    body = None
    if args.body is not None:
        try:
            body = msgspec.json.decode(args.body)
        except msgspec.DecodeError as err:
            _out(f"error: --body is not valid JSON: {err}", sys.stderr)
            return EXIT_USAGE
    payload = await client._core.request(method, path, params=params, json=body, expect="bytes")
    try:
        text = _json(_redact(msgspec.json.decode(payload))) if payload.strip() else ""
    except msgspec.DecodeError:
        text = payload.decode("utf-8", "replace").rstrip("\n")
    if text:
        _out(text)
    return 0


async def cmd_demo(client: SyncthingClient | None, args: argparse.Namespace) -> int:
    """Run the live demo (see syncthing_async.demo)."""
    from .demo import run_demo

    return await run_demo(client, seconds=args.seconds, files=args.files)


Command = Callable[[SyncthingClient, argparse.Namespace], Awaitable[int]]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and documentation)."""
    parser = argparse.ArgumentParser(
        prog="syncthing-async",
        description="Talk to Syncthing: status, folders, devices, events, waits, config and any endpoint.",
    )
    parser.add_argument("--url", help="Syncthing GUI/API URL (default: $SYNCTHING_URL or local config.xml)")
    parser.add_argument("--api-key", help="API key (default: $SYNCTHING_API_KEY or local config.xml)")
    parser.add_argument("--fingerprint", help="SHA-256 pin of Syncthing's HTTPS certificate")
    parser.add_argument("--insecure", action="store_true", help="do not verify TLS (prefer --fingerprint)")
    parser.add_argument("--timeout", type=float, default=10.0, help="request timeout in seconds")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("status", help="device id, version, uptime").set_defaults(func=cmd_status)
    sub.add_parser("folders", help="folders and their state").set_defaults(func=cmd_folders)
    sub.add_parser("devices", help="devices and their connection").set_defaults(func=cmd_devices)

    ev = sub.add_parser("events", help="print events as JSON lines")
    ev.add_argument("--types", help="comma-separated event types (client-side filter)")
    ev.add_argument("--disk", action="store_true", help="the disk stream (LocalChangeDetected...)")
    ev.add_argument("--since", type=int, default=None, help="start after this id (0: all buffered)")
    ev.add_argument("--count", type=int, default=0, help="stop after N items")
    ev.set_defaults(func=cmd_events)

    ws = sub.add_parser("wait-synced", help="wait until a folder is in sync (progress bar)")
    ws.add_argument("folder")
    ws.add_argument("--device", help="wait for this remote device's copy instead")
    ws.add_argument("--timeout", dest="wait_timeout", type=float, default=None, help="give up after S s")
    ws.set_defaults(func=cmd_wait_synced)

    sc = sub.add_parser("scan", help="rescan a folder")
    sc.add_argument("folder")
    sc.add_argument("--sub", help="only this sub path")
    sc.add_argument("--wait", action="store_true", help="wait until the folder is idle again")
    sc.add_argument("--timeout", dest="wait_timeout", type=float, default=None)
    sc.set_defaults(func=cmd_scan)

    cf = sub.add_parser("config", help="config get [SECTION] | config patch SECTION JSON")
    cf.add_argument("action", choices=["get", "patch"])
    cf.add_argument("section", nargs="?", default="", help="e.g. options, gui, folders/ID, devices/ID")
    cf.add_argument("json", nargs="?", default="{}", help="the PATCH body (JSON)")
    cf.set_defaults(func=cmd_config)

    ca = sub.add_parser("call", help="call any endpoint: call GET /rest/db/status folder=ID")
    ca.add_argument("method")
    ca.add_argument("path")
    ca.add_argument("params", nargs="*", help="KEY=VALUE query parameters")
    ca.add_argument("--body", help="JSON request body")
    ca.set_defaults(func=cmd_call)

    demo = sub.add_parser("demo", help="the live demo (throwaway Syncthing instances unless --url is given)")
    demo.add_argument("--seconds", type=float, default=0, help="stop after S seconds (0: until synced)")
    demo.add_argument("--files", type=int, default=20, help="how many files to write")
    demo.set_defaults(func=None)
    return parser


async def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        if args.url or os.environ.get("SYNCTHING_URL"):
            async with await _connect(args) as client:
                return await cmd_demo(client, args)
        return await cmd_demo(None, args)
    async with await _connect(args) as client:
        func: Command = args.func
        return await func(client, args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:
        return 130
    except InvalidArgumentError as err:  # a bad URL, key, fingerprint or id, found before any request
        _out(f"error: {err}", sys.stderr)
        return EXIT_USAGE
    except AuthenticationError as err:
        _out(f"error: authentication failed ({err.reason.value}): {err.body}", sys.stderr)
        return EXIT_AUTH
    except SyncthingConnectionError as err:
        _out(f"error: cannot connect: {err}", sys.stderr)
        return EXIT_CONNECT
    except SyncthingAPIError as err:
        _out(f"error: {err.body or err}", sys.stderr)
        return EXIT_API
    except SyncthingError as err:
        _out(f"error: {err}", sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except ValueError as err:  # bad values found after parsing: --fingerprint, --types, --since
        _out(f"error: {err}", sys.stderr)
        return EXIT_USAGE
