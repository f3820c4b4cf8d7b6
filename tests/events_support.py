"""Helpers shared by the event-stream tests (fixtures are imported by each test module)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio

from syncthing_async import SyncthingClient
from syncthing_async.events import Backoff, EventStream
from syncthing_async.models.events import StreamItem
from syncthing_async.testing import FakeSyncthing

FAST_SCALE = 0.05
"""FakeSyncthing timeout_scale for tests: a 1 s poll lasts 50 ms."""


def _where(task: asyncio.Task[Any]) -> str:
    return str(getattr(getattr(task.get_coro(), "cr_code", None), "co_filename", ""))


def own_tasks() -> set[asyncio.Task[Any]]:
    """Running tasks that are the library's (by name or by the code they run)."""
    return {
        t
        for t in asyncio.all_tasks()
        if t.get_name().startswith("syncthing")
        or ("syncthing_async/" in _where(t) and "_fake" not in _where(t))
    }


def client_tasks() -> set[asyncio.Task[Any]]:
    """Running tasks, without those of an in-process test server (aiohttp.web, FakeSyncthing)."""
    return {t for t in asyncio.all_tasks() if "aiohttp/web_" not in _where(t) and "_fake" not in _where(t)}


def library_tasks(baseline: set[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
    """Client tasks started since ``baseline``; asserts each is the library's own (name or code)."""
    extra = client_tasks() - baseline
    for task in extra:
        assert task.get_name().startswith("syncthing") or "syncthing_async" in _where(task), task
    return extra


class SleepRecorder:
    """Injectable backoff sleep: records each delay and lets the loop run once, no real waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


def recorded_backoff(
    initial: float = 1.0, factor: float = 2.0, cap: float = 8.0
) -> tuple[Backoff, SleepRecorder]:
    """A Backoff with jitter fixed at 1.0 (the ceiling) and a recording sleep."""
    rec = SleepRecorder()
    return Backoff(initial=initial, factor=factor, cap=cap, sleep=rec, random=lambda: 1.0), rec


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeSyncthing]:
    async with FakeSyncthing(timeout_scale=FAST_SCALE) as server:
        yield server


@pytest_asyncio.fixture
async def client(fake: FakeSyncthing) -> AsyncIterator[SyncthingClient]:
    async with SyncthingClient(fake.url, fake.api_key) as st:
        yield st


async def take(stream: EventStream | Any, n: int, timeout: float = 5.0) -> list[StreamItem]:
    """The next ``n`` items of an async iterator, within ``timeout`` seconds."""

    async def run() -> list[StreamItem]:
        out: list[StreamItem] = []
        if n <= 0:
            return out
        async for item in stream:
            out.append(item)
            if len(out) == n:
                break
        return out

    return await asyncio.wait_for(run(), timeout)


def summary(items: list[StreamItem]) -> list[tuple[str, int]]:
    """(type, id) per event; markers as (name, count-or-last_id)."""
    out: list[tuple[str, int]] = []
    for item in items:
        if type(item).__name__ == "EventsSkipped":
            out.append(("EventsSkipped", item.count))  # type: ignore[union-attr]
        elif type(item).__name__ == "StreamReset":
            out.append(("StreamReset", item.last_id))  # type: ignore[union-attr]
        else:
            out.append((item.type, item.id))  # type: ignore[union-attr]
    return out


def emit_state(fake: FakeSyncthing, to: str, folder: str = "f") -> int:
    return fake.emit("StateChanged", {"folder": folder, "from": "idle", "to": to})


def no_negative_since_and_always_timeout(fake: FakeSyncthing) -> None:
    """Every poll the fake saw carried timeout= and a since >= 0."""
    polls = fake.events_requests
    assert polls
    for req in polls:
        assert "timeout" in req.query, req
        assert int(req.query["since"]) >= 0, req


Factory = Callable[..., EventStream]


async def until(check: Callable[[], bool], what: str, bound: float = 20.0) -> None:
    """Wait for a fact (checked every few ms); ``bound`` only stops a broken test from hanging:
    the fact normally holds within milliseconds, a loaded 2-core machine may take seconds."""
    deadline = time.monotonic() + bound
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {bound:g} s: {what}")
        await asyncio.sleep(0.005)
