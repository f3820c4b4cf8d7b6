"""The client core against real Syncthing daemons (1.19.2 and 1.29.5)."""

from __future__ import annotations

import logging
import ssl

import pytest

from syncthing_async import (
    AuthenticationError,
    AuthReason,
    BadRequestError,
    ConfigNotFoundError,
    InvalidArgumentError,
    NotFoundError,
    SyncthingClient,
    SyncthingConnectionError,
    load_fingerprint,
)
from tests.harness import SyncthingDaemon


async def test_version_learned_and_status(daemon: SyncthingDaemon) -> None:
    async with SyncthingClient(daemon.url, daemon.api_key) as client:
        assert client.syncthing_version is None
        status = await client.system.status()
        assert status.my_id == daemon.device_id
        assert client.syncthing_version == daemon.version
        assert (await client.get_syncthing_version()) == daemon.version
        assert await client.health() is True


async def test_wrong_key_is_authentication_error(daemon: SyncthingDaemon) -> None:
    async with SyncthingClient(daemon.url, "not-the-key") as client:
        with pytest.raises(AuthenticationError) as info:
            await client.system.status()
    assert info.value.status == 403
    assert info.value.reason is AuthReason.BAD_API_KEY
    assert info.value.body == "CSRF Error"


async def test_unknown_folder_and_bad_request_carry_syncthing_message(daemon: SyncthingDaemon) -> None:
    async with SyncthingClient(daemon.url, daemon.api_key) as client:
        with pytest.raises(NotFoundError) as nf:
            await client._core.request("GET", "/rest/db/status", params={"folder": "nope"})
        assert nf.value.body == "no such folder"
        with pytest.raises(BadRequestError) as br:
            await client._core.request("GET", "/rest/db/completion", params={"device": "XYZ"})
        assert "device ID invalid" in br.value.body
        with pytest.raises(BadRequestError) as bj:
            await client._core.request("PATCH", "/rest/config/options", data="{bad json")
        assert "invalid character" in bj.value.body


async def test_closed_port_of_a_stopped_daemon(make_daemon) -> None:
    d: SyncthingDaemon = make_daemon()
    url, key = d.url, d.api_key
    d.stop()
    async with SyncthingClient(url, key, timeout=5) as client:
        with pytest.raises(SyncthingConnectionError):
            await client.system.ping()


async def test_https_default_refuses_pin_accepts_wrong_pin_refused(https_daemon: SyncthingDaemon) -> None:
    url = https_daemon.https_url
    async with SyncthingClient(url, https_daemon.api_key) as client:
        with pytest.raises(SyncthingConnectionError, match=r"self-signed|TLS"):
            await client.system.ping()
    pin = await load_fingerprint(https_daemon.cert_path)
    async with SyncthingClient(url, https_daemon.api_key, fingerprint=pin) as client:
        assert (await client.system.ping()).ping == "pong"
    with_colons = ":".join(pin[i : i + 2] for i in range(0, len(pin), 2)).lower()
    async with SyncthingClient(url, https_daemon.api_key, fingerprint=with_colons) as client:
        assert (await client.system.ping()).ping == "pong"
    wrong = ("0" if pin[0] != "0" else "1") + pin[1:]
    async with SyncthingClient(url, https_daemon.api_key, fingerprint=wrong) as client:
        with pytest.raises(SyncthingConnectionError, match="pinned fingerprint"):
            await client.system.ping()
    # An SSLContext that trusts the certificate works too (hostname check off: no IP SAN).
    ctx = ssl.create_default_context(cafile=str(https_daemon.cert_path))
    ctx.check_hostname = False
    async with SyncthingClient(url, https_daemon.api_key, ssl=ctx) as client:
        assert (await client.system.ping()).ping == "pong"


async def test_http_to_tls_gui_follows_same_host_upgrade(https_daemon: SyncthingDaemon) -> None:
    pin = await load_fingerprint(https_daemon.cert_path)
    # A pin with http:// would send the key in clear text before the upgrade: refused, with the fix.
    with pytest.raises(InvalidArgumentError, match="use an https://"):
        SyncthingClient(https_daemon.url, https_daemon.api_key, fingerprint=pin)
    # Syncthing answers 307 to https://<same host:port>; a GET follows the upgrade (same origin only).
    async with SyncthingClient(https_daemon.url, https_daemon.api_key, ssl=False) as client:
        assert (await client.system.ping()).ping == "pong"


async def test_from_local_finds_config_in_sthomedir(daemon: SyncthingDaemon) -> None:
    env = {"STHOMEDIR": str(daemon.home), "HOME": str(daemon.home)}
    client = await SyncthingClient.from_local(env=env)
    async with client:
        assert client.url == daemon.url
        assert (await client.system.status()).my_id == daemon.device_id


async def test_from_local_pins_tls_gui(https_daemon: SyncthingDaemon) -> None:
    client = await SyncthingClient.from_local(env={"STHOMEDIR": str(https_daemon.home)})
    async with client:
        assert client.url.startswith("https://")
        assert (await client.system.ping()).ping == "pong"


async def test_from_local_says_what_it_looked_for(tmp_path) -> None:
    with pytest.raises(ConfigNotFoundError) as info:
        await SyncthingClient.from_local(env={"HOME": str(tmp_path)})
    assert str(tmp_path / ".local/state/syncthing/config.xml") in str(info.value)
    assert str(tmp_path / ".config/syncthing/config.xml") in info.value.searched


async def test_key_never_in_debug_logs_against_real_daemon(daemon: SyncthingDaemon, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    async with SyncthingClient(daemon.url, daemon.api_key) as client:
        await client.system.status()
        with pytest.raises(NotFoundError) as info:
            await client._core.request("GET", "/rest/db/status", params={"folder": "nope"})
        text = " ".join([repr(client), str(info.value), repr(info.value)])
    logs = " ".join(r.getMessage() for r in caplog.records)
    assert "/rest/system/status -> 200" in logs
    assert daemon.api_key not in logs and daemon.api_key not in text
