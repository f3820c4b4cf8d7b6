"""Security properties: the API key stays secret, redirects cannot carry it away, TLS is verified
and pinnable against a real HTTPS Syncthing, plain HTTP to a remote host warns, and local
discovery never blocks the event loop. Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
import traceback
import warnings
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import syncthing_async._discovery as discovery
from syncthing_async import (
    AuthenticationError,
    SyncthingAPIError,
    SyncthingClient,
    SyncthingConnectionError,
    SyncthingError,
    load_fingerprint,
)
from syncthing_async._tls import fingerprint_from_pem
from syncthing_async.events import Backoff, EventCursor
from syncthing_async.testing.daemon import SyncthingDaemon

KEY = "Sup3rS3cretAPIkey-7f3a9c"
NEW_KEY = "An0therS3cret-key-b81d"
SECRETS = (KEY, NEW_KEY)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _texts_of(err: BaseException) -> list[str]:
    """Everything an exception shows: str, repr, args and the formatted chain with causes."""
    out = ["".join(traceback.format_exception(err))]
    seen: set[int] = set()
    cur: BaseException | None = err
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        out += [str(cur), repr(cur), repr(cur.args)]
        cur = cur.__cause__ or cur.__context__
    return out


def _assert_secret_free(texts: list[str]) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"API key leaked in: {text[:300]!r}"


# ----------------------------------------------------------------------------- the key stays secret


async def test_key_never_in_logs_reprs_or_errors(serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Many error paths, DEBUG logging on, the key checked in every text the library produced."""
    hits: list[str | None] = []

    async def record(request: web.Request) -> None:
        hits.append(request.headers.get("X-API-Key"))

    def status(code: int, body: str) -> Handler:
        async def handler(request: web.Request) -> web.Response:
            await record(request)
            return web.Response(status=code, text=body)

        return handler

    async def garbage(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(text='{"myID": 42, "startTime": "nope"', content_type="application/json")

    async def slow(request: web.Request) -> web.Response:
        await record(request)
        await asyncio.sleep(5)
        return web.json_response({})

    async def drop(request: web.Request) -> web.Response:
        await record(request)
        assert request.transport is not None
        request.transport.abort()
        await asyncio.sleep(1)
        return web.json_response({})

    async def flaky_events(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(status=503, text="Service Unavailable")

    url = await serve(
        {
            "/rest/csrf": status(403, "CSRF Error"),
            "/rest/unauth": status(401, "Not Authorized"),
            "/rest/missing": status(404, "no such folder"),
            "/rest/bad": status(400, "bad request"),
            "/rest/boom": status(500, "internal error"),
            "/rest/garbage": garbage,
            "/rest/slow": slow,
            "/rest/drop": drop,
            "/rest/system/status": garbage,
            "/rest/events": flaky_events,
        }
    )
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    errors: list[BaseException] = []
    client = SyncthingClient(url + "/", KEY, timeout=0.5)
    texts += [repr(client), str(client), client.url, repr(client._core.__dict__.get("_target"))]
    for path in ("/rest/csrf", "/rest/unauth", "/rest/missing", "/rest/bad", "/rest/boom", "/rest/garbage"):
        for method in ("GET", "POST"):
            with pytest.raises(SyncthingError) as info:
                await client._core.request(method, path, json={"x": 1} if method == "POST" else None)
            errors.append(info.value)
    with pytest.raises(SyncthingConnectionError) as timeout_info:
        await client._core.request("GET", "/rest/slow")
    errors.append(timeout_info.value)
    with pytest.raises(SyncthingConnectionError) as drop_info:
        await client._core.request("GET", "/rest/drop")
    errors.append(drop_info.value)

    # the event stream: retries (logged) and a decode failure on the identity check
    stream = client.events.stream(poll_timeout=1, backoff=Backoff(initial=0.01, cap=0.02), max_retries=3)
    texts.append(repr(stream))
    with pytest.raises(SyncthingError) as stream_info:
        await stream.__anext__()
    errors.append(stream_info.value)
    texts.append(repr(stream))
    await stream.aclose()

    # a new key after a "re-auth": neither the old nor the new one shows up
    client.set_api_key(NEW_KEY)
    with pytest.raises(AuthenticationError) as auth_info:
        await client._core.request("GET", "/rest/csrf")
    errors.append(auth_info.value)
    texts += [repr(client), str(client)]
    await client.close()

    dead = SyncthingClient("http://127.0.0.1:9", KEY, timeout=1)
    with pytest.raises(SyncthingConnectionError) as refused:
        await dead.system.ping()
    errors.append(refused.value)
    await dead.close()
    with pytest.raises(SyncthingError) as closed:
        await dead.system.ping()
    errors.append(closed.value)

    for err in errors:
        texts += _texts_of(err)
    texts += [record.getMessage() for record in caplog.records]
    texts += [caplog.text]
    _assert_secret_free(texts)
    # the paths really ran and were logged, and the key really was sent to the server
    assert KEY in hits and NEW_KEY in hits
    assert any("/rest/boom -> 500" in r.getMessage() for r in caplog.records)
    assert any(r.levelno >= logging.WARNING and "event stream" in r.getMessage() for r in caplog.records)
    assert len(errors) >= 16


async def test_key_not_in_url_credentials_or_cursor() -> None:
    """A key-looking password in the URL is never shown back; cursors carry no key."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client = SyncthingClient(f"http://user:{KEY}@127.0.0.1:8384/prefix/", NEW_KEY)
    _assert_secret_free([repr(client), str(client), client.url])
    assert client.url == "http://127.0.0.1:8384/prefix"
    await client.close()
    cursor = EventCursor(device_id="X", start_time=datetime(2024, 1, 1, tzinfo=UTC))
    _assert_secret_free([repr(cursor), cursor.to_json()])


async def test_listener_reprs_and_logs_are_key_free(serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    async def forbidden(request: web.Request) -> web.Response:
        return web.Response(status=403, text="CSRF Error")

    url = await serve({"/rest/events": forbidden, "/rest/system/status": forbidden})
    caplog.set_level(logging.DEBUG)
    async with SyncthingClient(url, KEY, timeout=1) as client:
        listener = client.events.listener(poll_timeout=1, backoff=Backoff(initial=0.01, cap=0.02))
        seen: list[object] = []
        listener.subscribe(seen.append)
        with pytest.raises(AuthenticationError) as info:  # the first failure is raised by start()
            await listener.start()
        text = repr(listener)
        await listener.stop()
    _assert_secret_free([text, str(info.value), caplog.text, *(r.getMessage() for r in caplog.records)])


async def test_key_not_in_decode_error_of_the_gui_config(serve: Any) -> None:
    """Schema drift in ``/rest/config/gui`` (compact JSON, as Syncthing sends it): the error excerpt
    must not carry the key that the payload holds."""

    async def gui(request: web.Request) -> web.Response:
        body = (
            '{"enabled":"yes","address":"127.0.0.1:8384","unixSocketPermissions":"","user":"",'
            f'"password":"","authMode":"static","useTLS":false,"apiKey":"{KEY}","theme":"default"}}'
        )
        return web.Response(text=body, content_type="application/json")

    url = await serve({"/rest/config/gui": gui})
    async with SyncthingClient(url, KEY) as client:
        with pytest.raises(SyncthingError) as info:
            await client.config.gui.get()
    assert "cannot decode" in str(info.value)
    _assert_secret_free(_texts_of(info.value))


# ----------------------------------------------------------------------------- redirects


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("target", ["other_port", "other_name"])
async def test_key_not_sent_to_another_host_on_redirect(serve: Any, code: int, target: str) -> None:
    """Two loopback servers: the first redirects to the second, which must never be reached."""
    reached: list[dict[str, str]] = []

    async def other(request: web.Request) -> web.Response:
        reached.append(dict(request.headers))
        return web.json_response({"ping": "pong"})

    other_url = await serve({"/{tail:.*}": other})
    if target == "other_name":
        other_url = other_url.replace("127.0.0.1", "localhost")

    async def redirect(request: web.Request) -> web.Response:
        return web.Response(status=code, headers={"Location": other_url + "/rest/system/ping"})

    async def hop(request: web.Request) -> web.Response:  # same host first, then away
        return web.Response(status=code, headers={"Location": "/rest/away"})

    url = await serve({"/rest/system/ping": redirect, "/rest/hop": hop, "/rest/away": redirect})
    async with SyncthingClient(url, KEY, timeout=2) as client:
        with pytest.raises(SyncthingAPIError, match="another host") as info:
            await client.system.ping()
        _assert_secret_free(_texts_of(info.value))
        with pytest.raises(SyncthingAPIError, match="another host"):
            await client._core.request("GET", "/rest/hop")
    assert reached == []


# ----------------------------------------------------------------------------- TLS against real Syncthing


async def test_tls_verified_by_default_and_pinning(https_daemon: SyncthingDaemon) -> None:
    url = https_daemon.https_url
    key = https_daemon.api_key
    pin = await load_fingerprint(https_daemon.cert_path)

    async with SyncthingClient(url, key, timeout=5) as default:
        with pytest.raises(SyncthingConnectionError, match="TLS") as info:
            await default.system.ping()
    _assert_secret_free(_texts_of(info.value))  # the key never went out: TLS failed first

    async with SyncthingClient(url, key, fingerprint=pin, timeout=5) as pinned:
        assert await pinned.health()
        status = await pinned.system.status()
        assert str(getattr(status, "my_id", "")) == https_daemon.device_id
    async with SyncthingClient(url, key, fingerprint=pin.replace(":", "").lower(), timeout=5) as pinned2:
        assert await pinned2.health()

    wrong = ("00" if not pin.startswith("00") else "11") + pin.replace(":", "")[2:]
    async with SyncthingClient(url, key, fingerprint=wrong, timeout=5) as mispinned:
        with pytest.raises(SyncthingConnectionError, match="pinned fingerprint"):
            await mispinned.system.ping()

    async with SyncthingClient(url, key, ssl=https_daemon.ssl_context(), timeout=5) as trusted:
        assert await trusted.health()


async def test_pin_of_another_syncthing_is_refused(
    https_daemon: SyncthingDaemon, make_daemon: Callable[..., SyncthingDaemon]
) -> None:
    other = make_daemon(gui_tls=True)
    other_pin = await load_fingerprint(other.cert_path)
    async with SyncthingClient(https_daemon.https_url, https_daemon.api_key, fingerprint=other_pin) as c:
        with pytest.raises(SyncthingConnectionError, match="pinned fingerprint"):
            await c.system.ping()


# ----------------------------------------------------------------------------- plain HTTP warning


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Fail loudly if anything opens a connection or resolves a name."""
    attempts: list[object] = []

    def forbidden(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise AssertionError("network access during construction")

    monkeypatch.setattr(socket.socket, "connect", forbidden)
    monkeypatch.setattr(socket.socket, "connect_ex", forbidden)
    monkeypatch.setattr(socket, "getaddrinfo", forbidden)
    monkeypatch.setattr(socket, "create_connection", forbidden)
    yield attempts


@pytest.fixture
def plain_http_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture the library's warnings with its once-per-host memory cleared."""
    from syncthing_async import _core

    _core._WARNED_PLAIN_HTTP.clear()
    caplog.set_level(logging.WARNING, logger="syncthing_async")
    yield caplog
    _core._WARNED_PLAIN_HTTP.clear()


@pytest.mark.parametrize(
    "url",
    [
        "http://192.0.2.10:8384",
        "http://syncthing.example:8384",
        "http://[2001:db8::1]:8384/st/",
        "http://127.attacker.example:8384",  # a name, not a loopback address
    ],
)
def test_plain_http_to_remote_host_is_logged_once_per_host(
    url: str, no_network: list[object], plain_http_log: pytest.LogCaptureFixture
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a log line, never a RuntimeWarning at every client build
        client = SyncthingClient(url, KEY)
        SyncthingClient(url, KEY)
    lines = [r.getMessage() for r in plain_http_log.records if "plain HTTP" in r.getMessage()]
    assert len(lines) == 1, lines
    assert "logged once per host" in lines[0]
    _assert_secret_free(lines)
    assert no_network == []
    assert client._core._session is None  # nothing was opened


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("http://127.0.0.1:8384", KEY),
        ("http://127.8.9.10:8384", KEY),
        ("http://localhost:8384", KEY),
        ("http://[::1]:8384", KEY),
        ("https://syncthing.example:8384", KEY),
        ("http://syncthing.example:8384", None),
        ("unix:///run/syncthing/gui.sock", KEY),
    ],
)
def test_no_warning_when_nothing_is_exposed(
    url: str, key: str | None, no_network: list[object], plain_http_log: pytest.LogCaptureFixture
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SyncthingClient(url, key)
    assert not [r for r in plain_http_log.records if "plain HTTP" in r.getMessage()]
    assert no_network == []


# ----------------------------------------------------------------------------- non-blocking discovery


def _write_config(home: Path, port: int = 8384, tls: bool = False) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.xml").write_text(
        f'<configuration version="37"><gui enabled="true" tls="{str(tls).lower()}">'
        f"<address>127.0.0.1:{port}</address><apikey>{KEY}</apikey></gui></configuration>"
    )


async def test_from_local_reads_config_in_a_worker_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow filesystem stand-in: the read blocks in another thread until the event loop itself
    releases it, which a loop blocked by that read could never do."""
    _write_config(tmp_path)
    loop_thread = threading.get_ident()
    read_threads: list[int] = []
    real_read = discovery.read_local_config
    reading = threading.Event()
    release = threading.Event()
    released_by_loop: list[bool] = []

    def slow_read(path: Path, env: dict[str, str] | None = None) -> Any:
        read_threads.append(threading.get_ident())
        reading.set()
        # a blocking read on a slow disk, that lasts until the loop has run; the bound only
        # keeps a broken (loop-blocking) library from hanging the test
        released_by_loop.append(release.wait(timeout=10))
        return real_read(path, env)

    monkeypatch.setattr(discovery, "read_local_config", slow_read)

    async def release_when_reading() -> None:
        while not reading.is_set():  # the loop runs while the read is on its way
            await asyncio.sleep(0.005)
        await asyncio.sleep(0)  # and keeps running while the read blocks
        release.set()

    releaser = asyncio.create_task(release_when_reading())
    client = await SyncthingClient.from_local(env={"STHOMEDIR": str(tmp_path), "HOME": str(tmp_path)})
    releaser.cancel()
    await asyncio.gather(releaser, return_exceptions=True)
    try:
        assert read_threads and all(t != loop_thread for t in read_threads)
        assert released_by_loop == [True], "the read was not released by the loop: it was blocked"
        assert client.url == "http://127.0.0.1:8384"
        _assert_secret_free([repr(client)])
    finally:
        await client.close()


async def test_the_tick_detector_catches_a_blocking_read(tmp_path: Path) -> None:
    """Control for the test above: the same read done on the loop thread stops the ticks."""
    _write_config(tmp_path)
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    tick_task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    time.sleep(0.4)  # what a blocking read of config.xml on a slow disk would do
    discovery.read_local_config(tmp_path / "config.xml", {})
    done.set()
    await tick_task
    assert ticks <= 2


async def test_from_local_with_tls_reads_cert_off_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The certificate for the pin is read in the worker thread too (Path.read_text off-loop)."""
    _write_config(tmp_path, tls=True)
    loop_thread = threading.get_ident()
    pem_reads: list[int] = []
    real_fp = fingerprint_from_pem

    def spy(pem: str | bytes) -> str:
        pem_reads.append(threading.get_ident())
        return real_fp(pem)

    cert = _self_signed_pem()
    if cert is None:
        pytest.fail("no certificate available to test the TLS discovery path")
    (tmp_path / "https-cert.pem").write_text(cert)
    monkeypatch.setattr(discovery, "fingerprint_from_pem", spy)
    client = await SyncthingClient.from_local(env={"STHOMEDIR": str(tmp_path), "HOME": str(tmp_path)})
    try:
        assert pem_reads and all(t != loop_thread for t in pem_reads)
        assert client.url.startswith("https://127.0.0.1:8384")
    finally:
        await client.close()


def _self_signed_pem() -> str | None:
    """A PEM certificate from a real Syncthing ``generate`` (the harness binary), or None."""
    import subprocess
    import tempfile

    from syncthing_async.testing.daemon import binary_for

    with contextlib.suppress(Exception), tempfile.TemporaryDirectory() as home:
        subprocess.run(
            [str(binary_for("1.29.5")), "generate", f"--home={home}", "--no-default-folder"],
            capture_output=True,
            timeout=30,
            check=True,
        )
        return (Path(home) / "cert.pem").read_text()
    return None
