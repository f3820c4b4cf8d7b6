"""Measurement workers for ``syncthing_async`` ("ours") and the raw limit, one process per run.

Each worker measures only its own process: client CPU time (``time.process_time``: user + system of
every thread) and wall time. Servers (Syncthing, the event source) run in other processes.
The raw limit is raw aiohttp plus msgspec decoding into the *same* Structs the client returns,
with no client layer.

Usage: ``python -m benchmarks.workers <task> <impl> '<json params>'``; prints one JSON line.
Tasks: ``calls`` (ours|raw|lean), ``events`` (ours|ours_few|callbacks|raw|lean), ``idle``
(ours|raw), ``scale`` (ours|raw: many idle streams, one instance each), ``fleet`` (ours|lean:
many busy streams).

``lean`` is the limit: raw aiohttp + msgspec into minimal Structs with only the fields
(:mod:`benchmarks.lean`); ``raw`` decodes into the library's own Structs, so the difference
between the two is what the models cost.
"""

from __future__ import annotations

import asyncio
import gc
import json
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import aiohttp
import msgspec

from syncthing_async import SyncthingClient
from syncthing_async.models.config import Configuration
from syncthing_async.models.db import BrowseEntry, FolderSummary
from syncthing_async.models.events import _CLASS_BY_TYPE, Event
from syncthing_async.models.system import SystemStatus

from .event_source import FEW_TYPES, MIX
from .lean import lean, lean_event_union

# ----------------------------------------------------------------------------- helpers


def raise_nofile() -> None:
    """Allow many sockets (500 idle streams)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


def rss_mb() -> float:
    """Current resident set size of this process, in MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def measure(fn: Callable[[], Awaitable[Any]], n: int, repeats: int, warmup: int) -> dict[str, Any]:
    """Call ``fn`` ``warmup`` times, then ``repeats`` x ``n`` times; CPU and wall per call (s)."""
    result: Any = None
    for _ in range(warmup):
        result = await fn()
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(n):
            result = await fn()
        cpu.append((time.process_time() - c0) / n)
        wall.append((time.perf_counter() - w0) / n)
    return {"cpu": cpu, "wall": wall, "n": n * repeats, "result_type": describe(result)}


def describe(value: Any) -> str:
    """A short type description (``list[BrowseEntry]``) for the structure checks."""
    if isinstance(value, list):
        inner = {type(v).__name__ for v in value[:50]}
        return f"list[{'|'.join(sorted(inner))}]"
    return type(value).__name__


# ----------------------------------------------------------------------------- calls


CALL_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    "system_status": msgspec.json.Decoder(SystemStatus),
    "db_status": msgspec.json.Decoder(FolderSummary),
    "db_browse": msgspec.json.Decoder(list[BrowseEntry]),
    "config": msgspec.json.Decoder(Configuration),
}
LEAN_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    "system_status": msgspec.json.Decoder(lean(SystemStatus)),
    "db_status": msgspec.json.Decoder(lean(FolderSummary)),
    "db_browse": msgspec.json.Decoder(list[lean(BrowseEntry)]),  # type: ignore[misc]
    "config": msgspec.json.Decoder(lean(Configuration)),
}
CALL_PATHS = {
    "system_status": "/rest/system/status",
    "db_status": "/rest/db/status",
    "db_browse": "/rest/db/browse",
    "config": "/rest/config",
}


async def calls_ours(p: dict[str, Any]) -> dict[str, Any]:
    folder = p["folder"]
    out: dict[str, Any] = {}
    async with SyncthingClient(p["url"], p["api_key"]) as client:
        fns: dict[str, Callable[[], Awaitable[Any]]] = {
            "system_status": client.system.status,
            "db_status": lambda: client.db.status(folder=folder),
            "db_browse": lambda: client.db.browse(folder=folder),
            "config": client.config.get,
        }
        for name in p["benches"]:
            b = p["benches"][name]
            out[name] = await measure(fns[name], b["n"], b["repeats"], b["warmup"])
    return out


