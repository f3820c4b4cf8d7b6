"""Session core behaviour over real loopback sockets (tiny aiohttp servers for what Syncthing can't do)."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import msgspec
import pytest
from aiohttp import web

from syncthing_async import (
    AuthenticationError,
    AuthReason,
    BadRequestError,
    InvalidArgumentError,
    NotFoundError,
    ServerError,
    SyncthingAPIError,
    SyncthingClient,
    SyncthingClosedError,
    SyncthingConnectionError,
    SyncthingDecodeError,
    SyncthingError,
    SyncthingTimeoutError,
    SyncthingVersion,
    UnsupportedError,
)
from syncthing_async._core import encode_params, quote

KEY = "s3cr3t-KEY-never-shown"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def test_encode_params() -> None:
    assert encode_params({"a": None, "b": True, "c": False, "d": 3, "e": ["x", "y"], "f": "z"}) == [
        ("b", "true"),
        ("c", "false"),
        ("d", "3"),
        ("e", "x"),
        ("e", "y"),
        ("f", "z"),
    ]
    assert quote("a b?#%") == "a%20b%3F%23%25"
    # Ids Syncthing's router would clean into another route are refused (tests/test_hostile_edges.py).
    for bad in ("", ".", "..", "a/b", "../x"):
        with pytest.raises(InvalidArgumentError, match="cannot be used in a URL path"):
            quote(bad)


def test_version_parsing_and_comparison() -> None:
    v = SyncthingVersion.parse("v1.19.2-ds1")
    assert (v.major, v.minor, v.patch, v.suffix) == (1, 19, 2, "ds1")
    assert v == "1.19.2" and v < "1.22.1" and v >= (1, 19, 0) and str(v) == "v1.19.2-ds1"
    assert SyncthingVersion.parse("v2.0.0-rc.1") < "2.0.0"
    assert SyncthingVersion.parse("v2.1.3") > SyncthingVersion.parse("v1.29.5")
    with pytest.raises(ValueError, match="not a Syncthing version"):
        SyncthingVersion.parse("garbage")


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, "invalid character 'b'", BadRequestError),
        (401, "Not Authorized", AuthenticationError),
        (403, "CSRF Error", AuthenticationError),
        (404, "no such folder", NotFoundError),
        (500, "folder has no versioner", ServerError),
        (501, "upgrade unsupported", ServerError),
        (409, "conflict", SyncthingAPIError),
    ],
)
async def test_status_mapping_carries_syncthing_message(serve, status, body, cls) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, text=body + "\n")

    url = await serve({"/rest/x": handler})
    async with SyncthingClient(url, KEY) as client:
        with pytest.raises(cls) as info:
            await client._core.request("GET", "/rest/x")
    err = info.value
    assert isinstance(err, SyncthingAPIError)
    assert (err.status, err.method, err.body) == (status, "GET", body)
    assert err.url == f"{url}/rest/x"
    assert body in str(err)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("CSRF Error", AuthReason.BAD_API_KEY),
        ("Forbidden", AuthReason.GUI_AUTH),
        ("Not Authorized", AuthReason.GUI_AUTH),
        ("Host check error", AuthReason.HOST_CHECK),
        ("Debugging disabled", AuthReason.DEBUGGING_DISABLED),
    ],
)
def test_auth_reasons(body: str, reason: AuthReason) -> None:
    assert AuthenticationError(403, "GET", "u", body).reason is reason


async def test_request_shaping_headers_query_body(serve) -> None:
    seen: dict[str, object] = {}

    async def handler(request: web.Request) -> web.Response:
        seen["key"] = request.headers.get("X-API-Key")
        seen["auth"] = request.headers.get("Authorization")
        seen["query"] = list(request.query.items())
        seen["path"] = request.raw_path
        seen["body"] = await request.read()
        seen["ctype"] = request.headers.get("Content-Type")
        return web.Response(status=200, body=b"", headers={"X-Syncthing-Version": "v1.29.5"})

    url = await serve({"/prefix/rest/config/folders/{id}": handler})
    async with SyncthingClient(url + "/prefix/", KEY) as client:
        result = await client._core.request(
            "PATCH",
            "/rest/config/folders/" + quote("a b?c"),
            params={"x": True, "y": None, "sub": ["p", "q"]},
            json={"label": "L"},
        )
        assert result is None
        assert client.syncthing_version == "1.29.5"
    assert seen["key"] == KEY and seen["auth"] is None
    assert seen["query"] == [("x", "true"), ("sub", "p"), ("sub", "q")]
    assert seen["path"].startswith("/prefix/rest/config/folders/a%20b%3Fc")  # type: ignore[attr-defined]
    assert msgspec.json.decode(seen["body"]) == {"label": "L"}  # type: ignore[arg-type]
    assert seen["ctype"] == "application/json"


async def test_decoding_is_by_status_not_content_type(serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        # Syncthing's restart/shutdown answer JSON labelled text/plain.
        return web.Response(text='{"ok": "restarting"}', content_type="text/plain")

    url = await serve({"/rest/system/restart": handler})
    async with SyncthingClient(url, KEY) as client:
        assert await client._core.request("POST", "/rest/system/restart") == {"ok": "restarting"}


async def test_decode_error_names_endpoint_field_and_excerpt(serve) -> None:
    class Model(msgspec.Struct):
        ping: int

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text='{"ping": "pong"}', content_type="application/json")

    url = await serve({"/rest/system/ping": handler})
    async with SyncthingClient(url, KEY) as client:
        with pytest.raises(SyncthingDecodeError) as info:
            await client._core.request("GET", "/rest/system/ping", decoder=msgspec.json.Decoder(Model))
    err = info.value
    assert err.endpoint == "GET /rest/system/ping"
    assert "$.ping" in err.detail
    assert '"pong"' in err.excerpt


async def test_stalled_server_times_out_within_timeout() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port = listener.getsockname()[1]
    try:
        async with SyncthingClient(f"http://127.0.0.1:{port}", KEY, timeout=0.5) as client:
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(SyncthingTimeoutError) as info:
                await client.system.ping()
            elapsed = loop.time() - started
        assert isinstance(info.value, TimeoutError)
        assert isinstance(info.value, SyncthingConnectionError)
        assert 0.4 < elapsed < 3.0
    finally:
        listener.close()


async def test_closed_port_is_connection_error() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    async with SyncthingClient(f"http://127.0.0.1:{port}", KEY) as client:
        with pytest.raises(SyncthingConnectionError) as info:
            await client.system.ping()
    assert not isinstance(info.value, SyncthingTimeoutError)
    assert "cannot connect" in str(info.value)
    # No chained aiohttp error: its request_info would carry the API key (tests/test_hostile_edges.py).
    assert info.value.__cause__ is None and info.value.__context__ is None


async def test_stale_keepalive_connection_is_retried_once(serve) -> None:
    calls = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        if calls == 2:
            # Simulate Syncthing having closed the idle pooled connection: drop it without answering.
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        return web.json_response({"ping": "pong"})

    url = await serve({"/rest/system/ping": handler})
    async with SyncthingClient(url, KEY) as client:
        assert (await client.system.ping()).ping == "pong"
        assert (await client.system.ping()).ping == "pong"
    assert calls == 3


# Syncthing's GUI server is Go's net/http with ReadTimeout 15 s and no IdleTimeout
# (lib/api/api.go), so an idle keep-alive connection is closed after 15 s: measured on the
# real 1.19.2 and 1.29.5 by tests/test_keepalive_live.py.
SYNCTHING_IDLE_CLOSE_S = 15.0


class StaleServer:
    """A loopback server that can turn every connection it has already answered on "stale".

    That is what Syncthing's idle close looks like to a client whose pooled connections it
    closed while the request was on its way: a reused connection is dropped without an answer;
    a new connection is answered.
    """

    def __init__(self) -> None:
        self.stale = False
        self.warming = 0  # concurrent requests to hold until all have arrived (distinct connections)
        self.dropped = 0
        self.fresh = 0
        self._seen: set[object] = set()  # the transports themselves: an id() could be reused
        self._arrived = 0
        self._all_in = asyncio.Event()

    async def handler(self, request: web.Request) -> web.StreamResponse:
        transport = request.transport
        assert transport is not None
        reused = transport in self._seen
        self._seen.add(transport)
        if self.stale and reused:
            self.dropped += 1
            transport.close()
            return web.Response()
        if self.stale:
            self.fresh += 1
        if self.warming:
            self._arrived += 1
            if self._arrived >= self.warming:
                self._all_in.set()
            await asyncio.wait_for(self._all_in.wait(), 10)  # bound: all arrive within ms
        return web.json_response({"ping": "pong"})

    def warm(self, count: int) -> None:
        self.warming, self._arrived = count, 0
        self._all_in.clear()

    def go_stale(self) -> None:
        self.warming = 0
        self.stale = True


async def test_stale_keepalive_beyond_aiohttp_own_retry(serve) -> None:
    """Several pooled connections closed at once: aiohttp's own retry reuses the next dead one
    and gives up; the library's own retry (once, idempotent calls) then gets a new connection."""

    async def bare_session_fails(count: int) -> bool:
        """Does a bare aiohttp session fail with ``count`` dead pooled connections?"""
        srv = StaleServer()
        url = await serve({"/rest/system/ping": srv.handler})
        async with aiohttp.ClientSession() as session:

            async def get() -> int:
                async with session.get(url + "/rest/system/ping") as resp:
                    await resp.read()
                    return resp.status

            srv.warm(count)
            assert await asyncio.gather(*(get() for _ in range(count))) == [200] * count
            srv.go_stale()
            try:
                await get()
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                assert srv.dropped == count and srv.fresh == 0
                return True
            assert srv.dropped == count and srv.fresh == 1  # aiohttp's own retry got through
            return False

    # First, how many dead connections defeat aiohttp's own retry (it retries once, some
    # releases not at all): one more than it retries.
    stale_count = 1 if await bare_session_fails(1) else 2
    assert await bare_session_fails(stale_count)

    # The same with the library: it answers, over a new connection, after the dead ones.
    srv = StaleServer()
    url = await serve({"/rest/system/ping": srv.handler})
    async with SyncthingClient(url, KEY) as client:
        srv.warm(stale_count)
        pongs = await asyncio.gather(*(client.system.ping() for _ in range(stale_count)))
        assert [p.ping for p in pongs] == ["pong"] * stale_count
        srv.go_stale()
        assert (await client.system.ping()).ping == "pong"
        assert srv.dropped == stale_count  # every dead pooled connection was tried ...
        assert srv.fresh == 1  # ... and then exactly one new one answered
        # a POST is not idempotent: never retried, the failure is reported
        srv.stale, srv.dropped, srv.fresh = False, 0, 0
        await client.system.ping_post()  # pools one more connection
        srv.go_stale()
        with pytest.raises(SyncthingConnectionError, match="disconnected"):
            await client.system.ping_post()
        assert srv.dropped == 1 and srv.fresh == 0


