"""Offline misses say that answers are cached per credential (a new token finds none of the old ones)."""

from __future__ import annotations

import pytest

from drs_analytics import fetch_actions
from drs_analytics.emulator import Emulator
from drs_analytics.exceptions import NotCachedError

HINT = "answers are cached per credential; a renewed IAM token is a new one"


def test_the_message_names_the_call_and_the_per_credential_cache():
    exc = NotCachedError("not in the cache (offline): GET /v5/p/jobs/j/actions", attempts=0)
    assert str(exc) == ("not in the cache (offline): GET /v5/p/jobs/j/actions "
                        "(answers are cached per credential; a renewed IAM token is a new one)")
    assert exc.attempts == 0
    assert exc.error_msg == "not in the cache (offline)"
    assert str(NotCachedError(str(exc))) == str(exc)  # said once, also when re-wrapped


def test_answers_cached_under_another_token_are_not_found_offline(tmp_path, make_client, emu):
    cache = tmp_path / "shared.sqlite"
    fetch_actions(emu.job_ids[:3], client=make_client(cache=cache), progress=False)
    # the same jobs, the same cache file, another token of the same project
    with Emulator(jobs=40, seed=11, token="a-renewed-token-value", project_id=emu.project_id) as other:
        assert other.job_ids[:3] == emu.job_ids[:3]
        offline = make_client(endpoint=emu.url, token=other.token, cache=cache, offline=True)
        result = fetch_actions(emu.job_ids[:3], client=offline, progress=False)
    assert len(result.jobs) == 0 and list(result.errors["job_id"]) == emu.job_ids[:3]
    assert set(result.errors["error_type"]) == {"NotCachedError"}
    for job_id, detail in zip(emu.job_ids[:3], result.errors["detail"]):
        assert detail == (f"not in the cache (offline): GET {emu.url}/v5/{emu.project_id}/jobs/{job_id}/actions "
                          f"({HINT})")
    # the error_msg column is the short cause, shared by every job, not the detail again
    assert result.errors["error_msg"].tolist() == ["not in the cache (offline)"] * 3
    assert (result.errors["error_msg"] != result.errors["detail"]).all()
    # with the token that fetched them, they are there
    again = fetch_actions(emu.job_ids[:3], client=make_client(cache=cache, offline=True), progress=False)
    assert len(again.errors) == 0 and len(again.jobs) == 3


def test_a_direct_offline_call_raises_it(make_client, emu):
    client = make_client(offline=True)
    with pytest.raises(NotCachedError, match="cached per credential; a renewed IAM token is a new one"):
        client.get_actions(emu.job_ids[0])
