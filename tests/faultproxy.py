"""A fault-injecting asyncio TCP proxy for tests (127.0.0.1 only).

It sits between a client and a real server and, per connection, can damage the *response*
direction (upstream -> client):

* ``RESET``      forward part of the response body, then abort the client side with a TCP RST;
* ``STALL``      forward part of the body, then stop forwarding for ``duration`` seconds
                 (then resume, or reset if ``resume=False``);
* ``HALF_CLOSE`` forward part of the body, then send FIN to the client (``shutdown(SHUT_WR)``)
                 while still reading from it: the client sees a truncated body;
* ``DRIP``       from the trigger point on, forward the response ``chunk`` bytes at a time with
                 ``delay`` seconds in between;
* ``ACCEPT_RESET`` accept the TCP connection and reset it at once, before any byte;
* refused connects: :meth:`FaultProxy.refuse_for` closes the listening socket for a while, so
  connects get ``ECONNREFUSED`` (counted as ``REFUSE`` windows).

"Mid-body" is measured after the first ``\\r\\n\\r\\n`` (end of the HTTP response header) seen
on the connection: ``FaultSpec.body_offset`` bytes of body are forwarded before the fault
fires; ``None`` picks a random point inside the first body chunk, so the fault always fires
inside the body that actually arrives.

Control: per new connection from :meth:`FaultProxy.queue` (FIFO), otherwise from
``FaultProxy.policy`` (a callable, e.g. :class:`RandomFaults`); per live connection with
:meth:`ProxyConnection.inject` / :meth:`ProxyConnection.reset_now`. Everything is bounded:
connection count, connection lifetime, stall duration, and :meth:`FaultProxy.close`.
``FaultProxy.fired`` counts the faults that actually happened, by kind.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import random
import socket
import struct
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["FaultKind", "FaultProxy", "FaultSpec", "ProxyConnection", "RandomFaults"]

_HEADER_END = b"\r\n\r\n"
_READ_SIZE = 65536


class FaultKind(enum.StrEnum):
    """The kinds of damage the proxy can do."""

    RESET = "reset"
    STALL = "stall"
    HALF_CLOSE = "half_close"
    DRIP = "drip"
    ACCEPT_RESET = "accept_reset"
    REFUSE = "refuse"


@dataclass(frozen=True)
class FaultSpec:
    """One fault for one connection (see the module docs for the kinds)."""

    kind: FaultKind
    body_offset: int | None = None
    """Body bytes forwarded before the fault fires; None: a random point in the first body chunk."""
    duration: float = 2.0
    """STALL: how long to hold the response back."""
    resume: bool = True
    """STALL: resume forwarding afterwards (True) or reset the connection (False)."""
    chunk: int = 7
    """DRIP: bytes per write."""
    delay: float = 0.01
    """DRIP: seconds between writes."""
    limit: int = 65536
    """DRIP: bytes dripped before the connection runs at full speed again."""


def _rst(writer: asyncio.StreamWriter) -> None:
    """Abort ``writer``'s connection with a TCP RST (SO_LINGER 0), dropping unsent data."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
    writer.close()  # marks the StreamWriter closed (no "unclosed" warning); the abort already happened


