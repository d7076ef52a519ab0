"""Reports and the drs-analytics command."""

from __future__ import annotations

import os
import socket

import numpy as np
import pandas as pd
import pytest

from drs_analytics import fetch_actions, read_actions, write_report
from drs_analytics.cli import main
from drs_analytics.frame import FRAME_COLUMNS
from drs_analytics.report import REPORT_FILES, read_errors, read_manifest


def _check_report_consistency(out):
    actions = read_actions(out / "actions.csv")
    matrix = pd.read_csv(out / "matrix.csv", index_col="job_id", dtype=str, keep_default_na=False)
    summary = pd.read_csv(out / "summary.csv", index_col="action")
    # matrix.csv agrees with actions.csv, cell by cell, worked out independently of the code
    expected = {(j, a): ("True" if v else "False") for j, a, v in
                actions[["job_id", "action", "available"]].astype({"job_id": str, "action": str}).itertuples(index=False)}
    for job, row in matrix.iterrows():
        for action, cell in row.items():
            assert cell == expected.get((job, action), ""), (job, action)
    assert set(matrix.columns) == set(actions["action"].astype(str))
    counts = actions.groupby(actions["action"].astype(str))["available"].sum()
    assert (summary["available"] == counts.reindex(summary.index)).all()
    assert (summary["available"] + summary["unavailable"] + summary["not_reported"] == summary["jobs"]).all()
    return actions, matrix, summary


