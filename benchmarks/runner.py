"""Orchestrates one benchmark run: servers, worker processes, aggregation, the results table.

Every figure of a run comes from the same run on the same machine, so ratios are comparable.
Workers are separate processes (a fresh interpreter per implementation and round), so each
measures only its own client CPU and memory; rounds interleave the implementations.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
WORK = BENCH / ".work"
PEERS_VENV = WORK / "peers"
PEER_PACKAGES = ["aiosyncthing==0.7.1", "Deprecated", "syncthing"]
CHARTS_VENV = WORK / "charts"
CHART_PACKAGES = ["matplotlib"]
ST_FALLBACKS = [
    ROOT / ".cache" / "syncthing-1.29.5" / "usr" / "bin" / "syncthing",
    Path("/tmp/st129/usr/bin/syncthing"),
]


@dataclass
class Size:
    """How big a run is."""

    name: str
    files: int
    folders: int
    small_n: int
    big_browse_n: int
    big_config_n: int
    repeats: int
    rounds: int
    events_n: int
    events_warmup: int
    idle_streams: int
    idle_seconds: float
    idle_settle: float
    import_runs: int
    #: Idle streams in one process, one "instance" (URL path prefix) each: ours at every count,
    #: the raw client and aiosyncthing at the largest.
    scale_counts: tuple[int, ...] = (1000, 2500, 5000)
    scale_settle: float = 20.0
    #: Busy fleet: streams, events per second each, window.
    fleet_streams: int = 1000
    fleet_rate: int = 10
    fleet_seconds: float = 30.0
    fleet_settle: float = 10.0


SIZES = {
    "full": Size("full", 20_000, 500, 200, 4, 15, 3, 3, 100_000, 2_000, 500, 60.0, 8.0, 9),
    "tiny": Size("tiny", 200, 5, 3, 1, 1, 1, 1, 2_000, 1_000, 5, 1.0, 1.0, 1, (4, 8), 1.0, 4, 10, 2.0, 1.5),
}


@dataclass
class Run:
    """Everything one run produced."""

    size: Size
    peers: bool
    results: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- processes


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def peer_python() -> Path:
    return PEERS_VENV / "bin" / "python"


def ensure_peers_venv() -> Path:
    """Create ``benchmarks/.work/peers`` with the peers (pip from PyPI) unless it exists."""
    py = peer_python()
    if py.exists():
        check = subprocess.run(
            [str(py), "-c", "import aiosyncthing, syncthing, deprecated"], capture_output=True, check=False
        )
        if check.returncode == 0:
            return py
    log("creating the peers' venv (aiosyncthing 0.7.1 + Deprecated, python-syncthing) ...")
    WORK.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(PEERS_VENV)], check=True)
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PEER_PACKAGES], check=True
    )
    return py


def run_worker(task: str, impl: str, params: dict[str, Any], *, peer: bool = False) -> dict[str, Any]:
    """Run one measurement in a fresh process and return its JSON result."""
    if peer:
        cmd = [str(peer_python()), str(BENCH / "peer_worker.py"), task, impl, json.dumps(params)]
    else:
        cmd = [sys.executable, "-m", "benchmarks.workers", task, impl, json.dumps(params)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {task}/{impl} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def ensure_charts_venv() -> Path | None:
    """``benchmarks/.work/charts`` with matplotlib (pip from PyPI), for the PNG charts only."""
    py = CHARTS_VENV / "bin" / "python"
    if py.exists():
        check = subprocess.run([str(py), "-c", "import matplotlib"], capture_output=True, check=False)
        if check.returncode == 0:
            return py
    log("creating the charts' venv (matplotlib) ...")
    WORK.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(CHARTS_VENV)], check=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *CHART_PACKAGES],
            check=True,
        )
    except subprocess.CalledProcessError as err:
        log(f"no charts: {err}")
        return None
    return py


def draw_charts(results_json: Path, out_dir: Path) -> None:
    """``ratios.png`` and ``scale.png`` into ``out_dir`` with the charts' venv (matplotlib)."""
    py = ensure_charts_venv()
    if py is None:
        return
    proc = subprocess.run(
        [str(py), str(BENCH / "charts.py"), str(results_json), str(out_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        log(f"charts failed: {proc.stderr[-2000:]}")
    else:
        log(f"charts: {out_dir}/ratios.png, {out_dir}/scale.png")


@contextlib.contextmanager
def event_source(mode: str, batch: int = 1000, rate: int = 10) -> Iterator[str]:
    """Start ``benchmarks.event_source`` in its own process; yield its base URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.event_source",
            mode,
            "--batch",
            str(batch),
            "--rate",
            str(rate),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"event source did not start: {line!r}")
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


# ----------------------------------------------------------------------------- Syncthing


def syncthing_binary() -> Path:
    env = os.environ.get("SYNCTHING_BIN_1_29")
    if env:
        return Path(env)
    for cand in ST_FALLBACKS:
        if cand.is_file():
            return cand
    raise RuntimeError(
        "Syncthing 1.29.5 not found: set SYNCTHING_BIN_1_29 or run scripts/install-syncthing.sh"
    )


def write_tree(root: Path, files: int) -> None:
    """``files`` small files in 100 directories (20,000 files: 200 per directory)."""
    per_dir = max(1, files // 100)
    for d in range((files + per_dir - 1) // per_dir):
        sub = root / f"d{d:04d}"
        sub.mkdir(parents=True, exist_ok=True)
        for i in range(min(per_dir, files - d * per_dir)):
            with open(sub / f"f{i:03d}.txt", "wb") as fh:
                fh.write(b"x" * (i % 64 + 1))


@contextlib.contextmanager
def syncthing_daemon(size: Size) -> Iterator[dict[str, Any]]:
    """Syncthing 1.29.5 with folder ``big`` (``size.files`` files, scanned) and ``size.folders`` more."""
    os.environ["SYNCTHING_BIN_1_29"] = str(syncthing_binary())
    sys.path.insert(0, str(ROOT))
    from tests.harness import SyncthingDaemon, wait_until

    base = Path(tempfile.mkdtemp(prefix="stbench-"))
    try:
        with SyncthingDaemon("1.29.5", base_dir=base) as daemon:
            data = base / "big"
            t0 = time.monotonic()
            write_tree(data, size.files)
            log(f"wrote {size.files} files in {time.monotonic() - t0:.1f} s")
            daemon.add_folder("big", data, rescan_interval_s=86400)
            daemon.start()
            t0 = time.monotonic()
            daemon.wait_folder_idle("big", local_files=size.files, timeout=300)
            log(f"Syncthing scanned them in {time.monotonic() - t0:.1f} s")
            folders = daemon.get_json("/rest/config/folders")
            template = daemon.get_json("/rest/config/defaults/folder")
            for i in range(size.folders):
                path = base / "many" / f"f{i:03d}"
                path.mkdir(parents=True)
                folders.append(
                    {
                        **template,
                        "id": f"bench-{i:03d}",
                        "label": f"Bench folder {i}",
                        "path": str(path),
                        "paused": True,
                        "devices": [{"deviceID": daemon.device_id}],
                    }
                )
            resp = daemon.request("PUT", "/rest/config/folders", json_body=folders, timeout=120)
            if resp.status != 200:
                raise RuntimeError(f"PUT /rest/config/folders -> {resp.status}: {resp.text[:300]}")
            config = wait_until(
                lambda: (
                    c if len((c := daemon.get_json("/rest/config"))["folders"]) == size.folders + 1 else None
                ),
                timeout=60,
                message="500 folders in the config",
            )
            daemon.wait_folder_idle("big", local_files=size.files, timeout=120)
            browse = daemon.request("GET", "/rest/db/browse", params={"folder": "big"}, timeout=60)
            version = daemon.get_json("/rest/system/version")["version"]
            yield {
                "url": daemon.url,
                "api_key": daemon.api_key,
                "folder": "big",
                "version": version,
                "config_bytes": len(json.dumps(config)),
                "browse_bytes": len(browse.body) if hasattr(browse, "body") else len(browse.text),
                "folders": len(config["folders"]),
                "files": size.files,
            }
    finally:
        shutil.rmtree(base, ignore_errors=True)


# ----------------------------------------------------------------------------- benchmarks


CALL_IMPLS = ["ours", "raw", "lean", "aiosyncthing", "python-syncthing"]
PEER_IMPLS = {"aiosyncthing", "python-syncthing"}


def bench_calls(run: Run) -> None:
    s = run.size
    impls = [i for i in CALL_IMPLS if run.peers or i not in PEER_IMPLS]
    benches = {
        "system_status": {"n": s.small_n, "repeats": s.repeats, "warmup": 5},
        "db_status": {"n": s.small_n, "repeats": s.repeats, "warmup": 5},
        "db_browse": {"n": s.big_browse_n, "repeats": s.repeats, "warmup": 1},
        "config": {"n": s.big_config_n, "repeats": s.repeats, "warmup": 2},
    }
    samples: dict[str, dict[str, dict[str, list[float]]]] = {}
    types: dict[str, dict[str, str]] = {}
    with syncthing_daemon(s) as st:
        run.meta["syncthing"] = st["version"]
        run.meta["dataset"] = {k: st[k] for k in ("files", "folders", "config_bytes", "browse_bytes")}
        params = {k: st[k] for k in ("url", "api_key", "folder")} | {"benches": benches}
        for rnd in range(s.rounds):
            for impl in impls:
                log(f"calls round {rnd + 1}/{s.rounds}: {impl}")
                res = run_worker("calls", impl, params, peer=impl in PEER_IMPLS)
                for bench, r in res.items():
                    slot = samples.setdefault(bench, {}).setdefault(impl, {"cpu": [], "wall": []})
                    slot["cpu"] += r["cpu"]
                    slot["wall"] += r["wall"]
                    types.setdefault(bench, {})[impl] = r["result_type"]
    run.results["calls"] = {
        bench: {
            impl: {
                "cpu": statistics.median(v["cpu"]),
                "wall": statistics.median(v["wall"]),
                "samples": len(v["cpu"]),
                "result_type": types[bench][impl],
            }
            for impl, v in per.items()
        }
        for bench, per in samples.items()
    }


EVENT_IMPLS = ["ours", "ours_few", "callbacks", "raw", "lean", "aiosyncthing"]


def bench_events(run: Run) -> None:
    s = run.size
    impls = [i for i in EVENT_IMPLS if run.peers or i not in PEER_IMPLS]
    samples: dict[str, list[dict[str, Any]]] = {}
    with event_source("burst") as url:
        params = {"url": url, "n": s.events_n, "warmup": s.events_warmup}
        for rnd in range(s.rounds):
            for impl in impls:
                log(f"events round {rnd + 1}/{s.rounds}: {impl}")
                samples.setdefault(impl, []).append(
                    run_worker("events", impl, params, peer=impl in PEER_IMPLS)
                )
    out = {}
    for impl, rs in samples.items():
        best = sorted(rs, key=lambda r: r["cpu_per_event"])[len(rs) // 2]  # the median run
        out[impl] = best | {"rounds": len(rs)}
    run.results["events"] = out


IDLE_IMPLS = ["ours", "raw", "aiosyncthing"]


def bench_idle(run: Run) -> None:
    s = run.size
    impls = [i for i in IDLE_IMPLS if run.peers or i not in PEER_IMPLS]
    out = {}
    with event_source("hold") as url:
        params = {"url": url, "streams": s.idle_streams, "seconds": s.idle_seconds, "settle": s.idle_settle}
        for impl in impls:
            log(f"idle: {s.idle_streams} streams for {s.idle_seconds:g} s: {impl}")
            out[impl] = run_worker("idle", impl, params, peer=impl in PEER_IMPLS)
    run.results["idle"] = out


def bench_scale(run: Run) -> None:
    """Many idle streams in one process (one instance each), then a busy fleet."""
    s = run.size
    out: dict[str, Any] = {"idle": [], "fleet": {}}
    counts = list(s.scale_counts)
    plan = [("ours", n) for n in counts] + [("raw", counts[-1])]
    if run.peers:
        plan.append(("aiosyncthing", counts[-1]))
    with event_source("hold") as url:
        for impl, n in plan:
            params = {
                "url": url,
                "streams": n,
                "seconds": s.idle_seconds,
                "settle": s.scale_settle,
                "prefix": True,
            }
            log(f"scale: {n} idle streams (one instance each) for {s.idle_seconds:g} s: {impl}")
            r = run_worker("scale", impl, params, peer=impl in PEER_IMPLS)
            out["idle"].append(r | {"impl": impl})
    with event_source("fleet", rate=s.fleet_rate) as url:
        params = {
            "url": url,
            "streams": s.fleet_streams,
            "seconds": s.fleet_seconds,
            "settle": s.fleet_settle,
            "rate": s.fleet_rate,
        }
        for impl in ("ours", "lean"):
            log(f"fleet: {s.fleet_streams} streams x {s.fleet_rate}/s for {s.fleet_seconds:g} s: {impl}")
            out["fleet"][impl] = run_worker("fleet", impl, params)
    run.results["scale"] = out


def _import_time(python: str, module: str, runs: int) -> float:
    """Best-of-``runs`` wall time of ``python -c 'import module'`` minus an empty interpreter."""
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([python, "-c", f"import {module}"], cwd=ROOT, check=True)
        best = min(best, time.perf_counter() - t0)
    return best


def _self_import_us(python: str, module: str, runs: int) -> float:
    """Best-of-``runs`` cumulative ``-X importtime`` of ``module`` (microseconds)."""
    best = float("inf")
    for _ in range(runs):
        proc = subprocess.run(
            [python, "-X", "importtime", "-c", f"import {module}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        for line in proc.stderr.splitlines():
            parts = [p.strip() for p in line.split("|")]
            if len(parts) == 3 and parts[2] == module:
                best = min(best, float(parts[1]))
    return best


def bench_import(run: Run) -> None:
    s = run.size
    py = sys.executable
    runs = s.import_runs
    out: dict[str, Any] = {}
    empty = _import_time(py, "sys", runs)
    for label, module in (
        ("aiohttp", "aiohttp"),
        ("aiohttp+msgspec", "aiohttp, msgspec"),
        ("ours", "syncthing_async"),
    ):
        out[label] = {"wall": _import_time(py, module, runs) - empty}
    out["ours"]["importtime_us"] = _self_import_us(py, "syncthing_async", runs)
    out["aiohttp"]["importtime_us"] = _self_import_us(py, "aiohttp", runs)
    if run.peers:
        ppy = str(peer_python())
        pempty = _import_time(ppy, "sys", runs)
        out["aiosyncthing"] = {"wall": _import_time(ppy, "aiosyncthing", runs) - pempty}
        out["python-syncthing"] = {"wall": _import_time(ppy, "syncthing", runs) - pempty}
        out["aiohttp (peers' venv)"] = {"wall": _import_time(ppy, "aiohttp", runs) - pempty}
    run.results["import"] = out


# ----------------------------------------------------------------------------- meta


def versions(run: Run) -> None:
    def mod_version(python: str, mod: str) -> str:
        code = f"import importlib.metadata as m; print(m.version({mod!r}))"
        proc = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
        return proc.stdout.strip() or "?"

    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    meta = run.meta
    meta["machine"] = f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores"
    meta["python"] = platform.python_version()
    meta["versions"] = {m: mod_version(sys.executable, m) for m in ("aiohttp", "msgspec")}
    from syncthing_async import __version__

    meta["versions"]["syncthing_async"] = __version__
    if run.peers:
        ppy = str(peer_python())
        for m in ("aiosyncthing", "syncthing", "aiohttp", "requests"):
            meta["versions"][f"peers: {m}"] = mod_version(ppy, m)
    meta["size"] = run.size.name
    meta["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def execute(size: str, *, peers: bool, only: set[str] | None = None) -> Run:
    run = Run(SIZES[size], peers)
    if peers:
        ensure_peers_venv()
    versions(run)
    started = time.monotonic()
    steps = {
        "import": bench_import,
        "calls": bench_calls,
        "events": bench_events,
        "idle": bench_idle,
        "scale": bench_scale,
    }
    for name, step in steps.items():
        if only and name not in only:
            continue
        t0 = time.monotonic()
        step(run)
        log(f"{name} done in {time.monotonic() - t0:.0f} s")
    run.meta["duration_s"] = round(time.monotonic() - started)
    return run
