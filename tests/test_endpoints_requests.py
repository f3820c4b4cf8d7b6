"""Request shaping of every generated coroutine, against a tiny aiohttp.web server.

The server records exactly what went over the wire (method, raw path, query, body) and answers
with recorded Syncthing responses from ``tests/fixtures``. This is spec-driven: every generated
endpoint is called with sample arguments built from its parameters, so a new row is covered the
moment it is added. Version gating is tested with aioresponses (through the 3.14 shim in
``tests/_aioresponses_shim.py``); 2.x-only shapes are served from ``tests/fixtures/2.x``.
"""

from __future__ import annotations

import copy
import json
import warnings
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from syncthing_async import (
    BadRequestError,
    InvalidDeviceIDError,
    NotFoundError,
    SyncthingClient,
    SyncthingDecodeError,
    UnsupportedError,
)
from syncthing_async._codegen.spec import ENDPOINTS, Endpoint, Param
from syncthing_async._deviceid import DeviceID
from syncthing_async._pagination import PageIterator
from syncthing_async._preserve import raw_of
from syncthing_async.models import config as config_models
from syncthing_async.models import db as db_models
from syncthing_async.models import debug as debug_models
from syncthing_async.models import svc as svc_models
from syncthing_async.models import system as system_models
from tests._aioresponses_shim import aioresponses

FIXTURES = Path(__file__).resolve().parent / "fixtures"
M47 = "M47G4QY-UXIKMM5-SVL72PN-XOVLWTB-2IO6QUE-5W2JP6D-XASA7C7-SRFSGQH"
M47_SLOPPY = "m47g4qy uxikmm5svl72pnx0vlwtb2i06que5w2jp6dxasa7c7srfsgqh"  # lower case, spaces, 0/1 typos
WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
GENERATED = [ep for ep in ENDPOINTS if not ep.handwritten]


def fixture(rel: str) -> bytes:
    return (FIXTURES / rel).read_bytes()


# Which recorded answer each JSON endpoint gets (1.29.5 unless the route is 2.x-only).
RESPONSES: dict[str, str] = {
    "system.status": "1.29.5/system_status.json",
    "system.version": "1.29.5/system_version.json",
    "system.ping": "1.29.5/system_ping.json",
    "system.ping_post": "1.29.5/system_ping__post.json",
    "system.connections": "1.29.5/system_connections__peer.json",
    "system.discovery": "1.29.5/system_discovery.json",
    "system.errors": "1.29.5/system_error.json",
    "system.log": "1.29.5/system_log.json",
    "system.log_levels": "2.x/system_loglevels.json",
    "system.debug_facilities": "1.29.5/system_debug.json",
    "system.paths": "1.29.5/system_paths.json",
    "system.browse": "1.29.5/system_browse.json",
    "system.upgrade_info": "2.x/system_upgrade.json",
    "system.upgrade": "1.29.5/system_shutdown.json",
    "system.restart": "1.29.5/system_shutdown.json",
    "system.shutdown": "1.29.5/system_shutdown.json",
    "system.reset": "1.29.5/system_shutdown.json",
    "system.config": "1.29.5/config.json",
    "system.config_in_sync": "1.29.5/system_config_insync.json",
    "config.get": "1.29.5/config__peer.json",
    "config.restart_required": "1.29.5/config_restart_required.json",
    "config.in_sync": "1.29.5/config_insync.json",
    "config.folders.list": "1.29.5/config_folders.json",
    "config.folders.get": "1.29.5/config_folder.json",
    "config.devices.list": "1.29.5/config_devices.json",
    "config.devices.get": "1.29.5/config_device.json",
    "config.defaults.folder": "1.29.5/config_defaults_folder.json",
    "config.defaults.device": "1.29.5/config_defaults_device.json",
    "config.defaults.ignores": "1.29.5/config_defaults_ignores.json",
    "config.options.get": "1.29.5/config_options.json",
    "config.gui.get": "1.29.5/config_gui.json",
    "config.ldap.get": "1.29.5/config_ldap.json",
    "cluster.pending_devices": "1.29.5/cluster_pending_devices.json",
    "cluster.pending_folders": "1.29.5/cluster_pending_folders.json",
    "db.status": "1.29.5/db_status.json",
    "db.completion": "1.29.5/db_completion__device.json",
    "db.file": "1.29.5/db_file.json",
    "db.ignores": "1.29.5/db_ignores.json",
    "db.set_ignores": "1.29.5/db_ignores__post.json",
    "db.need": "1.29.5/db_need.json",
    "db.remote_need": "1.29.5/db_remoteneed.json",
    "db.local_changed": "1.29.5/db_localchanged.json",
    "db.browse": "1.29.5/db_browse.json",
    "db.prioritize": "1.29.5/db_prio.json",
    "folder.errors": "1.29.5/folder_errors.json",
    "folder.pull_errors": "1.29.5/folder_pullerrors.json",
    "folder.versions": "1.29.5/folder_versions.json",
    "folder.restore_versions": "1.29.5/folder_versions__post.json",
    "stats.devices": "1.29.5/stats_device.json",
    "stats.folders": "1.29.5/stats_folder.json",
    "svc.device_id": "1.29.5/svc_deviceid.json",
    "svc.lang": "1.19.2/svc_lang.json",
    "svc.random_string": "1.29.5/svc_random_string.json",
    "svc.report": "1.29.5/svc_report.json",
    "noauth.health": "1.29.5/noauth_health.json",
    "debug.file": "1.29.5/debug_file.json",
    "debug.peer_completion": "1.29.5/debug_peer_completion.json",
    "debug.http_metrics": "1.29.5/debug_httpmetrics.json",
}
NON_JSON: dict[str, tuple[bytes, str]] = {
    "system.log_text": (b"2024-01-02T03:04:05Z: hello\n", "text/plain; charset=utf-8"),
    "svc.qr": (b"\x89PNG\r\n\x1a\nfake", "image/png"),
    "svc.meta": (b'var metadata = {"deviceID": "' + M47.encode() + b'"};\n', "application/javascript"),
    "svc.metrics": (b"# HELP x\nx 1\n", "text/plain; version=0.0.4"),
    "debug.cpu_profile": (b"\x1f\x8bpprof", "application/octet-stream"),
    "debug.heap_profile": (b"\x1f\x8bpprof", "application/octet-stream"),
    "debug.support_bundle": (b"PK\x03\x04zip", "application/zip"),
}


