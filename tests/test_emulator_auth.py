"""Authentication at the emulator's gateway: IAM tokens (with expiry) and AK/SK signatures.

DOMAIN.md 4.3 and 5: ``POST /v3/auth/tokens`` answers 201 with ``X-Subject-Token``;
tokens expire after their validity (401 ``APIGW.0301`` "token expires, expires_at: ...");
``SDK-HMAC-SHA256`` requests are verified over the request as received, with a 15-minute
``X-Sdk-Date`` window. Requests here are signed with :mod:`drs_analytics.signing`.
"""

from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta, timezone

import pytest
import requests

from drs_analytics.emulator import DRSApp, Emulator, make_fleet
from drs_analytics.signing import canonical_query, canonical_request, sdk_date, sign, signature

pytestmark = pytest.mark.timeout(60)

T = 5  # seconds, every request is bounded
AKSK_FAIL = "Incorrect IAM authentication information: verify aksk signature fail"
START = 1_800_000_000.0  # 2027-01-15T08:00:00Z


class Clock:
    """An injectable clock that moves only when told."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def clock():
    return Clock()


@pytest.fixture(scope="module")
def emu(clock):
    with Emulator(jobs=30, seed=4, clock=clock, password="s3cret pass", ak="AKEMULATOR0000000001") as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _reset_clock(clock):
    clock.now = START


def password_body(emu, *, user=None, password=None, domain=None, project=None):
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": user or emu.username,
                        "password": password or emu.password,
                        "domain": {"name": domain or emu.domain},
                    }
                },
            },
            "scope": {"project": project or {"id": emu.project_id}},
        }
    }


def get_token(emu, **kwargs):
    return requests.post(f"{emu.iam_url}/v3/auth/tokens", json=password_body(emu, **kwargs), timeout=T)


def actions_path(emu, job_id=None, project_id=None):
    return f"/v5/{project_id or emu.project_id}/jobs/{job_id or emu.job_ids[0]}/actions"


def assert_apigw_401(response, message=AKSK_FAIL):
    assert response.status_code == 401
    assert response.json() == {
        "error_code": "APIGW.0301",
        "error_msg": message,
        "request_id": response.headers["X-Request-Id"],
    }


# --- IAM tokens ------------------------------------------------------------------------------------


def parse_iso(value: str) -> float:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def test_iam_issues_a_token_usable_until_it_expires(emu, clock):
    response = get_token(emu)
    assert response.status_code == 201
    token = response.headers["X-Subject-Token"]
    body = response.json()["token"]
    assert parse_iso(body["expires_at"]) == pytest.approx(START + 86400)
    assert parse_iso(body["issued_at"]) == pytest.approx(START)
    assert body["methods"] == ["password"] and body["catalog"] == []
    assert body["project"]["id"] == emu.project_id and body["project"]["name"] == emu.region
    assert body["user"]["name"] == emu.username and body["user"]["domain"]["name"] == emu.domain
    assert body["project"]["domain"] == body["user"]["domain"]
    assert token not in (emu.token, emu.password) and emu.password not in response.text
    url = emu.url + actions_path(emu)
    assert requests.get(url, headers={"X-Auth-Token": token}, timeout=T).status_code == 200
    list_url = f"{emu.url}/v5/{emu.project_id}/jobs?job_type=sync"
    assert requests.get(list_url, headers={"X-Auth-Token": token}, timeout=T).status_code == 200
    clock.now = START + 86400 - 1
    assert requests.get(url, headers={"X-Auth-Token": token}, timeout=T).status_code == 200
    clock.now = START + 86400
    expired = requests.get(url, headers={"X-Auth-Token": token}, timeout=T)
    message = f"Incorrect IAM authentication information: token expires, expires_at: {body['expires_at']}"
    assert_apigw_401(expired, message)
    assert requests.get(url, headers={"X-Auth-Token": emu.token}, timeout=T).status_code == 200  # fixed token lives on


def test_token_validity_knob_and_new_tokens_do_not_revoke_old_ones():
    clock = Clock()
    app = DRSApp(make_fleet(3, seed=1), project_id="p1", token="fixed", token_validity=60, clock=clock)
    body = json.dumps(password_body(app.identity)).encode()
    first = app.handle("POST", "/v3/auth/tokens", {}, body)
    clock.now += 30
    second = app.handle("POST", "/v3/auth/tokens", {}, body)
    tokens = [first.headers["X-Subject-Token"], second.headers["X-Subject-Token"]]
    path = f"/v5/p1/jobs/{next(iter(app.jobs))}/actions"
    assert [app.handle("GET", path, {"X-Auth-Token": t}).status for t in tokens] == [200, 200]
    clock.now = START + 60
    assert [app.handle("GET", path, {"X-Auth-Token": t}).status for t in tokens] == [401, 200]
    clock.now = START + 90
    assert [app.handle("GET", path, {"X-Auth-Token": t}).status for t in tokens] == [401, 401]


def test_scope_by_region_name(emu):
    response = get_token(emu, project={"name": emu.region})
    assert response.status_code == 201 and response.json()["token"]["project"]["id"] == emu.project_id


@pytest.mark.parametrize(
    "kwargs",
    [
        {"password": "wrong"},
        {"user": "someone-else"},
        {"domain": "other-domain"},
    ],
)
def test_wrong_credentials_are_401(emu, kwargs):
    response = get_token(emu, **kwargs)
    assert response.status_code == 401 and "X-Subject-Token" not in response.headers
    error = response.json()["error"]
    assert error["code"] == 401 and error["title"] == "Unauthorized" and error["message"]


@pytest.mark.parametrize("project", [{"id": "0" * 32}, {"name": "cn-north-4"}])
def test_project_not_owned_is_401(emu, project):
    response = get_token(emu, project=project)
    assert response.status_code == 401 and response.json()["error"]["code"] == 401


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'{"auth": {}}',
        b'{"auth": {"identity": {"methods": "password"}}}',
        b'{"auth": {"identity": {"methods": ["token"], "token": {"id": "x"}}, "scope": {"project": {"id": "p"}}}}',
        b'{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "u"}}}}}',
    ],
)
def test_malformed_requests_are_400(emu, body):
    response = requests.post(f"{emu.iam_url}/v3/auth/tokens", data=body, timeout=T)
    assert response.status_code == 400 and response.json()["error"]["code"] == 400


def test_missing_scope_is_400(emu):
    body = password_body(emu)
    del body["auth"]["scope"]
    response = requests.post(f"{emu.iam_url}/v3/auth/tokens", json=body, timeout=T)
    assert response.status_code == 400


def test_iam_route_counts_and_needs_no_auth(emu):
    emu.app.reset_counters()
    assert get_token(emu).status_code == 201
    assert requests.get(f"{emu.iam_url}/v3/auth/tokens", timeout=T).status_code == 404
    assert emu.app.route_counts == {("POST", "iam_tokens"): 1, ("GET", "unrouted"): 1}


def test_sdk_error_parser_reads_iam_errors():
    exceptions = pytest.importorskip("huaweicloudsdkcore.exceptions.exception_handler")
    app = DRSApp([], project_id="p1", token="t")
    answer = app.handle("POST", "/v3/auth/tokens", {}, b"{}")
    fake = requests.Response()
    fake.status_code, fake._content = answer.status, answer.body
    fake.headers.update(answer.headers)
    with pytest.raises(Exception) as caught:
        exceptions.DefaultExceptionHandler().handle_exception(None, fake)
    assert caught.value.status_code == 400 and caught.value.error_code == 400
    assert caught.value.request_id == answer.headers["X-Request-Id"]


# --- AK/SK -------------------------------------------------------------------------------------------


def signed_request(
    emu,
    path,
    query=(),
    *,
    headers=None,
    body=b"",
    when=None,
    ak=None,
    sk=None,
    send_query=None,
    send_path=None,
    send_headers=None,
    send_body=None,
    drop=(),
):
    """Sign with drs_analytics.signing, then send (optionally something else than was signed)."""
    date = sdk_date(when or datetime.fromtimestamp(START, timezone.utc))
    signed = {"Host": f"127.0.0.1:{emu.port}", "X-Sdk-Date": date}
    signed.update(headers or {})
    signed["Authorization"] = sign("GET", path, list(query), signed, body, ak=ak or emu.ak, sk=sk or emu.sk)
    sent = {k: v for k, v in signed.items() if k not in drop}
    sent.update(send_headers or {})
    wire = {k: (v.encode("utf-8") if isinstance(v, str) and not v.isascii() else v) for k, v in sent.items()}
    q = canonical_query(list(query if send_query is None else send_query))
    url = f"{emu.url}{send_path or path}" + (f"?{q}" if q else "")
    return requests.get(url, headers=wire, data=body if send_body is None else send_body, timeout=T)


def test_signed_actions_request_accepted(emu):
    response = signed_request(emu, actions_path(emu))
    assert response.status_code == 200
    assert response.json()["job_action"] == emu.app.job_action(emu.job_ids[0])


HARD_QUERY = [
    ("job_type", "sync"),
    ("name", "a b+c:d,é,名前"),
    ("status", ""),
    ("enterprise_project_id", ""),
    ("offset", "0"),
    ("limit", "5"),
    ("sort_key", "name"),
]


def test_signed_list_with_a_hard_query_accepted(emu):
    response = signed_request(emu, f"/v5/{emu.project_id}/jobs", HARD_QUERY)
    assert response.status_code == 200 and response.json() == {"total_count": 0, "jobs": []}
    easy = [("job_type", "sync"), ("limit", "3"), ("status", "")]
    body = signed_request(emu, f"/v5/{emu.project_id}/jobs", easy).json()
    assert body["total_count"] > 0 and len(body["jobs"]) == 3


def test_signed_non_ascii_header_accepted(emu):
    """The official SDK sends non-ASCII header values as UTF-8 bytes; the gateway verifies their text."""
    response = signed_request(emu, actions_path(emu), headers={"X-Note": "façade 名前", "X-Empty": ""})
    assert response.status_code == 200


def test_signed_headers_may_include_x_project_id_and_content_type(emu):
    headers = {"X-Project-Id": emu.project_id, "Content-Type": "application/json", "X-Language": "zh-cn"}
    assert signed_request(emu, actions_path(emu), headers=headers).status_code == 200


def test_signed_body_accepted_and_checked(emu):
    body = b'{"x": 1}'
    assert signed_request(emu, actions_path(emu), body=body).status_code == 200
    assert_apigw_401(signed_request(emu, actions_path(emu), body=body, send_body=b'{"x": 2}'))


def flip(hex_signature: str) -> str:
    return hex_signature[:-1] + ("0" if hex_signature[-1] != "0" else "1")


@pytest.mark.parametrize(
    "tamper",
    [
        "signature",
        "path",
        "query",
        "query_added",
        "header_value",
        "unknown_ak",
        "wrong_sk",
        "date_16_min_behind",
        "date_16_min_ahead",
        "missing_date",
        "bad_date",
        "not_sdk_hmac",
        "x_project_id",
    ],
)
def test_tampered_or_wrong_requests_are_401(emu, tamper):
    path, query = f"/v5/{emu.project_id}/jobs", [("job_type", "sync"), ("limit", "2")]
    start = datetime.fromtimestamp(START, timezone.utc)
    kwargs = {
        "path": {"send_path": f"/v5/{emu.project_id}/jobs/{emu.job_ids[0]}/actions"},
        "query": {"send_query": [("job_type", "sync"), ("limit", "3")]},
        "query_added": {"send_query": [*query, ("offset", "1")]},
        "header_value": {"headers": {"X-Language": "en-us"}, "send_headers": {"X-Language": "zh-cn"}},
        "unknown_ak": {"ak": "AKUNKNOWN00000000000"},
        "wrong_sk": {"sk": "not-the-secret-key"},
        "date_16_min_behind": {"when": start - timedelta(minutes=16)},
        "date_16_min_ahead": {"when": start + timedelta(minutes=16)},
        "missing_date": {"drop": ("X-Sdk-Date",)},
        "bad_date": {"send_headers": {"X-Sdk-Date": "2027-01-15T08:00:00Z"}},
        "not_sdk_hmac": {"send_headers": {"Authorization": "Bearer abc"}},
        "x_project_id": {"headers": {"X-Project-Id": "0" * 32}},
    }.get(tamper, {})
    if tamper == "signature":
        good = signed_request(emu, path, query)
        assert good.status_code == 200
        auth = good.request.headers["Authorization"]
        kwargs = {"send_headers": {"Authorization": flip(auth)}}
    assert_apigw_401(signed_request(emu, path, query, **kwargs))


@pytest.mark.parametrize("minutes", [-14, 14, -15, 15])
def test_date_within_15_minutes_accepted(emu, minutes):
    when = datetime.fromtimestamp(START, timezone.utc) + timedelta(minutes=minutes)
    assert signed_request(emu, actions_path(emu), when=when).status_code == 200


def test_date_window_follows_the_injected_clock(emu, clock):
    when = datetime.fromtimestamp(START, timezone.utc)
    clock.now = START + 14 * 60
    assert signed_request(emu, actions_path(emu), when=when).status_code == 200
    clock.now = START + 16 * 60
    assert_apigw_401(signed_request(emu, actions_path(emu), when=when))


def raw_signed(emu, path, signed_names, headers, *, date):
    """Send a request signed over exactly ``signed_names`` (to leave host or x-sdk-date out)."""
    canonical = canonical_request("GET", path, [], headers, b"", signed=signed_names)
    sig = signature(emu.sk, date, canonical)
    auth = f"SDK-HMAC-SHA256 Access={emu.ak}, SignedHeaders={';'.join(signed_names)}, Signature={sig}"
    return requests.get(emu.url + path, headers={**headers, "Authorization": auth}, timeout=T)


def test_host_and_date_must_be_signed(emu):
    date = sdk_date(datetime.fromtimestamp(START, timezone.utc))
    headers = {"Host": f"127.0.0.1:{emu.port}", "X-Sdk-Date": date}
    path = actions_path(emu)
    assert raw_signed(emu, path, ["host", "x-sdk-date"], headers, date=date).status_code == 200
    assert_apigw_401(raw_signed(emu, path, ["x-sdk-date"], headers, date=date))
    assert_apigw_401(raw_signed(emu, path, ["host"], headers, date=date))


def test_project_checks_with_aksk(emu):
    other = "0" * 32
    forbidden = signed_request(emu, actions_path(emu, project_id=other))
    assert forbidden.status_code == 403 and forbidden.json()["error_code"] == "DRS.M00261"
    same = signed_request(emu, actions_path(emu, project_id=other), headers={"X-Project-Id": other})
    assert same.status_code == 403  # X-Project-Id agrees with the path; the project is not ours
    mismatch = signed_request(emu, actions_path(emu, project_id=other), headers={"X-Project-Id": emu.project_id})
    assert_apigw_401(mismatch)


def test_unknown_job_with_aksk_is_400(emu):
    response = signed_request(emu, actions_path(emu, job_id="no-such-job"))
    assert response.status_code == 400 and response.json()["error_code"] == "DRS.10000010"


def test_unrouted_comes_before_authentication(emu):
    response = signed_request(emu, f"/v5/{emu.project_id}/nothing", ak="AKUNKNOWN00000000000")
    assert response.status_code == 404


def test_permanent_aksk_refuses_a_security_token(emu):
    assert_apigw_401(signed_request(emu, actions_path(emu), headers={"X-Security-Token": "sts"}))


# --- temporary AK/SK (security token) -------------------------------------------------------------


@pytest.fixture(scope="module")
def sts_emu(clock):
    with Emulator(jobs=5, seed=4, clock=clock, security_token="sts-token-value") as emulator:
        yield emulator


def test_temporary_aksk_needs_its_security_token(sts_emu):
    path = actions_path(sts_emu)
    assert signed_request(sts_emu, path, headers={"X-Security-Token": "sts-token-value"}).status_code == 200
    assert_apigw_401(signed_request(sts_emu, path))
    assert_apigw_401(signed_request(sts_emu, path, headers={"X-Security-Token": "wrong"}))
    assert_apigw_401(
        signed_request(
            sts_emu, path, headers={"X-Security-Token": "sts-token-value"}, send_headers={"X-Security-Token": "x"}
        )
    )


# --- token header precedence, body size --------------------------------------------------------------


def test_token_wins_over_an_authorization_header(emu):
    url = emu.url + actions_path(emu)
    headers = {"X-Auth-Token": emu.token, "Authorization": "SDK-HMAC-SHA256 junk"}
    assert requests.get(url, headers=headers, timeout=T).status_code == 200
    assert_apigw_401(requests.get(url, headers={"Authorization": "junk"}, timeout=T))


def test_body_over_12_mb_is_413_in_process():
    app = DRSApp([], project_id="p1", token="t")
    response = app.handle("GET", "/v5/p1/jobs?job_type=sync", {"X-Auth-Token": "t"}, b"x" * (12 * 1024 * 1024 + 1))
    assert response.status == 413
    assert response.json()["error_code"] == "APIGW.0201" and response.json()["error_msg"] == "Request entity too large"
    ok = app.handle("GET", "/v5/p1/jobs?job_type=sync", {"X-Auth-Token": "t"}, b"x" * (12 * 1024 * 1024))
    assert ok.status == 200


def test_body_over_12_mb_is_413_over_http_and_the_connection_closes(emu):
    declared = 12 * 1024 * 1024 + 1
    request = (
        f"GET {actions_path(emu)} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {emu.token}\r\n"
        f"Content-Length: {declared * 10}\r\n\r\n"  # too large to be drained: answered at once
    ).encode()
    with socket.create_connection(("127.0.0.1", emu.port), timeout=T) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ") and b"\r\nConnection: close" in head
    assert json.loads(body)["error_code"] == "APIGW.0201"
    big = requests.get(emu.url + actions_path(emu), headers={"X-Auth-Token": emu.token}, data=b"x" * declared,
                       timeout=30)  # fmt: skip
    assert big.status_code == 413  # a body being sent is drained, so the client reads the answer


def test_secrets_stay_out_of_repr(emu, sts_emu):
    for text in (repr(emu), repr(emu.app.identity), repr(sts_emu), repr(sts_emu.app.identity)):
        for secret in (emu.sk, emu.password, emu.token, sts_emu.sk, sts_emu.token, "sts-token-value"):
            assert secret not in text


def test_revoked_tokens_are_refused():
    app = DRSApp(make_fleet(3, seed=1), project_id="p1", token="fixed", clock=Clock())
    body = json.dumps(password_body(app.identity)).encode()
    token = app.handle("POST", "/v3/auth/tokens", {}, body).headers["X-Subject-Token"]
    path = f"/v5/p1/jobs/{next(iter(app.jobs))}/actions"
    assert app.handle("GET", path, {"X-Auth-Token": token}).status == 200
    assert app.revoke_tokens() == 1
    refused = app.handle("GET", path, {"X-Auth-Token": token})
    assert refused.status == 401 and refused.json()["error_msg"].endswith("decrypt token fail")
    assert app.handle("GET", path, {"X-Auth-Token": "fixed"}).status == 200
    fresh = app.handle("POST", "/v3/auth/tokens", {}, body).headers["X-Subject-Token"]
    assert app.handle("GET", path, {"X-Auth-Token": fresh}).status == 200


def test_aksk_without_x_project_id_is_accepted(emu):
    # the gateway docstring: without the header the path's project counts; with it, they must agree
    response = signed_request(emu, actions_path(emu))
    assert response.status_code == 200 and "job_action" in response.json()
    assert_apigw_401(signed_request(emu, actions_path(emu), headers={"X-Project-Id": "0" * 32}))
