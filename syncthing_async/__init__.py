"""syncthing_async: the asyncio-native, fully typed client for the Syncthing REST API."""

from ._client import SyncthingClient
from ._discovery import LocalConfig, discover_local
from ._exceptions import (
    AuthenticationError,
    AuthReason,
    BadRequestError,
    ConfigNotFoundError,
    InvalidDeviceIDError,
    NotFoundError,
    ServerError,
    SyncthingAPIError,
    SyncthingClosedError,
    SyncthingConnectionError,
    SyncthingDecodeError,
    SyncthingError,
    SyncthingTimeoutError,
    UnsupportedError,
)
from ._tls import fingerprint_from_pem, load_fingerprint
from ._version import __version__
from ._versioning import SyncthingVersion

__all__ = [
    "AuthReason",
    "AuthenticationError",
    "BadRequestError",
    "ConfigNotFoundError",
    "InvalidDeviceIDError",
    "LocalConfig",
    "NotFoundError",
    "ServerError",
    "SyncthingAPIError",
    "SyncthingClient",
    "SyncthingClosedError",
    "SyncthingConnectionError",
    "SyncthingDecodeError",
    "SyncthingError",
    "SyncthingTimeoutError",
    "SyncthingVersion",
    "UnsupportedError",
    "__version__",
    "discover_local",
    "fingerprint_from_pem",
    "load_fingerprint",
]
