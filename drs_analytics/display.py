"""Rich notebook display: the compact HTML summary of a fetch.

:meth:`FetchResult._repr_html_ <drs_analytics.FetchResult._repr_html_>` delegates here.
Every value that came from the API or the input (project and job IDs, action names,
error types and messages) is HTML-escaped, so hostile text is shown, never run.
"""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from .result import FetchResult

__all__ = ["TOP_ERRORS", "TOP_UNAVAILABLE", "fetch_result_html", "format_utc"]

#: Actions listed under "most unavailable".
TOP_UNAVAILABLE = 5
#: Error types listed (with one example each).
TOP_ERRORS = 3
_MAX_TEXT = 120  # characters of an example error message

_STYLE = (
    "<style>.drs-summary td,.drs-summary th{text-align:left;padding:1px 10px 1px 0;vertical-align:top}"
    ".drs-summary .drs-muted{color:#777}</style>"
)


def _text(value: object, limit: int = _MAX_TEXT) -> str:
    """``value`` as escaped HTML text, shortened to ``limit`` characters; NA as an em dash."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "&mdash;"
    text = str(value)
    return escape(text if len(text) <= limit else text[: limit - 1] + "\u2026")


def format_utc(value: object) -> str:
    """A timestamp as ``YYYY-MM-DD HH:MM:SS UTC`` (naive values are taken as UTC).

    >>> format_utc("2024-05-01T10:00:00+02:00")
    '2024-05-01 08:00:00 UTC'
    """
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize(timezone.utc) if stamp.tzinfo is None else stamp.tz_convert(timezone.utc)
    return stamp.strftime("%Y-%m-%d %H:%M:%S UTC")


def _time_range(times: pd.Series) -> str:
    times = times.dropna()
    if times.empty:
        return "&mdash;"
    low, high = format_utc(times.min()), format_utc(times.max())
    return escape(low if low == high else f"{low} \u2013 {high}")


def _row(label: str, value_html: str) -> str:
    return f"<tr><th>{escape(label)}</th><td>{value_html}</td></tr>"


def _jobs_html(result: FetchResult) -> str:
    n_jobs = len(result.jobs)
    return f"{n_jobs:,} fetched of {int(result.requested):,} requested"


def _errors_html(errors: pd.DataFrame) -> str:
    """Count, then the commonest error types with a count and one example each."""
    if errors.empty:
        return "0"
    counts = errors["error_type"].astype(object).fillna("unknown").value_counts(sort=True)
    items = []
    for error_type, count in counts.head(TOP_ERRORS).items():
        example = errors[errors["error_type"].astype(object).fillna("unknown") == error_type].iloc[0]
        items.append(
            f"<li>{_text(error_type)} &times; {count:,} <span class='drs-muted'>e.g. job "
            f"{_text(example['job_id'], 60)}: {_text(example['error_msg'])}</span></li>"
        )
    more = len(counts) - TOP_ERRORS
    tail = f"<li class='drs-muted'>and {more} more type(s)</li>" if more > 0 else ""
    return f"{len(errors):,}<ul style='margin:0;padding-left:1.2em'>{''.join(items)}{tail}</ul>"


def _cache_html(result: FetchResult) -> str:
    n_jobs = len(result.jobs)
    cached = int(result.jobs["from_cache"].sum()) if n_jobs else 0
    return f"{result.from_cache_share:.0%} ({cached:,} of {n_jobs:,} jobs)"


def _elapsed_html(result: FetchResult) -> str:
    started = result.started_at
    when = format_utc(started) if isinstance(started, datetime) else _text(started)
    return f"{float(result.elapsed):.2f} s <span class='drs-muted'>(started {escape(when)})</span>"


def _unavailable_html(summary: pd.DataFrame) -> str:
    """The actions the most jobs cannot run now (only actions with at least one such job)."""
    top = summary[summary["unavailable"] > 0].sort_values("unavailable", ascending=False, kind="stable")
    if top.empty:
        return "<span class='drs-muted'>none</span>"
    rows = "".join(
        f"<tr><td><code>{_text(action)}</code></td>"
        f"<td>{int(row['unavailable']):,} of {int(row['jobs']):,} jobs</td></tr>"
        for action, row in top.head(TOP_UNAVAILABLE).iterrows()
    )
    return f"<table>{rows}</table>"


def fetch_result_html(result: FetchResult) -> str:
    """A compact HTML summary of ``result`` for notebooks.

    Shows the jobs fetched, distinct actions, errors (count, commonest types with an
    example each), the share served from the cache, the range of ``fetched_at`` in
    UTC, the elapsed time, and the actions most jobs cannot run (top
    :data:`TOP_UNAVAILABLE`). Every value is HTML-escaped; no script, no JavaScript.

    Parameters
    ----------
    result : FetchResult

    Returns
    -------
    str
        An HTML fragment.
    """
    summary = result.summary()
    rows = [
        _row("Jobs", _jobs_html(result)),
        _row("Distinct actions", f"{result.frame['action'].nunique():,}"),
        _row("Errors", _errors_html(result.errors)),
        _row("Served from cache", _cache_html(result)),
        _row("fetched_at", _time_range(result.jobs["fetched_at"])),
        _row("Elapsed", _elapsed_html(result)),
    ]
    if len(result.conflicts):
        rows.append(_row("Conflicting actions", f"{len(result.conflicts):,} (kept as unavailable)"))
    stale = int(result.jobs["stale"].sum()) if "stale" in result.jobs else 0
    if stale:
        rows.append(_row("Stale", f"<b>{stale:,} jobs</b> from expired cached answers (the API failed, or offline): "
                                  "see the <code>stale</code> column"))
    rows.append(_row(f"Most unavailable (top {TOP_UNAVAILABLE})", _unavailable_html(summary)))
    title = f"<b>DRS fetch result</b> <span class='drs-muted'>project {_text(result.project_id, 80)}</span>"
    return f"{_STYLE}<div class='drs-summary'>{title}<table>{''.join(rows)}</table></div>"
