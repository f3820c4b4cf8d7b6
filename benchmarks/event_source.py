"""Local stand-in for Syncthing's ``/rest/events``, run in a process of its own.

``burst`` mode answers every poll at once with ``--batch`` events of real shapes (recorded from
Syncthing 1.29.5, ``tests/fixtures/1.29.5/events/default.json``) whose ids continue from ``since``.
``hold`` mode emulates an idle Syncthing: every poll is held for its ``timeout`` (default 60 s, as
Syncthing does) and answered with ``[]``.

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


def make_app(mode: str, batch: int, hold_cap: float) -> web.Application:
    tails = batch_tails(batch)
    status = (FIXTURES / "system_status.json").read_bytes()
    version = (FIXTURES / "system_version.json").read_bytes()

    async def events(request: web.Request) -> web.Response:
        q = request.query
        since = int(q.get("since", "0") or 0)
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

    app = web.Application()
    app.router.add_get("/rest/events", events)
    app.router.add_get("/rest/system/status", lambda r: fixed(status))
    app.router.add_get("/rest/system/version", lambda r: fixed(version))
    app.router.add_get("/rest/system/ping", lambda r: fixed(b'{"ping":"pong"}'))
    app.router.add_get("/rest/noauth/health", lambda r: fixed(b'{"status":"OK"}'))
    return app


async def serve(mode: str, batch: int, hold_cap: float, port: int) -> None:
    app = make_app(mode, batch, hold_cap)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=2048)
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
    parser.add_argument("mode", choices=["burst", "hold"])
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--hold-cap", type=float, default=3600.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.mode, args.batch, args.hold_cap, args.port))


if __name__ == "__main__":
    main()
