"""Client credentials: AK/SK signing, IAM password tokens, environment, secrets kept out of everything."""

from __future__ import annotations

import logging
import pickle

import pytest

from drs_analytics import AuthenticationError, ConfigurationError, DRSClient, fetch_actions
from drs_analytics.auth import AkSkAuth, PasswordAuth, TokenAuth, make_auth
from drs_analytics.emulator import Emulator

from .conftest import FAST_RETRY


@pytest.fixture
def aksk_client(emu, tmp_path):
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, ak=emu.ak, sk=emu.sk,
                   cache=tmp_path / "c.sqlite", retry=FAST_RETRY) as client:
        yield client


def test_aksk_client_fetches_and_second_run_is_served_from_the_cache(emu, aksk_client):
    first = fetch_actions(emu.job_ids, client=aksk_client, progress=False)
    assert len(first.errors) == 0 and len(first.jobs) == len(emu.job_ids)
    assert aksk_client.auth_kind == "aksk"
    served = emu.app.request_count
    second = fetch_actions(emu.job_ids, client=aksk_client, progress=False)
    assert emu.app.request_count == served  # signed requests still hit the cache
    assert second.jobs["from_cache"].all()
    assert second.frame.drop(columns="from_cache").equals(first.frame.drop(columns="from_cache"))


def test_aksk_with_wrong_secret_is_refused(emu, tmp_path):
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, ak=emu.ak, sk=emu.sk + "x", cache=False,
                   retry=FAST_RETRY) as client:
        with pytest.raises(AuthenticationError) as info:
            client.get_actions(emu.job_ids[0])
    assert info.value.status_code == 401 and info.value.error_code == "APIGW.0301"
    assert "verify aksk signature fail" in info.value.error_msg


def test_aksk_signature_is_fresh_on_every_attempt(emu, aksk_client, monkeypatch):
    dates = []
    original = AkSkAuth.__call__

    def spy(self, request):
        out = original(self, request)
        dates.append((out.headers["X-Sdk-Date"], out.headers["Authorization"]))
        return out

    monkeypatch.setattr(AkSkAuth, "__call__", spy)
    from drs_analytics.signing import sdk_date
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    clock = iter([now - timedelta(seconds=s) for s in (5, 0)])
    monkeypatch.setattr("drs_analytics.auth.sdk_date", lambda: sdk_date(next(clock)))
    emu.app.set_raw_response(emu.job_ids[0], 500, b'{"error_code":"DRS.M00004","error_msg":"x"}')
    with pytest.raises(Exception):
        aksk_client.get_actions(emu.job_ids[0])
    assert len(dates) == 2 and dates[0][0] != dates[1][0] and dates[0][1] != dates[1][1]


def test_temporary_credentials_send_the_security_token(tmp_path):
    with Emulator(jobs=3, seed=2, security_token="sts-token-value") as emu:
        with DRSClient(endpoint=emu.url, project_id=emu.project_id, ak=emu.ak, sk=emu.sk,
                       security_token="sts-token-value", cache=tmp_path / "c.sqlite") as client:
            assert client.get_actions(emu.job_ids[0]).job_id == emu.job_ids[0]
        with DRSClient(endpoint=emu.url, project_id=emu.project_id, ak=emu.ak, sk=emu.sk, cache=False,
                       retry=FAST_RETRY) as client:
            with pytest.raises(AuthenticationError):
                client.get_actions(emu.job_ids[0])
        raw = (tmp_path / "c.sqlite").read_bytes()
        assert b"sts-token-value" not in raw and emu.sk.encode() not in raw


def test_password_credentials_get_a_token_once_and_reuse_it(emu, tmp_path):
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, username=emu.username, password=emu.password,
                   domain=emu.domain, iam_endpoint=emu.iam_url, cache=False) as client:
        result = fetch_actions(emu.job_ids[:10], client=client, progress=False)
        assert len(result.jobs) == 10 and len(result.errors) == 0
        assert client._auth.issued == 1
        assert emu.app.route_counts.get(("POST", "iam_tokens")) == 1


def test_password_token_is_renewed_before_expiry_and_once_after_a_401(tmp_path):
    with Emulator(jobs=5, seed=3, token_validity=3600) as emu:
        with DRSClient(endpoint=emu.url, project_id=emu.project_id, username=emu.username, password=emu.password,
                       domain=emu.domain, iam_endpoint=emu.iam_url, cache=False, retry=FAST_RETRY) as client:
            auth = client._auth
            client.get_actions(emu.job_ids[0])
            assert auth.issued == 1
            # the server forgets the token (a password change): one 401, one new token, success
            emu.app.revoke_tokens()
            assert client.get_actions(emu.job_ids[1]).job_id == emu.job_ids[1]
            assert auth.issued == 2
            # close to expires_at (within the margin): renewed before use, no 401
            auth._renew_at = 0
            client.get_actions(emu.job_ids[2])
            assert auth.issued == 3


