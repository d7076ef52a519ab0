"""CLI options that contradict each other exit 2 the argparse way; variables are not flags."""

from __future__ import annotations

import pytest

from drs_analytics.cli import main

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def targets_file(emu, clean_env, tmp_path):
    clean_env.setenv("EMU_TOKEN", emu.token)
    path = tmp_path / "targets.toml"
    path.write_text(f'[[target]]\nendpoint = "{emu.url}"\nproject_id = "{emu.project_id}"\ntoken_env = "EMU_TOKEN"\n',
                    encoding="utf-8")
    return str(path)


def usage_error(argv, capsys) -> str:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: drs-analytics ")
    return err.strip().splitlines()[-1]


@pytest.mark.parametrize("command", ["fetch", "report"])
@pytest.mark.parametrize(
    "extra, named",
    [
        (["--project-id", "p" * 32], "--project-id"),
        (["--region", "cn-south-2"], "--region"),
        (["--endpoint", "https://drs.example"], "--endpoint"),
        (["--endpoint", "https://drs.example", "--project-id", "p1"], "--endpoint, --project-id"),
    ],
)
def test_targets_with_a_connection_flag_exit_2(emu, targets_file, tmp_path, capsys, command, extra, named):
    out = ["--out", str(tmp_path / "r")] if command == "report" else ["-o", str(tmp_path / "a.csv")]
    line = usage_error([command, "--targets", targets_file, "--no-cache", *out, *extra], capsys)
    assert line == (f"drs-analytics {command}: error: --targets cannot go with {named}: each [[target]] of the "
                    "file names its own region or endpoint and project (the variables $DRS_ENDPOINT, $DRS_REGION "
                    "and $DRS_PROJECT_ID are not used with --targets either)")
    assert emu.app.request_count == 0 and not (tmp_path / "r").exists() and not (tmp_path / "a.csv").exists()


def test_targets_with_connection_variables_set_is_fine(emu, targets_file, clean_env, tmp_path, capsys):
    clean_env.setenv("DRS_ENDPOINT", "https://drs.example")
    clean_env.setenv("DRS_PROJECT_ID", "f" * 32)
    out = tmp_path / "a.csv"
    assert main(["fetch", "--targets", targets_file, "--no-cache", "--no-progress", "-o", str(out)]) == 0, \
        capsys.readouterr().err
    assert emu.app.request_count > 0 and out.stat().st_size > 0


@pytest.mark.parametrize("fleet", [["--all"], ["--targets", "TARGETS"]])
def test_enrich_with_all_or_targets_exits_2(emu, targets_file, clean_env, capsys, fleet):
    clean_env.setenv("DRS_AUTH_TOKEN", emu.token)
    fleet = [targets_file if a == "TARGETS" else a for a in fleet]
    connection = [] if "--targets" in fleet else ["--endpoint", emu.url, "--project-id", emu.project_id]
    line = usage_error(["fetch", *fleet, "--enrich", "--no-cache", *connection], capsys)
    assert line == ("drs-analytics fetch: error: --enrich cannot go with --all/--targets: it adds the job list's "
                    "metadata to given job IDs, and --all/--targets include that metadata already")
    assert emu.app.request_count == 0


def test_page_size_without_a_fleet_exits_2(emu, clean_env, capsys):
    clean_env.setenv("DRS_AUTH_TOKEN", emu.token)
    line = usage_error(["fetch", "--endpoint", emu.url, "--project-id", emu.project_id, "--no-cache",
                        "--page-size", "10", emu.job_ids[0]], capsys)
    assert line == "drs-analytics fetch: error: --page-size needs --all or --targets (it sizes the job list pages)"
    assert emu.app.request_count == 0


def test_enrich_with_job_ids_and_page_size_with_all_still_work(emu, clean_env, tmp_path, capsys):
    clean_env.setenv("DRS_AUTH_TOKEN", emu.token)
    connection = ["--endpoint", emu.url, "--project-id", emu.project_id, "--no-cache", "--no-progress"]
    assert main(["fetch", *connection, "--enrich", "-o", str(tmp_path / "e.csv"), *emu.job_ids[:2]]) == 0
    emu.app.reset_counters()
    assert main(["fetch", *connection, "--all", "--job-type", "sync", "--page-size", "3",
                 "-o", str(tmp_path / "a.csv")]) == 0, capsys.readouterr().err
    top_sync = sum(j.parent_id is None and j.job_type == "sync" for j in emu.fleet)
    assert emu.app.route_counts[("GET", "list_jobs")] == max(1, -(-top_sync // 3))


def test_connection_from_the_environment_only(emu, clean_env, tmp_path, capsys):
    clean_env.setenv("DRS_AUTH_TOKEN", emu.token)
    clean_env.setenv("DRS_ENDPOINT", emu.url)
    clean_env.setenv("DRS_PROJECT_ID", emu.project_id)
    assert main(["fetch", "--no-cache", "--no-progress", "-o", str(tmp_path / "a.csv"), emu.job_ids[0]]) == 0, \
        capsys.readouterr().err


def test_refresh_with_all_asks_the_api_again(emu, clean_env, tmp_path, capsys):
    clean_env.setenv("DRS_AUTH_TOKEN", emu.token)
    argv = ["fetch", "--all", "--job-type", "sync", "--endpoint", emu.url, "--project-id", emu.project_id,
            "--cache", str(tmp_path / "c.sqlite"), "--no-progress", "-o", str(tmp_path / "a.csv")]
    assert main(argv) == 0
    first = emu.app.route_counts[("GET", "list_jobs")]
    assert main(argv) == 0
    assert emu.app.route_counts[("GET", "list_jobs")] == first  # cached
    assert main([*argv, "--refresh"]) == 0, capsys.readouterr().err
    assert emu.app.route_counts[("GET", "list_jobs")] == 2 * first


def test_region_flag_with_the_endpoint_variable_labels_the_data(emu, clean_env, tmp_path, capsys):
    # as before the flags stopped defaulting to the variables at parse time
    from drs_analytics.report import read_actions

    clean_env.setenv("DRS_AUTH_TOKEN", emu.token)
    clean_env.setenv("DRS_ENDPOINT", emu.url)
    out = tmp_path / "a.csv"
    assert main(["fetch", "--all", "--job-type", "sync", "--region", "cn-south-4", "--project-id", emu.project_id,
                 "--no-cache", "--no-progress", "-o", str(out)]) == 0, capsys.readouterr().err
    frame = read_actions(out)
    assert len(frame) and (frame["region"] == "cn-south-4").all()


@pytest.mark.parametrize("iam_from", ["variable", "flag"])
def test_cache_command_knows_password_credentials_answers(emu, clean_env, tmp_path, capsys, iam_from):
    # the cache command has no IAM endpoint of its own: the identity must not depend on it
    clean_env.setenv("DRS_IAM_USERNAME", emu.username)
    clean_env.setenv("DRS_IAM_PASSWORD", emu.password)
    clean_env.setenv("DRS_IAM_DOMAIN", emu.domain)
    iam = []
    if iam_from == "variable":
        clean_env.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", emu.iam_url)
    else:
        iam = ["--iam-endpoint", emu.iam_url]
    cache = str(tmp_path / "c.sqlite")
    assert main(["fetch", "--endpoint", emu.url, "--project-id", emu.project_id, "--cache", cache, "--no-progress",
                 *iam, "-o", str(tmp_path / "a.csv"), *emu.job_ids[:4]]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["cache", "info", "--cache", cache]) == 0
    out = capsys.readouterr().out
    assert "entries: 4" in out and "mine: 4" in out
    assert emu.password not in out