# --- the recording server ---------------------------------------------------------------------


@dataclass
class Captured:
    method: str
    raw_path: str
    path: str
    query: list[tuple[str, str]]
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeSyncthing:
    """Answers from a table; records every request."""

    version: str = "v1.29.5"
    routes: dict[tuple[str, str], tuple[int, bytes, str] | Callable[[web.Request], web.Response]] = field(
        default_factory=dict
    )
    requests: list[Captured] = field(default_factory=list)

    def set(
        self, method: str, path: str, body: bytes = b"", status: int = 200, ctype: str = "application/json"
    ) -> None:
        self.routes[(method, path)] = (status, body, ctype)

    def api_requests(self) -> list[Captured]:
        return [r for r in self.requests if r.path != "/rest/system/version"]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(
            Captured(
                request.method,
                request.raw_path.split("?", 1)[0],
                request.path,
                list(request.query.items()),
                body,
                dict(request.headers),
            )
        )
        headers = {"X-Syncthing-Version": self.version}
        route = self.routes.get((request.method, request.path))
        if callable(route):
            resp = route(request)
            resp.headers.update(headers)
            return resp
        if route is None:
            if request.path == "/rest/system/version":
                payload = json.dumps({"version": self.version}).encode()
                return web.Response(body=payload, content_type="application/json", headers=headers)
            return web.Response(status=200, headers=headers)
        status, payload, ctype = route
        return web.Response(status=status, body=payload, headers={**headers, "Content-Type": ctype})


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeSyncthing, SyncthingClient]]:
    state = FakeSyncthing()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", state.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with SyncthingClient(str(server.make_url("")), "test-key") as client:
            yield state, client
    finally:
        await server.close()


# --- sample arguments from the spec -----------------------------------------------------------


def sample(p: Param) -> tuple[Any, list[str] | str | None]:
    """(value passed to the coroutine, what Syncthing should receive)."""
    if p.encoding == "device":
        return M47_SLOPPY, M47
    if p.encoding == "csv":
        return ["model", "api"], "model,api"
    if p.encoding == "list":
        return ["sub dir", "x/y"], ["sub dir", "x/y"]
    if p.encoding == "time":
        return WHEN, "2024-01-02T03:04:05+00:00"
    if p.encoding == "duration":
        return 1.5, "1.5s"
    if p.encoding == "flag":
        return True, "true"
    if p.type.startswith("int"):
        return 7, "7"
    if p.type.startswith("bool"):
        return True, "true"
    if p.location == "path":
        return "my folder ü", "my folder ü"
    return f"{p.name} välue&x=1", f"{p.name} välue&x=1"


BODIES: dict[str, tuple[Any, Any]] = {
    # body kind -> (argument, JSON Syncthing should receive)
    "config": (
        {"id": "f1", "label": "L", "futureKey": {"a": [1]}},
        {"id": "f1", "label": "L", "futureKey": {"a": [1]}},
    ),
    "patch": ({"label": "new"}, {"label": "new"}),
}


