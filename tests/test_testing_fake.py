"""FakeSyncthing follows Syncthing's event endpoint semantics, checked with raw aiohttp.

The semantics: https://docs.syncthing.net/rest/events-get.html and lib/api/api.go (getEvents).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import aiohttp
import msgspec
import pytest
import pytest_asyncio

from syncthing_async import SyncthingClient
from syncthing_async.testing import FakeSyncthing
from syncthing_async.testing.pytest_plugin import fake_syncthing, fake_syncthing_client

__all__ = ["fake_syncthing", "fake_syncthing_client"]  # fixtures used below


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get(
    http: aiohttp.ClientSession, fake: FakeSyncthing, path: str, key: str | None = "", **params: Any
) -> tuple[int, dict[str, str], bytes]:
    headers = {"X-API-Key": fake.api_key or ""} if key == "" else ({"X-API-Key": key} if key else {})
    async with http.get(
        fake.url + path, params={k: str(v) for k, v in params.items()}, headers=headers
    ) as resp:
        return resp.status, dict(resp.headers), await resp.read()


async def events(
    http: aiohttp.ClientSession, fake: FakeSyncthing, path: str = "/rest/events", **params: Any
) -> Any:
    status, headers, body = await get(http, fake, path, **params)
    assert status == 200, body
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    return msgspec.json.decode(body)


async def test_startup_events_and_since_limit(http: aiohttp.ClientSession) -> None:
    async with FakeSyncthing() as fake:
        evs = await events(http, fake, since=0, timeout=0)
        assert [(e["id"], e["type"]) for e in evs] == [(1, "Starting"), (2, "StartupComplete")]
        assert evs[0]["data"] == {"home": fake.home, "myID": fake.device_id}
        assert list(evs[0]) == ["id", "globalID", "time", "type", "data"]
        for i in range(5):
            fake.emit("StateChanged", {"folder": "f", "from": "idle", "to": str(i)})
        newest = await events(http, fake, since=0, limit=2, timeout=0)
        assert [e["id"] for e in newest] == [6, 7]  # limit keeps the newest
        after = await events(http, fake, since=4, timeout=0)
        assert [e["id"] for e in after] == [5, 6, 7]
        # time is RFC 3339 with nanoseconds, as Go writes it
        stamp = evs[0]["time"]
        assert stamp.endswith("Z") and "T" in stamp
        datetime.fromisoformat(stamp[:26].rstrip("Z") + "+00:00")


async def test_headers_flushed_before_wait_and_empty_on_timeout(http: aiohttp.ClientSession) -> None:
    async with FakeSyncthing(timeout_scale=0.2) as fake:
        started = time.monotonic()
        async with http.get(
            fake.url + "/rest/events",
            params={"since": "2", "timeout": "1"},
            headers={"X-API-Key": fake.api_key or ""},
        ) as resp:
            headers_after = time.monotonic() - started
            assert resp.status == 200
            assert resp.headers["X-Syncthing-Version"] == "v1.29.5"
            assert fake.waiting_polls == 1
            body = await resp.read()
        total = time.monotonic() - started
        assert headers_after < 0.15
        assert 0.18 < total < 1.0
        assert body.strip() == b"[]"


async def test_poll_wakes_on_new_event(http: aiohttp.ClientSession) -> None:
    async with FakeSyncthing() as fake:
        task = asyncio.create_task(events(http, fake, since=2, timeout=30))
        await fake.wait_polling()
        fake.emit("DevicePaused", {"device": fake.device_id})
        evs = await asyncio.wait_for(task, 2)
        assert [(e["id"], e["type"]) for e in evs] == [(3, "DevicePaused")]


async def test_since_ahead_blocks_until_timeout(http: aiohttp.ClientSession) -> None:
    async with FakeSyncthing(timeout_scale=0.2) as fake:
        task = asyncio.create_task(events(http, fake, since=10, timeout=1))
        await fake.wait_polling()
        fake.emit("DevicePaused", {"device": "x"})  # id 3: still <= since, the wait goes on
        await asyncio.sleep(0.05)
        assert not task.done()
        assert await asyncio.wait_for(task, 2) == []


async def test_subscriptions_per_mask(http: aiohttp.ClientSession) -> None:
    async with FakeSyncthing() as fake:
        fake.emit("LocalChangeDetected", {"folder": "f", "path": "a", "action": "modified", "type": "file"})
        # a new mask has no history and its own ids from 1
        assert await events(http, fake, events="StateChanged,ConfigSaved", since=0, timeout=0) == []
        fake.emit("StateChanged", {"folder": "f", "from": "idle", "to": "scanning"})
        fake.emit("DevicePaused", {"device": "x"})
        custom = await events(http, fake, events="ConfigSaved, StateChanged", since=0, timeout=0)
        assert [(e["id"], e["type"]) for e in custom] == [(1, "StateChanged")]
        default = await events(http, fake, since=0, timeout=0)
        assert [e["id"] for e in default] == [1, 2, 3, 4]  # disk type not in the default stream
        # the disk mask by name is the disk subscription: same ids as /rest/events/disk
        disk = await events(http, fake, "/rest/events/disk", since=0, timeout=0, events="StateChanged")
        by_name = await events(
            http, fake, events="LocalChangeDetected,RemoteChangeDetected", since=0, timeout=0
        )
        assert disk == by_name
        assert [(e["id"], e["globalID"], e["type"]) for e in disk] == [(1, 3, "LocalChangeDetected")]
        # all-unknown names: a mask that never receives anything
        assert await events(http, fake, events="Bogus", since=0, timeout=0) == []
        fake.emit("StateChanged", {"folder": "f", "from": "scanning", "to": "idle"})
        assert await events(http, fake, events="Bogus", since=0, timeout=0) == []


async def test_ring_buffer_and_negative_since(http: aiohttp.ClientSession) -> None:
    async with FakeSyncthing(pretty=False) as fake:
        padded = await events(http, fake, since=-5, timeout=0)
        assert len(padded) == 1000
        assert padded[0] == {
            "id": 0,
            "globalID": 0,
            "time": "0001-01-01T00:00:00Z",
            "type": "Unknown",
            "data": None,
        }
        assert [e["id"] for e in padded[-2:]] == [1, 2]
        for i in range(1003):
            fake.emit("FolderScanProgress", {"folder": "f", "current": i, "total": 2000, "rate": 1.0})
        evs = await events(http, fake, since=0, timeout=0)
        assert len(evs) == 1000
        assert [evs[0]["id"], evs[-1]["id"]] == [6, 1005]


async def test_drop_makes_a_gap(http: aiohttp.ClientSession) -> None:
    async with FakeSyncthing() as fake:
        fake.drop(3)
        gid = fake.emit("DevicePaused", {"device": "x"})
        evs = await events(http, fake, since=2, timeout=0)
        assert [e["id"] for e in evs] == [6]
        assert evs[0]["globalID"] == gid == 6
        assert fake.last_id() == 6


async def test_restart_resets_ids_start_time_and_cuts_polls(http: aiohttp.ClientSession) -> None:
    async with FakeSyncthing() as fake:
        status = msgspec.json.decode((await get(http, fake, "/rest/system/status"))[2])
        assert status["myID"] == fake.device_id
        old_start = status["startTime"]
        fake.emit("DevicePaused", {"device": "x"})
        poll = asyncio.create_task(events(http, fake, since=3, timeout=30))
        await fake.wait_polling()
        fake.restart()
        with pytest.raises(aiohttp.ClientError):
            await asyncio.wait_for(poll, 2)
        status = msgspec.json.decode((await get(http, fake, "/rest/system/status"))[2])
        assert status["startTime"] > old_start
        assert status["uptime"] == 0
        evs = await events(http, fake, since=0, timeout=0)
        assert [(e["id"], e["globalID"], e["type"]) for e in evs] == [
            (1, 1, "Starting"),
            (2, 2, "StartupComplete"),
        ]
        assert fake.restarts == 1


async def test_auth_and_routing(http: aiohttp.ClientSession) -> None:
    async with FakeSyncthing(version="v1.19.2-ds1") as fake:
        status, headers, body = await get(http, fake, "/rest/events", key=None, since=0, timeout=0)
        assert (status, body) == (403, b"CSRF Error\n")
        assert headers["X-Syncthing-Version"] == "v1.19.2-ds1"
        assert headers["Content-Type"] == "text/plain; charset=utf-8"
        assert (await get(http, fake, "/rest/system/ping", key="wrong"))[0] == 403
        async with http.get(
            fake.url + "/rest/system/ping", headers={"Authorization": f"Bearer {fake.api_key}"}
        ) as resp:
            assert resp.status == 403  # 1.19.2 has no Bearer
        assert (await get(http, fake, "/rest/noauth/health"))[0] == 404
        assert (await get(http, fake, "/rest/nope"))[:3:2] == (404, b"404 page not found\n")
        async with http.post(fake.url + "/rest/events", headers={"X-API-Key": fake.api_key or ""}) as resp:
            assert resp.status == 405
            assert resp.headers["Allow"] == "GET, OPTIONS"
        version = msgspec.json.decode((await get(http, fake, "/rest/system/version"))[2])
        assert version["version"] == "v1.19.2-ds1" and "container" not in version
        assert msgspec.json.decode((await get(http, fake, "/rest/system/ping"))[2]) == {"ping": "pong"}
    async with FakeSyncthing(version="v1.29.5") as fake:
        async with http.get(
            fake.url + "/rest/system/ping", headers={"Authorization": f"Bearer {fake.api_key}"}
        ) as resp:
            assert resp.status == 200
        assert msgspec.json.decode((await get(http, fake, "/rest/noauth/health", key=None))[2]) == {
            "status": "OK"
        }
        old_key = fake.api_key
        fake.set_api_key("new-key")
        assert (await get(http, fake, "/rest/system/ping", key=old_key))[0] == 403
        assert (await get(http, fake, "/rest/system/ping", key="new-key"))[0] == 200


async def test_invalid_params_follow_atoi(http: aiohttp.ClientSession) -> None:
    async with FakeSyncthing(timeout_scale=0.005) as fake:
        started = time.monotonic()
        # invalid timeout -> 60 s (scaled to 0.3 s here); invalid since -> 0; invalid limit -> none
        assert len(await events(http, fake, since="x", limit="-1", timeout="0.5")) == 2
        assert time.monotonic() - started < 0.2
        started = time.monotonic()
        assert await events(http, fake, since=2, timeout="abc") == []
        assert 0.25 < time.monotonic() - started < 2


async def test_faults(http: aiohttp.ClientSession) -> None:
    async with FakeSyncthing() as fake:
        fake.fail_next(500, count=2, path="/rest/events")
        assert (await get(http, fake, "/rest/system/ping"))[0] == 200  # other paths unaffected
        assert (await get(http, fake, "/rest/events", since=0, timeout=0))[:3:2] == (
            500,
            b"Internal Server Error\n",
        )
        assert (await get(http, fake, "/rest/events", since=0, timeout=0))[0] == 500
        assert (await get(http, fake, "/rest/events", since=0, timeout=0))[0] == 200

        fake.malformed_next()
        status, _, body = await get(http, fake, "/rest/events", since=0, timeout=0)
        assert status == 200
        with pytest.raises(msgspec.DecodeError):
            msgspec.json.decode(body)

        fake.reset_next()
        with pytest.raises(aiohttp.ClientPayloadError):
            await get(http, fake, "/rest/events", since=0, timeout=0)

        fake.stall()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(get(http, fake, "/rest/system/ping"), 0.3)
        assert (await get(http, fake, "/rest/system/ping"))[0] == 200  # only one stalled

        poll = asyncio.create_task(get(http, fake, "/rest/events", since=2, timeout=30))
        await fake.wait_polling()
        assert fake.sever() >= 1
        with pytest.raises(aiohttp.ClientError):
            await asyncio.wait_for(poll, 2)
        assert fake.waiting_polls == 0


async def test_canned_routes_and_recorded_requests(http: aiohttp.ClientSession) -> None:
    async with FakeSyncthing() as fake:
        fake.respond("GET", "/rest/db/status", {"state": "idle"})
        fake.respond("POST", "/rest/db/scan", "no such folder", status=500)
        assert msgspec.json.decode((await get(http, fake, "/rest/db/status"))[2]) == {"state": "idle"}
        async with http.post(fake.url + "/rest/db/scan", headers={"X-API-Key": fake.api_key or ""}) as resp:
            assert (resp.status, await resp.text()) == (500, "no such folder")
        await events(http, fake, since=0, timeout=0, limit=1)
        assert fake.events_requests[-1].query == {"since": "0", "timeout": "0", "limit": "1"}
        assert all("X-API-Key" not in str(r) for r in fake.requests)


async def test_pytest_plugin_fixtures(
    fake_syncthing: FakeSyncthing, fake_syncthing_client: SyncthingClient
) -> None:
    assert fake_syncthing_client.url == fake_syncthing.url
    assert await fake_syncthing_client.health()
    assert str(fake_syncthing_client.syncthing_version) == fake_syncthing.version
