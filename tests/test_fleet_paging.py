"""List paging against servers that misbehave: one that ignores ``offset``, one that refuses ``limit``."""

from __future__ import annotations

import json
import warnings

import pytest

from drs_analytics import DRSClient, fetch_fleet
from drs_analytics.emulator import Emulator
from drs_analytics.emulator import listing as emu_listing
from drs_analytics.exceptions import APIError
from drs_analytics.listing import (
    FALLBACK_PAGE_SIZES,
    MAX_PAGES_FACTOR,
    MAX_STALE_PAGES,
    ListChangedWarning,
    iter_jobs,
)

pytestmark = pytest.mark.timeout(60)


def _list_requests(emu) -> int:
    return emu.app.route_counts.get(("GET", "list_jobs"), 0)


def _sync_order(emu) -> list[str]:
    """Top-level sync jobs as the emulator pages them: newest first, ties by ascending ID."""
    top = sorted((j for j in emu.fleet if j.parent_id is None and j.job_type == "sync"), key=lambda j: j.id)
    return [j.id for j in sorted(top, key=lambda j: j.create_time, reverse=True)]


@pytest.fixture
def ignoring_offset(monkeypatch):
    """The emulator answers every list request as if offset were 0."""
    import dataclasses

    real = emu_listing.parse_query

    def first_page_always(pairs, *, default_limit, max_limit):
        return dataclasses.replace(real(pairs, default_limit=default_limit, max_limit=max_limit), offset=0)

    monkeypatch.setattr(emu_listing, "parse_query", first_page_always)


@pytest.fixture
def limits_sent(monkeypatch):
    """The ``limit`` of each list request the emulator received, in order."""
    sent = []
    real = emu_listing.parse_query

    def recording(pairs, *, default_limit, max_limit):
        pairs = list(pairs)
        sent.append(int(dict(pairs)["limit"]))
        return real(pairs, default_limit=default_limit, max_limit=max_limit)

    monkeypatch.setattr(emu_listing, "parse_query", recording)
    return sent


def test_a_server_ignoring_offset_ends_the_scan_with_a_warning(emu, client, ignoring_offset):
    order = _sync_order(emu)
    assert len(order) > 10  # several pages of 5
    with pytest.warns(ListChangedWarning, match=r"job_type=sync.*offset 10 brought no job not already seen, "
                                                r"again \(does the server ignore offset\?\)") as rec:
        ids = [job.job_id for job in iter_jobs(client, "sync", page_size=5) if job.parent_id is None]
    assert ids == order[:5]
    # the first page, then the same twice (once could be jobs deleted as fast as others are created): stop
    assert _list_requests(emu) == 3
    assert f"total_count {len(order)}" in str(rec[0].message) and "some jobs may be missing" in str(rec[0].message)


def test_a_server_ignoring_offset_without_total_count_does_not_loop(emu, client, ignoring_offset):
    real = emu.app._list_jobs

    def no_total_count(request):
        response = real(request)
        body = json.loads(response.body)
        del body["total_count"]
        response.body = json.dumps(body).encode()
        response.headers["Content-Length"] = str(len(response.body))
        response.headers.pop("ETag", None)
        return response

    emu.app._list_jobs = no_total_count
    with pytest.warns(ListChangedWarning, match="brought no job not already seen"):
        frame = client.list_jobs("sync", page_size=5)
    assert list(frame.loc[frame["parent_id"].isna(), "job_id"]) == _sync_order(emu)[:5]
    # without a count, "ignores offset" cannot be told from "growing fast": the first page,
    # then MAX_STALE_PAGES pages bringing nothing new
    assert MAX_STALE_PAGES == 3 and _list_requests(emu) == 1 + MAX_STALE_PAGES


class _GrowingList:
    """A duck-typed client whose list is sorted newest first, as the API's default is, and gains
    ``created`` new jobs after each of the first ``times`` pages it serves."""

    project_id = "p"

    def __init__(self, n: int, created: int, times: int, with_count: bool = True) -> None:
        self.jobs = [f"old-{i:03d}" for i in range(n)][::-1]
        self.created, self.times, self.with_count, self.served = created, times, with_count, 0

    def call(self, path, query, parse, refresh=False):
        q = dict(query)
        offset, limit = int(q["offset"]), int(q["limit"])
        body = {"jobs": [{"id": j} for j in self.jobs[offset:offset + limit]]}
        if self.with_count:
            body["total_count"] = len(self.jobs)
        response = _FakeResponse(json.dumps(body).encode())
        if self.served < self.times:
            self.jobs[:0] = [f"new-{self.served}-{k}" for k in range(self.created)]
        self.served += 1
        return parse(response, "GET"), response, 1


