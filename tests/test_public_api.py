"""The public surface: what ``syncthing_async`` exports, and the exception tree."""

from __future__ import annotations

import asyncio
import builtins

import syncthing_async
from syncthing_async import _exceptions

EXPECTED = {
    "ENDPOINTS", "AuthReason", "AuthenticationError", "Backoff", "BadRequestError",
    "ConfigNotFoundError", "ConnectionState", "DeviceID", "Endpoint", "Event", "EventCursor",
    "EventListener", "EventStream", "EventsSkipped", "InvalidArgumentError", "InvalidDeviceIDError",
    "LocalConfig", "NotFoundError", "ProgressCallback", "RedirectRefusedError", "ResponseTooLargeError",
    "ServerError", "StateMirror", "StreamReset",
    "SyncProgress", "SyncthingAPIError", "SyncthingClient", "SyncthingClosedError",
    "SyncthingConnectionError", "SyncthingDecodeError", "SyncthingError", "SyncthingTimeoutError",
    "SyncthingVersion", "UnknownEvent", "UnsupportedError", "__version__", "discover_local",
    "fingerprint_from_pem", "load_fingerprint",
}  # fmt: skip


def test_all_is_pinned_and_importable() -> None:
    assert set(syncthing_async.__all__) == EXPECTED
    for name in syncthing_async.__all__:
        assert getattr(syncthing_async, name) is not None, name


def _tree(cls: type) -> set[type]:
    out = {cls}
    for sub in cls.__subclasses__():
        out |= _tree(sub)
    return out


def test_every_exception_is_a_syncthing_error_and_exported() -> None:
    tree = _tree(syncthing_async.SyncthingError)
    assert {c for c in tree if c.__module__.startswith("syncthing_async")} == tree
    exported = {getattr(syncthing_async, n) for n in syncthing_async.__all__}
    assert tree <= exported, tree - exported
    # every exception class the library defines belongs to the tree
    defined = {
        obj
        for obj in vars(_exceptions).values()
        if isinstance(obj, type) and issubclass(obj, BaseException) and obj.__module__ == _exceptions.__name__
    }
    assert defined <= tree


def test_documented_multiple_inheritance() -> None:
    assert issubclass(syncthing_async.SyncthingTimeoutError, builtins.TimeoutError)
    assert issubclass(syncthing_async.SyncthingTimeoutError, syncthing_async.SyncthingConnectionError)
    assert issubclass(syncthing_async.InvalidDeviceIDError, ValueError)
    # CancelledError is never part of the tree (it must always propagate)
    assert not issubclass(asyncio.CancelledError, syncthing_async.SyncthingError)


def test_status_errors_map_and_pickle() -> None:
    import pickle

    for status, cls in [(400, "BadRequestError"), (403, "AuthenticationError"), (404, "NotFoundError"),
                        (500, "ServerError"), (503, "ServerError"), (418, "SyncthingAPIError")]:  # fmt: skip
        err = _exceptions.error_for_status(status, "GET", "http://127.0.0.1:8384/rest/x", "msg\n")
        assert type(err).__name__ == cls and err.status == status and err.body == "msg"
        again = pickle.loads(pickle.dumps(err))
        assert type(again) is type(err) and again.body == "msg" and again.status == status
