"""Hostile servers against the event stream, the listener and the mirror (issue 10, stream part).

Each test runs an aiohttp.web server on 127.0.0.1 that misbehaves in one way and checks that
the client neither loops, nor crashes, nor yields what the server should not control. Bounds
are counted (polls, items), never measured CPU time; every wait has a timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from syncthing_async import SyncthingClient
from syncthing_async.events import Backoff, ConnectionState, EventCursor
from syncthing_async.mirror import StateMirror
from syncthing_async.models.events import (
    EventsSkipped,
    SkipReason,
    StateChangedData,
    StateChangedEvent,
    StreamItem,
    StreamReset,
)
from syncthing_async.testing import FakeSyncthing
from tests.events_support import summary

DEVICE = "MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD"
START = "2024-05-01T10:00:00Z"
FAST = Backoff(initial=0.01, cap=0.05)
"""Retries in tests: short real waits, so a retry loop shows up as a count, not as elapsed time."""

Handler = Callable[[web.Request, int, int], Awaitable[web.StreamResponse]]
"""Answers one ``/rest/events`` request: (request, since, timeout) -> response."""


def ev(i: int, to: str = "idle", **extra: Any) -> dict[str, Any]:
    """A StateChanged envelope with id ``i`` (and global id ``i``)."""
    return {
        "id": i,
        "globalID": i,
        "time": "2024-05-01T10:00:01Z",
        "type": "StateChanged",
        "data": {"folder": "f", "from": "scanning", "to": to},
        **extra,
    }


def reply(events: list[Any]) -> web.Response:
    return web.Response(body=json.dumps(events).encode(), content_type="application/json")


async def held(timeout: int) -> web.Response:
    """What Syncthing does when nothing is new: hold the poll for ``timeout`` s, then ``[]``."""
    await asyncio.sleep(timeout)
    return reply([])


async def buffered(
    buffer: list[dict[str, Any]], request: web.Request, since: int, timeout: int
) -> web.Response:
    """Syncthing's answer: events of ``buffer`` after ``since`` (the last ``limit``), or a held poll."""
    batch = [e for e in buffer if e["id"] > since]
    limit = int(request.query.get("limit", "0"))
    if limit > 0:
        batch = batch[-limit:]
    return reply(batch) if batch or timeout == 0 else await held(timeout)


