"""The subscription engine: one server subscription of Syncthing's event stream, followed safely.

Every event consumer of this library (:class:`EventStream`, :class:`EventListener`, and through
the listener :class:`~syncthing_async.mirror.StateMirror`) runs on a :class:`Subscription`. It
owns everything that is hard about ``/rest/events`` (https://docs.syncthing.net/dev/events.html):

* **the position**, one immutable :class:`Position`: which Syncthing process life (device id and
  start time) and the last event id fetched, with what tells that event apart from another
  process's event of the same id;
* **identity checks** (``/rest/system/status``) after a failure or a pause, so a restart is
  reported as a :class:`StreamReset` and never hides behind stale ids;
* **gaps** (Syncthing keeps 1000 events per subscription) as :class:`EventsSkipped`, ids that
  repeat or go backwards never handed out twice, malformed envelopes as markers;
* **the backoff** (full jitter) for transient failures, and pacing of a server that answers
  long polls at once with nothing new;
* **one auth policy**: ``"raise"`` (an iterator raises AuthenticationError) or ``"wait"`` (a
  background consumer latches ``AUTH_FAILED`` until :meth:`Subscription.reconnect`);
* **one connection state** with ``on_state(callback) -> unsubscribe`` and ``last_error``.

It hands out :class:`Batch` es; consumers only filter, fan out and remember what they handed out.
"""

from __future__ import annotations

import asyncio
import logging
import operator
import time
from collections.abc import Callable, Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple, cast

import anyio
import msgspec

