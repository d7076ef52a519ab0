"""FleetExplorer, headless: set widget values in Python, check the filtered jobs, count, figure and files."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import IPython.display
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from drs_analytics import FetchResult
from drs_analytics.explorer import AVAILABILITY_STATES, EXPLORER_SORTS, EXPORT_FILES, FleetExplorer, _Fleet
from drs_analytics.frame import build_frames
from drs_analytics.responses import JobActions
from drs_analytics.result import errors_frame

T0 = datetime(2024, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
# job: (available, unavailable, current_action, from_cache); RETRY is not reported by e-103, nothing by d-105
FLEET = {
    "c-101": (("PAUSE", "RETRY"), ("DELETE",), None, False),
    "a-102": (("PAUSE",), ("RETRY", "DELETE"), "START", True),
    "e-103": (("DELETE",), ("PAUSE",), None, False),
    "b-104": (("PAUSE", "RETRY"), ("DELETE",), None, False),
    "d-105": ((), (), "PAUSE", False),
    "f-106": ((), ("PAUSE", "RETRY", "DELETE"), "START", False),
}
NAMES = {"c-101": "orders-db", "a-102": "Billing", "e-103": "crm", "b-104": "orders-replica", "f-106": "ledger"}

from .conftest import emulated_fleet_result


def small_result() -> FetchResult:
    records = [JobActions(j, a, u, cur, T0 + timedelta(minutes=i), cached) for i, (j, (a, u, cur, cached))
               in enumerate(FLEET.items())]
    frame, jobs, conflicts = build_frames("p1", records)
    return FetchResult(frame=frame, jobs=jobs, errors=errors_frame([]), conflicts=conflicts, project_id="p1",
                       requested=len(records))


@pytest.fixture
def small():
    explorer = FleetExplorer(small_result())
    yield explorer
    explorer.close()


@pytest.fixture(scope="module")
def fetched():
    return emulated_fleet_result(120)


@pytest.fixture
def real(fetched):
    explorer = FleetExplorer(fetched)
    yield explorer
    explorer.close()


@pytest.fixture
def shown(monkeypatch):
    """Record what the explorer displays (it imports display/clear_output when it draws)."""
    calls = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: calls.append(("display", objs)))
    monkeypatch.setattr(IPython.display, "clear_output", lambda wait=False: calls.append(("clear", wait)))
    return calls


def heatmap_rows(explorer) -> int:
    images = explorer.figure.axes[0].images
    return images[0].get_array().shape[0] if images else 0


def ids(explorer) -> list[str]:
    return explorer.filtered_jobs()["job_id"].tolist()


# -- the data behind the widgets -----------------------------------------------------------
@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("any state", set(FLEET)),
        ("all available", {"c-101", "b-104"}),
        ("any available", {"c-101", "a-102", "b-104"}),
        ("none available", {"e-103", "d-105", "f-106"}),
        ("any unavailable", {"a-102", "e-103", "f-106"}),
        ("any not reported", {"e-103", "d-105"}),
    ],
)
def test_availability_state_of_the_selected_actions(state, expected):
    fleet = _Fleet(small_result())
    mask = fleet.mask(actions=("PAUSE", "RETRY"), state=state)
    assert set(fleet.jobs["job_id"][mask]) == expected
    assert fleet.mask(actions=(), state=state).all()  # no action selected: no constraint


def test_bad_choices_name_the_valid_ones():
    fleet = _Fleet(small_result())
    with pytest.raises(ValueError, match="state must be one of any state, all available"):
        fleet.mask(actions=("PAUSE",), state="maybe")
    with pytest.raises(ValueError, match="sort must be one of signature, job, current_action"):
        fleet.order(np.arange(3), "size")


def test_source_must_be_a_result_or_a_tidy_frame():
    with pytest.raises(TypeError, match="FetchResult or a tidy DataFrame, not int"):
        FleetExplorer(42)
    with pytest.raises(ValueError, match="missing action, available"):
        FleetExplorer(pd.DataFrame({"job_id": ["a"]}))


# -- widgets -------------------------------------------------------------------------------
def test_initial_view_shows_every_job(real, fetched):
    n = len(fetched.jobs)
    assert real.count.value == f"{n} of {n} jobs"
    assert heatmap_rows(real) == n
    pd.testing.assert_frame_equal(real.filtered_frame(), fetched.frame)
    assert "first 50 of 120 matching jobs" in real.table.value
    assert real.table.value.count("<tr") == 51  # header + 50 jobs
    assert real.state.disabled  # nothing to apply a state to yet
    assert list(real.current.options)[:2] == ["any", "idle"]
    assert list(real.actions.options) == list(fetched.matrix().columns)


def test_filters_drive_the_frame_the_count_and_the_heatmap(real, fetched):
    matrix = fetched.matrix()
    expected = set(matrix.index[matrix["PAUSE"].fillna(False).to_numpy(dtype=bool)])
    assert 0 < len(expected) < len(matrix)
    real.actions.value = ("PAUSE",)
    real.state.value = "all available"
    assert not real.state.disabled
    assert set(ids(real)) == expected
    assert real.count.value == f"{len(expected)} of {len(matrix)} jobs"
    assert heatmap_rows(real) == len(expected)
    frame = fetched.frame
    pd.testing.assert_frame_equal(real.filtered_frame(),
                                  frame[frame["job_id"].astype(str).isin(expected)].reset_index(drop=True))
    pd.testing.assert_frame_equal(real.filtered_matrix().sort_index(), matrix.loc[sorted(expected)])


def test_current_action_and_search(small):
    small.current.value = "idle"
    assert sorted(ids(small)) == ["b-104", "c-101", "e-103"]
    small.current.value = "START"
    assert sorted(ids(small)) == ["a-102", "f-106"]
    small.search.value = " F-1 "  # trimmed, case-insensitive, on the job ID
    assert ids(small) == ["f-106"]
    assert small.count.value == "1 of 6 jobs"
    small.current.value = "any"
    small.search.value = "no such job"
    assert ids(small) == [] and small.count.value == "0 of 6 jobs"
    assert heatmap_rows(small) == 0
    assert small.job.value is None and "no job matches" in small.detail.value


def test_search_covers_name_and_status_columns_of_a_frame():
    frame = small_result().frame
    frame = frame.assign(name=frame["job_id"].astype(str).map(NAMES),
                         status=np.where(frame["job_id"].astype(str) == "e-103", "FULL_FAILED",
                                         "INCRE_TRANSFER_STARTED"))
    explorer = FleetExplorer(frame)
    try:
        assert explorer.count.value == "5 of 5 jobs"  # d-105 reported nothing, so a bare frame has no row for it
        explorer.search.value = "ORDERS"
        assert sorted(ids(explorer)) == ["b-104", "c-101"]
        explorer.search.value = "failed"
        assert ids(explorer) == ["e-103"]
        assert "name: crm" in explorer.detail.value and "status: FULL_FAILED" in explorer.detail.value
        assert "<th>name</th>" in explorer.table.value
    finally:
        explorer.close()


def test_sort_orders(small):
    # signature = set of available actions: the two 2-job sets ({} and {PAUSE, RETRY}) come first
    assert ids(small)[:4] == ["d-105", "f-106", "c-101", "b-104"]
    small.sort.value = "job"
    assert ids(small) == sorted(FLEET)
    assert small.figure.axes[0].get_yticklabels()[0].get_text() == "a-102"  # the heatmap follows
    small.sort.value = "current_action"
    assert ids(small) == ["d-105", "a-102", "f-106", "c-101", "e-103", "b-104"]  # PAUSE, START, then idle
    assert [t.get_text() for t in small.figure.axes[0].get_yticklabels()] == ids(small)


def test_signature_sort_groups_identical_jobs_biggest_first(real):
    from drs_analytics.plots import _MatrixPlotter

    drawn = _MatrixPlotter(real.filtered_matrix(), sort="none").row_labels
    assert drawn == ids(real)  # the heatmap draws the table's rows in the table's order
    state = real._fleet.state[real._rows]
    keys = [(row == 2).tobytes() for row in state]  # the set of available actions
    sizes = []
    for key in keys:  # each signature is one contiguous run
        if not sizes or key != sizes[-1][0]:
            sizes.append([key, 0])
        sizes[-1][1] += 1
    assert len({k for k, _ in sizes}) == len(sizes)
    assert [n for _, n in sizes] == sorted((n for _, n in sizes), reverse=True)


def test_choosing_a_job_shows_its_actions_and_fetch_time(small):
    assert small.job.value == ids(small)[0]
    small.job.value = "a-102"
    detail = small.detail.value
    assert "<b>a-102</b>" in detail
    assert "current action: START" in detail
    assert "available (1): PAUSE<br>" in detail
    assert "unavailable (2): RETRY, DELETE<br>" in detail
    assert "not reported (0): &mdash;" in detail
    assert "fetched at: 2024-03-01 12:01:00 UTC (from cache: yes)" in detail
    small.job.value = "e-103"
    assert "current action: idle" in small.detail.value and "not reported (1): RETRY" in small.detail.value
    assert "(from cache: no)" in small.detail.value


def test_chosen_job_is_kept_while_it_still_matches(small):
    small.job.value = "b-104"
    small.current.value = "idle"
    assert small.job.value == "b-104"
    small.current.value = "START"
    assert small.job.value == ids(small)[0] and "<b>" + ids(small)[0] + "</b>" in small.detail.value


def test_markup_in_ids_and_actions_is_escaped():
    hostile = pd.DataFrame({"job_id": ["<script>x</script>", "ok"], "action": ["<img src=x onerror=alert(1)>", "PAUSE"],
                            "available": [True, False]})
    explorer = FleetExplorer(hostile)
    try:
        explorer.job.value = "<script>x</script>"
        for html in (explorer.table.value, explorer.detail.value):
            assert "<script" not in html and "<img" not in html
        assert "&lt;script&gt;x&lt;/script&gt;" in explorer.detail.value
        assert "&lt;img src=x onerror=alert(1)&gt;" in explorer.detail.value
        assert "fetched at: unknown (from cache: unknown)" in explorer.detail.value
        assert list(explorer.current.options) == ["any"]  # no current_action column
    finally:
        explorer.close()


def test_a_result_keeps_jobs_that_reported_nothing(small):
    small.actions.value = ("PAUSE",)
    small.state.value = "any not reported"
    assert ids(small) == ["d-105"]
    assert small.filtered_frame().empty  # it has no tidy rows
    assert small.filtered_matrix().isna().all(axis=None)
    assert heatmap_rows(small) == 1


def test_each_update_shows_one_image_once_and_nothing_in_pyplot(small, shown):
    small.search.value = "10"
    assert [kind for kind, _ in shown] == ["clear", "display"]
    assert shown[0][1] is True  # clear_output(wait=True): no flicker
    (image,) = shown[1][1]
    assert isinstance(image, IPython.display.Image) and image.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert plt.get_fignums() == []  # the figure is never registered with pyplot, so never shown again


def test_hold_redraws_once(small, shown):
    with small.hold():
        small.actions.value = ("PAUSE",)
        small.state.value = "all available"
        small.sort.value = "job"
        assert shown == []
    assert [kind for kind, _ in shown] == ["clear", "display"]
    assert ids(small) == ["a-102", "b-104", "c-101"] and small.count.value == "3 of 6 jobs"


def test_export_writes_the_filtered_frame_and_matrix(real, tmp_path):
    with real.hold():
        real.actions.value = ("DELETE",)
        real.state.value = "any available"
    expected = real.filtered_matrix()
    real.folder.value = str(tmp_path / "out")
    real.export_button.click()
    paths = [tmp_path / "out" / name for name in EXPORT_FILES]
    assert real.export_status.value == "Wrote " + ", ".join(str(p.resolve()) for p in paths)
    actions = pd.read_csv(paths[0], dtype=str, keep_default_na=False)
    assert list(dict.fromkeys(actions["job_id"])) == [j for j in real.filtered_frame()["job_id"].astype(str).unique()]
    assert set(actions["job_id"]) == set(expected.index) and len(actions) == len(real.filtered_frame())
    matrix = pd.read_csv(paths[1], index_col="job_id", dtype=str, keep_default_na=False)
    cells = expected.astype(object).where(expected.notna(), "").astype(str)
    pd.testing.assert_frame_equal(matrix, cells, check_names=False, check_index_type=False, check_column_type=False)


def test_export_failure_is_shown_not_raised(small, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    small.folder.value = str(blocker)
    small.export_button.click()
    assert small.export_status.value.startswith(f"Could not export to {str(blocker)!r}")


def test_repr_mimebundle_is_the_top_container(small):
    bundle = small._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == small.widget.model_id


def test_close_unhooks_observers_and_closes_widgets():
    explorer = FleetExplorer(small_result())
    controls = [explorer.actions, explorer.state, explorer.current, explorer.search, explorer.sort, explorer.job]
    explorer.close()
    for control in controls:
        handlers = control._trait_notifiers.get("value", {}).get("change", [])
        assert explorer._update not in handlers and explorer._show_job not in handlers
    assert explorer.export_button._click_handlers.callbacks == []
    assert explorer.widget.comm is None and all(c.comm is None for c in controls)
    explorer.search.value = "zzz"
    assert explorer.count.value == "6 of 6 jobs" and explorer.figure is None


def test_explorer_searches_fleet_metadata(emu, client):
    from drs_analytics import fetch_fleet

    result = fetch_fleet(client)
    explorer = FleetExplorer(result)
    try:
        target = result.jobs.iloc[3]
        explorer.search.value = str(target["job_name"])
        assert target["job_id"] in ids(explorer)
        explorer.search.value = "rediscluster-to-gaussredis"
        expected = set(result.jobs.loc[result.jobs["engine_type"] == "rediscluster-to-gaussredis", "job_id"])
        assert set(ids(explorer)) == expected
    finally:
        explorer.close()
