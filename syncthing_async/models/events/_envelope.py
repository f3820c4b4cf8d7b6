"""The event envelope: :class:`Event` (typed, lazy ``.data``), :class:`UnknownEvent`, and the
registry of event types that :class:`Event` subclasses fill by being declared.

The envelope fields are the same for every type (https://docs.syncthing.net/dev/events.html):
``id``, ``globalID``, ``time``, ``type`` and ``data``. ``data`` stays raw JSON until it is first
read; it is then decoded into the type's payload struct and cached.
"""

from __future__ import annotations

import typing
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import msgspec

from ..._exceptions import SyncthingDecodeError
from .._base import DECODE_ERRORS, SyncthingModel

D = TypeVar("D")


class RawEvent(SyncthingModel, kw_only=True, gc=False):
    """The event envelope with the payload kept as raw JSON."""

    id: int
    global_id: int = 0
    time: datetime
    type: str
    data: msgspec.Raw = msgspec.Raw(b"null")


_ENVELOPE_RENAME = {"global_id": "globalID", "_raw": "data"}


class _Decoded:
    """A payload decoded on first read, kept with its raw JSON.

    It lives in the ``_raw`` slot, which decoding only ever fills with ``msgspec.Raw``: the cache
    is not a field, so no key a server sends can set it.
    """

    __slots__ = ("raw", "value")

    def __init__(self, raw: msgspec.Raw, value: Any) -> None:
        self.raw = raw
        self.value = value

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Decoded, (self.raw, self.value))


_DECLARED: list[type[Event[Any]]] = []
"""Subclasses of Event not yet looked at by :func:`_register_declared`."""

_CLASS_BY_TYPE: dict[str, type[Event[Any]]] = {}
"""Syncthing type name -> event class, in declaration order."""


class Event(msgspec.Struct, Generic[D], kw_only=True, gc=False, rename=_ENVELOPE_RENAME):
    """A Syncthing event: ``.id``, ``.global_id``, ``.time``, ``.type`` and a typed, lazy ``.data``.

    ``id`` is the per-subscription sequence the stream's cursor counts; ``global_id`` is
    process-wide. ``data`` is decoded on first access and cached.

    An event type is declared once, as a subclass naming its payload type and its Syncthing
    type name: ``class ExampleEvent(Event[ExampleData], tag="Example")``.
    Declaring it registers it (see :func:`_register_declared`); its ``type``, payload type and
    payload decoder are derived from that line.
    """

    id: int
    global_id: int = 0
    time: datetime
    if TYPE_CHECKING:
        _raw: msgspec.Raw | _Decoded = msgspec.Raw(b"null")
    else:
        _raw: msgspec.Raw = msgspec.Raw(b"null")

    _decoder: ClassVar[msgspec.json.Decoder[Any] | None] = None
    _data_type: ClassVar[Any] = None
    _type_name: ClassVar[str] = ""
    _subscription: ClassVar[str] = "default"
    """The server subscription that carries this type: ``default`` (``/rest/events``) or
    ``disk`` (``/rest/events/disk``)."""

    if TYPE_CHECKING:

        @property
        def type(self) -> str:
            """Syncthing's event type name (``"StateChanged"``)."""
            ...

    def __init_subclass__(cls) -> None:
        # msgspec applies the class keywords (``tag=...``) only after this hook has run, so the
        # class is queued here and registered by _register_declared() once its module is done.
        # A subclass of a registered type (the decoder's hidden eager variants) is no new type.
        super().__init_subclass__()
        if not cls._type_name:
            _DECLARED.append(cls)

    @property
    def data(self) -> D:
        """The typed payload; raises SyncthingDecodeError if it does not fit its struct."""
        raw = self._raw
        if isinstance(raw, _Decoded):
            return raw.value  # type: ignore[no-any-return]
        value = self._decode(raw)
        self._raw = _Decoded(raw, value)
        return value  # type: ignore[no-any-return]

    @property
    def raw_json(self) -> bytes:
        """The payload exactly as Syncthing sent it (JSON bytes)."""
        raw = self._raw
        return bytes(raw.raw if isinstance(raw, _Decoded) else raw)

    def _decode(self, raw: msgspec.Raw) -> Any:
        decoder = self._decoder
        try:
            if decoder is None:
                return msgspec.json.decode(raw)
            return decoder.decode(raw)
        except DECODE_ERRORS as err:
            raise SyncthingDecodeError(
                f"event {self.type} (id {self.id})",
                str(err),
                bytes(raw)[:200].decode("utf-8", "replace"),
            ) from err

    def __repr__(self) -> str:
        try:
            shown = repr(self.data)
        except SyncthingDecodeError:
            shown = f"<undecodable {self.raw_json[:60]!r}>"
        name = type(self).__name__
        return f"{name}(id={self.id}, global_id={self.global_id}, time={self.time!r}, data={shown})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        if (self.type, self.id, self.global_id, self.time) != (
            other.type,
            other.id,
            other.global_id,
            other.time,
        ):
            return False
        try:
            return bool(self.data == other.data)
        except SyncthingDecodeError:
            return self.raw_json == other.raw_json

    def __hash__(self) -> int:
        return hash((self.type, self.id, self.global_id, self.time))


