"""The fault proxy really does each kind of damage (raw sockets and the library's own client)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from syncthing_async import SyncthingClient, SyncthingConnectionError, SyncthingTimeoutError
from syncthing_async._core import SessionCore
from tests.faultproxy import FaultKind, FaultProxy, FaultSpec, RandomFaults
from tests.harness import SyncthingDaemon

BODY = bytes(range(256)) * 64  # 16 KiB, every byte position recognisable


async def _body(request: web.Request) -> web.StreamResponse:
    """Headers first, then the body a moment later (like Syncthing's long poll)."""
    resp = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    resp.content_length = len(BODY)
    await resp.prepare(request)
    await asyncio.sleep(0.05)
    await resp.write(BODY)
    await resp.write_eof()
    return resp


async def _ping(request: web.Request) -> web.Response:
    return web.json_response({"ping": "pong"})


@pytest.fixture
async def upstream() -> AsyncIterator[int]:
    app = web.Application()
    app.router.add_get("/body", _body)
    app.router.add_get("/rest/system/ping", _ping)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port: int = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield port
    await runner.cleanup()


@pytest.fixture
async def proxy(upstream: int) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(upstream, max_lifetime=20.0) as p:
        yield p


@dataclass
class Fetch:
    data: bytes = b""
    error: BaseException | None = None
    reads: int = 0
    elapsed: float = 0.0
    gaps: list[float] = field(default_factory=list)

    @property
    def body(self) -> bytes:
        return self.data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in self.data else b""


async def fetch(port: int, path: str = "/body", limit: float = 10.0) -> Fetch:
    """One raw HTTP/1.1 request; collect bytes until EOF or error."""
    out = Fetch()
    started = last = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as err:
        out.error = err
        return out
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        async with asyncio.timeout(limit):
            while True:
                chunk = await reader.read(65536)
                now = time.monotonic()
                if not chunk:
                    break
                out.gaps.append(now - last)
                last = now
                out.reads += 1
                out.data += chunk
    except (OSError, TimeoutError) as err:
        out.error = err
    finally:
        writer.transport.abort()
        writer.close()
    out.elapsed = time.monotonic() - started
    return out


async def test_clean_connection_passes_everything(proxy: FaultProxy) -> None:
    got = await fetch(proxy.port)
    assert got.error is None
    assert got.body == BODY
    assert proxy.accepted == 1
    assert sum(proxy.fired.values()) == 0


async def test_reset_mid_body(proxy: FaultProxy) -> None:
    proxy.queue(FaultSpec(FaultKind.RESET, body_offset=1000))
    got = await fetch(proxy.port)
    assert isinstance(got.error, ConnectionResetError)
    assert b"200 OK" in got.data
    assert got.body == BODY[:1000]  # exactly the armed part of the body arrived
    assert proxy.fired[FaultKind.RESET] == 1


async def test_reset_at_random_point_is_inside_the_body(proxy: FaultProxy) -> None:
    for _ in range(5):
        proxy.queue(FaultSpec(FaultKind.RESET))
        got = await fetch(proxy.port)
        assert isinstance(got.error, ConnectionResetError)
        assert 0 < len(got.body) < len(BODY)
        assert BODY.startswith(got.body)
    assert proxy.fired[FaultKind.RESET] == 5


async def test_stall_then_resume(proxy: FaultProxy) -> None:
    proxy.queue(FaultSpec(FaultKind.STALL, body_offset=10, duration=0.8))
    got = await fetch(proxy.port)
    assert got.error is None
    assert got.body == BODY
    assert max(got.gaps) >= 0.75  # the response stopped for the stall's duration
    assert proxy.fired[FaultKind.STALL] == 1


async def test_stall_then_reset(proxy: FaultProxy) -> None:
    proxy.queue(FaultSpec(FaultKind.STALL, body_offset=10, duration=0.5, resume=False))
    got = await fetch(proxy.port)
    assert isinstance(got.error, ConnectionResetError)
    assert got.body == BODY[:10]
    assert got.elapsed >= 0.5


async def test_stall_longer_than_client_timeout_times_out(proxy: FaultProxy) -> None:
    proxy.queue(FaultSpec(FaultKind.STALL, body_offset=5, duration=10.0))
    started = time.monotonic()
    got = await fetch(proxy.port, limit=0.5)
    assert isinstance(got.error, TimeoutError)
    assert got.body == BODY[:5]
    assert time.monotonic() - started < 2.0
    # the proxy notices the client went away and ends the stalled connection quickly
    async with asyncio.timeout(3):
        while proxy.connections:
            await asyncio.sleep(0.02)


async def test_half_close_truncates_the_body(proxy: FaultProxy) -> None:
    proxy.queue(FaultSpec(FaultKind.HALF_CLOSE, body_offset=3000))
    got = await fetch(proxy.port)
    assert got.error is None  # a clean FIN, not a reset
    assert got.body == BODY[:3000]
    assert proxy.fired[FaultKind.HALF_CLOSE] == 1


async def test_slow_drip(proxy: FaultProxy) -> None:
    proxy.queue(FaultSpec(FaultKind.DRIP, body_offset=0, chunk=512, delay=0.02))
    got = await fetch(proxy.port)
    assert got.error is None
    assert got.body == BODY
    assert got.reads >= len(BODY) // 512 // 2  # arrived in many small pieces
    assert got.elapsed >= (len(BODY) // 512) * 0.02 * 0.8
    assert proxy.fired[FaultKind.DRIP] == 1


async def test_drip_limit_then_full_speed_and_a_second_fault(upstream: int) -> None:
    """A drip ends after ``limit`` bytes; the same keep-alive connection then takes another fault."""
    async with FaultProxy(upstream) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        async with asyncio.timeout(2):
            while not proxy.connections:
                await asyncio.sleep(0.01)
        conn = next(iter(proxy.connections))
        conn.inject(FaultSpec(FaultKind.DRIP, body_offset=0, chunk=100, delay=0.01, limit=1000))
        request = b"GET /body HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        writer.write(request)
        started = time.monotonic()
        head = await reader.readuntil(b"\r\n\r\n")
        assert b"200 OK" in head
        assert await reader.readexactly(len(BODY)) == BODY
        elapsed = time.monotonic() - started
        assert 0.08 <= elapsed < 1.0  # ~10 dripped writes, then the rest at once
        conn.inject(FaultSpec(FaultKind.RESET, body_offset=50))
        writer.write(request)
        await reader.readuntil(b"\r\n\r\n")
        assert await reader.read(65536) == BODY[:50]
        with pytest.raises(ConnectionResetError):
            await reader.read(65536)
        writer.close()
        assert proxy.fired[FaultKind.DRIP] == 1 and proxy.fired[FaultKind.RESET] == 1


async def test_accept_then_reset(proxy: FaultProxy) -> None:
    proxy.queue(FaultSpec(FaultKind.ACCEPT_RESET))
    got = await fetch(proxy.port)
    assert got.data == b""
    assert isinstance(got.error, ConnectionResetError)
    assert proxy.fired[FaultKind.ACCEPT_RESET] == 1


async def test_refused_connects(proxy: FaultProxy) -> None:
    window = asyncio.create_task(proxy.refuse_for(0.5))
    await asyncio.sleep(0.05)
    got = await fetch(proxy.port)
    assert isinstance(got.error, ConnectionRefusedError)
    await window
    got = await fetch(proxy.port)  # listening again on the same port
    assert got.error is None and got.body == BODY
    assert proxy.fired[FaultKind.REFUSE] == 1


async def test_reset_now_on_a_live_connection(proxy: FaultProxy) -> None:
    proxy.queue(FaultSpec(FaultKind.STALL, body_offset=0, duration=5.0))
    task = asyncio.create_task(fetch(proxy.port))
    async with asyncio.timeout(3):
        while not proxy.connections or next(iter(proxy.connections)).fired is None:
            await asyncio.sleep(0.01)
    assert proxy.reset_all() == 1
    got = await task
    assert isinstance(got.error, ConnectionResetError)
    assert got.elapsed < 3.0
    async with asyncio.timeout(2):  # the stalled connection ends with the reset
        while proxy.connections:
            await asyncio.sleep(0.01)


async def test_inject_on_live_connection(upstream: int) -> None:
    async with FaultProxy(upstream) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        async with asyncio.timeout(2):
            while not proxy.connections:
                await asyncio.sleep(0.01)
        next(iter(proxy.connections)).inject(FaultSpec(FaultKind.RESET, body_offset=100))
        writer.write(b"GET /body HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        with pytest.raises(ConnectionResetError):
            while chunk := await reader.read(65536):
                data += chunk
        writer.close()
        assert data.split(b"\r\n\r\n", 1)[1] == BODY[:100]


async def test_limits_are_enforced(upstream: int) -> None:
    async with FaultProxy(upstream, max_connections=1, max_lifetime=0.5) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        await asyncio.sleep(0.1)
        got = await fetch(proxy.port)  # second connection: over the limit, reset
        assert isinstance(got.error, ConnectionResetError) or got.data == b""
        assert proxy.over_limit == 1
        started = time.monotonic()
        assert await asyncio.wait_for(reader.read(), 3.0) == b""  # lifetime cap closes the idle one
        assert time.monotonic() - started < 1.0
        writer.close()


async def test_close_ends_live_connections(upstream: int) -> None:
    proxy = await FaultProxy(upstream).start()
    proxy.queue(FaultSpec(FaultKind.STALL, body_offset=0, duration=30.0))
    task = asyncio.create_task(fetch(proxy.port))
    await asyncio.sleep(0.3)
    started = time.monotonic()
    await proxy.close()
    got = await asyncio.wait_for(task, 3.0)
    assert got.body == b""
    assert time.monotonic() - started < 2.0
    assert not proxy.connections


async def test_unreachable_upstream_resets_the_client() -> None:
    async with FaultProxy(1) as proxy:  # nothing listens on port 1
        got = await fetch(proxy.port)
        assert got.data == b""
        assert proxy.upstream_failures == 1


def test_only_loopback() -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        FaultProxy(80, upstream_host="10.0.0.1")


def test_random_policy_is_seeded_and_mixed() -> None:
    policy, same = RandomFaults(seed=7, rate=0.8), RandomFaults(seed=7, rate=0.8)
    first = [policy(i) for i in range(200)]
    again = [same(i) for i in range(200)]
    assert first == again
    kinds = {spec.kind for spec in first if spec is not None}
    assert kinds == {
        FaultKind.RESET,
        FaultKind.STALL,
        FaultKind.HALF_CLOSE,
        FaultKind.DRIP,
        FaultKind.ACCEPT_RESET,
    }
    assert 0 < first.count(None) < 100


# ---------------------------------------------------------------- what the library sees


async def test_library_maps_proxy_faults(proxy: FaultProxy) -> None:
    core = SessionCore(proxy.url, "k", timeout=0.5)
    try:
        proxy.queue(FaultSpec(FaultKind.RESET, body_offset=100))
        with pytest.raises(SyncthingConnectionError):
            await core.request("GET", "/body", expect="bytes")
        proxy.queue(FaultSpec(FaultKind.HALF_CLOSE, body_offset=100))
        with pytest.raises(SyncthingConnectionError):
            await core.request("GET", "/body", expect="bytes")
        proxy.queue(FaultSpec(FaultKind.STALL, body_offset=100, duration=5.0))
        with pytest.raises(SyncthingTimeoutError):
            await core.request("GET", "/body", expect="bytes")
        proxy.queue(FaultSpec(FaultKind.DRIP, body_offset=0, chunk=2048, delay=0.001))
        assert await core.request("GET", "/body", expect="bytes") == BODY
        assert await core.request("GET", "/rest/system/ping") == {"ping": "pong"}
    finally:
        await core.close()


@pytest.mark.daemon
@pytest.mark.parametrize("syncthing_version", ["1.29.5"], indirect=True)
async def test_real_syncthing_through_the_proxy(fresh_daemon: SyncthingDaemon) -> None:
    async with (
        FaultProxy(fresh_daemon.gui_port) as proxy,
        SyncthingClient(proxy.url, fresh_daemon.api_key, timeout=5) as client,
    ):
        assert await client.health()
        proxy.reset_all()  # no pooled connection left: the next request connects anew
        await asyncio.sleep(0.05)
        proxy.queue(FaultSpec(FaultKind.ACCEPT_RESET), FaultSpec(FaultKind.ACCEPT_RESET))
        with pytest.raises(SyncthingConnectionError):
            await client.system.status()
        proxy.clear_queue()
        proxy.queue(FaultSpec(FaultKind.DRIP, chunk=16, delay=0.001))
        status = await client.system.status()
        assert status is not None
        assert proxy.fired[FaultKind.ACCEPT_RESET] >= 1
        assert proxy.fired[FaultKind.DRIP] == 1
