"""Messages name the host they were about: endpoint paths, HTTP errors, transport errors, proxies."""

from __future__ import annotations

import socket

import pytest
import requests

from drs_analytics import ConfigurationError, DRSClient, TransportError, fetch_actions
from drs_analytics.cli import main
from tests.conftest import FAST_RETRY

PROXY_VARS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy",
              "NO_PROXY", "no_proxy")


@pytest.fixture
def no_proxy_env(clean_env):
    for name in PROXY_VARS:
        clean_env.delenv(name, raising=False)
    return clean_env


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed on exit: nothing listens there


def _client(endpoint, **kwargs):
    return DRSClient(endpoint=endpoint, project_id="p1", token="t0k", cache=False, retry=FAST_RETRY, **kwargs)


# -- 1. an endpoint with the API path ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("suffix", "shown"),
    [("/v5", "/v5"), ("/v5/", "/v5"), ("/v3", "/v3"), ("/V5", "/V5"),
     ("/v5/5237e10fe9aa4ad5b16b6a5245248314", "/v5/5237e10fe9aa4ad5b16b6a5245248314"),
     ("/v5/5237e10fe9aa4ad5b16b6a5245248314/jobs", "/v5/5237e10fe9aa4ad5b16b6a5245248314/jobs"),
     ("/drs/v5", "/v5")],
)
def test_an_endpoint_with_the_api_path_is_refused(no_proxy_env, suffix, shown):
    endpoint = "http://127.0.0.1:8080" + suffix
    with pytest.raises(ConfigurationError) as info:
        _client(endpoint)
    assert str(info.value) == (
        f"endpoint {endpoint.rstrip('/')!r} has the API path {shown!r}: give the scheme and host only "
        "(the client adds /v5/{project_id}/...)"
    )


def test_an_endpoint_from_the_environment_with_the_api_path_is_refused(no_proxy_env):
    no_proxy_env.setenv("DRS_ENDPOINT", "https://drs.cn-south-2.myhuaweicloud.com/v5/")
    with pytest.raises(ConfigurationError, match=r"^endpoint \(\$DRS_ENDPOINT\) 'https://drs.cn-south-2"
                                                 r"\.myhuaweicloud\.com/v5' has the API path '/v5': "):
        DRSClient(project_id="p1", token="t0k", cache=False)


def test_the_cli_refuses_it_as_a_usage_error(emu, no_proxy_env, capsys):
    no_proxy_env.setenv("DRS_AUTH_TOKEN", emu.token)
    code = main(["fetch", "--endpoint", emu.url + "/v5", "--project-id", emu.project_id, "--no-cache",
                 emu.job_ids[0]])
    assert code == 2
    assert capsys.readouterr().err == (
        f"error: endpoint {emu.url + '/v5'!r} has the API path '/v5': give the scheme and host only "
        "(the client adds /v5/{project_id}/...)\n"
    )
    assert emu.app.request_count == 0


@pytest.mark.parametrize("prefix", ["/proxy", "/drs/api", "/v5x", "/drs/v1", "/v1"])
def test_other_path_prefixes_are_kept(emu, no_proxy_env, prefix):
    with _client(emu.url + prefix) as client:
        assert client.endpoint == emu.url + prefix
        assert client.actions_path("j1") == "/v5/p1/jobs/j1/actions"


@pytest.mark.parametrize("iam", ["https://iam.cn-south-2.myhuaweicloud.com/v3", "https://iam.example.com/V3/"])
def test_an_iam_endpoint_with_the_api_path_is_refused(no_proxy_env, iam):
    with pytest.raises(ConfigurationError) as info:
        DRSClient(endpoint="https://drs.example.com", project_id="p1", username="u", password="pw-secret",
                  domain="d", iam_endpoint=iam, cache=False)
    shown = "/" + iam.rstrip("/").rsplit("/", 1)[-1]
    assert str(info.value) == (f"IAM endpoint {iam.rstrip('/')!r} has the API path {shown!r}: give the scheme "
                               "and host only (the client adds /v3/auth/tokens)")


def test_iam_errors_name_the_iam_host(emu, no_proxy_env):
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, username=emu.username, password="wrong-one",
                   domain=emu.domain, iam_endpoint=emu.iam_url, cache=False, retry=FAST_RETRY) as client:
        result = fetch_actions(emu.job_ids[:1], client=client, progress=False)
    assert f"IAM POST {emu.iam_url.rstrip('/')}/v3/auth/tokens (user " in result.errors["detail"].iloc[0]