from .._aio import Callbacks
from .._exceptions import (
    AuthenticationError,
    ServerError,
    SyncthingAPIError,
    SyncthingClosedError,
    SyncthingConnectionError,
    SyncthingDecodeError,
    SyncthingError,
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

__all__ = [
    "RETRYABLE",
    "AuthPolicy",
    "Batch",
    "Position",
    "StateCallback",
    "Subscription",
    "TypesArg",
    "describe_failure",
    "normalize_types",
]

_LOG = logging.getLogger("syncthing_async.events")

RETRYABLE: Final = (SyncthingConnectionError, ServerError, SyncthingDecodeError)
"""Failures retried with backoff (timeouts, a too large answer and lost connections included)."""
_WARN_EVERY: Final = 10
_ESTABLISHED_AFTER: Final = 0.5
_EARLY: Final = 0.01
"""A poll that brings nothing new within this fraction of its timeout is paced (Syncthing holds
an idle poll for the whole timeout)."""
_ID: Final = operator.attrgetter("id")

TypesArg = str | type[Event[Any]] | Collection[str | type[Event[Any]]] | None
"""Event types: a name, an event class, or a collection of them; None means every type."""
AuthPolicy = Literal["raise", "wait"]
"""What a refused API key does: raise it to the consumer, or latch AUTH_FAILED until reconnect()."""
StateCallback = Callable[[ConnectionState], None]
"""Called with each new connection state (repeats are not reported)."""

Ident = tuple[str, datetime]
"""One Syncthing process life: (device id, start time)."""


class Position(NamedTuple):
    """Where a subscription stands. Immutable: every step of the engine replaces it whole."""

    ident: Ident
    """The process life the ids belong to."""
    last_id: int
    """The last event id fetched (the next poll's ``since``)."""
    mark: tuple[int, datetime] | None = None
    """(global id, time) of the event at ``last_id``: tells it from another life's event with the
    same id. None when unknown (a fresh start, a malformed envelope)."""
    global_id: int = 0
    """The newest global id seen; global ids never go back within one life."""

    def cursor(self, filt: StreamFilter, last_id: int | None = None) -> EventCursor:
        """The resumable cursor of this position (``last_id`` overrides the id)."""
        return EventCursor(
            device_id=self.ident[0],
            start_time=self.ident[1],
            filter=filt,
            last_id=self.last_id if last_id is None else last_id,
        )


class Batch(NamedTuple):
    """Items to hand out, in order, and the position they bring the consumer to."""

    items: list[StreamItem]
    end: Position


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


class _Status(SyncthingModel, kw_only=True):
    my_id: str
    start_time: datetime
    uptime: int = 0


_STATUS_DECODER: Final = msgspec.json.Decoder(_Status)


def _mark(event: Event[Any]) -> tuple[int, datetime] | None:
    """What tells two events with the same id apart; None when the envelope did not decode."""
    return None if type(event) is _Malformed else (event.global_id, event.time)


class Subscription:
    """One server subscription (``/rest/events`` or ``/rest/events/disk``) and where it stands.

    :meth:`next_batch` fetches until there is something to hand out, retrying transient
    failures with ``backoff`` (``max_retries`` bounds that). ``since``: None = events logged
    from the first contact on; ``0`` = whatever Syncthing still buffers (history older than the
    buffer is no gap); an id; or an :class:`EventCursor` to resume exactly.
    """

    def __init__(
        self,
        core: SessionCore,
        *,
        disk: bool = False,
        types: TypesArg = None,
        since: int | EventCursor | None = None,
        poll_timeout: int = 60,
        read_margin: float = 10.0,
        backoff: Backoff | None = None,
        max_retries: int | None = None,
        validate: bool = True,
        identity_check_after: float = 1.0,
        auth: AuthPolicy = "raise",
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
        self.filter: StreamFilter = filt
        self.types = names
        self.path = "/rest/events/disk" if disk else "/rest/events"
        self.since = since
        self.poll_timeout = poll_timeout
        self.read_margin = read_margin
        self.backoff = backoff or Backoff()
        self.max_retries = max_retries
        self.validate = validate
        self.identity_check_after = identity_check_after
        self.auth = auth
        self.last_error: BaseException | None = None
        """The failure behind the current state (None while things work)."""

        self._pos: Position | None = None  # None until the start is fixed
        self._pending: list[StreamItem] = []  # markers found before a fetch (a reset)
        # Is _pos.last_id known not to exceed the newest id of the process answering? Set by the
        # server's answers, cleared by every identity check and at each next_batch (the consumer
        # paused). Only an idle answer to an unconfirmed position needs a head check.
        self._confirmed = False
        self._suspect = True  # a failure (or nothing yet): check who answers before the next poll
        self._last_answer = 0.0
        # None: the first gap is no loss (since=0 asks for what is buffered, not for history).
        self._gap_reason: SkipReason | None = None if since == 0 else SkipReason.GAP
        self._attempt = 0
        self._early = 0  # replies in a row that came at once with nothing new
        self._state = ConnectionState.DISCONNECTED
        self._callbacks: Callbacks[StateCallback] = Callbacks("event state")
        self._closed = False
        self._scope: anyio.CancelScope | None = None
        self._wake = anyio.Event()
        self._sleeping: anyio.CancelScope | None = None  # a backoff wait reconnect() cuts short
        self._params: dict[str, object] = {}

    # -- state ---------------------------------------------------------------------------
    @property
    def state(self) -> ConnectionState:
        """Connection state (see :class:`ConnectionState`)."""
        return self._state

    @property
    def position(self) -> Position | None:
        """Where the subscription stands (None until Syncthing was reached)."""
        return self._pos

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def on_state(self, callback: StateCallback) -> Callable[[], None]:
        """Call ``callback(state)`` on each state change; returns an unsubscribe callable."""
        return self._callbacks.add(callback)

    def _set_state(self, state: ConnectionState) -> None:
        if state is self._state or self._state is ConnectionState.CLOSED:
            return
        self._state = state
        self._callbacks.call(state)

    def reconnect(self) -> None:
        """Retry now: leaves AUTH_FAILED (after fixing the key) and cuts a backoff wait short."""
        wake, self._wake = self._wake, anyio.Event()
        wake.set()
        if self._sleeping is not None:
            self._sleeping.cancel()

    def close(self) -> None:
        """Stop for good; an in-flight poll (in any task) ends at once. Idempotent."""
        self._closed = True
        self._pending.clear()
        scope = self._scope
        if scope is not None:
            scope.cancel()
        if self._state is not ConnectionState.CLOSED:
            self._set_state(ConnectionState.DISCONNECTED)

    # -- the start -----------------------------------------------------------------------
    async def establish(self) -> None:
        """Reach Syncthing and fix the start (raises the first failure, whatever it is)."""
        if self._pos is None or self._suspect:
            await self._verify()
            self._last_answer = time.monotonic()  # just checked: polling now needs no recheck
            self.last_error = None
            self._set_state(ConnectionState.CONNECTED)

    # -- fetching ------------------------------------------------------------------------
    async def next_batch(self) -> Batch | None:
        """Fetch until something can be handed out; None once closed."""
        if self._closed:
            return None
        self._confirmed = False  # the consumer paused: a restart may hide behind a fresh connection
        with anyio.CancelScope() as scope:
            self._scope = scope
            try:
                while not self._pending and not self._closed:
                    await self._step()
            finally:
                self._scope = None
        if not self._pending or self._pos is None:
            return None
        items, self._pending = self._pending, []
        return Batch(items, self._pos)

    async def _step(self) -> None:
        """One round with the failure policy around it."""
        try:
            await self._round()
        except AuthenticationError as err:
            self._suspect = True
            self.last_error = err
            self._set_state(ConnectionState.AUTH_FAILED)
            if self.auth == "raise":
                raise
            _LOG.warning("Syncthing refused the API key (%s); events paused until reconnect()", err.reason)
            await self._wake.wait()
            self._set_state(ConnectionState.RECONNECTING)
        except SyncthingClosedError as err:
            self.last_error = err
            self._set_state(ConnectionState.CLOSED)
            raise
        except RETRYABLE as err:
            await self._retry_wait(err)
        except Exception as err:
            if self.auth == "raise":  # an iterator's caller decides (a 404, a bug...)
                self._suspect = True
                self.last_error = err
                self._set_state(ConnectionState.DISCONNECTED)
                raise
            if isinstance(err, SyncthingError):  # a background consumer never dies: retry
                _LOG.error("event stream %s failed: %s; retrying", self.path, describe_failure(err))
            else:
                _LOG.exception("event stream %s: unexpected failure; retrying", self.path)
            await self._retry_wait(err)
        else:
            if self._attempt:
                _LOG.info("event stream %s reconnected after %d failures", self.path, self._attempt)
            self._attempt = 0
            self.last_error = None

    async def _retry_wait(self, err: Exception) -> None:
        self._suspect = True
        self.last_error = err
        attempt = self._attempt
        self._attempt += 1
        if self._state is ConnectionState.CONNECTED:
            self._set_state(ConnectionState.DISCONNECTED)
        if self.max_retries is not None and attempt >= self.max_retries:
            self._set_state(ConnectionState.DISCONNECTED)
            raise err
        delay = self.backoff.delay(attempt)
        _LOG.log(
            logging.WARNING if attempt % _WARN_EVERY == 0 else logging.DEBUG,
            "event stream %s: %s (attempt %d), retrying in %.2f s",
            self.path,
            describe_failure(err),
            attempt + 1,
            delay,
            extra={"syncthing_retry": True},  # lets a host that reports retries itself filter these
        )
        _LOG.debug("event stream %s failure details: %r", self.path, err)
        self._set_state(ConnectionState.RECONNECTING)
        await self._sleep(delay)

    async def _sleep(self, delay: float) -> None:
        """The backoff's sleep, cut short by :meth:`reconnect` (no task of its own)."""
        with anyio.CancelScope() as scope:
            self._sleeping = scope
            try:
                await self.backoff.sleep(delay)
            finally:
                self._sleeping = None

    async def _round(self) -> None:
        """Check the identity if due, poll once and take what came."""
        if self._suspect or time.monotonic() - self._last_answer > self.identity_check_after:
            await self._verify()
            if self._pending:
                return
        pos = self._pos
        assert pos is not None
        since = pos.last_id
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
                "GET", self.path, params=params, expect="bytes", timeout=self.poll_timeout + self.read_margin
            )
        finally:
            established.cancel()
        self._set_state(ConnectionState.CONNECTED)
        await self._take(raw, pos)
        if self._pending or self._pos != pos:
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
            self.path,
            self.poll_timeout,
            elapsed,
            delay,
        )
        await self._sleep(delay)

    async def _take(self, raw: bytes, pos: Position) -> None:
        """Queue what a poll from ``pos`` brought (or check the head when it brought nothing)."""
        events, decoded, malformed, _dropped = _decode_batch(raw, self.validate and self.types is None)
        self._last_answer = time.monotonic()
        since = pos.last_id
        if not events:
            # Idle answer. A stale since after a restart also looks like this: the newest event
            # then has a lower id, or the same id but is another event. A restart cuts an open
            # poll (a failure, so the next round checks the identity), and a pause between polls
            # triggers the identity check: either leaves the position unconfirmed. An idle answer
            # to a confirmed position, from a poll sent right after the last answer, needs none.
            self._gap_reason = SkipReason.GAP
            if self._confirmed:
                return
            head = await self._head()
            self._last_answer = time.monotonic()  # our own check is no consumer pause
            head_id = 0 if head is None else head.id
            other = head is not None and head_id == since and pos.mark is not None and pos.mark != _mark(head)
            if head_id < since or other:
                await self._verify(regressed=True)
            else:
                self._confirmed = True
            return
        first = events[0]
        first_gid = pos.global_id if type(first) is _Malformed else first.global_id
        # A gap or global ids going backwards: was it a restart? Then the batch belonged to the
        # new process: refetch it from its first event.
        if (first_gid < pos.global_id or first.id > since + 1) and await self._verify(
            regressed=first_gid < pos.global_id
        ):
            return
        last = events[-1]
        if (
            self.types is None
            and (decoded or not self.validate)
            and not malformed
            and first.id == since + 1
            and last.id - since == len(events)
            and all(map(operator.eq, map(_ID, events), range(since + 1, last.id + 1)))
        ):
            # The common case: a contiguous batch, nothing to filter or check.
            self._pending = cast("list[StreamItem]", events)
            self._pos = Position(pos.ident, last.id, (last.global_id, last.time), last.global_id)
        else:
            self._queue(events, pos)
        self._gap_reason = SkipReason.GAP
        self._confirmed = True

    def _queue(self, events: list[Event[Any]], pos: Position) -> None:
        pending = self._pending
        types = self.types
        validate = self.validate
        filt = self.filter
        reason = self._gap_reason
        last = pos.last_id
        newest: Event[Any] | None = None  # the newest event taken (ids in order, repeats dropped)
        for ev in events:
            i = ev.id
            if i <= last:  # id-0 padding, or anything already seen
                continue
            if i != last + 1 and reason is not None:
                pending.append(
                    EventsSkipped(
                        count=i - last - 1, first_id=last + 1, last_id=i - 1, reason=reason, filter=filt
                    )
                )
            reason = SkipReason.GAP
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
        if newest is not None:
            gid = pos.global_id if type(newest) is _Malformed else newest.global_id
            self._pos = Position(pos.ident, last, _mark(newest), gid)

    async def _verify(self, *, regressed: bool = False) -> bool:
        """Ask ``/rest/system/status`` who answers; fix the start, or queue a StreamReset if the
        process changed. True when a reset was queued."""
        status = await self._core.request("GET", "/rest/system/status", decoder=_STATUS_DECODER)
        self._suspect = False
        self._confirmed = False
        ident = (status.my_id, status.start_time)
        pos = self._pos
        if pos is None:
            return await self._start(ident)
        known = pos.ident
        if ident != known:
            reason = ResetReason.RESTART if known[0] == ident[0] else ResetReason.DEVICE_CHANGED
            if reason is ResetReason.DEVICE_CHANGED:
                _LOG.warning("a different Syncthing device answers at %s", self._core.url)
            self._reset(reason, pos.last_id, known[1], ident)
            return True
        if regressed:
            self._reset(ResetReason.ID_REGRESS, pos.last_id, known[1], ident)
            return True
        return False

    async def _start(self, ident: Ident) -> bool:
        """Fix the first position once the process answering is known."""
        since = self.since
        if isinstance(since, EventCursor):
            if (since.device_id, since.start_time) != ident:
                reason = ResetReason.RESTART if since.device_id == ident[0] else ResetReason.DEVICE_CHANGED
                self._reset(reason, since.last_id, since.start_time, ident)
                return True
            self._pos = Position(ident, since.last_id)
            self._gap_reason = SkipReason.RESUME
            return False
        head = await self._head()
        head_id = 0 if head is None else head.id
        if since is None:  # from now on: start at the newest event
            self._pos = Position(ident, head_id, None if head is None else _mark(head))
            self._confirmed = True
            return False
        if since > head_id:  # an id from an earlier life: this process never logged it
            self._reset(ResetReason.ID_REGRESS, since, None, ident)
            return True
        self._pos = Position(ident, since)
        self._confirmed = True
        return False

    def _reset(self, reason: ResetReason, last_id: int, old_start: datetime | None, ident: Ident) -> None:
        _LOG.info(
            "event stream %s reset (%s): continuing from the first event of the new process",
            self.path,
            reason,
        )
        self._pending.append(
            StreamReset(
                reason=reason,
                last_id=last_id,
                old_start_time=old_start,
                new_start_time=ident[1],
                device_id=ident[0],
                filter=self.filter,
            )
        )
        self._pos = Position(ident, 0)
        self._confirmed = True  # 0 is never ahead
        self._gap_reason = SkipReason.RESTART

    async def _head(self) -> Event[Any] | None:
        """The newest event in the subscription (None if empty), without waiting."""
        raw = await self._core.request(
            "GET", self.path, params={"since": 0, "limit": 1, "timeout": 0}, expect="bytes"
        )
        batch = _decode_batch(raw, False)
        if batch.dropped:  # what the newest id is cannot be told: a failure, not an empty buffer
            excerpt = bytes(raw[:200]).decode("utf-8", "replace")
            raise SyncthingDecodeError(f"GET {self.path}", "the newest event has no readable id", excerpt)
        events = [e for e in batch.events if e.id > 0]
        return events[-1] if events else None

    def __repr__(self) -> str:
        last = None if self._pos is None else self._pos.last_id
        return f"<Subscription {self.filter} state={self._state} last_id={last}>"


_WARNED: set[str] = set()


def _misfit(ev: Event[Any], err: Exception) -> UnknownEvent:
    if ev.type not in _WARNED:
        _WARNED.add(ev.type)
        _LOG.warning("%s event payload does not fit its model; yielding UnknownEvent: %s", ev.type, err)
    return UnknownEvent.from_event(ev, error=str(err))
