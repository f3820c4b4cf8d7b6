"""Exceptions raised by syncthing_async.

Every exception is a :class:`SyncthingError`::

    SyncthingError
    ├── SyncthingConnectionError       refused, reset, DNS, TLS, pin mismatch (wraps aiohttp/OSError)
    │   ├── SyncthingTimeoutError      also a builtin TimeoutError
    │   └── ResponseTooLargeError      the answer passed the client's max_response_size
    ├── SyncthingAPIError              HTTP status >= 400: .status .method .url .body
    │   ├── RedirectRefusedError       a 3xx the client will not follow: .location
    │   ├── BadRequestError            400
    │   ├── AuthenticationError        401/403: .reason tells a wrong key from GUI auth and host check
    │   ├── NotFoundError              404
    │   └── ServerError                5xx
    ├── UnsupportedError               the connected Syncthing is too old or too new for the endpoint
    ├── SyncthingDecodeError           a payload that does not fit its model
    ├── InvalidArgumentError           also a ValueError; bad input caught before any request
    │   └── InvalidDeviceIDError       a device ID failing its length, alphabet or check characters
    ├── SyncthingClosedError           the client was used after close()
    └── ConfigNotFoundError            local discovery found no Syncthing config.xml

``asyncio.CancelledError`` is never wrapped.
"""

from __future__ import annotations

import enum
import re
from typing import ClassVar

__all__ = [
    "AuthReason",
    "AuthenticationError",
    "BadRequestError",
    "ConfigNotFoundError",
    "InvalidArgumentError",
    "InvalidDeviceIDError",
    "NotFoundError",
    "RedirectRefusedError",
    "ResponseTooLargeError",
    "ServerError",
    "SyncthingAPIError",
    "SyncthingClosedError",
    "SyncthingConnectionError",
    "SyncthingDecodeError",
    "SyncthingError",
    "SyncthingTimeoutError",
    "UnsupportedError",
    "error_for_status",
]

_BODY_LIMIT = 500
_SECRET = re.compile(r'("(?:apiKey|password)"\s*:\s*")[^"]*')


def redact(text: str) -> str:
    """Hide the values of ``apiKey``/``password`` keys in a JSON excerpt."""
    return _SECRET.sub(r"\1<redacted>", text)


class SyncthingError(Exception):
    """Base class of every error raised by this library."""


class SyncthingConnectionError(SyncthingError):
    """The Syncthing API could not be reached (refused, reset, DNS, TLS or pin failure).

    ``.detail`` says what happened in plain words, without the URL (e.g. ``connection lost
    while reading the answer``).
    """

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail or message

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), str(self), {"detail": self.detail}))


def _rebuild(cls: type[SyncthingConnectionError], message: str, kwargs: dict[str, object]) -> Exception:
    return cls(message, **kwargs)  # type: ignore[arg-type]


class SyncthingTimeoutError(SyncthingConnectionError, TimeoutError):
    """A request did not complete within its timeout."""


class ResponseTooLargeError(SyncthingConnectionError):
    """The answer grew past the client's ``max_response_size``; the read stopped there."""

    def __init__(self, message: str, *, limit: int = 0, detail: str = "") -> None:
        super().__init__(message, detail=detail or "the answer is larger than max_response_size")
        self.limit = limit

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), str(self), {"limit": self.limit, "detail": self.detail}))


class SyncthingClosedError(SyncthingError):
    """The client was closed, or the aiohttp session it was lent was closed by its owner."""


