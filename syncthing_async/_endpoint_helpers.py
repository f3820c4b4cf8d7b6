"""Small helpers the generated endpoint coroutines call (handwritten; not generated).

Everything here runs *before* a request is sent where it validates input, so a malformed
device ID, a mismatching config ID or an impossible PATCH fails without touching the network.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

import msgspec

from ._deviceid import DeviceID, to_device_id_str
from ._exceptions import SyncthingDecodeError
from ._preserve import attach_raw, diff, link_raw, raw_of, to_wire
from .models._base import DECODE_ERRORS

__all__ = [
    "decode_config",
    "decode_or_none",
    "go_duration",
    "json_object",
    "parse_meta_js",
    "patch_body",
    "rfc3339",
    "wire",
    "wire_item",
]

T = TypeVar("T")


def rfc3339(value: datetime | str) -> str:
    """``datetime`` -> RFC 3339 (a naive datetime is taken as local time); strings pass through."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.astimezone()
    return value.isoformat()


def go_duration(seconds: float) -> str:
    """Seconds -> a Go duration string (``1.5`` -> ``"1.5s"``)."""
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"duration must be a positive number of seconds, not {seconds!r}")
    text = f"{seconds:.6f}".rstrip("0").rstrip(".")
    return f"{text}s"


def json_object(value: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON object body from a mapping; datetimes become RFC 3339 strings with an offset."""
    return {str(k): rfc3339(v) if isinstance(v, datetime) else v for k, v in value.items()}


def _decode_error(endpoint: str, payload: bytes, err: Exception) -> SyncthingDecodeError:
    return SyncthingDecodeError(endpoint, str(err), payload[:200].decode("utf-8", "replace"))


def decode_or_none(decoder: msgspec.json.Decoder[T], payload: bytes, endpoint: str) -> T | None:
    """Decode ``payload``; an empty body gives None (``POST /rest/system/upgrade`` with nothing newer)."""
    if not payload.strip():
        return None
    try:
        return decoder.decode(payload)
    except DECODE_ERRORS as err:
        raise _decode_error(endpoint, payload, err) from err


def decode_config(decoder: msgspec.json.Decoder[T], payload: bytes, endpoint: str) -> T:
    """Decode a config object (or list) and attach the raw JSON, so writes keep unknown keys."""
    try:
        obj = decoder.decode(payload)
    except DECODE_ERRORS as err:
        raise _decode_error(endpoint, payload, err) from err
    return link_raw(obj, payload)  # parsed again only on a write (to_wire/diff/raw_of)


def wire(value: msgspec.Struct | Mapping[str, Any]) -> dict[str, Any]:
    """Body of a config write: a model keeps the unknown keys it was fetched with; a mapping is sent as is."""
    if isinstance(value, msgspec.Struct):
        return to_wire(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"expected a config model or a mapping, not {type(value).__name__}")


def wire_item(value: msgspec.Struct | Mapping[str, Any], key: str, path_id: str | DeviceID) -> dict[str, Any]:
    """Body of ``PUT /rest/config/{folders,devices}/{id}``: its ``key`` must name ``path_id``.

    Syncthing ignores the ID in the path and stores the object under the body's ID, so a
    mismatch would silently write another object: it raises ``ValueError`` here. A body
    without an ID gets ``path_id``.
    """
    body = wire(value)
    given = body.get(key)
    wanted = str(path_id)
    if key == "deviceID":
        wanted = to_device_id_str(path_id)
        if given:
            given = to_device_id_str(str(given))
    if not given or given == wanted:
        body[key] = wanted
    else:
        raise ValueError(f"the body's {key} {given!r} does not match the {key} in the path {wanted!r}")
    return body


def patch_body(changes: msgspec.Struct | Mapping[str, Any]) -> dict[str, Any]:
    """Body of a ``PATCH``: only what changed.

    * a mapping is sent as given (Syncthing's wire keys: ``{"label": "x"}``);
    * a model fetched from Syncthing and then modified is compared with what was fetched
      (the attached raw JSON) and only the changed fields are sent (:func:`_preserve.diff`).
      Removing a map key cannot be patched (Syncthing merges maps) and raises ``ValueError``.
    """
    if isinstance(changes, Mapping):
        return dict(changes)
    if not isinstance(changes, msgspec.Struct):
        raise TypeError(f"expected a config model or a mapping, not {type(changes).__name__}")
    raw = raw_of(changes)
    if raw is None:
        raise ValueError(
            f"this {type(changes).__name__} was not fetched from Syncthing, so what changed is unknown: "
            "pass a mapping of the changed wire keys, or use put() to replace the whole object"
        )
    original = msgspec.json.decode(msgspec.json.encode(raw), type=type(changes))
    attach_raw(original, raw)
    return diff(original, changes)


def parse_meta_js(text: str, endpoint: str) -> dict[str, Any]:
    """The object of ``var metadata = {...};`` served as ``/meta.js``."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise SyncthingDecodeError(endpoint, "no JSON object in meta.js", text[:200])
    try:
        value = msgspec.json.decode(text[start : end + 1])
    except DECODE_ERRORS as err:
        raise SyncthingDecodeError(endpoint, str(err), text[:200]) from err
    if not isinstance(value, dict):
        raise SyncthingDecodeError(endpoint, "meta.js holds no object", text[:200])
    return value
