"""The fleet heatmap: prepared rows and cells, sorting and grouping, binning, and the rendered PNG."""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.image import imread

import drs_analytics.plots as plots
from drs_analytics import fetch_actions
from drs_analytics.frame import build_frames
from drs_analytics.plot_base import STATE_COLORS, bin_rows
from drs_analytics.plots import _MatrixPlotter, plot_availability_matrix
from drs_analytics.report import render_heatmap
from drs_analytics.responses import JobActions
from drs_analytics.result import FetchResult, errors_frame

NA = None
T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def matrix(columns: dict, index=None) -> pd.DataFrame:
    frame = pd.DataFrame({k: pd.array(v, dtype="boolean") for k, v in columns.items()})
    frame.index = pd.Index(index if index is not None else [f"j{i}" for i in range(len(frame))], name="job_id")
    return frame


def result_of(*jobs: tuple) -> FetchResult:
    """A FetchResult from (job_id, available, unavailable, current_action) tuples."""
    records = [JobActions(j, tuple(a), tuple(u), c, T0) for j, a, u, c in jobs]
    frame, table, conflicts = build_frames("p1", records)
    return FetchResult(frame, table, errors_frame([]), conflicts, "p1", len(records))


def axes(width=4.0, height=4.0, dpi=100):
    return Figure(figsize=(width, height), dpi=dpi).add_subplot()


def image_of(ax) -> list:
    return np.asarray(ax.get_images()[0].get_array()).tolist()


def available_pixels(ax, *, dpi=None) -> np.ndarray:
    """(x, y) of the available-coloured pixels inside the axes, as fractions of its width and height
    (y from the top), in the PNG rendered at ``dpi`` (default the figure's)."""
    fig = ax.figure
    dpi = dpi or fig.dpi
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    buffer.seek(0)
    pixels = imread(buffer)[..., :3]
    box = ax.get_window_extent().transformed(plt.matplotlib.transforms.Affine2D().scale(dpi / fig.dpi))
    ys, xs = np.nonzero(np.abs(pixels - to_rgb(STATE_COLORS[2])).max(axis=-1) < 0.02)
    fx, fy = (xs + 0.5 - box.x0) / box.width, (ys + 0.5 - (pixels.shape[0] - box.y1)) / box.height
    inside = (fx >= 0) & (fx <= 1) & (fy >= 0) & (fy <= 1)
    return np.column_stack([fx[inside], fy[inside]])