class UnknownEvent(Event[Any], kw_only=True, gc=False, rename=_ENVELOPE_RENAME):
    """An event of a type this library does not know, or whose payload did not fit its struct.

    ``.data`` (and ``.raw_data``) hold the payload as plain builtins; ``.error`` says why the
    typed decoding failed (None for an unknown type).
    """

    type: str
    error: str | None = None

    def __repr__(self) -> str:
        extra = f", error={self.error!r}" if self.error is not None else ""
        try:
            shown = repr(self.data)
        except SyncthingDecodeError:
            shown = f"<undecodable {self.raw_json[:60]!r}>"
        return (
            f"UnknownEvent(type={self.type!r}, id={self.id}, global_id={self.global_id}, "
            f"time={self.time!r}, data={shown}{extra})"
        )

    @property
    def raw_data(self) -> Any:
        """The payload as builtins (dict, list, str, number or None)."""
        return self.data

    @classmethod
    def from_event(cls, event: Event[Any], error: str | None = None) -> UnknownEvent:
        """Turn an event whose payload did not fit into an UnknownEvent."""
        return cls(
            id=event.id,
            global_id=event.global_id,
            time=event.time,
            type=event.type,
            _raw=msgspec.Raw(event.raw_json),
            error=error,
        )


# --------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------


class _DecoderOnFirstUse:
    """Class attribute that builds the payload decoder on first access and then replaces itself
    with it, so importing the module stays cheap and later lookups cost nothing extra."""

    def __get__(self, obj: object, owner: type[Event[Any]]) -> msgspec.json.Decoder[Any]:
        decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(owner._data_type)
        owner._decoder = decoder
        return decoder


def _payload_type(cls: type[Event[Any]]) -> Any:
    """``X`` of ``class ...(Event[X], ...)``."""
    for base in getattr(cls, "__orig_bases__", ()):
        if typing.get_origin(base) is Event:
            return typing.get_args(base)[0]
    raise TypeError(f"{cls.__qualname__}: an event type subclasses Event[<payload type>] directly")


def _register_declared() -> dict[str, type[Event[Any]]]:
    """Register the Event subclasses declared since the last call; return the registry.

    A subclass declared with ``tag="Name"`` is the event type ``Name``: it gets ``type`` and
    ``_type_name`` (the tag), ``_data_type`` (the ``X`` of ``Event[X]``) and a payload decoder
    built on first use. Subclasses without a tag (UnknownEvent, the decoder's placeholder) are
    no event types. Raises TypeError for a second declaration of a type name.
    """
    while _DECLARED:
        cls = _DECLARED.pop(0)
        config = cls.__struct_config__
        name = config.tag
        if name is None:
            continue
        if not isinstance(name, str) or config.tag_field != "type" or cls.__name__ != f"{name}Event":
            raise TypeError(
                f"{cls.__qualname__}: an event type is declared as "
                f'class <Name>Event(Event[<payload>], tag="<Name>"), got tag={name!r}'
            )
        if name in _CLASS_BY_TYPE:
            raise TypeError(f"event type {name!r} declared twice: {_CLASS_BY_TYPE[name]!r} and {cls!r}")
        cls._data_type = _payload_type(cls)
        cls._type_name = name
        # ``type`` is a read-only property for type checkers; at runtime a plain class attribute.
        setattr(cls, "type", name)  # noqa: B010
        cls._decoder = _DecoderOnFirstUse()  # type: ignore[assignment]
        _CLASS_BY_TYPE[name] = cls
    return _CLASS_BY_TYPE
