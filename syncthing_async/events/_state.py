"""Observable connection state of event streams and listeners."""

from __future__ import annotations

import enum

__all__ = ["ConnectionState"]


class ConnectionState(enum.StrEnum):
    """Connection state of an event stream or listener."""

    CONNECTED = "connected"
    """The last request to Syncthing succeeded."""
    DISCONNECTED = "disconnected"
    """Not connected: not started yet, stopped, or the connection just failed."""
    RECONNECTING = "reconnecting"
    """Waiting out the backoff or retrying after a failure."""
    AUTH_FAILED = "auth_failed"
    """Syncthing refused the API key; nothing is retried until ``reconnect()``."""
    CLOSED = "closed"
    """The client, or the aiohttp session lent to it, was closed: polling stopped for good."""
