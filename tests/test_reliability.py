"""Stale and offline data, cache control, interruption and resumption, pacing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pandas as pd
import pytest

from drs_analytics import ConfigurationError, DRSClient, fetch_actions, fetch_fleet
from drs_analytics.emulator import Emulator, Faults
from drs_analytics.pacing import Pacer
from drs_analytics.settings import PacingSettings, RetrySettings

from .conftest import FAST_RETRY

ERROR_500 = b'{"error_code":"DRS.M00004","error_msg":"Service is abnormal. Check logs."}'


def _sigint() -> None:
    """What Ctrl-C in a terminal and a notebook's interrupt button do: SIGINT to the process."""
    os.kill(os.getpid(), signal.SIGINT)


def _expire(seconds: float = 1.0) -> None:
    """Outlive a 0.3 s expire_after, also in the SQL expires column (stored rounded to whole seconds)."""
    time.sleep(seconds)


def test_stale_if_error_uses_an_expired_copy_and_marks_it(emu, make_client, tmp_path):
    client = make_client(expire_after=0.3, stale_if_error=True)
    first = fetch_actions(emu.job_ids[:6], client=client, progress=False)
    assert not first.frame["stale"].any() and not first.jobs["stale"].any()
    _expire()
    broken = emu.job_ids[:2]
    for job_id in broken:
        emu.app.set_raw_response(job_id, 500, ERROR_500)
    emu.app.set_raw_response(emu.job_ids[2], 400, b'{"error_code":"DRS.10000010","error_msg":"Job does not exist"}')
    again = fetch_actions(emu.job_ids[:6], client=client, progress=False)
    jobs = again.jobs.set_index("job_id")
    assert jobs.loc[broken, "stale"].all() and jobs.loc[broken, "from_cache"].all()
    assert (jobs.loc[broken, "attempts"] == FAST_RETRY.attempts).all()
    assert not jobs.loc[emu.job_ids[3:6], "stale"].any()  # refreshed normally
    # a 4xx is an answer, not a failure: no stale copy stands in for it
    assert list(again.errors["job_id"]) == [emu.job_ids[2]]
    stale_rows = again.frame[again.frame["job_id"].isin(broken)]
    assert stale_rows["stale"].all()
    first_rows = first.frame[first.frame["job_id"].isin(broken)].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        stale_rows.reset_index(drop=True)[["job_id", "action", "available", "fetched_at"]].astype(str),
        first_rows[["job_id", "action", "available", "fetched_at"]].astype(str),
    )


def test_without_stale_if_error_a_failure_is_an_error_record(emu, make_client):
    client = make_client(expire_after=0.3)
    fetch_actions(emu.job_ids[:3], client=client, progress=False)
    _expire()
    emu.app.set_raw_response(emu.job_ids[0], 500, ERROR_500)
    result = fetch_actions(emu.job_ids[:3], client=client, progress=False)
    assert list(result.errors["job_id"]) == [emu.job_ids[0]] and not result.jobs["stale"].any()


def test_expired_answers_are_revalidated_with_the_server(emu, make_client):
    client = make_client(expire_after=0.3)
    fetch_actions(emu.job_ids[:5], client=client, progress=False)
    _expire()
    before = emu.app.request_count
    again = fetch_actions(emu.job_ids[:5], client=client, progress=False)
    assert emu.app.request_count - before == 5  # asked again (conditionally)
    assert emu.app.not_modified_count == 5  # ... and answered 304: the cached bodies were kept
    assert again.jobs["from_cache"].all() and not again.jobs["stale"].any() and len(again.errors) == 0