class ProxyConnection:
    """One proxied client connection."""

    def __init__(self, proxy: FaultProxy, index: int, spec: FaultSpec | None) -> None:
        self.proxy = proxy
        self.index = index
        self.spec = spec
        self.fired: FaultKind | None = None
        self.bytes_up = 0
        self.bytes_down = 0
        self.last_request = 0.0
        self._body_start: int | None = None
        self._tail = b""
        self._client_gone = asyncio.Event()
        self._trigger_at: int | None = None
        self._dripping: FaultSpec | None = None
        self._drip_left = 0
        self._writer: asyncio.StreamWriter | None = None
        self._now = asyncio.Event()

    def __repr__(self) -> str:
        return f"<ProxyConnection #{self.index} spec={self.spec} fired={self.fired}>"

    @property
    def armed(self) -> bool:
        """True while a fault waits for its trigger point."""
        return self.spec is not None and self.fired is None

    def inject(self, spec: FaultSpec) -> None:
        """Arm ``spec`` on this live connection (replacing an armed one; a finished drip or stall
        does not prevent a next fault on the same keep-alive connection).

        ``body_offset`` then counts from the end of the next response header seen (the next
        response on a keep-alive connection, or the end of a chunked body in flight).
        """
        self.spec = spec
        self.fired = None
        self._trigger_at = None
        # measure from the next header end: the next response on a keep-alive connection
        self._body_start = None
        self._tail = b""

    def reset_now(self) -> None:
        """Reset the client side right away (counts as RESET)."""
        if self._writer is not None and not self._writer.transport.is_closing():
            self._fire(FaultKind.RESET)
            _rst(self._writer)

    def _fire(self, kind: FaultKind) -> None:
        self.fired = kind
        self.proxy.fired[kind] += 1

    # -- the two pumps ---------------------------------------------------------------------
    async def run(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        self._writer = cwriter
        proxy = self.proxy
        try:
            ureader, uwriter = await asyncio.wait_for(
                asyncio.open_connection(proxy.upstream_host, proxy.upstream_port), 5.0
            )
        except (OSError, TimeoutError):
            proxy.upstream_failures += 1
            _rst(cwriter)
            return
        up = asyncio.create_task(self._pump_up(creader, uwriter), name=f"faultproxy-up-{self.index}")
        down = asyncio.create_task(self._pump_down(ureader, cwriter), name=f"faultproxy-down-{self.index}")
        try:
            await asyncio.wait({down}, timeout=proxy.max_lifetime)
        finally:
            # Close both sides synchronously first, so a second cancellation cannot leak them.
            for task in (up, down):
                task.cancel()
            uwriter.transport.abort()
            uwriter.close()
            if not cwriter.transport.is_closing():
                cwriter.close()
            await asyncio.gather(up, down, return_exceptions=True)

    async def _pump_up(self, creader: asyncio.StreamReader, uwriter: asyncio.StreamWriter) -> None:
        try:
            while data := await creader.read(_READ_SIZE):
                self.bytes_up += len(data)
                self.last_request = asyncio.get_running_loop().time()
                uwriter.write(data)
                await uwriter.drain()
            with contextlib.suppress(OSError):
                uwriter.write_eof()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._client_gone.set()

    def _locate_trigger(self, data: bytes) -> None:
        """Find the body start in the response stream and work out the trigger offset."""
        if self._body_start is None:
            window = self._tail + data
            pos = window.find(_HEADER_END)
            if pos < 0:
                self._tail = window[-3:]
                return
            self._body_start = self.bytes_down - len(self._tail) + pos + len(_HEADER_END)
        spec = self.spec
        if spec is None or self.fired is not None or self._trigger_at is not None:
            return
        if spec.body_offset is not None:
            self._trigger_at = self._body_start + spec.body_offset
            return
        in_chunk = self.bytes_down + len(data) - self._body_start
        if in_chunk > 0:  # body bytes in this chunk: pick a point strictly inside them
            offset = self.proxy.rng.randrange(1, in_chunk) if in_chunk > 1 else 0
            self._trigger_at = self._body_start + offset

    async def _pump_down(self, ureader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        try:
            while data := await ureader.read(_READ_SIZE):
                if self.fired is None and self.spec is not None:
                    self._locate_trigger(data)
                    trigger = self._trigger_at
                    if trigger is not None and trigger < self.bytes_down + len(data):
                        cut = max(0, trigger - self.bytes_down)
                        await self._send(cwriter, data[:cut])
                        if not await self._apply(cwriter):
                            return
                        data = data[cut:]
                await self._send(cwriter, data)
            with contextlib.suppress(OSError):
                cwriter.write_eof()
            await self._client_gone.wait()  # the client decides when the connection ends
        except (OSError, asyncio.IncompleteReadError):
            pass

    async def _send(self, cwriter: asyncio.StreamWriter, data: bytes) -> None:
        if not data:
            return
        drip = self._dripping
        if drip is None:
            cwriter.write(data)
            self.bytes_down += len(data)
            await cwriter.drain()
            return
        for i in range(0, len(data), drip.chunk):
            part = data[i : i + drip.chunk]
            cwriter.write(part)
            self.bytes_down += len(part)
            await cwriter.drain()
            self._drip_left -= len(part)
            if self._drip_left <= 0:  # done: the rest at full speed
                self._dripping = None
                rest = data[i + drip.chunk :]
                if rest:
                    cwriter.write(rest)
                    self.bytes_down += len(rest)
                    await cwriter.drain()
                return
            await asyncio.sleep(drip.delay)

    async def _flush(self, cwriter: asyncio.StreamWriter) -> None:
        """Let what was written reach the client before the connection is damaged."""
        for _ in range(50):
            if cwriter.transport.get_write_buffer_size() == 0:
                break
            await asyncio.sleep(0.002)
        await asyncio.sleep(0.02)

    async def _apply(self, cwriter: asyncio.StreamWriter) -> bool:
        """Carry out the armed fault; False when the connection is finished."""
        spec = self.spec
        assert spec is not None
        if spec.kind is FaultKind.RESET:
            await self._flush(cwriter)
            self._fire(FaultKind.RESET)
            _rst(cwriter)
            return False
        if spec.kind is FaultKind.HALF_CLOSE:
            await self._flush(cwriter)
            self._fire(FaultKind.HALF_CLOSE)
            with contextlib.suppress(OSError):
                cwriter.write_eof()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._client_gone.wait(), self.proxy.max_lifetime)
            return False
        if spec.kind is FaultKind.STALL:
            self._fire(FaultKind.STALL)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._client_gone.wait(), spec.duration)
            if self._client_gone.is_set():
                return False
            if not spec.resume:
                _rst(cwriter)
                return False
            return True
        if spec.kind is FaultKind.DRIP:
            self._fire(FaultKind.DRIP)
            self._dripping = spec
            self._drip_left = spec.limit
            return True
        raise ValueError(f"{spec.kind} is not a per-connection response fault")


