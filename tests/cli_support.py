"""Helpers for the CLI tests: run the installed command, follow a long-running one, check JSON lines
against the schema documented in docs/CLI.md (a small JSON Schema subset, no extra dependency)."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from syncthing_async.testing.daemon import SyncthingDaemon

ROOT = Path(__file__).resolve().parent.parent
CLI = Path(sys.executable).parent / "syncthing-async"
DOCS = ROOT / "docs" / "CLI.md"


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without any Syncthing setting of the machine (and a fixed terminal width)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SYNCTHING_", "ST"))}
    return {**base, "COLUMNS": "100", **(extra or {})}


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``syncthing-async ARGS`` to completion (bounded by ``timeout``)."""
    assert CLI.exists(), f"console script not installed next to {sys.executable}"
    return subprocess.run(
        [str(CLI), *args], capture_output=True, text=True, timeout=timeout, env=clean_env(env)
    )


def conn(d: SyncthingDaemon) -> list[str]:
    return ["--url", d.url, "--api-key", d.api_key]


def one_error_line(res: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed run (asserts there is exactly one, and no traceback)."""
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in res.stderr, res.stderr
    return lines[0]


def ctrl_c_works() -> None:
    """``preexec_fn`` for a child that a test stops with SIGINT: a suite started as a background
    job (``cmd &``) runs with SIGINT ignored, which children inherit, and Python then installs no
    KeyboardInterrupt handler; the child gets the default disposition back."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Follower:
    """A long-running CLI process whose stdout/stderr lines are collected by reader threads."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [str(CLI), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(env),
            preexec_fn=ctrl_c_works,
        )
        self.lines: list[str] = []
        self.errors: list[str] = []
        self._q: queue.Queue[str] = queue.Queue()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._reader = threading.Thread(target=self._pump, args=(self.proc.stdout, self._q), daemon=True)
        self._reader.start()
        err_q: queue.Queue[str] = queue.Queue()
        self._err_q = err_q
        self._err_reader = threading.Thread(target=self._pump, args=(self.proc.stderr, err_q), daemon=True)
        self._err_reader.start()

    @staticmethod
    def _pump(stream: Any, q: queue.Queue[str]) -> None:
        for line in stream:
            q.put(line.rstrip("\n"))

    def _drain_errors(self) -> None:
        while True:
            try:
                self.errors.append(self._err_q.get_nowait())
            except queue.Empty:
                return

    def wait_for(self, predicate: Any, timeout: float, what: str) -> dict[str, Any]:
        """Collect lines until one (parsed as JSON) satisfies ``predicate``; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or (not self._reader.is_alive() and self._q.empty()):
                self._drain_errors()
                raise AssertionError(f"no {what} within {timeout} s; stderr: {self.errors}")
            try:
                line = self._q.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            self.lines.append(line)
            item = json.loads(line)
            if predicate(item):
                return dict(item)

    def interrupt(self, timeout: float = 15) -> int:
        """SIGINT (Ctrl-C), then collect what is left; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        self._reader.join(timeout=5)
        self._err_reader.join(timeout=5)
        while not self._q.empty():
            self.lines.append(self._q.get_nowait())
        self._drain_errors()
        self._close_pipes()
        return rc

    def _close_pipes(self) -> None:
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None and not self._reader.is_alive() and not self._err_reader.is_alive():
                pipe.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        self._err_reader.join(timeout=5)
        self._close_pipes()


# -- the documented schema ------------------------------------------------------------------


def doc_block(text: str, name: str) -> str:
    """The text between ``<!-- BEGIN name -->`` and ``<!-- END name -->``."""
    m = re.search(rf"<!-- BEGIN {name} -->\n(.*?)<!-- END {name} -->", text, re.S)
    assert m, f"no {name} block"
    return m.group(1)


def events_schema() -> dict[str, Any]:
    block = doc_block(DOCS.read_text(), "EVENTS SCHEMA")
    m = re.search(r"```json\n(.*?)```", block, re.S)
    assert m
    schema: dict[str, Any] = json.loads(m.group(1))
    return schema


def _is(value: Any, kind: str) -> bool:
    return {
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "null": value is None,
    }[kind]


def validate(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Errors of ``value`` against ``schema`` (type, const, enum, not, minimum, minLength,
    format date-time, required, properties, additionalProperties false, oneOf)."""
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_is(value, k) for k in kinds):
            return [f"{path}: {value!r} is not of type {kind}"]
    errors: list[str] = []
    if "const" in schema and (value != schema["const"] or type(value) is not type(schema["const"])):
        errors.append(f"{path}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in {schema['enum']}")
    if "not" in schema and not validate(value, schema["not"], path):
        errors.append(f"{path}: {value!r} must not match {schema['not']}")
    if "minimum" in schema and _is(value, "number") and value < schema["minimum"]:
        errors.append(f"{path}: {value!r} < {schema['minimum']}")
    if "minLength" in schema and isinstance(value, str) and len(value) < schema["minLength"]:
        errors.append(f"{path}: {value!r} is too short")
    if schema.get("format") == "date-time" and isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            errors.append(f"{path}: {value!r} is no RFC 3339 date-time")
        else:
            if parsed.tzinfo is None:
                errors.append(f"{path}: {value!r} has no time zone")
    if isinstance(value, dict):
        errors += [f"{path}: missing {key!r}" for key in schema.get("required", []) if key not in value]
        props = schema.get("properties", {})
        for key, item in value.items():
            if key in props:
                errors += validate(item, props[key], f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: unexpected key {key!r}")
    if "oneOf" in schema:
        matching = [s for s in schema["oneOf"] if not validate(value, s, path)]
        if len(matching) != 1:
            errors.append(f"{path}: matches {len(matching)} of the oneOf branches, not exactly 1")
    return errors


def run_bytes(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    """Like :func:`run`, with stdout and stderr as bytes."""
    return subprocess.run([str(CLI), *args], capture_output=True, timeout=timeout, env=clean_env())
