"""FakeSyncthing: an in-process HTTP server that behaves like Syncthing's REST event API.

It follows https://docs.syncthing.net/dev/events.html and Syncthing's lib/events/events.go
closely (one id sequence per ``events=`` mask, 1000-event ring buffers, ``since``/``limit``/
``timeout`` parsing, headers flushed before the long wait, ``[]`` on timeout, negative
``since`` padding) and adds knobs for what a real daemon cannot do on demand: gaps, restarts,
HTTP errors, severed and reset connections, malformed JSON and stalls.
Only ever listens on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import msgspec
from aiohttp import web

from .._aio import AsyncContext
from .._deviceid import DeviceID
from .._versioning import SyncthingVersion
from ..models.events import DISK_EVENT_TYPES, EVENT_TYPES

__all__ = ["FakeSyncthing", "RecordedRequest"]

BUFFER_SIZE: Final = 1000
DEFAULT_TIMEOUT_S: Final = 60
_PADDING: Final = b'{"id":0,"globalID":0,"time":"0001-01-01T00:00:00Z","type":"Unknown","data":null}'
_JSON_CT: Final = "application/json; charset=utf-8"
_TEXT_CT: Final = "text/plain; charset=utf-8"
_DISK_MASK: Final = DISK_EVENT_TYPES


def _atoi(text: str | None) -> int | None:
    """Go's ``strconv.Atoi``: an optional sign and decimal digits, else None."""
    if text is None:
        return None
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        return None
    return int(text)


def _rfc3339nano(ns: int) -> str:
    """Format like Go's ``time.RFC3339Nano`` in UTC (trailing zeros of the fraction trimmed)."""
    secs, frac = divmod(ns, 1_000_000_000)
    base = datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        base += "." + f"{frac:09d}".rstrip("0")
    return base + "Z"