# -- cells ---------------------------------------------------------------------------------------
def test_image_has_one_row_per_job_and_the_right_state_per_cell():
    data = matrix({"PAUSE": [True, False, NA, True], "DELETE": [NA, NA, True, False], "RETRY": [True, True, True, NA]})
    ax = plot_availability_matrix(data, sort="none", ax=axes())
    # 0 not reported, 1 unavailable, 2 available; columns by jobs available: RETRY 3, PAUSE 2, DELETE 1
    assert image_of(ax) == [[2, 2, 0], [2, 1, 0], [2, 0, 2], [0, 2, 1]]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["RETRY", "PAUSE", "DELETE"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["j0", "j1", "j2", "j3"]
    assert ax.get_ylabel() == "4 jobs"


def test_tidy_frame_and_matrix_give_the_same_picture():
    tidy = pd.DataFrame({"job_id": ["a", "a", "b", "c"], "action": ["PAUSE", "DELETE", "PAUSE", "DELETE"],
                         "available": [True, False, False, True]})
    from_tidy = _MatrixPlotter(tidy, sort="job")
    from_matrix = _MatrixPlotter(matrix({"PAUSE": [True, False, NA], "DELETE": [False, NA, True]}, ["a", "b", "c"]),
                                 sort="job")
    assert from_tidy.state.tolist() == from_matrix.state.tolist() == [[2, 1], [1, 0], [0, 2]]
    assert from_tidy.row_labels == ["a", "b", "c"]


def test_na_is_drawn_as_not_reported_never_as_available():
    data = matrix({"SEEN": [True, False, NA], "NEVER": [NA, NA, NA]})
    ax = plot_availability_matrix(data, sort="none", legend=False, ax=axes(3, 3))
    assert image_of(ax) == [[2, 0], [1, 0], [0, 0]]
    found = available_pixels(ax)
    assert len(found) and found[:, 0].max() < 0.5 and found[:, 1].max() < 1 / 3 + 0.02  # SEEN, first job only


def test_na_stays_not_reported_when_rows_are_binned():
    seen = np.zeros(3000, dtype=object)
    seen[:] = NA
    seen[1500] = True
    data = matrix({"SEEN": list(seen), "NEVER": [NA] * 3000})
    ax = plot_availability_matrix(data, sort="none", legend=False, ax=axes(2, 2, dpi=50))
    found = available_pixels(ax)
    assert len(found) and found[:, 0].max() < 0.5 + 0.02  # never in the all-NA column (one edge pixel of slack)
    assert abs(found[:, 1].mean() - 0.5) < 0.03


# -- no row vanishes -------------------------------------------------------------------------------
def test_one_available_cell_among_5000_rows_shows_in_the_rendered_png():
    state = np.zeros((5000, 8), dtype=bool)
    state[4321, 5] = True
    data = pd.DataFrame(state, columns=[f"A{i}" for i in range(8)]).astype("boolean")
    ax = plot_availability_matrix(data, sort="none", ax=axes(3, 2.5, dpi=60))
    assert ax.get_window_extent().height < 5000 / 20  # far more rows than pixel rows
    assert np.asarray(ax.get_images()[0].get_array()).shape == (5000, 8)  # the data keeps every job
    assert [t.get_text() for t in ax.get_xticklabels()][0] == "A5"  # the only column with an available job
    assert "per pixel row" in ax.get_ylabel()
    plain = axes(3, 2.5, dpi=60)  # control: the same codes in a plain nearest-neighbour imshow lose the cell
    plain.imshow(np.asarray(ax.get_images()[0].get_array()), cmap=plt.matplotlib.colors.ListedColormap(STATE_COLORS),
                 vmin=-0.5, vmax=2.5, interpolation="nearest", aspect="auto")
    assert len(available_pixels(plain)) == 0
    for dpi in (60, 23, 150):  # the figure's dpi, and saved at others: binned at the dpi drawn
        found = available_pixels(ax, dpi=dpi)
        assert len(found), dpi
        assert found[:, 0].max() < 1 / 8 + 0.02  # in A5's column, drawn first (one edge pixel of slack)
        assert abs(found[:, 1].mean() - 4321.5 / 5000) < 0.02, dpi


def test_single_available_job_shows_with_the_default_signature_sort():
    state = np.zeros((5000, 8), dtype=bool)
    state[17, 2] = True
    data = pd.DataFrame(state, columns=[f"A{i}" for i in range(8)]).astype("boolean")
    ax = plot_availability_matrix(data, ax=axes(3, 2.5, dpi=60))
    found = available_pixels(ax)
    assert len(found) and found[:, 0].max() < 1 / 8 and found[:, 1].min() > 0.98  # its own group, last


def test_bin_rows_shows_the_most_informative_state_and_keeps_bins_even():
    codes = np.array([[0], [0], [1], [0], [0], [2], [1], [0], [0], [0]], dtype=np.int8)
    binned, edges = bin_rows(codes, 4)
    assert edges.tolist() == [0, 2, 5, 7, 10] and set(np.diff(edges)) <= {2, 3}
    assert binned.ravel().tolist() == [0, 1, 2, 0]  # NA only; NA + unavailable; available wins; NA only
    assert bin_rows(codes, 10)[0] is codes and bin_rows(codes, 99)[1].tolist() == list(range(11))


def test_max_rows_bins_the_prepared_image_and_says_so():
    state = np.ones((1000, 3), dtype=bool)
    state[:, 1] = False
    state[999, 1] = True
    data = pd.DataFrame(state, columns=["A", "B", "C"]).astype("boolean")
    ax = plot_availability_matrix(data, sort="none", max_rows=100, ax=axes(4, 6))
    image = np.asarray(ax.get_images()[0].get_array())
    assert image.shape == (100, 3) and image[-1].tolist() == [2, 2, 2] and (image[:-1, 2] == 1).all()
    assert ax.get_ylabel().endswith("10 per row, shown available if any is")


# -- order and groups ------------------------------------------------------------------------------
SIGS = {  # jobs a..f: two with {PAUSE}, three with {PAUSE, DELETE}, one with nothing
    "PAUSE": [True, True, True, False, True, True],
    "DELETE": [False, True, True, False, False, True],
}


def test_signature_sort_puts_the_same_set_together_biggest_first():
    plotter = _MatrixPlotter(matrix(SIGS, list("abcdef")), sort="signature")
    assert plotter.row_labels == ["b", "c", "f", "a", "e", "d"]
    assert plotter.state.tolist() == [[2, 2]] * 3 + [[2, 1]] * 2 + [[1, 1]]
    assert plotter.group_bounds == [3, 5]


def test_signature_sort_keeps_one_available_set_together_across_unreported_cells():
    data = matrix({"PAUSE": [True, True, True, False], "DELETE": [False, NA, False, True]}, list("abcd"))
    plotter = _MatrixPlotter(data, sort="signature")
    assert plotter.row_labels == ["a", "c", "b", "d"]  # {PAUSE} x3 (identical rows first), then {DELETE}


def test_group_signature_draws_one_row_per_signature_labelled_with_its_jobs():
    ax = plot_availability_matrix(matrix(SIGS, list("abcdef")), group="signature", ax=axes())
    assert image_of(ax) == [[2, 2], [2, 1], [1, 1]]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["3 jobs", "2 jobs", "1 job"]
    assert ax.get_ylabel().startswith("3 signatures of 6 jobs")
    strip = ax.child_axes[0]  # jobs per signature, as bars sharing the rows
    assert strip.get_xlabel() == "jobs" and strip.get_ylim() == ax.get_ylim()


def test_group_signature_with_sort_none_keeps_first_appearance():
    plotter = _MatrixPlotter(matrix(SIGS, list("abcdef")), sort="none", group="signature")
    assert plotter.state.tolist() == [[2, 1], [2, 2], [1, 1]] and plotter.row_jobs.tolist() == [2, 3, 1]


def test_sort_job_and_none():
    data = matrix({"PAUSE": [True, False, True]}, ["z", "a", "m"])
    assert _MatrixPlotter(data, sort="job").row_labels == ["a", "m", "z"]
    assert _MatrixPlotter(data, sort="none").row_labels == ["z", "a", "m"]


def test_sort_current_action_groups_busy_jobs_idle_last():
    result = result_of(("j1", ["PAUSE"], [], None), ("j2", [], ["PAUSE"], "START"), ("j3", ["PAUSE"], [], "RETRY"),
                       ("j4", ["PAUSE"], [], "START"), ("j5", [], [], None))
    plotter = _MatrixPlotter(result, sort="current_action")
    assert plotter.row_labels == ["j4", "j2", "j3", "j1", "j5"]  # START x2, RETRY, idle (j5 reported nothing)
    assert plotter.groups == [("START", 0, 2), ("RETRY", 2, 3), ("idle", 3, 5)]
    tidy = _MatrixPlotter(result.frame, sort="current_action")  # j5 has no rows in the tidy frame
    assert tidy.groups == [("START", 0, 2), ("RETRY", 2, 3), ("idle", 3, 4)]
    ax = plot_availability_matrix(result, sort="current_action", ax=axes(4, 4))
    assert [t.get_text() for t in ax.child_axes[0].get_yticklabels()] == ["START (2)", "RETRY (1)", "idle (2)"]


def test_sort_by_current_action_or_status_says_what_is_missing():
    data = matrix(SIGS)
    with pytest.raises(ValueError, match="sort='current_action' needs a per-job 'current_action' column"):
        plot_availability_matrix(data, sort="current_action", ax=axes())
    with pytest.raises(ValueError, match="sort='status' needs a per-job 'status' column.*FetchResult has none"):
        plot_availability_matrix(result_of(("j1", ["PAUSE"], [], None)), sort="status", ax=axes())


def test_sort_status_uses_a_status_column_when_there_is_one():
    tidy = pd.DataFrame({"job_id": ["a", "b", "c"], "action": ["PAUSE"] * 3, "available": [True, False, True],
                         "status": ["FAILED", None, "FAILED"]})
    plotter = _MatrixPlotter(tidy, sort="status")
    assert plotter.groups == [("FAILED", 0, 2), ("no status", 2, 3)] and plotter.row_labels == ["a", "c", "b"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sort": "rate"}, "sort must be one of 'signature', 'job', 'current_action', 'status', 'none'; got 'rate'"),
        ({"group": "job"}, "group must be one of None, 'signature'; got 'job'"),
        ({"group": "signature", "sort": "job"}, "sort must be 'signature' or 'none'"),
        ({"max_rows": 0}, "max_rows must be a positive integer"),
    ],
)
def test_bad_options_name_the_valid_choices(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        plot_availability_matrix(matrix(SIGS), ax=axes(), **kwargs)


def test_data_that_is_not_a_fleet_is_refused():
    with pytest.raises(ValueError, match="neither a tidy frame"):
        plot_availability_matrix(pd.DataFrame({"name": ["x"]}), ax=axes())
    with pytest.raises(TypeError, match="got list"):
        plot_availability_matrix([[True]], ax=axes())


# -- labels, layout, pyplot -------------------------------------------------------------------------
def test_row_labels_only_while_they_fit():
    few, many = matrix({"A": [True] * 10}), matrix({"A": [True] * 300})
    assert len(plot_availability_matrix(few, ax=axes(4, 4)).get_yticklabels()) == 10
    assert len(plot_availability_matrix(many, ax=axes(4, 4)).get_yticklabels()) == 0
    assert len(plot_availability_matrix(few, labels=False, ax=axes(4, 4)).get_yticklabels()) == 0
    ax = plot_availability_matrix(many, ax=axes(4, 4))
    assert ax.get_ylabel() == "300 jobs grouped by action signature"


def test_a_fetch_result_draws_every_job_and_the_legend_counts_cells():
    result = result_of(("j1", ["PAUSE"], ["DELETE"], None), ("j2", [], [], None))  # j2 reported nothing
    ax = plot_availability_matrix(result, sort="none", ax=axes())
    assert image_of(ax) == [[2, 1], [0, 0]]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "available (1)", "unavailable (1)", "not reported (2)"]