class ConfigNotFoundError(SyncthingError):
    """Local discovery found no usable Syncthing ``config.xml``; ``.searched`` lists the paths."""

    def __init__(self, message: str, searched: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.searched = searched


class InvalidArgumentError(SyncthingError, ValueError):
    """Bad input found locally, before any request: an id that is no path segment, a bad URL or key."""


class InvalidDeviceIDError(InvalidArgumentError):
    """A device ID failed local validation (length, alphabet or check characters)."""


class UnsupportedError(SyncthingError):
    """The connected Syncthing does not provide this endpoint (too old or too new)."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        version: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.version = version
        self.since = since
        self.until = until


class SyncthingDecodeError(SyncthingError):
    """A response did not fit its model: ``.endpoint``, ``.detail`` (with the field path), ``.excerpt``."""

    def __init__(self, endpoint: str, detail: str, excerpt: str = "") -> None:
        self.endpoint = endpoint
        self.detail = detail
        self.excerpt = redact(excerpt[:200])
        msg = f"cannot decode response of {endpoint}: {detail}"
        if self.excerpt:
            msg += f" (payload starts {self.excerpt!r})"
        super().__init__(msg)


_STATUS_ERRORS: dict[int, type[SyncthingAPIError]] = {}


class SyncthingAPIError(SyncthingError):
    """Syncthing answered with an HTTP error status; ``.body`` is Syncthing's own one-line message."""

    statuses: ClassVar[tuple[int, ...]] = ()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        for status in cls.statuses:
            _STATUS_ERRORS[status] = cls

    def __init__(self, status: int, method: str, url: str, body: str) -> None:
        self.status = status
        self.method = method
        self.url = url
        self.body = body.strip()[:_BODY_LIMIT]
        text = f"{method} {url} -> HTTP {status}"
        if self.body:
            text += f": {self.body}"
        super().__init__(text)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.status, self.method, self.url, self.body))


class RedirectRefusedError(SyncthingAPIError):
    """A 3xx answer the client will not follow (a write, another host, https to http); ``.location``."""

    def __init__(self, status: int, method: str, url: str, body: str, location: str = "") -> None:
        super().__init__(status, method, url, body)
        self.location = location

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.status, self.method, self.url, self.body, self.location))


class BadRequestError(SyncthingAPIError):
    """HTTP 400: Syncthing rejected the request (malformed id, body or parameter)."""

    statuses = (400,)


class AuthReason(enum.StrEnum):
    """Why Syncthing refused the credentials."""

    BAD_API_KEY = "bad_api_key"
    """``CSRF Error``: missing or wrong API key (GUI auth off)."""
    GUI_AUTH = "gui_auth"
    """``Forbidden``/``Not Authorized``: GUI authentication is on and the key was not accepted."""
    HOST_CHECK = "host_check"
    """``Host check error``: the Host header is not a loopback name."""
    DEBUGGING_DISABLED = "debugging_disabled"
    """``Debugging disabled``: a debug endpoint on Syncthing 1.x without ``gui.debugging``."""
    OTHER = "other"


class AuthenticationError(SyncthingAPIError):
    """HTTP 401/403: Syncthing refused the credentials; ``.reason`` says which check failed."""

    statuses = (401, 403)

    @property
    def reason(self) -> AuthReason:
        """Which of Syncthing's checks refused the request."""
        body = self.body.lower()
        if "csrf" in body:
            return AuthReason.BAD_API_KEY
        if "host check" in body:
            return AuthReason.HOST_CHECK
        if "debugging disabled" in body:
            return AuthReason.DEBUGGING_DISABLED
        if "forbidden" in body or "not authorized" in body or self.status == 401:
            return AuthReason.GUI_AUTH
        return AuthReason.OTHER


class NotFoundError(SyncthingAPIError):
    """HTTP 404: unknown folder, device, file or path."""

    statuses = (404,)


class ServerError(SyncthingAPIError):
    """HTTP 5xx: Syncthing failed to carry out the request (its message is in ``.body``)."""

    statuses = (500, 501, 502, 503, 504)


def error_for_status(status: int, method: str, url: str, body: str) -> SyncthingAPIError:
    """Build the exception class that matches an HTTP error status."""
    cls = _STATUS_ERRORS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else SyncthingAPIError
    return cls(status, method, url, body)
