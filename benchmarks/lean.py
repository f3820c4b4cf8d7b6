"""The lean limit: the leanest typed decode a user could write, as plain msgspec Structs.

For every model the benchmark decodes, :func:`lean` builds a Struct with the *same fields* (same
JSON keys, same defaults) and nothing else: enums are ``str``, nested models are lean Structs,
``null``-tolerant lists/maps are ``list[X] | None = None`` (no ``default_factory``), no
``__post_init__``, no ``dict``/``weakref``/``gc`` options, no hooks. Deriving them from the models'
field lists (instead of copying ~400 fields by hand) keeps them in step with the models; they
share nothing else with the library.

This is the limit the benchmark compares against; "raw into our Structs" (raw aiohttp + msgspec
into the library's own Structs) is kept as a second column, so what the models themselves cost
is visible.
"""

from __future__ import annotations

import enum
import types
import typing
from datetime import datetime
from typing import Any

import msgspec

__all__ = ["lean", "lean_event_union"]

_CACHE: dict[type, type] = {}


def _lean_type(t: Any) -> Any:
    """The lean counterpart of a field type."""
    origin = typing.get_origin(t)
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(_lean_type(a) for a in typing.get_args(t))]  # noqa: UP007
    if origin in (list, dict, tuple, set, frozenset):
        args = tuple(_lean_type(a) for a in typing.get_args(t))
        return origin[args] if args else origin
    if isinstance(t, type) and issubclass(t, enum.Enum):
        return str
    if isinstance(t, type) and issubclass(t, msgspec.Struct):
        return lean(t)
    return t


def lean(cls: type[msgspec.Struct]) -> Any:
    """A plain Struct with the fields of ``cls`` (recursively); built once per class."""
    done = _CACHE.get(cls)
    if done is not None:
        return done
    name = f"Lean{cls.__name__}"
    # While the class is being built, a self-reference (BrowseEntry.children) is a forward
    # reference by name, resolved against this module's globals when a decoder is built.
    _CACHE[cls] = name  # type: ignore[assignment]
    required: list[tuple[str, Any]] = []
    optional: list[tuple[str, Any, Any]] = []
    rename: dict[str, str] = {}
    for f in msgspec.structs.fields(cls):
        lt = _lean_type(f.type)
        if f.required:
            required.append((f.name, lt))
        elif f.default_factory is not msgspec.NODEFAULT:
            optional.append((f.name, typing.Optional[lt], None))  # noqa: UP045
        else:
            default = f.default.value if isinstance(f.default, enum.Enum) else f.default
            optional.append((f.name, lt, default))
        rename[f.name] = f.encode_name
    out = msgspec.defstruct(name, [*required, *optional], kw_only=True, rename=rename, module=__name__)
    globals()[name] = out
    _CACHE[cls] = out
    return out


def lean_event_union(type_names: list[str], data_types: dict[str, Any]) -> Any:
    """A tagged union of lean event envelopes (``id``, ``globalID``, ``time``, lean ``data``)."""
    classes = []
    for type_name in type_names:
        cls = msgspec.defstruct(
            f"LeanEvent{type_name}",
            [
                ("id", int),
                ("global_id", int, 0),
                ("time", datetime),
                ("data", _lean_type(data_types[type_name])),
            ],
            kw_only=True,
            tag_field="type",
            tag=type_name,
            rename={"global_id": "globalID"},
            namespace={"type": type_name},
        )
        classes.append(cls)
    return typing.Union[tuple(classes)]  # noqa: UP007
