"""Typed Syncthing events and the two-stage, lazy decoder.

A batch from ``/rest/events`` is decoded in one pass into typed event objects
(``StateChangedEvent``, ``FolderSummaryEvent``, ...) whose ``.data`` payload stays raw
JSON until it is first read; it is then decoded into its ``<Type>Data`` struct and cached.

* A type this library does not know becomes an :class:`UnknownEvent`
  (``.type``, ``.data`` as plain builtins).
* Reading ``.data`` of a typed event whose payload does not fit its struct raises
  :class:`~syncthing_async.SyncthingDecodeError`. The event stream never yields such an
  event: it checks each event before yielding it and turns a misfit into an
  ``UnknownEvent`` whose ``.error`` says why (see :func:`checked_event`).
* :class:`EventsSkipped` and :class:`StreamReset` are markers the stream yields in band.

Layout: ``_envelope`` (Event, UnknownEvent, the registry, lazy payload decoding), ``_types``
(every payload struct and event class, each type declared once), ``_markers`` (EventsSkipped,
StreamReset and their reasons), ``_decode`` (batch decoding, malformed envelopes, checked_event).

Docs: https://docs.syncthing.net/dev/events.html
"""

# No ``from __future__ import annotations`` here: every public name of this module is exported.
import types as _types_module
import typing as _typing

from ._decode import _Batch as _Batch
from ._decode import _decode_batch as _decode_batch
from ._decode import _Malformed as _Malformed
from ._decode import checked_event as checked_event
from ._decode import decode_events as decode_events
from ._envelope import _CLASS_BY_TYPE as _CLASS_BY_TYPE
from ._envelope import Event as Event
from ._envelope import RawEvent as RawEvent
from ._envelope import UnknownEvent as UnknownEvent
from ._envelope import _Decoded as _Decoded
from ._markers import EventsSkipped as EventsSkipped
from ._markers import ResetReason as ResetReason
from ._markers import SkipReason as SkipReason
from ._markers import StreamItem as StreamItem
from ._markers import StreamReset as StreamReset

# Every payload struct and event class, plus EVENT_TYPES, DISK_EVENT_TYPES, DEFAULT_EVENT_TYPES.
# A star import re-exports the public names of _types for mypy too, so there is no list to keep.
from ._types import *  # noqa: F403

if not _typing.TYPE_CHECKING:  # for ``import *`` at runtime; type checkers read the imports above
    __all__ = sorted(
        name
        for name, value in globals().items()
        if not name.startswith("_") and not isinstance(value, _types_module.ModuleType)
    )
