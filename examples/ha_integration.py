"""A Home Assistant-style integration fed by :class:`~syncthing_async.mirror.StateMirror`.

It has the shapes of a real integration without importing Home Assistant: a config entry,
``async_setup_entry``/``async_unload_entry``, a push coordinator (no ``update_interval``: the
mirror's events replace polling the expensive ``/rest/db/status``) and entities that read the
coordinator's mirror. The host's ``aiohttp.ClientSession`` is injected (in Home Assistant:
``async_get_clientsession(hass)``) and never closed by the integration; without one the
integration opens its own and closes it on unload. Unloading leaves no task behind.

Run it stand-alone to watch the entities of a Syncthing instance::

    SYNCTHING_API_KEY=... python examples/ha_integration.py --url http://127.0.0.1:8384 --duration 30
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from syncthing_async import AuthenticationError, SyncthingClient, SyncthingError
from syncthing_async.mirror import MirrorChange, StateMirror

DOMAIN = "syncthing"


# ------------------------------------------------------------------ stand-ins for the host


class ConfigEntryNotReady(Exception):  # noqa: N818 - Home Assistant's name
    """Setup failed for a reason that may pass (the host retries later)."""


class ConfigEntryAuthFailed(Exception):  # noqa: N818 - Home Assistant's name
    """The API key was refused (the host starts a re-auth flow)."""


@dataclass
class ConfigEntry:
    """What the user configured."""

    entry_id: str
    url: str
    api_key: str
    fingerprint: str | None = None
    runtime_data: SyncthingRuntime | None = None


@dataclass
class Host:
    """The parts of ``hass`` an integration touches: a shared session and an entity registry."""

    session: aiohttp.ClientSession | None = None
    entities: dict[str, Entity] = field(default_factory=dict)
    state_log: list[tuple[str, Any]] = field(default_factory=list)
    on_state: Callable[[Entity], None] | None = None

    def add_entities(self, entities: list[Entity]) -> None:
        for entity in entities:
            self.entities[entity.unique_id] = entity
            entity.async_added_to_hass(self)

    def remove_entity(self, entity: Entity) -> None:
        entity.async_will_remove_from_hass()
        self.entities.pop(entity.unique_id, None)

    def write_state(self, entity: Entity) -> None:
        self.state_log.append((entity.unique_id, entity.state))
        if self.on_state is not None:
            self.on_state(entity)


# ------------------------------------------------------------------ the integration


class SyncthingCoordinator:
    """Push coordinator: the mirror tells it what changed; entities listen for their own id."""

    def __init__(self, client: SyncthingClient) -> None:
        self.mirror = StateMirror(client)
        self._listeners: dict[int, tuple[Callable[[], None], Callable[[MirrorChange], bool]]] = {}
        self._next = 0
        self._unsubscribe = self.mirror.subscribe(self._on_change)

    async def async_config_entry_first_refresh(self) -> None:
        """Start the mirror; map errors the way the host expects."""
        try:
            await self.mirror.start()
        except AuthenticationError as err:
            raise ConfigEntryAuthFailed(str(err)) from err
        except SyncthingError as err:
            raise ConfigEntryNotReady(str(err)) from err

    def async_add_listener(
        self, update: Callable[[], None], wants: Callable[[MirrorChange], bool]
    ) -> Callable[[], None]:
        """Call ``update()`` for each change ``wants`` accepts; returns the remover."""
        key = self._next
        self._next += 1
        self._listeners[key] = (update, wants)
        return lambda: self._listeners.pop(key, None) and None

    def _on_change(self, change: MirrorChange) -> None:
        broadcast = change.kind in ("resync", "connection")
        for update, wants in list(self._listeners.values()):
            if broadcast or wants(change):
                update()

    async def async_shutdown(self) -> None:
        self._unsubscribe()
        await self.mirror.stop()


class Entity:
    """Base entity: push-updated (``should_poll`` False), available while the mirror is."""

    should_poll = False

    def __init__(self, coordinator: SyncthingCoordinator, unique_id: str, name: str) -> None:
        self.coordinator = coordinator
        self.unique_id = unique_id
        self.name = name
        self.host: Host | None = None
        self._remove: Callable[[], None] | None = None

    @property
    def mirror(self) -> StateMirror:
        return self.coordinator.mirror

    @property
    def available(self) -> bool:
        return self.mirror.available

    @property
    def state(self) -> Any:
        raise NotImplementedError

    def wants(self, change: MirrorChange) -> bool:
        return False

    def async_added_to_hass(self, host: Host) -> None:
        self.host = host
        self._remove = self.coordinator.async_add_listener(self._handle_update, self.wants)

    def async_will_remove_from_hass(self) -> None:
        if self._remove is not None:
            self._remove()
            self._remove = None
        self.host = None

    def _handle_update(self) -> None:
        if self.host is not None:
            self.host.write_state(self)


class FolderStateSensor(Entity):
    """``idle``, ``scanning``, ``syncing``... plus counters as attributes."""

    def __init__(self, coordinator: SyncthingCoordinator, folder: str) -> None:
        super().__init__(coordinator, f"{DOMAIN}_{folder}_state", f"Folder {folder} state")
        self.folder = folder

    def wants(self, change: MirrorChange) -> bool:
        return change.kind == "folder" and change.id == self.folder

    @property
    def state(self) -> Any:
        view = self.mirror.folders.get(self.folder)
        return None if view is None else view.state.value

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        view = self.mirror.folders.get(self.folder)
        if view is None:
            return {}
        return {
            "need_bytes": view.need_bytes,
            "need_items": view.need_items,
            "errors": view.errors,
            "completion": {dev[:7]: c.completion for dev, c in view.completion.items()},
        }


class FolderInSyncBinarySensor(Entity):
    def __init__(self, coordinator: SyncthingCoordinator, folder: str) -> None:
        super().__init__(coordinator, f"{DOMAIN}_{folder}_in_sync", f"Folder {folder} in sync")
        self.folder = folder

    def wants(self, change: MirrorChange) -> bool:
        return change.kind == "folder" and change.id == self.folder

    @property
    def state(self) -> Any:
        if self.folder not in self.mirror.folders:
            return None
        return "on" if self.mirror.is_in_sync(self.folder) else "off"


class DeviceConnectedBinarySensor(Entity):
    def __init__(self, coordinator: SyncthingCoordinator, device: str) -> None:
        name = coordinator.mirror.devices[device].name or device[:7]
        super().__init__(coordinator, f"{DOMAIN}_{device}_connected", f"Device {name} connected")
        self.device = device

    def wants(self, change: MirrorChange) -> bool:
        return change.kind == "device" and change.id == self.device

    @property
    def state(self) -> Any:
        view = self.mirror.devices.get(self.device)
        return None if view is None else ("on" if view.connected else "off")


class VersionSensor(Entity):
    def __init__(self, coordinator: SyncthingCoordinator) -> None:
        super().__init__(coordinator, f"{DOMAIN}_version", "Syncthing version")

    def wants(self, change: MirrorChange) -> bool:
        return change.kind == "system"

    @property
    def state(self) -> Any:
        system = self.mirror.system
        return None if system is None else system.version


@dataclass
class SyncthingRuntime:
    """What ``entry.runtime_data`` holds between setup and unload."""

    client: SyncthingClient
    coordinator: SyncthingCoordinator
    entities: list[Entity]
    owned_session: aiohttp.ClientSession | None
    remove_new_entity_listener: Callable[[], None]


def _entities_for(coordinator: SyncthingCoordinator, known: set[str]) -> list[Entity]:
    """Entities for folders/devices that have none yet (new ones appear at runtime too)."""
    mirror = coordinator.mirror
    new: list[Entity] = []
    if "version" not in known:
        known.add("version")
        new.append(VersionSensor(coordinator))
    for folder in mirror.folders:
        if f"folder:{folder}" not in known:
            known.add(f"folder:{folder}")
            new += [FolderStateSensor(coordinator, folder), FolderInSyncBinarySensor(coordinator, folder)]
    for device in mirror.devices:
        if f"device:{device}" not in known:
            known.add(f"device:{device}")
            new.append(DeviceConnectedBinarySensor(coordinator, device))
    return new


async def async_setup_entry(host: Host, entry: ConfigEntry) -> bool:
    """Connect, start the mirror, create the entities."""
    owned = None
    session = host.session
    if session is None:
        owned = session = aiohttp.ClientSession()
    client = SyncthingClient(entry.url, entry.api_key, session=session, fingerprint=entry.fingerprint)
    coordinator = SyncthingCoordinator(client)
    try:
        await coordinator.async_config_entry_first_refresh()
    except BaseException:
        await coordinator.async_shutdown()
        await client.close()
        if owned is not None:
            await owned.close()
        raise
    known: set[str] = set()
    entities = _entities_for(coordinator, known)
    host.add_entities(entities)

    def add_new(change: MirrorChange) -> None:
        if change.kind in ("folder", "device", "resync"):
            fresh = _entities_for(coordinator, known)
            if fresh:
                entities.extend(fresh)
                host.add_entities(fresh)

    entry.runtime_data = SyncthingRuntime(
        client, coordinator, entities, owned, coordinator.mirror.subscribe(add_new)
    )
    return True


async def async_unload_entry(host: Host, entry: ConfigEntry) -> bool:
    """Remove the entities, stop the mirror, close the client (and only an owned session)."""
    runtime = entry.runtime_data
    if runtime is None:
        return False
    runtime.remove_new_entity_listener()
    for entity in runtime.entities:
        host.remove_entity(entity)
    await runtime.coordinator.async_shutdown()
    await runtime.client.close()  # a borrowed (host) session stays open
    if runtime.owned_session is not None:
        await runtime.owned_session.close()
    entry.runtime_data = None
    return True


# ------------------------------------------------------------------ stand-alone demo


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run a Home Assistant-style Syncthing integration and print its entity states."
    )
    parser.add_argument("--url", default=os.environ.get("SYNCTHING_URL", "http://127.0.0.1:8384"))
    parser.add_argument(
        "--api-key", default=None, help="API key (default: the SYNCTHING_API_KEY environment variable)"
    )
    parser.add_argument("--duration", type=float, default=None, help="seconds to run (default: until Ctrl-C)")
    args = parser.parse_args(argv)
    api_key = args.api_key or os.environ.get("SYNCTHING_API_KEY")

    def show(entity: Entity) -> None:
        print(f"{entity.name}: {entity.state}", flush=True)

    async with aiohttp.ClientSession() as host_session:  # the host's own session, injected
        host = Host(session=host_session, on_state=show)
        entry = ConfigEntry(entry_id="demo", url=args.url, api_key=api_key or "")
        try:
            await async_setup_entry(host, entry)
        except (ConfigEntryAuthFailed, ConfigEntryNotReady) as err:
            print(f"setup failed: {type(err).__name__}: {err}", file=sys.stderr)
            return 1
        for entity in host.entities.values():
            show(entity)
        print("ready", flush=True)
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(args.duration if args.duration is not None else float("inf"))
        finally:
            await async_unload_entry(host, entry)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(main()))
