"""``client.events``: the entry point to Syncthing's event stream."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..models.events import Event, decode_events
from ._backoff import Backoff
from ._cursor import EventCursor
from ._listener import EventListener
from ._state import ConnectionState
from ._stream import EventStream, TypesArg

if TYPE_CHECKING:
    from .._core import SessionCore

__all__ = ["EventsAPI"]


class EventsAPI:
    """Event stream factory bound to one client (``client.events``)."""

    __slots__ = ("_core",)

    def __init__(self, core: SessionCore) -> None:
        self._core = core

    def stream(
        self,
        types: TypesArg = None,
        *,
        disk: bool = False,
        since: int | EventCursor | None = None,
        poll_timeout: int = 60,
        read_margin: float = 10.0,
        backoff: Backoff | None = None,
        max_retries: int | None = None,
        validate: bool = True,
        identity_check_after: float = 1.0,
        on_state: Callable[[ConnectionState], None] | None = None,
    ) -> EventStream:
        """An async iterator of typed events (and EventsSkipped / StreamReset markers).

        ``types`` filters on the client (names or event classes; None = all). ``disk=True``
        follows ``/rest/events/disk`` (LocalChangeDetected, RemoteChangeDetected).
        ``since``: None = only new events; 0 = everything Syncthing still buffers; an id; or a
        saved :class:`EventCursor` to resume with no loss and no replay. ``poll_timeout`` is the
        server-side long-poll in whole seconds; the HTTP timeout is ``poll_timeout + read_margin``.
        Transient failures are retried with ``backoff`` (forever unless ``max_retries``);
        AuthenticationError and other 4xx are raised. With ``validate`` (default) each payload is
        decoded before it is yielded and one that does not fit becomes an UnknownEvent; with
        ``validate=False`` payloads are decoded on first access of ``.data``, which then raises
        SyncthingDecodeError for a misfit. Before a poll that follows a pause of more than
        ``identity_check_after`` seconds (or any failure), ``/rest/system/status`` is checked so a
        Syncthing restart in between is noticed before stale ids can hide it.
        """
        return EventStream(
            self._core,
            types,
            disk=disk,
            since=since,
            poll_timeout=poll_timeout,
            read_margin=read_margin,
            backoff=backoff,
            max_retries=max_retries,
            validate=validate,
            identity_check_after=identity_check_after,
            on_state=on_state,
        )

    def listener(
        self,
        *,
        since: EventCursor | Iterable[EventCursor] | None = None,
        poll_timeout: int = 60,
        read_margin: float = 10.0,
        backoff: Backoff | None = None,
        buffer_size: int = 256,
    ) -> EventListener:
        """A callback/iterator fan-out over shared long polls (start it, or ``async with`` it)."""
        return EventListener(
            self._core,
            since=since,
            poll_timeout=poll_timeout,
            read_margin=read_margin,
            backoff=backoff,
            buffer_size=buffer_size,
        )

    async def get(
        self, *, since: int = 0, limit: int | None = None, timeout: int = 0, disk: bool = False
    ) -> list[Event[Any]]:
        """One raw call of ``/rest/events`` (or ``/rest/events/disk``); payloads decode lazily.

        No gap, restart or retry handling: use :meth:`stream` for that.
        """
        if since < 0:
            raise ValueError("since must be >= 0 (a negative since returns padding)")
        if not isinstance(timeout, int) or timeout < 0:
            raise ValueError("timeout must be a whole number of seconds >= 0")
        raw = await self._core.request(
            "GET",
            "/rest/events/disk" if disk else "/rest/events",
            params={"since": since, "limit": limit, "timeout": timeout},
            expect="bytes",
            timeout=timeout + 10.0,
        )
        return [e for e in decode_events(raw) if e.id > 0]
