"""The pacer: interruptible waits (Ctrl-C during fixed and adaptive pacing), Retry-After forms."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from drs_analytics import DRSClient, fetch_actions
from drs_analytics.emulator import Emulator
from drs_analytics.exceptions import FetchCancelled
from drs_analytics.pacing import PacedAdapter, Pacer, cancel_scope
from drs_analytics.responses import retry_after_seconds
from drs_analytics.settings import PacingSettings, RetrySettings

from .conftest import FAST_RETRY

THROTTLED = b'{"error_code":"APIGW.0308","error_msg":"The request is throttled."}'


def _sigint() -> None:
    """What Ctrl-C in a terminal and a notebook's interrupt button do: SIGINT to the process."""
    os.kill(os.getpid(), signal.SIGINT)


def _fetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("drs-fetch") and t.is_alive()]


def _interrupt_after(seconds: float, fetch) -> float:
    """Run ``fetch()``, SIGINT the process after ``seconds``; return how long the fetch took to raise."""
    timer = threading.Timer(seconds, _sigint)
    timer.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(KeyboardInterrupt):
            fetch()
        return time.perf_counter() - t0
    finally:
        timer.cancel()
        timer.join()


def test_an_interrupt_during_fixed_pacing_is_prompt_and_nothing_is_sent_after():
    """16 workers at 2 requests/s: the pacer hands out slots up to 7.5 s ahead; an interrupt at
    1 s ends every wait at once (not after the 5 s grace), and no slot is used afterwards."""
    with Emulator(jobs=80, seed=5) as emu, DRSClient(
            endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False, retry=FAST_RETRY,
            pacing=PacingSettings(max_rate=2, adaptive=False)) as client:
        stopped = _interrupt_after(1.0, lambda: fetch_actions(emu.job_ids, client=client, max_workers=16,
                                                              progress=False))
        at_return = emu.app.request_count
        assert not _fetch_threads()
        assert stopped < 1.0 + 3.0, f"took {stopped:.2f} s to stop"  # bound for loaded machines
        # paced: at 2/s, one request at 0 s and one each 0.5 s after, so at most 2 * t + 1 by time t
        assert 1 <= at_return <= 2 * stopped + 1
        time.sleep(1.5)  # three more slots' worth: a wait that was not cancelled would send now
        assert emu.app.request_count == at_return
        # the cancelled waits gave their slots back: the next request goes out at once
        assert client.pacer.sent == at_return
        t0 = time.perf_counter()
        one = fetch_actions(emu.job_ids[-1:], client=client, progress=False)
        # without the slots given back it would wait for the 13 or so cancelled ones (about 5 s)
        assert len(one.jobs) == 1 and time.perf_counter() - t0 < 3.0


def test_an_interrupt_during_an_adaptive_retry_after_pause_is_prompt():
    """Four jobs answer 429 with Retry-After: 30 together: adaptive pacing pauses every thread for
    30 s, in the pacer (threads moving on to new jobs) and in the retry wait; an interrupt ends both."""
    with Emulator(jobs=60, seed=5, latency_ms=20) as emu, DRSClient(
            endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False,
            retry=RetrySettings(attempts=5, max_retry_after=30), pacing=PacingSettings()) as client:
        for job_id in emu.job_ids[:4]:
            emu.app.set_raw_response(job_id, 429, THROTTLED, {"Retry-After": "30"})
        stopped = _interrupt_after(1.5, lambda: fetch_actions(emu.job_ids, client=client, max_workers=8,
                                                              progress=False))
        at_return = emu.app.request_count
        assert not _fetch_threads()
        assert stopped < 1.5 + 3.0, f"took {stopped:.2f} s to stop"  # not the 30 s pause
        assert client.pacer.slowdowns >= 1  # the 429s did pause everyone...
        # ... within the first wave (8 workers, one request each), give or take a few
        # requests of workers whose 200 came before the second 429
        assert 8 <= at_return <= 20, at_return
        time.sleep(1.0)
        assert emu.app.request_count == at_return


