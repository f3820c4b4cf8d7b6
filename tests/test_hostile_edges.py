"""Safe at the edges: hostile ids, redirects, bodies and sessions against the session core.

One test per finding of the "safe at the edges" review (the event-stream findings are in
tests/test_hostile_stream.py). Every server here listens on 127.0.0.1 or a unix socket only.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import anyio
import pytest
from aiohttp import web

from syncthing_async import (
    DeviceID,
    InvalidArgumentError,
    RedirectRefusedError,
    ResponseTooLargeError,
    SyncthingClient,
    SyncthingClosedError,
    SyncthingConnectionError,
    SyncthingDecodeError,
    SyncthingError,
    load_fingerprint,
)
from syncthing_async._core import DEFAULT_MAX_RESPONSE_SIZE
from tests.harness import SyncthingDaemon

KEY = "hostile-edges-test-key-0123456789"
CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@contextlib.asynccontextmanager
async def raw_server(reply: Callable[[asyncio.StreamWriter], Awaitable[None]]) -> AsyncIterator[str]:
    """A TCP server on 127.0.0.1 that reads one request head and answers with ``reply`` bytes."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            await reply(writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


# ----------------------------------------------------------------------------- 1. ids as paths

BAD_IDS = ["..", ".", "", "x/..", "../config", "a/b"]


@pytest.mark.daemon
async def test_1_dot_ids_never_reach_syncthing_and_config_survives(fresh_daemon: SyncthingDaemon) -> None:
    """``folders.put("..")`` once re-sent the body to /rest/config and wiped it; now refused locally."""
    before = fresh_daemon.config_path.read_bytes()
    async with SyncthingClient(fresh_daemon.url, fresh_daemon.api_key) as c:
        for bad in BAD_IDS:
            calls = [
                c.config.folders.get(folder_id=bad),
                c.config.folders.put(folder_id=bad, folder={"path": "/tmp/x"}),
                c.config.folders.patch(folder_id=bad, changes={"label": "x"}),
                c.config.folders.delete(folder_id=bad),
                c.config.devices.get(device_id=bad),
                c.config.devices.delete(device_id=bad),
            ]
            for call in calls:
                with pytest.raises(InvalidArgumentError) as info:
                    await call
                assert isinstance(info.value, ValueError)
                assert isinstance(info.value, SyncthingError)
        # Defence in depth: the raw core, bypassing the id check, meets Syncthing's 301 to
        # /rest/config; the PUT is refused, not re-sent.
        with pytest.raises(RedirectRefusedError) as redirect:
            await c._core.request("PUT", "/rest/config/folders/..", json={"path": "/tmp/x"}, expect="none")
        assert redirect.value.status == 301
        assert redirect.value.location.endswith("/rest/config")
        assert "PUT is never re-sent" in str(redirect.value)
        assert (await c.system.ping()).ping == "pong"  # the client still works
        folders = await c.config.folders.list()
        assert folders == []
    assert fresh_daemon.config_path.read_bytes() == before


# ----------------------------------------------------------------------------- 2. unix:// and sessions


@contextlib.asynccontextmanager
async def unix_to_tcp(sock: Path, port: int) -> AsyncIterator[list[int]]:
    """Forward a unix socket to 127.0.0.1:port; yields a one-item list counting connections.
    Every socket it opened is closed (and awaited) on exit."""
    count = [0]
    writers: list[asyncio.StreamWriter] = []
    handlers: set[asyncio.Task[None]] = set()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        count[0] += 1
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        writers.append(writer)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        writers.append(up_writer)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_unix_server(handle, str(sock))
    try:
        yield count
    finally:
        server.close()
        await server.wait_closed()
        for writer in writers:
            writer.close()
        with anyio.fail_after(5):
            await asyncio.gather(*handlers, return_exceptions=True)
            await asyncio.gather(*(w.wait_closed() for w in writers), return_exceptions=True)


