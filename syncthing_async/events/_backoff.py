"""Reconnect backoff: capped exponential with full jitter, with injectable sleep and randomness."""

from __future__ import annotations

import random as _random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio

__all__ = ["Backoff"]


@dataclass(frozen=True)
class Backoff:
    """Delay before retry ``attempt`` (0-based): ``random() * min(cap, initial * factor**attempt)``.

    "Full jitter" spreads reconnecting clients out. ``sleep`` and ``random`` can be replaced
    (tests pass a recorder and a constant) so no real time passes. A Backoff holds no state;
    each stream counts its own attempts and starts again at 0 after a success.
    """

    initial: float = 1.0
    factor: float = 2.0
    cap: float = 60.0
    sleep: Callable[[float], Awaitable[None]] = field(default=anyio.sleep, compare=False)
    random: Callable[[], float] = field(default=_random.random, compare=False)

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.factor < 1 or self.cap < self.initial:
            raise ValueError("Backoff needs initial > 0, factor >= 1 and cap >= initial")

    def ceiling(self, attempt: int) -> float:
        """The upper bound of the delay before retry ``attempt``."""
        if attempt >= 1024:
            return self.cap
        try:
            return min(self.cap, self.initial * self.factor**attempt)
        except OverflowError:
            return self.cap

    def delay(self, attempt: int) -> float:
        """A jittered delay for retry ``attempt``: uniform in ``[0, ceiling(attempt)]``."""
        return self.random() * self.ceiling(attempt)