def cancel_during_a_wait(pacer: Pacer, scope) -> float:
    """Seconds ``pacer.acquire()`` took to raise when ``scope``'s event is set 0.2 s into its wait."""
    cancel = threading.Event()
    timer = threading.Timer(0.2, cancel.set)
    timer.start()
    t0 = time.perf_counter()
    with scope(cancel), pytest.raises(FetchCancelled, match="cancelled while waiting"):
        pacer.acquire()
    timer.join()
    return time.perf_counter() - t0


def test_a_cancelled_wait_raises_gives_its_slot_back_and_is_not_counted():
    now = [100.0]

    def sleep(d):
        now[0] += d

    pacer = Pacer(PacingSettings(max_rate=1, adaptive=False), clock=lambda: now[0], sleep=sleep)
    pacer.acquire()  # at once; the next slot is 1 s later
    cancel = threading.Event()
    cancel.set()
    with cancel_scope(cancel), pytest.raises(FetchCancelled, match="interrupted before this request"):
        pacer.acquire()  # already cancelled: not even a slot is taken
    assert pacer.sent == 1 and now[0] == 100.0

    later = Pacer(PacingSettings(max_rate=0.1, adaptive=False))  # slots 10 s apart, real time
    later.acquire()
    first = time.monotonic()
    assert cancel_during_a_wait(later, cancel_scope) < 5.0  # not the 10 s slot
    assert later.sent == 1
    # the slot given back is the next one again: 10 s after the first request, not 20
    assert later._next <= first + 10.0

    # outside a scope the injected sleep is used, as before
    pacer.acquire()
    assert now[0] == pytest.approx(101.0) and pacer.sent == 2


@pytest.mark.parametrize(("value", "expected"), [
    ("7", 7.0),
    ("0", 0.0),
    ("2.5", 2.5),
    ("-3", 0.0),  # a negative delay is "now"
    ("", None),
    (None, None),
    ("soon", None),
    ("nan", None),
])
def test_retry_after_delay_seconds(value, expected):
    assert retry_after_seconds(value) == expected


def test_retry_after_http_date_is_counted_from_now():
    now = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
    # RFC 9110's IMF-fixdate, and the obsolete forms it requires recipients to accept
    assert retry_after_seconds("Sun, 01 Mar 2026 12:00:45 GMT", now=now) == 45.0
    assert retry_after_seconds("Sunday, 01-Mar-26 12:01:00 GMT", now=now) == 60.0
    assert retry_after_seconds("Sun Mar  1 12:00:10 2026", now=now) == 10.0
    assert retry_after_seconds("Sun, 01 Mar 2026 11:59:00 GMT", now=now) == 0.0  # in the past
    assert retry_after_seconds("Sun, 01 Mar 2026 12:00:45 +0100", now=now) == 0.0  # 11:00:45 UTC
    assert retry_after_seconds("Sun, 01 Mar 2026 13:00:45 +0100", now=now) == 45.0
    assert retry_after_seconds("Sun, 99 Mar 2026 12:00:45 GMT", now=now) is None


class _Answer:
    def __init__(self, status: int, headers: dict[str, str]) -> None:
        self.status_code, self.headers = status, headers


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_the_paced_adapter_reads_both_retry_after_forms(monkeypatch, form):
    """A throttling burst whose Retry-After is a date pauses every thread until that date."""
    seen: list[float | None] = []
    pacer = Pacer(PacingSettings(), max_pause=60)
    monkeypatch.setattr(pacer, "throttled_by_server", seen.append)
    adapter = PacedAdapter(pacer)
    value = "20" if form == "seconds" else format_datetime(datetime.now(timezone.utc) + timedelta(seconds=20),
                                                             usegmt=True)
    monkeypatch.setattr("requests.adapters.HTTPAdapter.send", lambda self, request, *a, **k: _Answer(
        429, {"Retry-After": value}))
    adapter.send(object())
    assert len(seen) == 1
    # an HTTP-date has whole seconds: 20 s from now, less the fraction of the current second
    assert seen[0] == pytest.approx(20.0, abs=1.5)
