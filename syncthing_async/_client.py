"""The public client: lifecycle, namespaces and the event stream."""

from __future__ import annotations

import ssl
from functools import cached_property
from typing import TYPE_CHECKING, Self

import aiohttp

from ._aio import AsyncContext
from ._core import DEFAULT_MAX_RESPONSE_SIZE, SessionCore
from ._discovery import discover_local
from ._exceptions import NotFoundError, SyncthingAPIError
from ._generated.namespaces import (
    ClusterAPI,
    ConfigAPI,
    DbAPI,
    DebugAPI,
    FolderAPI,
    NoauthAPI,
    StatsAPI,
    SvcAPI,
    SystemAPI,
)
from ._versioning import SyncthingVersion

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._deviceid import DeviceID
    from ._helpers import ProgressCallback, SyncProgress
    from .events import EventsAPI

__all__ = ["SyncthingClient"]


class SyncthingClient(AsyncContext):
    """Async client for one Syncthing instance.

    ``url`` may be ``http://host:port``, ``https://host:port``, a reverse-proxy prefix such as
    ``https://host/syncthing/``, or ``unix:///path/to/gui.sock``. Pass your own ``session`` to share
    an ``aiohttp.ClientSession`` (it is never closed by this client); otherwise one is created
    lazily inside the running loop and closed by :meth:`close` or ``async with``.
    TLS is verified by default; ``fingerprint`` pins Syncthing's self-signed certificate
    (SHA-256, hex with or without colons; see :func:`load_fingerprint`). ``max_response_size``
    caps one response body (default 64 MiB; ``None``: no cap): a larger answer stops the read
    and raises :class:`ResponseTooLargeError`. Bad arguments raise :class:`InvalidArgumentError`.
    """

    def __init__(
        self,
        url: str = "http://127.0.0.1:8384",
        api_key: str | None = None,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        ssl: bool | ssl.SSLContext = True,
        fingerprint: str | None = None,
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
    ) -> None:
        self._core = SessionCore(
            url,
            api_key,
            session=session,
            timeout=timeout,
            ssl=ssl,
            fingerprint=fingerprint,
            max_response_size=max_response_size,
        )

    @classmethod
    async def from_local(
        cls,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        env: dict[str, str] | None = None,
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
    ) -> Self:
        """Connect to the local Syncthing found through its ``config.xml`` (see README)."""
        found = await discover_local(env)
        return cls(
            found.url,
            found.api_key,
            session=session,
            timeout=timeout,
            fingerprint=found.fingerprint,
            max_response_size=max_response_size,
        )

    def __repr__(self) -> str:
        key = "<set>" if self._core.has_api_key else None
        return f"{type(self).__name__}(url={self._core.url!r}, api_key={key})"

    __str__ = __repr__

    # -- lifecycle -----------------------------------------------------------------------
    async def _exit(self) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the client; a borrowed session stays open. Idempotent."""
        await self._core.close()

    @property
    def closed(self) -> bool:
        """True once the client was closed."""
        return self._core.closed

    @property
    def url(self) -> str:
        """The base URL (never with credentials)."""
        return self._core.url

    def set_api_key(self, api_key: str | None) -> None:
        """Use another API key from now on (e.g. after a re-auth flow)."""
        self._core.set_api_key(api_key)

    # -- version -------------------------------------------------------------------------
    @property
    def syncthing_version(self) -> SyncthingVersion | None:
        """The connected Syncthing's version once known (every response carries it)."""
        return self._core.version

    async def get_syncthing_version(self) -> SyncthingVersion:
        """The connected Syncthing's version, asking the server if it is not known yet."""
        return await self._core.ensure_version()

    async def health(self) -> bool:
        """True when Syncthing answers: ``/rest/noauth/health`` (1.22.1+) or ``/rest/system/ping``."""
        version = await self._core.ensure_version()
        if version >= "1.22.1":
            try:
                status = await self._core.request("GET", "/rest/noauth/health")
            except NotFoundError:
                pass
            else:
                return isinstance(status, dict) and status.get("status") == "OK"
        try:
            pong = await self._core.request("GET", "/rest/system/ping")
        except SyncthingAPIError:
            return False
        return isinstance(pong, dict) and pong.get("ping") == "pong"

    # -- waiting helpers (race-free: subscribe, read state, then act) ----------------------
    async def wait_for_idle(self, folder: str, *, timeout: float | None = None) -> None:
        """Return once ``folder`` is idle; ``SyncthingTimeoutError`` after ``timeout`` s."""
        from ._helpers import wait_for_idle

        await wait_for_idle(self, folder, timeout=timeout)

    async def wait_for_sync(
        self,
        folder: str,
        device: DeviceID | str | None = None,
        *,
        timeout: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> SyncProgress:
        """Return once ``folder`` is in sync locally (or on ``device``); ``progress`` sees each change."""
        from ._helpers import wait_for_sync

        return await wait_for_sync(self, folder, device, timeout=timeout, progress=progress)

    async def scan_and_wait(
        self, folder: str, sub: Sequence[str] | str | None = None, *, timeout: float | None = None
    ) -> None:
        """Rescan ``folder`` (or ``sub`` paths) and return once it is idle again."""
        from ._helpers import scan_and_wait

        await scan_and_wait(self, folder, sub, timeout=timeout)

    # -- namespaces ----------------------------------------------------------------------
    @cached_property
    def system(self) -> SystemAPI:
        """``/rest/system/*``."""
        return SystemAPI(self._core)

    @cached_property
    def config(self) -> ConfigAPI:
        """``/rest/config/*`` (with ``.folders``, ``.devices``, ``.defaults``, ``.options``, ...)."""
        return ConfigAPI(self._core)

    @cached_property
    def cluster(self) -> ClusterAPI:
        """``/rest/cluster/*``."""
        return ClusterAPI(self._core)

    @cached_property
    def db(self) -> DbAPI:
        """``/rest/db/*``."""
        return DbAPI(self._core)

    @cached_property
    def folder(self) -> FolderAPI:
        """``/rest/folder/*``."""
        return FolderAPI(self._core)

    @cached_property
    def stats(self) -> StatsAPI:
        """``/rest/stats/*``."""
        return StatsAPI(self._core)

    @cached_property
    def svc(self) -> SvcAPI:
        """``/rest/svc/*``."""
        return SvcAPI(self._core)

    @cached_property
    def noauth(self) -> NoauthAPI:
        """``/rest/noauth/*``."""
        return NoauthAPI(self._core)

    @cached_property
    def debug(self) -> DebugAPI:
        """``/rest/debug/*``."""
        return DebugAPI(self._core)

    @cached_property
    def events(self) -> EventsAPI:
        """The event stream (``/rest/events`` and ``/rest/events/disk``)."""
        from .events import EventsAPI

        return EventsAPI(self._core)