async def calls_raw(p: dict[str, Any], decoders: dict[str, msgspec.json.Decoder[Any]]) -> dict[str, Any]:
    folder = p["folder"]
    base = p["url"]
    headers = {"X-API-Key": p["api_key"]}
    out: dict[str, Any] = {}
    async with aiohttp.ClientSession() as session:

        def getter(name: str) -> Callable[[], Awaitable[Any]]:
            url = base + CALL_PATHS[name]
            params = {"folder": folder} if name in ("db_status", "db_browse") else None
            decode = decoders[name].decode

            async def get() -> Any:
                async with session.get(url, params=params, headers=headers) as resp:
                    resp.raise_for_status()
                    return decode(await resp.read())

            return get

        for name in p["benches"]:
            b = p["benches"][name]
            out[name] = await measure(getter(name), b["n"], b["repeats"], b["warmup"])
    return out


# ----------------------------------------------------------------------------- events


def _raw_event_union() -> msgspec.json.Decoder[Any]:
    """One-pass decoder: envelope + every payload into the library's own ``<Type>Data`` structs."""
    classes = []
    for type_name in MIX:
        data_type = _CLASS_BY_TYPE[type_name]._data_type
        cls = msgspec.defstruct(
            f"Raw{type_name}",
            [("id", int), ("global_id", int, 0), ("time", datetime), ("data", data_type)],
            kw_only=True,
            gc=False,
            tag_field="type",
            tag=type_name,
            rename={"global_id": "globalID"},
            namespace={"type": type_name},
        )
        classes.append(cls)
    union = classes[0]
    for cls in classes[1:]:
        union = union | cls  # type: ignore[assignment]
    return msgspec.json.Decoder(list[union])  # type: ignore[valid-type]


def _lean_event_decoder() -> msgspec.json.Decoder[Any]:
    """One-pass decoder into lean envelopes with lean payload Structs (the event limit)."""
    union = lean_event_union(list(MIX), {t: _CLASS_BY_TYPE[t]._data_type for t in MIX})
    return msgspec.json.Decoder(list[union])  # type: ignore[valid-type]


class Counter:
    """Counts events by id (so a type-filtered consumer counts what the server sent) and payloads read."""

    def __init__(self, warmup: int, total: int) -> None:
        self.warmup = warmup
        self.total = total
        self.first: int | None = None
        self.seen = 0
        self.payloads = 0
        self.skipped = 0
        self.types: dict[str, str] = {}
        self.mark_seen = 0
        self.c0 = self.w0 = 0.0
        self.done = asyncio.Event()

    def see(self, ev: Any) -> None:
        if self.first is None:
            self.first = ev.id - 1
        self.seen = ev.id - self.first
        data = ev.data
        self.payloads += 1
        if ev.type not in self.types:
            self.types[ev.type] = f"{type(ev).__name__}/{type(data).__name__}"
        if not self.mark_seen and self.seen >= self.warmup:
            self.mark_seen = self.seen
            self.payloads = 0
            self.c0, self.w0 = time.process_time(), time.perf_counter()
        if self.seen >= self.total:
            self.done.set()

    def result(self) -> dict[str, Any]:
        cpu = time.process_time() - self.c0
        wall = time.perf_counter() - self.w0
        n = self.seen - self.mark_seen
        if self.skipped:
            # Events were dropped before the consumer saw them: count what it was given.
            n = self.payloads
        return {
            "events": n,
            "payloads_read": self.payloads,
            "cpu_per_event": cpu / n,
            "wall": wall,
            "events_per_s": n / wall,
            "types": self.types,
            "skipped": self.skipped,
        }


