"""Local stand-in for Syncthing's ``/rest/events``, run in a process of its own.

``burst`` mode answers every poll at once with ``--batch`` events of real shapes (recorded from
Syncthing 1.29.5, ``tests/fixtures/1.29.5/events/default.json``) whose ids continue from ``since``.
``hold`` mode emulates an idle Syncthing: every poll is held for its ``timeout`` (default 60 s, as
Syncthing does) and answered with ``[]``. ``fleet`` mode emulates many busy Syncthings: each
instance logs ``--rate`` events per second, as one burst per second (instances staggered over the
second), ids from 1; a poll gets every event logged after ``since`` at once, or waits for the next
burst (up to its ``timeout``).

Every path may carry a prefix (``/i0042/rest/events``): one server process then stands in for many
Syncthing instances (a client's URL path prefix), each prefix an instance of its own.

Usage: ``python -m benchmarks.event_source burst|hold`` prints ``PORT <n>`` once it listens on
127.0.0.1. Also answers ``/rest/system/status``, ``/rest/system/version``, ``/rest/system/ping``
and ``/rest/noauth/health`` with recorded 1.29.5 answers, so a client's version or restart checks work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from aiohttp import web

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "1.29.5"
VERSION_HEADER = {"X-Syncthing-Version": "v1.29.5", "Content-Type": "application/json; charset=utf-8"}

#: Event mix per batch of 1000 (type -> count); scaled to the batch size.
MIX: dict[str, int] = {
    "ItemStarted": 300,
    "ItemFinished": 300,
    "StateChanged": 150,
    "FolderSummary": 80,
    "FolderCompletion": 80,
    "LocalIndexUpdated": 80,
    "ConfigSaved": 10,
}
#: The types a "reads a few types" consumer decodes (about a quarter of the events).
FEW_TYPES = frozenset({"StateChanged", "FolderSummary"})


def recorded_events() -> dict[str, dict[str, object]]:
    """One recorded 1.29.5 event per type of :data:`MIX` (type -> event object)."""
    events = json.loads((FIXTURES / "events" / "default.json").read_text())
    out: dict[str, dict[str, object]] = {}
    for ev in events:
        out.setdefault(ev["type"], ev)
    missing = set(MIX) - set(out)
    if missing:
        raise RuntimeError(f"fixture lacks event types {sorted(missing)}")
    return out


def batch_tails(size: int) -> list[bytes]:
    """Per event of a batch: the JSON after ``{"id":N,"globalID":M`` (interleaved types)."""
    recorded = recorded_events()
    total = sum(MIX.values())
    counts = {t: max(1, round(n * size / total)) for t, n in MIX.items()}
    order: list[str] = []
    # Interleave the types the way a busy Syncthing does instead of sorting them in blocks.
    remaining = dict(counts)
    while len(order) < size:
        for t in MIX:
            if remaining[t] > 0 and len(order) < size:
                order.append(t)
                remaining[t] -= 1
        if all(v <= 0 for v in remaining.values()):
            remaining = dict(counts)
    tails = []
    for i, t in enumerate(order):
        ev = dict(recorded[t])
        data = ev["data"]
        if t in ("ItemStarted", "ItemFinished") and isinstance(data, dict):
            data = {**data, "item": f"dir{i % 97}/file-{i}.txt"}
        body = {"time": ev["time"], "type": t, "data": data}
        tails.append(b"," + json.dumps(body, separators=(",", ":")).encode()[1:])
    return tails


def make_app(mode: str, batch: int, hold_cap: float, rate: int = 10) -> web.Application:
    tails = batch_tails(batch)
    status = (FIXTURES / "system_status.json").read_bytes()
    version = (FIXTURES / "system_version.json").read_bytes()
    loop_time = asyncio.get_running_loop().time
    t0 = loop_time()
    phases: dict[str, float] = {}

    def logged(instance: str, now: float) -> tuple[int, float]:
        """Fleet mode: (events logged so far by ``instance``, time of its next burst)."""
        phase = phases.get(instance)
        if phase is None:
            phase = phases[instance] = (len(phases) * 0.618034) % 1.0  # spread over the second
        elapsed = now - t0 - phase
        if elapsed < 0:
            return 0, t0 + phase
        bursts = int(elapsed) + 1
        return bursts * rate, t0 + phase + bursts

    async def fleet_events(request: web.Request, instance: str) -> web.Response:
        q = request.query
        since = int(q.get("since", "0") or 0)
        limit = int(q.get("limit", "0") or 0)
        timeout = min(float(q.get("timeout", "60") or 60), hold_cap)
        deadline = loop_time() + timeout
        while True:
            now = loop_time()
            count, next_at = logged(instance, now)
            if count > since or now >= deadline:
                break
            await asyncio.sleep(min(next_at, deadline) - now + 0.001)
        first = since + 1 if limit <= 0 else max(since + 1, count - limit + 1)
        n = len(tails)
        parts = [b'{"id":%d,"globalID":%d%s' % (i, i, tails[i % n]) for i in range(first, count + 1)]
        return web.Response(body=b"[" + b",".join(parts) + b"]", headers=VERSION_HEADER)

    async def events(request: web.Request, instance: str = "") -> web.Response:
        q = request.query
        since = int(q.get("since", "0") or 0)
        if mode == "fleet":
            return await fleet_events(request, instance)
        if mode == "hold":
            timeout = float(q.get("timeout", "60") or 60)
            await asyncio.sleep(min(timeout, hold_cap))
            return web.Response(body=b"[]", headers=VERSION_HEADER)
        n = len(tails)
        limit = int(q.get("limit", "0") or 0)
        parts = [b'{"id":%d,"globalID":%d%s' % (since + i + 1, since + i + 1, tails[i]) for i in range(n)]
        if limit > 0:
            parts = parts[-limit:]
        return web.Response(body=b"[" + b",".join(parts) + b"]", headers=VERSION_HEADER)

    async def fixed(body: bytes) -> web.Response:
        return web.Response(body=body, headers=VERSION_HEADER)

    fixed_bodies = {
        "/rest/system/status": status,
        "/rest/system/version": version,
        "/rest/system/ping": b'{"ping":"pong"}',
        "/rest/noauth/health": b'{"status":"OK"}',
    }

    async def route(request: web.Request) -> web.Response:
        path = request.path
        cut = path.find("/rest/")
        instance, rest = (path[:cut], path[cut:]) if cut > 0 else ("", path)
        if rest == "/rest/events":
            return await events(request, instance)
        body = fixed_bodies.get(rest)
        if body is None:
            raise web.HTTPNotFound()
        return await fixed(body)

    app = web.Application()
    app.router.add_get("/{tail:.*}", route)
    return app


async def serve(mode: str, batch: int, hold_cap: float, port: int, rate: int = 10) -> None:
    app = make_app(mode, batch, hold_cap, rate)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=8192)
    await site.start()
    bound = runner.addresses[0][1]
    print(f"PORT {bound}", flush=True)
    # Run until stdin closes (the parent exits or closes the pipe): never outlive the benchmark.
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await runner.cleanup()


def main() -> None:
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["burst", "hold", "fleet"])
    parser.add_argument("--rate", type=int, default=10, help="fleet: events per second per instance")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--hold-cap", type=float, default=3600.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.mode, args.batch, args.hold_cap, args.port, args.rate))


if __name__ == "__main__":
    main()
