"""Syncthing device IDs: parsing, validation and the canonical dashed form.

A device ID is the SHA-256 of the device's certificate (DER), written as 52 base32 characters plus
one Luhn-style check character per 13, grouped in eight dashed groups of seven::

    MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD

Parsing follows Syncthing's own ``DeviceIDFromString`` (``lib/protocol/deviceid.go``): ``=`` is
stripped from both ends, ASCII letters are upper-cased, the typos ``0``/``1``/``8`` become
``O``/``I``/``B``, dashes and spaces are dropped, then 56 characters (check characters verified) or
52 characters (the old form without check characters) are accepted. Unlike Syncthing, the empty
(all-zero) ID is always an error here: an empty ``device=`` would silently mean "no device" or
"all devices" to the server. Models keep device IDs as plain ``str``; endpoints validate their
device parameters with :func:`to_device_id_str` before sending a request.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Final, NoReturn, final

from syncthing_async._exceptions import InvalidDeviceIDError

__all__ = ["DeviceID", "to_device_id_str"]

_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_VALUE: Final = {c: i for i, c in enumerate(_ALPHABET)}
_TYPOS: Final = {"0": "O", "1": "I", "8": "B"}
_RAW_LEN: Final = 32
_DATA_LEN: Final = 52  # base32 of 32 bytes without padding
_FULL_LEN: Final = 56  # with the four check characters
_BLOCK: Final = 13  # data characters per check character
_QUOTE_LIMIT: Final = 120


def _luhn32(s: str) -> str:
    """Syncthing's check character for ``s`` (base-32 Luhn variant, weights 1,2,1,... from the left).

    Implemented exactly as ``lib/protocol/luhn.go``; raises ``KeyError`` for a character outside
    the alphabet (callers validate first).
    """
    factor = 1
    total = 0
    for c in s:
        v = _VALUE[c]
        p = factor * v
        factor = 2 if factor == 1 else 1
        total += p // 32 + p % 32
    return _ALPHABET[(32 - total % 32) % 32]


def _encode(raw: bytes) -> str:
    """Canonical dashed 63-character form of 32 raw bytes."""
    data = base64.b32encode(raw).decode("ascii").rstrip("=")
    full = "".join(data[i : i + _BLOCK] + _luhn32(data[i : i + _BLOCK]) for i in range(0, _DATA_LEN, _BLOCK))
    return "-".join(full[i : i + 7] for i in range(0, _FULL_LEN, 7))


def _quote(text: str) -> str:
    if len(text) > _QUOTE_LIMIT:
        return repr(text[:_QUOTE_LIMIT]) + f"... ({len(text)} characters)"
    return repr(text)


def _fail(text: str, why: str) -> NoReturn:
    raise InvalidDeviceIDError(f"invalid device ID {_quote(text)}: {why}")


def _parse_raw(text: str) -> bytes:
    """Validate ``text`` like Syncthing does and return the 32 raw bytes."""
    start, end = 0, len(text)
    while start < end and text[start] == "=":
        start += 1
    while end > start and text[end - 1] == "=":
        end -= 1
    # (index in the input, normalized character); upper-casing is ASCII-only on purpose.
    chars: list[tuple[int, str]] = []
    for i in range(start, end):
        c = text[i]
        if "a" <= c <= "z":
            c = chr(ord(c) - 32)
        c = _TYPOS.get(c, c)
        if c not in "- ":
            chars.append((i, c))

    n = len(chars)
    if n == 0:
        _fail(text, "empty (the empty device ID is never accepted)")
    if n not in (_FULL_LEN, _DATA_LEN):
        _fail(
            text,
            f"incorrect length: {n} characters without dashes and spaces, expected "
            f"{_FULL_LEN} (or {_DATA_LEN} for the old form without check characters)",
        )
    for i, c in chars:
        if c not in _VALUE:
            _fail(
                text,
                f"character {text[i]!r} at position {i + 1} is not allowed "
                "(only A-Z, 2-7, dashes and spaces; 0, 1, 8 are read as O, I, B)",
            )
    norm = "".join(c for _, c in chars)
    if n == _FULL_LEN:
        blocks = [norm[b * 14 : b * 14 + 14] for b in range(4)]
        for b, block in enumerate(blocks):
            if _luhn32(block[:_BLOCK]) != block[_BLOCK]:
                _fail(
                    text,
                    f"check character {block[_BLOCK]!r} at the end of group {2 * b + 2} "
                    f"does not match groups {2 * b + 1}-{2 * b + 2} (a character there is "
                    "mistyped)",
                )
        norm = "".join(block[:_BLOCK] for block in blocks)
    raw = base64.b32decode(norm + "====")
    if raw == bytes(_RAW_LEN):
        _fail(text, "it is the empty (all-zero) device ID")
    return raw


@final
class DeviceID:
    """An immutable, hashable Syncthing device ID.

    ``DeviceID(text)`` is the same as :meth:`DeviceID.parse`. ``str()`` gives the canonical dashed
    form; a DeviceID equals any string that parses to the same ID (an invalid string is simply
    unequal), and it hashes like its canonical string, so ``{dev: ...}["AAAAAAA-..."]`` works.
    """

    __slots__ = ("_raw", "_str")

    _raw: bytes
    _str: str

    def __new__(cls, value: str | DeviceID) -> DeviceID:
        if isinstance(value, DeviceID):
            return value
        if not isinstance(value, str):
            raise TypeError(
                f"a device ID must be str or DeviceID, not {type(value).__name__}"
                + ("; use DeviceID.from_bytes() for raw bytes" if isinstance(value, bytes) else "")
            )
        return cls._from_raw(_parse_raw(value))

    @classmethod
    def _from_raw(cls, raw: bytes) -> DeviceID:
        self = object.__new__(cls)
        object.__setattr__(self, "_raw", raw)
        object.__setattr__(self, "_str", _encode(raw))
        return self

    @classmethod
    def parse(cls, text: str | DeviceID) -> DeviceID:
        """Parse a device ID leniently (case, dashes, spaces, 0/1/8 typos, 52-character old form).

        Raises :class:`InvalidDeviceIDError` (a ``ValueError``) saying what is wrong, and
        ``TypeError`` for a value that is not a ``str`` or ``DeviceID``.
        """
        return cls(text)

    @classmethod
    def from_bytes(cls, raw: bytes | bytearray | memoryview) -> DeviceID:
        """Build a DeviceID from its 32 raw bytes (not all zero)."""
        if not isinstance(raw, bytes | bytearray | memoryview):
            raise TypeError(f"raw device ID must be bytes, not {type(raw).__name__}")
        data = bytes(raw)
        if len(data) != _RAW_LEN:
            raise InvalidDeviceIDError(f"a raw device ID is {_RAW_LEN} bytes, got {len(data)}: {data[:40]!r}")
        if data == bytes(_RAW_LEN):
            raise InvalidDeviceIDError("the empty (all-zero) device ID is not accepted")
        return cls._from_raw(data)

    @classmethod
    def from_certificate_der(cls, der: bytes | bytearray | memoryview) -> DeviceID:
        """The ID of the device whose TLS certificate is ``der`` (SHA-256 of the DER bytes)."""
        return cls._from_raw(hashlib.sha256(der).digest())

    @staticmethod
    def is_valid(text: object) -> bool:
        """True if ``text`` is a DeviceID or a string that :meth:`parse` accepts."""
        if isinstance(text, DeviceID):
            return True
        if not isinstance(text, str):
            return False
        try:
            _parse_raw(text)
        except InvalidDeviceIDError:
            return False
        return True

    @property
    def raw(self) -> bytes:
        """The 32 raw bytes (SHA-256 of the certificate)."""
        return self._raw

    @property
    def short(self) -> str:
        """The 7-character short ID (``modifiedBy``, version vectors, cookie names)."""
        return self._str[:7]

    def __str__(self) -> str:
        return self._str

    def __repr__(self) -> str:
        return f"DeviceID({self._str!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DeviceID):
            return self._raw == other._raw
        if isinstance(other, str):
            if other == self._str:
                return True
            try:
                return _parse_raw(other) == self._raw
            except InvalidDeviceIDError:
                return False
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._str)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("DeviceID is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("DeviceID is immutable")

    def __reduce__(self) -> tuple[type[DeviceID], tuple[str]]:
        return (DeviceID, (self._str,))


def to_device_id_str(value: str | DeviceID) -> str:
    """Validate a device parameter and return its canonical dashed form.

    Raises :class:`InvalidDeviceIDError` before any request is sent.
    """
    return DeviceID(value)._str
