"""ENDPOINTS covers every route Syncthing registers, each with a coroutine on the client.

The routes and their version facts are the repository's own data, ``tests/fixtures/routes.json``,
read off Syncthing's source (``lib/api/api.go`` and ``lib/api/confighandler.go`` at
https://github.com/syncthing/syncthing) and its REST docs (https://docs.syncthing.net/dev/rest.html).
A route that goes missing from the spec (or a renamed coroutine) fails here.
"""

from __future__ import annotations

import inspect
import json
import keyword
import re
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import syncthing_async
from syncthing_async import SyncthingClient
from syncthing_async._codegen.spec import ENDPOINTS, NAMESPACES, Endpoint
from syncthing_async._endpoints import find_endpoint, render_endpoint_table
from syncthing_async._versioning import SyncthingVersion

ROUTES_FILE = Path(__file__).resolve().parent / "fixtures" / "routes.json"


class Route(NamedTuple):
    method: str
    path: str  # normalised: placeholders -> {}
    raw_path: str
    group: str
    in_1_19_2: bool | None  # None: the source table has no 1.19.2 column for this group
    since: str | None
    until: str | None
    deprecated: bool


def _norm(path: str) -> str:
    path = path.split("?", 1)[0]
    path = re.sub(r":[A-Za-z_]+", "{}", path)
    return re.sub(r"\{[A-Za-z_]+\}", "{}", path)


@pytest.fixture(scope="module")
def routes_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ROUTES_FILE.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def routes(routes_data: dict[str, Any]) -> list[Route]:
    return [
        Route(
            r["method"],
            _norm(r["path"]),
            r["path"],
            r["group"],
            r["in_1_19_2"],
            r["since"],
            r["until"],
            r["deprecated"],
        )
        for r in routes_data["routes"]
    ]


def _spec_key(ep: Endpoint) -> tuple[str, str]:
    return (ep.method, _norm(ep.path))


# --- the parser itself ---------------------------------------------------------------------------


def test_route_data_has_the_counts_syncthing_registers(
    routes: list[Route], routes_data: dict[str, Any]
) -> None:
    rest = [r for r in routes if r.path.startswith("/rest/")]
    v1_only = [r for r in rest if r.until == "2.0.0"]
    assert len(rest) - len(v1_only) == routes_data["rest_routes_at_head"] == 96
    # the 1.x-only extras: GET/POST /rest/system/debug, peerCompletion, httpmetrics (gone in v2.0.0)
    assert sorted((r.method, r.path) for r in v1_only) == [
        ("GET", "/rest/debug/httpmetrics"),
        ("GET", "/rest/debug/peerCompletion"),
        ("GET", "/rest/system/debug"),
        ("POST", "/rest/system/debug"),
    ]
    outside = sorted(r.path for r in routes if not r.path.startswith("/rest/"))
    assert outside == ["/meta.js", "/metrics", "/qr/"]
    assert len({(r.method, r.path) for r in routes}) == len(routes)
    for r in routes:
        assert r.method in {"GET", "POST", "PUT", "PATCH", "DELETE"}, r
        assert r.since is None or SyncthingVersion.parse(r.since) > "1.19.2", r
        assert r.in_1_19_2 is not False or r.since is not None, f"{r.raw_path}: not in 1.19.2, no since"


# --- coverage ----------------------------------------------------------------------------------


def test_every_reference_route_is_in_endpoints(routes: list[Route]) -> None:
    covered = {_spec_key(ep) for ep in ENDPOINTS}
    missing = [f"{r.method} {r.raw_path}" for r in routes if (r.method, r.path) not in covered]
    assert not missing, f"routes of tests/fixtures/routes.json without an ENDPOINTS row: {missing}"


def test_endpoints_has_nothing_reference_lacks(routes: list[Route]) -> None:
    known = {(r.method, r.path) for r in routes}
    extra = [f"{ep.method} {ep.path}" for ep in ENDPOINTS if _spec_key(ep) not in known]
    assert not extra, f"ENDPOINTS rows that tests/fixtures/routes.json does not list: {extra}"
    assert len(ENDPOINTS) == len(routes) == 103


def test_public_endpoints_are_the_spec_rows() -> None:
    public = syncthing_async._endpoints.ENDPOINTS
    assert public is ENDPOINTS
    for ep in public:
        assert ep.method in {"GET", "POST", "PUT", "PATCH", "DELETE"}
        assert ep.path.startswith("/")
        assert ep.namespace and ep.name
        assert find_endpoint(ep.method, ep.path) is ep
    with pytest.raises(KeyError, match="no endpoint GET /nope"):
        find_endpoint("get", "/nope")


