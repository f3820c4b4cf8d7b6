"""Syncthing version strings (``v1.19.2-ds1``, ``v2.1.3``, ``v1.27.0-rc.2``) and comparisons."""

from __future__ import annotations

import functools
import re

__all__ = ["SyncthingVersion"]

_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+~](.*))?$")


@functools.total_ordering
class SyncthingVersion:
    """A parsed Syncthing version; compares with others, strings and tuples (``v >= "1.22.1"``).

    Distribution suffixes such as ``-ds1`` are kept in :attr:`suffix` but ignored when comparing, so
    Debian's ``v1.19.2-ds1`` counts as 1.19.2. Release candidates (``-rc.N``) sort before the release.
    """

    __slots__ = ("major", "minor", "patch", "raw", "suffix")

    def __init__(self, major: int, minor: int = 0, patch: int = 0, *, suffix: str = "", raw: str = ""):
        self.major = major
        self.minor = minor
        self.patch = patch
        self.suffix = suffix
        self.raw = raw or f"v{major}.{minor}.{patch}" + (f"-{suffix}" if suffix else "")

    @classmethod
    def parse(cls, text: str) -> SyncthingVersion:
        """Parse ``v1.19.2-ds1``, ``1.29.5`` or ``v2.0.0-rc.1``; raise ValueError for anything else."""
        m = _VERSION.match(text.strip())
        if m is None:
            raise ValueError(f"not a Syncthing version: {text!r}")
        major, minor, patch, suffix = m.groups()
        return cls(int(major), int(minor or 0), int(patch or 0), suffix=suffix or "", raw=text.strip())

    @property
    def is_candidate(self) -> bool:
        """True for release candidates (``-rc.N``)."""
        return self.suffix.startswith("rc")

    def _key(self) -> tuple[int, int, int, int]:
        return (self.major, self.minor, self.patch, 0 if self.is_candidate else 1)

    @staticmethod
    def _coerce(other: object) -> SyncthingVersion | None:
        if isinstance(other, SyncthingVersion):
            return other
        if isinstance(other, str):
            return SyncthingVersion.parse(other)
        if isinstance(other, tuple) and all(isinstance(x, int) for x in other):
            return SyncthingVersion(*other)
        return None

    def __eq__(self, other: object) -> bool:
        o = self._coerce(other)
        return NotImplemented if o is None else self._key() == o._key()

    def __lt__(self, other: object) -> bool:
        o = self._coerce(other)
        if o is None:
            return NotImplemented
        return self._key() < o._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return self.raw

    def __repr__(self) -> str:
        return f"SyncthingVersion({self.raw!r})"
