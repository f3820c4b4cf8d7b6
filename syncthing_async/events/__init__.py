"""Syncthing's event stream: an async iterator (:class:`EventStream`) and a callback fan-out
(:class:`EventListener`), both reached through ``client.events``.
"""

from ._api import EventsAPI
from ._backoff import Backoff
from ._cursor import EventCursor, StreamFilter
from ._listener import EventCallback, EventListener, EventSubscription, StateCallback
from ._state import ConnectionState
from ._stream import EventStream

__all__ = [
    "Backoff",
    "ConnectionState",
    "EventCallback",
    "EventCursor",
    "EventListener",
    "EventStream",
    "EventSubscription",
    "EventsAPI",
    "StateCallback",
    "StreamFilter",
]