def body_sample(ep: Endpoint) -> tuple[Any, Any]:
    assert ep.body is not None
    kind = ep.body.kind
    if kind == "text":
        return "something broke", "something broke"
    if kind == "json":
        if "datetime" in ep.body.type:
            return {"a.txt": WHEN, "b.txt": "2020-01-01T00:00:00Z"}, {
                "a.txt": "2024-01-02T03:04:05+00:00",
                "b.txt": "2020-01-01T00:00:00Z",
            }
        return {"model": "DEBUG"}, {"model": "DEBUG"}
    if kind == "config_item":
        key = ep.body.key
        return {"label": "L"}, {"label": "L", key: M47 if key == "deviceID" else "my folder ü"}
    if kind == "config_list":
        return [{"id": "a"}, {"id": "b", "x": 1}], [{"id": "a"}, {"id": "b", "x": 1}]
    return BODIES[kind]


def expected_type(ep: Endpoint) -> type | tuple[type, ...] | None:
    ret = ep.returns
    if ret == "None":
        return type(None)
    if ret in ("bytes", "str"):
        return bytes if ret == "bytes" else str
    if ret.startswith(("list[", "Languages", "DbBrowse")):
        return list
    if ret.startswith("dict[") or ret in (
        "DiscoveryCache",
        "PendingDevices",
        "PendingFolders",
        "FolderVersions",
        "RestoreVersionsResult",
        "DeviceStats",
        "FolderStats",
        "UsageReport",
        "PeerCompletion",
        "HttpMetrics",
    ):
        return dict
    name = ret.split(" | ")[0]
    for module in (system_models, config_models, db_models, debug_models, svc_models):
        cls = getattr(module, name, None)
        if isinstance(cls, type):
            return cls
    raise AssertionError(f"no model class for {ret}")


@pytest.mark.parametrize("ep", GENERATED, ids=lambda ep: ep.qualname)
async def test_request_shape(ep: Endpoint, fake: tuple[FakeSyncthing, SyncthingClient]) -> None:
    state, client = fake
    if ep.since and ep.since >= "2.0.0":
        state.version = "v2.1.3"
    concrete = ep.path
    kwargs: dict[str, Any] = {}
    want_query: list[tuple[str, str]] = []
    want_body: dict[str, Any] = {}
    for p in ep.params:
        value, wire = sample(p)
        kwargs[p.name] = value
        if p.location == "path":
            assert isinstance(wire, str)
            concrete = concrete.replace("{" + p.wire + "}", wire)
        elif p.location == "query":
            want_query += [(p.wire, w) for w in wire] if isinstance(wire, list) else [(p.wire, str(wire))]
        else:
            want_body[p.wire] = value if p.encoding != "list" else list(value)
            if p.type == "bool":
                want_body[p.wire] = True
    body_json: Any = None
    if ep.body is not None:
        kwargs[ep.body.name], body_json = body_sample(ep)
    qual = ep.qualname
    if qual in RESPONSES:
        state.set(ep.method, concrete, fixture(RESPONSES[qual]))
    elif qual in NON_JSON:
        payload, ctype = NON_JSON[qual]
        state.set(ep.method, concrete, payload, ctype=ctype)
    else:
        assert ep.returns == "None", f"{qual}: add a response fixture"

    func = getattr(client, ep.namespace.split(".")[0])
    for part in ep.namespace.split(".")[1:]:
        func = getattr(func, part)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        result = await getattr(func, ep.name)(**kwargs)

    sent = state.requests if ep.path == "/rest/system/version" else state.api_requests()
    assert len(sent) == 1, [(r.method, r.path) for r in sent]
    req = sent[0]
    assert req.method == ep.method
    assert req.path == concrete
    if "{" in ep.path:
        segment = concrete.rsplit("/", 1)[0] + "/" + quote(concrete.rsplit("/", 1)[1], safe="")
        # the whole placeholder value is one quoted segment ("/" included)
        value = next(v for p in ep.params if p.location == "path" for v in [sample(p)[1]])
        assert isinstance(value, str)
        assert req.raw_path.endswith(quote(value, safe="")), (req.raw_path, segment)
    assert sorted(req.query) == sorted(want_query)
    assert req.headers.get("X-API-Key") == "test-key"
    if want_body:
        assert req.json() == want_body
    elif ep.body is not None and ep.body.kind == "text":
        assert req.body == b"something broke"
        assert req.headers["Content-Type"].startswith("text/plain")
    elif ep.body is not None:
        assert req.json() == body_json
        assert req.headers["Content-Type"] == "application/json"
    else:
        assert req.body == b""
    want = expected_type(ep)
    assert want is not None
    assert isinstance(result, want), (qual, type(result))


# --- local validation before any request ------------------------------------------------------

DEVICE_ENDPOINTS = [ep for ep in GENERATED if any(p.encoding == "device" for p in ep.params)]


