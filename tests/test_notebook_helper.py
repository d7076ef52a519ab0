import pytest

from drs_analytics import ConfigurationError
from drs_analytics.notebook import open_fleet


def test_no_variables_start_the_emulator_and_close_cleans_up(clean_env):
    fleet = open_fleet(jobs=7, seed=2)
    tmp = fleet._tmp
    assert fleet.source == "emulator" and len(fleet.job_ids) == 7 and fleet.emulator.running
    assert fleet.client.get_actions(fleet.job_ids[0]).job_id == fleet.job_ids[0]
    fleet.close()
    assert not fleet.emulator.running
    import os

    assert not os.path.exists(tmp)


def test_all_variables_use_that_endpoint(clean_env, emu, tmp_path):
    jobs = tmp_path / "jobs.txt"
    jobs.write_text(f"# two jobs\n{emu.job_ids[0]}\n{emu.job_ids[1]}  # second\n")
    clean_env.setenv("DRS_ENDPOINT", emu.url)
    clean_env.setenv("DRS_PROJECT_ID", emu.project_id)
    clean_env.setenv("DRS_AUTH_TOKEN", emu.token)
    clean_env.setenv("DRS_JOBS_FILE", str(jobs))
    clean_env.setenv("DRS_ANALYTICS_CACHE_DIR", str(tmp_path / "cache"))
    with open_fleet() as fleet:
        assert fleet.source == emu.url and fleet.emulator is None
        assert fleet.job_ids == emu.job_ids[:2]
        assert fleet.client.get_actions(fleet.job_ids[1]).job_id == emu.job_ids[1]


def test_half_configured_environment_names_what_is_missing(clean_env):
    clean_env.setenv("DRS_PROJECT_ID", "p1")
    with pytest.raises(ConfigurationError, match="DRS_PROJECT_ID set but no DRS_ENDPOINT or DRS_REGION"):
        open_fleet()
    clean_env.setenv("DRS_ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(ConfigurationError, match="no credentials"):
        open_fleet()


def test_aksk_without_a_jobs_file_reads_the_whole_project_from_the_list(clean_env, emu, tmp_path):
    clean_env.setenv("DRS_ENDPOINT", emu.url)
    clean_env.setenv("HUAWEICLOUD_SDK_PROJECT_ID", emu.project_id)
    clean_env.setenv("HUAWEICLOUD_SDK_AK", emu.ak)
    clean_env.setenv("HUAWEICLOUD_SDK_SK", emu.sk)
    clean_env.setenv("DRS_ANALYTICS_CACHE_DIR", str(tmp_path / "cache"))
    with open_fleet() as fleet:
        assert fleet.client.auth_kind == "aksk" and sorted(fleet.job_ids) == sorted(emu.job_ids)
