"""The examples: --help, the HA-style integration loaded/unloaded 10 times without leaks, and the
chat bot and fleet monitor run briefly against real daemons."""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import json
import os
import signal
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import anyio
import pytest

from tests.cli_support import ctrl_c_works
from tests.events_support import library_tasks
from tests.harness import DaemonPair, SyncthingDaemon, write_files

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NAMES = ["ha_integration", "chat_bot_notifier", "fleet_monitor"]


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCTHING_")}
    env.update(extra)
    return env


@pytest.mark.parametrize("name", NAMES)
async def test_example_help(name: str) -> None:
    result = await anyio.run_process(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--help"], env=_env(), check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().startswith("usage:")


def _open_sessions(exclude: set[int]) -> list[aiohttp.ClientSession]:
    gc.collect()
    return [
        o
        for o in gc.get_objects()
        if isinstance(o, aiohttp.ClientSession) and not o.closed and id(o) not in exclude
    ]


@pytest.mark.daemon
async def test_ha_integration_load_unload_10_times(daemon: SyncthingDaemon) -> None:
    ha = load_example("ha_integration")
    before_sessions = {id(s) for s in _open_sessions(set())}
    baseline = asyncio.all_tasks()
    state_id = "syncthing_default-test_state"

    async with aiohttp.ClientSession() as host_session:
        for i in range(10):
            host = ha.Host(session=host_session)
            entry = ha.ConfigEntry(entry_id=f"e{i}", url=daemon.url, api_key=daemon.api_key)
            assert await ha.async_setup_entry(host, entry)
            runtime: Any = entry.runtime_data
            assert runtime.owned_session is None
            assert host.entities[state_id].state == "idle"
            assert host.entities["syncthing_default-test_in_sync"].state == "on"
            assert host.entities["syncthing_version"].state.startswith("v")
            assert all(e.available for e in host.entities.values())
            # The mirror's task and its structured children (listener, poll, state follower).
            assert 1 <= len(library_tasks(baseline)) <= 4
            if i == 0:  # entities are pushed by events: a scan shows up without any polling
                await runtime.client.db.scan(folder="default-test")
                with anyio.fail_after(15):
                    while (state_id, "scanning") not in host.state_log or host.entities[
                        state_id
                    ].state != "idle":
                        await anyio.sleep(0.05)
            assert await ha.async_unload_entry(host, entry)
            assert host.entities == {} and entry.runtime_data is None
            await asyncio.sleep(0)
            assert asyncio.all_tasks() == baseline, "a task was left behind"
            assert not host_session.closed, "the host's session must stay open"

        # Without a host session the integration owns one and closes it on unload.
        owned: list[aiohttp.ClientSession] = []
        for i in range(3):
            host = ha.Host(session=None)
            entry = ha.ConfigEntry(entry_id=f"o{i}", url=daemon.url, api_key=daemon.api_key)
            assert await ha.async_setup_entry(host, entry)
            session = entry.runtime_data.owned_session
            assert session is not None and not session.closed
            owned.append(session)
            assert await ha.async_unload_entry(host, entry)
        assert all(s.closed for s in owned)

        # A refused key: the host's error, and nothing left behind.
        host = ha.Host(session=None)
        with pytest.raises(ha.ConfigEntryAuthFailed):
            await ha.async_setup_entry(host, ha.ConfigEntry(entry_id="bad", url=daemon.url, api_key="nope"))
        await asyncio.sleep(0)
        assert asyncio.all_tasks() == baseline
        assert _open_sessions(before_sessions) == [host_session]
    assert _open_sessions(before_sessions) == []


async def _read_until(stream: Any, needle: str, seen: list[str], timeout: float) -> None:
    with anyio.fail_after(timeout):
        while not any(needle in line for line in seen):
            line = await stream.readline()
            if not line:
                raise AssertionError(f"output ended before {needle!r}: {seen}")
            seen.append(line.decode())


@pytest.mark.daemon
@pytest.mark.parametrize("syncthing_version", ["1.29.5"], indirect=True)
async def test_fleet_monitor_and_chat_bot(daemon_pair: DaemonPair, tmp_path: Path) -> None:
    a, b, folder, path_a, path_b = daemon_pair

    # Fleet: two instances in one process, a summary table from the mirrors.
    config = tmp_path / "fleet.json"
    config.write_text(
        json.dumps(
            [
                {"name": "alpha", "url": a.url, "api_key": a.api_key},
                {"name": "beta", "url": b.url, "api_key": b.api_key},
                {"name": "gone", "url": "http://127.0.0.1:9", "api_key": "x"},
            ]
        )
    )
    fleet = await anyio.run_process(
        [
            *(sys.executable, str(EXAMPLES / "fleet_monitor.py"), "--config", str(config)),
            *("--interval", "1", "--duration", "3", "--retry", "0.5"),
        ],
        env=_env(),
        check=False,
    )
    out = fleet.stdout.decode()
    assert fleet.returncode == 0, fleet.stderr.decode()
    table = out.strip().splitlines()[-4:]
    assert table[0].split()[:2] == ["INSTANCE", "DEVICE"]
    rows = {line.split()[0]: line.split() for line in table[1:]}
    assert rows["alpha"][1] == a.device_id[:7] and rows["alpha"][2].startswith("v1.29")
    assert rows["alpha"][4:7] == ["1/1", "1/1", "connected"]  # folder in sync, peer connected
    assert rows["beta"][1] == b.device_id[:7] and rows["beta"][6] == "connected"
    assert rows["gone"][1] == "-" and "unreachable" in table[3]
    assert a.api_key not in out and b.api_key not in out

    # Chat bot on A: a message when A finishes pulling B's new files, and when B goes away.
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / "chat_bot_notifier.py"),
        "--url",
        a.url,
        env=_env(SYNCTHING_API_KEY=a.api_key),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=ctrl_c_works,  # it is stopped with SIGINT below
    )
    seen: list[str] = []
    try:
        assert proc.stdout is not None
        await _read_until(proc.stdout, "ready", seen, 30)
        assert "1 folders, 1 devices" in "".join(seen)
        files = {f"bot/{i}.bin": os.urandom(200_000) for i in range(5)}
        write_files(path_b, files)
        await _read_until(proc.stdout, f"Folder '{folder}' finished syncing", seen, 60)
        for rel, content in files.items():
            assert (path_a / rel).read_bytes() == content
        await anyio.to_thread.run_sync(b.stop)
        await _read_until(proc.stdout, "disconnected", seen, 30)
        assert f"Device '{b.name}' disconnected" in "".join(seen)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
            try:
                with anyio.fail_after(10):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 0
    assert a.api_key not in "".join(seen)


async def test_documented_fake_example_passes() -> None:
    """examples/test_with_fake.py (the FakeSyncthing example test) passes as users would run it."""
    result = await anyio.run_process(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLES / "test_with_fake.py")],
        env=_env(),
        cwd=EXAMPLES.parent,
        check=False,
    )
    out = result.stdout.decode()
    assert result.returncode == 0, out + result.stderr.decode()
    assert "3 passed" in out