def test_kwargs_go_to_the_image_and_the_axes_is_returned():
    ax = axes()
    assert plot_availability_matrix(matrix(SIGS), ax=ax, alpha=0.5, aspect="equal") is ax
    assert ax.get_images()[0].get_alpha() == 0.5 and ax.get_aspect() == 1.0


def test_no_pyplot_figure_is_made_unless_ax_is_none(tmp_path):
    plot_availability_matrix(matrix(SIGS), ax=axes())
    render_heatmap(matrix(SIGS), tmp_path / "h.png")
    assert plt.get_fignums() == []
    ax = plot_availability_matrix(matrix(SIGS))
    assert ax is plt.gca() and plt.get_fignums() == [1]


def test_empty_data_draws_a_note():
    ax = plot_availability_matrix(matrix({}), ax=axes())
    assert ax.get_images() == [] and ax.texts[0].get_text() == "no jobs to show"


def test_docstrings_have_no_placeholders_left():
    for name in plots.__all__:
        doc = getattr(plots, name).__doc__ or ""
        assert not re.search(r"\{(data|ax|returns_ax)\}", doc), name


def test_live_fleet_renders_every_job(client, emu):
    result = fetch_actions(emu.job_ids, client=client, progress=False)
    fig = Figure(figsize=(6, 4), dpi=60)
    ax = plot_availability_matrix(result, sort="current_action", ax=fig.add_subplot())
    fig.savefig(io.BytesIO(), format="png")
    assert len(ax.get_images()[0].get_array()) == len(result.jobs)