def test_rows_are_unique_and_well_formed() -> None:
    keys = [ep.key for ep in ENDPOINTS]
    assert len(keys) == len(set(keys))
    generated = [ep for ep in ENDPOINTS if not ep.handwritten]
    names = [(ep.namespace, ep.name) for ep in generated]
    assert len(names) == len(set(names)), "two rows generate the same coroutine"
    for ep in ENDPOINTS:
        placeholders = set(re.findall(r"\{(\w+)\}", ep.path))
        path_params = {p.wire for p in ep.params if p.location == "path"}
        assert placeholders == path_params, ep.path
        for p in ep.params:
            assert p.name.isidentifier() and not keyword.iskeyword(p.name), p
            assert p.name == p.name.lower(), f"{ep.qualname}: {p.name} is not snake_case"
        assert ep.name.isidentifier() and ep.name == ep.name.lower()
        assert ep.docs is None or ep.docs.startswith("https://docs.syncthing.net/")
        if ep.deprecated:
            assert ep.summary
    # the naming examples of the spec's docstring
    qualnames = {ep.qualname for ep in ENDPOINTS}
    for q in (
        "system.status",
        "system.version",
        "system.errors",
        "system.clear_errors",
        "db.ignores",
        "db.set_ignores",
        "db.completion",
        "db.scan",
        "system.pause",
        "config.folders.get",
        "config.folders.list",
        "config.folders.put",
        "config.folders.create",
        "config.folders.patch",
        "config.folders.delete",
        "svc.qr",
    ):
        assert q in qualnames, q


def test_versions_match_the_route_data(routes: list[Route]) -> None:
    """``since``/``until`` of each row agree with the route data (1.19.2 presence, first/last version)."""
    by_key = {_spec_key(ep): ep for ep in ENDPOINTS}
    for r in routes:
        ep = by_key[(r.method, r.path)]
        assert ep.until == r.until, f"{ep.qualname}: until {ep.until} != {r.until}"
        assert ep.since == r.since, f"{ep.qualname}: since {ep.since} != {r.since}"
        if r.in_1_19_2:
            assert ep.since is None, f"{ep.qualname} exists in 1.19.2 but has since={ep.since}"


def test_deprecated_rows_match_the_route_data(routes: list[Route]) -> None:
    by_key = {_spec_key(ep): ep for ep in ENDPOINTS}
    for r in routes:
        ep = by_key[(r.method, r.path)]
        assert bool(ep.deprecated) == r.deprecated, f"{ep.qualname}: deprecated={ep.deprecated!r}, data: {r}"


# --- every row has a coroutine on the client ----------------------------------------------------


def _resolve(client: SyncthingClient, dotted: str) -> Any:
    obj: Any = client
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("ep", ENDPOINTS, ids=lambda ep: f"{ep.method} {ep.path}")
async def test_each_row_has_a_coroutine_on_the_client(ep: Endpoint) -> None:
    async with SyncthingClient("http://127.0.0.1:9", "k") as client:
        namespace = _resolve(client, ep.namespace)
        func = getattr(namespace, ep.name)
        assert inspect.iscoroutinefunction(func), f"client.{ep.qualname} is not a coroutine function"
        sig = inspect.signature(func)
        for p in ep.params:
            assert p.name in sig.parameters, f"client.{ep.qualname} lacks {p.name}"
            assert sig.parameters[p.name].kind is inspect.Parameter.KEYWORD_ONLY
        if ep.handwritten:
            return
        expected = [p.name for p in ep.params] + ([ep.body.name] if ep.body else [])
        assert sorted(sig.parameters) == sorted(expected)
        doc = inspect.getdoc(func) or ""
        assert "\n" not in doc.strip(), "docstrings are one line"
        assert f"``{ep.method} {ep.path}``" in doc
        assert (ep.docs or "undocumented") in doc
        if ep.method in ("PUT", "PATCH", "POST") and ep.namespace.startswith("config"):
            assert ep.rules and ep.rules in doc, f"{ep.qualname}: config write without its merge rule"
        if ep.pager:
            pager = getattr(namespace, ep.pager.name)
            assert callable(pager) and not inspect.iscoroutinefunction(pager)


async def test_namespace_classes_and_nesting() -> None:
    from syncthing_async._generated import namespaces as gen

    async with SyncthingClient("http://127.0.0.1:9", "k") as client:
        for ns, (cls_name, _doc) in NAMESPACES.items():
            cls = getattr(gen, cls_name)
            assert isinstance(_resolve(client, ns), cls), ns
        assert client.config.folders is client.config.folders
        assert {"folders", "devices", "defaults", "options", "gui", "ldap"} <= set(
            type(client.config).__slots__
        )
    assert sorted(gen.__all__) == sorted(c for c, _ in NAMESPACES.values())


def test_endpoint_table_lists_every_row() -> None:
    table = render_endpoint_table()
    lines = table.strip().splitlines()
    assert len(lines) == len(ENDPOINTS) + 2
    for ep in ENDPOINTS:
        assert f"| {ep.method} | `{ep.path}` | `client.{ep.qualname}()` |" in table
