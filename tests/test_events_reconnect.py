"""EventStream faults against FakeSyncthing: backoff schedule, resets, 5xx, malformed JSON, stalls, auth."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from syncthing_async import (
    AuthenticationError,
    AuthReason,
    NotFoundError,
    ServerError,
    SyncthingClient,
    SyncthingTimeoutError,
)
from syncthing_async.events import Backoff, ConnectionState
from syncthing_async.testing import FakeSyncthing
from tests.events_support import (
    emit_state,
    fake,
    no_negative_since_and_always_timeout,
    recorded_backoff,
    summary,
    take,
    until,
)

__all__ = ["fake"]


@pytest_asyncio.fixture
async def client(fake: FakeSyncthing) -> AsyncIterator[SyncthingClient]:
    # a short default timeout so a stalled status request fails fast too
    async with SyncthingClient(fake.url, fake.api_key, timeout=1.0) as st:
        yield st


def test_backoff_policy() -> None:
    backoff = Backoff(initial=0.5, factor=3, cap=10, random=lambda: 1.0)
    assert [backoff.delay(i) for i in range(5)] == [0.5, 1.5, 4.5, 10, 10]
    assert backoff.ceiling(10_000) == 10
    half = Backoff(initial=1, factor=2, cap=60, random=lambda: 0.5)
    assert [half.delay(i) for i in range(3)] == [0.5, 1.0, 2.0]  # full jitter scales the ceiling
    with pytest.raises(ValueError):
        Backoff(initial=0)
    with pytest.raises(ValueError):
        Backoff(initial=2, cap=1)


async def test_backoff_schedule_and_reset_after_success(fake: FakeSyncthing, client: SyncthingClient) -> None:
    backoff, rec = recorded_backoff(initial=1, factor=2, cap=8)
    states: list[ConnectionState] = []
    stream = client.events.stream(since=0, poll_timeout=1, backoff=backoff, on_state=states.append)
    fake.fail_next(500, count=5, path="/rest/events")
    assert summary(await take(stream, 2)) == [("Starting", 1), ("StartupComplete", 2)]
    assert rec.delays == [1, 2, 4, 8, 8]
    assert states == [ConnectionState.RECONNECTING, ConnectionState.CONNECTED]
    # after a success the schedule starts again at the initial delay
    fake.fail_next(503, path="/rest/events")
    emit_state(fake, "scanning")
    assert summary(await take(stream, 1)) == [("StateChanged", 3)]
    assert rec.delays == [1, 2, 4, 8, 8, 1]
    no_negative_since_and_always_timeout(fake)
    await stream.aclose()


async def test_faults_lose_nothing_and_duplicate_nothing(
    fake: FakeSyncthing, client: SyncthingClient
) -> None:
    backoff, rec = recorded_backoff()
    stream = client.events.stream(since=0, poll_timeout=1, read_margin=0.3, backoff=backoff)
    seen = await take(stream, 2)

    # a connection reset in the middle of a body
    emit_state(fake, "a")
    fake.reset_next()
    seen += await take(stream, 1)
    # malformed JSON with status 200
    emit_state(fake, "b")
    fake.malformed_next()
    seen += await take(stream, 1)
    # HTTP 500 and 502
    emit_state(fake, "c")
    fake.fail_next(500)
    fake.fail_next(502)
    seen += await take(stream, 1)
    # a severed long poll (GUI listener restart): same cursor, events emitted meanwhile arrive
    task = asyncio.create_task(take(stream, 2))
    await fake.wait_polling()
    fake.sever()
    emit_state(fake, "d")
    emit_state(fake, "e")
    seen += await task
    # a stalled server: accepted, never answered -> HTTP timeout (poll + margin), then retry
    task = asyncio.create_task(take(stream, 1, timeout=10))
    await fake.wait_polling()
    fake.stall()
    fake.sever()  # the current poll fails; the retry lands on the stalled request
    emit_state(fake, "f")
    seen += await task

    ids = [e.id for e in seen]  # type: ignore[union-attr]
    assert ids == list(range(1, 9)), summary(seen)
    assert [e.data.to for e in seen[2:]] == ["a", "b", "c", "d", "e", "f"]  # type: ignore[union-attr]
    assert len(rec.delays) >= 6
    assert stream.state is ConnectionState.CONNECTED
    no_negative_since_and_always_timeout(fake)
    await stream.aclose()


async def test_stalled_server_times_out(fake: FakeSyncthing, client: SyncthingClient) -> None:
    backoff, _rec = recorded_backoff()
    stream = client.events.stream(poll_timeout=1, read_margin=0.3, backoff=backoff, max_retries=1)
    task = asyncio.create_task(take(stream, 1, timeout=10))
    await fake.wait_polling()
    fake.stall(None)  # every new request is accepted and never answered
    fake.sever()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(SyncthingTimeoutError):
        await task
    assert 0.9 < loop.time() - started < 3.0  # the status check's 1 s client timeout
    assert stream.state is ConnectionState.DISCONNECTED
    fake.unstall()
    await stream.aclose()


@pytest.mark.parametrize("scale", [1.0, 2.0])
async def test_poll_http_timeout_is_poll_plus_margin(scale: float) -> None:
    # The fake answers a timeout=1 poll after 1 s * scale. With a 0.3 s margin the client waits
    # 1.3 s: a normal idle answer (scale 1) is never cut, a late one (scale 2) times out.
    async with (
        FakeSyncthing(timeout_scale=scale) as server,
        SyncthingClient(server.url, server.api_key, timeout=10.0) as st,
    ):
        backoff, rec = recorded_backoff()
        stream = st.events.stream(poll_timeout=1, read_margin=0.3, backoff=backoff, max_retries=0)
        task = asyncio.create_task(take(stream, 1, timeout=10))
        await server.wait_polling()
        loop = asyncio.get_running_loop()
        started = loop.time()
        if scale == 1.0:
            await until(
                lambda: sum(r.query.get("timeout") == "1" for r in server.events_requests) >= 3,
                "two idle polls answered with [] (each followed by the next poll)",
            )
            assert not task.done()
            assert stream.state is ConnectionState.CONNECTED
            assert rec.delays == []
            server.emit("DevicePaused", {"device": "x"})
            assert summary(await task) == [("DevicePaused", 3)]
        else:
            with pytest.raises(SyncthingTimeoutError):
                await task
            # the client gave up before the late answer (at 2 s): the fake still holds that poll
            assert server.waiting_polls == 1
            # not before poll + margin (1.3 s); the upper bound is generous (a loaded machine)
            assert 1.25 < loop.time() - started < 10
        await stream.aclose()


async def test_auth_failure_is_raised_without_retry_storm(
    fake: FakeSyncthing, client: SyncthingClient
) -> None:
    backoff, rec = recorded_backoff()
    states: list[ConnectionState] = []
    stream = client.events.stream(since=0, poll_timeout=1, backoff=backoff, on_state=states.append)
    assert [e.id for e in await take(stream, 2)] == [1, 2]  # type: ignore[union-attr]
    task = asyncio.create_task(take(stream, 1))
    await fake.wait_polling()
    fake.set_api_key("a-new-key")
    fake.sever()
    with pytest.raises(AuthenticationError) as info:
        await task
    assert info.value.reason is AuthReason.BAD_API_KEY
    assert stream.state is ConnectionState.AUTH_FAILED
    requests_after_failure = len(fake.requests)
    await asyncio.sleep(0.3)
    assert len(fake.requests) == requests_after_failure  # nothing retried in the background
    assert rec.delays == [1]  # only the connection cut was retried, never the 403
    # after the user fixes the key, iteration continues from the same cursor
    emit_state(fake, "scanning")
    client.set_api_key("a-new-key")
    assert summary(await take(stream, 1)) == [("StateChanged", 3)]
    assert states[-2:] == [ConnectionState.AUTH_FAILED, ConnectionState.CONNECTED]
    await stream.aclose()


async def test_non_retryable_status_is_raised(fake: FakeSyncthing, client: SyncthingClient) -> None:
    backoff, rec = recorded_backoff()
    stream = client.events.stream(poll_timeout=1, backoff=backoff)
    fake.fail_next(404, "404 page not found", path="/rest/events")
    with pytest.raises(NotFoundError):
        await take(stream, 1)
    assert rec.delays == []
    await stream.aclose()


async def test_max_retries(fake: FakeSyncthing, client: SyncthingClient) -> None:
    backoff, rec = recorded_backoff()
    stream = client.events.stream(poll_timeout=1, backoff=backoff, max_retries=3)
    fake.fail_next(500, count=10)
    with pytest.raises(ServerError):
        await take(stream, 1)
    assert rec.delays == [1, 2, 4]
    await stream.aclose()


async def test_failure_logging_is_rate_limited(
    fake: FakeSyncthing, client: SyncthingClient, caplog: pytest.LogCaptureFixture
) -> None:
    backoff, _rec = recorded_backoff()
    stream = client.events.stream(since=0, poll_timeout=1, backoff=backoff)
    fake.fail_next(500, count=12, path="/rest/events")
    with caplog.at_level(logging.DEBUG, logger="syncthing_async.events"):
        await take(stream, 1)
    failures = [r for r in caplog.records if "(attempt" in r.getMessage() and "retrying in" in r.getMessage()]
    assert len(failures) == 12
    assert [r.levelno for r in failures].count(logging.WARNING) == 2  # attempts 1 and 11
    assert any("reconnected after 12 failures" in r.getMessage() for r in caplog.records)
    await stream.aclose()
