"""The soak scenario shared by tests/test_soak.py (short) and scripts/soak.py (long).

Two real paired daemons (A and B) sync a steady stream of file changes. The client under test
follows A's default event subscription through a :class:`~tests.faultproxy.FaultProxy` that
injects faults, while A is restarted a few times. An independent, fault-free reader (plain
aiohttp long polls, straight to A, same server subscription) records every event id of every
process life. Afterwards each event the reader saw must have been delivered by the client exactly
once, or be covered by an ``EventsSkipped`` range or by a ``StreamReset`` (ids after its
``last_id`` in the life it ends). Everything talks to 127.0.0.1 only and is bounded in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import random
import time
import tracemalloc
from array import array
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from syncthing_async import SyncthingClient
from syncthing_async.events import Backoff, EventCursor
from syncthing_async.models.events import EventsSkipped, StreamReset
from tests.faultproxy import FaultKind, FaultProxy, FaultSpec, RandomFaults
from tests.harness import SyncthingDaemon, close_all, pair, wait_connected

__all__ = ["LifeAccount", "SoakConfig", "SoakReport", "run_soak"]

_LOG = logging.getLogger("soak")
_LIBRARY_FILES = ("*/syncthing_async/*", "*/aiohttp/*", "*/yarl/*", "*/multidict/*")


@dataclass
class SoakConfig:
    """Knobs of one soak run."""

    duration: float = 30.0
    """Seconds of file changes under faults (setup and the final catch-up come on top)."""
    restarts: int = 2
    """Restarts of the consumed daemon, spread evenly over the run (unless ``restart_times``)."""
    restart_times: tuple[float, ...] = ()
    """Explicit restart times (seconds into the run); overrides ``restarts``."""
    seed: int = 1
    version: str = "1.29.5"
    change_interval: float = 0.15
    fault_rate: float = 0.5
    """Probability that a new proxied connection gets a fault."""
    poll_timeout: int = 2
    read_margin: float = 1.5
    reset_every: float = 4.0
    """Seconds between resets of every live proxied connection (mid long poll)."""
    refuse_every: float = 7.0
    inject_every: float = 0.5
    """Seconds between faults armed on a random live (keep-alive) connection."""
    """Seconds between windows in which the proxy refuses connections."""
    outage: float = 0.0
    """Seconds of one long outage (listener closed, live connections reset); 0: none. Long enough
    and Syncthing's 1000-event buffer overflows, so the client must report an EventsSkipped."""
    outage_start: float = 0.0
    """When the outage begins (seconds into the run)."""
    calm_after_outage: float = 4.0
    """Seconds without injected faults after the outage, so the client's first poll reports the gap
    (under drips and stalls a 1000-event backlog can otherwise stay out of reach until a restart)."""
    catch_up_timeout: float = 60.0
    base_dir: Path | None = None
    trace_memory: bool = True
    memory_every: float = 0.0
    """Seconds between library-memory samples during the run (0: start and end only)."""


@dataclass
class LifeAccount:
    """The bookkeeping of one process life of the consumed daemon."""

    index: int
    start_time: datetime
    reader_ids: array[int] = field(default_factory=lambda: array("q"))
    reader_gids: array[int] = field(default_factory=lambda: array("q"))
    reader_types: list[str] = field(default_factory=list)
    reader_gaps: int = 0
    delivered: array[int] = field(default_factory=lambda: array("q"))
    delivered_gids: array[int] = field(default_factory=lambda: array("q"))
    skipped: list[tuple[int, int]] = field(default_factory=list)
    reset_after: int | None = None
    """``StreamReset.last_id`` when the client left this life (ids after it are reported lost)."""
    # results
    emitted: int = 0
    delivered_once: int = 0
    reported_skipped: int = 0
    lost: list[int] = field(default_factory=list)
    duplicated: list[int] = field(default_factory=list)
    phantom: list[int] = field(default_factory=list)
    mismatched: list[int] = field(default_factory=list)
    both: list[int] = field(default_factory=list)
    beyond_window: int = 0

    def settle(self) -> None:
        """Compare what the reader saw with what the client delivered or reported."""
        reader = {
            i: (g, t) for i, g, t in zip(self.reader_ids, self.reader_gids, self.reader_types, strict=True)
        }
        self.emitted = len(reader)
        counts = Counter(self.delivered)
        gids = dict(zip(self.delivered, self.delivered_gids, strict=True))
        top = max(reader, default=0)
        covered: set[int] = set()
        for first, last in self.skipped:
            covered.update(range(first, last + 1))
        if self.reset_after is not None:
            covered.update(i for i in reader if i > self.reset_after)
        self.duplicated = sorted(i for i, n in counts.items() if n > 1)
        for i in counts:
            if i not in reader:
                # after the reader's last id: the reader's poll died with the process (or the
                # run ended) before it saw these; the client got them, nothing to compare with
                if i > top:
                    self.beyond_window += 1
                else:
                    self.phantom.append(i)
            elif gids[i] != reader[i][0]:
                self.mismatched.append(i)
        for i in reader:
            if i in counts:
                self.delivered_once += 1
                if i in covered:
                    self.both.append(i)
            elif i in covered:
                self.reported_skipped += 1
            else:
                self.lost.append(i)


