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

import asyncio
import logging
import operator
import time
from collections.abc import Callable, Collection
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self, cast

import anyio
import msgspec

from .._exceptions import (
    AuthenticationError,
    ServerError,
    SyncthingAPIError,
    SyncthingClosedError,
    SyncthingConnectionError,
    SyncthingDecodeError,
    SyncthingTimeoutError,
)
from ..models._base import DECODE_ERRORS, SyncthingModel
from ..models.events import (
    DEFAULT_EVENT_TYPES,
    DISK_EVENT_TYPES,
    EVENT_TYPES,
    Event,
    EventsSkipped,
    ResetReason,
    SkipReason,
    StreamItem,
    StreamReset,
    UnknownEvent,
    _decode_batch,
    _Decoded,
    _Malformed,
)
from ._backoff import Backoff
from ._cursor import EventCursor, StreamFilter
from ._state import ConnectionState

if TYPE_CHECKING:
    from .._core import SessionCore

__all__ = ["EventStream", "TypesArg", "describe_failure", "normalize_types"]

_LOG = logging.getLogger("syncthing_async.events")

RETRYABLE: Final = (SyncthingConnectionError, ServerError, SyncthingDecodeError)
"""Failures the stream retries with backoff (timeouts are connection errors)."""
_WARN_EVERY: Final = 10
_ESTABLISHED_AFTER: Final = 0.5
_EARLY: Final = 0.01
"""A poll that brings nothing new within this fraction of its timeout is paced (Syncthing holds
an idle poll for the whole timeout; https://docs.syncthing.net/dev/events.html)."""

TypesArg = str | type[Event[Any]] | Collection[str | type[Event[Any]]] | None
"""Event types: a name, an event class, or a collection of them; None means every type."""


_Ident = tuple[str, datetime]  # (device id, start time): one Syncthing process life
_ID: Final = operator.attrgetter("id")


def _mark(event: Event[Any]) -> tuple[int, datetime] | None:
    """What tells two events with the same id apart; None when the envelope did not decode."""
    return None if type(event) is _Malformed else (event.global_id, event.time)


def describe_failure(err: BaseException, what: str = "events") -> str:
    """Say in plain words what a failed request means (the exception's text is for debugging:
    aiohttp's ``TransferEncodingError: 400`` is a cut connection, not an HTTP 400)."""
    if isinstance(err, SyncthingTimeoutError):
        return f"no answer in time while waiting for {what}"
    if isinstance(err, SyncthingConnectionError):
        return err.detail.replace("the answer", what)  # the core's plain words
    if isinstance(err, ServerError):
        return f"Syncthing failed with HTTP {err.status} (a server error)"
    if isinstance(err, SyncthingAPIError):
        return f"Syncthing refused the request with HTTP {err.status}"
    if isinstance(err, SyncthingDecodeError):
        return f"Syncthing's answer with {what} did not decode"
    if isinstance(err, SyncthingClosedError):
        return "the client was closed"
    return f"unexpected {type(err).__name__}"


class _Status(SyncthingModel, kw_only=True):
    my_id: str
    start_time: datetime
    uptime: int = 0


_STATUS_DECODER: Final = msgspec.json.Decoder(_Status)


def normalize_types(types: TypesArg) -> frozenset[str] | None:
    """Turn a ``types`` argument into a set of Syncthing type names (None = all).

    Raises ValueError for names this library does not know (typos would otherwise silently
    filter out everything); newer types arrive as UnknownEvent with ``types=None``.
    """
    if types is None:
        return None
    items: Collection[str | type[Event[Any]]] = [types] if isinstance(types, (str, type)) else types
    names: set[str] = set()
    for item in items:
        if isinstance(item, str):
            name = item
        else:
            name = getattr(item, "_type_name", "")
            if not name:
                raise ValueError(f"{item!r} is not a typed event class")
        if name not in EVENT_TYPES:
            raise ValueError(f"unknown Syncthing event type {name!r}")
        names.add(name)
    return frozenset(names)