class _FakeList:
    """A duck-typed client over a list sorted newest first; ``change(jobs, served)`` runs after
    each page; ``ignore_offset`` serves the first page always; ``count``: "always", "never" or
    "later" (not on the first page)."""

    project_id = "p"

    def __init__(self, n, *, change=None, ignore_offset=False, count="always", id_less=()):
        self.jobs = [f"old-{i:03d}" for i in range(n)][::-1]
        self.change, self.ignore_offset, self.count, self.id_less = change, ignore_offset, count, set(id_less)
        self.served = 0

    def call(self, path, query, parse, refresh=False):
        q = dict(query)
        offset, limit = 0 if self.ignore_offset else int(q["offset"]), int(q["limit"])
        page = [{"name": j} if j in self.id_less else {"id": j} for j in self.jobs[offset:offset + limit]]
        body = {"jobs": page}
        if self.count == "always" or (self.count == "later" and self.served):
            body["total_count"] = len(self.jobs)
        response = _FakeResponse(json.dumps(body).encode())
        self.served += 1
        if self.change:
            self.change(self.jobs, self.served)
        assert self.served < 5000, "the scan does not end"
        return parse(response, "GET"), response, 1


def _scan(fake, page_size):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ids = {job.job_id for job in iter_jobs(fake, "sync", page_size=page_size)}
    return ids, [str(w.message) for w in caught]


def _create(k, times):
    def change(jobs, served):
        if served <= times:
            jobs[:0] = [f"new-{served}-{i}" for i in range(k)]
    return change


