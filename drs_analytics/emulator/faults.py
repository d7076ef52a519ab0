"""Fault injection for the emulator: rates and a seeded, thread-safe dice.

All rates default to 0, so faults are off unless asked for. Each request
draws one number per fault kind, always in the same order, from one seeded
``random.Random`` under a lock: a seeded run injects the same faults given the
same request order.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from dataclasses import dataclass, fields

__all__ = ["FAULT_KINDS", "FaultDecision", "FaultInjector", "Faults"]

logger = logging.getLogger(__name__)

#: Fault kinds that replace the answer, in the order they are drawn (first hit wins).
FAULT_KINDS: tuple[str, ...] = ("reset", "error_500", "throttle_429", "malformed")
_RATES = (*FAULT_KINDS, "slow")


@dataclass(frozen=True)
class Faults:
    """Fault rates, each the probability (0..1) that a request gets that fault.

    Parameters
    ----------
    error_500 : float
        Answer HTTP 500 with a DRS error body.
    throttle_429 : float
        Answer HTTP 429 ``APIGW.0308`` with a ``Retry-After`` header.
    retry_after : int
        Seconds sent in ``Retry-After`` (the header itself is an assumption:
        no Huawei doc mentions it).
    reset : float
        Close the connection abruptly (TCP RST) instead of answering.
    malformed : float
        Answer 200 with a truncated, invalid JSON body.
    slow : float
        Answer ``slow_seconds`` late (on top of any other fault or latency).
    slow_seconds : float
        Delay of a slow answer.

    Raises
    ------
    ValueError
        If a rate is outside 0..1, or a delay is negative, naming the field.
    """

    error_500: float = 0.0
    throttle_429: float = 0.0
    retry_after: int = 1
    reset: float = 0.0
    malformed: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 1.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"Faults.{f.name} must be a finite number, got {value!r}")
            if f.name in _RATES and not 0 <= value <= 1:
                raise ValueError(f"Faults.{f.name} is a rate and must be between 0 and 1, got {value!r}")
            if value < 0:
                raise ValueError(f"Faults.{f.name} must be >= 0 seconds, got {value!r}")
        if not isinstance(self.retry_after, int):
            raise ValueError(f"Faults.retry_after must be whole seconds, got {self.retry_after!r}")

    @property
    def enabled(self) -> bool:
        """Whether any fault rate is above zero."""
        return any(getattr(self, name) > 0 for name in _RATES)


@dataclass(frozen=True)
class FaultDecision:
    """What to do to one request: an answer-replacing ``kind`` (or None) and a delay."""

    kind: str | None = None
    delay: float = 0.0


class FaultInjector:
    """Draw :class:`FaultDecision` objects from seeded dice, one per request.

    Parameters
    ----------
    faults : Faults or None
        The rates; ``None`` means no faults (and no draws).
    seed : int
        Seed of the dice.
    """

    def __init__(self, faults: Faults | None, seed: int = 0) -> None:
        self.faults = faults or Faults()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def draw(self) -> FaultDecision:
        """Decide the faults of the next request.

        Returns
        -------
        FaultDecision
            ``kind`` is the first of :data:`FAULT_KINDS` whose draw hit, and
            ``delay`` is ``slow_seconds`` when the slow draw hit.
        """
        f = self.faults
        if not f.enabled:
            return FaultDecision()
        with self._lock:
            draws = [self._rng.random() for _ in _RATES]
        kind = next((k for k, u in zip(FAULT_KINDS, draws[:-1], strict=True) if u < getattr(f, k)), None)
        delay = f.slow_seconds if draws[-1] < f.slow else 0.0
        if kind or delay:
            logger.debug("injecting fault %s, delay %.3f s", kind, delay)
        return FaultDecision(kind, delay)