def test_dollar_signs_in_data_are_drawn_as_text(tmp_path):
    from matplotlib.figure import Figure

    from drs_analytics import plot_action_rates, plot_signatures

    data = matrix({"COST_$5_and_$6": [True, False], r"a$\foo$b": [False, True]}, ["job$1", "job$2"])
    for draw in (lambda ax: plot_availability_matrix(data, ax=ax, labels=True), lambda ax: plot_action_rates(data, ax=ax)):
        fig = Figure(figsize=(4, 3))
        draw(fig.add_subplot())
        fig.savefig(tmp_path / "x.png")  # mathtext would raise on \foo
    fig = Figure(figsize=(5, 4))
    plot_signatures(data, fig=fig)
    fig.savefig(tmp_path / "s.png")


def test_group_signature_is_one_row_per_set_of_available_actions():
    # jobs 0 and 1 can both do only A; they differ in what they did not report
    data = matrix({"A": [True, True, False], "B": [False, NA, True], "C": [NA, False, NA]}, ["j0", "j1", "j2"])
    plotter = _MatrixPlotter(data, sort="signature", group="signature")
    assert plotter.row_labels == ["2 jobs", "1 job"]
    assert plotter.row_jobs.tolist() == [2, 1]
    cols = plotter.col_labels
    row = dict(zip(cols, plotter.state[0].tolist()))
    assert row == {"A": 2, "B": 1, "C": 1}  # available where the set is; unavailable if any job reported it
