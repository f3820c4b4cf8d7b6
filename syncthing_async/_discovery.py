"""Find the local Syncthing's GUI address and API key from its ``config.xml``."""

from __future__ import annotations

import os
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import anyio.to_thread

from ._exceptions import ConfigNotFoundError
from ._tls import fingerprint_from_pem

__all__ = ["LocalConfig", "candidate_config_dirs", "discover_local", "read_local_config"]


@dataclass(frozen=True)
class LocalConfig:
    """What :func:`discover_local` found: where to connect and how."""

    url: str
    api_key: str | None = field(repr=False)
    config_path: Path
    fingerprint: str | None = None
    """SHA-256 pin of ``https-cert.pem`` when the GUI uses TLS."""


def candidate_config_dirs(env: dict[str, str] | None = None) -> list[Path]:
    """The folders Syncthing itself would use for its config, in its order of precedence."""
    env = dict(os.environ) if env is None else env
    home = Path(env.get("HOME") or Path.home())
    out: list[Path] = []
    for var in ("STCONFDIR", "STHOMEDIR"):
        if env.get(var):
            out.append(Path(env[var]))
    if out:
        return out
    if sys.platform == "win32":
        for var in ("LOCALAPPDATA", "APPDATA"):
            if env.get(var):
                out.append(Path(env[var]) / "Syncthing")
    elif sys.platform == "darwin":
        out.append(home / "Library" / "Application Support" / "Syncthing")
    else:
        state = Path(env["XDG_STATE_HOME"]) if env.get("XDG_STATE_HOME") else home / ".local/state"
        config = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
        out += [state / "syncthing", config / "syncthing"]
    return out


def _gui_url(address: str, tls: bool) -> str:
    address = address.strip()
    if address.startswith(("unix://", "unixs://", "http://", "https://")):
        return address
    if address.startswith("/"):
        return ("unixs://" if tls else "unix://") + address
    host, _, port = address.rpartition(":")
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host in ("[::]", "::"):
        host = "[::1]"
    return f"{'https' if tls else 'http'}://{host}:{port}"


def read_local_config(path: Path, env: dict[str, str] | None = None) -> LocalConfig:
    """Parse one ``config.xml`` (blocking; call through :func:`discover_local` from async code)."""
    env = dict(os.environ) if env is None else env
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise ConfigNotFoundError(f"{path} is not valid XML: {err}", (str(path),)) from err
    gui = root.find("gui")
    if gui is None:
        raise ConfigNotFoundError(f"{path} has no <gui> section", (str(path),))
    tls = gui.get("tls", "false").lower() == "true"
    address = env.get("STGUIADDRESS") or (gui.findtext("address") or "127.0.0.1:8384")
    api_key = env.get("STGUIAPIKEY") or (gui.findtext("apikey") or "").strip() or None
    url = _gui_url(address, tls)
    fingerprint = None
    if url.startswith(("https://", "unixs://")):
        cert = path.parent / "https-cert.pem"
        if cert.exists():
            fingerprint = fingerprint_from_pem(cert.read_text(encoding="ascii"))
    return LocalConfig(url=url, api_key=api_key, config_path=path, fingerprint=fingerprint)


def _discover(env: dict[str, str] | None) -> LocalConfig:
    searched: list[str] = []
    for folder in candidate_config_dirs(env):
        candidate = folder / "config.xml"
        searched.append(str(candidate))
        if candidate.is_file():
            return read_local_config(candidate, env)
    raise ConfigNotFoundError(
        "no Syncthing config.xml found; looked in: "
        + ", ".join(searched)
        + " (set STHOMEDIR or STCONFDIR, or pass url= and api_key=)",
        tuple(searched),
    )


async def discover_local(env: dict[str, str] | None = None) -> LocalConfig:
    """Find and read the local Syncthing's ``config.xml`` in a worker thread (never blocks the loop)."""
    return await anyio.to_thread.run_sync(_discover, env)