def test_http_errors_name_the_host_method_and_path(emu, make_client, no_proxy_env):
    client = make_client(endpoint=emu.url + "/prefix")  # the emulator has no such route: 404
    job = emu.job_ids[0]
    with pytest.raises(Exception) as info:
        client.get_actions(job)
    assert info.value.status_code == 404
    assert str(info.value).startswith(f"HTTP 404 from GET {emu.url}/prefix/v5/{emu.project_id}/jobs/{job}/actions: ")


def test_an_error_record_names_the_host(emu, make_client, no_proxy_env):
    unknown = "00000000-0000-4000-8000-000000000jb000"
    result = fetch_actions([unknown], client=make_client(), progress=False)
    assert result.errors["detail"].iloc[0] == (
        f"HTTP 400 from GET {emu.url}/v5/{emu.project_id}/jobs/{unknown}/actions: "
        "DRS.10000010 Job does not exist, please check job ID."
    )


# -- 2. transport errors name the host, and the proxy --------------------------------------------------
def test_a_refused_connection_names_the_host(no_proxy_env):
    port = _dead_port()
    with _client(f"http://127.0.0.1:{port}") as client, pytest.raises(TransportError) as info:
        client.get_actions("j1")
    assert str(info.value) == f"no answer to GET http://127.0.0.1:{port}/v5/p1/jobs/j1/actions: connection refused"
    assert info.value.attempts == 2


def _set_dead_proxy(env, password: str = "secret") -> int:
    port = _dead_port()
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        env.setenv(name, f"http://user:{password}@127.0.0.1:{port}")
    env.setenv("NO_PROXY", "")  # 127.0.0.1 must not bypass the proxy here
    env.setenv("no_proxy", "")
    return port


def test_a_dead_proxy_is_named_without_its_credentials(emu, no_proxy_env):
    port = _set_dead_proxy(no_proxy_env)
    job = emu.job_ids[0]
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False,
                   retry=FAST_RETRY) as client:
        with pytest.raises(TransportError) as info:
            client.get_actions(job)
        result = fetch_actions([job], client=client, progress=False)
    message = str(info.value)
    assert message.startswith(f"no answer to GET {emu.url}/v5/{emu.project_id}/jobs/{job}/actions "
                              f"via proxy http://127.0.0.1:{port}: ")
    assert "secret" not in message and "user" not in message and "secret" not in repr(info.value)
    row = result.errors.iloc[0]
    assert row["detail"] == message and "secret" not in row.to_string()
    assert emu.app.request_count == 0  # nothing reached the emulator: the proxy is what failed


@pytest.mark.parametrize("password", ["se/cret", "se#cret", "se?cret", "se@cret"])
def test_a_proxy_password_with_url_delimiters_never_shows(emu, no_proxy_env, password):
    """An unencoded / ? # ends urlsplit's netloc early: the user and password must not pass for the host."""
    port = _set_dead_proxy(no_proxy_env, password)
    job = emu.job_ids[0]
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False,
                   retry=FAST_RETRY) as client:
        result = fetch_actions([job], client=client, progress=False)
    row = result.errors.iloc[0]
    assert f" via proxy http://127.0.0.1:{port}" in row["detail"]
    assert "user" not in row.to_string() and "cret" not in row.to_string()


def test_a_given_session_reads_the_proxy_per_request_and_is_named_too(emu, no_proxy_env):
    port = _set_dead_proxy(no_proxy_env)
    session = requests.Session()
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, token=emu.token, retry=FAST_RETRY,
                   session=session) as client, pytest.raises(TransportError) as info:
        client.get_actions(emu.job_ids[0])
    assert f" via proxy http://127.0.0.1:{port}: " in str(info.value) and "secret" not in str(info.value)


def test_no_proxy_no_via(emu, make_client, no_proxy_env):
    port = _set_dead_proxy(no_proxy_env)
    no_proxy_env.setenv("NO_PROXY", "127.0.0.1")
    no_proxy_env.setenv("no_proxy", "127.0.0.1")
    dead = _dead_port()
    with _client(f"http://127.0.0.1:{dead}") as client, pytest.raises(TransportError) as info:
        client.get_actions("j1")
    assert str(info.value) == f"no answer to GET http://127.0.0.1:{dead}/v5/p1/jobs/j1/actions: connection refused"
    assert str(port) not in str(info.value)
