"""fetch_actions against the live emulator: tidy rows, cache, nothing lost."""

from __future__ import annotations

import threading
import warnings

import pandas as pd
import pytest

from drs_analytics import ActionConflictWarning, fetch_actions
from drs_analytics.frame import FRAME_COLUMNS, JOBS_COLUMNS

from .conftest import DOC_AVAILABLE, DOC_CURRENT, DOC_JOB_ID, DOC_UNAVAILABLE, served


def test_documented_example_gives_the_exact_tidy_rows(emu, client):
    emu.app.set_job_actions(DOC_JOB_ID, DOC_AVAILABLE, DOC_UNAVAILABLE, DOC_CURRENT)
    result = fetch_actions([DOC_JOB_ID], client=client, progress=False)
    frame = result.frame
    assert tuple(frame.columns) == FRAME_COLUMNS
    expected = pd.DataFrame(
        {
            "action": ["CREATE", "CHOOSE_OBJECT", "PRE_CHECK", "START", "QUICK_START", "CHANGE", "RETRY"],
            "available": [True, True, True, False, False, False, False],
        }
    )
    assert frame["action"].astype(str).tolist() == expected["action"].tolist()
    assert frame["available"].tolist() == expected["available"].tolist()
    assert set(frame["job_id"].astype(str)) == {DOC_JOB_ID}
    assert set(frame["project_id"].astype(str)) == {emu.project_id}
    assert set(frame["current_action"].astype(str)) == {"SWITCH_OVER"}
    assert not frame["from_cache"].any()
    for col in ("project_id", "job_id", "action", "current_action"):
        assert isinstance(frame[col].dtype, pd.CategoricalDtype), col
    assert frame["available"].dtype == bool and frame["from_cache"].dtype == bool
    assert str(frame["fetched_at"].dtype) == "datetime64[ns, UTC]"
    jobs = result.jobs
    assert tuple(jobs.columns) == JOBS_COLUMNS
    assert jobs.iloc[0][["n_available", "n_unavailable"]].tolist() == [3, 4]
    assert len(result.errors) == 0 and len(result.conflicts) == 0


def test_second_fetch_makes_zero_requests_and_marks_from_cache(emu, client):
    first = fetch_actions(emu.job_ids, client=client, progress=False)
    before = served(emu)
    second = fetch_actions(emu.job_ids, client=client, progress=False)
    assert served(emu) == before
    assert second.frame["from_cache"].all() and second.jobs["from_cache"].all()
    assert not first.frame["from_cache"].any()
    pd.testing.assert_frame_equal(
        first.frame.drop(columns="from_cache"), second.frame.drop(columns="from_cache")
    )  # fetched_at of a cached row is when it was originally fetched


def test_failing_jobs_become_error_records_and_the_rest_are_kept(emu, client):
    unknown = "00000000-0000-4000-8000-000000000jb000"
    emu.app.set_raw_response(emu.job_ids[3], 500, b"<html>502 Bad Gateway</html>")
    emu.app.set_raw_response(emu.job_ids[4], 200, b"{}")
    ids = list(emu.job_ids[:10]) + [unknown, "bad/id"]
    result = fetch_actions(ids, client=client, progress=False)
    errors = result.errors.set_index("job_id")
    assert set(errors.index) == {emu.job_ids[3], emu.job_ids[4], unknown, "bad/id"}
    assert list(result.jobs["job_id"]) == [j for j in emu.job_ids[:10] if j not in (emu.job_ids[3], emu.job_ids[4])]
    assert errors.loc[unknown, "status_code"] == 400 and errors.loc[unknown, "error_code"] == "DRS.10000010"
    assert errors.loc[unknown, "attempts"] == 1
    assert errors.loc[emu.job_ids[3], "status_code"] == 500 and errors.loc[emu.job_ids[3], "attempts"] == 2
    assert errors.loc[emu.job_ids[3], "error_type"] == "ServerError"
    assert errors.loc[emu.job_ids[4], "error_type"] == "MalformedResponseError"
    assert errors.loc["bad/id", "error_type"] == "InvalidIDError" and errors.loc["bad/id", "attempts"] == 0
    assert pd.isna(errors.loc["bad/id", "status_code"])
    assert str(result.errors["status_code"].dtype) == "Int64"
    assert len(result.jobs) + len(result.errors) == result.requested == len(ids)
    assert list(result.errors["job_id"]) == [j for j in ids if j in errors.index]  # input order


