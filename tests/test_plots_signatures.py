"""The UpSet-style signatures figure: set counts and the dot matrix on a hand-built fleet."""

from __future__ import annotations

from datetime import datetime, timezone

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from drs_analytics.frame import build_frames
from drs_analytics.plot_signatures import SignaturePlot, plot_signatures
from drs_analytics.responses import JobActions
from drs_analytics.result import FetchResult, errors_frame

NA = None
# a b c: {PAUSE, DELETE}; d e: {PAUSE}; f: nothing available; g: {RETRY}
FLEET = pd.DataFrame(
    {
        "PAUSE": [True, True, True, True, True, False, False],
        "DELETE": [True, True, True, False, NA, NA, False],
        "RETRY": [False, False, NA, False, False, NA, True],
    },
    index=pd.Index(list("abcdefg"), name="job_id"),
    dtype="boolean",
)


def test_counts_and_membership_of_the_most_common_sets():
    plot = SignaturePlot(FLEET, top=3)
    assert plot.counts.to_dict() == {"PAUSE + DELETE": 3, "PAUSE": 2, "(none)": 1}  # g's {RETRY} ties f, seen later
    assert plot.membership.index.tolist() == ["PAUSE", "DELETE"]  # RETRY is in no shown set
    assert plot.membership.to_numpy().tolist() == [[True, True, False], [True, False, False]]
    assert (plot.n_jobs, plot.n_sets, plot.covered) == (7, 4, 6)
    assert "top 3 of 4" in plot.title() and "6 of 7 jobs (86%)" in plot.title()


def test_the_drawn_bars_and_dots():
    axes = plot_signatures(FLEET, top=3)
    assert set(axes) == {"counts", "matrix"}
    assert [int(p.get_height()) for p in axes["counts"].patches] == [3, 2, 1]
    assert [t.get_text() for t in axes["counts"].texts] == ["3", "2", "1"]
    empty_dots, filled_dots = axes["matrix"].collections[:2]
    assert sorted(map(tuple, filled_dots.get_offsets().tolist())) == [(0, 0), (0, 1), (1, 0)]  # (set, action row)
    assert sorted(map(tuple, empty_dots.get_offsets().tolist())) == [(1, 1), (2, 0), (2, 1)]
    lines = axes["matrix"].collections[2].get_segments()
    assert [seg.tolist() for seg in lines] == [[[0, 0], [0, 1]]]  # only set 0 has two actions to join
    assert [t.get_text() for t in axes["matrix"].get_yticklabels()] == ["PAUSE", "DELETE"]
    assert axes["matrix"].get_ylim() == (1.5, -0.5)


def test_top_everything_and_a_fetch_result_with_a_silent_job():
    records = [JobActions("j1", ("PAUSE",), (), None, datetime(2025, 1, 1, tzinfo=timezone.utc)),
               JobActions("j2", (), (), None, datetime(2025, 1, 1, tzinfo=timezone.utc))]
    frame, jobs, conflicts = build_frames("p1", records)
    result = FetchResult(frame, jobs, errors_frame([]), conflicts, "p1", 2)
    assert SignaturePlot(result, top=50).counts.to_dict() == {"PAUSE": 1, "(none)": 1}
    assert SignaturePlot(FLEET, top=50).counts.sum() == len(FLEET)


def test_draws_on_a_given_figure_and_never_on_pyplot():
    fig = Figure()
    axes = plot_signatures(FLEET, fig=fig)
    assert axes["counts"].figure is fig and axes["matrix"].figure is fig
    plot_signatures(FLEET)
    assert plt.get_fignums() == []


def test_notebook_display_is_a_png():
    assert SignaturePlot(FLEET)._repr_html_().startswith('<img src="data:image/png;base64,iVBOR')


@pytest.mark.parametrize("top", [0, -1, 2.5, True])
def test_top_must_be_a_positive_integer(top):
    with pytest.raises(ValueError, match="top must be a positive integer"):
        plot_signatures(FLEET, top=top)


def test_no_jobs():
    axes = plot_signatures(FLEET.iloc[:0])
    assert axes["counts"].texts[-1].get_text() == "no jobs to show"
    assert np.asarray(axes["matrix"].collections[0].get_offsets()).size == 0
