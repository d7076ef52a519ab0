"""DRSClient against the live emulator: parsing, errors, cache rules, secrets."""

from __future__ import annotations

import logging

import pytest

from drs_analytics import (
    AuthenticationError,
    ConfigurationError,
    DRSClient,
    InvalidIDError,
    JobNotFoundError,
    MalformedResponseError,
    PermissionDeniedError,
    ServerError,
)
from drs_analytics.regions import region_endpoint

from .conftest import DOC_AVAILABLE, DOC_CURRENT, DOC_JOB_ID, DOC_UNAVAILABLE, served


def test_documented_example_parses(emu, client):
    emu.app.set_job_actions(DOC_JOB_ID, DOC_AVAILABLE, DOC_UNAVAILABLE, DOC_CURRENT)
    got = client.get_actions(DOC_JOB_ID)
    assert got.job_id == DOC_JOB_ID
    assert got.available == ("CREATE", "CHOOSE_OBJECT", "PRE_CHECK")
    assert got.unavailable == ("START", "QUICK_START", "CHANGE", "RETRY")
    assert got.current_action == "SWITCH_OVER"
    assert got.from_cache is False
    assert got.fetched_at.tzinfo is not None and len(got.request_id) == 32


def test_second_call_is_served_from_cache_without_a_request(emu, client):
    job = emu.job_ids[0]
    first = client.get_actions(job)
    before = served(emu)
    second = client.get_actions(job)
    assert served(emu) == before
    assert second.from_cache is True
    assert (second.available, second.unavailable, second.fetched_at) == (first.available, first.unavailable, first.fetched_at)


def test_error_statuses_map_to_exceptions(emu, make_client):
    with pytest.raises(JobNotFoundError) as info:
        make_client().get_actions("00000000-0000-4000-8000-000000000jb000")
    assert info.value.status_code == 400 and info.value.error_code == "DRS.10000010"
    assert info.value.error_msg == "Job does not exist, please check job ID."
    with pytest.raises(AuthenticationError) as info:
        make_client(token="wrong-token").get_actions(emu.job_ids[0])
    assert info.value.status_code == 401 and info.value.error_code == "APIGW.0301"
    with pytest.raises(PermissionDeniedError) as info:
        make_client(project_id="0" * 32).get_actions(emu.job_ids[0])
    assert info.value.status_code == 403 and info.value.error_code == "DRS.M00261"


def test_failed_response_is_not_cached_and_is_tried_again(emu, client):
    job = emu.job_ids[1]
    emu.app.set_raw_response(job, 500, b'{"error_code":"DRS.M00004","error_msg":"Service is abnormal."}')
    with pytest.raises(ServerError) as info:
        client.get_actions(job)
    assert info.value.attempts == 2  # FAST_RETRY: two attempts, both answered 500
    emu.app.clear_overrides()
    before = served(emu)
    got = client.get_actions(job)
    assert served(emu) == before + 1 and got.from_cache is False


def test_malformed_200_is_an_error_and_never_cached(emu, client):
    job = emu.job_ids[2]
    emu.app.set_raw_response(job, 200, b'{"job_action": {"available_actions": [1, 2]')
    with pytest.raises(MalformedResponseError) as info:
        client.get_actions(job)
    assert info.value.status_code == 200 and "not JSON" in str(info.value)
    emu.app.set_raw_response(job, 200, b'{"job_action": {"available_actions": [1, 2]}}')
    with pytest.raises(MalformedResponseError, match="holds a int"):
        client.get_actions(job)
    assert client.cache.responses.count() == 0
    emu.app.clear_overrides()
    assert client.get_actions(job).from_cache is False


