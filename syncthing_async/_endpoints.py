"""``syncthing_async.ENDPOINTS``: the rows of the endpoint spec, for tools and tests.

Each row is an :class:`Endpoint` with at least ``.method``, ``.path`` (Syncthing's, with
placeholders such as ``{folder_id}``), ``.namespace`` (dotted attribute path on the client, e.g.
``config.folders``) and ``.name`` (the coroutine on that namespace), plus ``.since``, ``.until``,
``.deprecated``, ``.docs``, ``.summary`` and the parameters. ``events`` rows describe the
handwritten event stream; every other row has a generated coroutine.
"""

from __future__ import annotations

from typing import Final

from ._codegen.spec import ENDPOINTS, Body, Endpoint, Pager, Param

__all__ = [
    "ENDPOINTS",
    "Body",
    "Endpoint",
    "Pager",
    "Param",
    "find_endpoint",
    "render_endpoint_table",
]

_BY_KEY: Final = {ep.key: ep for ep in ENDPOINTS}


def find_endpoint(method: str, path: str) -> Endpoint:
    """The row for ``method`` + ``path`` (Syncthing's path with placeholders); ``KeyError`` if none."""
    try:
        return _BY_KEY[(method.upper(), path)]
    except KeyError:
        raise KeyError(f"no endpoint {method.upper()} {path}") from None


def render_endpoint_table() -> str:
    """The Markdown table of every endpoint (method, path, client call, versions, docs link)."""
    rows = [
        "| Method | Path | Client call | Syncthing | Docs |",
        "|---|---|---|---|---|",
    ]
    for ep in ENDPOINTS:
        versions = []
        if ep.since:
            versions.append(f"{ep.since}+")
        if ep.until:
            versions.append(f"< {ep.until}")
        if ep.deprecated:
            versions.append("deprecated")
        docs = f"[docs]({ep.docs})" if ep.docs else "undocumented"
        call = f"`client.{ep.qualname}()`"
        rows.append(f"| {ep.method} | `{ep.path}` | {call} | {', '.join(versions) or 'all'} | {docs} |")
    return "\n".join(rows) + "\n"
