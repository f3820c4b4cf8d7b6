"""Measurement workers for the peers, run with the peers' own venv (``benchmarks/.work/peers``).

Standalone on purpose (imports neither ``syncthing_async`` nor ``benchmarks``): it runs under
another interpreter. Same method as :mod:`benchmarks.workers`: the process measures itself.

* ``aiosyncthing`` 0.7.1 (async, aiohttp): ``system.status()``, ``database.status()``,
  ``config.config()``; it has no ``db/browse`` method, so that call goes through its own
  ``API.request("rest/db/browse", ...)``. Events through ``events.listen()``.
* ``syncthing`` (python-syncthing, synchronous, requests): ``sys.status()``, ``db.status()``,
  ``db.browse()``, ``sys.config()`` (``/rest/system/config``); it blocks, so it runs alone in
  this process (the equivalent of a worker thread: its CPU is the process's CPU).

Usage: ``python peer_worker.py <task> <impl> '<json params>'``; prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from typing import Any
from urllib.parse import urlsplit


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def describe(value: Any) -> str:
    if isinstance(value, list):
        inner = {type(v).__name__ for v in value[:50]}
        return f"list[{'|'.join(sorted(inner))}]"
    return type(value).__name__


async def ameasure(fn: Any, n: int, repeats: int, warmup: int) -> dict[str, Any]:
    result = None
    for _ in range(warmup):
        result = await fn()
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(n):
            result = await fn()
        cpu.append((time.process_time() - c0) / n)
        wall.append((time.perf_counter() - w0) / n)
    return {"cpu": cpu, "wall": wall, "n": n * repeats, "result_type": describe(result)}


def smeasure(fn: Any, n: int, repeats: int, warmup: int) -> dict[str, Any]:
    result = None
    for _ in range(warmup):
        result = fn()
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(n):
            result = fn()
        cpu.append((time.process_time() - c0) / n)
        wall.append((time.perf_counter() - w0) / n)
    return {"cpu": cpu, "wall": wall, "n": n * repeats, "result_type": describe(result)}


async def calls_aiosyncthing(p: dict[str, Any]) -> dict[str, Any]:
    from aiosyncthing import Syncthing  # type: ignore[import-not-found,unused-ignore]

    folder = p["folder"]
    out = {}
    async with Syncthing(p["api_key"], url=p["url"]) as st:
        fns = {
            "system_status": st.system.status,
            "db_status": lambda: st.database.status(folder),
            "db_browse": lambda: st._api.request("rest/db/browse", params={"folder": folder}),
            "config": st.config.config,
        }
        for name, b in p["benches"].items():
            out[name] = await ameasure(fns[name], b["n"], b["repeats"], b["warmup"])
    return out


def calls_python_syncthing(p: dict[str, Any]) -> dict[str, Any]:
    from syncthing import Syncthing  # type: ignore[import-not-found,unused-ignore]

    parts = urlsplit(p["url"])
    st = Syncthing(p["api_key"], host=parts.hostname, port=parts.port)
    folder = p["folder"]
    fns = {
        "system_status": st.sys.status,
        "db_status": lambda: st.db.status(folder),
        "db_browse": lambda: st.db.browse(folder),
        "config": st.sys.config,
    }
    return {name: smeasure(fns[name], b["n"], b["repeats"], b["warmup"]) for name, b in p["benches"].items()}


async def events_aiosyncthing(p: dict[str, Any]) -> dict[str, Any]:
    from aiosyncthing import Syncthing  # type: ignore[import-not-found,unused-ignore]

    n, warmup = p["n"], p["warmup"]
    total = n + warmup
    seen = read = 0
    types: dict[str, str] = {}
    c0 = w0 = 0.0
    async with Syncthing("bench-key", url=p["url"]) as st:
        async for ev in st.events.listen():
            data = ev["data"]
            types.setdefault(ev["type"], type(data).__name__)
            seen += 1
            read += 1
            if seen == warmup:
                read = 0
                c0, w0 = time.process_time(), time.perf_counter()
            if seen >= total:
                break
    cpu = time.process_time() - c0
    wall = time.perf_counter() - w0
    return {
        "events": n,
        "payloads_read": read,
        "cpu_per_event": cpu / n,
        "wall": wall,
        "events_per_s": n / wall,
        "types": types,
    }


async def idle_aiosyncthing(p: dict[str, Any]) -> dict[str, Any]:
    from aiosyncthing import Syncthing  # type: ignore[import-not-found,unused-ignore]

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    rss_before = rss_mb()
    polls = 0

    def url_of(i: int) -> str:
        # One instance per stream under a path prefix (aiosyncthing joins relative paths: keep the slash).
        return f"{p['url']}/i{i:05d}/" if p.get("prefix") else p["url"]

    async def one(i: int) -> None:
        nonlocal polls
        async with Syncthing("bench-key", url=url_of(i)) as st:
            async for _ev in st.events.listen():
                polls += 1

    c_start = time.process_time()
    tasks = [asyncio.create_task(one(i)) for i in range(p["streams"])]
    await asyncio.sleep(p["settle"])
    startup_cpu = time.process_time() - c_start
    polls0 = polls
    c0, w0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(p["seconds"])
    cpu = time.process_time() - c0
    wall = time.perf_counter() - w0
    rss = rss_mb()
    failed = [t for t in tasks if t.done()]
    errors = sorted({repr(t.exception())[:200] for t in failed if not t.cancelled() and t.exception()})
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "streams": p["streams"],
        "seconds": wall,
        "cpu_s": cpu,
        "cpu_per_min": cpu / wall * 60,
        "rss_mb": rss,
        "rss_baseline_mb": rss_before,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "streams_failed": len(failed),
        "errors": errors,
        "startup_cpu_s": startup_cpu,
        "window_polls": polls - polls0,
    }


def main() -> None:
    task, impl, p = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    if (task, impl) == ("calls", "aiosyncthing"):
        result = asyncio.run(calls_aiosyncthing(p))
    elif (task, impl) == ("calls", "python-syncthing"):
        result = calls_python_syncthing(p)
    elif (task, impl) == ("events", "aiosyncthing"):
        result = asyncio.run(events_aiosyncthing(p))
    elif task in ("idle", "scale") and impl == "aiosyncthing":
        result = asyncio.run(idle_aiosyncthing(p))
    else:
        raise SystemExit(f"unknown peer task {task} {impl}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