class EventStream:
    """Async iterator (and async context manager) of events and markers from one subscription.

    Create it with ``client.events.stream(...)``; it does no I/O until iterated.
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
        on_state: Callable[[ConnectionState], None] | None = None,
    ) -> None:
        if not isinstance(poll_timeout, int) or isinstance(poll_timeout, bool) or poll_timeout < 1:
            # Syncthing parses timeout= with Atoi: "0.5" would silently mean 60 s.
            raise ValueError("poll_timeout must be a whole number of seconds >= 1")
        if read_margin <= 0:
            raise ValueError("read_margin must be > 0")
        filt: StreamFilter = "disk" if disk else "default"
        names = normalize_types(types)
        if names is not None:
            allowed = DISK_EVENT_TYPES if disk else DEFAULT_EVENT_TYPES
            wrong = sorted(names - allowed)
            if wrong:
                hint = "" if disk else " (pass disk=True for LocalChangeDetected/RemoteChangeDetected)"
                raise ValueError(f"{', '.join(wrong)} not in the {filt} event stream{hint}")
        if isinstance(since, EventCursor):
            if since.filter != filt:
                raise ValueError(f"cursor is for the {since.filter} stream, not {filt}")
            if since.last_id < 0:
                raise ValueError("cursor last_id must be >= 0")
        elif since is not None and (isinstance(since, bool) or since < 0):
            raise ValueError("since must be None, an EventCursor or an event id >= 0")
        self._core = core
        self._types = names
        self._filter: StreamFilter = filt
        self._path = "/rest/events/disk" if disk else "/rest/events"
        self._since_arg = since
        self.poll_timeout = poll_timeout
        self.read_margin = read_margin
        self.backoff = backoff or Backoff()
        self.max_retries = max_retries
        self.validate = validate
        self.identity_check_after = identity_check_after
        self._on_state = on_state

        # Items to hand out are batch[i:]. The consumer's position is computed from the last
        # item handed out, or from the base (where the previous batch left off) when i == 0.
        self._batch: list[StreamItem] = []
        self._i = 0
        self._batch_ident: _Ident | None = None
        self._base_ident: _Ident | None = None
        self._base_pos = 0
        self._identity: _Ident | None = None
        self._fetched: int | None = None  # last id fetched from the server (the next poll's since)
        self._last_gid = 0
        self._last_mark: tuple[int, datetime] | None = None  # (global id, time) of that event
        self._need_verify = True
        # True while _fetched is known not to exceed the newest id of the process answering: set
        # by the server's answers (head, events), cleared by every identity check (a failure, a
        # pause, a user-given since) and at each _fill (the consumer's gap). Only an idle answer
        # to an unconfirmed since needs a head check; an idle stream polls once per timeout.
        self._since_ok = False
        self._gap_reason = SkipReason.GAP
        self._last_poll_end = 0.0
        self._attempt = 0
        self._early = 0  # replies in a row that came at once with nothing new
        self._state = ConnectionState.DISCONNECTED
        self._closed = False
        self._scope: anyio.CancelScope | None = None
        self._params: dict[str, object] = {}

    # -- public state --------------------------------------------------------------------
    @property
    def filter(self) -> StreamFilter:
        """The server subscription: ``default`` or ``disk``."""
        return self._filter

    @property
    def types(self) -> frozenset[str] | None:
        """The event types yielded (None: all of the subscription's)."""
        return self._types

    @property
    def state(self) -> ConnectionState:
        """Connection state (see :class:`ConnectionState`)."""
        return self._state

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` was called."""
        return self._closed

    def _position(self) -> tuple[_Ident | None, int]:
        i = self._i
        if i == 0:
            return self._base_ident, self._base_pos
        item = self._batch[i - 1]
        if isinstance(item, StreamReset):
            return self._batch_ident, 0
        if isinstance(item, EventsSkipped):
            return self._batch_ident, item.last_id
        return self._batch_ident, item.id

    @property
    def last_id(self) -> int:
        """The id of the last event handed out (0 before the first)."""
        return self._position()[1]

    @property
    def cursor(self) -> EventCursor | None:
        """Where the stream stands, to save and resume from; None before Syncthing was reached."""
        ident, pos = self._position()
        if ident is None:
            since = self._since_arg
            return since if isinstance(since, EventCursor) else None
        return EventCursor(device_id=ident[0], start_time=ident[1], filter=self._filter, last_id=pos)

    # -- iteration -----------------------------------------------------------------------
    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> StreamItem:
        i = self._i
        batch = self._batch
        if i < len(batch):
            self._i = i + 1
            return batch[i]
        await self._fill()
        i = self._i
        batch = self._batch
        if i < len(batch):
            self._i = i + 1
            return batch[i]
        raise StopAsyncIteration

    async def __aenter__(self) -> Self:
        """With ``since=None``, fix the starting point now: every event Syncthing logs after
        ``async with`` has entered is delivered (subscribe first, then act). If Syncthing cannot be
        reached yet, the first poll does this instead, after reconnecting."""
        if self._since_arg is None and self._fetched is None and not self._closed:
            try:
                if self._identity is None:
                    await self._verify()
                await self._prime()
                self._last_poll_end = time.monotonic()  # just checked: iterating now needs no recheck
            except RETRYABLE:
                self._need_verify = True
        return self

    async def _prime(self) -> int:
        """Start at the newest event of the subscription (``since=0&limit=1&timeout=0``)."""
        head = await self._head()
        self._fetched = self._base_pos = head_id = head.id if head is not None else 0
        self._base_ident = self._batch_ident = self._identity
        self._last_mark = None if head is None else _mark(head)
        self._since_ok = True
        return head_id

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the stream; an in-flight poll (in any task) ends at once. Idempotent."""
        self._closed = True
        del self._batch[self._i :]  # nothing more is handed out; the position stays
        scope = self._scope
        if scope is not None:
            scope.cancel()
        if self._state is not ConnectionState.CLOSED:
            self._set_state(ConnectionState.DISCONNECTED)

    # -- internals -----------------------------------------------------------------------
    def _set_state(self, state: ConnectionState) -> None:
        if state is self._state:
            return
        self._state = state
        callback = self._on_state
        if callback is not None:
            try:
                callback(state)
            except Exception:
                _LOG.exception("event stream state callback failed")

    async def _fill(self) -> None:
        """Fetch until something can be yielded, retrying transient failures; no-op when closed."""
        if self._closed:
            return
        # The consumer paused since the last answer: a restart in that gap can hide behind a
        # fresh connection, so the first idle answer of this call checks the head.
        self._since_ok = False
        if self._batch:  # handed out completely: start a new batch where this one left off
            self._base_ident, self._base_pos = self._batch_ident, self._fetched or 0
            self._batch = []
            self._i = 0
        self._batch_ident = self._identity
        with anyio.CancelScope() as scope:
            self._scope = scope
            try:
                while not self._batch and not self._closed:
                    try:
                        await self._round()
                    except AuthenticationError:
                        self._need_verify = True
                        self._set_state(ConnectionState.AUTH_FAILED)
                        raise
                    except RETRYABLE as err:
                        await self._retry_wait(err)
                    except SyncthingClosedError:
                        self._set_state(ConnectionState.CLOSED)
                        raise
                    except Exception:
                        self._need_verify = True
                        self._set_state(ConnectionState.DISCONNECTED)
                        raise
                    else:
                        if self._attempt:
                            _LOG.info(
                                "event stream %s reconnected after %d failures", self._path, self._attempt
                            )
                        self._attempt = 0
            finally:
                self._scope = None

    async def _retry_wait(self, err: Exception) -> None:
        self._need_verify = True
        attempt = self._attempt
        self._attempt += 1
        if self._state is ConnectionState.CONNECTED:
            self._set_state(ConnectionState.DISCONNECTED)
        if self.max_retries is not None and attempt >= self.max_retries:
            self._set_state(ConnectionState.DISCONNECTED)
            raise err
        delay = self.backoff.delay(attempt)
        level = logging.WARNING if attempt % _WARN_EVERY == 0 else logging.DEBUG
        _LOG.log(
            level,
            "event stream %s: %s (attempt %d), retrying in %.2f s",
            self._path,
            describe_failure(err),
            attempt + 1,
            delay,
            extra={"syncthing_retry": True},  # lets a host that reports retries itself filter these
        )
        _LOG.debug("event stream %s failure details: %r", self._path, err)
        self._set_state(ConnectionState.RECONNECTING)
        await self.backoff.sleep(delay)

    async def _round(self) -> None:
        """One step: check identity if needed, prime, poll once and queue what came."""
        if self._need_verify or time.monotonic() - self._last_poll_end > self.identity_check_after:
            await self._verify()
            if self._batch:
                return
        since = self._fetched
        if since is None:
            since = await self._prime()
        params = self._params
        params["since"] = since
        params["timeout"] = self.poll_timeout
        # CONNECTED once a poll has been open for a moment (Syncthing holds it) or has answered;
        # a poll that keeps failing at once never reports CONNECTED, so the state cannot flap.
        established = asyncio.get_running_loop().call_later(
            _ESTABLISHED_AFTER, self._set_state, ConnectionState.CONNECTED
        )
        sent = time.monotonic()
        try:
            raw = await self._core.request(
                "GET", self._path, params=params, expect="bytes", timeout=self.poll_timeout + self.read_margin
            )
        finally:
            established.cancel()
        self._set_state(ConnectionState.CONNECTED)
        await self._take(raw, since)
        if self._batch or self._fetched != since:
            self._early = 0
        elif time.monotonic() - sent < self.poll_timeout * _EARLY:
            await self._pace(time.monotonic() - sent)
        else:
            self._early = 0

    async def _pace(self, elapsed: float) -> None:
        """Wait before the next poll: the last one came back at once with nothing new."""
        attempt = self._early
        self._early += 1
        delay = self.backoff.delay(attempt)
        _LOG.log(
            logging.WARNING if attempt == 0 else logging.DEBUG,
            "event stream %s: Syncthing answered a %d s poll after %.3f s with nothing new; "
            "waiting %.2f s before the next one",
            self._path,
            self.poll_timeout,
            elapsed,
            delay,
        )
        await self.backoff.sleep(delay)

    async def _take(self, raw: bytes, since: int) -> None:
        """Queue what a poll from ``since`` brought (or check the head when it brought nothing)."""
        events, decoded, malformed, _dropped = _decode_batch(raw, self.validate and self._types is None)
        self._last_poll_end = time.monotonic()
        if not events:
            # Idle answer. A stale since after a restart also looks like this: the newest event
            # then has a lower id, or the same id but is another event. A restart cuts an open
            # poll (a failure, so the next round checks the identity), and a pause between polls
            # triggers the identity check: either leaves since unconfirmed. An idle answer to a
            # confirmed since, from a poll sent right after the previous answer, needs no check.
            self._gap_reason = SkipReason.GAP
            if self._since_ok:
                return
            head = await self._head()
            self._last_poll_end = time.monotonic()  # our own check is no consumer pause
            head_id = 0 if head is None else head.id
            mark = self._last_mark
            other = head is not None and head_id == since and mark is not None and mark != _mark(head)
            if head_id < since or other:
                await self._verify(regressed=True)
            else:
                self._since_ok = True
            return
        first = events[0]
        first_gid = self._last_gid if type(first) is _Malformed else first.global_id
        if first_gid < self._last_gid or first.id > since + 1:
            # A gap or global ids going backwards: was it a restart?
            changed = await self._verify(regressed=first_gid < self._last_gid)
            if changed:
                return  # the batch belonged to the new process; refetch it from its first event
        last = events[-1]
        if (
            self._types is None
            and (decoded or not self.validate)
            and not malformed
            and first.id == since + 1
            and last.id - since == len(events)
            and all(map(operator.eq, map(_ID, events), range(since + 1, last.id + 1)))
        ):
            self._batch = cast(
                "list[StreamItem]", events
            )  # the common case: a contiguous batch, nothing to filter or check
            self._fetched = last.id
            self._last_gid = last.global_id
            self._last_mark = (last.global_id, last.time)
            self._gap_reason = SkipReason.GAP
            self._since_ok = True
            return
        self._queue(events, since)
        self._since_ok = True

    def _queue(self, events: list[Event[Any]], since: int) -> None:
        pending = self._batch
        types = self._types
        validate = self.validate
        filt = self._filter
        last = since
        newest: Event[Any] | None = None  # the newest event taken (ids in order, repeats dropped)
        for ev in events:
            i = ev.id
            if i <= last:  # id-0 padding, or anything already seen
                continue
            if i != last + 1:
                pending.append(
                    EventsSkipped(
                        count=i - last - 1,
                        first_id=last + 1,
                        last_id=i - 1,
                        reason=self._gap_reason,
                        filter=filt,
                    )
                )
            last = i
            newest = ev
            name = ev.type
            if type(ev) is _Malformed:  # reported unless its type is known and filtered out
                if types is None or not name or name in types:
                    pending.append(
                        EventsSkipped(
                            count=1, first_id=i, last_id=i, reason=SkipReason.MALFORMED, filter=filt
                        )
                    )
                continue
            if types is not None and name not in types:
                continue
            if validate:
                decoder = ev._decoder
                raw = ev._raw
                if decoder is not None and not isinstance(raw, _Decoded):
                    try:
                        ev._raw = _Decoded(raw, decoder.decode(raw))
                    except DECODE_ERRORS as err:
                        ev = _misfit(ev, err)
            pending.append(ev)
        self._gap_reason = SkipReason.GAP
        if newest is not None:
            self._last_mark = _mark(newest)
            if type(newest) is not _Malformed:
                self._last_gid = newest.global_id
        self._fetched = last
        if not pending:  # everything was filtered out: the position moves on anyway
            self._base_ident, self._base_pos = self._identity, last

    async def _verify(self, *, regressed: bool = False) -> bool:
        """Ask ``/rest/system/status`` who is answering; queue a StreamReset if the process changed."""
        status = await self._core.request("GET", "/rest/system/status", decoder=_STATUS_DECODER)
        self._need_verify = False
        self._since_ok = False
        ident = (status.my_id, status.start_time)
        known = self._identity
        if known is None:
            self._identity = ident
            since = self._since_arg
            if isinstance(since, EventCursor):
                if (since.device_id, since.start_time) != ident:
                    reason = (
                        ResetReason.RESTART if since.device_id == status.my_id else ResetReason.DEVICE_CHANGED
                    )
                    self._reset(reason, since.last_id, since.start_time, ident)
                    return True
                self._fetched = self._base_pos = since.last_id
                self._gap_reason = SkipReason.RESUME
            elif since is not None:
                self._fetched = self._base_pos = since
            self._base_ident = self._batch_ident = ident
            return False
        if ident != known:
            reason = ResetReason.RESTART if known[0] == ident[0] else ResetReason.DEVICE_CHANGED
            if reason is ResetReason.DEVICE_CHANGED:
                _LOG.warning("a different Syncthing device answers at %s", self._core.url)
            self._reset(reason, self._fetched or 0, known[1], ident)
            return True
        if regressed:
            self._reset(ResetReason.ID_REGRESS, self._fetched or 0, known[1], ident)
            return True
        return False

    def _reset(
        self, reason: ResetReason, last_id: int, old_start: datetime | None, ident: tuple[str, datetime]
    ) -> None:
        _LOG.info(
            "event stream %s reset (%s): continuing from the first event of the new process",
            self._path,
            reason,
        )
        self._identity = self._batch_ident = ident
        self._batch.append(
            StreamReset(
                reason=reason,
                last_id=last_id,
                old_start_time=old_start,
                new_start_time=ident[1],
                device_id=ident[0],
                filter=self._filter,
            )
        )
        self._fetched = 0
        self._since_ok = True  # 0 is never ahead
        self._last_gid = 0
        self._last_mark = None
        self._gap_reason = SkipReason.RESTART

    async def _head(self) -> Event[Any] | None:
        """The newest event in the subscription (None if empty), without waiting."""
        raw = await self._core.request(
            "GET",
            self._path,
            params={"since": 0, "limit": 1, "timeout": 0},
            expect="bytes",
        )
        batch = _decode_batch(raw, False)
        if batch.dropped:  # what the newest id is cannot be told: a failure, not an empty buffer
            excerpt = bytes(raw[:200]).decode("utf-8", "replace")
            raise SyncthingDecodeError(f"GET {self._path}", "the newest event has no readable id", excerpt)
        events = [e for e in batch.events if e.id > 0]
        return events[-1] if events else None

    def __repr__(self) -> str:
        return f"<EventStream {self._filter} state={self._state} last_id={self.last_id}>"


_WARNED: set[str] = set()


def _misfit(ev: Event[Any], err: Exception) -> UnknownEvent:
    if ev.type not in _WARNED:
        _WARNED.add(ev.type)
        _LOG.warning("%s event payload does not fit its model; yielding UnknownEvent: %s", ev.type, err)
    return UnknownEvent.from_event(ev, error=str(err))
