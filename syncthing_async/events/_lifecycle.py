"""The lifecycle shared by every long-running object (the event listener, the state mirror).

Three ways to run one, all with the same errors:

* ``await obj.run()`` in a task the host owns (Home Assistant's
  ``entry.async_create_background_task(hass, obj.run(), name)``): it reaches Syncthing first and
  **raises that first failure** (a wrong key is an AuthenticationError), then works until the
  task is cancelled, leaving no task, socket or timer behind;
* ``async with obj:`` or ``await obj.start()`` / ``await obj.stop()``: the same ``run()`` in a
  task the object owns; ``start()`` returns once Syncthing was reached and raises the same first
  failure;
* ``await obj.wait_connected(timeout=...)`` returns once a poll is established.

Connection state is observable one way: :attr:`state`, ``on_state(callback) -> unsubscribe``,
:attr:`last_error` and :attr:`auth_reason`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, ClassVar

import anyio
from anyio.abc import TaskStatus

from .._aio import AsyncContext, Callbacks
from .._exceptions import AuthenticationError, AuthReason, SyncthingClosedError, SyncthingTimeoutError
from ._engine import StateCallback, describe_failure
from ._state import ConnectionState

__all__ = ["Service"]

_LOG = logging.getLogger("syncthing_async.events")


def _sole(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one exception inside nested task-group wrappers (callers catch AuthenticationError,
    not a group); a group of several stays a group."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        if isinstance(exc, BaseExceptionGroup):
            for inner in exc.exceptions:
                walk(inner)
        else:
            leaves.append(exc)

    walk(group)
    return leaves[0] if len(leaves) == 1 else group


class _Started:
    """A TaskStatus that records ``started()`` in an event (for :meth:`Service.start`)."""

    def __init__(self) -> None:
        self.event = anyio.Event()

    def started(self, value: Any = None) -> None:
        self.event.set()


class Service(AsyncContext):
    """Base of the listener and the mirror: ``run()``, ``start()``/``stop()``, ``async with``,
    one connection state. Subclasses implement :meth:`_serve`."""

    _task_name: ClassVar[str] = "syncthing-async"

    def __init__(self) -> None:
        self._state = ConnectionState.DISCONNECTED
        self._state_callbacks: Callbacks[StateCallback] = Callbacks("state")
        self._connected = anyio.Event()
        self.last_error: BaseException | None = None
        """The failure behind the current state (None while things work)."""
        self._scope: anyio.CancelScope | None = None
        self._stopped: anyio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    # -- what subclasses provide ---------------------------------------------------------
    async def _serve(self, task_status: TaskStatus[None]) -> None:
        """Reach Syncthing (raising the first failure), call ``task_status.started()``, then work
        until cancelled."""
        raise NotImplementedError

    def _on_stopped(self) -> None:
        """Clean up after :meth:`_serve` ended (any way); the state is set afterwards."""

    # -- state ---------------------------------------------------------------------------
    @property
    def state(self) -> ConnectionState:
        """Connection state (see :class:`ConnectionState`)."""
        return self._state

    @property
    def auth_reason(self) -> AuthReason | None:
        """Why Syncthing refused the key, while the state is AUTH_FAILED."""
        err = self.last_error
        if self._state is ConnectionState.AUTH_FAILED and isinstance(err, AuthenticationError):
            return err.reason
        return None

    def on_state(self, callback: StateCallback) -> Callable[[], None]:
        """Call ``callback(state)`` on every state change; returns an unsubscribe callable."""
        return self._state_callbacks.add(callback)

    def _set_state(self, state: ConnectionState, error: BaseException | None = None) -> None:
        if state is ConnectionState.CONNECTED:
            self.last_error = None
        elif error is not None:
            self.last_error = error
        if state is self._state:
            return
        self._state = state
        if state is ConnectionState.CONNECTED:
            self._connected.set()
        elif self._connected.is_set():
            self._connected = anyio.Event()
        _LOG.debug("%s state: %s", type(self).__name__, state)
        self._state_callbacks.call(state)

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Return once connected (a poll is established); SyncthingTimeoutError after ``timeout``
        seconds, SyncthingClosedError once the client was closed."""
        with anyio.move_on_after(timeout):
            while self._state is not ConnectionState.CONNECTED:
                if self._state is ConnectionState.CLOSED:
                    raise SyncthingClosedError("the Syncthing client was closed")
                with anyio.move_on_after(0.25):  # re-check CLOSED now and then
                    await self._connected.wait()
            return
        why = f" (last failure: {describe_failure(self.last_error)})" if self.last_error else ""
        raise SyncthingTimeoutError(f"not connected to Syncthing within {timeout:g} s{why}")

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True between start and stop."""
        return self._scope is not None

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run in the calling task until cancelled or :meth:`stop`; raises the first failure to
        reach Syncthing (``await tg.start(obj.run)`` waits until it was reached)."""
        if self._scope is not None:
            raise RuntimeError(f"the {type(self).__name__} is already running")
        self._stopped = stopped = anyio.Event()
        try:
            with anyio.CancelScope() as scope:
                self._scope = scope
                try:
                    await self._serve(task_status)
                except BaseExceptionGroup as group:
                    raise _sole(group) from None
        finally:
            self._scope = None
            try:
                self._on_stopped()
            finally:
                if self._state is not ConnectionState.CLOSED:
                    self._set_state(ConnectionState.DISCONNECTED)
                stopped.set()

    async def start(self) -> None:
        """Run in a task of the object's own; return once Syncthing was reached (raising the first
        failure, like :meth:`run`). No-op while running."""
        if self._task is not None and not self._task.done():
            return
        if self._scope is not None:
            raise RuntimeError(f"the {type(self).__name__} is already running via run()")
        status = _Started()
        failure: list[BaseException] = []

        async def host() -> None:
            try:
                await self.run(task_status=status)
            except Exception as err:
                failure.append(err)
            finally:
                status.event.set()

        # The one task the library detaches, and only here: it runs run(), stop() ends and awaits it.
        task = self._task = asyncio.get_running_loop().create_task(host(), name=self._task_name)
        try:
            await status.event.wait()
        except BaseException:
            await self.stop()
            raise
        if failure:
            self._task = None
            await asyncio.wait({task})
            raise failure[0]

    async def stop(self) -> None:
        """Stop and wait until nothing is left (idempotent); also ends a host's ``run()``."""
        scope, stopped, task = self._scope, self._stopped, self._task
        self._task = None
        if scope is not None:
            scope.cancel()
        if task is not None:
            await asyncio.wait({task})
        elif stopped is not None:
            await stopped.wait()

    async def _enter(self) -> None:
        await self.start()

    async def _exit(self) -> None:
        await self.stop()