async def test_pooled_connections_are_dropped_before_syncthing_closes_them() -> None:
    """The connector forgets an idle connection before Syncthing's 15 s idle close, so the
    stale case above stays rare (aiohttp's default keep-alive is 15 s: the same moment)."""
    async with SyncthingClient("http://127.0.0.1:9", KEY) as client:
        connector = client._core._get_session().connector
        assert connector is not None
        keepalive = connector._keepalive_timeout  # no public accessor in aiohttp
        assert isinstance(keepalive, (int, float))
        assert 0 < keepalive <= SYNCTHING_IDLE_CLOSE_S - 3, keepalive  # 3 s margin for a busy loop
    unix = SyncthingClient("unix:///tmp/syncthing-async-no-such.sock", KEY)
    async with unix:
        connector = unix._core._get_session().connector
        assert connector is not None
        assert 0 < connector._keepalive_timeout <= SYNCTHING_IDLE_CLOSE_S - 3


async def test_redirect_to_other_host_is_refused_and_key_not_sent(serve) -> None:
    other_seen: list[str | None] = []

    async def other(request: web.Request) -> web.Response:
        other_seen.append(request.headers.get("X-API-Key"))
        return web.json_response({"ping": "pong"})

    other_url = await serve({"/rest/system/ping": other})
    other_url = other_url.replace("127.0.0.1", "localhost")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(other_url + "/rest/system/ping")

    async def same_host(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/rest/system/ping2")

    async def ping2(request: web.Request) -> web.Response:
        assert request.headers.get("X-API-Key") == KEY
        return web.json_response({"ping": "pong2"})

    url = await serve(
        {"/rest/system/ping": redirect, "/rest/system/ping/": same_host, "/rest/system/ping2": ping2}
    )
    async with SyncthingClient(url, KEY) as client:
        with pytest.raises(SyncthingAPIError, match="another host"):
            await client.system.ping()
        assert await client._core.request("GET", "/rest/system/ping/") == {"ping": "pong2"}
    assert other_seen == []


async def test_unix_socket_url(serve, tmp_path: Path) -> None:
    async def handler(request: web.Request) -> web.Response:
        assert request.host.startswith("localhost")
        return web.json_response({"ping": "pong"})

    url = await serve({"/rest/system/ping": handler}, unix=str(tmp_path / "gui.sock"))
    async with SyncthingClient(url, KEY) as client:
        assert (await client.system.ping()).ping == "pong"
        assert client.url == url


def test_bad_urls_are_rejected_clearly() -> None:
    with pytest.raises(ValueError, match="unsupported URL scheme"):
        SyncthingClient("ftp://x", KEY)
    with pytest.raises(ValueError, match="no host"):
        SyncthingClient("http://", KEY)
    with pytest.raises(ValueError, match="SHA-256"):
        SyncthingClient("https://x", KEY, fingerprint="abcd")
    with pytest.raises(ValueError, match="not both"):
        SyncthingClient("https://x", KEY, fingerprint="00" * 32, ssl=ssl.create_default_context())


async def test_injected_session_is_used_and_never_closed(serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"ping": "pong"})

    url = await serve({"/rest/system/ping": handler})
    async with aiohttp.ClientSession() as session:
        client = SyncthingClient(url, KEY, session=session)
        async with client:
            assert (await client.system.ping()).ping == "pong"
        assert client.closed and not session.closed
        with pytest.raises(SyncthingClosedError):
            await client.system.ping()


