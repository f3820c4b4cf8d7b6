"""Async iteration over Syncthing's paged endpoints (https://docs.syncthing.net/rest/db-need-get.html).

``db/need``, ``db/remoteneed``, ``db/localchanged`` and ``folder/errors`` take ``page`` (1-based)
and ``perpage`` and answer with no total count, so the only end marker is a page with fewer
items than asked for. :class:`PageIterator` fetches one page at a time, only when the consumer
asks for more::

    async for item in client.db.iter_need(folder="default"):
        ...
    async for page in client.db.iter_need(folder="default").pages():
        ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Final, Generic, TypeVar

__all__ = ["DEFAULT_PER_PAGE", "PageIterator"]

P = TypeVar("P")
T = TypeVar("T")

DEFAULT_PER_PAGE: Final = 1000
"""Items per request of the generated ``iter_*`` helpers (Syncthing's own default is 65536)."""


class PageIterator(Generic[P, T]):
    """Iterate over the items of a paged endpoint (``async for``) or over its pages (:meth:`pages`).

    ``fetch(page, per_page)`` returns one decoded page; ``items(page)`` lists its items in order.
    Iteration stops after the first page holding fewer than ``per_page`` items (an empty page
    included). Each ``async for`` starts again at ``first_page``.
    """

    __slots__ = ("_fetch", "_first_page", "_items", "_per_page")

    def __init__(
        self,
        fetch: Callable[[int, int], Awaitable[P]],
        items: Callable[[P], Sequence[T]],
        per_page: int = DEFAULT_PER_PAGE,
        *,
        first_page: int = 1,
    ) -> None:
        if per_page < 1:
            raise ValueError(f"per_page must be at least 1, not {per_page}")
        if first_page < 1:
            raise ValueError(f"first_page must be at least 1, not {first_page}")
        self._fetch = fetch
        self._items = items
        self._per_page = per_page
        self._first_page = first_page

    @property
    def per_page(self) -> int:
        """Items asked for per request."""
        return self._per_page

    async def pages(self) -> AsyncIterator[P]:
        """Yield page after page; the last one yielded is the first short (or empty) page."""
        page = self._first_page
        while True:
            result = await self._fetch(page, self._per_page)
            yield result
            if len(self._items(result)) < self._per_page:
                return
            page += 1

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in self._items(page):
                yield item

    async def collect(self) -> list[T]:
        """Fetch every page and return all items in one list."""
        return [item async for item in self]
