"""The shared lifecycle and the engine's start semantics (issue: one subscription engine).

* ``run()`` raises the same first failure as ``start()`` (a wrong key is an AuthenticationError);
* a host-owned task running ``run()``, cancelled mid-poll, leaves no task, socket or timer;
* ``wait_connected()`` and ``on_state`` unsubscribe;
* ``since=0`` yields what is buffered with no gap marker for older history (a cursor still
  reports every gap); a stale integer ``since`` is a StreamReset at the first contact.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import anyio
import pytest

from syncthing_async import (
    AuthenticationError,
    AuthReason,
    SyncthingClient,
    SyncthingTimeoutError,
)
from syncthing_async.events import ConnectionState, EventCursor, EventListener
from syncthing_async.mirror import StateMirror
from syncthing_async.models.events import EventsSkipped, ResetReason, StreamReset
from syncthing_async.testing import FakeSyncthing
from tests.events_support import client, client_tasks, fake, own_tasks, take
from tests.harness import SyncthingDaemon

__all__ = ["client", "fake"]

Factory = Callable[[SyncthingClient], EventListener | StateMirror]
SERVICES: dict[str, Factory] = {
    "listener": lambda c: c.events.listener(poll_timeout=1),
    "mirror": lambda c: StateMirror(c, poll_timeout=1),
}


def _serve_mirror_reads(fake: FakeSyncthing) -> None:
    fake.respond("GET", "/rest/config", {"version": 37, "folders": [], "devices": []})
    fake.respond(
        "GET", "/rest/system/connections", {"connections": {}, "total": {"at": "2026-01-01T00:00:00Z"}}
    )


@pytest.mark.parametrize("kind", sorted(SERVICES))
async def test_run_raises_the_first_failure_like_start(fake: FakeSyncthing, kind: str) -> None:
    _serve_mirror_reads(fake)
    async with SyncthingClient(fake.url, "wrong-key") as client:
        service = SERVICES[kind](client)
        baseline = client_tasks()
        with pytest.raises(AuthenticationError) as ran:
            await service.run()
        assert ran.value.reason is AuthReason.BAD_API_KEY
        with pytest.raises(AuthenticationError):
            await service.start()
        async with anyio.create_task_group() as tg:  # the host's own task group, as Home Assistant
            with pytest.raises(AuthenticationError):
                await tg.start(service.run)
        assert not service.running
        assert client_tasks() == baseline


@pytest.mark.daemon
@pytest.mark.parametrize("kind", sorted(SERVICES))
async def test_run_raises_a_wrong_key_against_real_syncthing(daemon: SyncthingDaemon, kind: str) -> None:
    async with SyncthingClient(daemon.url, "not-the-key") as client:
        with pytest.raises(AuthenticationError) as info:
            await SERVICES[kind](client).run()
    assert info.value.status == 403 and info.value.reason is AuthReason.BAD_API_KEY


def _library_timers() -> list[asyncio.TimerHandle]:
    loop: Any = asyncio.get_running_loop()
    return [h for h in loop._scheduled if not h.cancelled() and "syncthing_async" in repr(h._callback)]


@pytest.mark.parametrize("kind", sorted(SERVICES))
async def test_host_owned_task_cancelled_mid_poll_leaves_nothing(kind: str) -> None:
    # Real-time polls (held 5 s by the server), so the cancel lands in the middle of one.
    async with FakeSyncthing() as fake, SyncthingClient(fake.url, fake.api_key) as client:
        _serve_mirror_reads(fake)
        service = (
            client.events.listener(poll_timeout=5)
            if kind == "listener"
            else StateMirror(client, poll_timeout=5)
        )
        assert own_tasks() == set()
        task = asyncio.ensure_future(service.run())  # the host's task (async_create_background_task)
        await fake.wait_polling(timeout=30)  # a long poll is held open by the server right now
        await service.wait_connected(timeout=30)
        assert own_tasks()  # the poll (and for the mirror, its listener and state follower)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not service.running and service.state is ConnectionState.DISCONNECTED
        assert own_tasks() == set()
        assert _library_timers() == []
        with anyio.fail_after(10):  # the server notices the client's socket closing
            while fake.waiting_polls:
                await asyncio.sleep(0.01)
        assert not client.closed  # the client is the host's: still usable
        assert (await client.system.ping()).ping == "pong"


async def test_wait_connected_and_on_state_unsubscribe(fake: FakeSyncthing, client: SyncthingClient) -> None:
    listener = client.events.listener(poll_timeout=1)
    seen: list[ConnectionState] = []
    unsubscribe = listener.on_state(seen.append)
    async with listener:
        await listener.wait_connected(timeout=5)
        assert listener.state is ConnectionState.CONNECTED and listener.last_error is None
        assert seen == [ConnectionState.CONNECTED]
        unsubscribe()
        unsubscribe()  # idempotent
        await fake.close()  # Syncthing goes away: the listener retries in the background
        with anyio.fail_after(10):
            while listener.state is ConnectionState.CONNECTED:
                await asyncio.sleep(0.01)
        with pytest.raises(SyncthingTimeoutError, match=r"not connected to Syncthing within 0\.3 s"):
            await listener.wait_connected(timeout=0.3)
        assert listener.last_error is not None
    assert seen == [ConnectionState.CONNECTED]  # nothing after unsubscribe


async def test_auth_failed_exposes_reason_and_last_error(
    fake: FakeSyncthing, client: SyncthingClient
) -> None:
    listener = client.events.listener(poll_timeout=1)
    async with listener:
        await fake.wait_polling()
        fake.set_api_key("rotated")
        fake.sever()
        with anyio.fail_after(10):
            while listener.state is not ConnectionState.AUTH_FAILED:
                await asyncio.sleep(0.01)
        assert listener.auth_reason is AuthReason.BAD_API_KEY
        assert isinstance(listener.last_error, AuthenticationError)
        client.set_api_key("rotated")
        listener.reconnect()
        await listener.wait_connected(timeout=5)
        assert listener.auth_reason is None and listener.last_error is None


async def test_since_zero_past_the_buffer_has_no_marker_but_a_cursor_reports_the_gap(
    fake: FakeSyncthing, client: SyncthingClient
) -> None:
    for i in range(1100):  # past Syncthing's 1000-event buffer: ids 1..100 are gone
        fake.emit("StateChanged", {"folder": "f", "from": "idle", "to": f"s{i}"})
    async with client.events.stream(since=0, poll_timeout=1) as stream:
        first = (await take(stream, 1))[0]
    assert not isinstance(first, EventsSkipped) and first.id == fake.last_id() - 999
    status = await client.system.status()
    cursor = EventCursor(device_id=status.my_id, start_time=status.start_time, last_id=0)
    async with client.events.stream(since=cursor, poll_timeout=1) as stream:
        gap = (await take(stream, 1))[0]
    assert isinstance(gap, EventsSkipped) and gap.first_id == 1 and gap.last_id == first.id - 1


async def test_stale_integer_since_is_a_reset_at_once(fake: FakeSyncthing, client: SyncthingClient) -> None:
    stale = fake.last_id() + 5000  # an id from an earlier life of the daemon
    async with client.events.stream(since=stale, poll_timeout=60) as stream:
        with anyio.fail_after(5):  # not after a whole 60 s poll
            reset = (await take(stream, 1))[0]
    assert isinstance(reset, StreamReset) and reset.reason is ResetReason.ID_REGRESS
    assert reset.last_id == stale


@pytest.mark.daemon
async def test_since_semantics_on_real_syncthing(fresh_daemon: SyncthingDaemon) -> None:
    """A real daemon past its 1000-event buffer: since=0 starts at the oldest buffered event with
    no marker; a stale integer since is a StreamReset within one short poll."""
    async with SyncthingClient(fresh_daemon.url, fresh_daemon.api_key) as client:
        sem = asyncio.Semaphore(8)

        async def bump(i: int) -> None:  # each config change logs one ConfigSaved event
            async with sem:
                await client.config.options.patch(changes={"maxSendKbps": i % 2})

        await asyncio.gather(*(bump(i) for i in range(1100)))
        newest = (await client.events.get(since=0, limit=1))[-1].id
        assert newest > 1000
        async with client.events.stream(since=0, poll_timeout=1) as stream:
            first = (await take(stream, 1, timeout=15))[0]
        assert not isinstance(first, (EventsSkipped, StreamReset)), first
        assert first.id > 1  # older history is gone, and that is no loss for since=0
        async with client.events.stream(since=newest + 100_000, poll_timeout=60) as stream:
            with anyio.fail_after(10):
                reset = (await take(stream, 1, timeout=10))[0]
        assert isinstance(reset, StreamReset) and reset.last_id == newest + 100_000


async def test_closed_session_state_is_closed(fake: FakeSyncthing) -> None:
    session = aiohttp.ClientSession()
    client = SyncthingClient(fake.url, fake.api_key, session=session)
    listener = client.events.listener(poll_timeout=1)
    await listener.start()
    await client.close()  # ends the client's polls at once
    with anyio.fail_after(5):
        while listener.running:
            await asyncio.sleep(0.01)
    assert listener.state is ConnectionState.CLOSED
    await listener.stop()
    await session.close()
