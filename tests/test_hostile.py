"""Hostile and odd input: every case ends as data or an error record, never a crash."""

from __future__ import annotations

import math
import pickle
import random
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from drs_analytics import ConfigurationError, DRSClient, fetch_actions
from drs_analytics.fetch import ABORT_AFTER
from drs_analytics.frame import availability_matrix, build_frames
from drs_analytics.report import read_actions
from drs_analytics.responses import JobActions

from .conftest import served

BAD_BODIES = [
    ("deep nesting", 200, b"[" * 100_000),
    ("deep nesting in an error", 500, b"[" * 100_000),
    ("html 502", 502, b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
    ("empty 200", 200, b""),
    ("empty object", 200, b"{}"),
    ("null job_action", 200, b'{"job_action": null}'),
    ("list of ints", 200, b'{"job_action": {"available_actions": [1, 2]}}'),
    ("list is a string", 200, b'{"job_action": {"available_actions": "PAUSE"}}'),
    ("current_action number", 200, b'{"job_action": {"current_action": 5}}'),
    ("not utf-8", 200, b'\xff\xfe{"job_action"'),
    ("json array", 200, b"[]"),
]


@pytest.mark.parametrize(("case", "status", "body"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
def test_bad_bodies_become_error_records(emu, client, case, status, body):
    bad, good = emu.job_ids[0], emu.job_ids[1]
    emu.app.set_raw_response(bad, status, body)
    result = fetch_actions([bad, good], client=client, progress=False)
    assert result.jobs["job_id"].tolist() == [good]
    assert result.errors["job_id"].tolist() == [bad]
    assert result.errors["status_code"].tolist() == [status]
    assert result.errors["error_type"].iloc[0] == ("MalformedResponseError" if status == 200 else "ServerError")
    assert client.cache.responses.count() == 1  # only the good job's answer


ODD_BODIES = [
    ("null lists", b'{"job_action": {"available_actions": null, "unavailable_actions": null, "current_action": null}}', [], None),
    ("extra fields", b'{"job_action": {"available_actions": ["PAUSE"], "x": 1}, "y": [1]}', [("PAUSE", True)], None),
    ("blank current", b'{"job_action": {"available_actions": ["PAUSE"], "current_action": "  "}}', [("PAUSE", True)], None),
    ("huge list", b'{"job_action": {"unavailable_actions": [' + b",".join(b'"A%d"' % i for i in range(5000)) + b"]}}",
     [(f"A{i}", False) for i in range(5000)], None),
]


@pytest.mark.parametrize(("case", "body", "rows", "current"), ODD_BODIES, ids=[c[0] for c in ODD_BODIES])
def test_odd_but_valid_bodies_are_read(emu, client, case, body, rows, current):
    job = emu.job_ids[2]
    emu.app.set_raw_response(job, 200, body, {"Content-Type": "text/plain"})
    result = fetch_actions([job], client=client, progress=False)
    assert len(result.errors) == 0 and result.jobs["job_id"].tolist() == [job]
    got = list(zip(result.frame["action"].astype(str), result.frame["available"]))
    assert got == rows
    assert result.jobs["current_action"].isna().all()


def test_hostile_job_ids_are_error_records_in_input_order(emu, client):
    ids = [emu.job_ids[0], None, float("nan"), float("nan"), pd.NA, 5, "5", ["x"], {"a": 1}, b"bytes",
           "../etc", "a b", "jöb", "\x00", "", emu.job_ids[0]] + [emu.job_ids[1]] * 10_000
    before = served(emu)
    result = fetch_actions(ids, client=client, progress=False)
    assert served(emu) - before == 3  # job 0, "5" (well-formed, unknown: 400) and job 1
    assert result.jobs["job_id"].tolist() == [emu.job_ids[0], emu.job_ids[1]]
    expected_errors = ["<NoneType: None>", "<float: nan>", "<NAType: <NA>>", "<int: 5>", "5", "<list: ['x']>",
                       "<dict: {'a': 1}>", "<bytes: b'bytes'>", "../etc", "a b", "jöb", "\x00", ""]
    assert result.errors["job_id"].tolist() == expected_errors
    types = result.errors.set_index("job_id")["error_type"]
    assert types["5"] == "JobNotFoundError" and types["<int: 5>"] == "InvalidIDError"
    assert (types.drop("5") == "InvalidIDError").all()
    assert result.requested == len(result.jobs) + len(result.errors) == 15


def test_a_bad_token_value_is_refused_before_any_request(emu):
    for token in ("tök€n", "has space", "line\nbreak", ""):
        with pytest.raises(ConfigurationError, match="token"):
            DRSClient(endpoint=emu.url, project_id=emu.project_id, token=token, cache=False)


def test_wrong_token_stops_early_and_loses_no_job(emu, make_client):
    client = make_client(token="wrong-token", cache=False)
    ids = emu.job_ids * 1  # 40 jobs
    ids = [f"{j[:-3]}{i:03d}" for i in range(3) for j in ids]  # 120 distinct, well-formed IDs
    before = served(emu)
    result = fetch_actions(ids, client=client, max_workers=4, progress=False)
    assert len(result.errors) == 120 and len(result.jobs) == 0
    assert served(emu) - before <= ABORT_AFTER + 4 * 2  # in-flight workers may add a few, x2 attempts none (401)
    types = result.errors["error_type"].value_counts()
    assert types["AuthenticationError"] >= ABORT_AFTER and types.get("FetchAborted", 0) >= 90
    assert result.errors["job_id"].tolist() == ids


def test_errors_keep_the_api_message_and_a_detail(emu, client):
    unknown = "00000000-0000-4000-8000-000000000jb000"
    result = fetch_actions([unknown], client=client, progress=False)
    row = result.errors.iloc[0]
    assert row["error_msg"] == "Job does not exist, please check job ID."
    assert row["detail"] == (f"HTTP 400 from GET {emu.url}/v5/{emu.project_id}/jobs/{unknown}/actions: "
                             "DRS.10000010 Job does not exist, please check job ID.")


def test_exceptions_do_not_carry_the_token(emu, make_client):
    from drs_analytics import JobNotFoundError

    client = make_client()
    with pytest.raises(JobNotFoundError) as info:
        client.get_actions("00000000-0000-4000-8000-000000000jb000")
    blob = pickle.dumps(info.value)
    assert emu.token.encode() not in blob
    assert info.value.request.headers["X-Auth-Token"] == "***"


def test_plain_http_is_only_for_loopback():
    DRSClient(endpoint="http://127.0.0.1:8080", project_id="p1", token="t", cache=False).close()
    DRSClient(endpoint="http://localhost:8080", project_id="p1", token="t", cache=False).close()
    with pytest.raises(ConfigurationError, match="clear text"):
        DRSClient(endpoint="http://drs.example.com", project_id="p1", token="t", cache=False)


def test_settings_are_frozen(client):
    import attrs

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        client.settings.project_id = "../../x"


def test_more_workers_than_connections_warns_and_clamps(emu, make_client):
    client = make_client(max_connections=4)
    with pytest.warns(UserWarning, match="connection pool"):
        result = fetch_actions(emu.job_ids[:8], client=client, max_workers=64, progress=False)
    assert len(result.jobs) == 8


def test_shuffled_input_order_is_kept_under_jitter(make_client):
    from drs_analytics.emulator import Emulator

    with Emulator(jobs=120, seed=5, latency_ms=1, jitter_ms=15) as emu:
        ids = list(emu.job_ids)
        random.Random(3).shuffle(ids)
        client = make_client(endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False)
        result = fetch_actions(ids, client=client, max_workers=16, progress=False)
    assert result.jobs["job_id"].tolist() == ids
    assert result.frame["job_id"].cat.categories.tolist() == ids
    assert pd.unique(result.frame["job_id"].astype(str)).tolist() == [j for j in ids if j in set(result.frame["job_id"].astype(str))]


# -- frame-level cases (no HTTP needed: these are properties of the frame builder) -----------------
T0 = datetime(2026, 12, 3, tzinfo=timezone.utc)


def test_more_distinct_action_names_than_int16_holds():
    names = tuple(f"X{i}" for i in range(40_000))
    frame, jobs, _ = build_frames("p", [JobActions("j1", names, (), None, T0)])
    assert len(frame) == 40_000 and frame["action"].astype(str).iloc[-1] == "X39999"
    assert jobs["n_available"].tolist() == [40_000]


def test_conflicts_sit_in_the_unavailable_block():
    frame, _, conflicts = build_frames("p", [JobActions("j1", ("A", "B"), ("A",), None, T0)])
    assert list(zip(frame["action"].astype(str), frame["available"])) == [("B", True), ("A", False)]
    assert conflicts.values.tolist() == [["j1", "A"]]


def test_current_action_dtype_does_not_depend_on_the_data():
    idle, _, _ = build_frames("p", [JobActions("j1", ("A",), (), None, T0)])
    busy, _, _ = build_frames("p", [JobActions("j1", ("A",), (), "PAUSE", T0)])
    empty, _, _ = build_frames("p", [])
    assert idle["current_action"].cat.categories.dtype == busy["current_action"].cat.categories.dtype
    assert empty["current_action"].cat.categories.dtype == busy["current_action"].cat.categories.dtype
    assert busy["current_action"].cat.categories.dtype == busy["action"].cat.categories.dtype


def test_matrix_never_turns_missing_values_into_true():
    tidy = pd.DataFrame(
        {
            "job_id": ["a", "b", "b", None, "c"],
            "action": ["X", "Y", None, "X", "X"],
            "available": pd.array([True, False, True, True, pd.NA], dtype="boolean"),
        }
    )
    matrix = availability_matrix(tidy)
    assert matrix.index.tolist() == ["a", "b"] and matrix.columns.tolist() == ["X", "Y"]
    assert matrix.loc["a", "X"] is True or matrix.loc["a", "X"] == True  # noqa: E712
    assert pd.isna(matrix.loc["b", "X"]) and matrix.loc["b", "Y"] == False  # noqa: E712
    assert pd.isna(matrix.loc["a", "Y"])


def test_summary_counts_jobs_that_reported_nothing(emu, client):
    a, b = emu.job_ids[:2]
    emu.app.set_job_actions(a, ["PAUSE"], [], None)
    emu.app.set_job_actions(b, [], [], None)
    result = fetch_actions([a, b], client=client, progress=False)
    summary = result.summary()
    assert summary.loc["PAUSE", ["available", "unavailable", "not_reported", "jobs"]].tolist() == [1, 0, 1, 2]
    assert summary.loc["PAUSE", "availability_rate"] == 0.5 and summary.loc["PAUSE", "reported_rate"] == 1.0


@pytest.mark.parametrize("cell", ["", "false", "0", "yes"])
def test_read_actions_refuses_bad_booleans(tmp_path, cell):
    path = tmp_path / "actions.csv"
    path.write_text("project_id,job_id,action,available,current_action,fetched_at,from_cache\n"
                    f"p,j,PAUSE,{cell},,2026-12-03T00:00:00Z,False\n")
    with pytest.raises(ValueError, match="'available' must hold True/False"):
        read_actions(path)


def test_nan_like_floats_are_one_error_not_many(emu, client):
    result = fetch_actions([math.nan, np.nan, float("nan")], client=client, progress=False)
    assert result.errors["job_id"].tolist() == ["<float: nan>"]
