"""syncthing_async: the asyncio-native, fully typed client for the Syncthing REST API."""

from typing import TYPE_CHECKING, Any

from ._client import SyncthingClient
from ._deviceid import DeviceID
from ._discovery import LocalConfig, discover_local
from ._exceptions import (
    AuthenticationError,
    AuthReason,
    BadRequestError,
    ConfigNotFoundError,
    InvalidArgumentError,
    InvalidDeviceIDError,
    NotFoundError,
    RedirectRefusedError,
    ResponseTooLargeError,
    ServerError,
    SyncthingAPIError,
    SyncthingClosedError,
    SyncthingConnectionError,
    SyncthingDecodeError,
    SyncthingError,
    SyncthingTimeoutError,
    UnsupportedError,
)
from ._helpers import ProgressCallback, SyncProgress
from ._tls import fingerprint_from_pem, load_fingerprint
from ._version import __version__
from ._versioning import SyncthingVersion
from .events import Backoff, ConnectionState, EventCursor, EventListener, EventStream
from .mirror import StateMirror
from .models.events import Event, EventsSkipped, StreamReset, UnknownEvent

if TYPE_CHECKING:
    from ._endpoints import ENDPOINTS, Endpoint

__all__ = [
    "ENDPOINTS",
    "AuthReason",
    "AuthenticationError",
    "Backoff",
    "BadRequestError",
    "ConfigNotFoundError",
    "ConnectionState",
    "DeviceID",
    "Endpoint",
    "Event",
    "EventCursor",
    "EventListener",
    "EventStream",
    "EventsSkipped",
    "InvalidArgumentError",
    "InvalidDeviceIDError",
    "LocalConfig",
    "NotFoundError",
    "ProgressCallback",
    "RedirectRefusedError",
    "ResponseTooLargeError",
    "ServerError",
    "StateMirror",
    "StreamReset",
    "SyncProgress",
    "SyncthingAPIError",
    "SyncthingClient",
    "SyncthingClosedError",
    "SyncthingConnectionError",
    "SyncthingDecodeError",
    "SyncthingError",
    "SyncthingTimeoutError",
    "SyncthingVersion",
    "UnknownEvent",
    "UnsupportedError",
    "__version__",
    "discover_local",
    "fingerprint_from_pem",
    "load_fingerprint",
]


def __getattr__(name: str) -> Any:
    """``ENDPOINTS`` and ``Endpoint`` (tooling) load the endpoint spec on first access."""
    if name in ("ENDPOINTS", "Endpoint"):
        from . import _endpoints

        return getattr(_endpoints, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