async def events_run(impl: str, p: dict[str, Any]) -> dict[str, Any]:
    """Consume ``warmup`` then ``n`` events (counted by id); CPU/wall of the ``n`` only."""
    url, n, warmup = p["url"], p["n"], p["warmup"]
    counter = Counter(warmup, warmup + n)

    if impl in ("ours", "ours_few"):
        few = impl == "ours_few"
        async with SyncthingClient(url, "bench-key") as client:
            # "few": the consumer only wants two types and says so; the rest is never decoded.
            stream = client.events.stream(types=FEW_TYPES if few else None)
            async with stream:
                async for ev in stream:
                    if not isinstance(ev, Event):
                        raise RuntimeError(f"unexpected marker {ev!r}")
                    counter.see(ev)
                    if counter.done.is_set():
                        break
    elif impl == "callbacks":
        async with SyncthingClient(url, "bench-key") as client:
            listener = client.events.listener()

            def callback(ev: Any) -> None:
                if not isinstance(ev, Event):  # EventsSkipped: the consumer's buffer overflowed
                    counter.skipped += ev.count
                    return
                counter.see(ev)

            # A whole 1000-event batch is dispatched before the callback task runs, so the
            # consumer buffer must hold a batch (the default of 256 drops; see README).
            listener.subscribe(callback, buffer_size=p.get("buffer_size", 4096))
            async with listener:
                await counter.done.wait()
    elif impl in ("raw", "lean"):
        decoder = _raw_event_union() if impl == "raw" else _lean_event_decoder()
        since = 0
        async with aiohttp.ClientSession() as session:
            while not counter.done.is_set():
                async with session.get(
                    url + "/rest/events",
                    params={"since": str(since), "timeout": "60"},
                    headers={"X-API-Key": "bench-key"},
                ) as resp:
                    resp.raise_for_status()
                    batch = decoder.decode(await resp.read())
                for ev in batch:
                    counter.see(ev)
                    if counter.done.is_set():
                        break
                if batch:
                    since = batch[-1].id
    else:
        raise SystemExit(f"unknown events impl {impl}")
    return counter.result()


# ----------------------------------------------------------------------------- idle


async def idle_run(impl: str, p: dict[str, Any]) -> dict[str, Any]:
    """``streams`` concurrent idle event streams (one client each) for ``seconds``; CPU and RSS."""
    raise_nofile()
    base, streams, seconds, settle = p["url"], p["streams"], p["seconds"], p["settle"]
    prefixed = p.get("prefix", False)  # one "instance" per stream: /i00042/rest/events
    rss_before = rss_mb()
    polls = 0

    def url_of(i: int) -> str:
        return f"{base}/i{i:05d}" if prefixed else base

    async def ours_one(i: int) -> None:
        nonlocal polls
        async with SyncthingClient(url_of(i), "bench-key") as client:
            async for _ev in client.events.stream():
                polls += 1

    async def raw_one(i: int) -> None:
        nonlocal polls
        since = 0
        url = url_of(i)
        async with aiohttp.ClientSession() as session:
            while True:
                async with session.get(
                    url + "/rest/events",
                    params={"since": str(since), "timeout": "60"},
                    headers={"X-API-Key": "bench-key"},
                    timeout=aiohttp.ClientTimeout(total=70),
                ) as resp:
                    batch = json.loads(await resp.read())
                polls += 1
                if batch:
                    since = batch[-1]["id"]

    one = {"ours": ours_one, "raw": raw_one}[impl]
    c_start = time.process_time()
    tasks = [asyncio.create_task(one(i)) for i in range(streams)]
    await asyncio.sleep(settle)
    startup_cpu = time.process_time() - c_start
    gc.collect()
    polls0 = polls
    c0, w0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu = time.process_time() - c0
    wall = time.perf_counter() - w0
    rss = rss_mb()
    window_polls = polls - polls0
    failed = [t for t in tasks if t.done()]
    errors = sorted({repr(t.exception())[:200] for t in failed if not t.cancelled() and t.exception()})
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "streams": streams,
        "seconds": wall,
        "cpu_s": cpu,
        "cpu_per_min": cpu / wall * 60,
        "rss_mb": rss,
        "rss_baseline_mb": rss_before,
        "peak_rss_mb": peak_rss_mb(),
        "streams_failed": len(failed),
        "errors": errors,
        "startup_cpu_s": startup_cpu,
        "window_polls": window_polls,
    }


