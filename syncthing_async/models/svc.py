"""Models for ``/rest/svc/*`` responses."""

from __future__ import annotations

from typing import Any, TypeAlias

from ._base import SyncthingModel

__all__ = ["DeviceIDResponse", "Languages", "RandomString", "UsageReport"]


class DeviceIDResponse(SyncthingModel, kw_only=True):
    """``GET /rest/svc/deviceid``: ``id`` (canonical) or ``error``, both HTTP 200: https://docs.syncthing.net/rest/svc-deviceid-get.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/svc-deviceid-get.html"

    id: str | None = None
    error: str | None = None

    @property
    def valid(self) -> bool:
        """True when Syncthing accepted the ID (an empty input gives ``id == ""``)."""
        return self.error is None and self.id is not None


class RandomString(SyncthingModel, kw_only=True):
    """``GET /rest/svc/random/string``: https://docs.syncthing.net/rest/svc-random-string-get.html"""

    __doc_url__ = "https://docs.syncthing.net/rest/svc-random-string-get.html"

    random: str


Languages: TypeAlias = list[str]
"""``GET /rest/svc/lang``: the ``Accept-Language`` codes, lower-cased. https://docs.syncthing.net/rest/svc-lang-get.html"""

UsageReport: TypeAlias = dict[str, Any]
"""``GET /rest/svc/report``: the usage-report preview, kept loose. https://docs.syncthing.net/rest/svc-report-get.html"""
