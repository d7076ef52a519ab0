"""The HTTP contract of ``GET /v5/{project_id}/jobs/{job_id}/actions``, over real sockets.

Expected bodies are copied from the API page and DOMAIN.md section 4.
"""

from __future__ import annotations

import json
import re

import pytest
import requests

from drs_analytics.emulator import DRSApp, Emulator, job_actions, make_fleet

pytestmark = pytest.mark.timeout(30)

T = 5  # seconds, every request is bounded
DOC_JOB_ID = "163b98e8-6088-46c3-8b86-c18fea6jb502"
DOC_EXAMPLE = {
    "job_action": {
        "available_actions": ["CREATE", "CHOOSE_OBJECT", "PRE_CHECK"],
        "unavailable_actions": ["START", "QUICK_START", "CHANGE", "RETRY"],
        "current_action": "SWITCH_OVER",
    }
}
NOT_FOUND = b'{"error_code":"DRS.10000010","error_msg":"Job does not exist, please check job ID."}'
BAD_PROJECT = b'{"error_code":"DRS.M00261","error_msg":"Invalid project ID."}'
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture(scope="module")
def emu():
    with Emulator(jobs=300, seed=7) as emulator:
        yield emulator


@pytest.fixture
def client(emu):
    emu.app.clear_overrides()
    emu.app.reset_counters()
    with requests.Session() as session:
        session.headers["X-Auth-Token"] = emu.token
        yield session
    emu.app.clear_overrides()


def actions_url(emu, job_id, project_id=None):
    return f"{emu.url}/v5/{project_id or emu.project_id}/jobs/{job_id}/actions"


def idle_job_id(emu):
    return next(j.id for j in emu.fleet if j.current_action is None)


def assert_common_headers(response):
    assert REQUEST_ID.match(response.headers["X-Request-Id"])
    assert response.headers["Date"].endswith(" GMT")
    assert int(response.headers["Content-Length"]) == len(response.content)
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"


# --- 200 ---------------------------------------------------------------------------------


def test_documented_example_served_exactly(emu, client):
    emu.app.set_job_actions(DOC_JOB_ID, ["CREATE", "CHOOSE_OBJECT", "PRE_CHECK"],
                            ["START", "QUICK_START", "CHANGE", "RETRY"], "SWITCH_OVER")  # fmt: skip
    response = client.get(actions_url(emu, DOC_JOB_ID), timeout=T)
    assert response.status_code == 200
    assert response.json() == DOC_EXAMPLE
    assert response.content == json.dumps(DOC_EXAMPLE, separators=(",", ":")).encode()
    assert_common_headers(response)


def test_override_lists_served_verbatim(emu, client):
    job_id = emu.job_ids[0]
    emu.app.set_job_actions(job_id, ["PAUSE", "PAUSE", "NOT_AN_ACTION"], ["PAUSE"], None)
    body = client.get(actions_url(emu, job_id), timeout=T).json()["job_action"]
    assert body == {"available_actions": ["PAUSE", "PAUSE", "NOT_AN_ACTION"], "unavailable_actions": ["PAUSE"],
                    "current_action": None}  # fmt: skip
    emu.app.clear_overrides(job_id)
    assert (
        client.get(actions_url(emu, job_id), timeout=T).json()["job_action"]["available_actions"]
        != body["available_actions"]
    )


def test_every_job_served_as_its_rules_say(emu, client):
    for job in emu.fleet:
        response = client.get(actions_url(emu, job.id), timeout=T)
        assert response.status_code == 200
        available, unavailable, current = job_actions(job)
        assert response.json() == {
            "job_action": {
                "available_actions": available,
                "unavailable_actions": unavailable,
                "current_action": current,
            }
        }


def test_query_string_is_ignored(emu, client):
    response = client.get(actions_url(emu, emu.job_ids[1]) + "?offset=3", timeout=T)
    assert response.status_code == 200 and "job_action" in response.json()


def test_children_are_reachable(emu, client):
    children = [j for j in emu.fleet if j.parent_id]
    assert children
    for child in children:
        assert client.get(actions_url(emu, child.id), timeout=T).status_code == 200