def test_wrong_password_is_a_clear_error_without_the_password(emu):
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, username=emu.username, password="wrong-pass-123",
                   domain=emu.domain, iam_endpoint=emu.iam_url, cache=False) as client:
        with pytest.raises(AuthenticationError) as info:
            client.get_actions(emu.job_ids[0])
    text = str(info.value)
    assert "IAM" in text and emu.username in text and "wrong-pass-123" not in text
    assert info.value.status_code == 401


def test_a_failed_fleet_fetch_with_bad_password_records_every_job(emu):
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, username=emu.username, password="nope-nope",
                   domain=emu.domain, iam_endpoint=emu.iam_url, cache=False) as client:
        result = fetch_actions(emu.job_ids, client=client, progress=False)
    assert len(result.jobs) == 0 and len(result.errors) == len(emu.job_ids)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"token": "t", "ak": "a", "sk": "s"}, "one kind of credentials"),
        ({"ak": "a"}, "missing sk="),
        ({"sk": "s"}, "missing ak="),
        ({"username": "u", "password": "p"}, "missing domain="),
        ({"username": "u", "password": "p", "domain": "d"}, "IAM endpoint"),
        ({"ak": "a b", "sk": "s"}, "printable ASCII"),
        ({}, "no credentials"),
    ],
)
def test_credential_mistakes_are_named(kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        make_auth(project_id="p", environ={}, **kwargs)


def test_environment_credentials_in_order():
    env = {"DRS_AUTH_TOKEN": "tok", "HUAWEICLOUD_SDK_AK": "AK", "HUAWEICLOUD_SDK_SK": "SK"}
    assert isinstance(make_auth(project_id="p", environ=env), TokenAuth)
    del env["DRS_AUTH_TOKEN"]
    auth = make_auth(project_id="p", environ=env)
    assert isinstance(auth, AkSkAuth) and auth.ak == "AK"
    with pytest.raises(ConfigurationError, match="only one is set"):
        make_auth(project_id="p", environ={"HUAWEICLOUD_SDK_AK": "AK"})


def test_client_reads_ak_sk_and_project_from_the_environment(emu, monkeypatch):
    monkeypatch.delenv("DRS_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", emu.ak)
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", emu.sk)
    monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", emu.project_id)
    with DRSClient(endpoint=emu.url, cache=False) as client:
        assert client.project_id == emu.project_id and client.auth_kind == "aksk"
        assert client.get_actions(emu.job_ids[0]).job_id == emu.job_ids[0]


def test_identities_differ_by_secret_and_kind():
    a = AkSkAuth("AK", "SK1", project_id="p").identity
    b = AkSkAuth("AK", "SK2", project_id="p").identity
    c = TokenAuth("AK").identity
    assert len({a, b, c}) == 3 and all(len(x) == 32 for x in (a, b, c))


def test_no_secret_in_reprs_logs_errors_or_cache(emu, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = [emu.sk, emu.password]
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, ak=emu.ak, sk=emu.sk,
                   cache=tmp_path / "a.sqlite") as client:
        fetch_actions(emu.job_ids + ["00000000-0000-4000-8000-000000000jbx"], client=client, progress=False)
        texts = [repr(client), repr(client._auth), str(client._auth)]
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, username=emu.username, password=emu.password,
                   domain=emu.domain, iam_endpoint=emu.iam_url, cache=tmp_path / "p.sqlite") as client:
        result = fetch_actions(emu.job_ids[:5] + ["00000000-0000-4000-8000-000000000jbx"], client=client,
                               progress=False)
        token = client._auth.token()
        texts += [repr(client), repr(client._auth), result.errors.to_csv()]
        secrets.append(token)
    texts.append(caplog.text)
    for text in texts:
        for secret in secrets:
            assert secret not in text
    for name in ("a.sqlite", "p.sqlite"):
        raw = b"".join(p.read_bytes() for p in tmp_path.glob(name + "*"))
        assert raw  # the cache holds answers
        for secret in secrets:
            assert secret.encode() not in raw
        assert b"SDK-HMAC-SHA256" not in raw  # no signature stored


def test_auth_objects_refuse_pickling():
    for auth in (TokenAuth("t0ken"), AkSkAuth("AK", "SK", project_id="p")):
        with pytest.raises(TypeError, match="not picklable"):
            pickle.dumps(auth)


