"""The real daemons close an idle keep-alive connection after 15 s; the client's pool forgets it sooner.

Syncthing's GUI server is Go's net/http with ``ReadTimeout: 15 * time.Second`` and no
``IdleTimeout`` (lib/api/api.go at https://github.com/syncthing/syncthing), so net/http closes an
idle keep-alive connection after 15 s. Measured here on both real versions at once (one wait).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import anyio
import pytest

from syncthing_async import SyncthingClient
from tests.harness import SyncthingDaemon
from tests.test_core import SYNCTHING_IDLE_CLOSE_S

pytestmark = [pytest.mark.daemon, pytest.mark.slow]


def _idle_close_after(url: str, api_key: str) -> float:
    """Seconds from the end of an answer until the server closes the idle connection."""
    host, port = url.split("//", 1)[1].rstrip("/").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        request = f"GET /rest/system/ping HTTP/1.1\r\nHost: {host}:{port}\r\nX-API-Key: {api_key}\r\n\r\n"
        sock.sendall(request.encode())
        answer = b""
        while b'"pong"' not in answer:
            chunk = sock.recv(65536)
            assert chunk, f"closed before answering: {answer!r}"
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200"), answer[:80]
        idle_from = time.monotonic()
        sock.settimeout(SYNCTHING_IDLE_CLOSE_S + 30)  # bound: the close comes at 15 s
        assert sock.recv(65536) == b"", "the server sent something on an idle connection"
        return time.monotonic() - idle_from


@pytest.mark.parametrize("syncthing_version", ["1.29.5"], indirect=True)
async def test_syncthing_closes_idle_connections_after_15s_and_the_pool_forgets_them_sooner(
    daemon: SyncthingDaemon, make_daemon: Callable[..., SyncthingDaemon]
) -> None:
    old = make_daemon(version="1.19.2")
    measured: dict[str, float] = {}

    async def measure(st: SyncthingDaemon) -> None:
        measured[st.version] = await anyio.to_thread.run_sync(_idle_close_after, st.url, st.api_key)

    async with anyio.create_task_group() as tg:
        tg.start_soon(measure, daemon)
        tg.start_soon(measure, old)

    async with SyncthingClient(daemon.url, daemon.api_key) as client:
        connector = client._core._get_session().connector
        assert connector is not None
        keepalive = connector._keepalive_timeout  # no public accessor in aiohttp

    for version, seconds in measured.items():
        # Go closes at ReadTimeout; a loaded machine may add a little, never remove any
        assert SYNCTHING_IDLE_CLOSE_S - 0.5 <= seconds < SYNCTHING_IDLE_CLOSE_S + 10, (version, seconds)
        assert keepalive <= seconds - 3, (version, keepalive, seconds)
    assert sorted(measured) == ["1.19.2", "1.29.5"]
