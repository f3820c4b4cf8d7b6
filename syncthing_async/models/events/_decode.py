"""Decoding a ``/rest/events`` batch into event objects, in one pass when everything fits.

* The fast path decodes the whole batch as a list of a tagged union of every registered event
  class (payloads stay raw JSON; ``eager=True`` decodes them in the same pass).
* If that fails (a type this library does not know, a misfit), the batch is decoded envelope by
  envelope; unknown types become :class:`UnknownEvent`.
* An element whose envelope itself does not fit becomes a :class:`_Malformed` placeholder (the
  stream reports it as ``EventsSkipped(reason=MALFORMED)``), or is dropped when not even its id
  can be read.
* :func:`checked_event` decodes an event's payload before it is handed out and turns a misfit
  into an ``UnknownEvent`` whose ``.error`` says why.

Envelope and types: https://docs.syncthing.net/dev/events.html
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, NamedTuple, Union

import msgspec

from ..._exceptions import SyncthingDecodeError
from .._base import DECODE_ERRORS, LazyDecoder
from ._envelope import _CLASS_BY_TYPE, _ENVELOPE_RENAME, Event, RawEvent, UnknownEvent
from ._types import EVENT_TYPES

_LOG = logging.getLogger("syncthing_async.events")

_ALL_EVENT_CLASSES: tuple[type[Event[Any]], ...] = tuple(cls for cls, _ in EVENT_TYPES.values())

_BATCH_DECODER: LazyDecoder[list[Event[Any]]] = LazyDecoder(
    list[Union[_ALL_EVENT_CLASSES]]  # type: ignore[valid-type]  # noqa: UP007
)


def _eager_data(self: Event[Any]) -> Any:
    return self._raw


def _eager_raw_json(self: Event[Any]) -> bytes:
    return msgspec.json.encode(self._raw)


def _eager(cls: type[Event[Any]]) -> type[Event[Any]]:
    """A hidden subclass of ``cls`` whose payload is decoded in the same pass as the envelope.

    Same name, same ``isinstance``/``match`` behaviour; its ``data`` field holds the decoded
    payload instead of raw JSON. Used when every payload will be read anyway.
    """
    eager: type[Event[Any]] = type(
        cls.__name__,
        (cls,),
        {
            "__annotations__": {"_raw": cls._data_type},
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
            "_decoder": None,
            "data": property(_eager_data, doc="The typed payload (already decoded)."),
            "raw_json": property(_eager_raw_json, doc="The payload as JSON bytes (re-encoded)."),
        },
        kw_only=True,
        gc=False,
        rename=_ENVELOPE_RENAME,
        tag_field="type",
        tag=cls._type_name,
    )
    return eager


_EAGER_BATCH_DECODER: LazyDecoder[list[Event[Any]]] = LazyDecoder(
    list[Union[tuple(_eager(cls) for cls in _ALL_EVENT_CLASSES)]]  # type: ignore[misc]  # noqa: UP007
)
_ENVELOPES_DECODER: LazyDecoder[list[RawEvent]] = LazyDecoder(list[RawEvent])
_ITEMS_DECODER: LazyDecoder[list[msgspec.Raw]] = LazyDecoder(list[msgspec.Raw])
_ENVELOPE_DECODER: LazyDecoder[RawEvent] = LazyDecoder(RawEvent)


class _IdOnly(msgspec.Struct, gc=False, rename={"global_id": "globalID"}):
    """What is read of an envelope that does not fit: its id, and the rest if it has a usable type."""

    id: int
    global_id: Any = 0
    type: Any = ""


_ID_DECODER: LazyDecoder[_IdOnly] = LazyDecoder(_IdOnly)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Malformed(Event[None], kw_only=True, gc=False, rename=_ENVELOPE_RENAME):
    """Stands in a batch for an element whose envelope did not decode; only ``id`` is known.

    Never yielded: the stream reports it as ``EventsSkipped(reason=MALFORMED)``.
    """

    time: datetime = _EPOCH
    type: str = ""
    error: str = ""


class _Batch(NamedTuple):
    events: list[Event[Any]]
    decoded: bool
    """Every payload is already decoded (the eager pass)."""
    malformed: bool
    """Some elements are :class:`_Malformed` placeholders."""
    dropped: int
    """Elements left out because not even their id could be read."""


def _from_envelope(env: RawEvent) -> Event[Any]:
    cls = _CLASS_BY_TYPE.get(env.type)
    if cls is None:
        return UnknownEvent(id=env.id, global_id=env.global_id, time=env.time, type=env.type, _raw=env.data)
    return cls(id=env.id, global_id=env.global_id, time=env.time, _raw=env.data)


def decode_events(payload: bytes | memoryview | str, *, eager: bool = False) -> list[Event[Any]]:
    """Decode a ``/rest/events`` reply into event objects (payloads stay lazy).

    Unknown types become :class:`UnknownEvent`. An element whose envelope itself is broken
    (no id or time) is dropped with a warning. Raises SyncthingDecodeError only when the
    reply is not a JSON array. ``eager=True`` decodes every payload in the same pass (the
    fastest way when all of them will be read); if any payload does not fit, or a type is
    unknown, the batch is decoded lazily instead.
    """
    batch = _decode_batch(payload, eager)
    if batch.malformed:
        return [e for e in batch.events if type(e) is not _Malformed]
    return batch.events


def _decode_batch(payload: bytes | memoryview | str, eager: bool) -> _Batch:
    """Decode a batch; an element whose envelope does not fit becomes a :class:`_Malformed`."""
    if eager:
        try:
            return _Batch(_EAGER_BATCH_DECODER().decode(payload), True, False, 0)
        except DECODE_ERRORS:
            pass
    try:
        return _Batch(_BATCH_DECODER().decode(payload), False, False, 0)
    except DECODE_ERRORS:
        pass
    try:
        return _Batch([_from_envelope(env) for env in _ENVELOPES_DECODER().decode(payload)], False, False, 0)
    except DECODE_ERRORS:
        pass
    try:
        items = _ITEMS_DECODER().decode(payload)
    except DECODE_ERRORS as err:
        text = bytes(payload[:200]) if not isinstance(payload, str) else payload[:200].encode()
        raise SyncthingDecodeError("/rest/events", str(err), text.decode("utf-8", "replace")) from err
    out: list[Event[Any]] = []
    malformed = False
    dropped = 0
    for item in items:
        try:
            out.append(_from_envelope(_ENVELOPE_DECODER().decode(item)))
            continue
        except DECODE_ERRORS as err:
            error = str(err)
        try:
            ident = _ID_DECODER().decode(item)
        except DECODE_ERRORS:
            dropped += 1
            _LOG.warning("dropping an event whose envelope does not fit and has no id: %s", error)
            continue
        _LOG.warning("event %d: its envelope does not fit: %s", ident.id, error)
        gid = ident.global_id if type(ident.global_id) is int else 0
        name = ident.type if type(ident.type) is str else ""
        out.append(_Malformed(id=ident.id, global_id=gid, type=name, error=error))
        malformed = True
    return _Batch(out, False, malformed, dropped)


_WARNED_TYPES: set[str] = set()


def checked_event(event: Event[Any]) -> Event[Any]:
    """Return ``event`` with its payload decoded, or an UnknownEvent if the payload does not fit.

    Logs a warning once per event type whose payload fails.
    """
    if type(event) is UnknownEvent:
        return event
    try:
        event.data  # noqa: B018 - decode and cache
    except SyncthingDecodeError as err:
        if event.type not in _WARNED_TYPES:
            _WARNED_TYPES.add(event.type)
            _LOG.warning(
                "%s event payload does not fit its model; yielding UnknownEvent: %s", event.type, err.detail
            )
        return UnknownEvent.from_event(event, error=err.detail)
    return event