@pytest.mark.daemon
async def test_2_unix_url_uses_the_socket_or_refuses_the_session(
    daemon: SyncthingDaemon, tmp_path: Path
) -> None:
    sock = tmp_path / "gui.sock"
    port = int(daemon.url.rsplit(":", 1)[1])
    # A TCP session cannot reach a unix socket: refused at construction, so no request exists.
    async with aiohttp.ClientSession() as tcp:
        with pytest.raises(InvalidArgumentError, match="UnixConnector") as info:
            SyncthingClient(f"unix://{sock}", daemon.api_key, session=tcp)
        assert isinstance(info.value, ValueError)
    wrong = aiohttp.UnixConnector(path=str(tmp_path / "other.sock"))
    async with aiohttp.ClientSession(connector=wrong) as other:
        with pytest.raises(InvalidArgumentError, match="UnixConnector"):
            SyncthingClient(f"unix://{sock}", daemon.api_key, session=other)
    # The right session goes through the socket to the real Syncthing.
    async with unix_to_tcp(sock, port) as connections:
        right = aiohttp.UnixConnector(path=str(sock))
        async with aiohttp.ClientSession(connector=right) as session:
            client = SyncthingClient(f"unix://{sock}", daemon.api_key, session=session)
            status = await client.system.status()
            assert str(status.my_id) == daemon.device_id
            await client.close()
            assert not session.closed  # lent, never closed
        assert connections[0] >= 1


# ----------------------------------------------------------------------------- 3. body size


async def test_3_claimed_huge_body_is_refused_before_reading() -> None:
    async def reply(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b"Content-Length: %d\r\n\r\n" % (1 << 30))
        writer.write(b"[" + b"0," * 1000)
        await writer.drain()
        await asyncio.sleep(5)

    async with raw_server(reply) as url, SyncthingClient(url, KEY) as c:
        assert c._core.max_response_size == DEFAULT_MAX_RESPONSE_SIZE == 64 * 1024 * 1024
        with pytest.raises(ResponseTooLargeError, match="max_response_size") as info:
            await asyncio.wait_for(c.system.status(), 3)  # refused at the header, not after 5 s
        assert info.value.limit == DEFAULT_MAX_RESPONSE_SIZE
        assert isinstance(info.value, SyncthingConnectionError)


