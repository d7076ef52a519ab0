"""``GET /v5/{project_id}/jobs`` (ListJobs) of the emulator: paging, checks, filters, sorts, children.

DOMAIN.md 3.1 and 7.4: ``job_type`` required, ``offset``/``limit`` (default 10, max 1000),
``total_count`` independent of paging, each job (and child) with its ``job_action``,
the same ``job_action`` ``/actions`` serves at the same moment.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import requests

from drs_analytics.emulator import DRSApp, Emulator, Faults, Job, make_fleet
from drs_analytics.emulator.listing import JOB_FIELDS, JOB_TYPES

pytestmark = pytest.mark.timeout(60)

T = 5  # seconds, every request is bounded
PID = "p" * 32
TOKEN = "tok"
AUTH = {"X-Auth-Token": TOKEN}
JOB_LIST_KEYS = {*JOB_FIELDS, "job_action"}  # JobListResp; parents add "children"


def app_of(fleet, **kwargs) -> DRSApp:
    return DRSApp(fleet, project_id=PID, token=TOKEN, **kwargs)


def list_jobs(app: DRSApp, query: str = "job_type=sync", *, project_id: str = PID, headers=None):
    return app.handle("GET", f"/v5/{project_id}/jobs?{query}", AUTH if headers is None else headers)


def actions(app: DRSApp, job_id: str):
    return app.handle("GET", f"/v5/{PID}/jobs/{job_id}/actions", AUTH)


def top_level(fleet, job_type=None):
    return [j for j in fleet if j.parent_id is None and (job_type is None or j.job_type == job_type)]


def expected_order(jobs, field="create_time", descending=True):
    """Sort key, ties by ascending ID whatever the direction."""
    by_id = sorted(jobs, key=lambda j: j.id)
    return [j.id for j in sorted(by_id, key=lambda j: getattr(j, field), reverse=descending)]


def simple_jobs(n, job_type="sync", **fields) -> list[Job]:
    """``n`` top-level jobs with distinct IDs and creation times."""
    return [
        Job(
            id=f"{i:08x}-0000-4000-8000-0000000jb{i % 1000:03d}",
            name=f"DRS-{i:05d}",
            status="INCRE_TRANSFER_STARTED",
            create_time=f"2025-01-01 00:{i // 60 % 60:02d}:{i % 60:02d}",
            job_type=job_type,
            **fields,
        )
        for i in range(n)
    ]


def collect(app: DRSApp, query: str, limit: int) -> tuple[list[str], int, int]:
    """Page through ``query``; return IDs, total_count and the number of requests."""
    ids, offset, requests_made = [], 0, 0
    while True:
        body = list_jobs(app, f"{query}&offset={offset}&limit={limit}").json()
        requests_made += 1
        ids += [job["id"] for job in body["jobs"]]
        if not body["jobs"]:
            return ids, body["total_count"], requests_made
        offset += limit


@pytest.fixture(scope="module")
def fleet():
    return make_fleet(300, seed=7)


@pytest.fixture
def app(fleet):
    return app_of(fleet)


# --- paging ----------------------------------------------------------------------------------


def test_default_limit_is_10_and_default_sort_is_create_time_desc(app, fleet):
    response = list_jobs(app)
    assert response.status == 200 and response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    syncs = top_level(fleet, "sync")
    assert body["total_count"] == len(syncs) > 10
    assert [j["id"] for j in body["jobs"]] == expected_order(syncs)[:10]


def test_pages_cover_every_job_once(app, fleet):
    for job_type in JOB_TYPES:
        ids, total, _ = collect(app, f"job_type={job_type}", limit=7)
        assert ids == expected_order(top_level(fleet, job_type)) and total == len(ids)


def test_exact_multiple_of_limit():
    app = app_of(simple_jobs(30))
    ids, total, made = collect(app, "job_type=sync", limit=10)
    assert len(ids) == len(set(ids)) == total == 30 and made == 4  # three full pages, then an empty one
    assert list_jobs(app, "job_type=sync&offset=20&limit=10").json()["jobs"][-1]["id"] == ids[-1]


def test_limit_one():
    app = app_of(simple_jobs(5))
    ids, total, made = collect(app, "job_type=sync", limit=1)
    assert ids == expected_order(simple_jobs(5)) and total == 5 and made == 6


def test_empty_project_and_empty_filter_result():
    assert list_jobs(app_of([])).json() == {"total_count": 0, "jobs": []}
    app = app_of(simple_jobs(4))
    assert list_jobs(app, "job_type=replay").json() == {"total_count": 0, "jobs": []}
    assert list_jobs(app, "job_type=sync&status=PAUSING").json() == {"total_count": 0, "jobs": []}


@pytest.mark.parametrize("offset", [12, 13, 1000, 10**12])
def test_offset_past_the_end(offset):
    body = list_jobs(app_of(simple_jobs(12)), f"job_type=sync&offset={offset}").json()
    assert body == {"total_count": 12, "jobs": []}


def test_total_count_ignores_paging(app, fleet):
    total = len(top_level(fleet, "migration"))
    for query in ("offset=0&limit=1", "offset=5&limit=3", "limit=1000", "offset=999"):
        assert list_jobs(app, f"job_type=migration&{query}").json()["total_count"] == total


def test_limit_knobs():
    app = app_of(simple_jobs(60), list_default_limit=4, list_max_limit=50)
    assert len(list_jobs(app).json()["jobs"]) == 4
    assert len(list_jobs(app, "job_type=sync&limit=50").json()["jobs"]) == 50
    assert list_jobs(app, "job_type=sync&limit=51").json()["error_code"] == "DRS.M00211"


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"list_max_limit": 0}, "list_max_limit"),
        ({"list_default_limit": 0}, "list_default_limit"),
        ({"list_default_limit": 2.5}, "list_default_limit"),
        ({"list_default_limit": 11, "list_max_limit": 10}, "list_default_limit"),
        ({"list_max_limit": True}, "list_max_limit"),
    ],
)
def test_limit_knob_validation(kwargs, word):
    with pytest.raises(ValueError, match=word):
        app_of([], **kwargs)


# --- validation errors -------------------------------------------------------------------------

M00201 = ("DRS.M00201", "The parameter job_type is empty.")
M00211 = ("DRS.M00211", "The value of Page exceeds the upper limit.")


def invalid(name):
    return ("DRS.M00202", f"The value of parameter {name} is invalid.")


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", M00201),
        ("offset=0", M00201),
        ("job_type=", M00201),
        ("job_type=%20", M00201),
        ("job_type=Sync", invalid("job_type")),
        ("job_type=subscription", invalid("job_type")),
        ("job_type=sync&sort_key=id", invalid("sort_key")),
        ("job_type=sync&sort_key=charging_mode", invalid("sort_key")),
        ("job_type=sync&sort_dir=up", invalid("sort_dir")),
        ("job_type=sync&sort_dir=DESC", invalid("sort_dir")),
        ("job_type=sync&name=" + ",".join(f"n{i}" for i in range(11)), invalid("name")),
        ("job_type=sync&instance_ids=" + ",".join(f"i{i}" for i in range(11)), invalid("instance_ids")),
        ("job_type=sync&limit=1001", M00211),
        ("job_type=sync&limit=99999999999999999999", M00211),
    ],
)
def test_query_errors(app, query, expected):
    response = list_jobs(app, query)
    assert response.status == 400
    assert response.json() == {"error_code": expected[0], "error_msg": expected[1]}


@pytest.mark.parametrize(
    "query, name",
    [
        ("offset=-1", "offset"),
        ("offset=abc", "offset"),
        ("offset=1.5", "offset"),
        ("offset=%2B1", "offset"),
        ("limit=0", "limit"),
        ("limit=-5", "limit"),
        ("limit=ten", "limit"),
        ("limit=%D9%A3", "limit"),  # an Arabic-Indic digit is not an integer here
    ],
)
def test_page_errors(app, query, name):
    response = list_jobs(app, f"job_type=sync&{query}")
    assert response.status == 400
    body = response.json()
    assert body["error_code"] == "DRS.M00210" and body["error_msg"].startswith("The value of Page is invalid, ")
    assert name in body["error_msg"]


def test_error_messages_follow_x_language(app):
    body = list_jobs(app, "offset=0", headers={**AUTH, "X-Language": "zh-cn"}).json()
    assert body == {"error_code": "DRS.M00201", "error_msg": "参数job_type为空。"}


def test_blank_paging_values_mean_the_defaults(app):
    assert list_jobs(app, "job_type=sync&offset=&limit=").json() == list_jobs(app).json()


def test_gateway_checks_come_first(app):
    assert list_jobs(app, "", headers={}).status == 401  # no token: 401 before the query checks
    other = list_jobs(app, "", project_id="0" * 32)
    assert other.status == 403 and other.json()["error_code"] == "DRS.M00261"
    assert app.handle("POST", f"/v5/{PID}/jobs?job_type=sync", AUTH).status == 404
    assert app.handle("GET", f"/v5/{PID}/jobs/?job_type=sync", AUTH).status == 404


# --- filters -------------------------------------------------------------------------------------


def ids_of(app, query):
    body = list_jobs(app, query + "&limit=1000").json()
    assert body["total_count"] == len(body["jobs"])
    return sorted(j["id"] for j in body["jobs"])


def test_status_filter_is_a_comma_list(app, fleet):
    syncs = top_level(fleet, "sync")
    wanted = {"INCRE_TRANSFER_STARTED", "PAUSING"}
    expected = sorted(j.id for j in syncs if j.status in wanted)
    assert expected and ids_of(app, "job_type=sync&status=INCRE_TRANSFER_STARTED,PAUSING") == expected
    assert ids_of(app, "job_type=sync&status=%20PAUSING%20,,") == sorted(j.id for j in syncs if j.status == "PAUSING")
    assert ids_of(app, "job_type=sync&status=") == sorted(j.id for j in syncs)


def test_name_filter_ids_and_substrings():
    jobs = simple_jobs(12)
    jobs[3].name, jobs[7].name = "orders-sync-eu", "ORDERS-sync-us"
    app = app_of(jobs)
    assert ids_of(app, "job_type=sync&name=orders") == [jobs[3].id]  # substring, case-sensitive [I]
    assert ids_of(app, "job_type=sync&name=sync-") == sorted([jobs[3].id, jobs[7].id])
    assert ids_of(app, f"job_type=sync&name={jobs[5].id}") == [jobs[5].id]
    assert ids_of(app, f"job_type=sync&name={jobs[5].id[:8]}") == []  # IDs match whole, names by part
    nine = [0, 1, 2, 4, 5, 6, 8, 9, 10]
    ten = ",".join([jobs[i].id for i in nine] + ["ORDERS"])  # ten terms: the most allowed
    assert ids_of(app, f"job_type=sync&name={ten}") == sorted(jobs[i].id for i in [*nine, 7])
    assert ids_of(app, "job_type=sync&name=nothing-like-it") == []


@pytest.mark.parametrize("field", ["engine_type", "net_type", "enterprise_project_id"])
def test_exact_filters(app, fleet, field):
    syncs = top_level(fleet, "sync")
    for value, _ in Counter(getattr(j, field) for j in syncs).most_common(3):
        expected = sorted(j.id for j in syncs if getattr(j, field) == value)
        assert ids_of(app, f"job_type=sync&{field}={value}") == expected
    assert ids_of(app, f"job_type=sync&{field}=no-such-value") == []
    assert ids_of(app, f"job_type=sync&{field}=") == sorted(j.id for j in syncs)  # blank: all


def test_filters_combine(app, fleet):
    syncs = top_level(fleet, "sync")
    expected = sorted(j.id for j in syncs if j.status == "INCRE_TRANSFER_STARTED" and j.net_type == "eip")
    assert expected and ids_of(app, "job_type=sync&status=INCRE_TRANSFER_STARTED&net_type=eip") == expected


def test_instance_filters_match_no_synthetic_job(app):
    assert ids_of(app, "job_type=sync&instance_ids=a,b") == []
    assert ids_of(app, "job_type=sync&instance_ip=10.0.0.1") == []
    assert ids_of(app, "job_type=sync&instance_ids=&instance_ip=") != []


# --- sorts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sort_key, field",
    [("name", "name"), ("status", "status"), ("create_time", "create_time"), ("net_type", "net_type"),
     ("job_direction", "job_direction"), ("pay_mode", "charging_mode")],
)  # fmt: skip
@pytest.mark.parametrize("sort_dir", ["asc", "desc"])
def test_sorts_with_id_tie_break(app, fleet, sort_key, field, sort_dir):
    ids, _, _ = collect(app, f"job_type=sync&sort_key={sort_key}&sort_dir={sort_dir}", limit=13)
    assert ids == expected_order(top_level(fleet, "sync"), field, descending=sort_dir == "desc")


def test_ties_are_broken_by_id_so_pages_never_overlap():
    jobs = simple_jobs(25)
    for job in jobs:
        job.create_time = "2025-01-01 00:00:00"
    app = app_of(list(reversed(jobs)))
    for sort_dir in ("asc", "desc"):
        ids, _, _ = collect(app, f"job_type=sync&sort_dir={sort_dir}", limit=4)
        assert ids == sorted(j.id for j in jobs)


# --- job objects, children, job_action -----------------------------------------------------------


def all_listed(app):
    """Every top-level job object of every type."""
    out = []
    for job_type in JOB_TYPES:
        out += list_jobs(app, f"job_type={job_type}&limit=1000").json()["jobs"]
    return out


def test_job_objects_carry_every_job_list_resp_field(app, fleet):
    by_id = {j.id: j for j in fleet}
    listed = all_listed(app)
    assert sorted(j["id"] for j in listed) == sorted(j.id for j in top_level(fleet))
    for entry in listed:
        job = by_id[entry["id"]]
        assert set(entry) == JOB_LIST_KEYS | ({"children"} if job.children else set())
        assert list(entry)[: len(JOB_FIELDS)] == list(JOB_FIELDS)  # the SDK model's order
        assert all(entry[name] == getattr(job, name) for name in JOB_FIELDS)
        assert isinstance(entry["billing_tag"], bool) and isinstance(entry["is_multi_az"], bool)


def test_children_with_their_own_job_action_under_the_right_parent(app, fleet):
    by_id = {j.id: j for j in fleet}
    parents = [entry for entry in all_listed(app) if "children" in entry]
    assert len(parents) == sum(1 for j in fleet if j.children) > 0
    for parent in parents:
        assert [c["id"] for c in parent["children"]] == by_id[parent["id"]].children
        for child in parent["children"]:
            assert set(child) == JOB_LIST_KEYS  # ChildrenJobListResp: no nested children
            assert by_id[child["id"]].parent_id == parent["id"]
            assert child["job_mode_role"] == "child"
            assert child["job_action"] == actions(app, child["id"]).json()["job_action"]


def test_children_are_not_listed_at_top_level(app, fleet):
    listed = {entry["id"] for entry in all_listed(app)}
    assert not listed & {j.id for j in fleet if j.parent_id}


def every_job_action(app):
    """job ID -> job_action, from the list (children included)."""
    out = {}
    for entry in all_listed(app):
        out[entry["id"]] = entry["job_action"]
        out.update((child["id"], child["job_action"]) for child in entry.get("children", ()))
    return out


@pytest.mark.parametrize("idle", ["null", "empty", "absent"])
def test_list_job_action_equals_actions_for_every_job(fleet, idle):
    app = app_of(fleet, idle_current_action=idle)
    listed = every_job_action(app)
    assert set(listed) == {j.id for j in fleet}
    for job_id, job_action in listed.items():
        assert job_action == actions(app, job_id).json()["job_action"] == app.job_action(job_id)


def test_overrides_show_in_the_list_too(app, fleet):
    parent = next(j for j in fleet if j.children)
    plain = next(j for j in fleet if not j.children and not j.parent_id)
    app.set_job_actions(parent.id, ["PAUSE", "PAUSE", "NOT_AN_ACTION"], ["PAUSE"], "SWITCH_OVER")
    app.set_job_actions(parent.children[0], [], [], None)
    app.set_job_actions(plain.id, ["DELETE"], [], "")
    listed = every_job_action(app)
    assert listed[parent.id] == {
        "available_actions": ["PAUSE", "PAUSE", "NOT_AN_ACTION"],
        "unavailable_actions": ["PAUSE"],
        "current_action": "SWITCH_OVER",
    }
    assert listed[parent.children[0]] == {"available_actions": [], "unavailable_actions": [], "current_action": None}
    assert listed[plain.id]["current_action"] == ""
    for job_id, job_action in listed.items():
        assert job_action == actions(app, job_id).json()["job_action"]
    app.clear_overrides()
    assert every_job_action(app) == {j.id: app.job_action(j.id) for j in fleet}


def test_raw_response_override_affects_only_actions(app, fleet):
    job = top_level(fleet, "sync")[0]
    before = every_job_action(app)[job.id]
    app.set_raw_response(job.id, 503, b"down")
    assert actions(app, job.id).status == 503
    assert every_job_action(app)[job.id] == before


def test_a_changed_job_shows_at_once_in_both(fleet):
    jobs = simple_jobs(3)
    app = app_of(jobs)
    jobs[1].status, jobs[1].current_action = "PAUSING", "RETRY"
    listed = every_job_action(app)[jobs[1].id]
    assert listed == actions(app, jobs[1].id).json()["job_action"] and listed["current_action"] == "RETRY"
    assert list_jobs(app, "job_type=sync&status=PAUSING").json()["total_count"] == 1


# --- over HTTP: counters, faults, the 10,000-job paging ---------------------------------------------


def test_route_counts_and_faults_over_http():
    with Emulator(jobs=30, seed=3) as emu, requests.Session() as session:
        session.headers["X-Auth-Token"] = emu.token
        url = f"{emu.url}/v5/{emu.project_id}/jobs"
        assert session.get(url, params={"job_type": "sync"}, timeout=T).status_code == 200
        assert session.get(url, timeout=T).status_code == 400
        assert emu.app.route_counts == {("GET", "list_jobs"): 2} and emu.app.request_count == 2
        assert emu.app.job_counts == {}
    faults = Faults(error_500=1.0)
    with Emulator(jobs=5, seed=3, faults=faults) as emu:
        url = f"{emu.url}/v5/{emu.project_id}/jobs?job_type=sync"
        response = requests.get(url, headers={"X-Auth-Token": emu.token}, timeout=T)
        assert response.status_code == 500 and response.json()["error_code"] == "DRS.M00004"


def test_ten_thousand_jobs_in_ten_requests_of_a_thousand():
    fleet = simple_jobs(10_000)
    with Emulator(fleet=fleet, seed=3) as emu, requests.Session() as session:
        session.headers["X-Auth-Token"] = emu.token
        url = f"{emu.url}/v5/{emu.project_id}/jobs"
        ids, started = [], time.perf_counter()
        for page in range(10):
            params = {"job_type": "sync", "offset": page * 1000, "limit": 1000}
            body = session.get(url, params=params, timeout=30).json()
            assert body["total_count"] == 10_000 and len(body["jobs"]) == 1000
            ids += [job["id"] for job in body["jobs"]]
        elapsed = time.perf_counter() - started
        assert emu.app.route_counts == {("GET", "list_jobs"): 10}
        assert len(set(ids)) == 10_000 and set(ids) == {j.id for j in fleet}
        assert elapsed < 10  # about 0.3 s on a laptop; generous for slow CI
