"""Pytest fixtures for FakeSyncthing (opt in: ``pytest_plugins = ["syncthing_async.testing.pytest_plugin"]``).

Needs pytest-asyncio. Fixtures:

* ``fake_syncthing``: a started :class:`FakeSyncthing`, closed after the test.
* ``fake_syncthing_client``: a :class:`~syncthing_async.SyncthingClient` pointed at it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from .._client import SyncthingClient
from ._fake import FakeSyncthing

__all__ = ["fake_syncthing", "fake_syncthing_client"]


@pytest_asyncio.fixture
async def fake_syncthing() -> AsyncIterator[FakeSyncthing]:
    """A started FakeSyncthing on 127.0.0.1; closed after the test."""
    async with FakeSyncthing() as fake:
        yield fake


@pytest_asyncio.fixture
async def fake_syncthing_client(fake_syncthing: FakeSyncthing) -> AsyncIterator[SyncthingClient]:
    """A SyncthingClient connected to ``fake_syncthing``; closed after the test."""
    async with SyncthingClient(fake_syncthing.url, fake_syncthing.api_key) as client:
        yield client
