"""The notebook HTML summary of a fetch (``FetchResult._repr_html_``)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from drs_analytics import DRSClient, FetchResult, fetch_actions
from drs_analytics.display import TOP_UNAVAILABLE, fetch_result_html
from drs_analytics.emulator import Emulator
from drs_analytics.exceptions import ServerError, ThrottledError
from drs_analytics.frame import build_frames
from drs_analytics.responses import JobActions
from drs_analytics.result import error_record, errors_frame

T0 = datetime(2024, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
HOSTILE = "<script>alert('x')</script>"


def make_result(records, errors=(), *, project_id="p1", elapsed=1.234, requested=None):
    frame, jobs, conflicts = build_frames(project_id, records)
    errs = errors_frame([error_record(job_id, exc) for job_id, exc in errors])
    return FetchResult(frame=frame, jobs=jobs, errors=errs, conflicts=conflicts, project_id=project_id,
                       requested=requested if requested is not None else len(records) + len(errors),
                       started_at=T0, elapsed=elapsed)


def job(job_id, available=(), unavailable=(), current=None, minutes=0, cached=False):
    return JobActions(job_id, tuple(available), tuple(unavailable), current, T0 + timedelta(minutes=minutes), cached)


def _cells(html):
    """``{row header: cell html}`` of the summary table."""
    return dict(re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td></tr>(?=<tr><th>|</table></div>)", html, flags=re.S))


@pytest.fixture(scope="module")
def fetched():
    with Emulator(jobs=60, seed=7) as emu, DRSClient(endpoint=emu.url, project_id=emu.project_id, token=emu.token,
                                                     cache=False) as client:
        return fetch_actions([*emu.job_ids, "00000000-0000-4000-8000-000000000jb000"], client=client, progress=False)


def test_repr_html_delegates_to_display(fetched):
    assert fetched._repr_html_() == fetch_result_html(fetched)


def test_summary_of_a_real_fetch(fetched):
    cells = _cells(fetch_result_html(fetched))
    assert cells["Jobs"] == "60 fetched of 61 requested"
    assert cells["Distinct actions"] == str(fetched.frame["action"].nunique())
    assert cells["Errors"].startswith("1<ul")
    assert "JobNotFoundError &times; 1" in cells["Errors"]
    assert "e.g. job 00000000-0000-4000-8000-000000000jb000: " in cells["Errors"]
    assert cells["Served from cache"] == "0% (0 of 60 jobs)"
    low, high = fetched.jobs["fetched_at"].min(), fetched.jobs["fetched_at"].max()
    expected = low.strftime("%Y-%m-%d %H:%M:%S UTC")
    if high.floor("s") != low.floor("s"):
        expected += " \u2013 " + high.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert cells["fetched_at"] == expected
    assert cells["Elapsed"].startswith(f"{fetched.elapsed:.2f} s")
    top = fetched.summary().sort_values("unavailable", ascending=False, kind="stable").head(TOP_UNAVAILABLE)
    listed = re.findall(r"<code>(.*?)</code></td><td>([\d,]+) of ([\d,]+) jobs", cells["Most unavailable (top 5)"])
    assert listed == [(a, str(n), "60") for a, n in top["unavailable"].items()]


def test_every_value_is_escaped():
    records = [job("<b>job</b>", ["<img src=x onerror=alert(1)>"], ["DELETE"], current="<i>busy</i>")]
    errors = [("<script>id</script>", ServerError(HOSTILE))]
    html = fetch_result_html(make_result(records, errors, project_id="<svg onload=alert(1)>"))
    assert "<script" not in html and "<img" not in html and "<svg" not in html and "<b>job" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html  # the message is shown, escaped
    assert "&lt;script&gt;id&lt;/script&gt;" in html  # the job ID too
    assert "&lt;svg onload=alert(1)&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" not in html  # available, so not among the unavailable
    assert "<code>DELETE</code>" in html


def test_errors_show_counts_top_types_and_one_example_each():
    errors = ([(f"s{i}", ServerError("boom " + "x" * 300)) for i in range(3)]
              + [(f"t{i}", ThrottledError("slow down")) for i in range(2)]
              + [("r", RuntimeError("odd")), ("v", ValueError("bad"))])
    cells = _cells(fetch_result_html(make_result([job("a", ["PAUSE"])], errors)))
    text = cells["Errors"]
    assert text.startswith("7<ul")
    assert text.index("ServerError &times; 3") < text.index("ThrottledError &times; 2")
    assert "e.g. job s0: boom" in text and "e.g. job t0: slow down" in text
    assert "x" * 200 not in text and "\u2026" in text  # long messages are shortened
    assert "and 1 more type(s)" in text


def test_cache_share_time_range_elapsed_and_conflicts():
    records = [job("a", ["PAUSE"], minutes=0, cached=True), job("b", ["PAUSE"], ["PAUSE"], minutes=5),
               job("c", [], ["PAUSE", "RETRY"], minutes=2, cached=True), job("d", minutes=1)]
    cells = _cells(fetch_result_html(make_result(records, elapsed=12.345)))
    assert cells["Jobs"] == "4 fetched of 4 requested"
    assert cells["Distinct actions"] == "2"
    assert cells["Errors"] == "0"
    assert cells["Served from cache"] == "50% (2 of 4 jobs)"
    assert cells["fetched_at"] == "2024-03-01 12:00:00 UTC \u2013 2024-03-01 12:05:00 UTC"
    assert cells["Elapsed"] == "12.35 s <span class='drs-muted'>(started 2024-03-01 12:00:00 UTC)</span>"
    assert cells["Conflicting actions"] == "1 (kept as unavailable)"
    listed = re.findall(r"<code>(.*?)</code></td><td>(.*?)</td>", cells["Most unavailable (top 5)"])
    assert listed == [("PAUSE", "2 of 4 jobs"), ("RETRY", "1 of 4 jobs")]  # job d reported nothing


def test_only_five_unavailable_actions_most_jobs_first():
    actions = ["CREATE", "PAUSE", "START", "RETRY", "DELETE", "CLONE", "RESET"]
    records = [job(f"j{i}", [], actions[: 7 - i]) for i in range(7)]  # CREATE unavailable on 7 jobs ... RESET on 1
    section = _cells(fetch_result_html(make_result(records)))["Most unavailable (top 5)"]
    assert re.findall(r"<code>(.*?)</code>", section) == actions[:5]


def test_empty_result():
    html = fetch_result_html(make_result([], [("x", ServerError("down"))]))
    cells = _cells(html)
    assert cells["Jobs"] == "0 fetched of 1 requested"
    assert cells["Served from cache"] == "0% (0 of 0 jobs)"
    assert cells["fetched_at"] == "&mdash;"
    assert "none" in cells["Most unavailable (top 5)"]


def test_naive_started_at_is_taken_as_utc():
    result = replace(make_result([job("a", ["PAUSE"])]), started_at=datetime(2024, 1, 2, 3, 4, 5))
    assert "(started 2024-01-02 03:04:05 UTC)" in _cells(fetch_result_html(result))["Elapsed"]
    assert isinstance(result.jobs["fetched_at"].dtype, pd.DatetimeTZDtype)
