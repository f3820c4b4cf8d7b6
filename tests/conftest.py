"""Shared pytest fixtures."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.harness import (
    DEFAULT_TEST_FILES,
    DaemonPair,
    SyncthingDaemon,
    close_all,
    pair,
    wait_connected,
    write_files,
)

# =====================================================================================
# Real Syncthing daemons (tests/harness.py)
#
#   syncthing_version  "1.19.2" | "1.29.5"; session-scoped and parametrised (ids st1.19 /
#                      st1.29), so every test that uses a daemon fixture runs on both versions.
#                      One version only: @pytest.mark.parametrize("syncthing_version",
#                      ["1.29.5"], indirect=True)
#   daemon             shared per version for the whole session: READ-ONLY tests. Debugging on,
#                      folder "default-test" holding DEFAULT_TEST_FILES, scanned and idle.
#   fresh_daemon       a new started daemon per test (harness defaults), for destructive tests.
#   https_daemon       a new started daemon per test with gui_tls on (use .https_url and
#                      .ssl_context() / .cert_path).
#   daemon_pair        DaemonPair(a, b, folder_id="shared", path_a, path_b): two new daemons,
#                      connected, sharing folder "shared".
#   make_daemon        factory: make_daemon(**SyncthingDaemon kwargs, start=True) for custom
#                      daemons (GUI auth, ...), version = syncthing_version unless given.
#
# Every daemon is stopped (by its own PID) and its home removed at teardown, also when the
# test fails. A missing binary makes the fixture fail (never skip): run
# scripts/install-syncthing.sh.
# =====================================================================================

# --- the "daemon" marker -----------------------------------------------------------------
# Every test that starts a real Syncthing carries the marker, so `pytest -m "not daemon"` is the
# fast loop: a test using a daemon fixture gets it here at collection, and a test that starts a
# SyncthingDaemon any other way without the marker fails (SyncthingDaemon.start checks it).
DAEMON_FIXTURES = frozenset(
    {"syncthing_version", "daemon", "fresh_daemon", "https_daemon", "daemon_pair", "make_daemon"}
)
_current_item: list[pytest.Item] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if DAEMON_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.daemon)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _current_item[:] = [item]


def pytest_runtest_teardown(item: pytest.Item) -> None:
    _current_item.clear()


@pytest.fixture(scope="session", autouse=True)
def _daemon_starts_need_the_marker() -> Iterator[None]:
    real_start = SyncthingDaemon.start

    def start(self: SyncthingDaemon, *args: Any, **kwargs: Any) -> None:
        item = _current_item[0] if _current_item else None
        if item is not None and item.get_closest_marker("daemon") is None:
            raise AssertionError(f"{item.nodeid} starts a real Syncthing without @pytest.mark.daemon")
        real_start(self, *args, **kwargs)

    SyncthingDaemon.start = start  # type: ignore[method-assign]
    try:
        yield
    finally:
        SyncthingDaemon.start = real_start  # type: ignore[method-assign]


SYNCTHING_VERSIONS = ["1.19.2", "1.29.5"]
SYNCTHING_VERSION_IDS = ["st1.19", "st1.29"]
DEFAULT_TEST_FOLDER = "default-test"
SHARED_FOLDER = "shared"


@pytest.fixture(scope="session", params=SYNCTHING_VERSIONS, ids=SYNCTHING_VERSION_IDS)
def syncthing_version(request: pytest.FixtureRequest) -> str:
    """The Syncthing version under test."""
    version: str = request.param
    return version


@pytest.fixture(scope="session")
def daemon(syncthing_version: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncthingDaemon]:
    """Session-wide daemon of ``syncthing_version`` for read-only tests."""
    base = tmp_path_factory.mktemp(f"shared-{syncthing_version}")
    st = SyncthingDaemon(syncthing_version, base_dir=base, gui_debugging=True)
    try:
        folder = st.data_dir / DEFAULT_TEST_FOLDER
        write_files(folder, DEFAULT_TEST_FILES)
        st.add_folder(DEFAULT_TEST_FOLDER, folder)
        st.start()
        st.wait_folder_idle(DEFAULT_TEST_FOLDER, local_files=len(DEFAULT_TEST_FILES))
        yield st
    finally:
        st.close()


@pytest.fixture
def make_daemon(syncthing_version: str, tmp_path: Path) -> Iterator[Callable[..., SyncthingDaemon]]:
    """Factory for per-test daemons; all of them are stopped and removed at teardown."""
    created: list[SyncthingDaemon] = []

    def make(*, start: bool = True, **kwargs: Any) -> SyncthingDaemon:
        kwargs.setdefault("version", syncthing_version)
        kwargs.setdefault("base_dir", tmp_path)
        st = SyncthingDaemon(**kwargs)
        created.append(st)
        if start:
            st.start()
        return st

    try:
        yield make
    finally:
        close_all(created)


@pytest.fixture
def fresh_daemon(make_daemon: Callable[..., SyncthingDaemon]) -> SyncthingDaemon:
    """A new, started daemon that the test may break."""
    return make_daemon()


@pytest.fixture
def https_daemon(make_daemon: Callable[..., SyncthingDaemon]) -> SyncthingDaemon:
    """A new, started daemon with ``gui.useTLS`` on."""
    return make_daemon(gui_tls=True)


@pytest.fixture
def daemon_pair(make_daemon: Callable[..., SyncthingDaemon]) -> DaemonPair:
    """Two new daemons, connected to each other and sharing folder "shared"."""
    a = make_daemon(start=False, reconnect_interval_s=5)
    b = make_daemon(start=False, reconnect_interval_s=5)
    result = pair(a, b, SHARED_FOLDER, a.data_dir / SHARED_FOLDER, b.data_dir / SHARED_FOLDER)
    a.start()
    b.start()
    wait_connected(a, b)
    return result


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """Start aiohttp apps on 127.0.0.1 (or a unix socket; optionally TLS); return base URLs."""
    runners: list[web.AppRunner] = []

    async def start(
        routes: dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]],
        *,
        unix: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> str:
        app = web.Application()
        for path, handler in routes.items():
            app.router.add_route("*", path, handler)
        runner = web.AppRunner(app, shutdown_timeout=0.1)
        await runner.setup()
        runners.append(runner)
        if unix:
            await web.UnixSite(runner, unix).start()
            return f"unix://{unix}"
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"{'https' if tls else 'http'}://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()