def test_offline_serves_the_cache_and_records_what_is_missing(emu, make_client, tmp_path):
    online = make_client()
    fetch_actions(emu.job_ids[:10], client=online, progress=False)
    fetch_fleet(online, job_type="sync")
    served = emu.app.request_count
    offline = make_client(offline=True)
    result = fetch_actions(emu.job_ids[:15], client=offline, progress=False)
    assert emu.app.request_count == served  # nothing was sent
    assert set(result.jobs["job_id"]) == set(emu.job_ids[:10]) and result.jobs["from_cache"].all()
    assert list(result.errors["job_id"]) == emu.job_ids[10:15]
    assert set(result.errors["error_type"]) == {"NotCachedError"} and (result.errors["attempts"] == 0).all()
    fleet = fetch_fleet(offline, job_type="sync")
    assert len(fleet.errors) == 0 and len(fleet.jobs) == sum(j.job_type == "sync" for j in emu.fleet)
    missing = fetch_fleet(offline, job_type="migration")
    assert list(missing.errors["job_id"]) == ["<list job_type=migration>"]
    assert emu.app.request_count == served


def test_offline_marks_expired_answers_stale(emu, make_client):
    fetch_actions(emu.job_ids[:4], client=make_client(expire_after=0.3), progress=False)
    _expire()
    result = fetch_actions(emu.job_ids[:4], client=make_client(offline=True), progress=False)
    assert result.jobs["stale"].all() and result.frame["stale"].all()


def test_offline_needs_a_cache(emu):
    with pytest.raises(ConfigurationError, match="offline=True needs a cache"):
        DRSClient(endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False, offline=True)


def test_cache_info_entries_and_clearing(emu, make_client, tmp_path):
    a = make_client(expire_after=0.3)
    other = Emulator(jobs=5, seed=99, token="another-token-value", project_id=emu.project_id)
    fetch_actions(emu.job_ids[:6], client=a, progress=False)
    with other:
        b = make_client(endpoint=other.url, token=other.token)
        fetch_actions(other.job_ids, client=b, progress=False)
        info = a.cache_info()
        assert info["entries"] == 11 and info["mine"] == 6 and info["bytes"] > 0
        entries = a.cache_entries()
        assert list(entries["mine"]).count(True) == 6 and set(entries["kind"]) == {"actions"}
        assert set(entries.loc[entries["mine"], "job_id"]) == set(emu.job_ids[:6])
        assert (entries["status"] == 200).all() and (entries["age_s"] >= 0).all()
        assert a.clear_cache(job_ids=emu.job_ids[:2]) == 2
        _expire()
        assert a.cache_info()["expired"] == 4
        assert a.clear_cache(expired_only=True) == 4  # only a's expired ones
        assert a.cache_info()["entries"] == 5 == b.cache_info()["mine"]
        assert b.clear_cache(everyone=True) == 5 and b.cache_info()["entries"] == 0


def test_refresh_asks_the_api_even_when_cached(emu, client):
    fetch_actions(emu.job_ids[:4], client=client, progress=False)
    before = emu.app.request_count
    result = fetch_actions(emu.job_ids[:4], client=client, progress=False, refresh=True)
    assert emu.app.request_count - before == 4 and not result.jobs["from_cache"].any()


def test_interrupting_a_fetch_is_prompt_and_a_rerun_completes_from_the_cache(tmp_path):
    with Emulator(jobs=200, seed=4, latency_ms=150) as emu, DRSClient(
            endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=tmp_path / "c.sqlite") as client:
        timer = threading.Timer(0.6, _sigint)
        timer.start()
        t0 = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            fetch_actions(emu.job_ids, client=client, max_workers=8, progress=False)
        stopped = time.perf_counter() - t0
        timer.join()
        assert stopped < 0.6 + 4.0, f"took {stopped:.2f} s to stop"  # requests in flight: 150 ms; bound for noisy machines
        assert not [t for t in threading.enumerate() if t.name.startswith("drs-fetch")]
        done = client.cache_info()["mine"]
        assert 0 < done < 200
        before = emu.app.request_count
        result = fetch_actions(emu.job_ids, client=client, max_workers=16, progress=False)
        assert len(result.jobs) == 200 and len(result.errors) == 0
        assert emu.app.request_count - before == 200 - done
        assert int(result.jobs["from_cache"].sum()) == done


