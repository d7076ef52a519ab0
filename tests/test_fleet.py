"""Whole fleets through the list API: fetch_fleet, list_jobs, enrich=True, many targets."""

from __future__ import annotations

import math
from collections import Counter

import pandas as pd
import pytest

from drs_analytics import ConfigurationError, DRSClient, Target, fetch_actions, fetch_fleet, load_targets
from drs_analytics.emulator import Emulator
from drs_analytics.emulator.rules import job_actions
from drs_analytics.frame import FRAME_COLUMNS
from drs_analytics.listing import JOB_LIST_COLUMNS, META_COLUMNS
from drs_analytics.vocabulary import JOB_TYPES

from .conftest import FAST_RETRY


def _list_requests(emu) -> int:
    return emu.app.route_counts.get(("GET", "list_jobs"), 0)


def _actions_requests(emu) -> int:
    return emu.app.route_counts.get(("GET", "job_actions"), 0)


def _expected_pages(emu, limit: int, kinds=JOB_TYPES) -> int:
    """Requests our paging makes: a short page ends a scan; a full last page ends it via total_count."""
    top = Counter(job.job_type for job in emu.fleet if job.parent_id is None)
    return sum(max(1, math.ceil(top[kind] / limit)) for kind in kinds)


def _expected_rows(emu) -> int:
    total = 0
    for job in emu.fleet:
        available, unavailable, _ = job_actions(job)
        total += len(set(available) | set(unavailable))
    return total


def test_fleet_from_the_list_has_every_job_children_included(emu, client):
    result = fetch_fleet(client, page_size=10)
    assert set(result.jobs["job_id"]) == set(emu.job_ids)
    assert len(result.errors) == 0 and result.requested == len(emu.job_ids)
    assert _list_requests(emu) == _expected_pages(emu, 10)
    assert _actions_requests(emu) == 0
    assert len(result.frame) == _expected_rows(emu)
    assert list(result.frame.columns) == [*FRAME_COLUMNS, *META_COLUMNS]
    by_id = {job.id: job for job in emu.fleet}
    jobs = result.jobs.set_index("job_id")
    for job_id, row in jobs.iterrows():
        job = by_id[job_id]
        assert row["job_name"] == job.name and row["status"] == job.status and row["job_type"] == job.job_type
        assert (pd.isna(row["parent_id"]) and job.parent_id is None) or row["parent_id"] == job.parent_id
        expected_role = job.job_mode_role or None
        assert (pd.isna(row["job_role"]) and expected_role is None) or row["job_role"] == expected_role
        available, _, current = job_actions(job)
        assert row["n_available"] == len(set(available))
        assert (pd.isna(row["current_action"]) and current is None) or row["current_action"] == current
    assert jobs["parent_id"].notna().sum() == sum(job.parent_id is not None for job in emu.fleet) > 0


