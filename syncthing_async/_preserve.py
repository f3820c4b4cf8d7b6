"""Lossless configuration writes: keep what a newer Syncthing sent, send only what changed.

The configuration models (``FolderConfig``, ``DeviceConfig``, ``Configuration``...) are msgspec
Structs declared with ``dict=True``, so a decoded object can carry the raw JSON it came from:

* :func:`attach_raw` (or :func:`decode_with_raw`) stores the raw JSON on the object and on every
  nested configuration object (folders, devices, versioning, options...).
* :func:`to_wire` turns an object into JSON builtins for ``PUT``/``POST``. Keys of the raw JSON
  that the model does not know are copied back, at every level, so ``GET -> modify -> PUT``
  never drops a field added by a newer Syncthing. A field the caller did not change keeps its
  raw wire form, so an enum value this library maps to ``UNKNOWN``, a nanosecond timestamp or a
  ``null`` list go back exactly as they came.
* :func:`diff` computes the minimal ``PATCH`` body between two objects.

Decoding is cheap (:func:`decode_with_raw`, ``GET /rest/config``): the JSON text is kept unparsed
and each object gets only a reference to its place in it (list items and their nested structs on
first use); the text is parsed, once, by the first :func:`raw_of`/:func:`to_wire`/:func:`diff`.

Syncthing's merge rules (lib/api/confighandler.go in Syncthing's source, checked live):

* **PATCH** decodes the body over the current object: omitted fields stay as they are, nested
  objects are merged field by field, **maps are merged** (keys are added or overwritten, never
  removed) and **arrays are replaced** as a whole.
* **PUT** on a single object decodes over the hard-coded defaults (``options``, ``gui``,
  ``ldap``, ``defaults/*``) or over ``defaults/folder``/``defaults/device``: omitted fields are
  reset, which is why a PUT body should come from :func:`to_wire` of a fetched object.
* Removing a map key therefore needs a PUT of the whole object; :func:`diff` raises
  ``ValueError`` rather than silently producing a PATCH that would keep the key.

``msgspec.structs.replace``, ``copy.copy`` and ``copy.deepcopy`` return objects **without** the
attached raw JSON: use :func:`replace` (which carries it over), or pass the original raw JSON as
``base`` to :func:`to_wire`.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, Final, NamedTuple, TypeVar, get_args, overload

import msgspec

__all__ = ["attach_raw", "decode_with_raw", "diff", "link_raw", "raw_of", "replace", "to_wire"]

T = TypeVar("T")
S = TypeVar("S", bound=msgspec.Struct)

_RAW: Final = "__syncthing_raw__"
_IDENTITY_KEYS: Final = ("id", "deviceID", "folderID")


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Final = _Missing()


class _StructInfo(NamedTuple):
    fields: tuple[tuple[str, str, Any], ...]
    """(attribute name, wire key, field type) per field."""
    wire_names: frozenset[str]
    defaults: dict[str, Any]
    """Attribute name -> default value, for fields that have one."""
    identity: tuple[str, str] | None
    """(attribute name, wire key) that identifies list items of this type, if any."""
    nested: tuple[tuple[str, str], ...]
    """(attribute name, wire key) of the fields whose type can hold a struct."""


_INFO: dict[type, _StructInfo] = {}


def _info(cls: type[msgspec.Struct]) -> _StructInfo:
    info = _INFO.get(cls)
    if info is None:
        fields = msgspec.structs.fields(cls)
        defaults: dict[str, Any] = {}
        for f in fields:
            if f.default is not msgspec.NODEFAULT:
                defaults[f.name] = f.default
            elif f.default_factory is not msgspec.NODEFAULT:
                defaults[f.name] = f.default_factory()
        by_wire = {f.encode_name: f.name for f in fields}
        ident = next((k for k in _IDENTITY_KEYS if k in by_wire), None)
        info = _StructInfo(
            fields=tuple((f.name, f.encode_name, f.type) for f in fields),
            wire_names=frozenset(by_wire),
            defaults=defaults,
            identity=None if ident is None else (by_wire[ident], ident),
            nested=tuple((f.name, f.encode_name) for f in fields if _holds_struct(f.type)),
        )
        _INFO[cls] = info
    return info


def _holds_struct(tp: Any) -> bool:
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return True
    return any(_holds_struct(arg) for arg in get_args(tp))


# --- raw JSON attached to objects ------------------------------------------------------------


class _Root:
    """The JSON text of a decoded payload, parsed on first use (a write), then kept.

    ``pending`` holds (weakly) the list items whose nested structs are not linked yet.
    """

    __slots__ = ("__weakref__", "_text", "_value", "pending")

    def __init__(self, text: bytes | str) -> None:
        self._text: bytes | str | None = text
        self._value: Any = _MISSING
        self.pending: list[weakref.ref[msgspec.Struct]] = []

    def value(self) -> Any:
        if self._text is not None:
            self._value = msgspec.json.decode(self._text)
            self._text = None
        return self._value


_PENDING: Final[weakref.WeakValueDictionary[int, _Root]] = weakref.WeakValueDictionary()
"""Roots with items whose nested structs are not linked yet, oldest first (see :func:`_link_pending`)."""
_ORDER: Final = itertools.count()


class _Ref:
    """Where an object's raw JSON lives in a :class:`_Root`: the parent's place plus one step.

    ``step`` is a wire key (struct field or map key), an ``int`` (list position) or a
    ``(wire key, value)`` pair (list item matched by its identity key). Resolved on first use.
    """

    __slots__ = ("_by_key", "_parent", "_step", "_value", "root", "shallow")

    def __init__(self, root: _Root, parent: _Ref | None, step: Any) -> None:
        self.root = root
        self._parent = parent
        self._step = step
        self._value: Any = _MISSING
        self._by_key: dict[Any, Any] | None = None
        self.shallow = False
        """True while the nested structs of the object holding this ref are not linked yet."""

    def resolve(self) -> Any:
        value = self._value
        if value is _MISSING:
            value = self._value = self._lookup()
        return value

    def _lookup(self) -> Any:
        parent = self._parent
        if parent is None:
            return self.root.value()
        base = parent.resolve()
        step = self._step
        if isinstance(step, str):
            return base.get(step, _MISSING) if isinstance(base, dict) else _MISSING
        if not isinstance(base, list):
            return _MISSING
        if isinstance(step, int):
            return base[step] if step < len(base) else _MISSING
        key, ident = step
        by_key = parent._by_key
        if by_key is None:  # built once per list, as _match_list does
            by_key = parent._by_key = {b[key]: b for b in base if isinstance(b, dict) and key in b}
        return by_key.get(ident, _MISSING)


def raw_of(obj: object) -> dict[str, Any] | None:
    """The raw JSON object attached to ``obj`` (by :func:`attach_raw` or a decode), or None."""
    d = getattr(obj, "__dict__", None)
    if d is None:
        return None
    raw = d.get(_RAW)
    if raw is None and _PENDING and isinstance(obj, msgspec.Struct):
        raw = _link_pending(d)
    if type(raw) is tuple and isinstance(obj, msgspec.Struct):
        raw = _settle_item(obj, d, raw)
    if isinstance(raw, _Ref):
        ref = raw
        raw = ref.resolve()
        if ref.shallow and isinstance(obj, msgspec.Struct):
            _settle(obj, ref)
    return raw if isinstance(raw, dict) else None


def attach_raw(obj: T, raw: bytes | bytearray | memoryview | str | Mapping[str, Any] | Sequence[Any]) -> T:
    """Attach ``raw`` (JSON text or decoded builtins) to ``obj`` and its nested structs; return ``obj``.

    ``obj`` is a configuration struct declared with ``dict=True``, or a list/dict of them (e.g.
    the answer of ``GET /rest/config/folders``). Nested structs get their own slice of ``raw``;
    list items are matched by ``id``/``deviceID``/``folderID``, else by position.
    """
    if isinstance(raw, (bytes, bytearray, memoryview, str)):
        raw = msgspec.json.decode(raw)
    if isinstance(obj, msgspec.Struct) and getattr(obj, "__dict__", None) is None:
        raise TypeError(f"{type(obj).__name__} is not declared with dict=True; it cannot carry raw JSON")
    _attach(obj, raw)
    return obj


def _attach(obj: object, raw: Any) -> None:
    if isinstance(obj, msgspec.Struct):
        if not isinstance(raw, dict):
            return
        d = getattr(obj, "__dict__", None)
        if d is not None:
            d[_RAW] = raw
        for name, key, _ in _info(type(obj)).fields:
            sub = raw.get(key, _MISSING)
            if sub is not _MISSING:
                _attach(getattr(obj, name), sub)
    elif isinstance(obj, list):
        if obj and isinstance(obj[0], msgspec.Struct) and isinstance(raw, list):
            for item, sub in zip(obj, _match_list(obj, raw), strict=True):
                if sub is not _MISSING:
                    _attach(item, sub)
    elif isinstance(obj, dict) and isinstance(raw, dict):
        for k, v in obj.items():
            if k in raw:
                _attach(v, raw[k])


def decode_with_raw(data: bytes | str, type_or_decoder: type[T] | msgspec.json.Decoder[T]) -> T:
    """Decode ``data`` into the model and attach the raw JSON (see :func:`attach_raw`).

    The JSON text is kept as is and parsed only when it is needed (:func:`raw_of`,
    :func:`to_wire`, :func:`diff`), so reading a large configuration costs one typed decode.
    """
    if isinstance(type_or_decoder, msgspec.json.Decoder):
        obj = type_or_decoder.decode(data)
    else:
        obj = msgspec.json.decode(data, type=type_or_decoder)
    return link_raw(obj, data)


def link_raw(obj: T, data: bytes | str) -> T:
    """Attach the JSON text ``obj`` was decoded from, unparsed, to ``obj`` and its nested structs.

    Same result as :func:`attach_raw` for an ``obj`` decoded from ``data``, but the text is parsed
    only on the first :func:`raw_of` of any of these objects.
    """
    if isinstance(obj, msgspec.Struct) and getattr(obj, "__dict__", None) is None:
        raise TypeError(f"{type(obj).__name__} is not declared with dict=True; it cannot carry raw JSON")
    root = _Root(data)
    _link(obj, root, _Ref(root, None, None))
    return obj


def _link(obj: Any, root: _Root, ref: _Ref) -> None:
    """Give ``obj`` its place in ``root``; nested structs too, list items and map values shallowly.

    A shallow item (each folder, device...) links its own nested structs on its first
    :func:`raw_of`, so decoding a large configuration touches one object per item, not all.
    """
    if isinstance(obj, msgspec.Struct):
        d = getattr(obj, "__dict__", None)
        if d is not None:
            d[_RAW] = ref
        _link_fields(obj, root, ref)
    elif isinstance(obj, list):
        if obj and isinstance(obj[0], msgspec.Struct):
            cls = type(obj[0])
            info = _info(cls)
            if not info.nested or not hasattr(obj[0], "__dict__") or cls.__weakrefoffset__ == 0:
                for i, item in enumerate(obj):  # small items, or items that cannot be linked later
                    step = (
                        i
                        if info.identity is None
                        else (info.identity[1], getattr(item, info.identity[0], _MISSING))
                    )
                    _link_item(item, _Ref(root, ref, step))
                return
            # the fast path for Configuration.folders/devices: each item gets (list ref, step),
            # made a _Ref with its nested structs linked on its first raw_of (or _link_pending)
            pending = root.pending
            if not pending:
                _PENDING[next(_ORDER)] = root
            new_weak = weakref.ref
            ident = info.identity
            for i, item in enumerate(obj):
                if type(item) is not cls:
                    _link_item(
                        item, _Ref(root, ref, i if ident is None else (ident[1], getattr(item, ident[0])))
                    )
                    continue
                item.__dict__[_RAW] = (ref, i if ident is None else (ident[1], getattr(item, ident[0])))
                pending.append(new_weak(item))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(k, str):
                if isinstance(v, msgspec.Struct):
                    _link_item(v, _Ref(root, ref, k))
                elif isinstance(v, (list, dict)):
                    _link(v, root, _Ref(root, ref, k))


def _link_fields(obj: msgspec.Struct, root: _Root, ref: _Ref) -> None:
    for name, key in _info(type(obj)).nested:
        _link(getattr(obj, name), root, _Ref(root, ref, key))


def _link_item(item: Any, ref: _Ref) -> None:
    d = getattr(item, "__dict__", None)
    if d is None:
        if isinstance(item, msgspec.Struct):
            _link_fields(item, ref.root, ref)  # cannot carry a ref itself: link what it holds now
        return
    d[_RAW] = ref
    if not _info(type(item)).nested:
        return
    try:
        pending = weakref.ref(item)
    except TypeError:  # not declared with weakref=True: link its nested structs now
        _link_fields(item, ref.root, ref)
        return
    ref.shallow = True
    root = ref.root
    if not root.pending:
        _PENDING[next(_ORDER)] = root
    root.pending.append(pending)


def _settle_item(obj: msgspec.Struct, d: dict[str, Any], pending: tuple[_Ref, Any]) -> _Ref:
    """Turn the ``(list ref, step)`` of a fast-linked list item into its :class:`_Ref`, linking its fields."""
    parent, step = pending
    ref = d[_RAW] = _Ref(parent.root, parent, step)
    _link_fields(obj, ref.root, ref)
    return ref


def _settle(obj: msgspec.Struct, ref: _Ref) -> None:
    """Link the nested structs of a shallow item (on its first use)."""
    ref.shallow = False
    _link_fields(obj, ref.root, ref)


def _link_pending(d: dict[str, Any]) -> Any:
    """Link shallow items, newest decode first, until the ``__dict__`` ``d`` has raw JSON.

    Runs when :func:`raw_of` finds no raw JSON on an object: it may be a nested struct (a
    folder's ``versioning``...) of an item whose own raw JSON was never asked for. Each item
    is linked once; an object that never had raw JSON links everything still alive once.
    """
    while _PENDING:
        try:
            _, root = _PENDING.popitem()  # the newest
        except KeyError:  # the last ones died meanwhile
            break
        items, root.pending = root.pending, []
        for pending in items:
            item = pending()
            if item is None:
                continue
            item_dict = item.__dict__
            ref = item_dict.get(_RAW)
            if type(ref) is tuple:
                _settle_item(item, item_dict, ref)  # may register new shallow items of this root
            elif isinstance(ref, _Ref) and ref.shallow:
                _settle(item, ref)
        raw = d.get(_RAW)
        if raw is not None:
            return raw
    return None


def replace(obj: S, /, **changes: Any) -> S:
    """``msgspec.structs.replace`` that keeps the raw JSON attached to ``obj``."""
    new = msgspec.structs.replace(obj, **changes)
    raw = raw_of(obj)
    if raw is not None:
        d = getattr(new, "__dict__", None)
        if d is not None:
            d[_RAW] = raw
    return new


# --- to_wire ---------------------------------------------------------------------------------


@overload
def to_wire(obj: msgspec.Struct, base: Mapping[str, Any] | None = None) -> dict[str, Any]: ...
@overload
def to_wire(obj: list[Any], base: Sequence[Any] | None = None) -> list[Any]: ...
@overload
def to_wire(obj: Any, base: Any = None) -> Any: ...
def to_wire(obj: Any, base: Any = None) -> Any:
    """JSON builtins (wire keys) for sending ``obj``, keeping what ``base`` has that the model lacks.

    ``base`` defaults to the raw JSON attached to ``obj``. Keys of ``base`` the model does not
    know are kept, recursively (nested objects; list items matched by ``id``/``deviceID``/
    ``folderID``, else by position). Fields whose value did not change keep their raw form, and
    model fields that ``base`` lacks (another Syncthing version) are left out while they hold
    their default. Without any base every field is sent.
    Map-typed fields (``versioning.params``) are model data: their keys are never merged back,
    so deleting a map key does delete it.
    """
    if base is None:
        base = raw_of(obj)
    return _wire(obj, _MISSING if base is None else base, Any)


def _wire(value: Any, base: Any, ftype: Any) -> Any:
    if isinstance(value, msgspec.Struct):
        own = raw_of(value)
        return _wire_struct(value, own if own is not None else base)
    if isinstance(value, list) and value and isinstance(value[0], msgspec.Struct):
        subs = _match_list(value, base) if isinstance(base, list) else [_MISSING] * len(value)
        return [_wire(v, b, Any) for v, b in zip(value, subs, strict=True)]
    if isinstance(value, dict) and value and isinstance(next(iter(value.values())), msgspec.Struct):
        bmap = base if isinstance(base, dict) else {}
        return {k: _wire(v, bmap.get(k, _MISSING), Any) for k, v in value.items()}
    return _leaf(value, base, ftype)


def _wire_struct(value: msgspec.Struct, base: Any) -> dict[str, Any]:
    info = _info(type(value))
    has_base = isinstance(base, dict)
    bmap: dict[str, Any] = base if has_base else {}
    out: dict[str, Any] = {}
    for name, key, ftype in info.fields:
        v = getattr(value, name)
        b = bmap.get(key, _MISSING)
        if b is _MISSING and has_base and name in info.defaults and v == info.defaults[name]:
            continue  # this Syncthing does not have the field, and it was not set: leave it out
        out[key] = _wire(v, b, ftype)
    for key, raw_value in bmap.items():
        if key not in info.wire_names:
            out[key] = raw_value
    return out


def _leaf(value: Any, base: Any, ftype: Any) -> Any:
    new = msgspec.to_builtins(value)
    if base is _MISSING or new == base:
        return new
    if base is None and new in ([], {}):
        return None  # Syncthing's null for an empty list/map, unchanged
    if ftype is not Any:
        try:
            if msgspec.convert(base, ftype) == value:
                return base  # unchanged: keep the raw form (unknown enum value, nanoseconds...)
        except (msgspec.ValidationError, TypeError):
            pass
    return new


def _match_list(items: list[Any], base: Any) -> list[Any]:
    """The raw element of ``base`` for each element of ``items`` (``_MISSING`` when there is none).

    Structs with an identity key (``id``, ``deviceID``, ``folderID``) are matched by it, so
    reordering, inserting or removing items keeps each item's own raw JSON; others by position.
    """
    if not isinstance(base, list):
        return [_MISSING] * len(items)
    first = items[0] if items else None
    ident = _info(type(first)).identity if isinstance(first, msgspec.Struct) else None
    if ident is None:
        return [base[i] if i < len(base) else _MISSING for i in range(len(items))]
    attr, key = ident
    by_key = {b[key]: b for b in base if isinstance(b, dict) and key in b}
    return [by_key.get(getattr(item, attr, _MISSING), _MISSING) for item in items]


# --- diff ------------------------------------------------------------------------------------


def diff(old: S, new: S) -> dict[str, Any]:
    """The minimal ``PATCH`` body (wire keys) that turns ``old`` into ``new``.

    Nested objects and maps are diffed recursively (Syncthing's PATCH merges them); a changed
    list is sent whole (PATCH replaces arrays), with list items keeping unknown keys from the
    raw JSON of ``old``. Removing a map key cannot be expressed as a PATCH and raises
    ``ValueError``: PUT the whole object (``to_wire(new, base=raw_of(old))``) instead. Returns
    ``{}`` when nothing changed. Build ``new`` with ``copy.deepcopy(old)`` (or :func:`replace`
    with new nested values): a shallow copy shares nested objects, so mutating them in place
    changes ``old`` too and the change cannot be seen.
    """
    if type(old) is not type(new):
        raise TypeError(f"diff() needs two {type(old).__name__} objects, got {type(new).__name__}")
    base = raw_of(old)
    if base is None:
        base = raw_of(new)
    return _diff_struct(old, new, _MISSING if base is None else base, "")


def _diff_struct(old: msgspec.Struct, new: msgspec.Struct, base: Any, path: str) -> dict[str, Any]:
    bmap: dict[str, Any] = base if isinstance(base, dict) else {}
    out: dict[str, Any] = {}
    for name, key, ftype in _info(type(new)).fields:
        ov = getattr(old, name)
        nv = getattr(new, name)
        if ov is nv:
            continue
        b = bmap.get(key, _MISSING)
        where = f"{path}.{key}" if path else key
        if isinstance(nv, msgspec.Struct) and type(ov) is type(nv):
            own = raw_of(ov)
            sub = _diff_struct(ov, nv, own if own is not None else b, where)
            if sub:
                out[key] = sub
        elif isinstance(nv, dict) and isinstance(ov, dict):
            sub_map = _diff_map(ov, nv, b, where)
            if sub_map:
                out[key] = sub_map
        elif ov != nv:
            out[key] = _wire(nv, b, ftype)
    return out


def _diff_map(old: dict[Any, Any], new: dict[Any, Any], base: Any, path: str) -> dict[Any, Any]:
    removed = [k for k in old if k not in new]
    if removed:
        raise ValueError(
            f"{path}: a PATCH cannot remove map keys {sorted(map(str, removed))} (Syncthing merges "
            "maps); PUT the whole object instead"
        )
    bmap: dict[Any, Any] = base if isinstance(base, dict) else {}
    out: dict[Any, Any] = {}
    for k, nv in new.items():
        ov = old.get(k, _MISSING)
        b = bmap.get(k, _MISSING)
        if isinstance(nv, msgspec.Struct) and type(ov) is type(nv):
            sub = _diff_struct(ov, nv, b, f"{path}.{k}")
            if sub:
                out[k] = sub
        elif ov is _MISSING or ov != nv:
            out[k] = _wire(nv, b, Any)
    return out
