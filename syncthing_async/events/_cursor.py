"""The resumable position in Syncthing's event stream."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

__all__ = ["EventCursor", "StreamFilter"]

StreamFilter = Literal["default", "disk"]
"""The server subscription a cursor belongs to: ``/rest/events`` or ``/rest/events/disk``."""


class EventCursor(msgspec.Struct, frozen=True, kw_only=True):
    """Where a stream stands: which Syncthing process (device id and start time), which server
    subscription, and the last event id handled.

    Save it (``to_json()``) after handling an event and pass it back as ``since=`` to continue
    with no loss and no replay. Event ids are only meaningful for one process life: if the
    process restarted in between, the stream yields a StreamReset and starts at its first event.
    """

    device_id: str
    start_time: datetime
    filter: StreamFilter = "default"
    last_id: int = 0

    def to_json(self) -> str:
        """Serialise to a JSON string."""
        return msgspec.json.encode(self).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> EventCursor:
        """Parse what :meth:`to_json` produced; raises ValueError if it does not fit."""
        try:
            return msgspec.json.decode(text, type=cls)
        except msgspec.DecodeError as err:
            raise ValueError(f"not an event cursor: {err}") from err