def test_demo_writes_consistent_report_files(tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["demo", "--jobs", "60", "--latency-ms", "0", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "fetched 60 jobs" in printed and "60/60 from the cache" in printed and "errors: 0" in printed
    assert "through the job list: 60 jobs in 4 requests" in printed
    assert sorted(p.name for p in out.iterdir()) == sorted(REPORT_FILES)
    manifest = read_manifest(out)
    assert manifest["schema_version"] == 1 and manifest["neutralised"] is True
    assert list(manifest["files"]) == ["actions.csv", "matrix.csv", "summary.csv", "errors.csv"]
    assert manifest["files"]["matrix.csv"]["rows"] == 60
    actions, matrix, _ = _check_report_consistency(out)
    assert actions["job_id"].nunique() == len(matrix) == 60
    assert list(actions.columns) == list(FRAME_COLUMNS)
    assert len(read_errors(out / "errors.csv")) == 0
    png = (out / "availability.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_write_report_round_trip(emu, client, tmp_path):
    result = fetch_actions(emu.job_ids + ["00000000-0000-4000-8000-000000000jb000"], client=client, progress=False)
    write_report(result, tmp_path, png=False)
    back = read_actions(tmp_path / "actions.csv")
    pd.testing.assert_frame_equal(back, result.frame)  # dtypes and category orders included
    errors = read_errors(tmp_path / "errors.csv")
    assert errors["job_id"].tolist() == ["00000000-0000-4000-8000-000000000jb000"]
    assert errors["status_code"].tolist() == [400]
    assert not list(tmp_path.glob(".*.tmp"))  # no temp file left behind
    umask = os.umask(0o022)
    os.umask(umask)
    assert (tmp_path / "actions.csv").stat().st_mode & 0o777 == 0o666 & ~umask  # not a private temp file


def _env(monkeypatch, emu):
    monkeypatch.setenv("DRS_AUTH_TOKEN", emu.token)
    monkeypatch.setenv("DRS_ENDPOINT", emu.url)
    monkeypatch.setenv("DRS_PROJECT_ID", emu.project_id)


def test_cli_report_from_a_jobs_file(emu, monkeypatch, tmp_path, capsys):
    _env(monkeypatch, emu)
    jobs = tmp_path / "jobs.txt"
    jobs.write_text("# fleet\n" + "\n".join(emu.job_ids[:20]) + "\n\n")
    out = tmp_path / "r"
    code = main(["report", "--jobs-file", str(jobs), "--out", str(out), "--cache", str(tmp_path / "c.sqlite")])
    assert code == 0, capsys.readouterr().err
    _check_report_consistency(out)
    assert read_actions(out / "actions.csv")["job_id"].nunique() == 20


def test_cli_fetch_to_stdout_and_exit_1_when_some_jobs_fail(emu, monkeypatch, tmp_path, capsys):
    _env(monkeypatch, emu)
    code = main(["fetch", "--no-cache", emu.job_ids[0], "00000000-0000-4000-8000-000000000jb000"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out.splitlines()[0] == ",".join(FRAME_COLUMNS)
    assert all(emu.job_ids[0] in line for line in captured.out.splitlines()[1:])
    assert captured.err.count("\n") == 1 and "1 job, " in captured.err and "1 error" in captured.err


def test_cli_401_prints_one_line(emu, monkeypatch, capsys):
    _env(monkeypatch, emu)
    monkeypatch.setenv("DRS_AUTH_TOKEN", "not-the-token")
    assert main(["fetch", "--no-cache", *emu.job_ids[:3]]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing fetched (0 jobs, 0 rows, 3 errors)" in err and "401" in err and "APIGW.0301" in err
    assert "not-the-token" not in err and "Traceback" not in err


def test_cli_unreachable_endpoint_prints_one_line(monkeypatch, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DRS_AUTH_TOKEN", "t")
    code = main(["fetch", "--no-cache", "--endpoint", f"http://127.0.0.1:{port}", "--project-id", "p1", "job-1"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "connection refused" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fetch", "--jobs-file", "/nonexistent/jobs.txt"], "cannot read job IDs"),
        (["fetch", "--project-id", "p1", "j1"], "no endpoint"),
        (["fetch", "--endpoint", "http://127.0.0.1:9", "j1"], "no project ID"),
        (["fetch", "--endpoint", "ftp://x", "--project-id", "p1", "j1"], "must start with https://"),
        (["fetch", "--endpoint", "http://127.0.0.1:9", "--project-id", "a/b", "j1"], "invalid project ID"),
    ],
)
def test_cli_usage_errors_exit_2(monkeypatch, capsys, argv, message):
    for var in ("DRS_ENDPOINT", "DRS_REGION", "DRS_PROJECT_ID", "HUAWEICLOUD_SDK_PROJECT_ID"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DRS_AUTH_TOKEN", "t")
    if "--jobs-file" in argv:
        argv = argv + ["--endpoint", "http://127.0.0.1:9", "--project-id", "p1"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_heatmap_cells_show_the_right_state(tmp_path):
    """A hand-built matrix: each cell's colour index, and the rendered PNG's pixels."""
    from matplotlib.figure import Figure
    from matplotlib.image import imread

    from drs_analytics import plot_availability_matrix
    from drs_analytics.plots import STATE_COLORS

    matrix = pd.DataFrame(
        {"PAUSE": pd.array([True, False, None], dtype="boolean"),
         "DELETE": pd.array([None, None, True], dtype="boolean")},
        index=pd.Index(["j1", "j2", "j3"], name="job_id"),
    )
    fig = Figure(figsize=(4, 4), dpi=100)
    ax = fig.add_subplot()
    plot_availability_matrix(matrix, ax=ax, sort="none", legend=False)
    # 0 not reported, 1 unavailable, 2 available; columns: PAUSE (1 available) before DELETE (1)
    assert np.asarray(ax.get_images()[0].get_array()).tolist() == [[2, 0], [1, 0], [0, 2]]
    fig.savefig(tmp_path / "m.png")
    pixels = imread(tmp_path / "m.png")[..., :3]
    box = ax.get_window_extent()
    height = pixels.shape[0]

    def colour_at(row, col):  # centre of a cell, in image pixel coordinates
        x = int(box.x0 + (col + 0.5) * box.width / 2)
        y = int(height - (box.y1 - (row + 0.5) * box.height / 3))
        return "#" + "".join(f"{round(v * 255):02x}" for v in pixels[y, x])

    blue, orange, grey = STATE_COLORS[2], STATE_COLORS[1], STATE_COLORS[0]
    assert [colour_at(r, c) for r in range(3) for c in range(2)] == [blue, grey, orange, grey, grey, blue]


def test_one_available_cell_in_a_tall_matrix_is_still_drawn():
    from matplotlib.figure import Figure

    from drs_analytics import plot_availability_matrix

    state = np.zeros((5000, 8), dtype=bool)
    state[4321, 5] = True
    matrix = pd.DataFrame(state, columns=[f"A{i}" for i in range(8)]).astype("boolean")
    fig = Figure(figsize=(6, 6), dpi=100)
    ax = fig.add_subplot()
    plot_availability_matrix(matrix, ax=ax, sort="signature")
    image = np.asarray(ax.get_images()[0].get_array())
    assert image.shape == (5000, 8) and (image == 2).sum() == 1


def test_report_with_no_data_is_written_without_warnings(tmp_path):
    import warnings

    from drs_analytics.report import render_heatmap

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        render_heatmap(pd.DataFrame({"job_id": [], "action": [], "available": []}), tmp_path / "empty.png")
    assert (tmp_path / "empty.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_jobs_file_comments_and_bad_numbers(emu, monkeypatch, tmp_path, capsys):
    _env(monkeypatch, emu)
    jobs = tmp_path / "jobs.txt"
    jobs.write_text(f"{emu.job_ids[0]}   # prod db\r\n\t\n  # comment\n{emu.job_ids[1]}\n")
    assert main(["fetch", "--no-cache", "--jobs-file", str(jobs), "-o", str(tmp_path / "a.csv")]) == 0
    assert read_actions(tmp_path / "a.csv")["job_id"].cat.categories.tolist() == emu.job_ids[:2]
    for argv in (["--expire-after", "-5"], ["--timeout", "0"], ["--workers", "0"]):
        with pytest.raises(SystemExit) as info:
            main(["fetch", *argv, emu.job_ids[0]])
        assert info.value.code == 2
    (tmp_path / "file").write_text("x")
    assert main(["report", "--out", str(tmp_path / "file"), emu.job_ids[0]]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err


def test_emulator_command_writes_env_and_job_id_files(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    env_file, ids_file = tmp_path / "emu.env", tmp_path / "jobs.txt"
    proc = subprocess.Popen(
        [sys.executable, "-m", "drs_analytics.cli", "emulator", "--port", "0", "--jobs", "12",
         "--env-file", str(env_file), "--job-ids-file", str(ids_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("DRS_ENDPOINT=http://127.0.0.1:")
        lines = env_file.read_text().splitlines()
        assert [line.split("=")[0] for line in lines[:3]] == ["export DRS_ENDPOINT", "export DRS_PROJECT_ID", "export DRS_AUTH_TOKEN"]
        assert "export HUAWEICLOUD_SDK_AK" in {line.split("=")[0] for line in lines}
        assert lines[0] == "export " + first.strip()
        assert len(ids_file.read_text().split()) == 12
    finally:
        proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=5)
    assert proc.returncode == 0