def test_an_interrupt_during_retry_waits_is_prompt(tmp_path):
    faults = Faults(throttle_429=1.0, retry_after=30)
    with Emulator(jobs=20, seed=4, faults=faults) as emu, DRSClient(
            endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False,
            retry=RetrySettings(attempts=5, max_retry_after=30),
            pacing=PacingSettings(adaptive=False)) as client:
        timer = threading.Timer(0.5, _sigint)
        timer.start()
        t0 = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            fetch_actions(emu.job_ids, client=client, max_workers=4, progress=False)
        timer.join()
        assert time.perf_counter() - t0 < 4.0  # not the 30 s Retry-After
        assert not [t for t in threading.enumerate() if t.name.startswith("drs-fetch")]


_CHILD = textwrap.dedent("""
    import sys
    from drs_analytics import DRSClient, fetch_actions
    url, project, token, cache = sys.argv[1:5]
    ids = [line.strip() for line in sys.stdin if line.strip()]
    with DRSClient(endpoint=url, project_id=project, token=token, cache=cache) as client:
        fetch_actions(ids, client=client, max_workers=4, progress=False)
""")


def test_a_killed_process_leaves_a_cache_that_opens_and_resumes(tmp_path):
    cache = tmp_path / "c.sqlite"
    with Emulator(jobs=300, seed=6, latency_ms=40) as emu:
        child = subprocess.Popen([sys.executable, "-c", _CHILD, emu.url, emu.project_id, emu.token, str(cache)],
                                 stdin=subprocess.PIPE, text=True)
        child.stdin.write("\n".join(emu.job_ids))
        child.stdin.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.1)
            try:
                with sqlite3.connect(cache, timeout=1) as con:
                    if con.execute("SELECT count(*) FROM responses").fetchone()[0] >= 40:
                        break
            except sqlite3.Error:
                pass
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        assert child.returncode == -signal.SIGKILL
        with DRSClient(endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=cache) as client:
            done = client.cache_info()["mine"]
            assert 40 <= done < 300
            before = emu.app.request_count
            result = fetch_actions(emu.job_ids, client=client, progress=False)
            assert len(result.jobs) == 300 and len(result.errors) == 0
            assert emu.app.request_count - before == 300 - done


def test_pacer_fixed_rate_and_adaptive_slowdown():
    now = [0.0]

    def sleep(d):
        now[0] += d

    fixed = Pacer(PacingSettings(max_rate=10, adaptive=False), clock=lambda: now[0], sleep=sleep)
    for _ in range(31):
        fixed.acquire()
    assert now[0] == pytest.approx(3.0)  # 31 requests at 10/s: the first at once
    now[0] = 0.0
    adaptive = Pacer(PacingSettings(), clock=lambda: now[0], sleep=sleep)
    for _ in range(100):
        adaptive.acquire()
        now[0] += 0.01  # 100 requests/s
    assert adaptive.rate is None
    for _ in range(4):
        adaptive.answered()  # 429s are judged as a share of the answers of the last second
    adaptive.throttled_by_server(5.0)  # a lone 429: only its own request waits
    assert adaptive.rate is None and adaptive.slowdowns == 0
    busy = Pacer(PacingSettings(), clock=lambda: now[0], sleep=sleep)
    for _ in range(40):
        busy.answered()
    busy.throttled_by_server(None)
    busy.throttled_by_server(None)  # 2 of 40 answers: scattered 429s, not throttling
    assert busy.slowdowns == 0
    adaptive.throttled_by_server(2.0)  # a second within the second: every thread slows down and pauses
    assert adaptive.rate == pytest.approx(0.7 * 99)  # 70% of the 99 sent in the last second
    adaptive.throttled_by_server(None)  # more of the same burst: still one signal
    assert adaptive.rate == pytest.approx(0.7 * 99) and adaptive.throttled == 3 and adaptive.slowdowns == 1
    start = now[0]
    adaptive.acquire()
    assert now[0] - start == pytest.approx(2.0)  # the Retry-After of the burst paused everyone
    now[0] += 10
    assert adaptive.rate == pytest.approx(0.7 * 99 + 5.0 * 12, rel=0.05)  # recovers 5 req/s per second
    now[0] += 60
    assert adaptive.rate is None  # a long quiet spell lifts the limit