@dataclass
class SoakReport:
    """Figures of one soak run."""

    config: SoakConfig
    lives: list[LifeAccount]
    faults: Counter[FaultKind]
    proxied_connections: int
    restarts: int
    file_changes: int
    markers: Counter[str]
    client_errors: list[str]
    memory: dict[str, int]
    memory_samples: list[tuple[float, int]]
    leaked_tasks: list[str]
    socket_fds_before: int
    socket_fds_after: int
    elapsed: float

    @property
    def emitted(self) -> int:
        return sum(life.emitted for life in self.lives)

    @property
    def delivered_once(self) -> int:
        return sum(life.delivered_once for life in self.lives)

    @property
    def reported_skipped(self) -> int:
        return sum(life.reported_skipped for life in self.lives)

    @property
    def lost(self) -> int:
        return sum(len(life.lost) for life in self.lives)

    @property
    def duplicated(self) -> int:
        return sum(len(life.duplicated) for life in self.lives)

    @property
    def problems(self) -> list[str]:
        """Everything that breaks the guarantee, in words (empty when the run is clean)."""
        out = []
        for life in self.lives:
            for name in ("lost", "duplicated", "phantom", "mismatched", "both"):
                ids = getattr(life, name)
                if ids:
                    out.append(f"life {life.index}: {len(ids)} {name} (ids {ids[:10]})")
            if life.reader_gaps:
                out.append(f"life {life.index}: the fault-free reader itself saw {life.reader_gaps} gaps")
        out += [f"client error: {e}" for e in self.client_errors]
        if self.leaked_tasks:
            out.append(f"leaked tasks: {self.leaked_tasks}")
        if self.socket_fds_after > self.socket_fds_before:
            out.append(f"socket fds {self.socket_fds_before} -> {self.socket_fds_after}")
        return out

    def table(self) -> str:
        """The figures as a Markdown table."""
        mem = self.memory
        rows = [
            ("duration (s, total incl. setup/catch-up)", f"{self.config.duration:g} ({self.elapsed:.0f})"),
            ("Syncthing version", self.config.version),
            ("daemon restarts (consumed daemon)", str(self.restarts)),
            ("process lives observed", str(len(self.lives))),
            ("file changes made", str(self.file_changes)),
            ("proxied connections", str(self.proxied_connections)),
            ("long outage (s, listener closed)", f"{self.config.outage:g}"),
            *((f"faults injected: {kind.value}", str(self.faults.get(kind, 0))) for kind in FaultKind),
            ("faults injected: total", str(sum(self.faults.values()))),
            ("events emitted (fault-free reader)", str(self.emitted)),
            ("delivered exactly once", str(self.delivered_once)),
            ("reported inside EventsSkipped/StreamReset", str(self.reported_skipped)),
            ("delivered after the reader's last id of a life", str(sum(x.beyond_window for x in self.lives))),
            ("EventsSkipped markers", str(self.markers.get("EventsSkipped", 0))),
            ("StreamReset markers", str(self.markers.get("StreamReset", 0))),
            ("lost", str(self.lost)),
            ("duplicated", str(self.duplicated)),
            (
                "library memory, start -> end (KiB)",
                f"{mem.get('lib_start', 0) // 1024} -> {mem.get('lib_end', 0) // 1024}",
            ),
            (
                "traced memory, start -> end (KiB)",
                f"{mem.get('all_start', 0) // 1024} -> {mem.get('all_end', 0) // 1024}",
            ),
            ("leaked tasks", str(len(self.leaked_tasks))),
            ("socket fds before -> after", f"{self.socket_fds_before} -> {self.socket_fds_after}"),
        ]
        width = max(len(r[0]) for r in rows)
        lines = [f"| {'figure'.ljust(width)} | value |", f"|{'-' * (width + 2)}|-------|"]
        lines += [f"| {name.ljust(width)} | {value} |" for name, value in rows]
        return "\n".join(lines)


