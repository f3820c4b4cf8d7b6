"""Syncthing's event stream: an async iterator (:class:`EventStream`) and a callback fan-out
(:class:`EventListener`), both reached through ``client.events``.

The typed events, payloads and markers of :mod:`syncthing_async.models.events` are re-exported
here (a star import of its public names), so ``from syncthing_async.events import
StateChangedEvent`` works.
"""

# No ``from __future__ import annotations`` here: every public name of this module is exported.
import types as _types_module
import typing as _typing

from ..models.events import *  # noqa: F403
from ._api import EventsAPI as EventsAPI
from ._backoff import Backoff as Backoff
from ._cursor import EventCursor as EventCursor
from ._cursor import StreamFilter as StreamFilter
from ._listener import EventCallback as EventCallback
from ._listener import EventListener as EventListener
from ._listener import EventSubscription as EventSubscription
from ._listener import StateCallback as StateCallback
from ._state import ConnectionState as ConnectionState
from ._stream import EventStream as EventStream

if not _typing.TYPE_CHECKING:  # for ``import *`` at runtime; type checkers read the imports above
    __all__ = sorted(
        name
        for name, value in globals().items()
        if not name.startswith("_") and not isinstance(value, _types_module.ModuleType)
    )
