"""Every endpoint against real Syncthing daemons, on each version that has it (1.19.2 and 1.29.5).

Daemons (all on 127.0.0.1, stopped by their own PID at teardown):

* ``daemon`` (conftest, shared, read-only): reads, debug endpoints (debugging is on).
* ``rw`` (this module, one per version): non-destructive writes, debugging off.
* ``cluster`` (this module, one per version): A, B and C. A and B share "shared" (A cannot pull
  it: its minDiskFree is 1000 TB, so B's files stay needed and fail with pull errors),
  "versioned" (simple versioning on A) and B offers "offered" that A lacks; C knows A but A does
  not know C (a pending device); A has a receive-only folder "ro" with local changes.
* throwaway daemons (``make_daemon``) for restart, reset, shutdown and upgrade.

Every request these tests send is recorded per version; the last test of the module fails if
an endpoint the version has was never exercised. 2.x-only shapes are covered by fixtures in
``test_endpoints_requests.py``.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import pytest

from syncthing_async import (
    AuthenticationError,
    AuthReason,
    BadRequestError,
    InvalidArgumentError,
    InvalidDeviceIDError,
    NotFoundError,
    ServerError,
    SyncthingAPIError,
    SyncthingClient,
    SyncthingConnectionError,
    UnsupportedError,
)
from syncthing_async._codegen.spec import ENDPOINTS, Endpoint
from syncthing_async._deviceid import DeviceID
from syncthing_async._preserve import raw_of
from syncthing_async._versioning import SyncthingVersion
from syncthing_async.models import config as cfg_models
from syncthing_async.models import db as db_models
from tests.harness import (
    DEFAULT_TEST_FILES,
    SyncthingDaemon,
    close_all,
    wait_connected,
    wait_until,
    write_files,
)

pytestmark = pytest.mark.daemon

T = TypeVar("T")
DEFAULT_FOLDER = "default-test"
UNKNOWN_DEVICE = "P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2"
SHARED_FILES = {f"f{i}.txt": b"x" * (i + 1) for i in range(5)}


# --- which endpoints were exercised, per version -------------------------------------------------

EXERCISED: dict[str, set[tuple[str, str]]] = defaultdict(set)
_TEMPLATES = [
    (ep.method, re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(ep.path))), ep.path) for ep in ENDPOINTS
]


def _record(version: str, method: str, path: str) -> None:
    for m, rx, template in _TEMPLATES:
        if m == method and rx.fullmatch(path):
            EXERCISED[version].add((m, template))


def applies(ep: Endpoint, version: str) -> bool:
    v = SyncthingVersion.parse(version)
    return (ep.since is None or v >= ep.since) and (ep.until is None or v < ep.until)


@asynccontextmanager
async def connect(st: SyncthingDaemon, **kwargs: Any) -> AsyncIterator[SyncthingClient]:
    """A client for ``st`` whose requests (answered ones, errors included) are recorded."""
    client = SyncthingClient(st.url, kwargs.pop("api_key", st.api_key), **kwargs)
    core = client._core
    send = core._send

    async def recording_send(method: str, path: str, *args: Any) -> tuple[int, bytes]:
        try:
            result = await send(method, path, *args)
        except SyncthingAPIError:
            _record(st.version, method, path)
            raise
        _record(st.version, method, path)
        return result

    core._send = recording_send  # type: ignore[method-assign]
    try:
        yield client
    finally:
        await client.close()


async def eventually(
    probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], *, timeout: float = 30.0, what: str = ""
) -> T:
    """Poll ``probe()`` until ``ok(result)``; tolerates connection errors (restarts)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = await probe()
            if ok(last):
                return last
        except SyncthingConnectionError as err:
            last = err
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or probe}: last {last!r}")
        await asyncio.sleep(0.1)


def deprecated(coro: Awaitable[T]) -> Awaitable[T]:
    async def run() -> T:
        with pytest.deprecated_call():
            return await coro

    return run()


# --- daemons -----------------------------------------------------------------------------------


@pytest.fixture
async def client(daemon: SyncthingDaemon) -> AsyncIterator[SyncthingClient]:
    async with connect(daemon) as c:
        yield c


@pytest.fixture(scope="module")
def rw(syncthing_version: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncthingDaemon]:
    st = SyncthingDaemon(syncthing_version, base_dir=tmp_path_factory.mktemp(f"rw-{syncthing_version}"))
    try:
        write_files(st.data_dir / "rw", {"a.txt": b"a", "sub/b.txt": b"b"})
        st.add_folder("rw", st.data_dir / "rw")
        st.add_folder("so", st.data_dir / "so", folder_type="sendonly")
        st.add_folder("ro2", st.data_dir / "ro2", folder_type="receiveonly")
        st.start()
        st.wait_folder_idle("rw", local_files=2)
        yield st
    finally:
        st.close()


@pytest.fixture
async def rwc(rw: SyncthingDaemon) -> AsyncIterator[SyncthingClient]:
    async with connect(rw) as c:
        yield c


class Cluster(NamedTuple):
    a: SyncthingDaemon
    b: SyncthingDaemon
    c: SyncthingDaemon


