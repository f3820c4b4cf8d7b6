"""EventStream: a pull-based async iterator over Syncthing's long-polled event endpoint.

One stream follows one server subscription (``/rest/events`` with the default mask, or
``/rest/events/disk``) and filters event types on the client, so any number of streams and
type sets only ever use those two server subscriptions
(https://docs.syncthing.net/dev/events.html).

What it guarantees:

* every request sends ``timeout=`` and uses an HTTP timeout of ``poll_timeout + read_margin``;
  ``since`` is never negative and id-0 padding is ignored; no event id is yielded twice, also
  when a reply repeats ids or lists them out of order;
* an id gap yields :class:`EventsSkipped` before the next event; so does an event whose
  envelope does not decode (``reason=MALFORMED``);
* a Syncthing restart (new ``startTime``, ids going backwards, ``[]`` while the newest id is
  below ``since``) yields :class:`StreamReset`, then the new process's events from its first;
* connection errors, timeouts, 5xx and malformed replies are retried with jittered
  exponential backoff; :class:`AuthenticationError` and other 4xx are raised (iteration may
  be resumed afterwards, e.g. after ``client.set_api_key()``); :class:`SyncthingClosedError`
  (the client or its session was closed) is raised with the state ``CLOSED``;
* a reply that brings nothing new long before the poll timeout (a server that does not hold
  polls) is paced with the backoff, so a misbehaving server costs little CPU;
* cancellation and :meth:`EventStream.aclose` end an in-flight poll at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Self

from .._aio import AsyncContext
from ..models.events import EventsSkipped, StreamItem, StreamReset
from ._backoff import Backoff
from ._cursor import EventCursor, StreamFilter
from ._engine import (
    RETRYABLE,
    Position,
    StateCallback,
    Subscription,
    TypesArg,
    describe_failure,
    normalize_types,
)
from ._state import ConnectionState

if TYPE_CHECKING:
    from .._core import SessionCore

__all__ = ["EventStream", "TypesArg", "describe_failure", "normalize_types"]


class EventStream(AsyncContext):
    """Async iterator (and async context manager) of events and markers from one subscription.

    Create it with ``client.events.stream(...)``; it does no I/O until entered or iterated. The
    work is done by its :class:`~syncthing_async.events._engine.Subscription`; the stream hands
    out what the engine fetched and remembers the last item handed out (its :attr:`cursor`).
    """

    def __init__(
        self,
        core: SessionCore,
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
        on_state: StateCallback | None = None,
    ) -> None:
        self._engine = Subscription(
            core,
            disk=disk,
            types=types,
            since=since,
            poll_timeout=poll_timeout,
            read_margin=read_margin,
            backoff=backoff,
            max_retries=max_retries,
            validate=validate,
            identity_check_after=identity_check_after,
            auth="raise",
        )
        if on_state is not None:
            self._engine.on_state(on_state)
        # Items to hand out are _items[_i:]. Before the first of a batch is handed out, the
        # position is the engine's (everything fetched was handed out or filtered out).
        self._items: list[StreamItem] = []
        self._i = 0
        self._end: Position | None = None  # where the current batch ends

    # -- settings (the engine's) ---------------------------------------------------------
    @property
    def poll_timeout(self) -> int:
        """Server-side long-poll timeout in whole seconds."""
        return self._engine.poll_timeout

    @property
    def read_margin(self) -> float:
        """Seconds a poll may run past ``poll_timeout`` before it counts as lost."""
        return self._engine.read_margin

    @property
    def backoff(self) -> Backoff:
        """The reconnect backoff."""
        return self._engine.backoff

    @property
    def max_retries(self) -> int | None:
        """Failures in a row before the last one is raised (None: retry forever)."""
        return self._engine.max_retries

    @property
    def validate(self) -> bool:
        """Decode each payload before it is yielded (a misfit becomes UnknownEvent)."""
        return self._engine.validate

    # -- public state --------------------------------------------------------------------
    @property
    def filter(self) -> StreamFilter:
        """The server subscription: ``default`` or ``disk``."""
        return self._engine.filter

    @property
    def types(self) -> frozenset[str] | None:
        """The event types yielded (None: all of the subscription's)."""
        return self._engine.types

    @property
    def state(self) -> ConnectionState:
        """Connection state (see :class:`ConnectionState`)."""
        return self._engine.state

    @property
    def last_error(self) -> BaseException | None:
        """The failure behind the current state (None while things work)."""
        return self._engine.last_error

    def on_state(self, callback: StateCallback) -> Callable[[], None]:
        """Call ``callback(state)`` on each state change; returns an unsubscribe callable."""
        return self._engine.on_state(callback)

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` was called."""
        return self._engine.closed

    def _position(self) -> tuple[Position | None, int]:
        i = self._i
        if i == 0:
            pos = self._engine.position
            return pos, 0 if pos is None else pos.last_id
        item = self._items[i - 1]
        if isinstance(item, StreamReset):
            return self._end, 0
        if isinstance(item, EventsSkipped):
            return self._end, item.last_id
        return self._end, item.id

    @property
    def last_id(self) -> int:
        """The id of the last event handed out (0 before the first)."""
        return self._position()[1]

    @property
    def cursor(self) -> EventCursor | None:
        """Where the stream stands, to save and resume from; None before Syncthing was reached."""
        pos, last_id = self._position()
        if pos is None:
            since = self._engine.since
            return since if isinstance(since, EventCursor) else None
        return pos.cursor(self.filter, last_id)

    # -- iteration -----------------------------------------------------------------------
    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> StreamItem:
        i = self._i
        items = self._items
        if i < len(items):
            self._i = i + 1
            return items[i]
        if self._engine.closed:
            raise StopAsyncIteration
        self._items, self._i = [], 0  # all handed out: the position is the engine's meanwhile
        batch = await self._engine.next_batch()
        if batch is None:
            raise StopAsyncIteration
        self._items, self._end, self._i = batch.items, batch.end, 1
        return batch.items[0]

    async def _enter(self) -> None:
        """With ``since=None``, fix the starting point now: every event Syncthing logs after
        ``async with`` has entered is delivered (subscribe first, then act). If Syncthing cannot be
        reached yet, the first poll does this instead, after reconnecting."""
        engine = self._engine
        if engine.since is None and engine.position is None and not engine.closed:
            try:
                await engine.establish()
            except RETRYABLE:
                pass  # the first poll retries it

    async def _exit(self) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the stream; an in-flight poll (in any task) ends at once. Idempotent."""
        del self._items[self._i :]  # nothing more is handed out; the position stays
        self._engine.close()

    def __repr__(self) -> str:
        return f"<EventStream {self.filter} state={self.state} last_id={self.last_id}>"