@pytest.mark.parametrize("ep", DEVICE_ENDPOINTS, ids=lambda ep: ep.qualname)
@pytest.mark.parametrize("bad", ["not-a-device-id", M47[:-1] + "A", ""])
async def test_malformed_device_id_fails_before_any_request(ep: Endpoint, bad: str) -> None:
    # Port 9 (discard) is closed on loopback: a request would raise SyncthingConnectionError.
    async with SyncthingClient("http://127.0.0.1:9", "k") as client:
        kwargs: dict[str, Any] = {}
        for p in ep.params:
            kwargs[p.name] = bad if p.encoding == "device" else sample(p)[0]
        if ep.body is not None:
            kwargs[ep.body.name] = body_sample(ep)[0]
        ns: Any = client
        for part in ep.namespace.split("."):
            ns = getattr(ns, part)
        with pytest.raises(InvalidDeviceIDError, match="invalid device ID"):
            await getattr(ns, ep.name)(**kwargs)
        if ep.pager:
            fixed = {k: v for k, v in kwargs.items() if k not in ("page", "per_page")}
            with pytest.raises(InvalidDeviceIDError):
                getattr(ns, ep.pager.name)(**fixed)


async def test_device_id_objects_are_accepted(fake: tuple[FakeSyncthing, SyncthingClient]) -> None:
    state, client = fake
    await client.system.pause(device=DeviceID.parse(M47_SLOPPY))
    assert state.api_requests()[0].query == [("device", M47)]


async def test_put_with_mismatching_id_fails_before_any_request(
    fake: tuple[FakeSyncthing, SyncthingClient],
) -> None:
    state, client = fake
    with pytest.raises(ValueError, match="does not match"):
        await client.config.folders.put(folder_id="a", folder={"id": "b"})
    with pytest.raises(ValueError, match="does not match"):
        await client.config.devices.put(
            device_id=M47,
            device={"deviceID": "P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2"},
        )
    # the same device in another spelling is fine
    await client.config.devices.put(device_id=M47, device={"deviceID": M47_SLOPPY})
    assert state.api_requests()[0].json() == {"deviceID": M47}
    assert len(state.api_requests()) == 1


# --- responses ----------------------------------------------------------------------------------


async def test_upgrade_answer_empty_or_ok(fake: tuple[FakeSyncthing, SyncthingClient]) -> None:
    state, client = fake
    state.set("POST", "/rest/system/upgrade", b"", ctype="text/plain")
    assert await client.system.upgrade() is None
    state.set("POST", "/rest/system/upgrade", b'{"ok": "restarting"}\n', ctype="text/plain; charset=utf-8")
    result = await client.system.upgrade()
    assert result is not None and result.ok == "restarting"
    state.set("POST", "/rest/system/upgrade", b"{not json", ctype="text/plain")
    with pytest.raises(SyncthingDecodeError, match="POST /rest/system/upgrade"):
        await client.system.upgrade()


async def test_null_lists_become_empty(fake: tuple[FakeSyncthing, SyncthingClient]) -> None:
    state, client = fake
    state.set("GET", "/rest/system/browse", b"null\n")
    assert await client.system.browse() == []
    state.set("GET", "/rest/db/browse", b"null\n")
    assert await client.db.browse(folder="f") == []
    state.set("GET", "/rest/svc/lang", b"null")
    assert await client.svc.lang() == []


async def test_meta_js_is_parsed(fake: tuple[FakeSyncthing, SyncthingClient]) -> None:
    state, client = fake
    state.set(
        "GET", "/meta.js", b'var metadata = {"deviceID":"X","deviceIDShort":"X","authenticated":true};\n'
    )
    assert await client.svc.meta() == {"deviceID": "X", "deviceIDShort": "X", "authenticated": True}
    state.set("GET", "/meta.js", b"var metadata = nothing;")
    with pytest.raises(SyncthingDecodeError, match=r"meta\.js"):
        await client.svc.meta()


async def test_errors_carry_syncthings_message(fake: tuple[FakeSyncthing, SyncthingClient]) -> None:
    state, client = fake
    state.version = "v2.1.3"
    state.set("GET", "/rest/db/status", b"no such folder\n", status=404, ctype="text/plain; charset=utf-8")
    with pytest.raises(NotFoundError) as info:
        await client.db.status(folder="nope")
    assert info.value.body == "no such folder"
    msg = b"invalid character 'x' looking for beginning of value\n"
    state.set("POST", "/rest/system/loglevels", msg, status=400, ctype="text/plain")
    with pytest.raises(BadRequestError, match="invalid character"):
        await client.system.set_log_levels(levels={"model": "LOUD"})


async def test_deprecated_coroutines_warn(fake: tuple[FakeSyncthing, SyncthingClient]) -> None:
    state, client = fake
    state.set("GET", "/rest/config/insync", b'{"configInSync": true}')
    with pytest.deprecated_call(match="config.in_sync"):
        result = await client.config.in_sync()
    assert result.config_in_sync is True


