"""The CLI on whole fleets: --all, --job-type, --source, --targets, AK/SK from the environment."""

from __future__ import annotations

import pandas as pd
import pytest

from drs_analytics.cli import main
from drs_analytics.emulator import Emulator
from drs_analytics.emulator.rules import job_actions
from drs_analytics.report import read_actions, read_errors


def test_fetch_all_with_aksk_from_the_environment(emu, clean_env, tmp_path, capsys):
    clean_env.setenv("HUAWEICLOUD_SDK_AK", emu.ak)
    clean_env.setenv("HUAWEICLOUD_SDK_SK", emu.sk)
    clean_env.setenv("HUAWEICLOUD_SDK_PROJECT_ID", emu.project_id)
    out = tmp_path / "a.csv"
    code = main(["fetch", "--all", "--job-type", "sync,migration", "--endpoint", emu.url, "--region", "cn-south-2",
                 "--no-cache", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    frame = read_actions(out)
    wanted = {j.id for j in emu.fleet if j.job_type in ("sync", "migration") and any(job_actions(j)[:2])}
    assert set(frame["job_id"]) == wanted  # a job reporting no action at all has no rows
    assert set(frame["job_type"].dropna()) == {"sync", "migration"}
    assert (frame["region"] == "cn-south-2").all()
    assert emu.app.route_counts.get(("GET", "job_actions"), 0) == 0


def test_report_all_from_per_job_actions_with_password_credentials(emu, clean_env, tmp_path, capsys):
    clean_env.setenv("DRS_IAM_USERNAME", emu.username)
    clean_env.setenv("DRS_IAM_PASSWORD", emu.password)
    clean_env.setenv("DRS_IAM_DOMAIN", emu.domain)
    out = tmp_path / "rep"
    code = main(["report", "--all", "--source", "actions", "--endpoint", emu.url, "--iam-endpoint", emu.iam_url,
                 "--project-id", emu.project_id, "--no-cache", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert emu.app.route_counts[("GET", "job_actions")] == len(emu.job_ids)
    frame = read_actions(out / "actions.csv")
    assert frame["job_id"].nunique() == pd.read_csv(out / "matrix.csv")["job_id"].nunique()


def test_targets_file_two_regions_and_a_failing_one(clean_env, tmp_path, capsys):
    with Emulator(jobs=12, seed=41, region="cn-south-2") as a, Emulator(jobs=9, seed=42, region="cn-south-4") as b, \
            Emulator(jobs=5, seed=43) as c:
        clean_env.setenv("A_TOKEN", a.token)
        clean_env.setenv("B_AK", b.ak)
        clean_env.setenv("B_SK", b.sk)
        clean_env.setenv("C_TOKEN", "wrong-token")
        targets = tmp_path / "targets.toml"
        targets.write_text(
            f'[[target]]\nendpoint = "{a.url}"\nregion = "cn-south-2"\nproject_id = "{a.project_id}"\ntoken_env = "A_TOKEN"\n'
            f'[[target]]\nendpoint = "{b.url}"\nregion = "cn-south-4"\nproject_id = "{b.project_id}"\n'
            f'ak_env = "B_AK"\nsk_env = "B_SK"\n'
            f'[[target]]\nname = "broken"\nendpoint = "{c.url}"\nproject_id = "{c.project_id}"\ntoken_env = "C_TOKEN"\n'
        )
        out = tmp_path / "rep"
        code = main(["report", "--targets", str(targets), "--job-type", "sync", "--no-cache", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "wrong-token" not in err
    frame = read_actions(out / "actions.csv")
    assert set(frame["region"].dropna()) == {"cn-south-2", "cn-south-4"}
    assert set(frame["project_id"]) == {a.project_id, b.project_id}
    errors = read_errors(out / "errors.csv")
    assert list(errors["job_id"]) == ["<list job_type=sync>"] and (errors["status_code"] == 401).all()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fetch", "--job-type", "sync", "j1"], "need --all"),
        (["fetch", "--all", "j1"], "not both"),
        (["fetch", "--all", "--job-type", "synk"], "unknown job type 'synk'"),
        (["fetch", "--targets", "/nonexistent/t.toml"], "does not exist"),
    ],
)
def test_fleet_usage_errors_exit_2(emu, clean_env, capsys, argv, message):
    clean_env.setenv("DRS_AUTH_TOKEN", emu.token)
    clean_env.setenv("DRS_ENDPOINT", emu.url)
    clean_env.setenv("DRS_PROJECT_ID", emu.project_id)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_no_credentials_is_a_usage_error(emu, clean_env, capsys):
    assert main(["fetch", "--all", "--endpoint", emu.url, "--project-id", emu.project_id]) == 2
    assert "no credentials" in capsys.readouterr().err


def test_iam_endpoint_option_applies_to_targets_without_their_own(emu, clean_env, tmp_path, capsys):
    clean_env.setenv("DRS_IAM_USERNAME", emu.username)
    clean_env.setenv("DRS_IAM_PASSWORD", emu.password)
    clean_env.setenv("DRS_IAM_DOMAIN", emu.domain)
    targets = tmp_path / "targets.toml"
    targets.write_text(f'[[target]]\nendpoint = "{emu.url}"\nproject_id = "{emu.project_id}"\n')
    out = tmp_path / "a.csv"
    code = main(["fetch", "--targets", str(targets), "--iam-endpoint", emu.iam_url, "--no-cache", "-o", str(out)])
    assert code == 0, capsys.readouterr().err  # the option was ignored: "password credentials need an IAM endpoint"
    assert read_actions(out)["job_id"].nunique() > 0
    assert emu.app.route_counts[("POST", "iam_tokens")] == 1


def test_cache_command_and_offline_fetch(emu, clean_env, tmp_path, capsys):
    clean_env.setenv("DRS_AUTH_TOKEN", emu.token)
    clean_env.setenv("DRS_ENDPOINT", emu.url)
    clean_env.setenv("DRS_PROJECT_ID", emu.project_id)
    cache = str(tmp_path / "c.sqlite")
    assert main(["fetch", "--cache", cache, "-o", str(tmp_path / "a.csv"), *emu.job_ids[:5]]) == 0
    served = emu.app.request_count
    code = main(["fetch", "--cache", cache, "--offline", "-o", str(tmp_path / "b.csv"), *emu.job_ids[:7]])
    assert code == 1 and emu.app.request_count == served  # two jobs not cached: error records, nothing sent
    capsys.readouterr()
    assert main(["cache", "info", "--cache", cache]) == 0
    out = capsys.readouterr().out
    assert "entries: 5" in out and "mine: 5" in out
    assert main(["cache", "list", "--cache", cache]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith("mine,kind,project_id,job_id") and len(listed) == 6
    assert main(["cache", "clear", "--cache", cache]) == 0
    assert "deleted 5 cached answers" in capsys.readouterr().out
    clean_env.delenv("DRS_AUTH_TOKEN")
    assert main(["cache", "clear", "--cache", cache]) == 2
    assert "--everyone" in capsys.readouterr().err
    assert main(["cache", "info", "--cache", str(tmp_path / "nope.sqlite")]) == 2
    assert main(["fetch", "--offline", "--no-cache", emu.job_ids[0]]) == 2


def test_raw_csv_keeps_formulas_as_they_are(emu, clean_env, tmp_path, capsys):
    clean_env.setenv("DRS_AUTH_TOKEN", emu.token)
    clean_env.setenv("DRS_ENDPOINT", emu.url)
    clean_env.setenv("DRS_PROJECT_ID", emu.project_id)
    emu.app.set_job_actions(emu.job_ids[0], ["=HYPERLINK(\"x\")"], ["@SUM"], "-CMD")
    for raw, expected in ((False, "'=HYPERLINK"), (True, "=HYPERLINK")):
        out = tmp_path / f"{raw}.csv"
        assert main(["fetch", "--no-cache", *(["--raw"] if raw else []), "-o", str(out), emu.job_ids[0]]) == 0
        text = out.read_text(encoding="utf-8")
        assert any(line.split(",")[2].lstrip('"').startswith(expected) for line in text.splitlines()[1:]), text


def test_fetch_writes_errors_and_counts_list_scans_and_stale_apart(emu, clean_env, tmp_path, capsys):
    from drs_analytics.report import read_errors

    clean_env.setenv("DRS_ENDPOINT", emu.url)
    clean_env.setenv("DRS_PROJECT_ID", emu.project_id)
    clean_env.setenv("DRS_AUTH_TOKEN", "wrong-token")
    code = main(["fetch", "--all", "--no-cache", "-o", str(tmp_path / "a.csv"), "--errors", str(tmp_path / "e.csv")])
    err = capsys.readouterr().err
    assert code == 1 and "0 jobs, 0 rows, 0 errors, 4 failed list scans or targets" in err and err.count("\n") == 1
    assert list(read_errors(tmp_path / "e.csv")["status_code"]) == [401] * 4
    clean_env.setenv("DRS_AUTH_TOKEN", emu.token)
    cache = str(tmp_path / "c.sqlite")
    assert main(["fetch", "--cache", cache, "--expire-after", "0.3", "-o", str(tmp_path / "b.csv"), *emu.job_ids[:3]]) == 0
    capsys.readouterr()
    import time

    time.sleep(1.0)
    emu.app.set_raw_response(emu.job_ids[0], 500, b'{"error_code":"DRS.M00004","error_msg":"x"}')
    code = main(["fetch", "--cache", cache, "--stale-if-error", "-o", str(tmp_path / "c.csv"), *emu.job_ids[:3]])
    out = capsys.readouterr().out
    assert code == 0 and "3 jobs" in out and "1 stale (expired cached answers)" in out
