"""ENDPOINTS covers every route of REFERENCE.md §3, each with a coroutine on the client.

The route tables are parsed from ``../shared/syncthing-api/REFERENCE.md`` at test time, so a
route that goes missing from the spec (or a renamed coroutine) fails here.
"""

from __future__ import annotations

import inspect
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

REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "syncthing-api" / "REFERENCE.md"
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_VERSION_PLUS = re.compile(r"v(\d+\.\d+\.\d+)\+")


class Route(NamedTuple):
    method: str
    path: str  # normalised: placeholders -> {}
    raw_path: str
    row: str
    baseline: str | None  # the "1.19.2" column, when the table has one
    section: str
    notes: str  # the Notes / Errors / Docs cells (not the response description)


def _norm(path: str) -> str:
    path = path.split("?", 1)[0]
    path = re.sub(r":[A-Za-z_]+", "{}", path)
    return re.sub(r"\{[A-Za-z_]+\}", "{}", path)


def parse_reference_routes(text: str) -> list[Route]:
    """Every method + path of the route tables in §3 (3.1 ... 3.7)."""
    section = text.split("\n## 3.", 1)[1].split("\n## 4.", 1)[0]
    routes: list[Route] = []
    header: list[str] = []
    sub = ""
    for line in section.splitlines():
        if line.startswith("### "):
            sub = line[4:].strip()
            header = []
            continue
        if not line.startswith("|"):
            header = [] if not line.strip() else header
            continue
        cells = [c.strip() for c in _CELL_SPLIT.split(line.strip().strip("|"))]
        if not header:
            header = cells
            continue
        if set(line.replace("|", "").strip()) <= {"-"}:
            continue
        col = dict(zip(header, cells, strict=False))
        path = col.get("Path", "")
        if not path.startswith("/") or path.startswith("/ "):
            continue  # "any other /rest/debug/…", "/ (static GUI)"
        methods_cell = col.get("Method", "GET")
        methods = ["GET"] if methods_cell == "any" else [m.strip() for m in methods_cell.split("/")]
        for method in methods:
            notes = " ".join(v for k, v in col.items() if k.startswith(("Notes", "Errors", "Docs")))
            routes.append(Route(method, _norm(path), path, line, col.get("1.19.2"), sub, notes))
    return routes


@pytest.fixture(scope="module")
def reference_text() -> str:
    assert REFERENCE.is_file(), f"REFERENCE.md not found at {REFERENCE} (../shared beside the project)"
    return REFERENCE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def routes(reference_text: str) -> list[Route]:
    return parse_reference_routes(reference_text)


def _spec_key(ep: Endpoint) -> tuple[str, str]:
    return (ep.method, _norm(ep.path))


# --- the parser itself ---------------------------------------------------------------------------


def test_parser_finds_the_counts_reference_states(routes: list[Route], reference_text: str) -> None:
    m = re.search(r"HEAD registers (\d+) method\+path pairs under `/rest`", reference_text)
    assert m is not None
    stated_head = int(m.group(1))
    rest = [r for r in routes if r.path.startswith("/rest/")]
    v1_only = [r for r in rest if "v1.x only" in r.row]
    assert len(rest) - len(v1_only) == stated_head == 96
    # the 1.x-only extras the issue names: GET/POST /rest/system/debug, peerCompletion, httpmetrics
    assert sorted((r.method, r.path) for r in v1_only) == [
        ("GET", "/rest/debug/httpmetrics"),
        ("GET", "/rest/debug/peerCompletion"),
        ("GET", "/rest/system/debug"),
        ("POST", "/rest/system/debug"),
    ]
    outside = sorted(r.path for r in routes if not r.path.startswith("/rest/"))
    assert outside == ["/meta.js", "/metrics", "/qr/"]
    assert len({(r.method, r.path) for r in routes}) == len(routes)


# --- coverage ----------------------------------------------------------------------------------


def test_every_reference_route_is_in_endpoints(routes: list[Route]) -> None:
    covered = {_spec_key(ep) for ep in ENDPOINTS}
    missing = [f"{r.method} {r.raw_path}" for r in routes if (r.method, r.path) not in covered]
    assert not missing, f"routes of REFERENCE.md §3 without an ENDPOINTS row: {missing}"


def test_endpoints_has_nothing_reference_lacks(routes: list[Route]) -> None:
    known = {(r.method, r.path) for r in routes}
    extra = [f"{ep.method} {ep.path}" for ep in ENDPOINTS if _spec_key(ep) not in known]
    assert not extra, f"ENDPOINTS rows that REFERENCE.md §3 does not list: {extra}"
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
    # the naming examples (EXAMPLES.md §2)
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


def test_versions_match_reference(routes: list[Route]) -> None:
    """``since``/``until`` agree with the "1.19.2" column and the "vX.Y.Z+" / "v1.x only" notes."""
    by_key = {_spec_key(ep): ep for ep in ENDPOINTS}
    for r in routes:
        ep = by_key[(r.method, r.path)]
        if "v1.x only" in r.row:
            assert ep.until == "2.0.0", ep.qualname
        else:
            assert ep.until is None, ep.qualname
        absent_in_baseline = r.baseline is not None and r.baseline.strip("* ").startswith("no")
        if absent_in_baseline or (r.baseline is None and _VERSION_PLUS.search(r.row)):
            found = _VERSION_PLUS.search(r.row)
            assert found is not None, r.row
            assert ep.since == found.group(1), f"{ep.qualname}: since {ep.since} != {found.group(1)}"
            assert SyncthingVersion.parse(ep.since) > "1.19.2"
        elif r.baseline is not None:
            assert ep.since is None, f"{ep.qualname} exists in 1.19.2 but has since={ep.since}"


def test_deprecated_rows_match_reference(routes: list[Route]) -> None:
    by_key = {_spec_key(ep): ep for ep in ENDPOINTS}
    for r in routes:
        ep = by_key[(r.method, r.path)]
        said = "deprecated" in r.notes.lower()
        assert bool(ep.deprecated) == said, f"{ep.qualname}: deprecated={ep.deprecated!r}, reference: {said}"


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
            assert "REFERENCE §" in doc, f"{ep.qualname}: config write without its merge rule"
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