def test_list_and_actions_sources_give_the_same_frame(emu, make_client, tmp_path):
    listed = fetch_fleet(make_client(cache=False), page_size=7)
    before = _actions_requests(emu)
    per_job = fetch_fleet(make_client(cache=False), source="actions", page_size=7)
    assert _actions_requests(emu) - before == len(emu.job_ids)
    cols = ["job_id", "action", "available", "current_action", *META_COLUMNS]
    a = listed.frame[cols].astype(str).sort_values(["job_id", "action"]).reset_index(drop=True)
    b = per_job.frame[cols].astype(str).sort_values(["job_id", "action"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_fleet_frame_matches_fetch_actions_with_enrich(emu, make_client):
    fleet = fetch_fleet(make_client(cache=False), page_size=1000)
    enriched = fetch_actions(list(fleet.jobs["job_id"]), client=make_client(cache=False), enrich=True, progress=False)
    assert list(enriched.frame.columns) == [*FRAME_COLUMNS, *META_COLUMNS]
    cols = ["job_id", "action", "available", *META_COLUMNS]
    pd.testing.assert_frame_equal(
        fleet.frame[cols].astype(str).reset_index(drop=True), enriched.frame[cols].astype(str).reset_index(drop=True)
    )


def test_enrich_leaves_unlisted_jobs_na_and_plain_fetch_has_no_metadata(emu, make_client):
    emu.app.set_job_actions("00000000-0000-4000-8000-000000000jbz", ["PAUSE"], [], None)
    ids = [emu.job_ids[0], "00000000-0000-4000-8000-000000000jbz"]
    plain = fetch_actions(ids, client=make_client(cache=False), progress=False)
    assert list(plain.frame.columns) == list(FRAME_COLUMNS)
    rich = fetch_actions(ids, client=make_client(cache=False), enrich=True, progress=False)
    jobs = rich.jobs.set_index("job_id")
    assert jobs.loc[ids[0], "job_name"] == emu.fleet[0].name
    assert jobs.loc[ids[1], list(META_COLUMNS[1:])].isna().all()


def test_enrich_with_refresh_reads_the_job_list_again(emu, make_client):
    """refresh=True must not pair fresh actions with job metadata from cached list pages."""
    client = make_client()  # cached, fresh for the default 300 s
    job_id = emu.job_ids[0]
    first = fetch_actions([job_id], client=client, enrich=True, progress=False)
    job = next(j for j in emu.fleet if j.id == job_id)
    new_status = "PAUSING" if job.status != "PAUSING" else "INCRE_TRANSFER_STARTED"
    assert first.jobs.loc[0, "status"] == job.status != new_status
    job.status = new_status
    cached = fetch_actions([job_id], client=client, enrich=True, progress=False)
    assert cached.jobs.loc[0, "status"] != new_status  # list pages served fresh from the cache
    refreshed = fetch_actions([job_id], client=client, enrich=True, refresh=True, progress=False)
    assert refreshed.jobs.loc[0, "status"] == new_status and not refreshed.jobs.loc[0, "from_cache"]


@pytest.mark.parametrize("limit", [1, 2, 3, 1000])
def test_paging_edge_cases_count_requests_at_the_server(limit):
    with Emulator(jobs=12, seed=5) as emu, DRSClient(endpoint=emu.url, project_id=emu.project_id,
                                                     token=emu.token, cache=False) as client:
        result = fetch_fleet(client, page_size=limit)
        assert set(result.jobs["job_id"]) == set(emu.job_ids)
        assert _list_requests(emu) == _expected_pages(emu, limit)


def test_exact_multiple_of_the_page_size_costs_no_extra_request():
    with Emulator(jobs=40, seed=11) as emu, DRSClient(endpoint=emu.url, project_id=emu.project_id,
                                                      token=emu.token, cache=False) as client:
        top = Counter(job.job_type for job in emu.fleet if job.parent_id is None)
        kind, n = top.most_common(1)[0]
        divisor = next(d for d in range(2, n + 1) if n % d == 0)  # a page size dividing the count exactly
        limit = n // divisor
        result = fetch_fleet(client, job_type=kind, page_size=limit)
        assert _list_requests(emu) == divisor
        assert (result.jobs["job_type"] == kind).all()


def test_empty_project_gives_an_empty_result_in_one_request_per_type():
    with Emulator(jobs=0, seed=1) as emu, DRSClient(endpoint=emu.url, project_id=emu.project_id, token=emu.token,
                                                    cache=False) as client:
        result = fetch_fleet(client)
        assert len(result.frame) == 0 and len(result.jobs) == 0 and len(result.errors) == 0
        assert list(result.frame.columns) == [*FRAME_COLUMNS, *META_COLUMNS]
        assert _list_requests(emu) == len(JOB_TYPES)
        assert result.matrix().shape == (0, 0)


def test_list_pages_are_cached(emu, client):
    fetch_fleet(client, page_size=10)
    first = _list_requests(emu)
    again = fetch_fleet(client, page_size=10)
    assert _list_requests(emu) == first and again.jobs["from_cache"].all()


def test_list_jobs_frame(emu, client):
    jobs = client.list_jobs()
    assert list(jobs.columns) == list(JOB_LIST_COLUMNS)
    assert set(jobs["job_id"]) == set(emu.job_ids)
    by_id = {job.id: job for job in emu.fleet}
    row = jobs.iloc[0]
    job = by_id[row["job_id"]]
    assert row["engine_type"] == job.engine_type and bool(row["billing_tag"]) == job.billing_tag
    assert row["n_children"] == len(job.children)
    assert str(jobs["billing_tag"].dtype) == "boolean" and str(jobs["status"].dtype) == "category"
    sync = client.list_jobs("sync", status=["INCRE_TRANSFER_STARTED", "PAUSING"])
    expected = {j.id for j in emu.fleet if j.job_type == "sync" and j.parent_id is None
                and j.status in ("INCRE_TRANSFER_STARTED", "PAUSING")}
    assert set(sync.loc[sync["parent_id"].isna(), "job_id"]) == expected


def test_list_jobs_rejects_unknown_types_and_filters(client):
    with pytest.raises(ConfigurationError, match="unknown job type 'syncc'"):
        client.list_jobs("syncc")
    with pytest.raises(TypeError, match="unknown list filter 'colour'"):
        client.list_jobs("sync", colour="red")
    with pytest.raises(ValueError, match="source must be one of"):
        fetch_fleet(client, source="sdk")


def test_a_failing_list_scan_becomes_an_error_record_and_the_rest_proceed(emu, client):
    real = client.call

    def flaky(path, query=(), *, parse, refresh=False):
        if path.endswith("/jobs") and ("job_type", "migration") in list(query):
            from drs_analytics import ServerError

            raise ServerError("HTTP 500 from GET list: boom", status_code=500)
        return real(path, query, parse=parse, refresh=refresh)

    client.call = flaky
    result = fetch_fleet(client)
    assert list(result.errors["job_id"]) == ["<list job_type=migration>"]
    assert result.errors.loc[0, "project_id"] == emu.project_id
    migration = {j.id for j in emu.fleet if j.job_type == "migration"}
    assert set(result.jobs["job_id"]) == set(emu.job_ids) - migration


def test_two_projects_in_two_regions_in_one_frame(monkeypatch, tmp_path):
    with Emulator(jobs=25, seed=21, region="cn-south-2") as south, Emulator(jobs=15, seed=22, region="cn-south-4") as east:
        monkeypatch.setenv("SOUTH_AK", south.ak)
        monkeypatch.setenv("SOUTH_SK", south.sk)
        monkeypatch.setenv("EAST_TOKEN", east.token)
        targets = [
            {"endpoint": south.url, "region": "cn-south-2", "project_id": south.project_id,
             "ak_env": "SOUTH_AK", "sk_env": "SOUTH_SK"},
            Target(endpoint=east.url, region="cn-south-4", project_id=east.project_id, token_env="EAST_TOKEN"),
        ]
        result = fetch_fleet(targets=targets, client_options={"cache": tmp_path / "c.sqlite"})
        assert len(result.errors) == 0
        assert set(result.jobs["job_id"]) == set(south.job_ids) | set(east.job_ids)
        regions = result.jobs.groupby("region", observed=True)["job_id"].count().to_dict()
        assert regions == {"cn-south-2": len(south.job_ids), "cn-south-4": len(east.job_ids)}
        projects = result.frame.groupby("project_id", observed=True)["job_id"].nunique().to_dict()
        assert projects == {south.project_id: len(south.job_ids), east.project_id: len(east.job_ids)}
        assert result.matrix().shape[0] == len(south.job_ids) + len(east.job_ids)


def test_a_failing_target_becomes_error_records_and_the_others_proceed(monkeypatch, tmp_path):
    with Emulator(jobs=10, seed=31) as good, Emulator(jobs=10, seed=32) as bad:
        monkeypatch.setenv("GOOD_TOKEN", good.token)
        monkeypatch.setenv("BAD_TOKEN", "not-the-token")
        targets = [
            {"endpoint": good.url, "project_id": good.project_id, "token_env": "GOOD_TOKEN"},
            {"endpoint": bad.url, "project_id": bad.project_id, "token_env": "BAD_TOKEN"},
            {"endpoint": good.url, "project_id": good.project_id, "token_env": "UNSET_VARIABLE_X"},
        ]
        result = fetch_fleet(targets=targets, job_type="sync,migration", client_options={"cache": False,
                                                                                           "retry": FAST_RETRY})
        bad_label = f"{bad.url}/{bad.project_id}"
    wanted = {j.id for j in good.fleet if j.job_type in ("sync", "migration")}
    assert set(result.jobs["job_id"]) == wanted
    bad_rows = result.errors[result.errors["project_id"] == bad.project_id]
    assert sorted(bad_rows["job_id"]) == ["<list job_type=migration>", "<list job_type=sync>"]
    assert set(bad_rows["target"]) == {bad_label}  # the target is named
    assert (bad_rows["status_code"] == 401).all()
    unset = result.errors[result.errors["detail"].str.contains("UNSET_VARIABLE_X")]
    assert len(unset) == 1 and unset.iloc[0]["error_type"] == "ConfigurationError"
    assert "not-the-token" not in result.errors.to_csv()


def test_targets_file(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text(
        '[[target]]\nregion = "cn-south-2"\nproject_id = "0123456789abcdef0123456789abcdef"\nak_env = "A"\nsk_env = "B"\n'
        '[[target]]\nname = "lab"\nendpoint = "http://127.0.0.1:9"\nproject_id = "p2"\n'
    )
    targets = load_targets(path)
    assert targets[0] == Target(region="cn-south-2", project_id="0123456789abcdef0123456789abcdef", ak_env="A", sk_env="B")
    assert targets[1].label == "lab"
    path.write_text('[[target]]\nregion = "cn-south-2"\nsk = "oops"\n')
    with pytest.raises(ConfigurationError, match="credentials come from the environment only"):
        load_targets(path)
    path.write_text('[[target]]\nregion = "cn-south-2"\ncolour = "red"\n')
    with pytest.raises(ConfigurationError, match="unknown target key"):
        load_targets(path)
    path.write_text('[[target]]\nproject_id = "p"\n')
    with pytest.raises(ConfigurationError, match="needs a region or an endpoint"):
        load_targets(path)
    path.write_text("not toml [")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_targets(path)
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_targets(tmp_path / "missing.toml")


def _sync_project(n: int, seed: int = 3):
    """``n`` jobs of a sync-only tenant: whole sync families of a synthetic fleet, parents before children."""
    from drs_analytics.emulator import make_fleet

    jobs, families = [], {}
    for job in make_fleet(int(n * 2.6), seed=seed):
        if job.job_type == "sync":
            families.setdefault(job.parent_id or job.id, []).append(job)
    for family in families.values():
        if len(jobs) + len(family) > n:
            continue
        jobs.extend(family)
    assert len(jobs) == n
    return jobs


def test_a_10000_job_project_costs_at_most_10_list_requests():
    fleet = _sync_project(10_000)
    with Emulator(fleet=fleet, seed=3) as emu, DRSClient(endpoint=emu.url, project_id=emu.project_id,
                                                          token=emu.token, cache=False) as client:
        result = fetch_fleet(client, job_type="sync")
        requests = emu.app.request_count
    assert len(result.jobs) == 10_000 and len(result.errors) == 0
    assert requests == _list_requests(emu) <= 10
    top = sum(job.parent_id is None for job in fleet)
    assert requests == math.ceil(top / 1000)


def test_fleet_results_sort_the_heatmap_by_status(emu, client):
    from drs_analytics import plot_availability_matrix

    result = fetch_fleet(client)
    ax = plot_availability_matrix(result, sort="status")
    labels = " ".join(t.get_text() for t in ax.figure.findobj(lambda o: hasattr(o, "get_text")))
    top_status = result.jobs["status"].value_counts().index[0]
    assert top_status in labels


@pytest.mark.parametrize("page_size", [0, -1, True, 2.5, "10"])
def test_a_bad_page_size_is_refused_before_any_request(emu, client, page_size):
    with pytest.raises(ValueError, match="page_size"):
        fetch_fleet(client, page_size=page_size)
    with pytest.raises(ValueError, match="page_size"):
        fetch_fleet(targets=[client], page_size=page_size)
    with pytest.raises(ValueError, match="page_size"):
        client.list_jobs("sync", page_size=page_size)
    assert _list_requests(emu) == 0


def _after_first_list_page(emu, change):
    """Serve list pages as usual, calling ``change(app)`` once the first page has been answered."""
    app, real, served = emu.app, emu.app._list_jobs, []

    def list_jobs(request):
        response = real(request)
        served.append(1)
        if len(served) == 1:
            change(app)
        return response

    app._list_jobs = list_jobs


def _newest_sync(app):
    return max((j for j in app._top_level if j.job_type == "sync"), key=lambda j: j.create_time)


def test_a_job_deleted_between_pages_is_not_lost_silently(emu, client):
    from drs_analytics.emulator import listing as emu_listing
    from drs_analytics.listing import ListChangedWarning

    def delete_newest(app):
        victim = _newest_sync(app)
        for child in victim.children:
            del app.jobs[child]
        del app.jobs[victim.id]
        app._top_level = emu_listing.top_level_by_id(app.jobs.values())

    _after_first_list_page(emu, delete_newest)
    with pytest.warns(ListChangedWarning, match="job_type=sync.*changed while it was read"):
        result = fetch_fleet(client, job_type="sync", page_size=5)
    sync = {j.id for j in emu.fleet if j.job_type == "sync"}
    assert len(set(sync) - set(result.jobs["job_id"])) == 1  # the shift hid one job: said so, not silent


def test_a_job_added_between_pages_gives_no_duplicate(emu, client):
    import dataclasses

    from drs_analytics.emulator import listing as emu_listing
    from drs_analytics.listing import ListChangedWarning

    def add_newest(app):
        base = next(j for j in app._top_level if j.job_type == "sync" and not j.children)
        new = dataclasses.replace(base, id="00000000-0000-4000-8000-000000000new", create_time="2999-01-01T00:00:00Z")
        app.jobs[new.id] = new
        app._top_level = emu_listing.top_level_by_id(app.jobs.values())

    _after_first_list_page(emu, add_newest)
    with pytest.warns(ListChangedWarning):
        result = fetch_fleet(client, job_type="sync", page_size=5)
    assert result.jobs["job_id"].is_unique
    assert set(result.jobs["job_id"]) == {j.id for j in emu.fleet if j.job_type == "sync"}


def test_a_server_giving_fewer_jobs_than_asked_is_read_to_the_end(emu, client, monkeypatch):
    # the maximum limit is undocumented: a server that clamps it must not end the scan at its first page
    import dataclasses

    from drs_analytics.emulator import listing as emu_listing

    real = emu_listing.parse_query

    def clamping(pairs, *, default_limit, max_limit):
        query = real(pairs, default_limit=default_limit, max_limit=10**9)
        return dataclasses.replace(query, limit=min(query.limit, 4))

    monkeypatch.setattr(emu_listing, "parse_query", clamping)
    result = fetch_fleet(client, page_size=1000)
    assert set(result.jobs["job_id"]) == set(emu.job_ids)
    assert _list_requests(emu) == _expected_pages(emu, 4)


def test_targets_file_that_is_not_text_or_not_a_file_is_a_configuration_error(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_bytes(b"\xff\xfe[[target]]\n")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_targets(path)
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_targets(tmp_path)


def test_repeated_targets_are_fetched_once_and_overlaps_warn_once(emu, make_client, monkeypatch, recwarn):
    monkeypatch.setenv("EMU_TOKEN", emu.token)
    same = {"endpoint": emu.url, "project_id": emu.project_id, "token_env": "EMU_TOKEN"}
    result = fetch_fleet(targets=[same, dict(same), {**same, "endpoint": emu.url + "/"}],
                         client_options={"cache": False})
    assert len(result.errors) == 0 and len(result.jobs) == len(emu.job_ids)
    assert _list_requests(emu) == _expected_pages(emu, 1000)
    assert len(recwarn) == 0
    # the same project through two clients: one warning for all the repeated jobs, not one per job
    with pytest.warns(UserWarning) as caught:
        result = fetch_fleet(targets=[make_client(cache=False), make_client(cache=False)])
    assert len(result.jobs) == len(emu.job_ids)
    repeated = [w for w in caught if "more than one target" in str(w.message)]
    assert len(repeated) == 1 and f"{len(emu.job_ids)} jobs" in str(repeated[0].message)


@pytest.mark.parametrize("filters", [{"status": 5}, {"status": b"PAUSED"}, {"name": ["a", 3]}, {"status": [b"X"]}])
def test_list_filters_must_be_strings_or_lists_of_strings(emu, client, filters):
    # bytes used to go out as their byte values ("80,65,..."), matching nothing, silently
    with pytest.raises(TypeError, match="a string or a list of strings"):
        fetch_fleet(client, **filters)
    with pytest.raises(TypeError, match="a string or a list of strings"):
        client.list_jobs("sync", **filters)
    assert _list_requests(emu) == 0


def test_a_refused_page_size_falls_back_to_smaller_pages():
    with Emulator(jobs=30, seed=12, list_max_limit=100) as emu, DRSClient(
            endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False) as client:
        result = fetch_fleet(client, page_size=1000)
        assert set(result.jobs["job_id"]) == set(emu.job_ids) and len(result.errors) == 0
        # per job type: three refused requests (1000, 500, 200), then pages of 100
        assert _list_requests(emu) == 3 * len(JOB_TYPES) + _expected_pages(emu, 100)


def test_a_closed_client_says_so(emu, make_client):
    client = make_client()
    client.close()
    with pytest.raises(ConfigurationError, match="this DRSClient is closed"):
        fetch_actions(emu.job_ids[:2], client=client)
    with pytest.raises(ConfigurationError, match="closed"):
        fetch_fleet(client)


def test_a_single_target_instead_of_a_list_is_named(emu):
    with pytest.raises(TypeError, match="targets must be a list of targets, not a single dict"):
        fetch_fleet(targets={"endpoint": emu.url, "project_id": emu.project_id})
    with pytest.raises(TypeError, match="not a single str"):
        fetch_fleet(targets="cn-south-2")