def test_password_auth_repr_names_the_user_only():
    auth = PasswordAuth(username="bob", password="s3cret!", domain="acme", project_id="p",
                        iam_endpoint="https://iam.example")
    assert "s3cret!" not in repr(auth) and "bob" in repr(auth)


def test_a_wrong_password_is_tried_at_iam_once_not_once_per_job(emu):
    # IAM locks users after a few wrong passwords: a refused password must not be sent again
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, username=emu.username, password="nope-nope",
                   domain=emu.domain, iam_endpoint=emu.iam_url, cache=False, max_connections=16) as client:
        result = fetch_actions(emu.job_ids, client=client, max_workers=16, progress=False)
        assert len(result.jobs) == 0 and len(result.errors) == len(emu.job_ids)
        assert emu.app.route_counts.get(("POST", "iam_tokens")) == 1
        with pytest.raises(AuthenticationError, match="IAM") as info:
            client.get_actions(emu.job_ids[0])
        assert info.value.status_code == 401
        assert emu.app.route_counts.get(("POST", "iam_tokens")) == 1


def test_a_token_refused_right_after_it_was_obtained_is_renewed_once(emu, monkeypatch):
    # the first token IAM hands out is refused by the gateway: the 401 must still get one new token
    real_issue = emu.app.gateway.issue_token
    issued = []

    def first_one_unknown(projects):
        token = real_issue(projects)
        issued.append(token)
        return token._replace(token="MIIunknown-to-the-gateway") if len(issued) == 1 else token

    monkeypatch.setattr(emu.app.gateway, "issue_token", first_one_unknown)
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, username=emu.username, password=emu.password,
                   domain=emu.domain, iam_endpoint=emu.iam_url, cache=False, retry=FAST_RETRY) as client:
        assert client.get_actions(emu.job_ids[0]).job_id == emu.job_ids[0]
        assert client._auth.issued == 2


def test_a_transient_iam_failure_is_retried(emu, monkeypatch):
    real = emu.app._iam_tokens
    answers = []

    def flaky(request):
        answers.append(1)
        if len(answers) == 1:
            return emu.app._respond(request, 503, b'{"error":{"code":503,"message":"busy","title":"Unavailable"}}')
        return real(request)

    monkeypatch.setattr(emu.app, "_iam_tokens", flaky)
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, username=emu.username, password=emu.password,
                   domain=emu.domain, iam_endpoint=emu.iam_url, cache=False, retry=FAST_RETRY) as client:
        assert client.get_actions(emu.job_ids[0]).job_id == emu.job_ids[0]
        assert len(answers) == 2 and client._auth.issued == 1


def test_sixteen_threads_renew_a_revoked_token_exactly_once(emu):
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, username=emu.username, password=emu.password,
                   domain=emu.domain, iam_endpoint=emu.iam_url, cache=False, max_connections=16,
                   retry=FAST_RETRY) as client:
        client.get_actions(emu.job_ids[0])
        emu.app.revoke_tokens()
        result = fetch_actions(emu.job_ids, client=client, max_workers=16, progress=False)
        assert len(result.errors) == 0 and len(result.jobs) == len(emu.job_ids)
        assert client._auth.issued == 2
        assert emu.app.route_counts.get(("POST", "iam_tokens")) == 2


def test_an_iam_endpoint_setting_matters_to_password_credentials_only(emu, monkeypatch):
    # the official SDK's variable may hold anything a token or AK/SK client never uses
    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", "http://iam.corp.example")
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False) as client:
        assert client.get_actions(emu.job_ids[0]).job_id == emu.job_ids[0]
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, ak=emu.ak, sk=emu.sk, cache=False) as client:
        assert client.get_actions(emu.job_ids[0]).job_id == emu.job_ids[0]
    with pytest.raises(ConfigurationError, match="plain http://"):
        DRSClient(endpoint=emu.url, project_id=emu.project_id, username=emu.username, password=emu.password,
                  domain=emu.domain, cache=False)


def test_a_worker_of_an_interrupted_fetch_asks_iam_for_no_token(emu):
    """A worker queued for the token while the fetch was interrupted must not send the password."""
    import threading

    from drs_analytics.cancellation import cancel_scope
    from drs_analytics.exceptions import FetchCancelled

    auth = PasswordAuth(username=emu.username, password=emu.password, domain=emu.domain,
                        project_id=emu.project_id, iam_endpoint=emu.iam_url)
    cancel = threading.Event()
    cancel.set()
    with cancel_scope(cancel), pytest.raises(FetchCancelled, match="before a token was requested"):
        auth._current()
    assert emu.app.route_counts.get(("POST", "iam_tokens"), 0) == 0
    token, _ = auth._current()  # outside a cancelled fetch it asks IAM as usual
    assert token and emu.app.route_counts.get(("POST", "iam_tokens")) == 1
