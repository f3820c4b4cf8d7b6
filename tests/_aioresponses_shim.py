"""Make aioresponses 0.7.9 work with aiohttp >= 3.14 (aioresponses issue #289).

aiohttp 3.14 added a required keyword-only ``stream_writer`` argument to
``ClientResponse.__init__``; aioresponses builds its fake responses without it and every mocked
request fails with ``TypeError: ... missing 1 required keyword-only argument: 'stream_writer'``.
The shim gives aioresponses a ``ClientResponse`` subclass that supplies a stand-in writer (the
request counts as already sent: ``writer=None``), and changes nothing else. Checked against
aiohttp 3.14.5 / aioresponses 0.7.9: status, headers, bodies and ``m.requests`` all work.

Import ``aioresponses`` from here::

    from tests._aioresponses_shim import aioresponses
"""

from __future__ import annotations

import inspect
from typing import Any

import aioresponses.core as _core
from aiohttp import ClientResponse
from aioresponses import aioresponses

__all__ = ["NEEDS_SHIM", "aioresponses"]

NEEDS_SHIM = "stream_writer" in inspect.signature(ClientResponse.__init__).parameters
"""True when the installed aiohttp requires ``stream_writer`` (3.14+)."""


class _SentWriter:
    """What ``ClientResponse`` reads from a finished writer: the number of bytes sent."""

    output_size = 0


class _CompatClientResponse(ClientResponse):
    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", _SentWriter())
        super().__init__(method, url, **kwargs)


if NEEDS_SHIM and _core.ClientResponse is ClientResponse:
    _core.ClientResponse = _CompatClientResponse  # type: ignore[misc]
