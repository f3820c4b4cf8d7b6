"""Field types shared by the models: lists and maps that Syncthing may send as ``null``.

Go encodes a nil slice or map as ``null``, and Syncthing does so for many fields (``errors``,
``ignore``, ``expanded``, ``availability``, ``remoteSequence``...). msgspec rejects ``null`` for
``list[X]``, so such fields are declared as ``NullList[X]`` / ``NullDict[K, V]``:

* for type checkers they *are* ``list[X]`` / ``dict[K, V]``, so users never see ``None``;
* at runtime msgspec sees ``list[X] | None``, and the model's ``__post_init__`` (which msgspec runs
  after decoding) replaces ``None`` with an empty container.

Every model that declares such a field normalises it in ``__post_init__`` with plain
``if self.x is None: self.x = []`` statements: that is the cheapest form (a generic loop over the
field names costs about twice as much), and the test-suite checks that no such field is missed.
Hot, large lists whose Go code never produces ``null`` (``FileInfo.version``) stay plain ``list``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, TypeVar

__all__ = ["NullDict", "NullList"]

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

if TYPE_CHECKING:
    from typing import TypeAlias

    NullList: TypeAlias = list[T]
    NullDict: TypeAlias = dict[K, V]
else:
    # msgspec resolves the string annotations of the models against these runtime aliases.
    NullList = Optional[list[T]]  # noqa: UP045 (subscriptable generic alias needed at runtime)
    NullDict = Optional[dict[K, V]]  # noqa: UP045
