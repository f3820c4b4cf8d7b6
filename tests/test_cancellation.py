"""Cancelling a REST call or a helper: CancelledError propagates, nothing is wrapped, no task is left.

The server (FakeSyncthing) runs in its own thread and event loop, so every task on the test's
loop belongs to the client under test: a task the library left behind shows up in
``asyncio.all_tasks()``. Each call is cancelled at a fact, never after a sleep: once the server
holds the request (a stalled plain request, or a blocked event long poll).

Two ways to cancel are covered: ``Task.cancel()`` (asyncio's own, what ``asyncio.timeout`` and
``TaskGroup`` use) and an anyio cancel scope (what ``anyio.move_on_after`` and task groups use).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from syncthing_async import SyncthingClient, SyncthingError
from syncthing_async._helpers import (
    open_established_stream,
    scan,
    scan_and_wait,
    wait_for_idle,
    wait_for_sync,
)
from syncthing_async.testing import FakeSyncthing

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "1.29.5"
FOLDER = "default"
PEER = "QXSLDUB-HMHP3C4-WKR3VJA-S3TTWB7-U2T7QN5-FAN5WXZ-V4GKXPP-F2YRKQK"
BOUND = 20.0  # generous upper bound for "the server got the request" on a loaded 2-core machine


def _fixture(name: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    data.update(changes)
    return data


class ThreadedFake:
    """A FakeSyncthing on its own loop in a daemon thread; ``call`` runs code on that loop."""

    def __init__(self) -> None:
        self.fake = FakeSyncthing(timeout_scale=1.0)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fake-syncthing", daemon=True)

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.fake.start(), self.loop).result(BOUND)

    def stop(self) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.fake.close(), self.loop).result(BOUND)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(BOUND)
            self.loop.close()

    def call(self, fn: Callable[[], Any]) -> Any:
        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(BOUND)

    def request_count(self) -> int:
        return int(self.call(lambda: len(self.fake.requests)))

    def waiting_polls(self) -> int:
        return int(self.call(lambda: self.fake.waiting_polls))


@pytest.fixture
def server() -> Iterator[ThreadedFake]:
    srv = ThreadedFake()
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
async def client(server: ThreadedFake) -> AsyncIterator[SyncthingClient]:
    async with SyncthingClient(server.fake.url, server.fake.api_key, timeout=60) as c:
        yield c


async def _until(check: Callable[[], bool], what: str) -> None:
    """Wait for a fact observed on the server (polled in its own thread, never a fixed sleep)."""
    with anyio.fail_after(BOUND):  # only a bound: the fact normally holds within milliseconds
        while not check():
            await asyncio.sleep(0.005)
    assert check(), what


def _stalled(server: ThreadedFake) -> Callable[[], bool]:
    """A fact: the server holds one more request than before (it stalls every new one)."""
    before = server.request_count()
    server.call(lambda: server.fake.stall(None))
    return lambda: server.request_count() > before


def _polling(server: ThreadedFake) -> Callable[[], bool]:
    """A fact: an event long poll is blocked in the server (the helper waits for an event)."""
    return lambda: server.waiting_polls() >= 1


async def _bounded(task: asyncio.Future[Any], when: str) -> None:
    """Fail (instead of hanging) if a cancelled call goes on: the library swallowed the cancel."""
    await asyncio.wait({task}, timeout=BOUND)  # a bound only: a cancel ends the call at once
    if not task.done():
        for _ in range(10):  # make the runaway call end, so the fixtures can tear down
            task.cancel()
            await asyncio.wait({task}, timeout=0.5)
        pytest.fail(f"the call was still running {BOUND:g} s {when}: the cancel was swallowed")


async def _assert_task_cancel(
    make: Callable[[], Awaitable[Any]], ready: Callable[[], bool], client: SyncthingClient
) -> None:
    before = asyncio.all_tasks()
    task = asyncio.ensure_future(make())
    await _until(lambda: ready() or task.done(), "the call reached the server")
    assert not task.done(), f"the call ended before it could be cancelled: {task}"
    task.cancel()
    await _bounded(task, "after task.cancel()")
    with pytest.raises(asyncio.CancelledError) as info:
        await task
    assert type(info.value) is asyncio.CancelledError
    assert not isinstance(info.value, SyncthingError)
    # nothing wrapped: no library error anywhere on the way out
    chained: BaseException | None = info.value
    while chained is not None:
        assert not isinstance(chained, SyncthingError), repr(chained)
        chained = chained.__cause__ or chained.__context__
    assert task.cancelled()
    left = asyncio.all_tasks() - before
    assert left == set(), f"tasks left behind: {left}"


async def _assert_scope_cancel(
    make: Callable[[], Awaitable[Any]], ready: Callable[[], bool], client: SyncthingClient
) -> None:
    before = asyncio.all_tasks()
    finished: list[object] = []
    scope = anyio.CancelScope()

    async def run() -> None:
        with scope:
            async with anyio.create_task_group() as tg:

                async def watch() -> None:
                    await _until(ready, "the call reached the server")
                    scope.cancel()

                tg.start_soon(watch)
                finished.append(await make())

    outer = asyncio.ensure_future(run())
    await _bounded(outer, "after the cancel scope was cancelled")
    outer.result()  # the scope absorbed its own cancellation: nothing escaped, no library error
    assert scope.cancelled_caught
    assert finished == [], f"the call returned instead of being cancelled: {finished}"
    left = asyncio.all_tasks() - before
    assert left == set(), f"tasks left behind: {left}"


CANCELLERS = {"task.cancel": _assert_task_cancel, "cancel-scope": _assert_scope_cancel}


async def _still_works(client: SyncthingClient, server: ThreadedFake) -> None:
    server.call(server.fake.unstall)
    assert (await client.system.ping()).ping == "pong"


# --- plain REST calls ------------------------------------------------------------------------

REST_CALLS: dict[str, Callable[[SyncthingClient], Awaitable[Any]]] = {
    "GET system.ping": lambda c: c.system.ping(),
    "POST system.ping": lambda c: c.system.ping_post(),
    "GET db.status": lambda c: c.db.status(folder=FOLDER),
    "POST db.scan": lambda c: c.db.scan(folder=FOLDER),
    "GET config.folders.list": lambda c: c.config.folders.list(),
    "PATCH config.options": lambda c: c.config.options.patch(changes={"maxSendKbps": 1}),
    "get_syncthing_version": lambda c: c.get_syncthing_version(),
}


@pytest.mark.parametrize("how", CANCELLERS)
@pytest.mark.parametrize("call", REST_CALLS)
async def test_cancel_a_plain_rest_call(
    call: str, how: str, client: SyncthingClient, server: ThreadedFake
) -> None:
    ready = _stalled(server)
    await CANCELLERS[how](lambda: REST_CALLS[call](client), ready, client)
    await _still_works(client, server)


async def test_cancel_while_the_answer_is_half_read(client: SyncthingClient, server: ThreadedFake) -> None:
    """Cancelled while reading a body the server sends slowly (headers are in, the body is not)."""
    server.call(lambda: server.fake.respond("GET", "/rest/db/status", _fixture("db_status")))
    # an event poll sends its headers at once and then holds the body until an event comes
    await _assert_task_cancel(lambda: client.events.get(since=10**9, timeout=50), _polling(server), client)
    await _still_works(client, server)


# --- every helper of _helpers.py -----------------------------------------------------------

SYNCING = {"state": "syncing"}


def _serve_folder(server: ThreadedFake, *, summary: dict[str, Any], completion: dict[str, Any]) -> None:
    def setup() -> None:
        server.fake.respond("GET", "/rest/db/status", summary)
        server.fake.respond("GET", "/rest/db/completion", completion)
        server.fake.respond("POST", "/rest/db/scan", b"")

    server.call(setup)


HELPERS: dict[str, Callable[[SyncthingClient, float | None], Awaitable[Any]]] = {
    "wait_for_idle": lambda c, t: wait_for_idle(c, FOLDER, timeout=t),
    "wait_for_sync local": lambda c, t: wait_for_sync(c, FOLDER, timeout=t),
    "wait_for_sync device": lambda c, t: wait_for_sync(c, FOLDER, PEER, timeout=t),
    "scan": lambda c, t: scan(c, FOLDER, timeout=t),
    "scan wait": lambda c, t: scan(c, FOLDER, "sub", wait=True, timeout=t),
    "scan_and_wait": lambda c, t: scan_and_wait(c, FOLDER, timeout=t),
    "open_established_stream": lambda c, t: open_established_stream(c),
}
# the helpers that wait on an event long poll once their first reads say "not there yet"
POLLING = {"wait_for_idle", "wait_for_sync local", "wait_for_sync device", "scan wait", "scan_and_wait"}


@pytest.mark.parametrize("timeout", [None, 30.0], ids=["no-timeout", "timeout"])
@pytest.mark.parametrize("how", CANCELLERS)
@pytest.mark.parametrize("helper", HELPERS)
async def test_cancel_a_helper_in_a_stalled_request(
    helper: str, how: str, timeout: float | None, client: SyncthingClient, server: ThreadedFake
) -> None:
    """Its first request hangs (the server holds it): cancelled there."""
    ready = _stalled(server)
    await CANCELLERS[how](lambda: HELPERS[helper](client, timeout), ready, client)
    await _still_works(client, server)


@pytest.mark.parametrize("timeout", [None, 30.0], ids=["no-timeout", "timeout"])
@pytest.mark.parametrize("how", CANCELLERS)
@pytest.mark.parametrize("helper", sorted(POLLING))
async def test_cancel_a_helper_waiting_for_events(
    helper: str, how: str, timeout: float | None, client: SyncthingClient, server: ThreadedFake
) -> None:
    """The folder is syncing / the peer at 2.7 % (a real 1.29.5 answer): cancelled in the event poll."""
    _serve_folder(
        server,
        summary=_fixture("db_status__needy", **SYNCING),
        completion=_fixture("db_completion__aggregate"),
    )
    await CANCELLERS[how](lambda: HELPERS[helper](client, timeout), _polling(server), client)
    await _still_works(client, server)


async def test_a_helper_timeout_is_still_a_timeout(client: SyncthingClient, server: ThreadedFake) -> None:
    """The other side: the helper's own deadline gives SyncthingTimeoutError, not a cancel."""
    from syncthing_async import SyncthingTimeoutError

    _serve_folder(
        server,
        summary=_fixture("db_status__needy", **SYNCING),
        completion=_fixture("db_completion__aggregate"),
    )
    before = asyncio.all_tasks()
    with pytest.raises(SyncthingTimeoutError):
        await wait_for_idle(client, FOLDER, timeout=0.3)
    assert asyncio.all_tasks() - before == set()
