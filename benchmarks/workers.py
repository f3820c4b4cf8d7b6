"""Measurement workers for ``syncthing_async`` ("ours") and the raw limit, one process per run.

Each worker measures only its own process: client CPU time (``time.process_time``: user + system of
every thread) and wall time. Servers (Syncthing, the event source) run in other processes.
The raw limit is raw aiohttp plus msgspec decoding into the *same* Structs the client returns,
with no client layer.

Usage: ``python -m benchmarks.workers <task> <impl> '<json params>'``; prints one JSON line.
Tasks: ``calls`` (ours|raw), ``events`` (ours|ours_few|callbacks|raw), ``idle`` (ours|raw).
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


async def calls_raw(p: dict[str, Any]) -> dict[str, Any]:
    folder = p["folder"]
    base = p["url"]
    headers = {"X-API-Key": p["api_key"]}
    out: dict[str, Any] = {}
    async with aiohttp.ClientSession() as session:

        def getter(name: str) -> Callable[[], Awaitable[Any]]:
            url = base + CALL_PATHS[name]
            params = {"folder": folder} if name in ("db_status", "db_browse") else None
            decode = CALL_DECODERS[name].decode

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
    elif impl == "raw":
        decoder = _raw_event_union()
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
    url, streams, seconds, settle = p["url"], p["streams"], p["seconds"], p["settle"]
    rss_before = rss_mb()
    polls = 0

    async def ours_one() -> None:
        nonlocal polls
        async with SyncthingClient(url, "bench-key") as client:
            async for _ev in client.events.stream():
                polls += 1

    async def raw_one() -> None:
        nonlocal polls
        since = 0
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
    tasks = [asyncio.create_task(one()) for _ in range(streams)]
    await asyncio.sleep(settle)
    gc.collect()
    c0, w0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu = time.process_time() - c0
    wall = time.perf_counter() - w0
    rss = rss_mb()
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
    }


# ----------------------------------------------------------------------------- main


async def amain(task: str, impl: str, p: dict[str, Any]) -> dict[str, Any]:
    if task == "calls":
        return await {"ours": calls_ours, "raw": calls_raw}[impl](p)
    if task == "events":
        return await events_run(impl, p)
    if task == "idle":
        return await idle_run(impl, p)
    raise SystemExit(f"unknown task {task}")


def main() -> None:
    task, impl, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    result = asyncio.run(amain(task, impl, params))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
