"""The README's demo command, in its short non-interactive mode (two real throwaway instances)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.daemon
def test_demo_syncs_two_throwaway_instances_and_stops_them(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCTHING_URL")}
    env["TMPDIR"] = str(tmp_path)  # where the demo makes its syncthing-async-demo-* folder
    res = subprocess.run(
        [sys.executable, "-m", "syncthing_async", "demo", "--files", "3", "--seconds", "120"],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    out = res.stdout
    assert "alice:" in out and "bob:" in out
    assert "ItemFinished" in out
    assert "3 files" in out and "in sync" in out
    assert "stopping the throwaway instances" in out
    assert "Traceback" not in res.stderr
    deadline = time.monotonic() + 15
    while True:  # the daemons were stopped by PID; give the kernel a moment to reap them
        leftovers = subprocess.run(["pgrep", "-f", "syncthing-async-demo-"], capture_output=True, text=True)
        if not leftovers.stdout.strip() or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert leftovers.stdout.strip() == "", "demo left Syncthing processes running"
    assert list(tmp_path.iterdir()) == [], "demo left its temporary folder behind"
