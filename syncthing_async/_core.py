"""The session core shared by every endpoint coroutine: URL handling, auth, errors and decoding."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import ssl
import time
from collections.abc import Mapping
from typing import Any, Final, Literal, TypeVar, overload
from urllib.parse import quote as _quote
from urllib.parse import urlsplit

import aiohttp
import anyio
import msgspec
from yarl import URL

from ._exceptions import (
    InvalidArgumentError,
    RedirectRefusedError,
    ResponseTooLargeError,
    SyncthingClosedError,
    SyncthingConnectionError,
    SyncthingDecodeError,
    SyncthingError,
    SyncthingTimeoutError,
    UnsupportedError,
    error_for_status,
)
from ._tls import ssl_for_request
from ._versioning import SyncthingVersion
from .models._base import DECODE_ERRORS

__all__ = ["DEFAULT_MAX_RESPONSE_SIZE", "Namespace", "SessionCore", "encode_params", "quote"]

_LOGGER = logging.getLogger("syncthing_async")

T = TypeVar("T")
Expect = Literal["json", "text", "bytes", "none"]

#: Syncthing closes idle keep-alive connections after 15 s; stay below that.
KEEPALIVE_TIMEOUT: Final = 10.0
#: Default cap on one response body: far above the largest real answers (a ``db/browse`` of a
#: 100,000-file folder is about 16 MiB), low enough that a hostile server cannot exhaust memory.
DEFAULT_MAX_RESPONSE_SIZE: Final = 64 * 1024 * 1024
_IDEMPOTENT: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
#: Only reads follow redirects; a write is never re-sent anywhere (see ``SessionCore._follow``).
_FOLLOWS_REDIRECTS: Final = frozenset({"GET", "HEAD"})
_MAX_REDIRECTS: Final = 3
_WARNED_PLAIN_HTTP: set[str] = set()


class _VersionOnly(msgspec.Struct):
    version: str


_VERSION_DECODER: Final = msgspec.json.Decoder(_VersionOnly)
_ANY_DECODER: Final = msgspec.json.Decoder()


def quote(segment: str, what: str = "id") -> str:
    """Quote one id as a URL path segment; refuse ids a server would clean into another route.

    Go's HTTP router decodes ``%2F`` and cleans ``.``/``..`` segments, then redirects to the cleaned
    path: ``folders/..`` becomes ``/rest/config``. So an empty id, ``.``, ``..`` or one with ``/``
    can never name an object and is refused here, before any request.
    """
    if not isinstance(segment, str):
        raise InvalidArgumentError(f"{what} must be a string, not {type(segment).__name__}")
    if segment in ("", ".", "..") or "/" in segment:
        raise InvalidArgumentError(
            f"{what} {segment!r} cannot be used in a URL path: Syncthing would route it elsewhere "
            "or not at all (an id in a path must not be empty, '.', '..' or contain '/')"
        )
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
        if not isinstance(url, str) or not url.strip():
            raise InvalidArgumentError("url must be a non-empty string such as http://127.0.0.1:8384")
        url = url.strip()
        if "://" not in url:
            raise InvalidArgumentError(
                f"URL {url!r} has no scheme: write http://{url} (or https://, unix://)"
            )
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as err:
            raise InvalidArgumentError(f"invalid URL {url!r}: {err}") from None
        scheme = parts.scheme.lower()
        self.unix_path: str | None = None
        if scheme in ("unix", "unixs"):
            if not parts.path:
                raise InvalidArgumentError("unix socket URL needs a path: unix:///path/to/socket")
            self.unix_path = parts.path
            # Syncthing's host check accepts "localhost" for any listener.
            self.origin = URL.build(scheme="https" if scheme == "unixs" else "http", host="localhost")
            self.prefix = ""
            self.display = f"{scheme}://{parts.path}"
            return
        if scheme not in ("http", "https"):
            raise InvalidArgumentError(
                f"unsupported URL scheme {parts.scheme!r}: use http://, https:// or unix://"
            )
        host = parts.hostname
        if not host:
            raise InvalidArgumentError(f"URL has no host: write {scheme}://HOST:PORT")
        self.origin = URL.build(scheme=scheme, host=host, port=port)
        self.prefix = parts.path.rstrip("/")
        # Never show credentials embedded in the URL.
        self.display = str(self.origin) + self.prefix

    @property
    def is_loopback(self) -> bool:
        """A unix socket, ``localhost`` or a loopback IP address (judged by :mod:`ipaddress`)."""
        if self.unix_path is not None:
            return True
        host = (self.origin.host or "").strip("[]").lower().rstrip(".")
        if host == "localhost" or host.endswith(".localhost"):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False


def _check_api_key(api_key: str | None) -> str | None:
    if api_key is None or api_key == "":
        return None
    if not isinstance(api_key, str):
        raise InvalidArgumentError(f"api_key must be a string, not {type(api_key).__name__}")
    if any(not (" " < ch < "\x7f") for ch in api_key):
        raise InvalidArgumentError(
            "api_key contains a control, space or non-ASCII character (a copy-paste slip?): "
            "copy it again from Syncthing's GUI settings or config.xml"
        )
    return api_key


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
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
    ) -> None:
        target = self._target = _Target(url)
        self._api_key = _check_api_key(api_key)
        https = target.origin.scheme == "https"
        if fingerprint is not None and not https:
            raise InvalidArgumentError(
                f"fingerprint= pins a TLS certificate, but {target.display} is not https: "
                "use an https:// (or unixs://) URL, or drop fingerprint="
            )
        if fingerprint is not None and ssl is False:
            raise InvalidArgumentError(
                "fingerprint= and ssl=False contradict each other: the pin is the verification; "
                "drop ssl=False"
            )
        if session is not None and target.unix_path is not None:
            connector = session.connector
            if not isinstance(connector, aiohttp.UnixConnector) or connector.path != target.unix_path:
                raise InvalidArgumentError(
                    f"{target.display} needs a session whose connector is "
                    f"aiohttp.UnixConnector(path={target.unix_path!r}); or pass no session"
                )
        if max_response_size is not None and max_response_size <= 0:
            raise InvalidArgumentError("max_response_size must be a positive number of bytes, or None")
        try:
            self._ssl = ssl_for_request(ssl, fingerprint)
        except ValueError as err:
            raise InvalidArgumentError(str(err)) from None
        self._session = session
        self._owns_session = session is None
        self._timeout = timeout
        self._max_response_size = max_response_size
        self._closed = False
        self._inflight: set[anyio.CancelScope] = set()
        self._version: SyncthingVersion | None = None
        self._version_raw = ""
        self._headers: dict[str, str] = {"X-API-Key": self._api_key} if self._api_key else {}
        host = target.origin.host or ""
        if self._api_key and not https and not target.is_loopback and host not in _WARNED_PLAIN_HTTP:
            _WARNED_PLAIN_HTTP.add(host)
            _LOGGER.warning(
                "the Syncthing API key goes over plain HTTP to %s; use https:// with fingerprint=... "
                "to protect it (logged once per host)",
                host,
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
    def max_response_size(self) -> int | None:
        """Largest response body read, in bytes (``None``: no limit)."""
        return self._max_response_size

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
        self._api_key = _check_api_key(api_key)
        self._headers = {"X-API-Key": self._api_key} if self._api_key else {}

    # -- session lifecycle ---------------------------------------------------------------
    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise SyncthingClosedError("the Syncthing client is closed")
        session = self._session
        if session is not None and session.closed:
            raise SyncthingClosedError(
                "the aiohttp session lent to this Syncthing client was closed by its owner"
            )
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
        """End this client's requests in flight (they raise SyncthingClosedError) and close the
        owned session (a borrowed one is left open); idempotent."""
        self._closed = True
        for scope in list(self._inflight):
            scope.cancel()
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
        scope = anyio.CancelScope()
        inflight = self._inflight
        inflight.add(scope)
        try:
            with scope:
                _status, payload = await self._send(method, path, params, body, headers, timeout)
        finally:
            inflight.discard(scope)
        if scope.cancelled_caught:
            raise SyncthingClosedError(f"{method} {path}: the Syncthing client was closed during the request")
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
        query: list[tuple[str, str]] | None = encode_params(params)
        total = self._timeout if timeout is None else timeout
        client_timeout = aiohttp.ClientTimeout(total=total)
        retries_left = 1 if method in _IDEMPOTENT else 0
        redirects = 0
        started = time.perf_counter()
        while True:
            failure: SyncthingError | None = None
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
                    payload = await self._read_body(resp, method, path)
                    status = resp.status
                    self._learn_version(resp.headers.get("X-Syncthing-Version"))
                    location = resp.headers.get("Location")
            except aiohttp.ServerDisconnectedError:
                # A pooled keep-alive connection Syncthing already closed: retry idempotent calls once.
                if retries_left:
                    retries_left -= 1
                    continue
                failure = _connection_error(method, target.display + path, "the server disconnected")
            except TimeoutError:
                failure = SyncthingTimeoutError(
                    f"{method} {target.display}{path}: no answer within {total:g} s",
                    detail=f"no answer within {total:g} s",
                )
            except aiohttp.ServerFingerprintMismatch as err:
                await _let_transports_close()
                failure = _connection_error(
                    method,
                    target.display + path,
                    f"the certificate does not match the pinned fingerprint (got {err.got.hex().upper()})",
                )
            except aiohttp.ClientSSLError as err:
                await _let_transports_close()
                failure = _connection_error(
                    method,
                    target.display + path,
                    f"TLS failed: {err}. Syncthing's GUI certificate is self-signed: pin it with "
                    "fingerprint=... (see load_fingerprint)",
                )
            except (aiohttp.ClientError, OSError) as err:
                failure = _connection_error(method, target.display + path, _describe(err))
            except RuntimeError:
                if not session.closed:
                    raise
                failure = SyncthingClosedError(
                    "the aiohttp session lent to this Syncthing client was closed by its owner"
                )
            if failure is not None:
                # Raised outside the except block: no __cause__/__context__ leads to aiohttp's
                # request_info, whose headers hold the API key.
                raise failure
            if _LOGGER.isEnabledFor(logging.DEBUG):
                _LOGGER.debug(
                    "%s %s -> %d (%.1f ms, %d bytes)",
                    method,
                    path,
                    status,
                    (time.perf_counter() - started) * 1000,
                    len(payload),
                )
            if 300 <= status < 400:
                url = self._follow(url, location, method, path, status)
                query = None  # the Location carries its own query
                redirects += 1
                if redirects > _MAX_REDIRECTS:
                    raise RedirectRefusedError(
                        status, method, target.display + path, "too many redirects", str(url)
                    )
                continue
            if status >= 400:
                raise error_for_status(
                    status, method, target.display + path, payload.decode("utf-8", "replace")
                )
            return status, payload

    async def _read_body(self, resp: aiohttp.ClientResponse, method: str, path: str) -> bytes:
        """Read the whole body, stopping as soon as it passes ``max_response_size``."""
        limit = self._max_response_size
        if limit is None:
            return await resp.read()
        length = resp.content_length
        if length is not None and length <= limit:
            return await resp.read()
        if length is None:
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.content.iter_any():
                size += len(chunk)
                if size > limit:
                    break
                chunks.append(chunk)
            else:
                return b"".join(chunks)
        resp.close()  # drop the connection: the rest of the body is never read
        raise ResponseTooLargeError(
            f"{method} {self._target.display}{path}: the answer is larger than max_response_size "
            f"({limit} bytes); raise the limit with SyncthingClient(max_response_size=...) if it is genuine",
            limit=limit,
        )

    def _follow(self, current: URL, location: str | None, method: str, path: str, status: int) -> URL:
        """Resolve a redirect: only GET/HEAD, only the same host and port, never https to http."""
        display = self._target.display + path
        if not location:
            raise RedirectRefusedError(status, method, display, "redirect without a Location header")
        try:
            nxt = current.join(URL(location))
        except ValueError:
            raise RedirectRefusedError(
                status, method, display, "redirect to an invalid Location", location
            ) from None
        why = ""
        if method not in _FOLLOWS_REDIRECTS:
            why = f"a {method} is never re-sent to another URL"
        elif nxt.host != current.host or nxt.port != current.port:
            why = "the API key never goes to another host or port"
        elif current.scheme == "https" and nxt.scheme != "https":
            why = "the API key never leaves TLS"
        elif nxt.scheme not in ("http", "https"):
            why = f"unsupported scheme {nxt.scheme!r}"
        if why:
            raise RedirectRefusedError(
                status, method, display, f"refused to follow the redirect to {location}: {why}", location
            )
        return nxt


def _connection_error(method: str, where: str, detail: str) -> SyncthingConnectionError:
    return SyncthingConnectionError(f"{method} {where}: {detail}", detail=detail)


def _describe(err: BaseException) -> str:
    """Say in plain words what went wrong on the wire (aiohttp's own texts mislead: 400 is no HTTP status)."""
    if isinstance(err, aiohttp.ClientPayloadError):
        return "connection lost while reading the answer"
    if isinstance(err, aiohttp.ClientConnectorError):
        return f"cannot connect: {err.strerror or err}"
    if isinstance(err, aiohttp.ClientOSError):
        return f"connection error: {err.strerror or err}"
    if isinstance(err, aiohttp.ClientResponseError):
        return f"invalid HTTP answer: {err.message}"
    return f"{type(err).__name__}: {err}"


async def _let_transports_close() -> None:
    """Give the loop one turn so transports aiohttp just closed (a failed TLS handshake, a pin
    mismatch, the pool) finish closing, even if the caller's loop ends right after."""
    await asyncio.sleep(0)


class Namespace:
    """Base of the endpoint namespaces: holds the shared :class:`SessionCore`."""

    __slots__ = ("_core",)

    def __init__(self, core: SessionCore) -> None:
        self._core = core