# --- errors ------------------------------------------------------------------------------


def test_missing_token(emu):
    response = requests.get(actions_url(emu, emu.job_ids[0]), timeout=T)
    assert response.status_code == 401
    assert response.json() == {
        "error_code": "APIGW.0301",
        "error_msg": "Incorrect IAM authentication information: x-auth-token not found",
        "request_id": response.headers["X-Request-Id"],
    }
    assert_common_headers(response)


def test_wrong_token(emu):
    response = requests.get(actions_url(emu, emu.job_ids[0]), headers={"X-Auth-Token": "nope"}, timeout=T)
    assert response.status_code == 401
    assert response.json() == {
        "error_code": "APIGW.0301",
        "error_msg": "Incorrect IAM authentication information: decrypt token fail",
        "request_id": response.headers["X-Request-Id"],
    }


@pytest.mark.parametrize("name", ["x-auth-token", "X-AUTH-TOKEN", "X-Auth-Token"])
def test_token_header_name_is_case_insensitive(emu, name):
    response = requests.get(actions_url(emu, emu.job_ids[0]), headers={name: emu.token}, timeout=T)
    assert response.status_code == 200


def test_wrong_project(emu, client):
    response = client.get(actions_url(emu, emu.job_ids[0], project_id="0" * 32), timeout=T)
    assert response.status_code == 403
    assert response.content == BAD_PROJECT
    assert_common_headers(response)


def test_unknown_job(emu, client):
    response = client.get(actions_url(emu, "00000000-0000-4000-8000-0000000jb000"), timeout=T)
    assert response.status_code == 400
    assert response.content == NOT_FOUND
    assert_common_headers(response)


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/v5/{pid}/jobs/{job}/action"),
        ("GET", "/v3/{pid}/jobs/{job}/actions"),
        ("GET", "/v5/{pid}/jobs/{job}/actions/"),
        ("GET", "/"),
        ("POST", "/v5/{pid}/jobs/{job}/actions"),
        ("DELETE", "/v5/{pid}/jobs/{job}/actions"),
        ("PUT", "/v5/{pid}/jobs/{job}/actions"),
    ],
)
def test_unknown_route_or_method_is_404_before_auth(emu, method, path):
    url = emu.url + path.format(pid=emu.project_id, job=emu.job_ids[0])
    response = requests.request(method, url, timeout=T)  # no token: the route check comes first
    assert response.status_code == 404
    assert response.json() == {
        "error_code": "APIGW.0101",
        "error_msg": "The API does not exist or has not been published in the environment.",
        "request_id": response.headers["X-Request-Id"],
    }
    assert_common_headers(response)


def test_check_order_auth_then_project_then_job(emu):
    url = actions_url(emu, "no-such-job", project_id="0" * 32)
    assert requests.get(url, timeout=T).status_code == 401
    assert requests.get(url, headers={"X-Auth-Token": emu.token}, timeout=T).status_code == 403
    url = actions_url(emu, "no-such-job")
    assert requests.get(url, headers={"X-Auth-Token": emu.token}, timeout=T).status_code == 400


def test_request_ids_unique_on_every_response(emu, client):
    urls = [actions_url(emu, emu.job_ids[0]), actions_url(emu, "nope"), actions_url(emu, "x", "p"), emu.url + "/x"]
    responses = [client.get(u, timeout=T) for u in urls * 10]
    responses += [requests.get(urls[0], timeout=T) for _ in range(5)]
    assert {r.status_code for r in responses} == {200, 400, 401, 403, 404}
    ids = [r.headers["X-Request-Id"] for r in responses]
    assert all(REQUEST_ID.match(i) for i in ids) and len(set(ids)) == len(ids)


def test_language_header(emu, client):
    url = actions_url(emu, "nope")
    zh = client.get(url, headers={"X-Language": "zh-cn"}, timeout=T)
    assert zh.status_code == 400
    assert zh.json() == {"error_code": "DRS.10000010", "error_msg": "任务不存在，请检查任务ID。"}
    assert client.get(url, headers={"X-Language": "en-us"}, timeout=T).content == NOT_FOUND
    assert client.get(url, headers={"X-Language": "fr-fr"}, timeout=T).content == NOT_FOUND
    ok = client.get(actions_url(emu, emu.job_ids[0]), headers={"X-Language": "zh-cn"}, timeout=T)
    assert ok.status_code == 200


