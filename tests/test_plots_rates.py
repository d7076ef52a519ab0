"""Per-action rates and current-action bars: the drawn bars against numbers worked out by hand."""

from __future__ import annotations

from datetime import datetime, timezone

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from drs_analytics.frame import build_frames
from drs_analytics.plot_base import STATE_COLORS
from drs_analytics.plot_rates import BUSY_COLOR, IDLE_COLOR, _CurrentPlotter, _RatesPlotter
from drs_analytics.plots import plot_action_rates, plot_current_actions
from drs_analytics.responses import JobActions
from drs_analytics.result import FetchResult, errors_frame

NA = None
T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
# 4 jobs. PAUSE: 2 available, 1 unavailable, 1 not reported; DELETE: 0 / 2 / 2; RETRY: 3 / 1 / 0.
MATRIX = pd.DataFrame(
    {"PAUSE": [True, False, NA, True], "DELETE": [False, False, NA, NA], "RETRY": [True, True, True, False]},
    dtype="boolean",
)


def result_of(*jobs: tuple) -> FetchResult:
    records = [JobActions(j, tuple(a), tuple(u), c, T0) for j, a, u, c in jobs]
    frame, table, conflicts = build_frames("p1", records)
    return FetchResult(frame, table, errors_frame([]), conflicts, "p1", len(records))


def axes():
    return Figure(figsize=(5, 4), dpi=80).add_subplot()


def segments(ax) -> list[list[tuple[float, float]]]:
    """(left, width) of each bar, per state drawn: available, unavailable, not reported."""
    bars = [(float(p.get_x()), float(p.get_width())) for p in ax.patches]
    n = len(bars) // 3
    return [bars[i * n:(i + 1) * n] for i in range(3)]


def test_bar_widths_are_the_shares_worked_out_by_hand_most_available_on_top():
    ax = plot_action_rates(MATRIX, ax=axes())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["RETRY", "PAUSE", "DELETE"]
    available, unavailable, not_reported = segments(ax)
    assert available == [(0, 0.75), (0, 0.5), (0, 0.0)]
    assert unavailable == [(0.75, 0.25), (0.5, 0.25), (0, 0.5)]
    assert not_reported == [(1.0, 0.0), (0.75, 0.25), (0.5, 0.5)]
    assert ax.get_ylim() == (2.5, -0.5)  # first row on top
    colours = [ax.patches[i * 3].get_facecolor() for i in range(3)]
    assert colours == [to_rgba(STATE_COLORS[code]) for code in (2, 1, 0)]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["available", "unavailable", "not reported"]
    assert [t.get_text() for t in ax.child_axes[0].get_yticklabels()] == ["3 (75%)", "2 (50%)", "0 (0%)"]


def test_counts_instead_of_shares():
    ax = plot_action_rates(MATRIX, normalize=False, ax=axes())
    available, unavailable, not_reported = segments(ax)
    assert [w for _, w in available] == [3, 2, 0] and [w for _, w in not_reported] == [0, 1, 2]
    assert ax.get_xlim() == (0, 4) and ax.get_xlabel() == "jobs"


def test_sort_orders():
    assert _RatesPlotter(MATRIX, sort="unavailable").table.index.tolist() == ["DELETE", "PAUSE", "RETRY"]
    documented = _RatesPlotter(MATRIX, sort="none").table.index.tolist()
    assert sorted(documented) == ["DELETE", "PAUSE", "RETRY"] and documented != ["RETRY", "PAUSE", "DELETE"]
    with pytest.raises(ValueError, match="sort must be one of 'rate', 'unavailable', 'none'; got 'name'"):
        plot_action_rates(MATRIX, sort="name", ax=axes())


def test_a_fetch_result_counts_jobs_that_reported_nothing():
    result = result_of(("j1", ["PAUSE"], [], None), ("j2", [], [], None))
    plotter = _RatesPlotter(result)
    assert plotter.n_jobs == 2 and plotter.table.loc["PAUSE"].tolist() == [0.5, 0.0, 0.5]
    tidy = _RatesPlotter(result.frame)  # the tidy frame alone only knows j1
    assert tidy.n_jobs == 1 and tidy.table.loc["PAUSE"].tolist() == [1.0, 0.0, 0.0]


def test_kwargs_go_to_barh():
    ax = plot_action_rates(MATRIX, height=0.5, ax=axes())
    assert {round(p.get_height(), 6) for p in ax.patches} == {0.5}


# -- current actions ------------------------------------------------------------------------------
def test_current_actions_are_counted_once_per_job_idle_last():
    tidy = pd.DataFrame({
        "job_id": ["a", "a", "b", "c", "c", "d", "e"],
        "action": ["PAUSE", "DELETE", "PAUSE", "PAUSE", "DELETE", "PAUSE", "PAUSE"],
        "available": [True, False, True, False, True, True, False],
        "current_action": ["START", "START", "RETRY", "START", "START", None, "ABORT"],
    })
    plotter = _CurrentPlotter(tidy)
    assert plotter.counts.to_dict() == {"START": 2, "ABORT": 1, "RETRY": 1, "idle": 1}  # ties by name
    ax = plot_current_actions(tidy, ax=axes())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["START", "ABORT", "RETRY", "idle"]
    assert [int(p.get_width()) for p in ax.patches] == [2, 1, 1, 1]
    assert [p.get_facecolor() for p in ax.patches] == [to_rgba(BUSY_COLOR)] * 3 + [to_rgba(IDLE_COLOR)]
    assert ax.get_title(loc="left") == "Current action: 4 of 5 jobs busy"


def test_current_actions_of_a_fetch_result_include_jobs_that_reported_nothing():
    result = result_of(("j1", ["PAUSE"], [], "START"), ("j2", [], [], None), ("j3", [], [], "START"))
    assert _CurrentPlotter(result).counts.to_dict() == {"START": 2, "idle": 1}
    assert _CurrentPlotter(result, idle=False).counts.to_dict() == {"START": 2}


def test_a_dominant_idle_bar_is_cut_with_its_count_shown():
    jobs = [(f"j{i}", ["PAUSE"], [], "START" if i < 3 else None) for i in range(100)]
    ax = plot_current_actions(result_of(*jobs), ax=axes())
    assert ax.get_xlim()[1] < 97 and [int(p.get_width()) for p in ax.patches] == [3, 97]
    assert [t.get_text() for t in ax.texts] == ["3", "", "97"]  # bar labels (none past the cut), then the count


def test_current_actions_need_a_current_action_column():
    with pytest.raises(ValueError, match="plot_current_actions needs a per-job 'current_action' column"):
        plot_current_actions(MATRIX, ax=axes())


def test_rates_and_current_actions_leave_pyplot_alone():
    plot_action_rates(MATRIX, ax=axes())
    plot_current_actions(result_of(("j1", [], [], None)), ax=axes())
    assert plt.get_fignums() == []
    assert plot_action_rates(MATRIX) is plt.gca()


def test_nothing_to_count():
    empty = result_of()
    ax = plot_current_actions(empty, ax=axes())
    assert ax.texts[-1].get_text() == "no jobs to show"
    ax = plot_action_rates(empty, ax=axes())
    assert np.asarray(ax.patches).size == 0 and ax.texts[-1].get_text() == "no action reported"


def test_current_actions_counts_jobs_in_whole_numbers():
    jobs = pd.DataFrame({"job_id": ["a", "b", "c"], "current_action": ["START", None, None]})
    ax = plot_current_actions(jobs, ax=Figure(figsize=(7, 4)).add_subplot())
    ax.figure.canvas.draw()
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks)
