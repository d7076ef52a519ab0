"""Report folders: an old report.json goes before a new report is written; leftover temporary files go too."""

from __future__ import annotations

import json
import os
import time

import pytest

from drs_analytics import report as report_module
from drs_analytics.cli import main
from drs_analytics.report import MANIFEST, invalidate_report, remove_leftovers, write_report

from .conftest import emulated_fleet_result

pytestmark = pytest.mark.timeout(60)

DEAD_PID = 2**22 + 7  # above Linux's largest pid_max: never a live process


def old_report(out) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).write_text(json.dumps({"schema_version": 1, "created_at": "2000-01-01T00:00:00Z"}))
    (out / "actions.csv").write_text("old\n")


def test_a_report_that_fails_halfway_leaves_no_old_manifest(tmp_path, monkeypatch):
    out = tmp_path / "r"
    old_report(out)
    result = emulated_fleet_result(5)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(report_module, "render_heatmap", broken)  # after the CSVs, before report.json
    with pytest.raises(OSError, match="disk full"):
        write_report(result, out)
    assert not (out / MANIFEST).exists()  # the old one would vouch for new CSVs it never described
    assert (out / "actions.csv").read_text() != "old\n"
    monkeypatch.undo()
    write_report(result, out)
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["created_at"] != "2000-01-01T00:00:00Z" and manifest["files"]["actions.csv"]["rows"] == len(
        result.frame)


@pytest.mark.skipif(os.name == "nt", reason="process liveness is not checked on Windows")
def test_leftover_temporary_files_are_cleaned_and_nothing_else(tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    dead = out / f".actions.csv.{DEAD_PID}.0123456789ab.tmp"
    dead_manifest = out / f".report.json.{DEAD_PID}.abcdefabcdef.tmp"
    mine_fresh = out / f".matrix.csv.{os.getpid()}.0123456789ab.tmp"  # maybe being written by another thread
    mine_old = out / f".summary.csv.{os.getpid()}.0123456789ab.tmp"
    alive_parent = out / f".errors.csv.{os.getppid()}.0123456789ab.tmp"
    keep = [out / ".notes.tmp", out / "actions.csv.tmp", out / f".other.csv.{DEAD_PID}.0123456789ab.tmp",
            out / f".actions.csv.{DEAD_PID}.xyz.tmp", out / "user.txt"]
    for path in (dead, dead_manifest, mine_fresh, mine_old, alive_parent, *keep):
        path.write_text("x")
    two_hours_ago = time.time() - 7200
    os.utime(mine_old, (two_hours_ago, two_hours_ago))
    removed = remove_leftovers(out)
    assert sorted(removed) == sorted([dead, dead_manifest, mine_old])
    assert all(p.exists() for p in (mine_fresh, alive_parent, *keep))
    assert remove_leftovers(tmp_path / "missing") == []


def test_write_report_cleans_leftovers_and_writes_no_tmp_of_its_own(tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    dead = out / f".availability.png.{DEAD_PID}.0123456789ab.tmp"
    dead.write_bytes(b"half a png")
    if os.name == "nt":
        os.utime(dead, (time.time() - 7200,) * 2)
    write_report(emulated_fleet_result(5), out)
    assert not dead.exists()
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


def test_invalidate_report(tmp_path):
    out = tmp_path / "r"
    old_report(out)
    invalidate_report(out)
    assert not (out / MANIFEST).exists() and (out / "actions.csv").exists()
    invalidate_report(tmp_path / "missing")  # nothing to do


def test_cli_report_whose_fetch_fails_leaves_no_old_manifest(emu, monkeypatch, tmp_path, capsys):
    out = tmp_path / "r"
    old_report(out)
    monkeypatch.setenv("DRS_AUTH_TOKEN", emu.token)
    argv = ["report", "--endpoint", emu.url, "--project-id", emu.project_id, "--no-cache", "--no-progress",
            "--out", str(out), emu.job_ids[0]]

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    import drs_analytics.fetch as fetch_module

    monkeypatch.setattr(fetch_module, "fetch_actions", interrupted)
    assert main(argv) == 130
    assert not (out / MANIFEST).exists()
    monkeypatch.undo()
    monkeypatch.setenv("DRS_AUTH_TOKEN", emu.token)
    assert main(argv) == 0, capsys.readouterr().err
    assert (out / MANIFEST).exists()


def test_cli_report_usage_error_keeps_the_old_report(tmp_path, monkeypatch, capsys):
    for var in ("DRS_ENDPOINT", "DRS_REGION", "DRS_PROJECT_ID", "HUAWEICLOUD_SDK_PROJECT_ID"):
        monkeypatch.delenv(var, raising=False)
    out = tmp_path / "r"
    old_report(out)
    assert main(["report", "--project-id", "p1", "--out", str(out), "j1"]) == 2  # no endpoint
    assert (out / MANIFEST).exists()  # nothing was fetched: the old report still stands
