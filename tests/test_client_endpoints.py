"""Endpoints with a user name or password in them (https://user:pass@host) are refused wherever
an endpoint enters, without echoing the password; no request is sent."""

from __future__ import annotations

import pytest

from drs_analytics import ConfigurationError, DRSClient
from drs_analytics.auth import PasswordAuth
from drs_analytics.cli import main
from drs_analytics.targets import Target, load_targets, to_target

pytestmark = pytest.mark.timeout(60)

SECRET = "pa55-W0rd-xyz"
USER = "someuser"


def with_userinfo(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{USER}:{SECRET}@{rest}"


def check_message(text: str, host: str) -> None:
    assert SECRET not in text and USER not in text
    assert "user name or password" in text and host in text


def test_client_endpoint_with_userinfo(emu, clean_env):
    bad = with_userinfo(emu.url)
    for kwargs in ({"endpoint": bad}, {"endpoint": bad, "region": "cn-south-2"}):
        with pytest.raises(ConfigurationError) as info:
            DRSClient(project_id=emu.project_id, token=emu.token, cache=False, **kwargs)
        check_message(str(info.value), "127.0.0.1")
    with pytest.raises(ConfigurationError) as info:  # only a user name: refused too
        DRSClient(endpoint=emu.url.replace("://", "://" + USER + "@"), project_id=emu.project_id, token=emu.token,
                  cache=False)
    check_message(str(info.value), "127.0.0.1")
    assert emu.app.request_count == 0


def test_env_endpoint_with_userinfo_names_the_variable(emu, clean_env):
    clean_env.setenv("DRS_ENDPOINT", with_userinfo(emu.url))
    with pytest.raises(ConfigurationError) as info:
        DRSClient(project_id=emu.project_id, token=emu.token, cache=False)
    check_message(str(info.value), "127.0.0.1")
    assert "$DRS_ENDPOINT" in str(info.value)


def test_iam_endpoint_with_userinfo(emu, clean_env):
    kwargs = dict(endpoint=emu.url, project_id=emu.project_id, username=emu.username, password=emu.password,
                  domain=emu.domain, cache=False)
    with pytest.raises(ConfigurationError) as info:
        DRSClient(iam_endpoint=with_userinfo(emu.iam_url), **kwargs)
    check_message(str(info.value), "127.0.0.1")
    assert "IAM endpoint" in str(info.value)
    clean_env.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", with_userinfo(emu.iam_url))
    with pytest.raises(ConfigurationError) as info:
        DRSClient(**kwargs)
    check_message(str(info.value), "127.0.0.1")
    assert "$HUAWEICLOUD_SDK_IAM_ENDPOINT" in str(info.value)
    with pytest.raises(ConfigurationError) as info:
        PasswordAuth(username="u", password="p", domain="d", project_id="p" * 32,
                     iam_endpoint=with_userinfo("https://iam.example"))
    check_message(str(info.value), "iam.example")
    assert emu.app.request_count == 0 and emu.app.route_counts.get(("POST", "iam_tokens"), 0) == 0


def test_targets_with_userinfo(tmp_path):
    bad = with_userinfo("https://drs.cn-south-2.myhuaweicloud.com")
    for make in (lambda: Target(endpoint=bad, project_id="p" * 32),
                 lambda: Target(region="cn-south-2", iam_endpoint=bad),
                 lambda: to_target({"endpoint": bad})):
        with pytest.raises(ConfigurationError) as info:
            make()
        check_message(str(info.value), "drs.cn-south-2.myhuaweicloud.com")
    path = tmp_path / "targets.toml"
    path.write_text(f'[[target]]\nendpoint = "{bad}"\nproject_id = "{"p" * 32}"\n', encoding="utf-8")
    with pytest.raises(ConfigurationError) as info:
        load_targets(path)
    check_message(str(info.value), "drs.cn-south-2.myhuaweicloud.com")


def test_cli_endpoint_with_userinfo_exits_2(emu, clean_env, capsys):
    clean_env.setenv("DRS_AUTH_TOKEN", emu.token)
    argv = ["fetch", "--project-id", emu.project_id, "--no-cache", "--no-progress", emu.job_ids[0]]
    assert main([*argv, "--endpoint", with_userinfo(emu.url)]) == 2
    err = capsys.readouterr().err
    check_message(err, "127.0.0.1")
    assert err.startswith("error: ") and err.count("\n") == 1
    clean_env.setenv("DRS_ENDPOINT", with_userinfo(emu.url))
    assert main(argv) == 2
    check_message(capsys.readouterr().err, "127.0.0.1")
    assert emu.app.request_count == 0


def test_an_at_sign_after_the_host_is_still_refused_without_echo():
    # urlsplit would read "user:pa/ss@host" as host "user" and a path: no URL with '@' is accepted
    with pytest.raises(ConfigurationError) as info:
        DRSClient(endpoint=f"https://{USER}:{SECRET[:4]}/{SECRET[4:]}@drs.example", project_id="p1", token="t",
                  cache=False)
    assert SECRET[4:] not in str(info.value) and USER not in str(info.value)
