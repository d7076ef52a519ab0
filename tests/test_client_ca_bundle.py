"""CA bundles are checked when the client is made: a missing path names itself and where it came from."""

from __future__ import annotations

import os

import certifi
import pytest

from drs_analytics import ConfigurationError, DRSClient, fetch_actions
from drs_analytics.cli import main

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def no_ca_env(monkeypatch):
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def make(emu, **kwargs):
    return DRSClient(endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False, **kwargs)


def test_missing_ca_bundle_argument(emu, no_ca_env, tmp_path):
    missing = tmp_path / "nope" / "ca.pem"
    for value in (str(missing), missing):  # str or PathLike
        with pytest.raises(ConfigurationError) as info:
            make(emu, ca_bundle=value)
        assert str(missing) in str(info.value) and "ca_bundle=" in str(info.value)
        assert "does not exist" in str(info.value)
    assert emu.app.request_count == 0


@pytest.mark.parametrize("var", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_missing_ca_bundle_from_the_environment(emu, no_ca_env, tmp_path, var):
    missing = str(tmp_path / "missing.pem")
    no_ca_env.setenv(var, missing)
    with pytest.raises(ConfigurationError) as info:  # not one "unexpected OSError" record per job later
        make(emu)
    assert missing in str(info.value) and f"${var}" in str(info.value)
    assert emu.app.request_count == 0


def test_requests_ca_bundle_comes_before_curl_ca_bundle(emu, no_ca_env, tmp_path):
    no_ca_env.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    no_ca_env.setenv("CURL_CA_BUNDLE", str(tmp_path / "missing.pem"))  # requests never reads it then
    with make(emu) as client:
        assert client.get_actions(emu.job_ids[0]).job_id == emu.job_ids[0]


def test_an_explicit_ca_bundle_overrides_a_missing_environment_one(emu, no_ca_env, tmp_path):
    no_ca_env.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "missing.pem"))
    with make(emu, ca_bundle=certifi.where()) as client:
        assert client.get_actions(emu.job_ids[0]).job_id == emu.job_ids[0]


def test_a_ca_directory_from_the_environment_is_accepted(emu, no_ca_env, tmp_path):
    no_ca_env.setenv("REQUESTS_CA_BUNDLE", str(tmp_path))
    with make(emu) as client:
        assert client._send_kwargs["verify"] == str(tmp_path)  # requests' ca_cert_dir
        result = fetch_actions(emu.job_ids[:3], client=client, progress=False)
    assert len(result.errors) == 0 and len(result.jobs) == 3


def test_a_ca_directory_argument_is_accepted(emu, no_ca_env, tmp_path):
    with make(emu, ca_bundle=tmp_path) as client:  # requests' ca_cert_dir
        assert client.settings.verify == str(tmp_path)
        assert client.get_actions(emu.job_ids[0]).job_id == emu.job_ids[0]


def test_ca_bundle_false_is_refused_with_what_to_do_instead(emu, no_ca_env):
    with pytest.raises(ConfigurationError, match="cannot be turned off") as info:
        make(emu, ca_bundle=False)
    assert "REQUESTS_CA_BUNDLE" in str(info.value) and "ca_bundle=" in str(info.value)
    with pytest.raises(ConfigurationError, match="must be a path"):
        make(emu, ca_bundle=3)


def test_the_ca_bundle_is_used_for_iam_too(emu, no_ca_env):
    with DRSClient(endpoint=emu.url, project_id=emu.project_id, username=emu.username, password=emu.password,
                   domain=emu.domain, iam_endpoint=emu.iam_url, cache=False, ca_bundle=certifi.where()) as client:
        assert client._auth._send_kwargs == {"verify": certifi.where()}
        assert client.get_actions(emu.job_ids[0]).job_id == emu.job_ids[0]


def test_cli_missing_ca_bundle_exits_2_with_one_line(emu, no_ca_env, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DRS_AUTH_TOKEN", emu.token)
    missing = str(tmp_path / "ca.pem")
    code = main(["fetch", "--endpoint", emu.url, "--project-id", emu.project_id, "--no-cache", "--no-progress",
                 "--ca-bundle", missing, emu.job_ids[0]])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and missing in err and err.count("\n") == 1
    assert not os.path.exists(missing) and emu.app.request_count == 0
