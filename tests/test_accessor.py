"""The ``df.drs`` accessor: registration, schema check, and delegation to the public functions."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from drs_analytics import action_summary, availability_matrix, read_actions, write_report
from drs_analytics.accessor import FRAME_REPORT_FILES, DRSAccessor
from drs_analytics.plots import plot_availability_matrix

_MISSING = object()

from .conftest import emulated_fleet_result


@contextlib.contextmanager
def ensure_removed(obj, attr):
    """Undo any registration of ``attr`` on ``obj`` on exit, restoring what was there before.

    pandas' own helper (``pandas/tests/test_register_accessor.py``) deletes the name; this one
    also puts back an earlier accessor, so re-registering ``drs`` in a test never leaks either.
    """
    saved = obj.__dict__.get(attr, _MISSING)
    was_registered = attr in obj._accessors
    try:
        yield
    finally:
        if saved is _MISSING:
            with contextlib.suppress(AttributeError):
                delattr(obj, attr)
        else:
            setattr(obj, attr, saved)
        if not was_registered:
            obj._accessors.discard(attr)


@pytest.fixture(scope="module")
def result():
    return emulated_fleet_result(80)


@pytest.fixture
def frame(result):
    return result.frame


def test_importing_the_module_registers_drs():
    assert "drs" in pd.DataFrame._accessors
    assert pd.DataFrame.drs is DRSAccessor


def test_registration_inside_ensure_removed_does_not_leak(frame):
    with ensure_removed(pd.DataFrame, "drs_test"):
        pd.api.extensions.register_dataframe_accessor("drs_test")(DRSAccessor)
        assert "drs_test" in pd.DataFrame._accessors
        pd.testing.assert_frame_equal(frame.drs_test.matrix(), availability_matrix(frame))
    assert not hasattr(pd.DataFrame, "drs_test")
    assert "drs_test" not in pd.DataFrame._accessors
    assert pd.DataFrame.drs is DRSAccessor


def test_registering_over_an_existing_name_warns():
    with ensure_removed(pd.DataFrame, "drs_test"):
        pd.api.extensions.register_dataframe_accessor("drs_test")(DRSAccessor)
        with pytest.warns(UserWarning, match="drs_test"):
            pd.api.extensions.register_dataframe_accessor("drs_test")(DRSAccessor)
    with ensure_removed(pd.DataFrame, "drs"), pytest.warns(UserWarning, match="drs"):
        pd.api.extensions.register_dataframe_accessor("drs")(type("Other", (), {"__init__": lambda self, df: None}))
    assert pd.DataFrame.drs is DRSAccessor  # restored


@pytest.mark.parametrize(
    ("columns", "missing"),
    [(["job_id", "x"], "action, available"), (["action", "available"], "job_id"), ([], "job_id, action, available")],
)
def test_frame_without_the_columns_raises_attribute_error(columns, missing):
    bad = pd.DataFrame({c: [1] for c in columns})
    with pytest.raises(AttributeError, match=f"missing {missing} "):
        bad.drs  # noqa: B018
    assert not hasattr(bad, "drs")


def test_accessor_is_stateless_and_takes_a_minimal_frame():
    tidy = pd.DataFrame({"job_id": ["a", "a", "b"], "action": ["PAUSE", "DELETE", "PAUSE"],
                         "available": [True, False, False]})
    accessor = tidy.drs
    assert vars(accessor).keys() == {"_frame"} and accessor._frame is tidy
    pd.testing.assert_frame_equal(tidy.drs.matrix(), availability_matrix(tidy))


def test_matrix_and_summary_equal_the_public_functions(frame):
    pd.testing.assert_frame_equal(frame.drs.matrix(), availability_matrix(frame))
    pd.testing.assert_frame_equal(frame.drs.summary(), action_summary(frame))


def _drawn(ax):
    image = ax.images[0].get_array()
    return np.asarray(image), [t.get_text() for t in ax.get_xticklabels()], ax.get_title()


def test_plot_matrix_equals_the_public_function(frame):
    ours, theirs = Figure().add_subplot(), Figure().add_subplot()
    returned = frame.drs.plot_matrix(ax=ours, sort="job", legend=False)
    plot_availability_matrix(frame, ax=theirs, sort="job", legend=False)
    assert returned is ours
    got, expected = _drawn(ours), _drawn(theirs)
    np.testing.assert_array_equal(got[0], expected[0])
    assert got[1:] == expected[1:]
    assert got[0].shape[0] == frame["job_id"].nunique()


def test_plot_rates_equals_the_public_function(frame):
    from drs_analytics import plot_rates

    ours, theirs = Figure().add_subplot(), Figure().add_subplot()
    returned = frame.drs.plot_rates(ax=ours)
    plot_rates.plot_action_rates(frame, ax=theirs)
    assert returned is ours
    bars = [(p.get_x(), p.get_y(), p.get_width(), p.get_height()) for p in ours.patches]
    assert bars and bars == [(p.get_x(), p.get_y(), p.get_width(), p.get_height()) for p in theirs.patches]
    assert [t.get_text() for t in ours.get_yticklabels()] == [t.get_text() for t in theirs.get_yticklabels()]


def test_explore_returns_a_fleet_explorer_on_the_frame(frame):
    from drs_analytics.explorer import FleetExplorer

    explorer = frame.drs.explore()
    try:
        assert isinstance(explorer, FleetExplorer)
        pd.testing.assert_frame_equal(explorer.filtered_frame(), frame.reset_index(drop=True))
        assert explorer.count.value == f"{frame['job_id'].nunique()} of {frame['job_id'].nunique()} jobs"
    finally:
        explorer.close()


def test_to_reports_writes_the_same_files_as_write_report_but_no_errors_csv(result, frame, tmp_path):
    write_report(result, tmp_path / "full")
    paths = frame.drs.to_reports(tmp_path / "from_frame")
    assert sorted(paths) == sorted(FRAME_REPORT_FILES)
    assert sorted(p.name for p in (tmp_path / "from_frame").iterdir()) == sorted(FRAME_REPORT_FILES)
    assert not (tmp_path / "from_frame" / "errors.csv").exists()
    for name in ("actions.csv", "matrix.csv", "summary.csv"):  # every job reported something: identical bytes
        assert paths[name].read_bytes() == (tmp_path / "full" / name).read_bytes(), name
    pd.testing.assert_frame_equal(read_actions(paths["actions.csv"]), frame)
    assert paths["availability.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_to_reports_without_png_and_on_a_minimal_frame(tmp_path):
    tidy = pd.DataFrame({"job_id": ["a", "b"], "action": ["PAUSE", "PAUSE"], "available": [True, False]})
    paths = tidy.drs.to_reports(tmp_path / "new" / "dir", png=False)
    assert sorted(paths) == ["actions.csv", "matrix.csv", "report.json", "summary.csv"]
    assert (tmp_path / "new" / "dir" / "matrix.csv").read_text() == "job_id,PAUSE\na,True\nb,False\n"
    summary = pd.read_csv(paths["summary.csv"], index_col="action")
    assert summary.loc["PAUSE", ["available", "unavailable", "not_reported"]].tolist() == [1, 1, 0]


def test_to_reports_leaves_an_earlier_errors_csv_alone_and_warns(frame, tmp_path):
    stale = tmp_path / "errors.csv"
    stale.write_text("job_id,error_type\nx,ServerError\n")
    with pytest.warns(UserWarning, match="errors.csv was left as it is"):
        frame.drs.to_reports(tmp_path, png=False)
    assert stale.read_text() == "job_id,error_type\nx,ServerError\n"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame.drs.to_reports(tmp_path / "clean", png=False)  # no warning without one


def test_importing_the_accessor_loads_no_plotting_or_widgets():
    code = ("import sys, drs_analytics.accessor; "
            "print(sorted(m for m in ('matplotlib', 'ipywidgets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
