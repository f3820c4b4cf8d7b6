"""TLS helpers: certificate pinning for Syncthing's self-signed GUI certificate."""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path

import aiohttp
import anyio

__all__ = [
    "fingerprint_from_pem",
    "load_fingerprint",
    "normalize_fingerprint",
    "ssl_for_request",
]


def normalize_fingerprint(text: str) -> bytes:
    """Turn a SHA-256 fingerprint (hex, any case, with or without ``:`` or spaces) into 32 bytes."""
    cleaned = text.replace(":", "").replace(" ", "").replace("-", "").strip().lower()
    try:
        digest = bytes.fromhex(cleaned)
    except ValueError:
        raise ValueError("fingerprint must be the hex SHA-256 of the certificate") from None
    if len(digest) != 32:
        raise ValueError(f"fingerprint must be a SHA-256 digest (32 bytes), got {len(digest)} bytes")
    return digest


def fingerprint_from_pem(pem: str | bytes) -> str:
    """Return the SHA-256 pin (``AA:BB:...``) of the first certificate in PEM text."""
    text = pem.decode("ascii") if isinstance(pem, bytes) else pem
    start = text.find("-----BEGIN CERTIFICATE-----")
    end = text.find("-----END CERTIFICATE-----", start)
    if start < 0 or end < 0:
        raise ValueError("no PEM certificate found")
    der = ssl.PEM_cert_to_DER_cert(text[start : end + len("-----END CERTIFICATE-----")])
    return hashlib.sha256(der).hexdigest().upper()


async def load_fingerprint(path: str | Path) -> str:
    """Read Syncthing's ``https-cert.pem`` (in a worker thread) and return its SHA-256 pin."""
    data = await anyio.Path(path).read_text(encoding="ascii")
    return fingerprint_from_pem(data)


def ssl_for_request(
    ssl_option: bool | ssl.SSLContext, fingerprint: str | None
) -> bool | ssl.SSLContext | aiohttp.Fingerprint:
    """Translate the client's ``ssl``/``fingerprint`` options into aiohttp's per-request ``ssl``."""
    if fingerprint is not None:
        if isinstance(ssl_option, ssl.SSLContext):
            raise ValueError("pass either an SSLContext or a fingerprint, not both")
        return aiohttp.Fingerprint(normalize_fingerprint(fingerprint))
    return ssl_option
