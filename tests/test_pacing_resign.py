"""AK/SK requests the pacer made wait are signed again; one cancel scope ends pacer waits too."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from drs_analytics import DRSClient, fetch_actions
from drs_analytics import auth as auth_module
from drs_analytics.client import cancel_scope
from drs_analytics.emulator import Emulator
from drs_analytics.pacing import Pacer
from drs_analytics.settings import PacingSettings
from drs_analytics.signing import DATE_FORMAT

from .conftest import FAST_RETRY
from .test_pacing import cancel_during_a_wait


def test_a_paced_aksk_request_is_signed_again_after_its_wait(monkeypatch):
    """Each signing draws a date one minute after the one before: five signings for three
    requests show the two that waited were signed again, and the gateway accepting all three
    shows each went out with a signature over the date it carried."""
    base = datetime.now(timezone.utc) - timedelta(minutes=5)
    dates: list[str] = []

    def next_date(now=None):
        dates.append((base + timedelta(minutes=len(dates))).strftime(DATE_FORMAT))
        return dates[-1]

    monkeypatch.setattr(auth_module, "sdk_date", next_date)
    with Emulator(jobs=3, seed=3) as emu, DRSClient(
            endpoint=emu.url, project_id=emu.project_id, ak=emu.ak, sk=emu.sk, cache=False,
            retry=FAST_RETRY, pacing=PacingSettings(max_rate=4, adaptive=False)) as client:
        result = fetch_actions(emu.job_ids, client=client, max_workers=1, progress=False)
    assert len(result.errors) == 0 and len(result.jobs) == 3
    assert emu.app.request_count == 3  # no 401 and retry: every signature held
    # the first request goes out at once (one signing), the next two each wait 0.25 s (two)
    assert len(dates) == 5


def test_a_token_request_after_a_wait_is_sent_as_it_is(emu):
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False,
                   retry=FAST_RETRY, pacing=PacingSettings(max_rate=4, adaptive=False)) as client:
        result = fetch_actions(emu.job_ids[:3], client=client, max_workers=1, progress=False)
    assert len(result.errors) == 0 and emu.app.request_count == 3


def test_the_client_cancel_scope_also_ends_pacer_waits():
    pacer = Pacer(PacingSettings(max_rate=0.1, adaptive=False))  # slots 10 s apart
    pacer.acquire()
    assert cancel_during_a_wait(pacer, cancel_scope) < 5.0  # not the 10 s slot