def _socket_fds() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
    return count


_DT = msgspec.json.Decoder(datetime)


def _start_time(daemon: SyncthingDaemon) -> datetime:
    raw = daemon.get_json("/rest/system/status")["startTime"]
    return _DT.decode(msgspec.json.encode(raw))


class _Reader:
    """The fault-free reference: long polls straight to the daemon, one record per life."""

    def __init__(self, daemon: SyncthingDaemon, lives: list[LifeAccount]) -> None:
        self.daemon = daemon
        self.lives = lives
        self.restarting = False
        self.life_ready = asyncio.Event()
        self.stop = False
        self.polls = 0
        self.errors: list[str] = []

    async def run(self) -> None:
        headers = {"X-API-Key": self.daemon.api_key}
        async with aiohttp.ClientSession(headers=headers) as session:
            since = 0
            life = self.lives[-1]
            while not self.stop:
                if self.restarting or life is not self.lives[-1]:
                    await self.life_ready.wait()
                    life, since = self.lives[-1], 0
                    continue
                url = f"http://127.0.0.1:{self.daemon.gui_port}/rest/events"
                try:
                    async with session.get(
                        url,
                        params={"since": str(since), "timeout": "1"},
                        timeout=aiohttp.ClientTimeout(total=10),
                    ) as resp:
                        body = await resp.read()
                        if resp.status != 200:
                            raise aiohttp.ClientError(f"HTTP {resp.status}")
                except (aiohttp.ClientError, OSError, TimeoutError):
                    await asyncio.sleep(0.05)
                    continue
                self.polls += 1
                # No poll is sent while a restart is under way, so an answer always comes from the
                # process that was alive when its poll went out: the life read above.
                batch: list[dict[str, Any]] = msgspec.json.decode(body)
                if since == 0 and batch and batch[0]["type"] != "Starting":
                    self.errors.append(f"life {life.index} does not begin with Starting: {batch[0]}")
                for ev in batch:
                    i = ev["id"]
                    if i <= since:
                        continue
                    if i != since + 1:
                        life.reader_gaps += 1
                    life.reader_ids.append(i)
                    life.reader_gids.append(ev["globalID"])
                    life.reader_types.append(ev["type"])
                    since = i


class _Consumer:
    """Drives the client's event stream and records deliveries and markers per life."""

    def __init__(
        self, client: SyncthingClient, lives: list[LifeAccount], config: SoakConfig, device_id: str
    ) -> None:
        self.client = client
        self.lives = lives
        self.config = config
        self.life = lives[0]
        self.markers: Counter[str] = Counter()
        self.errors: list[str] = []
        self.items = 0
        # From the first event of life 0, every gap reported: a cursor (since=0 would ask only
        # for what is still buffered when the first poll gets through).
        self.stream = client.events.stream(
            since=EventCursor(device_id=device_id, start_time=lives[0].start_time, last_id=0),
            poll_timeout=config.poll_timeout,
            read_margin=config.read_margin,
            backoff=Backoff(initial=0.05, factor=2.0, cap=1.0),
        )

    async def _life_of(self, start: datetime | None) -> LifeAccount:
        # The client may notice a restart before the scenario has registered the new life (it
        # asks the daemon for its start time right after restarting it): wait for it, bounded.
        deadline = time.monotonic() + 30
        while True:
            for life in self.lives:
                if life.start_time == start:
                    return life
            if time.monotonic() > deadline:
                raise AssertionError(f"StreamReset into an unknown process life (start {start})")
            await asyncio.sleep(0.05)

    async def run(self) -> None:
        try:
            async for item in self.stream:
                self.items += 1
                if isinstance(item, EventsSkipped):
                    self.markers["EventsSkipped"] += 1
                    self.life.skipped.append((item.first_id, item.last_id))
                elif isinstance(item, StreamReset):
                    self.markers["StreamReset"] += 1
                    self.life.reset_after = item.last_id
                    self.life = await self._life_of(item.new_start_time)
                else:
                    # copy the ints into arrays: nothing the library allocated is kept alive
                    self.life.delivered.append(item.id)
                    self.life.delivered_gids.append(item.global_id)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # recorded: the stream must not end on transient faults
            self.errors.append(f"{type(err).__name__}: {err}")

    def caught_up(self) -> bool:
        final = self.lives[-1]
        if self.life is not final:
            return False
        top = final.reader_ids[-1] if final.reader_ids else 0
        return self.stream.last_id >= top


