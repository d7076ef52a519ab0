"""Emulator knobs: conditional requests (ETag / If-None-Match -> 304) and the per-credential rate limit."""

from __future__ import annotations

import argparse
import http.client
import json

import pytest
import requests

from drs_analytics.emulator import DRSApp, Emulator, make_fleet
from drs_analytics.emulator.app import RATE_LIMIT_MESSAGE, etag_of
from drs_analytics.emulator.cli import add_arguments

pytestmark = pytest.mark.timeout(60)

PID, TOKEN = "p1", "tok"
T = 5


class Clock:
    """A settable clock for the app (the rate limit's window), starting at a fixed time."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_app(**kwargs) -> DRSApp:
    return DRSApp(make_fleet(12, seed=3), project_id=PID, token=TOKEN, **kwargs)


def job_of(app: DRSApp) -> str:
    return next(iter(app.jobs))


def get(app, path, token=TOKEN, **headers):
    return app.handle("GET", path, {"X-Auth-Token": token, **headers})


def actions(app, job=None):
    return f"/v5/{PID}/jobs/{job or job_of(app)}/actions"


LIST = f"/v5/{PID}/jobs?job_type=sync&limit=5"


# --- ETag and 304 -----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["actions", "list"])
def test_200_answers_carry_a_strong_etag_of_the_body(path):
    app = make_app()
    response = get(app, actions(app) if path == "actions" else LIST)
    assert response.status == 200
    etag = response.headers["ETag"]
    assert etag == etag_of(response.body) and etag.startswith('"') and not etag.startswith("W/")
    assert get(app, actions(app) if path == "actions" else LIST).headers["ETag"] == etag  # stable


@pytest.mark.parametrize("path", ["actions", "list"])
def test_a_matching_if_none_match_gets_304_without_a_body(path):
    app = make_app()
    target = actions(app) if path == "actions" else LIST
    first = get(app, target)
    second = get(app, target, **{"If-None-Match": first.headers["ETag"]})
    assert second.status == 304 and second.body == b""
    assert set(second.headers) == {"X-Request-Id", "Date", "ETag"}  # no Content-Length/Type to merge into a cache
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    assert app.not_modified_count == 1 and app.status_counts == {200: 1, 304: 1}


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("{etag}", 304),
        ("*", 304),
        ('"other", {etag}', 304),
        ("W/{etag}", 304),  # If-None-Match compares weakly
        ('"other"', 200),
        ("{etag_unquoted}", 200),  # malformed: not a match
        ("", 200),
    ],
    ids=["same", "star", "in a list", "weak form", "other", "unquoted", "empty"],
)
def test_if_none_match_forms(header, status):
    app = make_app()
    etag = get(app, actions(app)).headers["ETag"]
    value = header.format(etag=etag, etag_unquoted=etag.strip('"'))
    response = get(app, actions(app), **{"If-None-Match": value})
    assert response.status == status
    if status == 200:
        assert response.json()["job_action"] and response.headers["ETag"] == etag


def test_a_changed_answer_has_a_new_etag_and_a_full_200():
    app = make_app()
    job = job_of(app)
    old = get(app, actions(app)).headers["ETag"]
    app.set_job_actions(job, ["PAUSE"], ["DELETE"], None)
    response = get(app, actions(app), **{"If-None-Match": old})
    assert response.status == 200 and response.headers["ETag"] != old
    assert response.json()["job_action"]["available_actions"] == ["PAUSE"]
    assert app.not_modified_count == 0


def test_the_gateway_and_the_handler_answer_before_the_condition():
    app = make_app()
    etag = get(app, actions(app)).headers["ETag"]
    assert get(app, actions(app), token="wrong", **{"If-None-Match": etag}).status == 401
    other_project = f"/v5/other/jobs/{job_of(app)}/actions"
    assert get(app, other_project, **{"If-None-Match": "*"}).status == 403
    unknown = get(app, actions(app, "00000000-0000-4000-8000-000000000jb000"), **{"If-None-Match": "*"})
    assert unknown.status == 400 and "ETag" not in unknown.headers  # errors carry no ETag
    assert app.not_modified_count == 0


def test_raw_overrides_get_an_etag_unless_they_bring_one():
    app = make_app()
    job = job_of(app)
    app.set_raw_response(job, 200, b'{"job_action": {}}')
    assert get(app, actions(app)).headers["ETag"] == etag_of(b'{"job_action": {}}')
    app.set_raw_response(job, 200, b'{"job_action": {}}', {"ETag": '"v7"'})
    assert get(app, actions(app), **{"If-None-Match": '"v7"'}).status == 304
    app.set_raw_response(job, 500, b"{}")
    assert "ETag" not in get(app, actions(app)).headers


def test_etags_off():
    app = make_app(etags=False)
    response = get(app, actions(app), **{"If-None-Match": "*"})
    assert response.status == 200 and "ETag" not in response.headers
    assert "ETag" not in get(app, LIST).headers
    with pytest.raises(ValueError, match="etags"):
        make_app(etags="no")


def test_304_over_a_keep_alive_connection():
    with Emulator(jobs=3, seed=2) as emu:
        conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=T)
        path = f"/v5/{emu.project_id}/jobs/{emu.job_ids[0]}/actions"
        try:
            conn.request("GET", path, headers={"X-Auth-Token": emu.token})
            first = conn.getresponse()
            body = first.read()
            etag = first.getheader("ETag")
            conn.request("GET", path, headers={"X-Auth-Token": emu.token, "If-None-Match": etag})
            second = conn.getresponse()
            assert second.status == 304 and second.read() == b""
            conn.request("GET", path, headers={"X-Auth-Token": emu.token})  # the same connection still works
            third = conn.getresponse()
            assert third.status == 200 and third.read() == body
        finally:
            conn.close()
        assert emu.app.not_modified_count == 1


def test_requests_cache_revalidates_with_the_etag():
    from requests_cache import CachedSession

    with Emulator(jobs=3, seed=2) as emu, CachedSession(backend="memory", expire_after=0) as session:
        url = f"{emu.url}/v5/{emu.project_id}/jobs/{emu.job_ids[0]}/actions"
        first = session.get(url, headers={"X-Auth-Token": emu.token}, timeout=T)
        second = session.get(url, headers={"X-Auth-Token": emu.token}, timeout=T)  # expired: revalidated
        assert first.status_code == second.status_code == 200
        assert second.from_cache and second.json() == first.json()
        assert emu.app.not_modified_count == 1 and emu.app.status_counts == {200: 1, 304: 1}


# --- rate limit --------------------------------------------------------------------------------------
def test_rate_limit_sliding_one_second_window():
    clock = Clock()
    app = make_app(rate_limit=3, clock=clock)
    assert [get(app, actions(app)).status for _ in range(3)] == [200, 200, 200]
    throttled = get(app, actions(app))
    assert throttled.status == 429 and "Retry-After" not in throttled.headers
    body = throttled.json()
    assert body == {
        "error_code": "APIGW.0308",
        "error_msg": "The throttling threshold has been reached: policy user over ratelimit,limit:3,time:1 second",
        "request_id": throttled.headers["X-Request-Id"],
    }
    assert body["error_msg"] == RATE_LIMIT_MESSAGE.format(limit=3)
    clock.now += 0.5
    assert get(app, actions(app)).status == 429  # the first three are still in the window
    clock.now += 0.5
    assert get(app, actions(app)).status == 200  # one second after them: free again
    clock.now += 0.25
    assert [get(app, LIST).status for _ in range(3)] == [200, 200, 429]  # one window for every route
    assert app.throttled_count == 3 and app.status_counts == {200: 6, 429: 3}


def test_rate_limit_is_per_credential_and_counts_authenticated_requests_only():
    clock = Clock()
    app = make_app(rate_limit=2, clock=clock)
    other = app.gateway.issue_token(frozenset({PID})).token  # an IAM-issued token: another user's window
    assert [get(app, actions(app)).status for _ in range(3)] == [200, 200, 429]
    assert [get(app, actions(app), token=other).status for _ in range(3)] == [200, 200, 429]
    assert all(get(app, actions(app), token="wrong").status == 401 for _ in range(5))  # never 429
    body = json.dumps({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": app.identity.username, "password": app.identity.password,
        "domain": {"name": app.identity.domain}}}}, "scope": {"project": {"id": PID}}}}).encode()
    assert all(app.handle("POST", "/v3/auth/tokens", {}, body).status == 201 for _ in range(3))  # IAM: not limited
    assert app.throttled_count == 2


def test_rate_limit_retry_after_knob():
    clock = Clock()
    app = make_app(rate_limit=1, rate_limit_retry_after=True, clock=clock)
    assert get(app, actions(app)).status == 200
    clock.now += 0.3
    throttled = get(app, actions(app))
    assert throttled.status == 429 and throttled.headers["Retry-After"] == "1"


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "10"])
def test_rate_limit_must_be_a_positive_integer(value):
    with pytest.raises(ValueError, match="rate_limit"):
        make_app(rate_limit=value)
    with pytest.raises(ValueError, match="rate_limit"):
        Emulator(jobs=1, rate_limit=value)


def test_rate_limit_retry_after_must_be_a_bool():
    with pytest.raises(ValueError, match="rate_limit_retry_after"):
        make_app(rate_limit=5, rate_limit_retry_after="yes")


def test_rate_limit_over_http_and_counters_reset():
    clock = Clock()
    with Emulator(jobs=3, seed=2, rate_limit=4, clock=clock) as emu:
        url = f"{emu.url}/v5/{emu.project_id}/jobs/{emu.job_ids[0]}/actions"
        statuses = [requests.get(url, headers={"X-Auth-Token": emu.token}, timeout=T).status_code for _ in range(6)]
        assert statuses == [200, 200, 200, 200, 429, 429]
        assert emu.app.throttled_count == 2 and emu.app.status_counts[429] == 2
        emu.app.reset_counters()
        assert emu.app.throttled_count == 0 and emu.app.status_counts == {} and emu.app.not_modified_count == 0


def test_emulator_cli_options():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    defaults = parser.parse_args([])
    assert (defaults.etags, defaults.rate_limit, defaults.rate_limit_retry_after) == (True, None, False)
    args = parser.parse_args(["--no-etags", "--rate-limit", "50", "--rate-limit-retry-after"])
    assert (args.etags, args.rate_limit, args.rate_limit_retry_after) == (False, 50, True)


# --- counters of faults and statuses -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("faults", "status", "kind"),
    [
        ({"error_500": 1.0}, 500, "error_500"),
        ({"throttle_429": 1.0}, 429, "throttle_429"),
        ({"reset": 1.0}, 0, "reset"),
        ({"malformed": 1.0}, 200, "malformed"),
    ],
    ids=["500", "429", "reset", "malformed"],
)
def test_fault_and_status_counters(faults, status, kind):
    from drs_analytics.emulator import Faults

    app = make_app(faults=Faults(**faults, slow=1.0, slow_seconds=0.01))
    for _ in range(3):
        response = get(app, actions(app))
        assert response.status == status and response.delay == 0.01
        assert "ETag" not in response.headers  # a fault's answer carries no ETag
    assert app.fault_counts == {kind: 3, "slow": 3}
    assert app.status_counts == {status: 3}
    assert app.throttled_count == 0  # fault 429s are not the rate limit's
    app.reset_counters()
    assert app.fault_counts == {} and app.status_counts == {}
