"""Reports: CSV formula injection neutralised, raw output, report.json, exact round trips."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timezone

import pandas as pd
import pytest

from drs_analytics import fetch_actions
from drs_analytics._version import __version__
from drs_analytics.csv_safety import (
    TRIGGERS,
    is_plain_number,
    neutralise,
    neutralise_frame,
    restore,
    restore_frame,
)
from drs_analytics.frame import FRAME_COLUMNS, availability_matrix, build_frames
from drs_analytics.report import (
    MANIFEST,
    REPORT_FILES,
    SCHEMA_VERSION,
    ReportFormatError,
    read_actions,
    read_errors,
    read_manifest,
    write_csv,
    write_frame_report,
    write_report,
)
from drs_analytics.responses import JobActions
from drs_analytics.result import error_record, errors_frame

T0 = datetime(2026, 12, 3, 10, 0, 0, tzinfo=timezone.utc)

#: Action names a hostile or odd API could send; they become matrix.csv headers.
HOSTILE_ACTIONS = (
    "=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(A1:A9)", "\tTAB", "\rCR", "'=already quoted",
    "''-twice", "'plain quote", "-5", "+3.2", "-1e3", "PAUSE", "jöb ☃", "=", "-", "a,b\"c\nd",
)
#: Valid DRS IDs (letters, digits, - . _ ~) that a spreadsheet would still run.
HOSTILE_JOB_IDS = ("-HYPERLINK", "-5", "-1e3", "-05", "normal-job")


def _hostile_records(actions=HOSTILE_ACTIONS):
    records = []
    for i, job in enumerate(HOSTILE_JOB_IDS):
        half = len(actions) // 2
        available = actions[:half] if i % 2 else actions[half:]
        unavailable = actions[half:] if i % 2 else actions[:half]
        current = ("=BUSY()", None, "-5", "@now", None)[i]
        records.append(JobActions(job, available, unavailable, current, T0, from_cache=bool(i % 2),
                                  stale=i == 3))
    return records


def _hostile(actions=HOSTILE_ACTIONS):
    records = _hostile_records(actions)
    names = ["=HYPERLINK(\"http://evil\",\"x\")", "+1", "-1", "@a", "ok"]
    meta = {  # categories in order of appearance, as fetch_fleet makes them
        "region": pd.Categorical(["cn-south-2"] * len(records)),
        "job_name": pd.Categorical(names, categories=names),
    }
    frame, _, _ = build_frames("-project", records, meta)
    errors = errors_frame([
        error_record("=1+1", ValueError("=2+2 went wrong")),
        error_record("-05", ValueError("@boom\tx")),
        error_record("1e3", ValueError("plain")),
    ])
    return frame, availability_matrix(frame), errors


@pytest.fixture
def hostile():
    """(frame, matrix, errors) full of formula-like text."""
    return _hostile()


def _cells(path):
    """Every cell of a CSV file, the header included."""
    with open(path, newline="", encoding="utf-8") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


#: What makes a spreadsheet read a cell as a formula (OWASP "CSV Injection", and the
#: csv_safety docs): written out here, not taken from the implementation.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: A plain decimal number ("-5", "+3.2", "-.5", "1e-3"; ASCII digits only): read as a number.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _live(cell: str) -> bool:
    """Whether a spreadsheet would run ``cell`` as a formula."""
    return cell.startswith(FORMULA_TRIGGERS) and _PLAIN_NUMBER.fullmatch(cell) is None


def test_the_implementation_neutralises_every_trigger():
    assert set(FORMULA_TRIGGERS) <= set(TRIGGERS)
    for trigger in FORMULA_TRIGGERS:
        assert neutralise(trigger + "x") == "'" + trigger + "x"
        assert _live(trigger + "x") and not _live(neutralise(trigger + "x"))
    for number in ("-5", "+3.2", "-.5", "-1e-3", "12"):
        assert not _live(number) and is_plain_number(number)
    for text in ("-5\n", "-inf", "-٣", "+1_000", "- 5"):
        assert _live(text) and not is_plain_number(text)


# -- the functions -------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [*HOSTILE_ACTIONS, "", "'", "''", "'-5", "-5\n", "-inf", "- 5", "1,5", "١٢"])
def test_neutralise_makes_text_inert_and_restore_undoes_it(value):
    written = neutralise(value)
    assert not _live(written)
    assert restore(written) == value
    if not _live(value) and not re.match(r"'+[=+\-@\t\r]", value):
        assert written == value  # nothing to do: untouched


def test_plain_numbers_stay_numbers():
    for text in ("-5", "+3.2", "-.5", "+1E+05", "-0", "12"):
        assert neutralise(text) == text and is_plain_number(text)
    for text in ("-5 ", "-inf", "-nan", "-0x1F", "+1_000", "-٣", "-5\n", "--5", "-5+1"):
        assert neutralise(text) == "'" + text, text


def test_neutralise_frame_leaves_numbers_booleans_and_times_alone():
    frame = pd.DataFrame({
        "n": [-5, 3], "f": [-1.5, float("nan")], "b": [True, False], "nb": pd.array([True, None], dtype="boolean"),
        "i": pd.array([-1, None], dtype="Int64"), "t": [T0, T0], "s": pd.array(["=a", None], dtype="string"),
        "o": ["-x", 7], "c": pd.Categorical(["@c", "ok"]),
    })
    out = neutralise_frame(frame)
    pd.testing.assert_frame_equal(out.drop(columns=["s", "o", "c"]), frame.drop(columns=["s", "o", "c"]))
    assert out["s"].tolist()[0] == "'=a" and pd.isna(out["s"].iloc[1])
    assert out["o"].tolist() == ["'-x", 7]
    assert out["c"].cat.categories.tolist() == ["'@c", "ok"]
    pd.testing.assert_frame_equal(restore_frame(out, index=False), frame)
    pd.testing.assert_frame_equal(frame, neutralise_frame(frame).pipe(restore_frame))  # input never changed


# -- written reports ------------------------------------------------------------------------------
def test_no_csv_cell_or_header_of_a_report_is_live(hostile, tmp_path):
    frame, matrix, errors = hostile
    paths = write_frame_report(frame, matrix, tmp_path, errors=errors, png=False)
    for name in ("actions.csv", "matrix.csv", "summary.csv", "errors.csv"):
        cells = _cells(paths[name])
        assert not [c for c in cells if _live(c)], name
    header = _cells(paths["matrix.csv"])[: len(matrix.columns) + 1]
    assert "'=cmd|' /C calc'!A0" in header and "'\tTAB" in header and "-5" in header and "''=already quoted" in header
    actions = pd.read_csv(paths["actions.csv"], dtype=str, keep_default_na=False)
    assert set(actions["job_id"]) == {"'-HYPERLINK", "-5", "-1e3", "-05", "normal-job"}  # numbers stay
    assert actions["project_id"].iloc[0] == "'-project"
    summary = pd.read_csv(paths["summary.csv"], index_col="action")
    assert summary["jobs"].dtype == "int64" and (summary["jobs"] == len(HOSTILE_JOB_IDS)).all()
    assert summary["availability_rate"].dtype == float  # numbers are numbers, also after a quote-free write


def test_hostile_report_reads_back_exactly(hostile, tmp_path):
    frame, matrix, errors = hostile
    paths = write_frame_report(frame, matrix, tmp_path, errors=errors, png=False)
    back = read_actions(paths["actions.csv"])
    pd.testing.assert_frame_equal(back, frame)
    assert back["stale"].dtype == bool and back["stale"].any()
    pd.testing.assert_frame_equal(read_errors(paths["errors.csv"]), errors)
    assert read_errors(paths["errors.csv"])["job_id"].tolist() == ["=1+1", "-05", "1e3"]  # text stays text
    read_matrix = restore_frame(pd.read_csv(paths["matrix.csv"], index_col="job_id", dtype=str, keep_default_na=False))
    assert read_matrix.columns.tolist() == matrix.columns.tolist()
    assert read_matrix.index.tolist() == matrix.index.tolist()


def test_a_fetched_fleet_with_hostile_actions_round_trips(emu, client, tmp_path):
    a, b = emu.job_ids[:2]
    emu.app.set_job_actions(a, ["=HYPERLINK(\"x\")", "PAUSE"], ["-2+3", "@x"], "+CMD")
    emu.app.set_job_actions(b, ["\tTAB"], ["'=q", "-5"], None)
    result = fetch_actions([a, b, "=not-an-id"], client=client, progress=False)
    write_report(result, tmp_path, png=False)
    pd.testing.assert_frame_equal(read_actions(tmp_path / "actions.csv"), result.frame)
    pd.testing.assert_frame_equal(read_errors(tmp_path / "errors.csv"), result.errors)
    assert "'=HYPERLINK" in (tmp_path / "matrix.csv").read_text(encoding="utf-8").splitlines()[0]


@pytest.mark.parametrize("with_cr", [True, False], ids=["with CR", "without CR"])
def test_raw_output_is_what_pandas_writes(tmp_path, with_cr):
    frame, matrix, errors = _hostile(HOSTILE_ACTIONS if with_cr else tuple(a for a in HOSTILE_ACTIONS if "\r" not in a))
    paths = write_frame_report(frame, matrix, tmp_path, errors=errors, png=False, raw=True)
    expected_frame = frame.assign(fetched_at=frame["fetched_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert paths["actions.csv"].read_bytes() == expected_frame.to_csv(index=False, lineterminator="\n").encode()
    assert paths["matrix.csv"].read_bytes() == matrix.to_csv(lineterminator="\n").encode()
    assert paths["errors.csv"].read_bytes() == errors.to_csv(index=False, lineterminator="\n").encode()
    manifest = json.loads(paths[MANIFEST].read_text(encoding="utf-8"))
    assert manifest["neutralised"] is False
    if not with_cr:  # pandas leaves a bare CR unquoted: such a raw file does not read back (the default does)
        # the manifest says raw: nothing is stripped, so values that start with a quote survive
        pd.testing.assert_frame_equal(read_actions(paths["actions.csv"]), frame)
        pd.testing.assert_frame_equal(read_errors(paths["errors.csv"]), errors)


def test_cells_with_line_breaks_are_quoted_and_read_back(tmp_path):
    frame = pd.DataFrame({"a": ["x\ry", "\rz", "p\nq", "r\r\ns", 'say "hi"\r'], "b": [1, 2, 3, 4, 5]})
    write_csv(frame, tmp_path / "n.csv")
    text = (tmp_path / "n.csv").read_bytes().decode()
    assert text == 'a,b\n"x\ry",1\n"\'\rz",2\n"p\nq",3\n"r\r\ns",4\n"say ""hi""\r",5\n'
    back = restore_frame(pd.read_csv(tmp_path / "n.csv", dtype={"a": str}))
    assert back["a"].tolist() == frame["a"].tolist()


def test_write_csv_to_a_stream_is_neutralised_unless_raw():
    frame = pd.DataFrame({"=h": ["=x", "-5"]})
    assert write_csv(frame, io.StringIO()).getvalue() == "'=h\n'=x\n-5\n"
    assert write_csv(frame, io.StringIO(), raw=True).getvalue() == frame.to_csv(index=False, lineterminator="\n")


def test_csv_is_utf8_without_bom_and_keeps_column_order(tmp_path):
    frame = pd.DataFrame({"z": ["jöb ☃"], "a": ["任务"], "m": [1]})
    write_csv(frame, tmp_path / "u.csv")
    data = (tmp_path / "u.csv").read_bytes()
    assert data == "z,a,m\njöb ☃,任务,1\n".encode()


# -- report.json -----------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # tick labels with TAB/CR in the PNG
def test_manifest_records_schema_files_and_columns(hostile, tmp_path):
    frame, matrix, errors = hostile
    paths = write_frame_report(frame, matrix, tmp_path, errors=errors, png=True)
    assert sorted(paths) == sorted(REPORT_FILES)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(REPORT_FILES)  # no temp file left
    manifest = read_manifest(tmp_path)
    assert manifest == json.loads((tmp_path / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["schema_version"] == SCHEMA_VERSION == 1
    assert manifest["package_version"] == __version__
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["created_at"])
    assert manifest["neutralised"] is True
    files = manifest["files"]
    assert list(files) == ["actions.csv", "matrix.csv", "summary.csv", "errors.csv"]
    assert files["actions.csv"] == {"rows": len(frame), "columns": list(frame.columns)}
    assert files["actions.csv"]["columns"][: len(FRAME_COLUMNS)] == list(FRAME_COLUMNS)
    assert files["matrix.csv"] == {"rows": len(matrix), "columns": ["job_id", *matrix.columns]}
    assert files["summary.csv"]["columns"] == ["action", "available", "unavailable", "not_reported", "jobs",
                                              "availability_rate", "reported_rate"]
    assert files["errors.csv"]["rows"] == 3
    for name, entry in files.items():  # the counts match the files
        table = pd.read_csv(tmp_path / name, dtype=str, keep_default_na=False)
        assert len(table) == entry["rows"] and len(table.columns) == len(entry["columns"]), name


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"schema_version": 2, "files": {}}, "schema version 2, newer than"),
        ({"schema_version": 99}, "upgrade drs-analytics"),
        ({"files": {}}, "no valid schema_version"),
        ({"schema_version": "1"}, "no valid schema_version"),
        ("not json {", "not a drs-analytics report manifest"),
    ],
    ids=["v2", "v99", "no version", "string version", "not json"],
)
def test_read_actions_refuses_an_unknown_schema(hostile, tmp_path, content, message):
    frame, matrix, _ = hostile
    write_frame_report(frame, matrix, tmp_path, png=False)
    text = content if isinstance(content, str) else json.dumps(content)
    (tmp_path / MANIFEST).write_text(text, encoding="utf-8")
    with pytest.raises(ReportFormatError, match=message):
        read_actions(tmp_path / "actions.csv")


def test_a_csv_without_a_manifest_or_not_listed_in_it_is_read_as_neutralised(hostile, tmp_path):
    frame, matrix, _ = hostile
    write_csv(frame, tmp_path / "lonely.csv")
    pd.testing.assert_frame_equal(read_actions(tmp_path / "lonely.csv"), frame)
    write_frame_report(frame, matrix, tmp_path, png=False, raw=True)
    write_csv(frame, tmp_path / "beside.csv")  # not in report.json: its default applies
    pd.testing.assert_frame_equal(read_actions(tmp_path / "beside.csv"), frame)
    with open(tmp_path / "beside.csv", encoding="utf-8", newline="") as fh:  # an open file: no manifest looked up
        pd.testing.assert_frame_equal(read_actions(fh), frame)
    raw = read_actions(tmp_path / "beside.csv", neutralised=False)  # told otherwise: quotes kept
    assert "'-HYPERLINK" in raw["job_id"].cat.categories


def test_older_reports_without_stale_read_as_not_stale(tmp_path):
    path = tmp_path / "actions.csv"
    path.write_text("project_id,job_id,action,available,current_action,fetched_at,from_cache\n"
                    "p,j,PAUSE,True,,2026-12-03T00:00:00Z,False\n", encoding="utf-8")
    frame = read_actions(path)
    assert list(frame.columns) == list(FRAME_COLUMNS)
    assert frame["stale"].dtype == bool and not frame["stale"].any()
