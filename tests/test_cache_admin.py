"""clear_cache(job_ids=...): a list of valid job IDs, never a lone string read per character."""

from __future__ import annotations

import pytest

from drs_analytics import InvalidIDError, fetch_actions
from drs_analytics.cache_admin import clear_cache


@pytest.fixture
def cached(emu, make_client):
    client = make_client()
    fetch_actions(emu.job_ids[:5], client=client, progress=False)
    assert client.cache_info()["mine"] == 5
    return client


@pytest.mark.parametrize("job_ids", ["a", "163b98e8-6088-46c3-8b86-c18fea6jb502", b"abc"])
def test_a_single_string_is_refused_and_nothing_is_deleted(emu, cached, job_ids):
    with pytest.raises(TypeError, match=r"not a single (str|bytes); wrap it"):
        cached.clear_cache(job_ids=job_ids)
    # the job's own ID as a string too (it would otherwise match per character: nothing, or worse)
    with pytest.raises(TypeError, match="not a single str"):
        cached.clear_cache(job_ids=emu.job_ids[0])
    assert cached.cache_info()["mine"] == 5


def test_a_non_iterable_is_refused(cached):
    with pytest.raises(TypeError, match="iterable of job IDs, got int"):
        cached.clear_cache(job_ids=42)
    assert cached.cache_info()["mine"] == 5


@pytest.mark.parametrize(("bad", "problem"), [("a/b", "contains '/'"), ("..", "contains '..'"), (7, "is a int"),
                                              ("", "is empty")])
def test_each_id_is_checked_before_anything_is_deleted(emu, cached, bad, problem):
    with pytest.raises(InvalidIDError, match=problem):
        cached.clear_cache(job_ids=[emu.job_ids[0], bad])
    assert cached.cache_info()["mine"] == 5


def test_a_list_a_tuple_or_a_generator_clears_those_jobs_only(emu, cached):
    assert cached.clear_cache(job_ids=[emu.job_ids[0]]) == 1
    assert cached.clear_cache(job_ids=(emu.job_ids[1], emu.job_ids[1], "not-cached-job")) == 1
    assert cached.clear_cache(job_ids=(j for j in emu.job_ids[2:4])) == 2
    assert cached.clear_cache(job_ids=[]) == 0
    left = cached.cache_entries()
    assert list(left["job_id"]) == [emu.job_ids[4]]
    # the module function takes the same argument checks
    with pytest.raises(TypeError):
        clear_cache(cached.cache, cached.identity, job_ids=emu.job_ids[4])
