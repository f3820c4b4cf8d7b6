"""Small building blocks shared by the library's async objects: ``async with`` and callback lists."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Generic, Self, TypeVar

__all__ = ["AsyncContext", "Callbacks"]

_LOG = logging.getLogger("syncthing_async")

C = TypeVar("C", bound=Callable[..., object])


class AsyncContext:
    """``async with obj:`` runs ``await obj._enter()`` (nothing by default) and, on the way out,
    ``await obj._exit()``."""

    async def _enter(self) -> None:
        return None

    async def _exit(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self._enter()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._exit()


class Callbacks(Generic[C]):
    """A list of callbacks: ``add(callback) -> unsubscribe``; :meth:`call` isolates failures."""

    __slots__ = ("_items", "_what")

    def __init__(self, what: str) -> None:
        self._items: list[C] = []
        self._what = what

    def add(self, callback: C) -> Callable[[], None]:
        """Register ``callback``; returns a callable that unregisters it (idempotent)."""
        self._items.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._items.remove(callback)

        return unsubscribe

    def __iter__(self) -> Iterator[C]:
        return iter(list(self._items))  # a callback may unsubscribe while being called

    def call(self, *args: object) -> None:
        """Call each callback; one that raises is logged and the others still run."""
        for callback in self:
            try:
                callback(*args)
            except Exception:
                _LOG.exception("%s callback %r failed", self._what, callback)
