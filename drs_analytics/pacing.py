"""Fleet-level pacing: a request rate shared by every thread of a client, slowed by 429s.

:class:`Pacer` is a token bucket (burst of one second's worth) whose rate is either
fixed (``max_rate``) or adaptive: when 429s arrive together (two or more within a
second, and at least a fifth of that second's answers), the rate that was being sent is cut to 70% (never below ``min_rate``) and
``Retry-After`` (capped like the retry policy's) pauses *all* threads; then the rate
recovers linearly. A lone 429, or a few among many answers, only makes its own request wait and retry. It sits in the transport adapter (:class:`PacedAdapter`), below
the HTTP cache, so cache hits are never slowed down.

A wait for the pacer is interruptible: inside :func:`cancel_scope` (a fleet fetch enters
it on each worker thread), setting the fetch's cancel event ends the wait at once, and a
request whose wait was cancelled is never sent (:class:`FetchCancelled` instead).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from typing import Any

from requests.adapters import HTTPAdapter

from .cancellation import cancel_scope, check_cancelled, current_event
from .exceptions import FetchCancelled
from .responses import retry_after_seconds
from .settings import PacingSettings

__all__ = ["PacedAdapter", "Pacer", "cancel_scope"]

logger = logging.getLogger(__name__)

_WINDOW = 1.0  # seconds over which the sent rate is measured
_TOGETHER = 2  # 429s within one window that can make every thread slow down...
_SHARE = 0.2  # ...when they are at least this share of the window's answers
_BACKOFF = 0.7  # share of the sent rate kept after a 429 (as TCP CUBIC's beta)
_QUIET = 30.0  # seconds without a 429 after which an adaptive limit (with no max_rate) is lifted


class Pacer:
    """Decide when the next request may go out.

    Parameters
    ----------
    settings : PacingSettings
    clock, sleep : callables
        Injectable for tests.
    """

    def __init__(self, settings: PacingSettings, *, max_pause: float = 60.0, clock=time.monotonic,
                 sleep=time.sleep) -> None:
        self.settings = settings
        self.max_pause = max_pause  # longest Retry-After pause imposed on every thread
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._rate: float | None = settings.max_rate  # current limit; None: unlimited
        self._next = 0.0  # earliest time the next request may start
        self._paused_until = 0.0
        self._recent: deque[float] = deque()
        self._recent_429: deque[float] = deque()
        self._answers: deque[float] = deque()
        self._last_429 = self._updated = -1e9
        #: Requests sent (cache hits never count), 429 answers seen, and times the rate was
        #: lowered because of them.
        self.sent = 0
        self.throttled = 0
        self.slowdowns = 0

    @property
    def rate(self) -> float | None:
        """The current limit in requests per second (None: unlimited)."""
        with self._lock:
            self._recover(self._clock())
            return self._rate

    def acquire(self) -> float:
        """Block until this thread may send a request; return the seconds waited.

        Raises
        ------
        FetchCancelled
            Inside :func:`cancel_scope`, when its event is set before or during the wait
            (the slot taken is given back, and the request does not count as sent).
        """
        check_cancelled("this request was sent")
        event = current_event()
        with self._lock:
            self.sent += 1
            now = self._clock()
            self._recover(now)
            start = max(now, self._paused_until)
            interval = 0.0
            if self._rate is not None:
                start = max(start, self._next)
                interval = 1.0 / self._rate
                # one second of burst at most: the schedule never lags far behind the clock
                self._next = max(start, now - 1.0) + interval
            self._recent.append(start)
            while self._recent and self._recent[0] < start - _WINDOW:
                self._recent.popleft()
        delay = start - now
        if event is None:
            if delay > 0:
                self._sleep(delay)
            return max(delay, 0.0)
        if (delay > 0 and event.wait(delay)) or event.is_set():
            with self._lock:
                self.sent -= 1
                self._next -= interval  # a rerun right after an interrupt does not wait for cancelled slots
                with contextlib.suppress(ValueError):
                    self._recent.remove(start)
            raise FetchCancelled(f"cancelled while waiting {delay:.2f} s for the request pacer")
        return max(delay, 0.0)

    def answered(self) -> None:
        """Any answer arrived (the share of 429s among recent answers is the throttling signal)."""
        with self._lock:
            now = self._clock()
            self._answers.append(now)
            while self._answers[0] < now - _WINDOW:  # only the last second is ever read
                self._answers.popleft()

    def throttled_by_server(self, retry_after: float | None) -> None:
        """A 429 arrived: slow every thread down (adaptive pacing only)."""
        with self._lock:
            self.throttled += 1
            if not self.settings.adaptive:
                return
            now = self._clock()
            self._recent_429.append(now)
            while self._recent_429 and self._recent_429[0] < now - _WINDOW:
                self._recent_429.popleft()
            while self._answers and self._answers[0] < now - _WINDOW:
                self._answers.popleft()
            share = len(self._recent_429) / max(len(self._answers), len(self._recent_429))
            if len(self._recent_429) < _TOGETHER or share < _SHARE:
                # a lone 429, or a few among many answers: its own request waits (the retry policy)
                return
            if retry_after:
                self._paused_until = max(self._paused_until, now + min(retry_after, self.max_pause))
            if now - self._last_429 < _WINDOW / 2:
                return  # one burst of 429s is one signal, not one slow-down each
            sent = sum(1 for t in self._recent if t >= now - _WINDOW) / _WINDOW
            limit = self._rate if self._rate is not None else float("inf")
            self._rate = max(self.settings.min_rate, min(limit, sent) * _BACKOFF)
            self._last_429 = self._updated = now
            self.slowdowns += 1
            logger.info("gateway throttling (429): pacing requests at %.1f/s", self._rate)

    def _recover(self, now: float) -> None:
        """Raise the rate linearly after a 429 (lock held)."""
        if not self.settings.adaptive or self._rate is None or not self.slowdowns:
            return
        elapsed = now - self._updated
        if elapsed <= 0:
            return
        self._updated = now
        rate = self._rate + self.settings.recovery * elapsed
        if self.settings.max_rate is not None:
            self._rate = min(rate, self.settings.max_rate)
        elif now - self._last_429 > _QUIET:
            self._rate = None  # a long quiet spell: back to no limit
        else:
            self._rate = rate


class PacedAdapter(HTTPAdapter):
    """An HTTPAdapter that waits for its :class:`Pacer` before each request it really sends."""

    def __init__(self, pacer: Pacer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pacer = pacer

    def send(self, request, *args, **kwargs):  # noqa: D401 - requests' signature
        if self.pacer.acquire() > 0:
            resign = getattr(request, "drs_resign", None)  # AK/SK: a fresh X-Sdk-Date after the wait
            if resign is not None:
                resign(request)
        response = super().send(request, *args, **kwargs)
        self.pacer.answered()
        if response.status_code == 429:
            self.pacer.throttled_by_server(retry_after_seconds(response.headers.get("Retry-After")))
        return response
