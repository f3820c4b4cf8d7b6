"""Models for ``/rest/stats/*`` responses."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

from ._base import SyncthingModel

__all__ = ["DeviceStatistics", "DeviceStats", "FolderStatistics", "FolderStats", "LastFile"]


class DeviceStatistics(SyncthingModel, kw_only=True):
    """Statistics of one device: https://docs.syncthing.net/rest/stats-device-get.html

    A device never seen has ``last_seen`` 1970-01-01 (1.19.2).
    """

    last_seen: datetime
    last_connection_duration_s: float = 0


DeviceStats: TypeAlias = dict[str, DeviceStatistics]
"""``GET /rest/stats/device``: device ID -> statistics. https://docs.syncthing.net/rest/stats-device-get.html"""


class LastFile(SyncthingModel, kw_only=True):
    """The last file synced in a folder (``at`` is year 1 when there is none)."""

    at: datetime
    filename: str = ""
    deleted: bool = False


class FolderStatistics(SyncthingModel, kw_only=True):
    """Statistics of one folder: https://docs.syncthing.net/rest/stats-folder-get.html"""

    last_file: LastFile
    last_scan: datetime | None = None


FolderStats: TypeAlias = dict[str, FolderStatistics]
"""``GET /rest/stats/folder``: folder ID -> statistics. https://docs.syncthing.net/rest/stats-folder-get.html"""
