# DO NOT EDIT: temporary bootstrap; replaced by `python -m syncthing_async._codegen`.
"""Endpoint namespaces (bootstrap until the generator lands)."""

from __future__ import annotations

from typing import Any

from .._core import Namespace


class SystemAPI(Namespace):
    """``/rest/system/*``."""

    async def status(self) -> Any:
        """``GET /rest/system/status``."""
        return await self._core.request("GET", "/rest/system/status")

    async def version(self) -> Any:
        """``GET /rest/system/version``."""
        return await self._core.request("GET", "/rest/system/version")

    async def ping(self) -> Any:
        """``GET /rest/system/ping``."""
        return await self._core.request("GET", "/rest/system/ping")


class ConfigAPI(Namespace):
    """``/rest/config/*``."""


class ClusterAPI(Namespace):
    """``/rest/cluster/*``."""


class DbAPI(Namespace):
    """``/rest/db/*``."""

    async def status(self, *, folder: str) -> Any:
        """``GET /rest/db/status``."""
        return await self._core.request("GET", "/rest/db/status", params={"folder": folder})


class FolderAPI(Namespace):
    """``/rest/folder/*``."""


class StatsAPI(Namespace):
    """``/rest/stats/*``."""


class SvcAPI(Namespace):
    """``/rest/svc/*``."""


class NoauthAPI(Namespace):
    """``/rest/noauth/*``."""


class DebugAPI(Namespace):
    """``/rest/debug/*``."""