async def test_owned_session_created_lazily_and_closed() -> None:
    client = SyncthingClient("http://127.0.0.1:9", KEY)
    assert client._core._session is None  # nothing opened in the constructor
    await client.close()
    await client.close()  # idempotent
    with pytest.raises(SyncthingClosedError, match="closed"):
        await client.system.ping()


async def test_version_gating_raises_unsupported(serve) -> None:
    async def version(request: web.Request) -> web.Response:
        return web.json_response({"version": "v1.19.2-ds1"})

    url = await serve({"/rest/system/version": version})
    async with SyncthingClient(url, KEY) as client:
        await client._core.require("GET /rest/system/ping")  # no bounds: fine
        with pytest.raises(UnsupportedError, match=r"needs Syncthing 1\.22\.1 or newer") as info:
            await client._core.require("GET /rest/noauth/health", since="1.22.1")
        assert info.value.version == "v1.19.2-ds1" and info.value.since == "1.22.1"
        with pytest.raises(UnsupportedError, match=r"removed in Syncthing 1\.0"):
            await client._core.require("GET /rest/system/debug", until="1.0")


async def test_api_key_never_in_repr_errors_or_debug_logs(serve, caplog) -> None:
    async def forbidden(request: web.Request) -> web.Response:
        return web.Response(status=403, text="CSRF Error\n")

    async def boom(request: web.Request) -> web.Response:
        return web.Response(status=500, text="Internal Server Error\n")

    url = await serve({"/rest/system/status": forbidden, "/rest/db/scan": boom})
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    async with SyncthingClient(url, KEY) as client:
        texts += [repr(client), str(client)]
        for call in (
            client._core.request("GET", "/rest/system/status"),
            client._core.request("POST", "/rest/db/scan", params={"folder": "x"}),
        ):
            with pytest.raises(SyncthingError) as info:
                await call
            texts += [str(info.value), repr(info.value)]
    dead = SyncthingClient("http://127.0.0.1:9", KEY)
    with pytest.raises(SyncthingConnectionError) as info2:
        await dead.system.ping()
    texts += [str(info2.value), repr(info2.value), repr(dead)]
    await dead.close()
    texts += [r.getMessage() for r in caplog.records]
    assert any("/rest/system/status -> 403" in t for t in texts)  # the logs did record the calls
    assert all(KEY not in t for t in texts)
    assert "<set>" in repr(client)