def test_settings_reject_bad_pacing_and_ca_bundle(emu, tmp_path):
    with pytest.raises(ValueError, match="max_rate"):
        PacingSettings(max_rate=0)
    with pytest.raises(ValueError, match="ca_bundle"):
        DRSClient(endpoint=emu.url, project_id=emu.project_id, token=emu.token, ca_bundle=tmp_path / "none.pem")
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False, ca_bundle=bundle) as c:
        assert c._send_kwargs["verify"] == str(bundle)


@pytest.mark.parametrize("bundle", [False, True])
def test_warm_answers_come_straight_from_the_cache(emu, make_client, tmp_path, monkeypatch, bundle):
    if bundle:  # a CA bundle is part of requests-cache's key: the direct lookup must use the same key
        ca = tmp_path / "ca.pem"
        ca.write_text("-----BEGIN CERTIFICATE-----\n")
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
    client = make_client()
    cold = fetch_actions(emu.job_ids[:8], client=client, progress=False)

    def no_network(*args, **kwargs):
        raise AssertionError("a warm answer went through the HTTP session")

    monkeypatch.setattr(client.session, "get", no_network)
    warm = fetch_actions(emu.job_ids[:8], client=client, progress=False)
    assert len(warm.errors) == 0 and warm.jobs["from_cache"].all()
    pd.testing.assert_frame_equal(warm.frame.drop(columns="from_cache"), cold.frame.drop(columns="from_cache"))


def test_a_stale_list_page_marks_its_jobs_stale(emu, make_client):
    client = make_client(expire_after=0.3, stale_if_error=True)
    fetch_fleet(client, job_type="sync")
    _expire()
    real = client._send

    def failing(url, what, refresh=False):
        if "/jobs?" in url:
            from drs_analytics import ServerError

            raise ServerError("HTTP 503 from " + what, status_code=503)
        return real(url, what, refresh)

    client._send = failing
    result = fetch_fleet(client, job_type="sync")
    assert len(result.errors) == 0 and result.jobs["stale"].all() and result.frame["stale"].all()


def test_adaptive_pacing_throttles_less_against_a_rate_limited_gateway():
    """Same fleet, same gateway limit (25/s): adaptive pacing draws clearly fewer 429s and loses no job."""
    counts, lost = {}, {}
    for adaptive in (False, True):
        with Emulator(jobs=120, seed=3, rate_limit=25, latency_ms=5) as emu, DRSClient(
                endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False,
                retry=RetrySettings(attempts=8, backoff=0.2, max_backoff=2),
                pacing=PacingSettings(adaptive=adaptive)) as client:
            result = fetch_actions(emu.job_ids, client=client, progress=False, max_workers=16)
            assert len(result.jobs) + len(result.errors) == 120
            counts[adaptive], lost[adaptive] = emu.app.throttled_count, len(result.errors)
            if adaptive:
                assert client.pacer.slowdowns >= 1
    assert lost[True] == 0, (counts, lost)
    assert counts[True] < 0.85 * counts[False], (counts, lost)


def test_a_malformed_200_keeps_the_good_cached_copy(emu, make_client):
    """A broken 200 is an error and is not cached, and the good copy under its key survives it."""
    client = make_client(expire_after=0.3, stale_if_error=True)
    job = emu.job_ids[0]
    first = fetch_actions([job], client=client, progress=False)
    assert len(first.errors) == 0
    _expire()
    emu.app.set_raw_response(job, 200, b'{"job_action": "not an object"}')
    broken = fetch_actions([job], client=client, progress=False)
    row = broken.jobs.set_index("job_id").loc[job]
    # the good earlier answer stands in for the malformed one, marked stale
    assert bool(row["stale"]) and bool(row["from_cache"]) and len(broken.errors) == 0
    assert sorted(broken.frame["action"]) == sorted(first.frame["action"])
    # ... and it is still in the file: offline mode serves it
    offline = fetch_actions([job], client=make_client(expire_after=0.3, offline=True), progress=False)
    assert len(offline.errors) == 0 and bool(offline.jobs["stale"].iloc[0])
    assert sorted(offline.frame["action"]) == sorted(first.frame["action"])
