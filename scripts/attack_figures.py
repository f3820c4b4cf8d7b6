"""Figures for docs/RELIABILITY.md's attack table: what a hostile server costs the client.

    .venv/bin/python scripts/attack_figures.py [--seconds 10]

Each scenario runs in its own client process (so peak RSS is that scenario's alone) against a
hostile server in another process, both on 127.0.0.1:

* ``body-1gib-length``: a 1 GiB answer announced by Content-Length;
* ``body-1gib-chunked``: a 1 GiB chunked answer (no length);
* ``body-endless``: a chunked answer that never ends;
* ``instant-empty``: ``/rest/events`` answered ``[]`` at once instead of after the long poll.

The client uses the default ``max_response_size``. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHUNK = b"x" * (1 << 20)
GIB = 1 << 30
STATUS = (
    b'{"myID": "MWQT3NW-WHHFVRC-FHBHLIW-APTEIH4-7EXGM7F-NW6WTJT-T6IWSK5-V6OS4QY",'
    b' "startTime": "2026-12-01T00:00:00Z"}'
)
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Syncthing-Version: v1.29.5\r\n"


async def _serve(kind: str) -> None:
    """The hostile server: prints its port, then answers every request per ``kind``."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1]
                if kind == "instant-empty" or not path.startswith(b"/rest/system/status"):
                    body = b"[]" if path.startswith(b"/rest/events") else STATUS
                    writer.write(HEAD + b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                    await writer.drain()
                    continue
                if kind == "body-1gib-length":
                    writer.write(HEAD + b"Content-Length: %d\r\n\r\n" % GIB)
                    for _ in range(GIB // len(CHUNK)):
                        writer.write(CHUNK)
                        await writer.drain()
                else:
                    writer.write(HEAD + b"Transfer-Encoding: chunked\r\n\r\n")
                    sent = 0
                    while kind == "body-endless" or sent < GIB:
                        writer.write(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
                        sent += len(CHUNK)
                        await writer.drain()
                    writer.write(b"0\r\n\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


async def _client(kind: str, port: int, seconds: float) -> dict[str, object]:
    """Run the client side of one scenario; return its figures."""
    from syncthing_async import SyncthingClient, SyncthingError

    url = f"http://127.0.0.1:{port}"
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu0, t0 = time.process_time(), time.perf_counter()
    out: dict[str, object] = {"scenario": kind}
    async with SyncthingClient(url, "attack-figures-key") as client:
        if kind == "instant-empty":
            polls = 0
            original = client._core.request

            async def counting(method: str, path: str, **kwargs: object) -> object:
                nonlocal polls
                if path.startswith("/rest/events"):
                    polls += 1
                return await original(method, path, **kwargs)  # type: ignore[arg-type]

            client._core.request = counting  # type: ignore[method-assign]
            try:
                async with asyncio.timeout(seconds), client.events.stream(since=0) as events:
                    async for _ in events:
                        pass
            except TimeoutError:
                pass
            out["polls_per_s"] = round(polls / seconds, 1)
        else:
            try:
                await client.system.status()
                out["outcome"] = "read whole body"
            except SyncthingError as err:
                out["outcome"] = type(err).__name__
    elapsed = time.perf_counter() - t0
    out["client_cpu_s"] = round(time.process_time() - cpu0, 3)
    out["wall_s"] = round(elapsed, 2)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out["peak_rss_mib"] = round(peak / 1024, 1)
    out["rss_growth_mib"] = round((peak - rss_before) / 1024, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(args.serve))
        return
    if args.client:
        print(json.dumps(asyncio.run(_client(args.client, args.port, args.seconds))))
        return
    rows = []
    for kind in ("body-1gib-length", "body-1gib-chunked", "body-endless", "instant-empty"):
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", kind], stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline())
            result = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--client",
                    kind,
                    "--port",
                    str(port),
                    "--seconds",
                    str(args.seconds),
                ],
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=args.seconds + 120,
                check=True,
            )
            rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
        finally:
            server.kill()
            server.wait()
    keys = ["scenario", "outcome", "polls_per_s", "client_cpu_s", "wall_s", "peak_rss_mib", "rss_growth_mib"]
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in rows:
        print("| " + " | ".join(str(row.get(k, "")) for k in keys) + " |")


if __name__ == "__main__":
    main()