@pytest.fixture(scope="module")
def cluster(syncthing_version: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    base = tmp_path_factory.mktemp(f"cluster-{syncthing_version}")
    a = SyncthingDaemon(
        syncthing_version, base_dir=base, name="A", reconnect_interval_s=5, gui_debugging=True
    )
    b = SyncthingDaemon(syncthing_version, base_dir=base, name="B", reconnect_interval_s=5)
    c = SyncthingDaemon(syncthing_version, base_dir=base, name="C")
    try:
        a.add_device(b.device_id, b.listen_address, name="B")
        b.add_device(a.device_id, a.listen_address, name="A")
        c.add_device(a.device_id, a.listen_address, name="A")
        write_files(b.data_dir / "shared", SHARED_FILES)
        write_files(b.data_dir / "versioned", {"v.txt": b"one\n"})
        for folder in ("shared", "versioned"):
            a.add_folder(folder, a.data_dir / folder, devices=[b.device_id])
            b.add_folder(folder, b.data_dir / folder, devices=[a.device_id])
        b.add_folder("offered", b.data_dir / "offered", devices=[a.device_id])
        a.add_folder("ro", a.data_dir / "ro", folder_type="receiveonly")

        def no_space(root: Any) -> None:
            for elem in root.findall("folder"):
                if elem.get("id") == "shared":
                    mdf = elem.find("minDiskFree")
                    assert mdf is not None
                    mdf.text = "1000"
                    mdf.set("unit", "TB")

        a._edit_config(no_space)
        for st in (a, b, c):
            st.start()
        resp = a.request(
            "PATCH",
            "/rest/config/folders/versioned",
            json_body={"versioning": {"type": "simple", "params": {"keep": "5"}}},
        )
        assert resp.status == 200, resp.text
        wait_connected(a, b)
        write_files(a.data_dir / "ro", {f"local{i}.txt": b"l" for i in range(5)})
        assert a.request("POST", "/rest/db/scan", params={"folder": "ro"}).status == 200
        a.wait_folder_idle("versioned", local_files=1)
        yield Cluster(a, b, c)
    finally:
        # After GET /rest/debug/file Syncthing leaks a database snapshot and its shutdown waits
        # 10 s for it ("Database failed to stop within 10s"): do not wait for that here.
        a.stop(timeout=2)
        close_all([a, b, c])


# --- system -----------------------------------------------------------------------------------


async def test_system_reads(client: SyncthingClient, daemon: SyncthingDaemon) -> None:
    status = await client.system.status()
    assert status.my_id == daemon.device_id
    assert status.start_time.tzinfo is not None and status.uptime >= 0
    version = await client.system.version()
    assert version.version.startswith(f"v{daemon.version}")
    assert str(client.syncthing_version).startswith(f"v{daemon.version}")
    assert (await client.system.ping()).ping == "pong"
    assert (await client.system.ping_post()).ping == "pong"
    conns = await client.system.connections()
    assert conns.total.at.tzinfo is not None
    assert isinstance(await client.system.discovery(), dict)  # discovery is off: empty cache
    assert (await client.config.restart_required()).requires_restart is False


async def test_system_logs(client: SyncthingClient, daemon: SyncthingDaemon) -> None:
    log = await client.system.log()
    assert any(daemon.device_id in m.message for m in log.messages)  # "My ID: ..."
    future = datetime.now(UTC) + timedelta(hours=1)
    assert (await client.system.log(since=future)).messages == []
    text = await client.system.log_text()
    assert daemon.device_id in text
    assert await client.system.log_text(since=future) == ""
    errors = await client.system.errors()
    assert all(e.when.tzinfo is not None for e in errors.errors)


async def test_system_browse(client: SyncthingClient, daemon: SyncthingDaemon) -> None:
    found = await client.system.browse(current=str(daemon.data_dir) + "/")
    assert any(p.rstrip("/").endswith(DEFAULT_FOLDER) for p in found), found
    assert await client.system.browse(current=str(daemon.data_dir / "no-such-dir-")) == []
    roots = await client.system.browse()
    assert roots and all(isinstance(r, str) for r in roots)


async def test_system_paths(client: SyncthingClient, daemon: SyncthingDaemon) -> None:
    if daemon.version == "1.19.2":
        with pytest.raises(UnsupportedError, match=r"1\.21\.0"):
            await client.system.paths()
        return
    paths = await client.system.paths()
    assert paths.config == str(daemon.config_path)


async def test_upgrade_check_reports_unsupported(client: SyncthingClient, daemon: SyncthingDaemon) -> None:
    # Debian builds and --no-upgrade: 503 in 1.19.2, 501 from 1.22.1 on
    with pytest.raises(ServerError) as info:
        await client.system.upgrade_info()
    assert info.value.status == (503 if daemon.version == "1.19.2" else 501)
    assert info.value.body == "upgrade unsupported"


async def test_error_report_and_clear(rwc: SyncthingClient) -> None:
    await rwc.system.report_error(message="test error from syncthing_async")
    errors = await rwc.system.errors()
    assert any(e.message == "test error from syncthing_async" for e in errors.errors)
    await rwc.system.clear_errors()
    assert (await rwc.system.errors()).errors == []


async def test_debug_facilities_v1(rwc: SyncthingClient) -> None:
    facilities = await rwc.system.debug_facilities()
    assert "model" in facilities.facilities and "model" not in facilities.enabled
    await rwc.system.set_debug(enable=["model", "no-such-facility"])
    assert "model" in (await rwc.system.debug_facilities()).enabled
    await rwc.system.set_debug(disable=["model"])
    assert "model" not in (await rwc.system.debug_facilities()).enabled


async def test_log_levels_need_v2(rwc: SyncthingClient) -> None:
    with pytest.raises(UnsupportedError, match=r"2\.0\.0") as info:
        await rwc.system.log_levels()
    assert info.value.since == "2.0.0"
    with pytest.raises(UnsupportedError, match=r"2\.0\.0"):
        await rwc.system.set_log_levels(levels={"model": "DEBUG"})


async def test_pause_and_resume(rwc: SyncthingClient) -> None:
    peer = str(DeviceID.from_bytes(bytes(range(32))))
    await rwc.config.devices.create(device={"deviceID": peer, "name": "pause-peer"})
    try:
        await rwc.system.pause(device=peer.lower().replace("-", ""))
        assert (await rwc.config.devices.get(device_id=peer)).paused is True
        await rwc.system.resume(device=peer)
        assert (await rwc.config.devices.get(device_id=peer)).paused is False
        await rwc.system.pause()
        assert (await rwc.config.devices.get(device_id=peer)).paused is True
        await rwc.system.resume()
        assert (await rwc.config.devices.get(device_id=peer)).paused is False
        with pytest.raises(NotFoundError) as info:
            await rwc.system.pause(device=UNKNOWN_DEVICE)
        assert info.value.body == "not found"
        with pytest.raises(InvalidDeviceIDError):
            await rwc.system.resume(device="not-a-device")
    finally:
        await rwc.config.devices.delete(device_id=peer)


async def test_deprecated_system_config_aliases(rwc: SyncthingClient, rw: SyncthingDaemon) -> None:
    cfg = await deprecated(rwc.system.config())
    assert cfg.version >= 36 and any(f.id == "rw" for f in cfg.folders)
    in_sync = await deprecated(rwc.system.config_in_sync())
    assert in_sync.config_in_sync is True
    assert (await deprecated(rwc.config.in_sync())).config_in_sync is True
    before = rw.get_json("/rest/config")
    await deprecated(rwc.system.set_config(config=cfg))
    assert rw.get_json("/rest/config") == before


# --- config ------------------------------------------------------------------------------------


async def test_config_reads(client: SyncthingClient, daemon: SyncthingDaemon) -> None:
    cfg = await client.config.get()
    assert raw_of(cfg) == daemon.get_json("/rest/config")
    folders = await client.config.folders.list()
    assert [f.id for f in folders] == [DEFAULT_FOLDER]
    folder = await client.config.folders.get(folder_id=DEFAULT_FOLDER)
    assert folder.type == cfg_models.FolderType.SEND_RECEIVE and folder.path.endswith(DEFAULT_FOLDER)
    devices = await client.config.devices.list()
    assert [d.device_id for d in devices] == [daemon.device_id]
    me = await client.config.devices.get(device_id=daemon.device_id.lower())
    assert me.device_id == daemon.device_id
    assert (await client.config.defaults.folder()).id == ""
    assert (await client.config.defaults.device()).device_id == ""
    assert (await client.config.defaults.ignores()).lines == []
    assert (await client.config.options.get()).global_announce_enabled is False
    gui = await client.config.gui.get()
    assert gui.address == f"127.0.0.1:{daemon.gui_port}" and gui.debugging is True
    assert (await client.config.ldap.get()).transport == cfg_models.LdapTransport.PLAIN


async def test_config_whole_round_trip(rwc: SyncthingClient, rw: SyncthingDaemon) -> None:
    before = rw.get_json("/rest/config")
    cfg = await rwc.config.get()
    await rwc.config.put(config=cfg)
    assert rw.get_json("/rest/config") == before  # nothing lost, nothing reset


async def test_folder_round_trip_keeps_keys_the_model_does_not_know(
    rwc: SyncthingClient, rw: SyncthingDaemon
) -> None:
    """A model that knows only a few keys must still send everything else back unchanged."""
    import msgspec

    from syncthing_async import _endpoint_helpers as helpers
    from syncthing_async.models._base import SyncthingModel

    class TinyFolder(SyncthingModel, kw_only=True, dict=True):
        id: str
        label: str = ""

    payload = rw.request("GET", "/rest/config/folders/rw").body
    before = json.loads(payload)
    tiny = helpers.decode_config(msgspec.json.Decoder(TinyFolder), payload, "GET")
    tiny.label = "tiny-renamed"
    await rwc.config.folders.put(folder_id="rw", folder=tiny)  # type: ignore[arg-type]
    after = rw.get_json("/rest/config/folders/rw")
    assert after == {**before, "label": "tiny-renamed"}
    # the real model, modified and written back: same result
    folder = await rwc.config.folders.get(folder_id="rw")
    folder.label = "rw"
    await rwc.config.folders.put(folder_id="rw", folder=folder)
    assert rw.get_json("/rest/config/folders/rw") == before


async def test_patch_sends_only_changed_fields(rwc: SyncthingClient, rw: SyncthingDaemon) -> None:
    sent: list[Any] = []
    request = rwc._core.request

    async def spy(method: str, path: str, **kw: Any) -> Any:
        if method == "PATCH":
            sent.append(kw.get("json"))
        return await request(method, path, **kw)

    rwc._core.request = spy  # type: ignore[method-assign]
    before = rw.get_json("/rest/config/folders/rw")
    folder = await rwc.config.folders.get(folder_id="rw")
    folder.rescan_interval_s = 1234
    folder.versioning.params["cleanoutDays"] = "3"
    await rwc.config.folders.patch(folder_id="rw", changes=folder)
    assert sent[-1] == {"rescanIntervalS": 1234, "versioning": {"params": {"cleanoutDays": "3"}}}
    after = rw.get_json("/rest/config/folders/rw")
    assert after["rescanIntervalS"] == 1234 and after["versioning"]["params"] == {"cleanoutDays": "3"}
    assert {k: v for k, v in after.items() if k not in ("rescanIntervalS", "versioning")} == {
        k: v for k, v in before.items() if k not in ("rescanIntervalS", "versioning")
    }
    # a plain mapping is sent as given
    await rwc.config.folders.patch(folder_id="rw", changes={"rescanIntervalS": before["rescanIntervalS"]})
    restored = await rwc.config.folders.get(folder_id="rw")
    restored.versioning.params.pop("cleanoutDays")
    with pytest.raises(ValueError, match="PUT the whole object"):
        await rwc.config.folders.patch(folder_id="rw", changes=restored)
    await rwc.config.folders.put(folder_id="rw", folder=restored)
    assert rw.get_json("/rest/config/folders/rw") == before


async def test_folder_crud(rwc: SyncthingClient, rw: SyncthingDaemon, tmp_path: Path) -> None:
    fid = "crud one&two?#%"  # quoted as one path segment
    path = tmp_path / "crud"
    await rwc.config.folders.create(folder={"id": fid, "label": "C1", "path": str(path)})
    got = await rwc.config.folders.get(folder_id=fid)
    assert got.id == fid and got.label == "C1" and got.path == str(path)
    assert got.devices[0].device_id == rw.device_id  # Syncthing adds the local device
    got.label = "C1b"
    await rwc.config.folders.put(folder_id=fid, folder=got)
    assert (await rwc.config.folders.get(folder_id=fid)).label == "C1b"
    await rwc.config.folders.patch(folder_id=fid, changes={"paused": True})
    assert (await rwc.config.folders.get(folder_id=fid)).paused is True
    await rwc.config.folders.put_many(
        folders=[{"id": "crud/two", "path": str(tmp_path / "two")}, {**(raw_of(got) or {}), "label": "C1c"}]
    )
    listed = {f.id: f for f in await rwc.config.folders.list()}
    assert listed["crud/two"].path == str(tmp_path / "two")
    assert listed[fid].label == "C1c" and "rw" in listed  # upsert: nothing removed
    # Syncthing decodes the path before routing, so an ID with "/" has no /rest/config/folders/{id}
    # (it answers 404): the client refuses such an id before sending anything.
    with pytest.raises(InvalidArgumentError, match="cannot be used in a URL path"):
        await rwc.config.folders.get(folder_id="crud/two")
    with pytest.raises(NotFoundError, match="404 page not found"):  # what Syncthing itself says
        await rwc._core.request("GET", "/rest/config/folders/crud%2Ftwo")
    cfg = await rwc.config.get()
    cfg.folders = [f for f in cfg.folders if f.id != "crud/two"]
    await rwc.config.put(config=cfg)
    await rwc.config.folders.delete(folder_id=fid)
    await rwc.config.folders.delete(folder_id=fid)  # unknown id: still 200
    assert {f.id for f in await rwc.config.folders.list()} == {"rw", "so", "ro2"}


async def test_device_crud(rwc: SyncthingClient) -> None:
    one = str(DeviceID.from_bytes(b"\x01" * 32))
    two = str(DeviceID.from_bytes(b"\x02" * 32))
    await rwc.config.devices.create(
        device={"deviceID": one, "name": "one", "addresses": ["tcp://127.0.0.1:1"]}
    )
    dev = await rwc.config.devices.get(device_id=one)
    assert dev.name == "one" and dev.addresses == ["tcp://127.0.0.1:1"]
    dev.name = "one-b"
    await rwc.config.devices.put(device_id=one.lower(), device=dev)
    await rwc.config.devices.patch(device_id=one, changes={"introducer": True})
    dev = await rwc.config.devices.get(device_id=one)
    assert (dev.name, dev.introducer) == ("one-b", True)
    dev.max_send_kbps = 77
    await rwc.config.devices.patch(device_id=one, changes=dev)
    assert (await rwc.config.devices.get(device_id=one)).max_send_kbps == 77
    await rwc.config.devices.put_many(devices=[{"deviceID": two, "name": "two"}])
    names = {d.name for d in await rwc.config.devices.list()}
    assert {"one-b", "two"} <= names
    for d in (one, two):
        await rwc.config.devices.delete(device_id=d)
    with pytest.raises(NotFoundError) as info:
        await rwc.config.devices.get(device_id=one)
    assert info.value.body == "No device with given ID"


async def test_defaults_writes(rwc: SyncthingClient, rw: SyncthingDaemon) -> None:
    before = rw.get_json("/rest/config/defaults/folder")
    template = await rwc.config.defaults.folder()
    await rwc.config.defaults.patch_folder(changes={"rescanIntervalS": 1800})
    assert (await rwc.config.defaults.folder()).rescan_interval_s == 1800
    await rwc.config.defaults.put_folder(folder=template)
    assert rw.get_json("/rest/config/defaults/folder") == before

    before_dev = rw.get_json("/rest/config/defaults/device")
    dev_template = await rwc.config.defaults.device()
    dev_template.compression = cfg_models.Compression.ALWAYS
    await rwc.config.defaults.patch_device(changes=dev_template)
    assert (await rwc.config.defaults.device()).compression == cfg_models.Compression.ALWAYS
    await rwc.config.defaults.put_device(device=before_dev)
    assert rw.get_json("/rest/config/defaults/device") == before_dev

    await rwc.config.defaults.set_ignores(lines=["*.tmp", "(?d).DS_Store"])
    assert (await rwc.config.defaults.ignores()).lines == ["*.tmp", "(?d).DS_Store"]
    await rwc.config.defaults.set_ignores(lines=[])
    assert (await rwc.config.defaults.ignores()).lines == []


async def test_options_and_ldap_writes(rwc: SyncthingClient, rw: SyncthingDaemon) -> None:
    before = rw.get_json("/rest/config/options")
    options = await rwc.config.options.get()
    options.max_recv_kbps = 4321
    await rwc.config.options.patch(changes=options)
    assert rw.get_json("/rest/config/options")["maxRecvKbps"] == 4321
    options.max_recv_kbps = before["maxRecvKbps"]
    await rwc.config.options.put(options=options)
    assert rw.get_json("/rest/config/options") == before
    with pytest.raises(BadRequestError, match="cannot unmarshal string") as info:
        await rwc.config.options.patch(changes={"maxSendKbps": "fast"})
    assert "maxSendKbps" in info.value.body

    ldap_before = rw.get_json("/rest/config/ldap")
    await rwc.config.ldap.patch(changes={"address": "ldap.invalid:389", "searchFilter": "(uid=%s)"})
    ldap = await rwc.config.ldap.get()
    assert (ldap.address, ldap.search_filter) == ("ldap.invalid:389", "(uid=%s)")
    await rwc.config.ldap.put(ldap=ldap_before)
    assert rw.get_json("/rest/config/ldap") == ldap_before


async def test_gui_writes_restart_the_listener(rwc: SyncthingClient, rw: SyncthingDaemon) -> None:
    before = rw.get_json("/rest/config/gui")
    gui = await rwc.config.gui.get()
    assert gui.api_key == rw.api_key
    await rwc.config.gui.patch(changes={"theme": "dark"})
    # the GUI listener restarts: wait for it, tolerating refused connections meanwhile
    got = await eventually(rwc.config.gui.get, lambda g: g.theme == "dark", what="GUI theme")
    got.theme = before["theme"]
    await rwc.config.gui.put(gui=got)
    await eventually(rwc.config.gui.get, lambda g: g.theme == before["theme"], what="GUI theme back")
    assert rw.get_json("/rest/config/gui") == before


async def test_config_bad_input(rwc: SyncthingClient) -> None:
    with pytest.raises(NotFoundError) as nf:
        await rwc.config.folders.get(folder_id="nope")
    assert nf.value.body == "No folder with given ID"
    with pytest.raises(NotFoundError, match="No folder with given ID"):
        await rwc.config.folders.patch(folder_id="nope", changes={"label": "x"})
    with pytest.raises(BadRequestError) as bad:
        await rwc.config.put(config={"folders": 5})
    assert "cannot unmarshal number into Go struct field Configuration.folders" in bad.value.body
    with pytest.raises(BadRequestError, match=r"FolderConfiguration\.id"):
        await rwc.config.folders.put_many(folders=[{"id": 5}])
    with pytest.raises(ServerError) as empty:
        await rwc.config.folders.create(folder={"id": ""})
    assert empty.value.body == "folder has empty ID"
    with pytest.raises(InvalidDeviceIDError):
        await rwc.config.devices.get(device_id="NOT-A-DEVICE-ID")
    with pytest.raises(InvalidDeviceIDError):
        await rwc.config.devices.delete(device_id="BAD")


# --- cluster ------------------------------------------------------------------------------------


async def test_pending_devices(cluster: Cluster) -> None:
    a, _b, c = cluster
    async with connect(a) as client:
        pending = await eventually(
            client.cluster.pending_devices, lambda p: c.device_id in p, what="pending C"
        )
        assert pending[c.device_id].name == "C"
        assert pending[c.device_id].address.startswith("127.0.0.1:")
        await client.cluster.dismiss_pending_device(device=c.device_id.lower())
        assert c.device_id not in await client.cluster.pending_devices()
        with pytest.raises(InvalidDeviceIDError):
            await client.cluster.dismiss_pending_device(device="bad")


async def test_pending_folders(cluster: Cluster) -> None:
    a, b, _c = cluster
    async with connect(a) as client:
        pending = await eventually(
            lambda: client.cluster.pending_folders(device=b.device_id), lambda p: "offered" in p, what="offer"
        )
        offer = pending["offered"].offered_by[b.device_id]
        assert offer.label == "offered" and offer.time.tzinfo is not None
        assert "offered" in await client.cluster.pending_folders()
        with pytest.raises(InvalidDeviceIDError):
            await client.cluster.pending_folders(device="bad")
        await client.cluster.dismiss_pending_folder(folder="no-such-offer")  # a no-op, 200
        await client.cluster.dismiss_pending_folder(folder="offered", device=b.device_id)
        assert "offered" not in await client.cluster.pending_folders()


async def test_connected_peer_views(cluster: Cluster) -> None:
    a, b, _c = cluster
    async with connect(a) as client:
        conns = await client.system.connections()
        assert conns.connections[b.device_id].connected is True
        assert conns.connections[b.device_id].address.startswith("127.0.0.1:")
        stats = await client.stats.devices()
        assert b.device_id in stats
        completion = await client.db.completion(folder="shared", device=b.device_id)
        assert completion.completion == 100
        local = await client.db.completion(folder="shared")
        assert local.need_items == len(SHARED_FILES) and local.completion < 100
        assert (await client.db.completion()).global_items >= len(SHARED_FILES)
        peers = await client.debug.peer_completion()
        assert peers[b.device_id] == 100
        with pytest.raises(InvalidDeviceIDError):
            await client.db.completion(folder="shared", device="bad")
        with pytest.raises(NotFoundError, match="folder"):
            await client.db.completion(folder="nope")


# --- db / folder --------------------------------------------------------------------------------


async def test_db_reads(client: SyncthingClient) -> None:
    status = await client.db.status(folder=DEFAULT_FOLDER)
    assert status.state == db_models.FolderState.IDLE
    assert status.local_files == status.global_files == len(DEFAULT_TEST_FILES)
    info = await client.db.file(folder=DEFAULT_FOLDER, file="sub/nested.txt")
    assert info.global_.name == "sub/nested.txt" and info.global_.size == len(
        DEFAULT_TEST_FILES["sub/nested.txt"]
    )
    assert info.local.modified is not None
    ignores = await client.db.ignores(folder=DEFAULT_FOLDER)
    assert ignores.ignore == [] and ignores.error is None
    tree = await client.db.browse(folder=DEFAULT_FOLDER)
    names = {e.name for e in tree}
    assert names == {"hello.txt", "sub", "data.bin"}
    sub = next(e for e in tree if e.name == "sub")
    assert [c.name for c in sub.children] == ["nested.txt"]
    assert {e.name for e in await client.db.browse(folder=DEFAULT_FOLDER, dirs_only=True)} == {"sub"}
    shallow = await client.db.browse(folder=DEFAULT_FOLDER, levels=0)
    assert all(e.children == [] for e in shallow)
    assert [e.name for e in await client.db.browse(folder=DEFAULT_FOLDER, prefix="sub")] == ["nested.txt"]
    need = await client.db.need(folder=DEFAULT_FOLDER, page=1, per_page=10)
    assert (need.progress, need.queued, need.rest, need.perpage) == ([], [], [], 10)
    errors = await client.folder.errors(folder=DEFAULT_FOLDER)
    assert errors.folder == DEFAULT_FOLDER and errors.errors == []


async def test_db_bad_input(client: SyncthingClient, daemon: SyncthingDaemon) -> None:
    with pytest.raises(NotFoundError) as info:
        await client.db.status(folder="nope")
    assert info.value.body == "no such folder"
    with pytest.raises(NotFoundError, match="No such object in the index"):
        await client.db.file(folder=DEFAULT_FOLDER, file="missing.txt")
    with pytest.raises(NotFoundError, match="no such folder"):
        await client.db.need(folder="nope")
    with pytest.raises(NotFoundError, match="no such folder"):
        await client.db.local_changed(folder="nope")
    with pytest.raises(NotFoundError, match="no such folder"):
        await client.db.prioritize(folder="nope", file="x")
    with pytest.raises(ServerError, match="no such folder"):
        await client.db.browse(folder="nope")
    with pytest.raises(ServerError, match="does not exist"):
        await client.db.set_ignores(folder="nope", lines=[])
    with pytest.raises(ServerError, match="no such folder"):
        await client.db.scan(folder="nope")
    with pytest.raises(InvalidDeviceIDError):
        await client.db.remote_need(folder=DEFAULT_FOLDER, device="bad")
    if daemon.version == "1.19.2":
        with pytest.raises(ServerError, match="folder nope does not exist"):
            await client.db.ignores(folder="nope")
    else:  # v1.27.1+: 200 with the error in the body
        assert (await client.db.ignores(folder="nope")).error == "folder nope does not exist"
    with pytest.raises(NotFoundError, match="no such folder"):
        await client.folder.errors(folder="nope")
    with pytest.raises(ServerError, match="no such folder"):
        await client.folder.versions(folder="nope")
    with pytest.raises(ServerError, match="no such folder"):
        await client.folder.restore_versions(folder="nope", versions={})
    with pytest.raises(ServerError, match="folder has no versioner"):
        await client.folder.versions(folder=DEFAULT_FOLDER)


async def test_db_writes(rwc: SyncthingClient, rw: SyncthingDaemon) -> None:
    result = await rwc.db.set_ignores(folder="rw", lines=["*.tmp", "!keep.tmp"])
    assert result.ignore == ["*.tmp", "!keep.tmp"] and result.expanded
    assert (await rwc.db.ignores(folder="rw")).ignore == ["*.tmp", "!keep.tmp"]
    await rwc.db.set_ignores(folder="rw", lines=[])
    write_files(rw.data_dir / "rw", {"sub/new.txt": b"new"})
    await rwc.db.scan(folder="rw", subdirs=["sub"], next_scan_delay=60)
    await eventually(
        lambda: rwc.db.status(folder="rw"), lambda s: s.local_files == 3 and s.state == "idle", what="scan"
    )
    await rwc.db.scan()  # every folder
    await rwc.db.override(folder="so")  # send-only: make the local state global (no-op here)
    assert (await rwc.db.status(folder="so")).state in (
        db_models.FolderState.IDLE,
        db_models.FolderState.SCANNING,
    )


async def test_revert_receive_only_changes(rwc: SyncthingClient, rw: SyncthingDaemon) -> None:
    write_files(rw.data_dir / "ro2", {"local.txt": b"local"})
    await rwc.db.scan(folder="ro2")
    changed = await eventually(
        lambda: rwc.db.local_changed(folder="ro2"), lambda p: len(p.files) == 1, what="local change"
    )
    assert changed.files[0].name == "local.txt"
    await rwc.db.revert(folder="ro2")
    await eventually(lambda: rwc.db.local_changed(folder="ro2"), lambda p: p.files == [], what="revert")


async def test_need_errors_and_paging(cluster: Cluster) -> None:
    a, b, _c = cluster
    async with connect(a) as client:
        errors = await eventually(
            lambda: client.folder.errors(folder="shared"),
            lambda p: len(p.errors) == len(SHARED_FILES),
            timeout=60,
            what="pull errors",
        )
        assert all("insufficient space" in e.error for e in errors.errors)
        assert sorted(e.path for e in errors.errors) == sorted(SHARED_FILES)
        pull = await deprecated(client.folder.pull_errors(folder="shared"))
        assert sorted(e.path for e in pull.errors) == sorted(SHARED_FILES)
        assert sorted(
            [e.path async for e in client.folder.iter_errors(folder="shared", per_page=2)]
        ) == sorted(SHARED_FILES)
        page = await client.folder.errors(folder="shared", page=9, per_page=2)
        assert page.errors == [] and page.page == 9  # past the end: null -> []

        need = await client.db.need(folder="shared")
        needed = [f.name for f in [*need.progress, *need.queued, *need.rest]]
        assert sorted(needed) == sorted(SHARED_FILES)
        iterator = client.db.iter_need(folder="shared", per_page=2)
        pages = [p async for p in iterator.pages()]
        assert [len([*p.progress, *p.queued, *p.rest]) for p in pages] == [2, 2, 1]
        assert sorted([f.name async for f in iterator]) == sorted(SHARED_FILES)
        prio = await client.db.prioritize(folder="shared", file="f3.txt")
        assert "f3.txt" in [f.name for f in [*prio.progress, *prio.queued, *prio.rest]]

        changed = [f.name async for f in client.db.iter_local_changed(folder="ro", per_page=2)]
        assert sorted(changed) == [f"local{i}.txt" for i in range(5)]
        assert len((await client.db.local_changed(folder="ro", page=3, per_page=2)).files) == 1

    async with connect(b) as client_b:
        remote = await client_b.db.remote_need(folder="shared", device=a.device_id)
        assert sorted(f.name for f in remote.files) == sorted(SHARED_FILES)
        names = [
            f.name
            async for f in client_b.db.iter_remote_need(folder="shared", device=a.device_id, per_page=3)
        ]
        assert sorted(names) == sorted(SHARED_FILES)


async def test_versions_and_restore(cluster: Cluster) -> None:
    a, b, _c = cluster
    target = a.data_dir / "versioned" / "v.txt"
    write_files(b.data_dir / "versioned", {"v.txt": b"two, a longer line\n"})
    assert b.request("POST", "/rest/db/scan", params={"folder": "versioned"}).status == 200
    wait_until(lambda: target.read_bytes() == b"two, a longer line\n", timeout=30, message="A pulls v2")
    async with connect(a) as client:
        versions = await eventually(
            lambda: client.folder.versions(folder="versioned"),
            lambda v: "v.txt" in v,
            what="archived version",
        )
        archived = versions["v.txt"][0]
        assert archived.size == len(b"one\n") and archived.version_time.tzinfo is not None
        with pytest.raises(ServerError, match="parsing time"):
            await client.folder.restore_versions(folder="versioned", versions={"v.txt": "not-a-time"})
        # Restoring archives the current file under a name stamped to the second; within the second of
        # the archived version that name collides with it (Syncthing overwrites the version we restore).
        wait = (archived.version_time + timedelta(seconds=1.2) - datetime.now(UTC)).total_seconds()
        await asyncio.sleep(max(0.0, wait))
        failures = await client.folder.restore_versions(
            folder="versioned", versions={"v.txt": archived.version_time}
        )
        assert failures == {}
        wait_until(lambda: target.read_bytes() == b"one\n", timeout=30, message="restored content")


# --- stats / svc / noauth / events -------------------------------------------------------------


async def test_stats(client: SyncthingClient, daemon: SyncthingDaemon) -> None:
    devices = await client.stats.devices()
    assert daemon.device_id in devices
    folders = await client.stats.folders()
    assert folders[DEFAULT_FOLDER].last_scan is not None


async def test_svc(client: SyncthingClient, daemon: SyncthingDaemon) -> None:
    ok = await client.svc.device_id(device_id=daemon.device_id.lower().replace("-", ""))
    assert ok.id == daemon.device_id and ok.valid
    bad = await client.svc.device_id(device_id="NOT-A-DEVICE")  # server-side check: 200 + error
    assert not bad.valid and bad.error is not None and "device ID invalid" in bad.error
    assert isinstance(await client.svc.lang(), list)
    rnd = await client.svc.random_string(length=12)
    assert len(rnd.random) == 12
    assert len((await client.svc.random_string()).random) == 32
    report = await client.svc.report(version=3)
    assert report["version"].startswith(f"v{daemon.version}")
    png = await client.svc.qr(text=daemon.device_id)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    meta = await client.svc.meta()
    assert meta["deviceID"] == daemon.device_id
    if daemon.version == "1.19.2":
        with pytest.raises(UnsupportedError, match=r"1\.24\.0"):
            await client.svc.metrics()
    else:
        metrics = await client.svc.metrics()
        assert "syncthing_" in metrics and "# TYPE" in metrics


async def test_health(client: SyncthingClient, daemon: SyncthingDaemon) -> None:
    assert await client.health() is True  # 1.19.2 falls back to /rest/system/ping
    if daemon.version == "1.19.2":
        with pytest.raises(UnsupportedError, match=r"1\.22\.1") as info:
            await client.noauth.health()
        assert info.value.since == "1.22.1" and info.value.version == "v1.19.2-ds1"
    else:
        assert (await client.noauth.health()).status == "OK"
    async with connect(daemon, api_key=None) as anonymous:
        # without a key the version cannot be probed: the request goes out as it is
        if daemon.version == "1.19.2":
            with pytest.raises(AuthenticationError) as denied:
                await anonymous.noauth.health()
            assert denied.value.reason is AuthReason.BAD_API_KEY  # 403 CSRF Error: no such route
        else:
            assert (await anonymous.noauth.health()).status == "OK"  # no credentials needed


async def test_login_and_logout(
    syncthing_version: str, make_daemon: Callable[..., SyncthingDaemon], daemon: SyncthingDaemon
) -> None:
    if syncthing_version == "1.19.2":
        async with connect(daemon) as c:
            with pytest.raises(UnsupportedError, match=r"1\.26\.0"):
                await c.noauth.login(username="u", password="p")
            with pytest.raises(UnsupportedError, match=r"1\.26\.0"):
                await c.noauth.logout()
        return
    async with connect(daemon) as c:  # routes exist only while GUI auth is on
        with pytest.raises(NotFoundError):
            await c.noauth.login(username="u", password="p")
    st = make_daemon(gui_user="alice", gui_password="s3cret")
    async with connect(st, api_key=None) as c:
        with pytest.raises(AuthenticationError) as info:
            await c.noauth.login(username="alice", password="wrong")
        assert info.value.status == 403 and info.value.body == "Forbidden"
        await c.noauth.login(username="alice", password="s3cret", stay_logged_in=True)
        await c.noauth.logout()


async def test_events_one_poll(client: SyncthingClient) -> None:
    events = await client.events.get(since=0, limit=1)
    assert len(events) == 1 and events[0].id > 0
    disk = await client.events.get(since=0, disk=True, timeout=0)
    assert isinstance(disk, list)


# --- debug -------------------------------------------------------------------------------------


async def test_debug_endpoints(client: SyncthingClient) -> None:
    heap, profile, bundle = await asyncio.gather(  # the bundle takes ~5 s: overlap the others
        client.debug.heap_profile(), client.debug.cpu_profile(duration=1), client.debug.support_bundle()
    )
    assert heap.startswith(b"\x1f\x8b") and profile.startswith(b"\x1f\x8b")  # gzip'd pprof
    assert bundle.startswith(b"PK\x03\x04")  # zip
    metrics = await client.debug.http_metrics()
    assert metrics["/rest/debug/heapprof"].count >= 1 and metrics["/rest/debug/support"].count >= 1
    assert isinstance(await client.debug.peer_completion(), dict)


async def test_debug_file(cluster: Cluster) -> None:
    # on the cluster's A, not the shared daemon: see the note in the cluster fixture
    async with connect(cluster.a) as client:
        info = await client.debug.file(folder="shared", file="f2.txt")
        assert info.global_.name == "f2.txt" and info.global_.size == len(SHARED_FILES["f2.txt"])
        assert info.local.name in ("", "f2.txt")  # needed, not pulled: no local entry yet
        assert info.global_versions  # v1.x adds a dump of the global version list
        assert cluster.b.device_id in [a if isinstance(a, str) else a.id for a in info.availability]
        with pytest.raises(NotFoundError) as missing:
            await client.debug.file(folder="nope", file="x")
        assert missing.value.body == "no such folder"


async def test_debug_needs_debugging_on_v1(rwc: SyncthingClient) -> None:
    for call in (
        rwc.debug.heap_profile,
        rwc.debug.http_metrics,
        rwc.debug.peer_completion,
        lambda: rwc.debug.file(folder="rw", file="a.txt"),
    ):
        with pytest.raises(AuthenticationError) as info:
            await call()
        assert info.value.reason is AuthReason.DEBUGGING_DISABLED
        assert info.value.body == "Debugging disabled"


# --- destructive: throwaway daemons ------------------------------------------------------------


async def _wait_restarted(client: SyncthingClient, old_start: datetime) -> None:
    await eventually(
        client.system.status, lambda s: s.start_time != old_start, timeout=60, what="Syncthing to restart"
    )


async def _reset_paused(c: SyncthingClient, folder: str | None = None) -> Any:
    """reset() once the paused folder's runner has stopped (a moment after the config change)."""
    deadline = time.monotonic() + 15
    while True:
        try:
            return await c.system.reset(folder=folder)
        except ServerError as err:
            if "must be paused" not in err.body or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def test_restart_and_resets(make_daemon: Callable[..., SyncthingDaemon], tmp_path: Path) -> None:
    """restart(), reset(folder=...) and reset() in three throwaway daemons, concurrently."""
    daemons = [make_daemon(start=False, auto_restart=True) for _ in range(3)]
    for st in daemons:
        write_files(st.data_dir / "f", {"x.txt": b"x"})
        st.add_folder("f", st.data_dir / "f")
        st.start()

    async def restart(st: SyncthingDaemon) -> None:
        async with connect(st) as c:
            start = (await c.system.status()).start_time
            assert (await c.system.restart()).ok == "restarting"
            await _wait_restarted(c, start)

    async def reset_folder(st: SyncthingDaemon) -> None:
        async with connect(st) as c:
            with pytest.raises(ServerError) as info:
                await c.system.reset(folder="nope")
            assert info.value.body == "Invalid folder ID"
            with pytest.raises(ServerError, match="folder must be paused"):
                await c.system.reset(folder="f")
            await c.config.folders.patch(folder_id="f", changes={"paused": True})
            start = (await c.system.status()).start_time
            assert (await _reset_paused(c, folder="f")).ok == "resetting folder f"
            await _wait_restarted(c, start)

    async def reset_all(st: SyncthingDaemon) -> None:
        async with connect(st) as c:
            with pytest.raises(ServerError, match="folder must be paused"):
                await c.system.reset()  # every folder must be paused
            await c.config.folders.patch(folder_id="f", changes={"paused": True})
            start = (await c.system.status()).start_time
            assert (await _reset_paused(c)).ok == "resetting database"
            await _wait_restarted(c, start)
            await c.config.folders.patch(folder_id="f", changes={"paused": False})
            status = await eventually(
                lambda: c.db.status(folder="f"), lambda s: s.local_files == 1, what="rescan after reset"
            )
            assert status.local_files == 1

    await asyncio.gather(restart(daemons[0]), reset_folder(daemons[1]), reset_all(daemons[2]))


async def test_upgrade_then_shutdown(make_daemon: Callable[..., SyncthingDaemon]) -> None:
    st = make_daemon()
    async with connect(st) as c:
        # upgrades are compiled out / disabled here: Syncthing refuses and keeps running
        with pytest.raises(ServerError) as info:
            await c.system.upgrade()
        assert info.value.body == "upgrade unsupported"
        assert (await c.system.ping()).ping == "pong"
        assert (await c.system.shutdown()).ok == "shutting down"
        wait_until(lambda: not st.running, timeout=30, message="Syncthing to exit")
        with pytest.raises(SyncthingConnectionError):
            await c.system.ping()


# --- every endpoint of the version was exercised (keep this test last) -------------------------


def test_zz_every_endpoint_was_exercised(syncthing_version: str, request: pytest.FixtureRequest) -> None:
    module = request.module
    defined = {name for name in vars(module) if name.startswith("test_")}
    selected = {item.originalname for item in request.session.items if item.module is module}
    if selected != defined:
        pytest.skip(
            f"only meaningful when the whole module runs (not selected: {sorted(defined - selected)})"
        )
    wanted = {ep.key for ep in ENDPOINTS if applies(ep, syncthing_version)}
    missing = sorted(f"{m} {p}" for m, p in wanted - EXERCISED[syncthing_version])
    assert not missing, f"endpoints never exercised against Syncthing {syncthing_version}: {missing}"
    assert EXERCISED[syncthing_version] <= {ep.key for ep in ENDPOINTS}
