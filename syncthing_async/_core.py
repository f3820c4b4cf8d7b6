"""The session core shared by every endpoint coroutine: URL handling, auth, errors and decoding."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
import warnings
from collections.abc import Mapping
from typing import Any, Final, Literal, TypeVar, overload
from urllib.parse import quote as _quote
from urllib.parse import urlsplit

import aiohttp
import msgspec
from yarl import URL

from ._exceptions import (
    SyncthingAPIError,
    SyncthingClosedError,
    SyncthingConnectionError,
    SyncthingDecodeError,
    SyncthingTimeoutError,
    UnsupportedError,
    error_for_status,
)
from ._tls import ssl_for_request
from ._versioning import SyncthingVersion
from .models._base import DECODE_ERRORS

__all__ = ["Namespace", "SessionCore", "encode_params", "quote"]

_LOGGER = logging.getLogger("syncthing_async")

T = TypeVar("T")
Expect = Literal["json", "text", "bytes", "none"]

#: Syncthing closes idle keep-alive connections after 15 s; stay below that.
KEEPALIVE_TIMEOUT: Final = 10.0
_IDEMPOTENT: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_MAX_REDIRECTS: Final = 3
_LOOPBACK: Final = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


class _VersionOnly(msgspec.Struct):
    version: str


_VERSION_DECODER: Final = msgspec.json.Decoder(_VersionOnly)
_ANY_DECODER: Final = msgspec.json.Decoder()


def quote(segment: str) -> str:
    """Quote one path segment (``/`` included) for use in a URL path."""
    if not segment:
        raise ValueError("path parameter must not be empty")
    return _quote(segment, safe="")


def encode_params(params: Mapping[str, object] | None) -> list[tuple[str, str]]:
    """Encode query parameters: ``None`` dropped, booleans as ``true``/``false``, lists repeated."""
    out: list[tuple[str, str]] = []
    if not params:
        return out
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out.append((key, "true" if value else "false"))
        elif isinstance(value, (list, tuple, set, frozenset)):
            out.extend((key, _scalar(v)) for v in value if v is not None)
        else:
            out.append((key, _scalar(value)))
    return out


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Target:
    """A parsed base URL: where to connect and which path prefix to put before ``/rest/...``."""

    __slots__ = ("display", "origin", "prefix", "unix_path")

    def __init__(self, url: str) -> None:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        self.unix_path: str | None = None
        if scheme in ("unix", "unixs"):
            if not parts.path:
                raise ValueError("unix socket URL needs a path: unix:///path/to/socket")
            self.unix_path = parts.path
            # Syncthing's host check accepts "localhost" for any listener.
            self.origin = URL.build(scheme="https" if scheme == "unixs" else "http", host="localhost")
            self.prefix = ""
            self.display = f"{scheme}://{parts.path}"
            return
        if scheme not in ("http", "https"):
            raise ValueError(f"unsupported URL scheme {parts.scheme!r}: use http://, https:// or unix://")
        if not parts.hostname:
            raise ValueError(f"URL has no host: {url!r}")
        host = parts.hostname
        if parts.port is not None:
            port: int | None = parts.port
        else:
            port = None
        self.origin = URL.build(scheme=scheme, host=host, port=port)
        self.prefix = parts.path.rstrip("/")
        # Never show credentials embedded in the URL.
        self.display = str(self.origin) + self.prefix

    @property
    def is_loopback(self) -> bool:
        host = self.origin.host or ""
        return self.unix_path is not None or host in _LOOPBACK or host.startswith("127.")


class SessionCore:
    """Owns (or borrows) the aiohttp session and performs every request of one client."""

    def __init__(
        self,
        url: str,
        api_key: str | None,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        ssl: bool | ssl.SSLContext = True,
        fingerprint: str | None = None,
    ) -> None:
        self._target = _Target(url)
        self._api_key = api_key or None
        self._session = session
        self._owns_session = session is None
        self._timeout = timeout
        self._ssl = ssl_for_request(ssl, fingerprint)
        self._closed = False
        self._version: SyncthingVersion | None = None
        self._version_raw = ""
        self._headers: dict[str, str] = {"X-API-Key": api_key} if api_key else {}
        if api_key and self._target.origin.scheme == "http" and not self._target.is_loopback:
            warnings.warn(
                f"the Syncthing API key would go over plain HTTP to {self._target.origin.host}; "
                "use https:// with fingerprint=... to protect it",
                RuntimeWarning,
                stacklevel=3,
            )

    # -- introspection -------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The base URL, without any credentials."""
        return self._target.display

    @property
    def timeout(self) -> float:
        """Default total timeout of one request, in seconds."""
        return self._timeout

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    @property
    def has_api_key(self) -> bool:
        """True when an API key is configured."""
        return self._api_key is not None

    @property
    def version(self) -> SyncthingVersion | None:
        """The connected Syncthing's version, once a response has revealed it."""
        return self._version

    def set_api_key(self, api_key: str | None) -> None:
        """Replace the API key (for example after a user re-authenticates)."""
        self._api_key = api_key or None
        self._headers = {"X-API-Key": api_key} if api_key else {}

    # -- session lifecycle ---------------------------------------------------------------
    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise SyncthingClosedError("the Syncthing client is closed")
        session = self._session
        if session is None:
            if self._target.unix_path is not None:
                connector: aiohttp.BaseConnector = aiohttp.UnixConnector(
                    path=self._target.unix_path, keepalive_timeout=KEEPALIVE_TIMEOUT, limit=0
                )
            else:
                connector = aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_TIMEOUT, limit=0)
            session = aiohttp.ClientSession(connector=connector)
            self._session = session
        return session

    async def close(self) -> None:
        """Close the owned session (a borrowed one is left open); idempotent."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            await session.close()
            await _let_transports_close()

    # -- version -------------------------------------------------------------------------
    def _learn_version(self, raw: str | None) -> None:
        if raw and raw != self._version_raw:
            try:
                self._version = SyncthingVersion.parse(raw)
                self._version_raw = raw
            except ValueError:
                _LOGGER.debug("ignoring unparsable X-Syncthing-Version %r", raw)

    async def ensure_version(self) -> SyncthingVersion:
        """Return the connected version, asking ``/rest/system/version`` if no response told it yet."""
        if self._version is None:
            info = await self.request("GET", "/rest/system/version", decoder=_VERSION_DECODER)
            self._learn_version(info.version)
            if self._version is None:
                raise SyncthingDecodeError("GET /rest/system/version", f"unparsable version {info.version!r}")
        return self._version

    async def require(self, endpoint: str, *, since: str | None = None, until: str | None = None) -> None:
        """Raise :class:`UnsupportedError` unless ``since <= version < until``."""
        version = await self.ensure_version()
        if since is not None and version < since:
            raise UnsupportedError(
                f"{endpoint} needs Syncthing {since} or newer; connected Syncthing is {version}",
                endpoint=endpoint,
                version=str(version),
                since=since,
            )
        if until is not None and version >= until:
            raise UnsupportedError(
                f"{endpoint} was removed in Syncthing {until}; connected Syncthing is {version}",
                endpoint=endpoint,
                version=str(version),
                until=until,
            )

    # -- requests ------------------------------------------------------------------------
    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, object] | None = ...,
        json: object = ...,
        data: bytes | str | None = ...,
        decoder: msgspec.json.Decoder[T],
        expect: Literal["json"] = ...,
        timeout: float | None = ...,
    ) -> T: ...

    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, object] | None = ...,
        json: object = ...,
        data: bytes | str | None = ...,
        decoder: None = ...,
        expect: Literal["json"] = ...,
        timeout: float | None = ...,
    ) -> Any: ...

    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, object] | None = ...,
        json: object = ...,
        data: bytes | str | None = ...,
        decoder: None = ...,
        expect: Literal["text"],
        timeout: float | None = ...,
    ) -> str: ...

    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, object] | None = ...,
        json: object = ...,
        data: bytes | str | None = ...,
        decoder: None = ...,
        expect: Literal["bytes"],
        timeout: float | None = ...,
    ) -> bytes: ...

    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, object] | None = ...,
        json: object = ...,
        data: bytes | str | None = ...,
        decoder: None = ...,
        expect: Literal["none"],
        timeout: float | None = ...,
    ) -> None: ...

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, object] | None = None,
        json: object = None,
        data: bytes | str | None = None,
        decoder: msgspec.json.Decoder[Any] | None = None,
        expect: Expect = "json",
        timeout: float | None = None,
    ) -> Any:
        """Send one request and decode the answer; see the module docs for error mapping."""
        body: bytes | None
        headers = self._headers
        if json is not None:
            body = msgspec.json.encode(json)
            headers = {**headers, "Content-Type": "application/json"}
        elif data is not None:
            body = data.encode() if isinstance(data, str) else data
            headers = {**headers, "Content-Type": "text/plain; charset=utf-8"}
        else:
            body = None
        _status, payload = await self._send(method, path, params, body, headers, timeout)
        if expect == "none":
            return None
        if expect == "bytes":
            return payload
        if expect == "text":
            return payload.decode("utf-8", "replace")
        try:
            if decoder is not None:
                return decoder.decode(payload)
            return _ANY_DECODER.decode(payload) if payload.strip() else None
        except DECODE_ERRORS as err:
            raise SyncthingDecodeError(
                f"{method} {path}", str(err), payload[:200].decode("utf-8", "replace")
            ) from err

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, object] | None,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: float | None,
    ) -> tuple[int, bytes]:
        session = self._get_session()
        target = self._target
        url = target.origin.with_path(target.prefix + path, encoded=True)
        query = encode_params(params)
        total = self._timeout if timeout is None else timeout
        client_timeout = aiohttp.ClientTimeout(total=total)
        retries_left = 1 if method in _IDEMPOTENT else 0
        redirects = 0
        started = time.perf_counter()
        while True:
            try:
                async with session.request(
                    method,
                    url,
                    params=query,
                    data=body,
                    headers=headers,
                    ssl=self._ssl,
                    timeout=client_timeout,
                    allow_redirects=False,
                    raise_for_status=False,
                ) as resp:
                    payload = await resp.read()
                    status = resp.status
                    self._learn_version(resp.headers.get("X-Syncthing-Version"))
                    location = resp.headers.get("Location")
            except aiohttp.ServerDisconnectedError as err:
                # A pooled keep-alive connection Syncthing already closed: retry idempotent calls once.
                if retries_left:
                    retries_left -= 1
                    continue
                raise SyncthingConnectionError(
                    f"{method} {target.display}{path}: server disconnected"
                ) from err
            except TimeoutError as err:
                raise SyncthingTimeoutError(
                    f"{method} {target.display}{path}: no answer within {total:g} s"
                ) from err
            except aiohttp.ServerFingerprintMismatch as err:
                await _let_transports_close()
                raise SyncthingConnectionError(
                    f"{method} {target.display}{path}: certificate does not match the pinned "
                    f"fingerprint (got {err.got.hex().upper()})"
                ) from err
            except aiohttp.ClientSSLError as err:
                await _let_transports_close()
                raise SyncthingConnectionError(
                    f"{method} {target.display}{path}: TLS failed: {err}. Syncthing's GUI certificate"
                    " is self-signed: pin it with fingerprint=... (see load_fingerprint)"
                ) from err
            except (aiohttp.ClientError, OSError) as err:
                raise SyncthingConnectionError(
                    f"{method} {target.display}{path}: {type(err).__name__}: {err}"
                ) from err
            if _LOGGER.isEnabledFor(logging.DEBUG):
                _LOGGER.debug(
                    "%s %s -> %d (%.1f ms, %d bytes)",
                    method,
                    path,
                    status,
                    (time.perf_counter() - started) * 1000,
                    len(payload),
                )
            if 300 <= status < 400 and location:
                url = self._follow(url, location, method, path, status)
                redirects += 1
                if redirects > _MAX_REDIRECTS:
                    raise SyncthingAPIError(status, method, target.display + path, "too many redirects")
                continue
            if status >= 400 or 300 <= status < 400:
                raise error_for_status(
                    status, method, target.display + path, payload.decode("utf-8", "replace")
                )
            return status, payload

    def _follow(self, current: URL, location: str, method: str, path: str, status: int) -> URL:
        """Resolve a redirect; only the same host and port (an http->https upgrade included) is followed."""
        nxt = current.join(URL(location))
        if nxt.host != current.host or nxt.port != current.port:
            raise SyncthingAPIError(
                status,
                method,
                self._target.display + path,
                f"refusing to follow a redirect to another host ({nxt.host}): the API key stays here",
            )
        return nxt


async def _let_transports_close() -> None:
    """Give the loop one turn so transports aiohttp just closed (a failed TLS handshake, a pin
    mismatch, the pool) finish closing, even if the caller's loop ends right after."""
    await asyncio.sleep(0)


class Namespace:
    """Base of the endpoint namespaces: holds the shared :class:`SessionCore`."""

    __slots__ = ("_core",)

    def __init__(self, core: SessionCore) -> None:
        self._core = core
