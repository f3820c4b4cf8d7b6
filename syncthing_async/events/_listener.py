"""EventListener: one owned task polls Syncthing and feeds callbacks and bounded per-consumer queues.

* At most one long poll per server subscription (``default``; ``disk`` only if a consumer asks
  for LocalChangeDetected/RemoteChangeDetected), shared by every consumer.
* Every consumer (callback or iterator) has its own bounded anyio memory object stream.
  **Overflow policy**: when a consumer's buffer is full, new items for that consumer are
  dropped and counted; once it has room again it receives one
  ``EventsSkipped(reason=SkipReason.OVERFLOW)`` saying how many and which ids it missed,
  before anything newer. Other consumers and the poll are never slowed down.
* Callbacks may be sync or async; async ones are awaited in order by that consumer's own
  dispatcher. A callback that raises is logged and the next item is delivered as usual.
* Each server subscription is a :class:`~syncthing_async.events._engine.Subscription` (the
  engine: position, identity checks, backoff, pacing) with the ``"wait"`` auth policy: a
  refused key latches ``AUTH_FAILED`` until :meth:`EventListener.reconnect` (e.g. after
  ``client.set_api_key``). The listener has no retry loop of its own.
* The lifecycle (``run()`` in a host's task, ``start()``/``stop()``, ``async with``,
  ``wait_connected()``, ``on_state``, ``last_error``) is the shared one of
  :mod:`syncthing_async.events._lifecycle`.
* Once the client (or the aiohttp session lent to it) is closed, the listener stops by itself
  with the state ``CLOSED``; iterators end. No payload and no other failure ends it: they are
  logged and retried with the backoff.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Self

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup, TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._aio import AsyncContext
from .._exceptions import SyncthingClosedError
from ..models.events import (
    DEFAULT_EVENT_TYPES,
    DISK_EVENT_TYPES,
    EventsSkipped,
    SkipReason,
    StreamItem,
    StreamReset,
    checked_event,
)
from ._backoff import Backoff
from ._cursor import EventCursor, StreamFilter
from ._engine import StateCallback, Subscription, TypesArg, normalize_types
from ._lifecycle import Service
from ._state import ConnectionState

if TYPE_CHECKING:
    from .._core import SessionCore

__all__ = ["EventCallback", "EventListener", "EventSubscription", "StateCallback"]

_LOG = logging.getLogger("syncthing_async.events")

EventCallback = Callable[[StreamItem], Awaitable[None] | None]
"""A consumer callback: gets each event (and marker); may be a plain function or a coroutine function."""


class _Skip:
    """Accumulates the items one consumer lost while its buffer was full."""

    __slots__ = ("count", "filter", "first_id", "last_id")

    def __init__(self, filt: str, first_id: int) -> None:
        self.filter = filt
        self.count = 0
        self.first_id = first_id
        self.last_id = first_id

    def marker(self) -> EventsSkipped:
        return EventsSkipped(
            count=self.count,
            first_id=self.first_id,
            last_id=self.last_id,
            reason=SkipReason.OVERFLOW,
            filter=self.filter,
        )


def _as_item(entry: _Skip | StreamReset) -> StreamItem:
    return entry.marker() if isinstance(entry, _Skip) else entry


class _Consumer:
    """One subscriber: its type filter, bounded stream and overflow bookkeeping."""

    def __init__(
        self,
        types: frozenset[str] | None,
        buffer_size: int,
        callback: EventCallback | None,
        markers: bool,
    ) -> None:
        self.types = types
        filters: set[StreamFilter] = set()
        if types is None or types & DEFAULT_EVENT_TYPES:
            filters.add("default")
        if types is not None and types & DISK_EVENT_TYPES:
            filters.add("disk")
        self.filters = frozenset(filters)
        self.buffer_size = buffer_size
        self.callback = callback
        self.markers = markers
        self.active = True
        self.dropped = 0
        self.backlog: deque[_Skip | StreamReset] = deque()
        self.send: MemoryObjectSendStream[StreamItem] | None = None
        self.receive: MemoryObjectReceiveStream[StreamItem] | None = None
        self._warned = False
        self.closed = False
        self.opened = anyio.Event()  # the stream exists only while the listener runs

    def open(self) -> None:
        if self.send is None:
            self.send, self.receive = anyio.create_memory_object_stream[StreamItem](self.buffer_size)
            self.backlog.clear()
            self.closed = False
            self.opened.set()

    def close(self) -> None:
        self.closed = True
        self.opened.set()  # wake a consumer still waiting for the listener to start
        send, receive = self.send, self.receive
        self.send = self.receive = None
        if send is not None:
            send.close()
        if receive is not None:
            receive.close()

    def wants(self, type_name: str) -> bool:
        types = self.types
        return types is None or type_name in types

    def offer(self, item: StreamItem, filt: str, *, drop: bool = True) -> bool:
        """Deliver without waiting. On a full buffer: apply the overflow policy (``drop``) or
        return False so the caller can let the consumer run once and offer again."""
        send = self.send
        if send is None or not self.active:
            return True
        backlog = self.backlog
        try:
            while backlog:
                send.send_nowait(_as_item(backlog[0]))
                backlog.popleft()
            send.send_nowait(item)
        except anyio.WouldBlock:
            if not drop and not backlog:  # first overflow of a streak: let the consumer run first
                return False
            self._drop(item, filt)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            self.active = False
        return True

    def _drop(self, item: StreamItem, filt: str) -> None:
        if not self._warned:
            self._warned = True
            _LOG.warning(
                "an event consumer is too slow: its buffer of %d is full, dropping events for it",
                self.buffer_size,
            )
        if isinstance(item, StreamReset):
            self.backlog.append(item)
            return
        if isinstance(item, EventsSkipped):
            count, first, last = item.count, item.first_id, item.last_id
        else:
            count, first, last = 1, item.id, item.id
            self.dropped += 1
        tail = self.backlog[-1] if self.backlog else None
        if not isinstance(tail, _Skip) or tail.filter != filt:
            tail = _Skip(filt, first)
            self.backlog.append(tail)
        tail.count += count
        tail.last_id = last

    def get_nowait(self) -> StreamItem:
        """Next item if one is ready; anyio.WouldBlock if not, EndOfStream/ClosedResourceError at the end."""
        receive = self.receive
        if receive is None:
            raise anyio.EndOfStream
        if self.backlog and receive.statistics().current_buffer_used == 0:
            return _as_item(self.backlog.popleft())
        return receive.receive_nowait()

    async def get(self) -> StreamItem:
        """Next item, waiting for one; EndOfStream / ClosedResourceError when the stream ended."""
        if self.receive is None and not self.closed:
            await self.opened.wait()  # subscribed before the listener started
        try:
            return self.get_nowait()
        except anyio.WouldBlock:
            pass
        receive = self.receive
        if receive is None:
            raise anyio.EndOfStream
        return await receive.receive()


class EventSubscription(AsyncContext):
    """An iterator consumer of an :class:`EventListener` (``listener.iterate(...)``).

    ``async for item in sub`` yields events and markers; it ends when the listener stops or
    :meth:`close` is called. Use it as an async context manager to unsubscribe on exit.
    """

    def __init__(self, listener: EventListener, consumer: _Consumer) -> None:
        self._listener = listener
        self._consumer = consumer

    @property
    def dropped(self) -> int:
        """Events dropped for this consumer because its buffer was full."""
        return self._consumer.dropped

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> StreamItem:
        if not self._consumer.active:
            raise StopAsyncIteration
        try:
            return await self._consumer.get()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self.close()
            raise StopAsyncIteration from None

    def close(self) -> None:
        """Unsubscribe; iteration ends. Idempotent."""
        self._listener._remove(self._consumer)

    async def _exit(self) -> None:
        self.close()


class EventListener(Service):
    """Feeds Syncthing events to callbacks and iterators from shared long polls.

    ``async with client.events.listener() as listener:``, ``await listener.start()`` /
    ``await listener.stop()``, or ``await listener.run()`` in a task you own. Each way first
    reaches Syncthing and raises that failure (e.g. AuthenticationError); afterwards failures
    are retried. :meth:`subscribe` returns an unsubscribe callable.
    """

    _task_name = "syncthing-events-listener"

    def __init__(
        self,
        core: SessionCore,
        *,
        since: EventCursor | Iterable[EventCursor] | None = None,
        poll_timeout: int = 60,
        read_margin: float = 10.0,
        backoff: Backoff | None = None,
        buffer_size: int = 256,
    ) -> None:
        if buffer_size < 1:
            raise ValueError("buffer_size must be >= 1")
        super().__init__()
        self._core = core
        cursors = [since] if isinstance(since, EventCursor) else list(since or ())
        self._cursors: dict[StreamFilter, EventCursor] = {c.filter: c for c in cursors}
        self.poll_timeout = poll_timeout
        self.read_margin = read_margin
        self.backoff = backoff or Backoff()
        self.buffer_size = buffer_size
        self._consumers: list[_Consumer] = []
        self._subs: dict[StreamFilter, Subscription] = {}
        self._polling: set[StreamFilter] = set()
        self._tg: TaskGroup | None = None

    # -- consumers -----------------------------------------------------------------------
    def subscribe(
        self,
        callback: EventCallback,
        types: TypesArg = None,
        *,
        buffer_size: int | None = None,
        markers: bool = True,
    ) -> Callable[[], None]:
        """Call ``callback(item)`` for each event of ``types`` (None: every default-stream type).

        Disk types (LocalChangeDetected, RemoteChangeDetected) must be named to be received.
        Markers (EventsSkipped, StreamReset) are delivered too unless ``markers=False``.
        Returns a callable that unsubscribes (idempotent).
        """
        consumer = _Consumer(normalize_types(types), buffer_size or self.buffer_size, callback, markers)
        self._add(consumer)

        def unsubscribe() -> None:
            self._remove(consumer)

        return unsubscribe

    def iterate(self, types: TypesArg = None, *, buffer_size: int | None = None) -> EventSubscription:
        """An async iterator of events of ``types`` (and markers), fed by this listener."""
        consumer = _Consumer(normalize_types(types), buffer_size or self.buffer_size, None, True)
        self._add(consumer)
        return EventSubscription(self, consumer)

    def _add(self, consumer: _Consumer) -> None:
        self._consumers.append(consumer)
        tg = self._tg
        if tg is not None:
            consumer.open()
            if consumer.callback is not None:
                tg.start_soon(self._run_callback, consumer)
            for filt in consumer.filters:
                self._ensure_polling(filt)

    def _remove(self, consumer: _Consumer) -> None:
        consumer.active = False
        with contextlib.suppress(ValueError):
            self._consumers.remove(consumer)
        consumer.close()  # a dispatcher waiting for this consumer ends; a running callback finishes

    # -- state ---------------------------------------------------------------------------
    @property
    def cursors(self) -> dict[StreamFilter, EventCursor]:
        """Current cursor per server subscription, to save and pass back as ``since=``."""
        out = dict(self._cursors)
        for filt, sub in self._subs.items():
            pos = sub.position
            if pos is not None:
                out[filt] = pos.cursor(filt)
        return out

    def _combine(self, _state: ConnectionState | None = None) -> None:
        """The listener's state from its polling subscriptions' states."""
        subs = [self._subs[f] for f in self._polling if f in self._subs]
        states = {sub.state for sub in subs}
        error = next((sub.last_error for sub in subs if sub.last_error is not None), None)
        if ConnectionState.CLOSED in states:
            combined = ConnectionState.CLOSED
        elif ConnectionState.AUTH_FAILED in states:
            combined = ConnectionState.AUTH_FAILED
        elif states == {ConnectionState.CONNECTED}:
            combined = ConnectionState.CONNECTED
        elif ConnectionState.RECONNECTING in states:
            combined = ConnectionState.RECONNECTING
        else:
            combined = ConnectionState.DISCONNECTED
        self._set_state(combined, error)

    def reconnect(self) -> None:
        """Retry now: leaves AUTH_FAILED (after fixing the key) and cuts a backoff wait short."""
        for sub in self._subs.values():
            sub.reconnect()

    # -- running -------------------------------------------------------------------------
    def _sub(self, filt: StreamFilter) -> Subscription:
        sub = self._subs.get(filt)
        if sub is None:
            sub = Subscription(
                self._core,
                disk=filt == "disk",
                since=self._cursors.get(filt),
                poll_timeout=self.poll_timeout,
                read_margin=self.read_margin,
                backoff=self.backoff,
                validate=False,  # the listener checks each payload once, for all its consumers
                auth="wait",
            )
            sub.on_state(self._combine)
            self._subs[filt] = sub
        return sub

    def _needed(self) -> set[StreamFilter]:
        needed: set[StreamFilter] = set()
        for consumer in self._consumers:
            needed |= consumer.filters
        return needed or {"default"}

    async def _serve(self, task_status: TaskStatus[None]) -> None:
        for filt in sorted(self._needed()):
            await self._sub(filt).establish()  # the first failure is raised, not retried
        async with anyio.create_task_group() as tg:
            self._tg = tg
            for consumer in list(self._consumers):
                consumer.open()
                if consumer.callback is not None:
                    tg.start_soon(self._run_callback, consumer)
            for filt in self._needed():
                self._ensure_polling(filt)
            task_status.started()
            await anyio.sleep_forever()

    def _on_stopped(self) -> None:
        self._tg = None
        self._polling.clear()
        for consumer in list(self._consumers):
            if consumer.callback is None:  # iterators end; callbacks resume on the next start
                self._remove(consumer)
            else:
                consumer.close()

    def _ensure_polling(self, filt: StreamFilter) -> None:
        tg = self._tg
        if tg is None or filt in self._polling:
            return
        self._polling.add(filt)
        self._combine()
        tg.start_soon(self._poll, filt, name=f"syncthing-events-{filt}")

    async def _poll(self, filt: StreamFilter) -> None:
        sub = self._sub(filt)
        while True:
            try:
                batch = await sub.next_batch()  # retries, auth waits and pacing are the engine's
            except SyncthingClosedError:
                _LOG.info("the Syncthing client was closed; the event listener stops")
                if self._tg is not None:
                    self._tg.cancel_scope.cancel()
                return
            if batch is None:
                return
            for item in batch.items:
                blocked = self._dispatch(filt, item)
                if blocked:
                    # Let ready consumers run once (each drains its whole buffer), then
                    # deliver or, for one that is really busy, apply the overflow policy.
                    await anyio.lowlevel.checkpoint()
                    for consumer, event in blocked:
                        consumer.offer(event, filt)

    def _dispatch(self, filt: StreamFilter, item: StreamItem) -> list[tuple[_Consumer, StreamItem]]:
        """Offer ``item`` to every interested consumer; return those whose buffer was full."""
        blocked: list[tuple[_Consumer, StreamItem]] = []
        cls = item.__class__
        if cls is EventsSkipped or cls is StreamReset:
            for consumer in self._consumers:
                if (
                    consumer.markers
                    and filt in consumer.filters
                    and not consumer.offer(item, filt, drop=False)
                ):
                    blocked.append((consumer, item))
            return blocked
        type_name = item.type
        event: StreamItem | None = None
        for consumer in self._consumers:
            if filt in consumer.filters and consumer.wants(type_name):
                if event is None:
                    event = checked_event(item)  # type: ignore[arg-type]
                if not consumer.offer(event, filt, drop=False):
                    blocked.append((consumer, event))
        return blocked

    async def _run_callback(self, consumer: _Consumer) -> None:
        callback = consumer.callback
        if callback is None:
            return
        while consumer.active:
            try:
                item = await consumer.get()
            except (anyio.EndOfStream, anyio.ClosedResourceError):
                return
            while consumer.active:  # drain what is buffered without a loop iteration per item
                try:
                    result = callback(item)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    _LOG.exception("event callback %r failed on %s", callback, getattr(item, "type", item))
                try:
                    item = consumer.get_nowait()
                except anyio.WouldBlock:
                    break
                except (anyio.EndOfStream, anyio.ClosedResourceError):
                    return

    def __repr__(self) -> str:
        return f"<EventListener state={self._state} consumers={len(self._consumers)} running={self.running}>"