def test_duplicate_input_ids_are_fetched_once(emu, client):
    ids = [emu.job_ids[0]] * 5 + [emu.job_ids[1], emu.job_ids[0]]
    before = served(emu)
    result = fetch_actions(ids, client=client, progress=False)
    assert served(emu) - before == 2
    assert list(result.jobs["job_id"]) == [emu.job_ids[0], emu.job_ids[1]] and result.requested == 2


def test_invalid_ids_make_no_request(emu, client):
    before = served(emu)
    result = fetch_actions(["", "a/b", "..", "x y"], client=client, progress=False)
    assert served(emu) == before and len(result.errors) == 4 and len(result.frame) == 0


def test_empty_input_gives_empty_frames_with_the_same_dtypes(emu, client):
    empty = fetch_actions([], client=client, progress=False)
    full = fetch_actions(emu.job_ids[:3], client=client, progress=False)
    emu.app.set_raw_response(emu.job_ids[5], 500, b"{}")
    full = fetch_actions(emu.job_ids[:6], client=client, progress=False)  # with one error row
    assert len(empty.frame) == len(empty.jobs) == len(empty.errors) == 0 and len(full.errors) == 1

    def dtypes(frame):
        return [f"category[{t.categories.dtype}]" if isinstance(t, pd.CategoricalDtype) else str(t) for t in frame.dtypes]

    for a, b in ((empty.frame, full.frame), (empty.jobs, full.jobs), (empty.errors, full.errors),
                 (empty.conflicts, full.conflicts)):
        assert list(a.columns) == list(b.columns)
        assert dtypes(a) == dtypes(b)
    assert empty.matrix().shape == (0, 0) and len(empty.summary()) == 0


def test_action_in_both_lists_is_one_unavailable_row_and_reported(emu, client):
    job = emu.job_ids[5]
    emu.app.set_job_actions(job, ["PAUSE", "CLONE", "PAUSE"], ["DELETE", "CLONE", "DELETE"], None)
    with pytest.warns(ActionConflictWarning, match="1 action"):
        result = fetch_actions([job], client=client, progress=False)
    rows = result.frame[["action", "available"]].astype({"action": str}).values.tolist()
    # available first; the conflicting CLONE sits at its place in the unavailable list
    assert rows == [["PAUSE", True], ["DELETE", False], ["CLONE", False]]
    assert result.conflicts.values.tolist() == [[job, "CLONE"]]
    assert result.jobs.iloc[0][["n_available", "n_unavailable"]].tolist() == [1, 2]


def test_idle_current_action_variants_are_na(emu, client):
    jobs = emu.job_ids[6:9]
    emu.app.set_job_actions(jobs[0], ["PAUSE"], [], None)
    emu.app.set_job_actions(jobs[1], ["PAUSE"], [], "")
    emu.app.set_raw_response(jobs[2], 200, b'{"job_action": {"available_actions": ["PAUSE"]}}')
    result = fetch_actions(jobs, client=client, progress=False)
    assert result.frame["current_action"].isna().all() and len(result.frame) == 3
    assert result.jobs["current_action"].isna().all()