def test_raw_response_override(emu, client):
    job_id = emu.job_ids[2]
    emu.app.set_raw_response(job_id, 500, b'{"error_code":"DRS.M00004","error', {"X-Extra": "1"})
    response = client.get(actions_url(emu, job_id), timeout=T)
    assert response.status_code == 500
    assert response.content == b'{"error_code":"DRS.M00004","error'
    assert response.headers["X-Extra"] == "1"
    assert_common_headers(response)
    assert client.get(actions_url(emu, emu.job_ids[3]), timeout=T).status_code == 200  # other jobs unaffected
    assert requests.get(actions_url(emu, job_id), timeout=T).status_code == 401  # gateway checks still first
    emu.app.clear_overrides()
    assert client.get(actions_url(emu, job_id), timeout=T).status_code == 200


def test_raw_response_can_add_an_unknown_job(emu, client):
    emu.app.set_raw_response("ghost", 200, b"not json", {"Content-Type": "text/plain"})
    response = client.get(actions_url(emu, "ghost"), timeout=T)
    assert (response.status_code, response.content, response.headers["Content-Type"]) == (
        200,
        b"not json",
        "text/plain",
    )


def test_counters(emu, client):
    first, second = emu.job_ids[:2]
    for job_id in (first, first, first, second, "nope"):
        client.get(actions_url(emu, job_id), timeout=T)
    client.get(emu.url + "/nothing", timeout=T)
    client.post(actions_url(emu, first), timeout=T)
    assert emu.app.request_count == 7
    assert emu.app.route_counts == {("GET", "job_actions"): 5, ("GET", "unrouted"): 1, ("POST", "unrouted"): 1}
    assert emu.app.job_counts == {first: 3, second: 1, "nope": 1}
    emu.app.reset_counters()
    assert (emu.app.request_count, emu.app.route_counts, emu.app.job_counts) == (0, {}, {})


# --- idle current_action rendering (in process and over HTTP) --------------------------------


@pytest.mark.parametrize(
    "mode, expected", [("null", {"current_action": None}), ("empty", {"current_action": ""}), ("absent", {})]
)
def test_idle_current_action_rendering_in_process(mode, expected):
    fleet = make_fleet(30, seed=3)
    app = DRSApp(fleet, project_id="p", token="t", idle_current_action=mode)
    idle = next(j for j in fleet if j.current_action is None)
    body = app.handle("GET", f"/v5/p/jobs/{idle.id}/actions", {"X-Auth-Token": "t"}).json()["job_action"]
    assert {k: v for k, v in body.items() if k == "current_action"} == expected
    assert list(body)[:2] == ["available_actions", "unavailable_actions"]
    app.set_job_actions(idle.id, [], [], "PAUSE")
    body = app.handle("GET", f"/v5/p/jobs/{idle.id}/actions", {"X-Auth-Token": "t"}).json()["job_action"]
    assert body["current_action"] == "PAUSE"  # busy jobs always show it


def test_idle_current_action_absent_over_http():
    with Emulator(jobs=20, seed=3, idle_current_action="absent") as emu:
        url = actions_url(emu, idle_job_id(emu))
        body = requests.get(url, headers={"X-Auth-Token": emu.token}, timeout=T).json()["job_action"]
    assert set(body) == {"available_actions", "unavailable_actions"}


def test_bad_idle_mode_rejected():
    with pytest.raises(ValueError, match="idle_current_action"):
        DRSApp([], project_id="p", token="t", idle_current_action="none")


def test_in_process_face_matches_the_server(emu, client):
    job_id = emu.job_ids[5]
    direct = emu.app.handle("GET", f"/v5/{emu.project_id}/jobs/{job_id}/actions", [("x-auth-token", emu.token)])
    assert direct.status == 200
    assert direct.json() == client.get(actions_url(emu, job_id), timeout=T).json()
    assert direct.headers["Content-Type"] == "application/json;charset=UTF-8"