@dataclass
class RandomFaults:
    """A seeded policy: each new connection gets a fault with probability ``rate``."""

    seed: int = 0
    rate: float = 0.5
    kinds: tuple[FaultKind, ...] = (
        FaultKind.RESET,
        FaultKind.STALL,
        FaultKind.HALF_CLOSE,
        FaultKind.DRIP,
        FaultKind.ACCEPT_RESET,
    )
    stall_range: tuple[float, float] = (0.2, 3.0)
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def __call__(self, index: int) -> FaultSpec | None:
        if self.rng.random() >= self.rate:
            return None
        return self.draw()

    def draw(self, kind: FaultKind | None = None) -> FaultSpec:
        """One fault (always), drawn like the policy does; ``kind`` fixes its kind."""
        kind = kind or self.rng.choice(self.kinds)
        if kind is FaultKind.STALL:
            return FaultSpec(
                kind,
                duration=self.rng.uniform(*self.stall_range),
                resume=self.rng.random() < 0.5,
            )
        if kind is FaultKind.DRIP:
            return FaultSpec(
                kind,
                chunk=self.rng.randint(1, 64),
                delay=self.rng.uniform(0.001, 0.02),
                limit=self.rng.randint(256, 8192),
            )
        return FaultSpec(kind)


class FaultProxy:
    """Listens on 127.0.0.1 (random port) and forwards to ``upstream_host:upstream_port``."""

    def __init__(
        self,
        upstream_port: int,
        *,
        upstream_host: str = "127.0.0.1",
        policy: Callable[[int], FaultSpec | None] | None = None,
        max_connections: int = 64,
        max_lifetime: float = 120.0,
        seed: int = 0,
    ) -> None:
        if upstream_host != "127.0.0.1":
            raise ValueError("the fault proxy only talks to 127.0.0.1")
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.policy = policy
        self.max_connections = max_connections
        self.max_lifetime = max_lifetime
        self.rng = random.Random(seed)
        self.port = 0
        self.fired: Counter[FaultKind] = Counter()
        self.accepted = 0
        self.upstream_failures = 0
        self.over_limit = 0
        self.connections: set[ProxyConnection] = set()
        self.history: deque[ProxyConnection] = deque(maxlen=1000)
        self._queue: deque[FaultSpec | None] = deque()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._refusing = False
        self._closed = False

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FaultProxy:
        """Start listening (a random free port the first time, the same port afterwards)."""
        self._server = await asyncio.start_server(
            self._on_connect, "127.0.0.1", self.port, reuse_address=True, backlog=128
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aenter__(self) -> FaultProxy:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def queue(self, *specs: FaultSpec | None) -> None:
        """Faults for the next new connections, in order (None: a clean connection)."""
        self._queue.extend(specs)

    def clear_queue(self) -> None:
        """Forget the queued faults that no connection has taken yet."""
        self._queue.clear()

    async def refuse_for(self, seconds: float) -> None:
        """Stop listening for ``seconds`` (connects are refused), then listen again on the same port."""
        if self._refusing or self._server is None:
            return
        self._refusing = True
        self.fired[FaultKind.REFUSE] += 1
        try:
            self._server.close()  # closes the listening socket at once; live connections stay
            await asyncio.sleep(seconds)
            if not self._closed:
                await self.start()
        finally:
            self._refusing = False

    def inject_random(self, policy: RandomFaults, kind: FaultKind | None = None) -> ProxyConnection | None:
        """Arm a fault from ``policy`` (of ``kind`` if given) on the live connection that carried the
        latest request and has no fault yet (idle pooled connections may never be used again)."""
        live = [c for c in self.connections if not c.armed and c.last_request]
        if not live:
            return None
        conn = max(live, key=lambda c: c.last_request)
        spec = policy.draw(kind)
        if spec.kind is FaultKind.ACCEPT_RESET:
            conn.reset_now()
        else:
            conn.inject(spec)
        return conn

    def reset_all(self) -> int:
        """Reset every live connection now; returns how many."""
        live = list(self.connections)
        for conn in live:
            conn.reset_now()
        return len(live)

    def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._closed or len(self.connections) >= self.max_connections:
            self.over_limit += 1
            _rst(writer)
            return
        index = self.accepted
        self.accepted += 1
        spec = self._queue.popleft() if self._queue else (self.policy(index) if self.policy else None)
        conn = ProxyConnection(self, index, spec)
        self.history.append(conn)
        if spec is not None and spec.kind is FaultKind.ACCEPT_RESET:
            conn._fire(FaultKind.ACCEPT_RESET)
            _rst(writer)
            return
        if spec is not None and spec.kind is FaultKind.REFUSE:
            raise ValueError("REFUSE is a listener fault: use refuse_for()")
        self.connections.add(conn)
        task = asyncio.create_task(conn.run(reader, writer), name=f"faultproxy-conn-{index}")
        self._tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            self.connections.discard(conn)

        task.add_done_callback(done)

    async def close(self) -> None:
        """Stop listening and end every connection (bounded)."""
        self._closed = True
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            if conn._writer is not None:
                conn._writer.transport.abort()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5.0)