class Hostile:
    """A loopback server with Syncthing's status endpoint and a scripted ``/rest/events``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.polls: list[dict[str, str]] = []
        """Query of every ``/rest/events`` request with ``timeout`` > 0 (long polls)."""
        self.requests = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _events(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        query = dict(request.query)
        timeout = int(query.get("timeout", "60"))
        if timeout > 0:
            self.polls.append(query)
        return await self.handler(request, int(query.get("since", "0")), timeout)

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response({"myID": DEVICE, "startTime": START, "uptime": 5})

    async def __aenter__(self) -> Hostile:
        app = web.Application()
        app.router.add_get("/rest/events", self._events)
        app.router.add_get("/rest/system/status", self._status)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.2)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def collect(source: AsyncIterator[StreamItem], seconds: float, limit: int = 50) -> list[StreamItem]:
    """Items yielded within ``seconds`` (at most ``limit``): the window bounds the test."""
    out: list[StreamItem] = []

    async def run() -> None:
        async for item in source:
            out.append(item)
            if len(out) >= limit:
                return

    try:
        await asyncio.wait_for(run(), seconds)
    except TimeoutError:
        pass
    return out


async def items_from(kind: str, client: SyncthingClient, seconds: float, **kw: Any) -> list[StreamItem]:
    """Run an EventStream (``kind="stream"``) or an EventListener iterator for ``seconds``."""
    if kind == "stream":
        async with client.events.stream(since=0, poll_timeout=1, read_margin=2, backoff=FAST, **kw) as stream:
            return await collect(stream, seconds)
    since = EventCursor(device_id=DEVICE, start_time=datetime.fromisoformat(START), last_id=0)
    listener = client.events.listener(poll_timeout=1, read_margin=2, backoff=FAST, since=since)
    async with listener:
        sub = listener.iterate(**kw)
        out = await collect(sub, seconds)
        assert listener.running, "the listener task died"
        return out


# ---------------------------------------------------------------- 5: undecodable newest envelope


@pytest.mark.parametrize("kind", ["stream", "listener"])
async def test_undecodable_newest_envelope_is_a_marker_not_a_reset_loop(kind: str) -> None:
    bad = {**ev(2), "time": "not-a-time"}

    async def handler(request: web.Request, since: int, timeout: int) -> web.StreamResponse:
        return await buffered([ev(1), bad], request, since, timeout)

    async with Hostile(handler) as server, SyncthingClient(server.url, "k") as client:
        items = await items_from(kind, client, 2.5)
    assert not any(isinstance(i, StreamReset) for i in items), summary(items)
    assert summary(items) == [("StateChanged", 1), ("EventsSkipped", 1)]
    marker = items[1]
    assert isinstance(marker, EventsSkipped)
    assert (marker.first_id, marker.last_id, marker.reason) == (2, 2, SkipReason.MALFORMED)
    # #1 is never fetched twice: one poll from 0, then polls from 2 held by the server
    assert [p["since"] for p in server.polls][:2] == ["0", "2"]
    assert len(server.polls) <= 5, len(server.polls)


async def test_undecodable_head_is_a_retried_failure_not_a_restart() -> None:
    # since=5 is unconfirmed, the poll answers [], and the head check cannot be read at all
    async def handler(request: web.Request, since: int, timeout: int) -> web.StreamResponse:
        if request.query.get("limit") == "1":
            return reply([{"id": "five", "time": "not-a-time"}])
        return reply([])

    states: list[ConnectionState] = []
    async with Hostile(handler) as server, SyncthingClient(server.url, "k") as client:
        stream = client.events.stream(since=5, poll_timeout=1, backoff=FAST, on_state=states.append)
        items = await collect(stream, 1.5)
        await stream.aclose()
    assert items == []  # no StreamReset: nothing says the process changed
    assert ConnectionState.RECONNECTING in states
    assert server.requests <= 200, server.requests  # retried with backoff, not in a busy loop


# ---------------------------------------------------------------- 6: instant [] answers


@pytest.mark.parametrize("kind", ["stream", "listener"])
async def test_instant_empty_answers_are_paced(kind: str) -> None:
    async def handler(request: web.Request, since: int, timeout: int) -> web.StreamResponse:
        return reply([])  # at once, although the client asked the server to hold the poll

    async with Hostile(handler) as server, SyncthingClient(server.url, "k") as client:
        if kind == "stream":
            stream = client.events.stream(poll_timeout=1)
            assert await collect(stream, 2.0) == []
            await stream.aclose()
        else:
            async with client.events.listener(poll_timeout=1) as listener:
                assert await collect(listener.iterate(), 2.0) == []
                assert listener.running
    # unpaced this is thousands of polls; paced with the default backoff (1 s, 2 s, ...) a few
    assert 1 <= len(server.polls) <= 20, len(server.polls)


# ---------------------------------------------------------------- 7: deeply nested JSON

DEEP = '{"a":' * 100_000 + "1" + "}" * 100_000


@pytest.mark.parametrize("where", ["batch", "data"])
@pytest.mark.parametrize("kind", ["stream", "listener"])
async def test_deeply_nested_json_never_escapes(kind: str, where: str) -> None:
    poisoned = 0

    async def handler(request: web.Request, since: int, timeout: int) -> web.StreamResponse:
        nonlocal poisoned
        if since == 0 and timeout > 0:
            return reply([ev(1)])
        if since == 1 and timeout > 0 and poisoned < 2:  # twice, then the server recovers
            poisoned += 1
            if where == "batch":
                body = "[" + DEEP + "]"
            else:  # a well-formed envelope whose payload nests 100000 levels deep
                body = json.dumps([{**ev(2), "data": 0}]).replace('"data": 0', '"data": ' + DEEP)
            return web.Response(body=body.encode(), content_type="application/json")
        return await buffered([ev(1), ev(2), ev(3)], request, since, timeout)

    async with Hostile(handler) as server, SyncthingClient(server.url, "k") as client:
        items = await items_from(kind, client, 3.0)
    assert poisoned == 2
    ids = summary(items)
    assert ids[0] == ("StateChanged", 1) and ids[-1] == ("StateChanged", 3), ids
    assert not any(isinstance(i, StreamReset) for i in items)
    # #2 is either retried until the server recovers, or reported as lost: never delivered twice
    assert ids.count(("StateChanged", 2)) <= 1


# ---------------------------------------------------------------- 8: server keys vs internal state


@pytest.mark.parametrize("kind", ["stream", "listener"])
async def test_a_payload_cannot_set_internal_state(kind: str) -> None:
    async def handler(request: web.Request, since: int, timeout: int) -> web.StreamResponse:
        return await buffered([ev(1, **{"$cachedData": "pwned"})], request, since, timeout)

    async with Hostile(handler) as server, SyncthingClient(server.url, "k") as client:
        items = await items_from(kind, client, 1.5, types="StateChanged")
    assert len(items) == 1
    event = items[0]
    assert isinstance(event, StateChangedEvent)
    assert event.data == StateChangedData(folder="f", from_="scanning", to="idle")
    assert b"pwned" not in event.raw_json


# ---------------------------------------------------------------- 9: ids repeating inside a batch


@pytest.mark.parametrize("types", [None, "StateChanged"])
@pytest.mark.parametrize("kind", ["stream", "listener"])
async def test_repeated_ids_in_a_batch_are_yielded_once_and_gaps_reported(kind: str, types: Any) -> None:
    async def handler(request: web.Request, since: int, timeout: int) -> web.StreamResponse:
        if since == 0 and timeout > 0:
            return reply([ev(1), ev(2)])
        if since == 2 and timeout > 0:
            return reply([ev(3), ev(3), ev(5), ev(6)])
        return await buffered([ev(1), ev(2), ev(5), ev(6)], request, since, timeout)

    async with Hostile(handler) as server, SyncthingClient(server.url, "k") as client:
        items = await items_from(kind, client, 1.5, types=types)
    assert summary(items) == [
        ("StateChanged", 1),
        ("StateChanged", 2),
        ("StateChanged", 3),
        ("EventsSkipped", 1),
        ("StateChanged", 5),
        ("StateChanged", 6),
    ]
    skipped = items[3]
    assert isinstance(skipped, EventsSkipped) and (skipped.first_id, skipped.last_id) == (4, 4)


async def test_ids_going_backwards_in_a_batch_are_never_yielded_twice() -> None:
    async def handler(request: web.Request, since: int, timeout: int) -> web.StreamResponse:
        if since == 0 and timeout > 0:
            return reply([ev(1), ev(3), ev(2), ev(4)])
        return await buffered([ev(1), ev(3), ev(4)], request, since, timeout)

    async with Hostile(handler) as server, SyncthingClient(server.url, "k") as client:
        items = await items_from("stream", client, 1.0)
    assert summary(items) == [
        ("StateChanged", 1),
        ("EventsSkipped", 1),
        ("StateChanged", 3),
        ("StateChanged", 4),
    ]


# ---------------------------------------------------------------- 10: the host closes the session


async def test_host_closing_a_lent_session_stops_listener_and_mirror_quietly() -> None:
    async with FakeSyncthing(timeout_scale=0.05) as fake:
        fake.respond("GET", "/rest/config", {"version": 37, "folders": [], "devices": []})
        fake.respond("GET", "/rest/system/connections", {"connections": {}, "total": {"at": START}})
        session = aiohttp.ClientSession()
        client = SyncthingClient(fake.url, fake.api_key, session=session)
        # aiohttp (3.14) leaves a request whose headers arrived hanging on a closed session until
        # its timeout; a 0.5 s read margin keeps that wait short (poll 1 s + 0.5 s)
        listener = client.events.listener(poll_timeout=1, read_margin=0.5, backoff=FAST)
        mirror = StateMirror(client, poll_timeout=1, read_margin=0.5, backoff=FAST)
        states: list[ConnectionState] = []
        listener.on_state(states.append)
        await listener.start()
        sub = listener.iterate()
        await mirror.start()
        await fake.wait_polling(2)
        await session.close()
        rest = await collect(sub, 5.0)  # ends when the listener stops
        assert [i for i in rest if not isinstance(i, (EventsSkipped, StreamReset))] == []
        await asyncio.wait_for(_until(lambda: not mirror.running), 5.0)
        assert listener.state is ConnectionState.CLOSED and not listener.running
        assert states[-1] is ConnectionState.CLOSED
        assert mirror.connection_state is ConnectionState.CLOSED
        await listener.stop()
        await mirror.stop()


async def test_closing_the_client_stops_listener_and_mirror_quietly(caplog: pytest.LogCaptureFixture) -> None:
    async with FakeSyncthing(timeout_scale=0.05) as fake:
        fake.respond("GET", "/rest/config", {"version": 37, "folders": [], "devices": []})
        fake.respond("GET", "/rest/system/connections", {"connections": {}, "total": {"at": START}})
        client = SyncthingClient(fake.url, fake.api_key)
        # aiohttp (3.14) leaves a request whose headers arrived hanging on a closed session until
        # its timeout; a 0.5 s read margin keeps that wait short (poll 1 s + 0.5 s)
        listener = client.events.listener(poll_timeout=1, read_margin=0.5, backoff=FAST)
        mirror = StateMirror(client, poll_timeout=1, read_margin=0.5, backoff=FAST)
        await listener.start()
        sub = listener.iterate()
        await mirror.start()
        await fake.wait_polling(2)
        with caplog.at_level(logging.INFO):
            await client.close()
            rest = await collect(sub, 5.0)  # ends when the listener stops
            await asyncio.wait_for(_until(lambda: not mirror.running), 5.0)
        assert [i for i in rest if not isinstance(i, (EventsSkipped, StreamReset))] == []
        assert listener.state is ConnectionState.CLOSED and not listener.running
        assert mirror.connection_state is ConnectionState.CLOSED
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
        await listener.stop()
        await mirror.stop()


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.02)


# ---------------------------------------------------------------- 11: plain words in the logs


async def test_connection_lost_mid_poll_is_logged_in_plain_words(caplog: pytest.LogCaptureFixture) -> None:
    cut = 0

    async def handler(request: web.Request, since: int, timeout: int) -> web.StreamResponse:
        nonlocal cut
        if since == 0 and timeout > 0 and cut == 0:
            cut += 1  # a daemon stopping in the middle of a chunked answer
            resp = web.StreamResponse(headers={"Content-Type": "application/json"})
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            await resp.write(b'[{"id": 1, "globalID": 1, "ti')
            assert request.transport is not None
            request.transport.close()
            return resp
        return await buffered([ev(1)], request, since, timeout)

    async with Hostile(handler) as server, SyncthingClient(server.url, "k") as client:
        with caplog.at_level(logging.DEBUG, logger="syncthing_async.events"):
            items = await items_from("stream", client, 1.5)
    assert cut == 1
    assert summary(items) == [("StateChanged", 1)]
    # what a user sees (INFO and up) is plain; aiohttp's own text stays at DEBUG for diagnosis
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "syncthing_async.events" and r.levelno >= logging.INFO
    ]
    failed = [line for line in lines if "retrying" in line]
    assert failed and "connection lost while reading events" in failed[0], lines
    assert not [line for line in lines if "400" in line or "TransferEncodingError" in line], lines
