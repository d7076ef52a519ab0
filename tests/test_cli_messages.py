"""CLI messages name what the CLI user can do: flags and environment variables."""

import pytest

from drs_analytics.cli import main


def test_no_project_id_names_both_variables(emu, clean_env, capsys):
    clean_env.setenv("DRS_AUTH_TOKEN", emu.token)
    assert main(["fetch", "--endpoint", emu.url, "j1"]) == 2
    err = capsys.readouterr().err
    assert err == ("error: no project ID: pass --project-id or set $DRS_PROJECT_ID "
                   "(or $HUAWEICLOUD_SDK_PROJECT_ID)\n")


def test_the_sdk_project_variable_named_there_works(emu, clean_env, capsys, tmp_path):
    clean_env.setenv("DRS_AUTH_TOKEN", emu.token)
    clean_env.setenv("HUAWEICLOUD_SDK_PROJECT_ID", emu.project_id)
    out = tmp_path / "actions.csv"
    assert main(["fetch", "--endpoint", emu.url, "--no-cache", "--no-progress", "--output", str(out),
                 emu.job_ids[0]]) == 0
    assert emu.job_ids[0] in out.read_text(encoding="utf-8")


def test_no_credentials_names_environment_variables_not_python_arguments(emu, clean_env, capsys):
    assert main(["fetch", "--endpoint", emu.url, "--project-id", emu.project_id, "j1"]) == 2
    err = capsys.readouterr().err
    assert err == ("error: no credentials: set DRS_AUTH_TOKEN, or HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK, "
                   "or DRS_IAM_USERNAME, DRS_IAM_PASSWORD and DRS_IAM_DOMAIN\n")
    assert "token=" not in err and "ak=" not in err


def test_no_credentials_with_all_too(emu, clean_env, capsys):
    assert main(["fetch", "--all", "--endpoint", emu.url, "--project-id", emu.project_id]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no credentials: set DRS_AUTH_TOKEN, ") and "username=" not in err


def test_no_credentials_is_its_own_configuration_error():
    from drs_analytics.auth import make_auth
    from drs_analytics.exceptions import ConfigurationError, NoCredentialsError

    with pytest.raises(NoCredentialsError, match=r"^no credentials: pass token=") as info:
        make_auth(project_id="p", environ={})
    assert isinstance(info.value, ConfigurationError)  # callers catching the parent still catch it
    with pytest.raises(ConfigurationError, match="only one is set") as other:
        make_auth(project_id="p", environ={"HUAWEICLOUD_SDK_AK": "AK"})
    assert not isinstance(other.value, NoCredentialsError)
