"""Base classes and helpers shared by every model."""

from __future__ import annotations

import enum
from typing import Any, ClassVar, Generic, TypeVar

import msgspec

__all__ = ["DECODE_ERRORS", "LazyDecoder", "SyncthingEnum", "SyncthingModel", "syncthing_rename"]


def syncthing_rename(name: str) -> str:
    """Map a snake_case attribute to Syncthing's key: ``my_id`` -> ``myID``, ``folder_id`` -> ``folderID``.

    Irregular keys (``useTLS``, ``RawURL``...) are named explicitly with ``msgspec.field(name=...)``.
    """
    if "_" not in name:  # most fields: called once per field of every model at import
        return name
    parts = name.split("_")
    out = [parts[0]]
    for part in parts[1:]:
        out.append("ID" if part == "id" else part[:1].upper() + part[1:])
    return "".join(out)


class SyncthingModel(
    msgspec.Struct,
    kw_only=True,
    rename=syncthing_rename,
    omit_defaults=False,
):
    """Base of every response and request model.

    Unknown keys are ignored when decoding, so newer Syncthing versions never break a model.
    Fields that some supported versions do not send have defaults.
    """

    __doc_url__: ClassVar[str] = ""


class SyncthingEnum(enum.StrEnum):
    """A closed set of Syncthing strings; values this library does not know become ``UNKNOWN``."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        return cls.__members__.get("UNKNOWN")


DECODE_ERRORS: tuple[type[Exception], ...] = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)
"""What msgspec raises for a payload that does not fit: ValidationError is a DecodeError; invalid
UTF-8 inside a JSON string surfaces as UnicodeDecodeError; nesting deeper than the interpreter's
recursion limit surfaces as RecursionError."""


T = TypeVar("T")


class LazyDecoder(Generic[T]):
    """A ``msgspec.json.Decoder`` for one type, built on first use and then reused.

    Building a decoder resolves the annotations of the whole Struct tree (CPU only, no I/O);
    doing it on first use keeps ``import syncthing_async`` cheap.
    """

    __slots__ = ("_decoder", "type")

    def __init__(self, type: Any) -> None:
        self.type = type
        self._decoder: msgspec.json.Decoder[T] | None = None

    def __call__(self) -> msgspec.json.Decoder[T]:
        """The decoder (built now if this is the first call)."""
        decoder = self._decoder
        if decoder is None:
            decoder = self._decoder = msgspec.json.Decoder(self.type)
        return decoder

    def decode(self, buf: bytes | str) -> T:
        """Shortcut for ``self().decode(buf)``."""
        return self().decode(buf)
