"""Test helpers for code that uses syncthing_async.

:class:`FakeSyncthing` is an in-process fake of Syncthing's REST event API (127.0.0.1 only).
For pytest, enable the fixtures with ``pytest_plugins = ["syncthing_async.testing.pytest_plugin"]``
in your ``conftest.py``.
"""

from ._fake import FakeSyncthing, RecordedRequest

__all__ = ["FakeSyncthing", "RecordedRequest"]