async def test_3_endless_body_stops_at_the_limit_with_bounded_memory() -> None:
    chunk = b"x" * 65536
    sent = [0]

    async def reply(writer: asyncio.StreamWriter) -> None:
        writer.write(CHUNKED_HEAD)
        while True:  # endless; the client cuts the connection
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent[0] += len(chunk)
            await writer.drain()

    limit = 4 * 1024 * 1024
    tracemalloc.start()
    try:
        async with raw_server(reply) as url, SyncthingClient(url, KEY, max_response_size=limit) as c:
            for call in (c.system.status(), c.events.get(since=0, timeout=1)):
                with pytest.raises(ResponseTooLargeError):
                    await asyncio.wait_for(call, 10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * limit, peak  # the body held, plus the join: never the stream's whole length
    assert sent[0] < 64 * limit  # the read stopped; the server did not stream on for long


async def test_3_limit_can_be_raised_or_switched_off(serve: Callable[..., Awaitable[str]]) -> None:
    body = b'{"ping": "pong", "pad": "' + b"p" * 200_000 + b'"}'

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    url = await serve({"/rest/system/ping": big})
    with pytest.raises(ValueError, match="positive"):
        SyncthingClient(url, KEY, max_response_size=0)
    async with SyncthingClient(url, KEY, max_response_size=100_000) as c:
        with pytest.raises(ResponseTooLargeError):
            await c.system.ping()
    for size in (None, 300_000):
        async with SyncthingClient(url, KEY, max_response_size=size) as c:
            assert (await c.system.ping()).ping == "pong"


# ----------------------------------------------------------------------------- 4. https -> http


@pytest.mark.daemon
@pytest.mark.parametrize("syncthing_version", ["1.29.5"], indirect=True)
async def test_4_https_to_http_redirect_is_refused(
    https_daemon: SyncthingDaemon, serve: Callable[..., Awaitable[str]]
) -> None:
    """A TLS server (Syncthing's own certificate, pinned) redirecting to plain HTTP on the same port."""
    plain_hits: list[str] = []

    async def plain(request: web.Request) -> web.Response:
        plain_hits.append(request.headers.get("X-API-Key", ""))
        return web.json_response({"ping": "pong"})

    plain_url = await serve({"/{tail:.*}": plain})
    plain_port = int(plain_url.rsplit(":", 1)[1])

    async def to_plain(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"http://127.0.0.1:{request.url.port}/rest/system/ping")

    async def to_other_port(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"http://127.0.0.1:{plain_port}/rest/system/ping")

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(https_daemon.cert_path, https_daemon.home / "https-key.pem")
    url = await serve({"/rest/system/ping": to_plain, "/rest/system/status": to_other_port}, tls=tls)
    pin = await load_fingerprint(https_daemon.cert_path)
    async with SyncthingClient(url, KEY, fingerprint=pin) as c:
        with pytest.raises(RedirectRefusedError, match="never leaves TLS") as info:
            await c.system.ping()
        assert info.value.location.startswith("http://127.0.0.1:")
        with pytest.raises(RedirectRefusedError, match="another host or port"):
            await c.system.status()
    assert plain_hits == []  # the key never went out in clear text


# ----------------------------------------------------------------------------- 7. nesting


async def test_7_deep_nesting_is_a_decode_error(serve: Callable[..., Awaitable[str]]) -> None:
    nested = b'{"a":' * 100_000 + b"1" + b"}" * 100_000

    async def deep(request: web.Request) -> web.Response:
        return web.Response(body=nested, content_type="application/json")

    url = await serve({"/rest/system/status": deep, "/rest/svc/report": deep})
    async with SyncthingClient(url, KEY) as c:
        for call in (c.system.status(), c._core.request("GET", "/rest/svc/report")):
            with pytest.raises(SyncthingDecodeError, match="recursion"):
                await call


# ----------------------------------------------------------------------------- 10. closed lent session


async def test_10_closed_lent_session_is_syncthing_closed_error(
    serve: Callable[..., Awaitable[str]],
) -> None:
    async def ping(request: web.Request) -> web.Response:
        return web.json_response({"ping": "pong"})

    url = await serve({"/rest/system/ping": ping})
    session = aiohttp.ClientSession()
    client = SyncthingClient(url, KEY, session=session)
    assert (await client.system.ping()).ping == "pong"
    await session.close()  # the host shuts down first
    with pytest.raises(SyncthingClosedError, match="closed by its owner"):
        await client.system.ping()
    await client.close()


async def test_10_close_ends_requests_in_flight() -> None:
    """A long poll whose headers arrived is not ended by aiohttp when its session closes; close() does."""
    release, answered = asyncio.Event(), asyncio.Event()

    async def hold(writer: asyncio.StreamWriter) -> None:
        writer.write(CHUNKED_HEAD + b"1\r\n[\r\n")
        await writer.drain()
        answered.set()
        await release.wait()

    for lent in (False, True):
        async with raw_server(hold) as url, contextlib.AsyncExitStack() as stack:
            session = await stack.enter_async_context(aiohttp.ClientSession()) if lent else None
            client = SyncthingClient(url, KEY, session=session, timeout=60)
            poll = asyncio.ensure_future(client.events.get(since=0, timeout=50))
            await asyncio.wait_for(answered.wait(), 5)
            await asyncio.sleep(0.05)  # let the client read the headers (either way it is in flight)
            assert not poll.done()
            await client.close()
            with pytest.raises(SyncthingClosedError, match="closed during the request"):
                await asyncio.wait_for(poll, 5)  # not after the 60 s timeout
            release.set()
            release.clear()
            answered.clear()


# ----------------------------------------------------------------------------- 11. the smaller ones


async def test_11_redirect_after_a_write_is_never_followed(serve: Callable[..., Awaitable[str]]) -> None:
    hits: list[str] = []

    async def see_other(request: web.Request) -> web.Response:
        raise web.HTTPSeeOther("/rest/elsewhere")

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/rest/elsewhere")

    async def elsewhere(request: web.Request) -> web.Response:
        hits.append(request.method)
        return web.json_response({})

    url = await serve(
        {"/rest/system/restart": see_other, "/rest/config/options": moved, "/rest/elsewhere": elsewhere}
    )
    async with SyncthingClient(url, KEY) as c:
        with pytest.raises(RedirectRefusedError, match="POST is never re-sent") as info:
            await c.system.restart()
        assert info.value.status == 303 and info.value.location == "/rest/elsewhere"
        with pytest.raises(RedirectRefusedError, match="PUT is never re-sent"):
            await c._core.request("PUT", "/rest/config/options", json={}, expect="none")
    assert hits == []


@pytest.mark.parametrize(
    ("kwargs", "fix"),
    [
        ({"url": "http://127.0.0.1:8384", "api_key": "abc\r\nX-Evil: 1"}, "copy it again"),
        ({"url": "http://127.0.0.1:8384", "api_key": "abc\x00"}, "copy it again"),
        ({"url": "192.168.1.5:8384"}, "write http://192.168.1.5:8384"),
        ({"url": "localhost:8384"}, "write http://localhost:8384"),
        ({"url": "http://127.0.0.1:8384", "fingerprint": "AA" * 32}, "use an https://"),
        ({"url": "https://nas:8384", "fingerprint": "AA" * 32, "ssl": False}, "drop ssl=False"),
        ({"url": "https://nas:8384", "fingerprint": "zz"}, "hex SHA-256"),
        ({"url": "ftp://nas"}, "use http://"),
        ({"url": "http://:8384"}, "has no host"),
    ],
)
def test_11_construction_checks_say_how_to_fix(kwargs: dict[str, object], fix: str) -> None:
    with pytest.raises(InvalidArgumentError, match=fix) as info:
        SyncthingClient(**kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)
    key = kwargs.get("api_key")
    if isinstance(key, str):
        assert key not in str(info.value)


def _reachable(exc: BaseException) -> list[object]:
    """Everything a caller can reach from a caught exception: args, attributes, cause, context."""
    out: list[object] = []
    todo: list[object] = [exc]
    while todo:
        obj = todo.pop()
        if any(obj is seen for seen in out):
            continue
        out.append(obj)
        if isinstance(obj, BaseException):
            todo.extend(obj.args)
            todo.extend(vars(obj).values())
            todo.extend(x for x in (obj.__cause__, obj.__context__) if x is not None)
        elif hasattr(obj, "__dict__"):
            todo.extend(vars(obj).values())
    return out


async def test_11_caught_exceptions_hold_nothing_with_the_key(
    serve: Callable[..., Awaitable[str]],
) -> None:
    async def broken_head(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n{}")
        await writer.drain()

    async def error(request: web.Request) -> web.Response:
        return web.Response(status=500, text="boom")

    url = await serve({"/rest/system/ping": error})
    caught: list[BaseException] = []
    async with raw_server(broken_head) as raw_url:
        for base in (url, raw_url, "http://127.0.0.1:9"):
            async with SyncthingClient(base, KEY, timeout=3) as c:
                try:
                    await c.system.ping()
                except SyncthingError as err:
                    caught.append(err)
    assert len(caught) == 3
    assert any(isinstance(e, SyncthingConnectionError) and "invalid HTTP answer" in str(e) for e in caught)
    for err in caught:
        for obj in _reachable(err):
            assert KEY not in repr(obj), (err, obj)
            headers = getattr(getattr(obj, "request_info", None), "headers", {})
            assert KEY not in str(dict(headers)), (err, obj)


async def test_11_connection_lost_mid_body_says_so_in_plain_words() -> None:
    async def cut(writer: asyncio.StreamWriter) -> None:
        writer.write(CHUNKED_HEAD)
        writer.write(b"5\r\n[1,2,\r\n")
        await writer.drain()  # then close without the final chunk

    async with raw_server(cut) as url, SyncthingClient(url, KEY) as c:
        with pytest.raises(SyncthingConnectionError) as info:
            await c.system.status()
    text = str(info.value)
    assert "connection lost while reading the answer" in text
    assert "400" not in text and "TransferEncodingError" not in text


def test_11_device_ids_in_paths_are_checked_offline() -> None:
    """A device id is a path segment too: the offline check refuses '..' as InvalidArgumentError."""
    with pytest.raises(InvalidArgumentError):
        DeviceID.parse("..")