@pytest.mark.parametrize("page_size", [1, 2, 5, 10])
def test_a_server_ignoring_offset_while_jobs_keep_coming_still_stops(page_size):
    fake = _FakeList(30, change=_create(1, 10**9), ignore_offset=True)
    ids, messages = _scan(fake, page_size)
    assert fake.served <= MAX_PAGES_FACTOR * (30 // page_size + 1)
    assert any("does the server ignore offset" in m or "more than this list can need" in m for m in messages)


@pytest.mark.parametrize("page_size", [1, 2, 5, 10])
def test_jobs_created_and_deleted_once_between_pages_lose_nothing(page_size):
    def churn(jobs, served):  # once: a page's worth created, as many of the oldest deleted
        if served == 1:
            jobs[:0] = [f"new-{i}" for i in range(page_size)]
            del jobs[-page_size:]
    fake = _FakeList(30, change=churn)
    kept = set(fake.jobs[:30 - page_size])  # the jobs present throughout
    ids, _ = _scan(fake, page_size)
    assert kept <= ids


def test_a_page_of_entries_without_an_id_does_not_end_the_scan():
    fake = _FakeList(20, id_less={"old-017", "old-016"})  # the whole second page of 2
    ids, messages = _scan(fake, 2)
    assert ids >= {f"old-{i:03d}" for i in range(20)} - {"old-017", "old-016"} and not messages


def test_a_count_first_given_on_a_later_page_is_not_taken_for_no_growth():
    # jobs created after the first page, which had no count: the later count cannot show that growth
    fake = _FakeList(30, change=_create(2, 1), count="later")
    ids, _ = _scan(fake, 2)
    assert {f"old-{i:03d}" for i in range(30)} <= ids


class _FakeResponse:
    status_code, url, from_cache = 200, "http://127.0.0.1/v5/p/jobs", False

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.headers = {"Date": "Fri, 04 Dec 2026 08:00:00 GMT"}


@pytest.mark.parametrize(("page_size", "created", "times", "with_count"), [
    (2, 2, 2, True),   # every page after the first holds only jobs already seen, twice
    (10, 10, 2, True),
    (2, 1, 5, True),
    (2, 4, 1, True),   # one burst of two pages' worth: pages with nothing new once the count is steady again
    (5, 20, 1, True),
    (10, 25, 1, True),
    (5, 5, 2, False),  # no count: two pages with nothing new, under the limit of three
])
def test_a_list_growing_during_the_scan_loses_no_job(page_size, created, times, with_count):
    client = _GrowingList(30, created, times, with_count)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = {job.job_id for job in iter_jobs(client, "sync", page_size=page_size)}
    assert {f"old-{i:03d}" for i in range(30)} <= got  # every job that existed throughout
    messages = [str(w.message) for w in caught]
    # the changing count is reported (a job created during a scan may be missed); no early stop
    assert all("changed while it was read" in m for m in messages) and len(messages) == int(with_count)


def test_a_normal_scan_gives_no_warning(emu, client):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ids = [job.job_id for job in iter_jobs(client, "sync", page_size=5) if job.parent_id is None]
    assert ids == _sync_order(emu)


@pytest.mark.parametrize(
    "max_limit, refused",
    [
        (1000, []),
        (999, [1000]),
        (150, [1000, 500, 200]),
        (99, [1000, 500, 200, 100]),
    ],
)
def test_a_refused_limit_falls_back_1000_500_200_100_10(limits_sent, max_limit, refused):
    assert FALLBACK_PAGE_SIZES == (500, 200, 100, 10)
    with Emulator(jobs=150, seed=12, list_max_limit=max_limit) as emu, DRSClient(
            endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False) as client:
        jobs = list(iter_jobs(client, "sync", page_size=1000))
    syncs = [j for j in emu.fleet if j.job_type == "sync"]
    n_top = sum(j.parent_id is None for j in syncs)
    assert 10 < n_top < 100
    assert {j.job_id for j in jobs} == {j.id for j in syncs}
    accepted = 1000 if max_limit == 1000 else {999: 500, 150: 100, 99: 10}[max_limit]
    pages = -(-n_top // accepted)  # a full last page ends the scan through total_count
    assert limits_sent == refused + [accepted] * pages


def test_a_limit_refused_down_to_10_is_an_error_record(limits_sent):
    with Emulator(jobs=30, seed=12, list_default_limit=5, list_max_limit=5) as emu, DRSClient(
            endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False) as client:
        with pytest.raises(APIError) as info:
            list(iter_jobs(client, "sync", page_size=1000))
        assert info.value.error_code == "DRS.M00211"
        assert limits_sent == [1000, 500, 200, 100, 10]
        result = fetch_fleet(client, job_type="sync")
    assert len(result.jobs) == 0 and list(result.errors["job_id"]) == ["<list job_type=sync>"]


# --- targets checked before any request ------------------------------------------------------


@pytest.mark.parametrize(
    "bad, shown",
    [(42, "targets[1] is 42"), (None, "targets[1] is None"), ("ghp_secret_token_value", "targets[1] is a str of length 22")],
)
def test_a_bad_target_after_a_good_one_is_refused_before_any_request(emu, monkeypatch, bad, shown):
    monkeypatch.setenv("GOOD_TOKEN", emu.token)
    good = {"endpoint": emu.url, "project_id": emu.project_id, "token_env": "GOOD_TOKEN"}
    with pytest.raises(TypeError) as info:
        fetch_fleet(targets=[good, bad], client_options={"cache": False})
    assert shown in str(info.value) and "a target is a DRSClient, a Target or a mapping" in str(info.value)
    assert "ghp_secret" not in str(info.value)
    assert emu.app.request_count == 0


def test_a_malformed_mapping_or_closed_client_is_refused_before_any_request(emu, make_client, monkeypatch):
    from drs_analytics import ConfigurationError

    monkeypatch.setenv("GOOD_TOKEN", emu.token)
    good = {"endpoint": emu.url, "project_id": emu.project_id, "token_env": "GOOD_TOKEN"}
    with pytest.raises(ConfigurationError, match=r"targets\[2\]: unknown target key\(s\) 'colour'"):
        fetch_fleet(targets=[good, make_client(), {"region": "cn-south-2", "colour": "red"}])
    with pytest.raises(ConfigurationError, match=r"targets\[1\]: target key 'sk'"):
        fetch_fleet(targets=[good, {"region": "cn-south-2", "sk": "not-shown-123"}])
    closed = make_client()
    closed.close()
    with pytest.raises(ConfigurationError, match=r"targets\[1\]: this DRSClient is closed"):
        fetch_fleet(targets=[good, closed])
    assert emu.app.request_count == 0


def test_a_status_filter_selects_parents_and_brings_their_children_whatever_their_status():
    # what the docstrings and README say: the filter applies to parent (top-level) jobs
    with Emulator(jobs=300, seed=7) as emu, DRSClient(
            endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False) as client:
        frame = client.list_jobs("sync", status="INCRE_TRANSFER_STARTED")
    by_id = {j.id: j for j in emu.fleet}
    parents = {j.id for j in emu.fleet if j.job_type == "sync" and j.parent_id is None
               and j.status == "INCRE_TRANSFER_STARTED"}
    children = {j.id for j in emu.fleet if j.parent_id in parents}
    assert set(frame["job_id"]) == parents | children
    assert {by_id[c].status for c in children} - {"INCRE_TRANSFER_STARTED"}  # children in other statuses
    listed_children = frame[frame["parent_id"].notna()]
    assert set(listed_children["status"]) == {by_id[c].status for c in children}
    hidden = {j.id for j in emu.fleet if j.job_type == "sync" and j.parent_id is not None
              and j.status == "INCRE_TRANSFER_STARTED" and j.parent_id not in parents}
    assert not hidden & set(frame["job_id"])