def _rfc3339(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received (the API key is never recorded)."""

    method: str
    path: str
    query: Mapping[str, str]
    at: float = field(default_factory=time.monotonic)


class _Subscription:
    """Syncthing's ``bufferedSubscription``: a ring of the last ``size`` events of one mask."""

    def __init__(self, mask: frozenset[str] | None, size: int) -> None:
        self.mask = mask  # None = default mask (everything except the disk types)
        self.buf: list[bytes | None] = [None] * size
        self.ids: list[int] = [0] * size
        self.next = 0
        self.cur = 0  # newest stored id
        self.next_id = 1  # next id to hand out (ids of dropped events are consumed too)
        self.changed = asyncio.Event()

    def wants(self, type_: str) -> bool:
        if self.mask is None:
            return type_ not in _DISK_MASK
        return type_ in self.mask

    def add(self, gid: int, type_: str, ns: int, data: bytes) -> int:
        sid = self.next_id
        self.next_id += 1
        self.buf[self.next] = b'{"id":%d,"globalID":%d,"time":"%s","type":%s,"data":%s}' % (
            sid,
            gid,
            _rfc3339nano(ns).encode(),
            msgspec.json.encode(type_),
            data,
        )
        self.ids[self.next] = sid
        self.next = (self.next + 1) % len(self.buf)
        self.cur = sid
        self.changed.set()
        self.changed = asyncio.Event()
        return sid

    def drop(self, n: int) -> None:
        self.next_id += n

    def since(self, since: int) -> list[bytes]:
        out: list[bytes] = []
        order = list(range(self.next, len(self.buf))) + list(range(self.next))
        for i in order:
            if self.ids[i] > since:
                item = self.buf[i]
                out.append(_PADDING if item is None else item)
        return out


class FakeSyncthing(AsyncContext):
    """A fake Syncthing REST server on 127.0.0.1 for tests of event consumers.

    ``async with FakeSyncthing() as st:`` then point a client at ``st.url`` with ``st.api_key``.
    ``timeout_scale`` shrinks the ``timeout=`` of event polls (0.05 makes a 1 s poll last
    50 ms) so idle polls do not slow tests down; everything else follows Syncthing.
    """

    def __init__(
        self,
        *,
        api_key: str = "fake-api-key",
        device_id: str | None = None,
        version: str = "v1.29.5",
        home: str = "/home/user/.local/state/syncthing",
        buffer_size: int = BUFFER_SIZE,
        timeout_scale: float = 1.0,
        startup_events: bool = True,
        pretty: bool = True,
        port: int = 0,
    ) -> None:
        self.api_key: str | None = api_key
        self.device_id = device_id or str(
            DeviceID.from_bytes(hashlib.sha256(b"syncthing_async fake").digest())
        )
        self.version = version
        self.home = home
        self.timeout_scale = timeout_scale
        self.pretty = pretty
        self.buffer_size = buffer_size
        self.requests: list[RecordedRequest] = []
        self._parsed_version = SyncthingVersion.parse(version)
        self._known = self._known_types()
        self._port = port
        self._runner: web.AppRunner | None = None
        self._url = ""
        self._startup_events = startup_events
        self._fail: list[tuple[int, str, str | None]] = []
        self._stall: int | None = 0  # requests still to stall; None = every request
        self._reset_next = 0
        self._malformed: list[bytes] = []
        self._aborts: set[asyncio.Event] = set()
        self._waiting = 0
        self._routes: dict[tuple[str, str], tuple[int, bytes, str]] = {}
        self.restarts = 0
        self._new_life(datetime.now(UTC).replace(microsecond=0))

    # -- lifecycle -----------------------------------------------------------------------
    def _known_types(self) -> frozenset[str]:
        names = set(EVENT_TYPES)
        if self._parsed_version < "1.20.0":
            names.discard("ClusterConfigReceived")
        if self._parsed_version < "2.0.15":
            names.discard("UpgradeRestartScheduled")
        return frozenset(names)

    def _new_life(self, start_time: datetime) -> None:
        self.start_time = start_time
        self._started_mono = time.monotonic()
        self._global_id = 0
        self._default = _Subscription(None, self.buffer_size)
        self._disk = _Subscription(_DISK_MASK, self.buffer_size)
        self._custom: dict[frozenset[str], _Subscription] = {}
        if self._startup_events:
            self.emit("Starting", {"home": self.home, "myID": self.device_id})
            self.emit("StartupComplete", {"myID": self.device_id})

    async def start(self) -> None:
        """Start listening on 127.0.0.1 (a free port unless one was given)."""
        if self._runner is not None:
            return
        app = web.Application(middlewares=[self._middleware])
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self._port)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self._port = port
        self._url = f"http://{host}:{port}"

    async def close(self) -> None:
        """Stop the server, ending open polls at once; idempotent."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._stall = 0
        self.sever()
        await runner.cleanup()

    async def _enter(self) -> None:
        await self.start()

    async def _exit(self) -> None:
        await self.close()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234``."""
        if not self._url:
            raise RuntimeError("FakeSyncthing is not started")
        return self._url

    @property
    def port(self) -> int:
        """The TCP port (kept across :meth:`restart`)."""
        return self._port

    # -- events --------------------------------------------------------------------------
    def emit(self, type: str, data: object = None) -> int:
        """Log an event of ``type`` with JSON-encodable ``data``; returns its global id.

        It goes to every subscription whose mask includes it; a type this Syncthing version
        does not know goes to the default subscription only (as a newer type would).
        """
        self._global_id += 1
        gid = self._global_id
        ns = time.time_ns()
        payload = msgspec.json.encode(data)
        for sub in self._subscriptions():
            if sub.wants(type):
                sub.add(gid, type, ns, payload)
        return gid

    def _subscriptions(self) -> Iterable[_Subscription]:
        yield self._default
        yield self._disk
        yield from self._custom.values()

    def drop(self, n: int = 1, *, disk: bool = False, types: Iterable[str] | None = None) -> None:
        """Consume ``n`` ids of one subscription without storing events (Syncthing's dropped events).

        The next stored event then comes after a gap of ``n``.
        """
        if types is not None:
            sub = self._custom.get(frozenset(types))
            if sub is None:
                raise KeyError(f"no subscription for mask {sorted(types)}")
        else:
            sub = self._disk if disk else self._default
        sub.drop(n)
        self._global_id += n

    def last_id(self, *, disk: bool = False) -> int:
        """The newest id handed out in the default (or disk) subscription."""
        return (self._disk if disk else self._default).next_id - 1

    def restart(self, *, start_time: datetime | None = None) -> None:
        """Simulate a Syncthing restart: connections cut, ids and ``startTime`` start again.

        The new ``startTime`` is at least one second after the old one (Syncthing reports whole
        seconds) unless ``start_time`` is given (pass the old one to hide the restart).
        """
        self.restarts += 1
        self.sever()
        if start_time is None:
            now = datetime.now(UTC).replace(microsecond=0)
            start_time = max(now, self.start_time + timedelta(seconds=1))
        self._new_life(start_time)

    # -- faults --------------------------------------------------------------------------
    def fail_next(self, status: int, body: str = "", *, count: int = 1, path: str | None = None) -> None:
        """Answer the next ``count`` requests (to ``path``, if given) with ``status`` and ``body``."""
        text = body or {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}.get(
            status, "error"
        )
        self._fail.extend([(status, text, path)] * count)

    def sever(self) -> int:
        """Close every open connection now (polls in flight end with a connection error)."""
        for abort in list(self._aborts):
            abort.set()
        closed = 0
        runner = self._runner
        if runner is not None and runner.server is not None:
            for handler in runner.server.connections:
                transport = handler.transport
                if transport is not None and not transport.is_closing():
                    transport.close()
                    closed += 1
        return closed

    def stall(self, count: int | None = 1) -> None:
        """Accept the next ``count`` requests (None: all of them) and never answer them."""
        self._stall = count

    def unstall(self) -> None:
        """Stop stalling new requests; stalled ones have their connection closed."""
        self._stall = 0
        for abort in list(self._aborts):
            abort.set()

    def reset_next(self, count: int = 1) -> None:
        """The next ``count`` event replies send headers and half a body, then cut the connection."""
        self._reset_next += count

    def malformed_next(self, count: int = 1, body: bytes = b'[{"id": 1, "globalID": 1, "time": ') -> None:
        """The next ``count`` event replies carry ``body`` (malformed JSON) with status 200."""
        self._malformed.extend([body] * count)

    def set_api_key(self, api_key: str | None) -> None:
        """Change the accepted API key (None accepts any request)."""
        self.api_key = api_key

    def respond(self, method: str, path: str, body: object, *, status: int = 200) -> None:
        """Serve a canned reply for ``method path`` (JSON unless ``body`` is str or bytes)."""
        if isinstance(body, bytes):
            raw, ctype = body, _JSON_CT
        elif isinstance(body, str):
            raw, ctype = body.encode(), _TEXT_CT
        else:
            raw, ctype = self._json(body), _JSON_CT
        self._routes[(method.upper(), path)] = (status, raw, ctype)

    # -- introspection -------------------------------------------------------------------
    @property
    def events_requests(self) -> list[RecordedRequest]:
        """The requests to ``/rest/events`` and ``/rest/events/disk``, oldest first."""
        return [r for r in self.requests if r.path.startswith("/rest/events")]

    @property
    def waiting_polls(self) -> int:
        """Event polls currently blocked waiting for events."""
        return self._waiting

    @property
    def open_connections(self) -> int:
        """TCP connections currently open to the server."""
        runner = self._runner
        if runner is None or runner.server is None:
            return 0
        return sum(1 for h in runner.server.connections if h.transport is not None)

    async def wait_polling(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until at least ``count`` event polls are blocked in the server."""
        deadline = time.monotonic() + timeout
        while self._waiting < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {self._waiting} of {count} polls are waiting")
            await asyncio.sleep(0.002)

    # -- HTTP ----------------------------------------------------------------------------
    def _json(self, obj: object) -> bytes:
        raw = msgspec.json.encode(obj)
        if self.pretty:
            raw = msgspec.json.format(raw, indent=2)
        return raw + b"\n"

    def _headers(self) -> dict[str, str]:
        return {
            "X-Syncthing-Version": self.version,
            "X-Syncthing-Id": self.device_id,
            "Cache-Control": "max-age=0, no-cache, no-store",
        }

    def _text(self, status: int, text: str) -> web.Response:
        return web.Response(
            status=status,
            body=(text + "\n").encode(),
            content_type="text/plain",
            charset="utf-8",
            headers=self._headers(),
        )

    def _authorised(self, request: web.Request) -> bool:
        if self.api_key is None:
            return True
        if request.headers.get("X-API-Key") == self.api_key:
            return True
        auth = request.headers.get("Authorization", "")
        return self._parsed_version >= "1.23.7" and auth[:7].lower() == "bearer " and auth[7:] == self.api_key

    async def _hold(self) -> None:
        abort = asyncio.Event()
        self._aborts.add(abort)
        try:
            await abort.wait()
        finally:
            self._aborts.discard(abort)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        path = request.path
        self.requests.append(RecordedRequest(request.method, path, dict(request.query)))
        if self._stall is None or self._stall > 0:
            if self._stall is not None:
                self._stall -= 1
            await self._hold()
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=503)
        for i, (status, text, only) in enumerate(self._fail):
            if only is None or path == only:
                del self._fail[i]
                return self._text(status, text)
        if path == "/rest/noauth/health" and self._parsed_version >= "1.22.1":
            return web.Response(
                body=self._json({"status": "OK"}), content_type="application/json", charset="utf-8"
            )
        if path.startswith("/rest/") and not self._authorised(request):
            return self._text(403, "CSRF Error")
        response: web.StreamResponse = await handler(request)
        return response

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        method, path = request.method, request.path
        canned = self._routes.get((method, path))
        if canned is not None:
            status, raw, ctype = canned
            resp = web.Response(status=status, body=raw, headers=self._headers())
            resp.headers["Content-Type"] = ctype
            return resp
        routes = {
            "/rest/events": ("GET",),
            "/rest/events/disk": ("GET",),
            "/rest/system/status": ("GET",),
            "/rest/system/version": ("GET",),
            "/rest/system/ping": ("GET", "POST"),
        }
        allowed = routes.get(path)
        if allowed is None:
            return self._text(404, "404 page not found")
        if method not in allowed:
            resp = self._text(405, "Method Not Allowed")
            resp.headers["Allow"] = ", ".join((*allowed, "OPTIONS"))
            return resp
        if path == "/rest/events":
            return await self._events(request, self._subscription_for(request.query.get("events")))
        if path == "/rest/events/disk":
            return await self._events(request, self._disk)
        if path == "/rest/system/status":
            return self._json_response(self._status())
        if path == "/rest/system/version":
            return self._json_response(self._version_info())
        return self._json_response({"ping": "pong"})

    def _json_response(self, obj: object) -> web.Response:
        resp = web.Response(body=self._json(obj), headers=self._headers())
        resp.headers["Content-Type"] = _JSON_CT
        return resp

    def _subscription_for(self, events: str | None) -> _Subscription:
        if events is None or events == "":
            return self._default
        names = frozenset(n.strip() for n in events.split(",")) & self._known
        if names == self._known - _DISK_MASK:
            return self._default
        if names == _DISK_MASK:
            return self._disk
        sub = self._custom.get(names)
        if sub is None:
            sub = self._custom[names] = _Subscription(names, self.buffer_size)
        return sub

    async def _events(self, request: web.Request, sub: _Subscription) -> web.StreamResponse:
        since = _atoi(request.query.get("since")) or 0
        limit = _atoi(request.query.get("limit")) or 0
        timeout = _atoi(request.query.get("timeout"))
        if timeout is None or timeout < 0:
            timeout = DEFAULT_TIMEOUT_S
        resp = web.StreamResponse(status=200, headers=self._headers())
        resp.headers["Content-Type"] = _JSON_CT
        await resp.prepare(request)  # Syncthing flushes the headers before waiting
        if since >= sub.cur:
            abort = asyncio.Event()
            self._aborts.add(abort)
            self._waiting += 1
            deadline = time.monotonic() + timeout * self.timeout_scale
            try:
                while since >= sub.cur and not abort.is_set():
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    changed = asyncio.ensure_future(sub.changed.wait())
                    aborted = asyncio.ensure_future(abort.wait())
                    try:
                        await asyncio.wait(
                            (changed, aborted), timeout=left, return_when=asyncio.FIRST_COMPLETED
                        )
                    finally:
                        changed.cancel()
                        aborted.cancel()
            finally:
                self._waiting -= 1
                self._aborts.discard(abort)
            if abort.is_set():
                if request.transport is not None:
                    request.transport.close()
                return resp
        items = sub.since(since) if since < sub.cur else []
        if limit > 0:
            items = items[-limit:]
        if self._malformed:
            body = self._malformed.pop(0)
        else:
            body = b"[" + b",".join(items) + b"]"
            if self.pretty:
                body = msgspec.json.format(body, indent=2)
            body += b"\n"
        try:
            if self._reset_next:
                self._reset_next -= 1
                await resp.write(body[: max(1, len(body) // 2)])
                if request.transport is not None:
                    request.transport.close()
                return resp
            await resp.write(body)
            await resp.write_eof()
        except ConnectionResetError:
            pass  # the client went away during the wait (Syncthing does not notice either)
        return resp

    def _status(self) -> dict[str, Any]:
        return {
            "alloc": 35796576,
            "connectionServiceStatus": {},
            "cpuPercent": 0,
            "discoveryEnabled": False,
            "goroutines": 48,
            "guiAddressOverridden": True,
            "guiAddressUsed": f"127.0.0.1:{self._port}",
            "lastDialStatus": {},
            "myID": self.device_id,
            "pathSeparator": "/",
            "startTime": _rfc3339(self.start_time),
            "sys": 52188424,
            "tilde": "/home/user",
            "uptime": int(time.monotonic() - self._started_mono),
            "urVersionMax": 3,
        }

    def _version_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "arch": "amd64",
            "codename": "Fake Syncthing",
            "date": "2023-04-09T10:47:16Z",
            "isBeta": False,
            "isCandidate": False,
            "isRelease": True,
            "longVersion": f'syncthing {self.version} "Fake Syncthing" (go1.22 linux-amd64) fake@fake',
            "os": "linux",
            "stamp": "1681037236",
            "tags": [],
            "user": "fake",
            "version": self.version,
        }
        if self._parsed_version >= "1.23.0":
            info["container"] = False
        if self._parsed_version >= "1.23.7":
            info["extra"] = ""
        return info