async def test_timeouts_are_raised_for_slow_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, float | None] = {}

    async def record(self: Any, method: str, path: str, **kw: Any) -> Any:
        seen[path] = kw.get("timeout")
        return b"" if kw.get("expect") == "bytes" else None

    async with SyncthingClient("http://127.0.0.1:9", "k", timeout=5) as client:
        monkeypatch.setattr(type(client._core), "request", record)
        await client.debug.cpu_profile(duration=2)
        await client.debug.support_bundle()
    assert seen["/rest/debug/cpuprof"] == 7
    assert seen["/rest/debug/support"] == 120
    with pytest.raises(ValueError, match="positive"):
        await client.debug.cpu_profile(duration=0)


# --- pagination ---------------------------------------------------------------------------------


def _paged(
    items: list[dict[str, Any]], key: str, extra: dict[str, Any] | None = None
) -> Callable[[web.Request], web.Response]:
    def handler(request: web.Request) -> web.Response:
        page = int(request.query["page"])
        per = int(request.query["perpage"])
        chunk = items[(page - 1) * per : page * per]
        body = {**(extra or {}), key: chunk or None, "page": page, "perpage": per}
        return web.json_response(body)

    return handler


def _file(name: str) -> dict[str, Any]:
    return {"name": name, "type": "FILE_INFO_TYPE_FILE", "size": 1, "modified": "2024-01-01T00:00:00Z"}


@pytest.mark.parametrize(("count", "per_page", "pages"), [(5, 2, 3), (4, 2, 3), (0, 2, 1), (3, 10, 1)])
async def test_iter_remote_need_stops_on_a_short_page(
    fake: tuple[FakeSyncthing, SyncthingClient], count: int, per_page: int, pages: int
) -> None:
    state, client = fake
    names = [f"f{i}" for i in range(count)]
    state.routes[("GET", "/rest/db/remoteneed")] = _paged([_file(n) for n in names], "files")
    it = client.db.iter_remote_need(folder="f", device=M47_SLOPPY, per_page=per_page)
    assert isinstance(it, PageIterator) and it.per_page == per_page
    assert not state.requests  # lazy: nothing fetched yet
    got = [f.name async for f in it]
    assert got == names
    sent = state.api_requests()
    assert len(sent) == pages
    assert [dict(r.query)["page"] for r in sent] == [str(i) for i in range(1, pages + 1)]
    assert all(
        dict(r.query) | {"page": "x"} == {"folder": "f", "device": M47, "perpage": str(per_page), "page": "x"}
        for r in sent
    )


async def test_iter_need_walks_progress_queued_rest_in_order(
    fake: tuple[FakeSyncthing, SyncthingClient],
) -> None:
    state, client = fake
    pages = {
        1: {"progress": [_file("p")], "queued": [_file("q")], "rest": None},
        2: {"progress": None, "queued": None, "rest": [_file("r1"), _file("r2")]},
        3: {"progress": [], "queued": [], "rest": [_file("r3")]},
    }

    def handler(request: web.Request) -> web.Response:
        page = int(request.query["page"])
        return web.json_response({**pages[page], "page": page, "perpage": int(request.query["perpage"])})

    state.routes[("GET", "/rest/db/need")] = handler
    it = client.db.iter_need(folder="f", per_page=2)
    assert [f.name async for f in it] == ["p", "q", "r1", "r2", "r3"]
    collected = [len(p.rest) async for p in it.pages()]
    assert collected == [0, 2, 1]
    assert [f.name for f in await it.collect()] == ["p", "q", "r1", "r2", "r3"]


async def test_iter_errors_and_local_changed(fake: tuple[FakeSyncthing, SyncthingClient]) -> None:
    state, client = fake
    errors = [{"path": f"e{i}", "error": "boom"} for i in range(3)]
    state.routes[("GET", "/rest/folder/errors")] = _paged(errors, "errors", {"folder": "f"})
    state.routes[("GET", "/rest/db/localchanged")] = _paged([_file("a")], "files")
    assert [e.path async for e in client.folder.iter_errors(folder="f", per_page=1)] == ["e0", "e1", "e2"]
    assert [f.name async for f in client.db.iter_local_changed(folder="f")] == ["a"]
    with pytest.raises(ValueError, match="per_page"):
        client.folder.iter_errors(folder="f", per_page=0)


async def test_iteration_stops_at_the_first_error(fake: tuple[FakeSyncthing, SyncthingClient]) -> None:
    state, client = fake
    state.set("GET", "/rest/db/need", b"no such folder\n", status=404, ctype="text/plain")
    with pytest.raises(NotFoundError, match="no such folder"):
        [f async for f in client.db.iter_need(folder="nope")]


# --- config writes: unknown keys kept, PATCH sends only what changed -----------------------------