# ----------------------------------------------------------------------------- busy fleet


async def fleet_run(impl: str, p: dict[str, Any]) -> dict[str, Any]:
    """``streams`` busy streams, one instance each (``fleet`` server: ``rate`` events/s each).

    Every payload is read; each stream checks that ids arrive contiguous from 1 (none lost, none
    twice). CPU per event over the window counts the events delivered in the window.
    """
    raise_nofile()
    base, streams, seconds, settle, rate = p["url"], p["streams"], p["seconds"], p["settle"], p["rate"]
    rss_before = rss_mb()
    delivered = 0
    lost = 0
    dup = 0
    last: list[int] = [0] * streams

    def see(i: int, ev_id: int, data: Any) -> None:
        nonlocal delivered, lost, dup
        prev = last[i]
        if ev_id <= prev:
            dup += 1
            return
        lost += ev_id - prev - 1
        last[i] = ev_id
        delivered += 1

    async def ours_one(i: int) -> None:
        async with SyncthingClient(f"{base}/i{i:05d}", "bench-key") as client:
            stream = client.events.stream(since=0)
            async with stream:
                async for ev in stream:
                    if isinstance(ev, Event):
                        see(i, ev.id, ev.data)

    decoder = _lean_event_decoder()  # one decoder (and one set of lean classes) for every stream

    async def lean_one(i: int) -> None:
        since = 0
        url = f"{base}/i{i:05d}/rest/events"
        async with aiohttp.ClientSession() as session:
            while True:
                async with session.get(
                    url,
                    params={"since": str(since), "timeout": "60"},
                    headers={"X-API-Key": "bench-key"},
                    timeout=aiohttp.ClientTimeout(total=70),
                ) as resp:
                    resp.raise_for_status()
                    batch = decoder.decode(await resp.read())
                for ev in batch:
                    see(i, ev.id, ev.data)
                if batch:
                    since = batch[-1].id

    one = {"ours": ours_one, "lean": lean_one}[impl]
    tasks = [asyncio.create_task(one(i)) for i in range(streams)]
    await asyncio.sleep(settle)
    gc.collect()
    d0 = delivered
    c0, w0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu = time.process_time() - c0
    wall = time.perf_counter() - w0
    n = delivered - d0
    rss = rss_mb()
    failed = [t for t in tasks if t.done()]
    errors = sorted({repr(t.exception())[:200] for t in failed if not t.cancelled() and t.exception()})
    # Behind: a stream whose newest id lags what its instance logged by more than two bursts.
    loop_elapsed = settle + wall
    behind = sum(1 for v in last if v < rate * (loop_elapsed - 2.5))
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "streams": streams,
        "rate": rate,
        "seconds": wall,
        "cpu_s": cpu,
        "events": n,
        "expected_events": streams * rate * wall,
        "cpu_per_event": cpu / n if n else float("nan"),
        "cpu_share": cpu / wall,
        "lost": lost,
        "duplicated": dup,
        "behind": behind,
        "rss_mb": rss,
        "rss_baseline_mb": rss_before,
        "streams_failed": len(failed),
        "errors": errors,
    }


# ----------------------------------------------------------------------------- main


async def amain(task: str, impl: str, p: dict[str, Any]) -> dict[str, Any]:
    if task == "calls":
        if impl == "ours":
            return await calls_ours(p)
        return await calls_raw(p, CALL_DECODERS if impl == "raw" else LEAN_DECODERS)
    if task == "events":
        return await events_run(impl, p)
    if task in ("idle", "scale"):
        return await idle_run(impl, p)
    if task == "fleet":
        return await fleet_run(impl, p)
    raise SystemExit(f"unknown task {task}")


def main() -> None:
    task, impl, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    result = asyncio.run(amain(task, impl, params))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
