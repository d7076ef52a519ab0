"""RetrySettings.delay: exponential growth, the cap, full jitter, Retry-After; and a live 429."""

from __future__ import annotations

import random
import threading
import time

import pytest

from drs_analytics import DRSClient, fetch_actions
from drs_analytics.settings import PacingSettings, RetrySettings

THROTTLED = b'{"error_code":"APIGW.0308","error_msg":"The request is throttled."}'


def test_the_backoff_doubles_with_each_attempt():
    retry = RetrySettings(backoff=0.25, max_backoff=100.0)
    # rand close to 1 gives (almost) the whole window: 0.25, 0.5, 1, 2, 4 s
    windows = [0.25, 0.5, 1.0, 2.0, 4.0]
    for attempt, window in enumerate(windows, start=1):
        assert retry.delay(attempt, 0.5) == pytest.approx(window / 2)
        assert retry.delay(attempt, 0.999) == pytest.approx(window * 0.999)


def test_the_backoff_is_capped_by_max_backoff():
    retry = RetrySettings(backoff=0.25, max_backoff=3.0)
    # 0.25 * 2**(n-1): 0.25, 0.5, 1, 2, 4 -> 3, 8 -> 3, ... and 2**40 does not overflow the cap
    assert [retry.delay(n, 0.5) for n in (1, 2, 3, 4, 5, 6, 41)] == pytest.approx(
        [0.125, 0.25, 0.5, 1.0, 1.5, 1.5, 1.5])
    assert RetrySettings(backoff=1.0, max_backoff=0.0).delay(3, 0.9) == 0.0


def test_full_jitter_spans_zero_to_the_window():
    retry = RetrySettings(backoff=0.5, max_backoff=10.0)
    rng = random.Random(1)
    delays = [retry.delay(3, rng.random()) for _ in range(2000)]  # window: 0.5 * 4 = 2 s
    assert all(0.0 <= d < 2.0 for d in delays)
    assert min(delays) < 0.05 and max(delays) > 1.95  # the whole range is used...
    assert sum(delays) / len(delays) == pytest.approx(1.0, abs=0.1)  # ... uniformly (mean 1 s)
    assert retry.delay(3, 0.0) == 0.0


def test_retry_after_is_honoured_exactly_and_capped():
    retry = RetrySettings(backoff=0.25, max_backoff=10.0, max_retry_after=20.0)
    for rand in (0.0, 0.5, 0.99):  # no jitter: the server said when
        assert retry.delay(1, rand, retry_after=7.0) == 7.0
        assert retry.delay(5, rand, retry_after=0.0) == 0.0  # "now" is not "not given"
    assert retry.delay(1, 0.5, retry_after=19.5) == 19.5
    assert retry.delay(1, 0.5, retry_after=3600.0) == 20.0  # capped by max_retry_after
    assert retry.delay(1, 0.5, retry_after=float("inf")) == 20.0
    assert retry.delay(1, 0.5, retry_after=-4.0) == 0.0
    assert retry.delay(2, 0.5, retry_after=float("nan")) == pytest.approx(0.25)  # unusable: the backoff
    # the cap applies beyond max_backoff too: Retry-After is not a backoff
    assert RetrySettings(max_backoff=1.0, max_retry_after=60.0).delay(1, 0.5, retry_after=45.0) == 45.0


def test_the_defaults():
    retry = RetrySettings()
    assert (retry.attempts, retry.backoff, retry.max_backoff, retry.max_retry_after) == (3, 0.25, 10.0, 60.0)
    assert retry.delay(1, 0.5) == pytest.approx(0.125) and retry.delay(1, 0.5, retry_after=90) == 60.0


def test_a_429_with_retry_after_1_makes_the_client_wait_a_second(emu):
    """The retry goes out about 1 s after the 429 (measured where the emulator receives requests)."""
    job = emu.job_ids[0]
    emu.app.set_raw_response(job, 429, THROTTLED, {"Retry-After": "1"})
    arrivals: list[float] = []
    lock = threading.Lock()
    handle = emu.app.handle

    def recording(method, path, *args, **kwargs):
        if job in path:
            with lock:
                arrivals.append(time.monotonic())
        return handle(method, path, *args, **kwargs)

    emu.app.handle = recording
    # jitter would be at most 10 ms here: a wait of ~1 s can only be the Retry-After
    retry = RetrySettings(attempts=2, backoff=0.01, max_backoff=0.01, max_retry_after=30)
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False, retry=retry,
                   pacing=PacingSettings(adaptive=False)) as client:
        result = fetch_actions([job], client=client, progress=False)
    assert len(arrivals) == 2
    gap = arrivals[1] - arrivals[0]
    assert 0.9 <= gap < 10.0, gap
    errors = result.errors.set_index("job_id")
    assert errors.loc[job, "error_type"] == "ThrottledError" and errors.loc[job, "attempts"] == 2