def _with_future_keys(raw: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    raw["futureSetting"] = {"mode": "fast", "list": [1, 2, {"x": None}]}
    raw["versioning"]["futureVersioningKey"] = 3
    raw["devices"][0]["futureDeviceKey"] = "keep me"
    raw["type"] = "sendreceive-v3"  # an enum value this library does not know
    return raw


@pytest.mark.parametrize("version", ["1.19.2", "1.29.5", "2.x"])
async def test_folder_round_trip_keeps_unknown_keys(
    fake: tuple[FakeSyncthing, SyncthingClient], version: str
) -> None:
    state, client = fake
    raw = _with_future_keys(json.loads(fixture(f"{version}/config_folder.json")))
    folder_id = raw["id"]
    state.set("GET", f"/rest/config/folders/{folder_id}", json.dumps(raw).encode())
    folder = await client.config.folders.get(folder_id=folder_id)
    assert folder.type == config_models.FolderType.UNKNOWN
    assert raw_of(folder) == raw
    folder.label = "renamed"
    await client.config.folders.put(folder_id=folder_id, folder=folder)
    sent = state.api_requests()[-1]
    assert sent.method == "PUT"
    assert sent.json() == {**raw, "label": "renamed"}  # every unknown key and value back as it came
    # PATCH of the same change sends that field only
    await client.config.folders.patch(folder_id=folder_id, changes=folder)
    assert state.api_requests()[-1].json() == {"label": "renamed"}


async def test_whole_config_round_trip_is_lossless(fake: tuple[FakeSyncthing, SyncthingClient]) -> None:
    state, client = fake
    raw = json.loads(fixture("2.x/config.json"))
    raw["futureTopLevel"] = {"a": 1}
    raw["options"]["futureOption"] = [True]
    raw["gui"]["futureGui"] = "x"
    state.set("GET", "/rest/config", json.dumps(raw).encode())
    cfg = await client.config.get()
    await client.config.put(config=cfg)
    assert state.api_requests()[-1].json() == raw
    cfg.options.max_send_kbps = 1234
    await client.config.options.patch(changes=cfg.options)
    assert state.api_requests()[-1].json() == {"maxSendKbps": 1234}


async def test_patch_helpers_send_only_changes(fake: tuple[FakeSyncthing, SyncthingClient]) -> None:
    state, client = fake
    raw = json.loads(fixture("1.29.5/config_folder.json"))
    raw["versioning"] = {
        "type": "simple",
        "params": {"keep": "5"},
        "cleanupIntervalS": 3600,
        "fsPath": "",
        "fsType": "basic",
    }
    state.set("GET", "/rest/config/folders/x", json.dumps(raw).encode())
    folder = await client.config.folders.get(folder_id="x")
    folder.versioning.params["cleanoutDays"] = "2"
    folder.rescan_interval_s = 60
    await client.config.folders.patch(folder_id="x", changes=folder)
    assert state.api_requests()[-1].json() == {
        "rescanIntervalS": 60,
        "versioning": {"params": {"cleanoutDays": "2"}},
    }
    unchanged = await client.config.folders.get(folder_id="x")
    await client.config.folders.patch(folder_id="x", changes=unchanged)
    assert state.api_requests()[-1].json() == {}
    # removing a map key cannot be a PATCH (Syncthing merges maps)
    folder.versioning.params.pop("keep")
    with pytest.raises(ValueError, match="PUT the whole object"):
        await client.config.folders.patch(folder_id="x", changes=folder)
    # a model that was never fetched: what changed is unknown
    with pytest.raises(ValueError, match="not fetched"):
        await client.config.folders.patch(folder_id="x", changes=config_models.FolderConfig(id="x"))
    n = len(state.api_requests())
    with pytest.raises(TypeError):
        await client.config.options.patch(changes=42)  # type: ignore[arg-type]
    assert len(state.api_requests()) == n


# --- version gating (aioresponses through the shim) ----------------------------------------------

BASE = "http://127.0.0.1:8384"


def _version_payload(v: str) -> dict[str, Any]:
    return json.loads(fixture("1.29.5/system_version.json")) | {"version": v}


async def test_aioresponses_shim_needed_and_working() -> None:
    import aiohttp
    from aioresponses import core as aioresponses_core

    from tests._aioresponses_shim import NEEDS_SHIM

    # aiohttp 3.14 added the required ``stream_writer`` to ClientResponse.__init__, which
    # aioresponses 0.7.9 does not pass (aioresponses #289): the shim is needed from 3.14 on only.
    major, minor = (int(part) for part in aiohttp.__version__.split(".")[:2])
    assert ((major, minor) >= (3, 14)) == NEEDS_SHIM, aiohttp.__version__
    installed = aioresponses_core.ClientResponse is not aiohttp.ClientResponse
    assert installed == NEEDS_SHIM  # put in place only where needed
    with aioresponses() as m:
        m.get(
            f"{BASE}/rest/system/ping", payload={"ping": "pong"}, headers={"X-Syncthing-Version": "v1.29.5"}
        )
        async with SyncthingClient(BASE, "k") as client:
            assert (await client.system.ping()).ping == "pong"
            assert str(client.syncthing_version) == "v1.29.5"


@pytest.mark.parametrize(
    ("version", "call", "since", "until"),
    [
        ("v2.1.3", "debug_facilities", None, "2.0.0"),
        ("v2.0.0-rc.3", "log_levels", "2.0.0", None),
        ("v1.29.5", "log_levels", "2.0.0", None),
        ("v1.19.2-ds1", "paths", "1.21.0", None),
        ("v2.0.0", "set_debug", None, "2.0.0"),
    ],
)
async def test_gated_endpoints_raise_unsupported(
    version: str, call: str, since: str | None, until: str | None
) -> None:
    with aioresponses() as m:
        m.get(f"{BASE}/rest/system/version", payload=_version_payload(version))
        async with SyncthingClient(BASE, "k") as client:
            with pytest.raises(UnsupportedError) as info:
                await getattr(client.system, call)()
        # only the version probe went out, never the gated route
        assert [str(url) for _method, url in m.requests] == [f"{BASE}/rest/system/version"]
    err = info.value
    assert err.since == since and err.until == until
    assert err.version == version
    assert (since or until) in str(err)


@pytest.mark.parametrize(
    ("version", "ns", "call", "path"),
    [
        ("v1.23.0", "svc", "metrics", "/metrics"),
        ("v2.1.3", "debug", "peer_completion", "/rest/debug/peerCompletion"),
        ("v2.1.3", "debug", "http_metrics", "/rest/debug/httpmetrics"),
    ],
)
async def test_other_gated_routes(version: str, ns: str, call: str, path: str) -> None:
    with aioresponses() as m:
        m.get(f"{BASE}/rest/system/version", payload=_version_payload(version))
        async with SyncthingClient(BASE, "k") as client:
            with pytest.raises(UnsupportedError, match=path.replace(".", r"\.")):
                await getattr(getattr(client, ns), call)()
        assert len(m.requests) == 1


NOT_FOUND = {"status": 404, "body": "404 page not found\n", "content_type": "text/plain; charset=utf-8"}


@pytest.mark.parametrize(
    ("version", "method", "call", "path", "since"),
    [
        ("v1.19.2-ds1", "GET", "health", "/rest/noauth/health", "1.22.1"),
        ("v1.25.0", "POST", "logout", "/rest/noauth/auth/logout", "1.26.0"),
        ("v1.22.0", "POST", "login", "/rest/noauth/auth/password", "1.26.0"),
    ],
)
async def test_noauth_routes_need_no_version_probe(
    version: str, method: str, call: str, path: str, since: str
) -> None:
    """No key is needed for /rest/noauth: an unknown version is not probed; a 404 is explained."""
    kwargs = {"username": "u", "password": "p"} if call == "login" else {}
    with aioresponses() as m:
        m.add(f"{BASE}{path}", method, headers={"X-Syncthing-Version": version}, **NOT_FOUND)
        async with SyncthingClient(BASE, None) as client:
            with pytest.raises(UnsupportedError) as info:
                await getattr(client.noauth, call)(**kwargs)
            assert info.value.since == since
            assert [(meth, str(url)) for meth, url in m.requests] == [(method, f"{BASE}{path}")]
            # now the version is known: the next call does not even send the request
            with pytest.raises(UnsupportedError):
                await getattr(client.noauth, call)(**kwargs)
        assert len(m.requests[(method, URL(f"{BASE}{path}"))]) == 1


async def test_noauth_route_missing_for_another_reason_stays_not_found() -> None:
    # v1.29.5 registers the login routes only while GUI auth is on
    with aioresponses() as m:
        m.post(f"{BASE}/rest/noauth/auth/password", headers={"X-Syncthing-Version": "v1.29.5"}, **NOT_FOUND)
        m.get(
            f"{BASE}/rest/noauth/health", payload={"status": "OK"}, headers={"X-Syncthing-Version": "v1.29.5"}
        )
        async with SyncthingClient(BASE, None) as client:
            with pytest.raises(NotFoundError, match="404 page not found"):
                await client.noauth.login(username="u", password="p")
            assert (await client.noauth.health()).status == "OK"
        sent = m.requests[("POST", URL(f"{BASE}/rest/noauth/auth/password"))][0]
        assert json.loads(sent.kwargs["data"]) == {"username": "u", "password": "p", "stayLoggedIn": False}


async def test_gate_uses_the_version_already_known() -> None:
    levels = fixture("2.x/system_loglevels.json")
    with aioresponses() as m:
        hdr = {"X-Syncthing-Version": "v2.1.3"}
        m.get(f"{BASE}/rest/system/ping", payload={"ping": "pong"}, headers=hdr)
        m.get(f"{BASE}/rest/system/loglevels", body=levels, headers=hdr)
        m.post(f"{BASE}/rest/system/loglevels", body=b"", headers=hdr)
        async with SyncthingClient(BASE, "k") as client:
            await client.system.ping()
            result = await client.system.log_levels()
            await client.system.set_log_levels(levels={"model": system_models.LogLevel.DEBUG})
        assert ("GET", BASE + "/rest/system/version") not in {(meth, str(url)) for meth, url in m.requests}
    assert result.levels["model"] is system_models.LogLevel.DEBUG
    assert result.packages["api"] == "REST API"


async def test_debug_endpoints_on_v1_go_through() -> None:
    with aioresponses() as m:
        m.get(f"{BASE}/rest/system/version", payload=_version_payload("v1.29.5"))
        m.get(f"{BASE}/rest/system/debug", body=fixture("1.29.5/system_debug.json"))
        m.post(f"{BASE}/rest/system/debug?enable=model,api", body=b"")
        async with SyncthingClient(BASE, "k") as client:
            facilities = await client.system.debug_facilities()
            await client.system.set_debug(enable=["model", "api"])
    assert "model" in facilities.facilities


# --- 2.x-only shapes through the generated coroutines --------------------------------------------


async def test_2x_shapes(fake: tuple[FakeSyncthing, SyncthingClient]) -> None:
    state, client = fake
    state.version = "v2.1.3"
    for path, name in [
        ("/rest/system/status", "system_status"),
        ("/rest/system/version", "system_version"),
        ("/rest/system/connections", "system_connections"),
        ("/rest/system/error", "system_error"),
        ("/rest/system/log", "system_log"),
        ("/rest/system/paths", "system_paths"),
        ("/rest/system/upgrade", "system_upgrade"),
        ("/rest/db/status", "db_status__starting"),
        ("/rest/db/completion", "db_completion"),
        ("/rest/db/file", "db_file"),
        ("/rest/db/need", "db_need"),
        ("/rest/debug/file", "debug_file"),
        ("/rest/folder/errors", "folder_errors"),
        ("/rest/noauth/health", "noauth_health"),
        ("/rest/config/gui", "config_gui"),
        ("/rest/config/options", "config_options"),
        ("/rest/config/defaults/folder", "config_defaults_folder"),
    ]:
        state.set("GET", path, fixture(f"2.x/{name}.json"))
    log = await client.system.log()
    assert {m.level for m in log.messages} >= {"INFO", "WARN"}  # strings in 2.x, ints in 1.x
    errors = await client.system.errors()
    assert all(isinstance(e.level, str) for e in errors.errors)
    conns = await client.system.connections()
    assert any(c.primary is not None for c in conns.connections.values())
    assert (await client.db.status(folder="f")).state == db_models.FolderState.STARTING
    assert (await client.db.completion(folder="f")).remote_state == db_models.RemoteState.VALID
    dbfile = await client.db.file(folder="f", file="a")
    assert dbfile.mtime is None  # gone in 2.x
    debug_file = await client.debug.file(folder="f", file="a")
    assert debug_file.global_versions == "" and debug_file.mtime is None
    assert (await client.system.paths()).legacy_database
    assert (await client.noauth.health()).status == "OK"
    assert isinstance((await client.system.upgrade_info()).newer, bool)
    gui = await client.config.gui.get()
    assert gui.session_cookie_path == "/"
    options = await client.config.options.get()
    assert isinstance(options.audit_enabled, bool)
    template = await client.config.defaults.folder()
    assert isinstance(template.fs_watcher_delay_s, float)
    need = await client.db.need(folder="f")
    assert isinstance(need, db_models.Need)
    assert (await client.folder.errors(folder="f")).folder
    assert (await client.system.status()).my_id
    assert (await client.system.version()).version.startswith("v2")


async def test_naive_datetimes_are_sent_with_an_offset(fake: tuple[FakeSyncthing, SyncthingClient]) -> None:
    state, client = fake
    state.set("GET", "/rest/system/log", b'{"messages": []}')
    naive = datetime(2024, 1, 2, 3, 4, 5)
    await client.system.log(since=naive)
    sent = dict(state.api_requests()[-1].query)["since"]
    parsed = datetime.fromisoformat(sent)
    assert parsed.tzinfo is not None and parsed == naive.astimezone()
    await client.system.log(since=datetime(2024, 1, 2, tzinfo=timezone(timedelta(hours=2))))
    assert dict(state.api_requests()[-1].query)["since"] == "2024-01-02T00:00:00+02:00"


def test_decoders_reject_garbage() -> None:
    dec = msgspec.json.Decoder(system_models.SystemStatus)
    with pytest.raises(msgspec.ValidationError):
        dec.decode(b"{}")
