"""Models for the JSON ``/rest/debug/*`` responses."""

from __future__ import annotations

from typing import TypeAlias

import msgspec

from ._base import SyncthingModel
from ._fields import NullList
from .db import Availability, FileInfo, MtimeMapping

__all__ = ["DebugFile", "HttpMetric", "HttpMetrics", "PeerCompletion"]


class DebugFile(SyncthingModel, kw_only=True):
    """``GET /rest/debug/file``: https://docs.syncthing.net/rest/debug.html

    v1.x lists availability as device ID strings and adds ``global_versions`` and ``mtime``.
    """

    __doc_url__ = "https://docs.syncthing.net/rest/debug.html"

    global_: FileInfo = msgspec.field(name="global")
    local: FileInfo
    availability: NullList[str | Availability] = msgspec.field(default_factory=list)
    global_versions: str = ""
    """v1.x only: a debug dump of the global version list."""
    mtime: MtimeMapping | None = None
    """v1.x only."""

    def __post_init__(self) -> None:
        if self.availability is None:
            self.availability = []


PeerCompletion: TypeAlias = dict[str, int]
"""``GET /rest/debug/peerCompletion`` (v1.x only): device ID -> percent. https://docs.syncthing.net/rest/debug.html"""


class HttpMetric(SyncthingModel, kw_only=True):
    """Timing of one REST path (``/rest/debug/httpmetrics``, v1.x only)."""

    count: int = 0
    sum_ms: float = 0
    rates_per_s: list[float] = msgspec.field(default_factory=list)
    """1, 5 and 15 minute rates."""
    percentiles_ms: list[float] = msgspec.field(default_factory=list)
    """50th, 95th and 99th percentiles."""


HttpMetrics: TypeAlias = dict[str, HttpMetric]
"""``GET /rest/debug/httpmetrics`` (v1.x only; sent as text/plain): path -> timing. https://docs.syncthing.net/rest/debug.html"""