async def _changes(pair_paths: list[Path], stop: asyncio.Event, interval: float, rng: random.Random) -> int:
    """Create, modify and delete small files on both sides until ``stop``."""
    made = 0
    names = [f"soak-{i:02d}.txt" for i in range(24)]
    while not stop.is_set():
        root = rng.choice(pair_paths)
        path = root / rng.choice(names)
        try:
            if path.exists() and rng.random() < 0.3:
                path.unlink()
            else:
                path.write_bytes(os.urandom(rng.randint(1, 4096)))
            made += 1
        except OSError:
            pass  # Syncthing may be replacing the file right now
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
    return made


async def run_soak(config: SoakConfig) -> SoakReport:
    """Run the whole scenario and return its figures (does not assert anything)."""
    started = time.monotonic()
    rng = random.Random(config.seed)
    a = SyncthingDaemon(config.version, base_dir=config.base_dir, name="soak-a", reconnect_interval_s=2)
    b = SyncthingDaemon(config.version, base_dir=config.base_dir, name="soak-b", reconnect_interval_s=2)
    daemons = [a, b]
    try:
        shared = pair(a, b, "soak", a.data_dir / "soak", b.data_dir / "soak", wait=False)
        await asyncio.to_thread(a.start)
        await asyncio.to_thread(b.start)
        await asyncio.to_thread(wait_connected, a, b)
        lives = [LifeAccount(0, await asyncio.to_thread(_start_time, a))]

        gc.collect()
        tasks_before = set(asyncio.all_tasks())
        fds_before = _socket_fds()
        if config.trace_memory:
            tracemalloc.start()
        memory: dict[str, int] = {}
        samples: list[tuple[float, int]] = []
        next_sample = config.memory_every or float("inf")

        policy = RandomFaults(seed=config.seed, rate=config.fault_rate, stall_range=(0.2, 5.0))
        proxy = await FaultProxy(
            a.gui_port,
            policy=policy,
            max_lifetime=60.0,
            seed=config.seed,
        ).start()
        # each per-connection kind at least once, early; the policy and live injection do the rest
        guaranteed = (
            FaultSpec(FaultKind.RESET),
            FaultSpec(FaultKind.STALL, duration=1.0),
            FaultSpec(FaultKind.HALF_CLOSE),
            FaultSpec(FaultKind.DRIP, chunk=5, delay=0.005),
            FaultSpec(FaultKind.ACCEPT_RESET),
            FaultSpec(FaultKind.STALL, duration=config.poll_timeout + config.read_margin + 1.0, resume=False),
        )
        proxy.queue(*guaranteed)
        client = SyncthingClient(proxy.url, a.api_key, timeout=config.poll_timeout + config.read_margin)
        reader = _Reader(a, lives)
        consumer = _Consumer(client, lives, config, a.device_id)
        reader_task = asyncio.create_task(reader.run(), name="soak-reader")
        consumer_task = asyncio.create_task(consumer.run(), name="soak-consumer")
        stop_changes = asyncio.Event()
        changes_task = asyncio.create_task(
            _changes([shared.path_a, shared.path_b], stop_changes, config.change_interval, rng),
            name="soak-changes",
        )

        restarts = 0
        restart_at = sorted(config.restart_times) or [
            config.duration * (k + 1) / (config.restarts + 1) for k in range(config.restarts)
        ]
        next_reset = config.reset_every
        next_refuse = config.refuse_every
        next_inject = config.inject_every
        t0 = time.monotonic()
        warm = False
        outage_task: asyncio.Task[None] | None = None
        calm_until = 0.0
        injections = 0
        while (elapsed := time.monotonic() - t0) < config.duration:
            if consumer_task.done() or reader_task.done():
                break
            if not warm and elapsed > min(5.0, config.duration / 5) and config.trace_memory:
                gc.collect()
                memory["all_start"] = tracemalloc.get_traced_memory()[0]
                memory["lib_start"] = _library_bytes()
                warm = True
            if warm and elapsed >= next_sample:
                next_sample += config.memory_every
                gc.collect()
                samples.append((round(elapsed, 1), _library_bytes()))
            if restart_at and elapsed >= restart_at[0]:
                restart_at.pop(0)
                reader.restarting = True
                reader.life_ready.clear()
                await asyncio.to_thread(a.restart)
                proxy.upstream_port = a.gui_port  # the harness may have moved the GUI port
                lives.append(LifeAccount(len(lives), await asyncio.to_thread(_start_time, a)))
                reader.restarting = False
                reader.life_ready.set()
                restarts += 1
                _LOG.info("restart %d done at %.1f s", restarts, elapsed)
            if elapsed >= next_reset:
                next_reset += config.reset_every
                if not (calm_until and elapsed < calm_until):
                    proxy.reset_all()
            if config.outage and outage_task is None and elapsed >= config.outage_start:
                outage_task = asyncio.create_task(proxy.refuse_for(config.outage), name="soak-outage")
                await asyncio.sleep(0)  # the listener is closed now
                proxy.reset_all()
                _LOG.info("outage of %.0f s from %.1f s", config.outage, elapsed)
            if outage_task is not None and outage_task.done() and not calm_until:
                calm_until = elapsed + config.calm_after_outage
                proxy.policy = None
                proxy.clear_queue()
            calm = elapsed < calm_until
            if calm_until and not calm and proxy.policy is None:
                proxy.policy = policy
                proxy.queue(*guaranteed)  # the calm cleared the queue: every kind once more
            if elapsed >= next_inject:
                next_inject += config.inject_every
                if not calm:  # every kind in turn, so short runs see each of them
                    proxy.inject_random(policy, policy.kinds[injections % len(policy.kinds)])
                    injections += 1
            if calm:
                pass
            elif elapsed >= next_refuse:
                next_refuse += config.refuse_every
                await proxy.refuse_for(rng.uniform(0.3, 1.5))
            await asyncio.sleep(0.1)

        # quiesce: no more changes or faults; the reader settles, the client catches up
        if outage_task is not None:
            await outage_task
        stop_changes.set()
        file_changes = await changes_task
        proxy.policy = None
        proxy.clear_queue()
        await asyncio.sleep(config.poll_timeout + 2.0)
        reader.stop = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader_task, 15)
        deadline = time.monotonic() + config.catch_up_timeout
        while not consumer.caught_up() and time.monotonic() < deadline and not consumer_task.done():
            await asyncio.sleep(0.1)
        if config.trace_memory:
            gc.collect()
            memory["all_end"] = tracemalloc.get_traced_memory()[0]
            memory["lib_end"] = _library_bytes()
            memory.setdefault("all_start", memory["all_end"])
            memory.setdefault("lib_start", memory["lib_end"])
            tracemalloc.stop()
        if not consumer.caught_up():
            consumer.errors.append(
                f"client did not catch up within {config.catch_up_timeout:g} s "
                f"(last_id {consumer.stream.last_id}, life {consumer.life.index} of {len(lives)})"
            )

        # tear down everything the run created, then look for leftovers
        await consumer.stream.aclose()
        consumer_task.cancel()
        await asyncio.gather(consumer_task, return_exceptions=True)
        if not reader_task.done():
            reader_task.cancel()
            await asyncio.gather(reader_task, return_exceptions=True)
        await client.close()
        await proxy.close()
        await asyncio.sleep(0.3)  # let aiohttp finish closing transports
        gc.collect()
        leaked = [t.get_name() for t in asyncio.all_tasks() - tasks_before if t is not asyncio.current_task()]
        fds_after = _socket_fds()

        for life in lives:
            life.settle()
        return SoakReport(
            config=config,
            lives=lives,
            faults=Counter(proxy.fired),
            proxied_connections=proxy.accepted,
            restarts=restarts,
            file_changes=file_changes,
            markers=consumer.markers,
            client_errors=consumer.errors + [f"reader: {e}" for e in reader.errors],
            memory=memory,
            memory_samples=samples,
            leaked_tasks=leaked,
            socket_fds_before=fds_before,
            socket_fds_after=fds_after,
            elapsed=time.monotonic() - started,
        )
    finally:
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        await asyncio.to_thread(close_all, daemons)


def _library_bytes() -> int:
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(True, pattern) for pattern in _LIBRARY_FILES]
    )
    return sum(stat.size for stat in snapshot.statistics("filename"))