def test_token_never_reaches_cache_file_repr_logs_or_errors(emu, make_client, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(cache=tmp_path / "secret-check.sqlite")
    for job in emu.job_ids[:5]:
        client.get_actions(job)
    client.get_actions(emu.job_ids[0])
    bad = make_client(token=emu.token + "x", cache=tmp_path / "secret-check.sqlite")
    with pytest.raises(AuthenticationError) as info:
        bad.get_actions(emu.job_ids[0])
    client.close()
    files = [p for p in tmp_path.iterdir() if p.name.startswith("secret-check.sqlite")]
    assert files and client.cache.responses.count() >= 5
    for path in files:
        assert emu.token.encode() not in path.read_bytes()
    for text in (repr(client), str(client.settings), caplog.text, str(info.value), repr(client._auth)):
        assert emu.token not in text


def test_two_tokens_never_share_cache_entries(emu, make_client, tmp_path):
    path = tmp_path / "shared.sqlite"
    first = make_client(cache=path)
    first.get_actions(emu.job_ids[0])
    other = make_client(cache=path, token="another-token")
    with pytest.raises(AuthenticationError):  # not served the first token's cached answer
        other.get_actions(emu.job_ids[0])


@pytest.mark.parametrize("bad", ["", "../x", "a/b", "a?b", "x#", "50%", " sp", "a\tb"])
def test_invalid_job_id_raises_before_any_request(emu, client, bad):
    before = served(emu)
    with pytest.raises(InvalidIDError, match="invalid job ID"):
        client.get_actions(bad)
    assert served(emu) == before


def test_invalid_project_id_is_refused_at_construction(emu):
    with pytest.raises(InvalidIDError, match="invalid project ID '../p'"):
        DRSClient(endpoint=emu.url, project_id="../p", token="t", cache=False)


def test_token_defaults_to_environment(emu, monkeypatch):
    monkeypatch.setenv("DRS_AUTH_TOKEN", emu.token)
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, cache=False) as c:
        assert c.get_actions(emu.job_ids[0]).job_id == emu.job_ids[0]
    monkeypatch.delenv("DRS_AUTH_TOKEN")
    with pytest.raises(ConfigurationError, match="DRS_AUTH_TOKEN"):
        DRSClient(endpoint=emu.url, project_id=emu.project_id, cache=False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "no endpoint"),
        ({"endpoint": "ftp://x"}, "must start with https://"),
        ({"endpoint": "https://a", "region": "cn south 2"}, "invalid region"),
        ({"region": "Mars"}, "invalid region 'Mars'"),
        ({"endpoint": "https://a", "language": "fr"}, "language"),
        ({"endpoint": "https://a", "expire_after": -1}, "expire_after"),
        ({"endpoint": "https://a", "timeout": 0}, "timeout"),
        ({"endpoint": "https://a", "cache": 3}, "cache must be"),
    ],
)
def test_bad_settings_raise_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DRSClient(project_id="p1", token="t", **kwargs)


def test_region_endpoints():
    assert region_endpoint("cn-south-2") == "https://drs.cn-south-2.myhuaweicloud.com"
    assert region_endpoint("eu-west-101") == "https://drs.eu-west-101.myhuaweicloud.eu"
    with DRSClient(region="ap-southeast-1", project_id="p1", token="t", cache=False) as c:
        assert c.endpoint == "https://drs.ap-southeast-1.myhuaweicloud.com"


def test_cache_false_disables_caching(emu, make_client):
    client = make_client(cache=False)
    assert client.cache is None
    client.get_actions(emu.job_ids[0])
    assert client.get_actions(emu.job_ids[0]).from_cache is False


def test_unreachable_endpoint_is_a_transport_error(make_client):
    import socket

    from drs_analytics import TransportError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make_client(endpoint=f"http://127.0.0.1:{port}")
    with pytest.raises(TransportError, match="connection refused") as info:
        client.get_actions("163b98e8-6088-46c3-8b86-c18fea6jb502")
    assert info.value.status_code is None and info.value.attempts == 2


def test_proxy_and_ca_bundle_environment_is_honoured(monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not used")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with DRSClient(region="cn-south-2", project_id="p1", token="t", cache=False) as c:
        assert c._send_kwargs["proxies"]["https"] == "http://proxy.invalid:3128"
        assert c._send_kwargs["verify"] == str(bundle)
    monkeypatch.setenv("NO_PROXY", "myhuaweicloud.com")
    with DRSClient(region="cn-south-2", project_id="p1", token="t", cache=False) as c:
        assert "https" not in c._send_kwargs["proxies"]


def test_endpoint_with_region_uses_the_endpoint_and_labels_the_region(emu):
    with DRSClient(endpoint=emu.url, region="cn-south-2", project_id=emu.project_id, token=emu.token,
                   cache=False) as client:
        assert client.endpoint == emu.url and client.region == "cn-south-2"
        assert client.get_actions(emu.job_ids[0]).job_id == emu.job_ids[0]


def test_two_access_keys_never_share_cache_entries(emu, make_client, tmp_path):
    """The same AK with a wrong SK, or another AK, never reads the right credential's cached answers."""
    path = tmp_path / "shared.sqlite"
    right = make_client(cache=path, token=None, ak=emu.ak, sk=emu.sk)
    right.get_actions(emu.job_ids[0])
    assert right.get_actions(emu.job_ids[0]).from_cache
    for ak, sk in ((emu.ak, emu.sk + "0"), ("AKOTHERACCESSKEY0000", emu.sk)):
        intruder = make_client(cache=path, token=None, ak=ak, sk=sk)
        with pytest.raises(AuthenticationError):
            intruder.get_actions(emu.job_ids[0])
        assert intruder.cached_response(f"{emu.url}{intruder.actions_path(emu.job_ids[0])}") is None
    assert right.cache_info()["entries"] == 1
