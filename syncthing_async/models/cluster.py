"""Models for ``/rest/cluster/*`` responses."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import msgspec

from ._base import SyncthingModel
from ._fields import NullDict

__all__ = [
    "PendingDeviceInfo",
    "PendingDevices",
    "PendingFolderInfo",
    "PendingFolderOffer",
    "PendingFolders",
]


class PendingDeviceInfo(SyncthingModel, kw_only=True):
    """An unknown device that tried to connect: https://docs.syncthing.net/rest/cluster-pending-devices-get.html"""

    time: datetime
    name: str = ""
    address: str = ""


PendingDevices: TypeAlias = dict[str, PendingDeviceInfo]
"""``GET /rest/cluster/pending/devices``: device ID -> offer. https://docs.syncthing.net/rest/cluster-pending-devices-get.html"""


class PendingFolderOffer(SyncthingModel, kw_only=True):
    """One device offering a pending folder: https://docs.syncthing.net/rest/cluster-pending-folders-get.html"""

    time: datetime
    label: str = ""
    receive_encrypted: bool = False
    remote_encrypted: bool = False


class PendingFolderInfo(SyncthingModel, kw_only=True):
    """A folder offered to us but not shared back: https://docs.syncthing.net/rest/cluster-pending-folders-get.html"""

    offered_by: NullDict[str, PendingFolderOffer] = msgspec.field(default_factory=dict)
    """Device ID -> offer."""

    def __post_init__(self) -> None:
        if self.offered_by is None:
            self.offered_by = {}


PendingFolders: TypeAlias = dict[str, PendingFolderInfo]
"""``GET /rest/cluster/pending/folders``: folder ID -> offers. https://docs.syncthing.net/rest/cluster-pending-folders-get.html"""
