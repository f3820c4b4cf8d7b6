"""The real-daemon harness lives in the package (``syncthing_async.testing.daemon``); re-exported here."""

from syncthing_async.testing.daemon import *  # noqa: F403
from syncthing_async.testing.daemon import __all__ as __all__