def test_matrix_and_summary_values(emu, client):
    a, b = emu.job_ids[10:12]
    emu.app.set_job_actions(a, ["PAUSE", "CLONE"], ["DELETE"], None)
    emu.app.set_job_actions(b, ["DELETE"], ["PAUSE", "START_INCR"], "DELETE")
    result = fetch_actions([a, b], client=client, progress=False)
    matrix = result.matrix()
    assert list(matrix.columns) == ["PAUSE", "DELETE", "START_INCR", "CLONE"]
    assert matrix.loc[a].tolist()[:2] == [True, False] and matrix.loc[a, "CLONE"]
    assert pd.isna(matrix.loc[a, "START_INCR"]) and pd.isna(matrix.loc[b, "CLONE"])
    assert str(matrix.dtypes.iloc[0]) == "boolean"
    summary = result.summary()
    assert summary.loc["PAUSE", ["available", "unavailable", "not_reported"]].tolist() == [1, 1, 0]
    assert summary.loc["START_INCR", ["available", "unavailable", "not_reported"]].tolist() == [0, 1, 1]
    assert summary.loc["CLONE", "availability_rate"] == 0.5 and summary.loc["CLONE", "reported_rate"] == 1.0


def test_unknown_action_names_are_kept(emu, client):
    emu.app.set_job_actions(emu.job_ids[0], ["FUTURE_ACTION"], ["QUICK_START"], "NEW_OP")
    result = fetch_actions(emu.job_ids[:1], client=client, progress=False)
    assert result.frame["action"].astype(str).tolist() == ["FUTURE_ACTION", "QUICK_START"]
    assert result.frame["current_action"].astype(str).unique().tolist() == ["NEW_OP"]


def test_32_threads_over_one_cache_file(make_client, tmp_path):
    """Two clients on one SQLite file, 32 workers each, concurrently: no lock errors, nothing lost."""
    from drs_analytics.emulator import Emulator

    emu = Emulator(jobs=400, seed=13, latency_ms=1, jitter_ms=4).start()
    path = tmp_path / "busy.sqlite"
    kw = dict(endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=path)
    clients = [make_client(**kw), make_client(**kw)]
    results, failures = [None, None], []

    def run(i):
        try:
            results[i] = fetch_actions(emu.job_ids, client=clients[i], max_workers=32, progress=False)
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            failures.append(exc)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert not failures
    for result in results:
        assert len(result.errors) == 0, result.errors["error_msg"].tolist()
        assert len(result.jobs) == len(emu.job_ids)
    warm = fetch_actions(emu.job_ids, client=clients[0], max_workers=32, progress=False)
    emu.stop()
    assert warm.jobs["from_cache"].all() and len(warm.errors) == 0
    assert clients[0].cache.responses.count() == 400


def test_series_input_and_type_errors(emu, client):
    result = fetch_actions(pd.Series(emu.job_ids[:2]), client=client, progress=False)
    assert len(result.jobs) == 2
    with pytest.raises(TypeError, match="not a single string"):
        fetch_actions(emu.job_ids[0], client=client)
    with pytest.raises(ValueError, match="max_workers"):
        fetch_actions([], client=client, max_workers=0)


CHILD = """
import sys
from drs_analytics import DRSClient, fetch_actions
url, project, token, path, ids_file = sys.argv[1:6]
ids = open(ids_file).read().split()
with DRSClient(endpoint=url, project_id=project, token=token, cache=path, expire_after=0.2) as client:
    for _ in range(8):
        result = fetch_actions(ids, client=client, max_workers=16, progress=False)
        assert len(result.errors) == 0, result.errors["error_msg"].tolist()
print("ok", len(result.jobs))
"""


def test_two_processes_share_one_cache_file(emu, make_client, tmp_path):
    import subprocess
    import sys

    path = tmp_path / "shared-proc.sqlite"
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("\n".join(emu.job_ids))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, emu.url, emu.project_id, emu.token, str(path), str(ids_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    client = make_client(cache=path, expire_after=0.2)  # short freshness: both processes keep writing
    rounds = 0
    while (child.poll() is None or rounds < 3) and rounds < 200:
        result = fetch_actions(emu.job_ids, client=client, max_workers=16, progress=False)
        assert len(result.errors) == 0, result.errors["error_msg"].tolist()
        rounds += 1
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err[-2000:]
    assert out.split() == ["ok", str(len(emu.job_ids))]
    assert client.cache.responses.count() == len(emu.job_ids)
    assert rounds > 3  # the two processes really overlapped
