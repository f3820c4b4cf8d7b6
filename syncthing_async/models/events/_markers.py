"""In-band markers an event stream yields between events: :class:`EventsSkipped` and
:class:`StreamReset`, with the reasons they carry."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, TypeAlias

import msgspec

from ._envelope import Event


class SkipReason(enum.StrEnum):
    """Why events were skipped."""

    GAP = "gap"
    """Ids jumped: Syncthing's 1000-event buffer overflowed, or it dropped events."""
    RESUME = "resume"
    """The saved cursor is older than what Syncthing still buffers."""
    RESTART = "restart"
    """After a restart, the new process's first events were already gone."""
    OVERFLOW = "overflow"
    """A listener consumer was too slow; its bounded buffer was full."""
    MALFORMED = "malformed"
    """Syncthing sent the event, but its envelope (time, type...) did not decode."""


class ResetReason(enum.StrEnum):
    """Why the stream's cursor was reset."""

    RESTART = "restart"
    """Syncthing's start time changed: the process restarted and its ids began again at 1."""
    ID_REGRESS = "id_regress"
    """Event ids went backwards with no start-time change (treated like a restart)."""
    DEVICE_CHANGED = "device_changed"
    """A different Syncthing device now answers at this address."""


class EventsSkipped(msgspec.Struct, kw_only=True, frozen=True):
    """In-band marker: ``count`` events (ids ``first_id``..``last_id``) were lost before the next one.

    Consumers that mirror state should refetch it (e.g. ``/rest/db/status``).
    """

    count: int
    first_id: int
    last_id: int
    reason: SkipReason = SkipReason.GAP
    filter: str = "default"
    """The server subscription (``default`` or ``disk``)."""

    @property
    def type(self) -> str:
        """Marker name, for uniform logging."""
        return "EventsSkipped"


class StreamReset(msgspec.Struct, kw_only=True, frozen=True):
    """In-band marker: Syncthing restarted (or ids regressed); the stream restarts at the new first id.

    Events of the old process after ``last_id`` are lost; ``old_start_time`` and
    ``new_start_time`` come from ``/rest/system/status``.
    """

    reason: ResetReason
    last_id: int
    """The last id delivered before the reset (old numbering)."""
    old_start_time: datetime | None = None
    new_start_time: datetime | None = None
    device_id: str = ""
    filter: str = "default"

    @property
    def type(self) -> str:
        """Marker name, for uniform logging."""
        return "StreamReset"


StreamItem: TypeAlias = Event[Any] | EventsSkipped | StreamReset
"""What an event stream yields: events and in-band markers."""
