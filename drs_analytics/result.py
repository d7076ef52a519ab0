"""FetchResult: what a fleet fetch returns, and its error records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import pandas as pd

from .frame import action_summary, availability_matrix

__all__ = ["ERRORS_COLUMNS", "FetchResult", "error_record", "errors_frame", "input_label"]

#: Columns of ``FetchResult.errors``.
ERRORS_COLUMNS = ("job_id", "status_code", "error_code", "error_msg", "attempts", "error_type", "request_id", "detail")


def input_label(value: object) -> str:
    """How an input job ID is shown: itself if a string, else ``<type: repr>`` (never a valid ID).

    >>> input_label("abc"), input_label(5), input_label(None)
    ('abc', '<int: 5>', '<NoneType: None>')
    """
    if isinstance(value, str):
        return str(value)
    text = repr(value)
    return f"<{type(value).__name__}: {text if len(text) <= 60 else text[:57] + '...'}>"


def error_record(job_id: str, exc: BaseException) -> dict:
    """One row of ``FetchResult.errors``.

    ``error_msg`` is the API's own message when it gave one (so errors group well);
    ``detail`` is the full one-line description, naming the request.
    """
    detail = str(exc) or type(exc).__name__
    return {
        "job_id": job_id,
        "status_code": getattr(exc, "status_code", None),
        "error_code": getattr(exc, "error_code", None),
        "error_msg": getattr(exc, "error_msg", None) or detail,
        "attempts": getattr(exc, "attempts", 0),
        "error_type": type(exc).__name__,
        "request_id": getattr(exc, "request_id", None),
        "detail": detail,
    }


def errors_frame(records: list[dict]) -> pd.DataFrame:
    """The errors table with stable dtypes (also when empty)."""
    frame = pd.DataFrame.from_records(records, columns=list(ERRORS_COLUMNS))
    frame["job_id"] = pd.Series(frame["job_id"].tolist(), dtype=object, index=frame.index).astype(str)
    frame["status_code"] = pd.array(frame["status_code"].tolist(), dtype="Int64")
    frame["attempts"] = frame["attempts"].astype("int64")
    for col in ("error_code", "error_msg", "error_type", "request_id", "detail"):
        frame[col] = frame[col].astype("string")
    return frame


@dataclass
class FetchResult:
    """What :func:`~drs_analytics.fetch_actions` returns.

    Attributes
    ----------
    frame : DataFrame
        Tidy: one row per (job, action); see :data:`~drs_analytics.frame.FRAME_COLUMNS`.
    jobs : DataFrame
        One row per fetched job.
    errors : DataFrame
        One row per job that could not be fetched; see :data:`ERRORS_COLUMNS`.
    conflicts : DataFrame
        (job_id, action) pairs a job listed as both available and unavailable.
    project_id : str
    requested : int
        Distinct job IDs asked for (``len(jobs) + len(errors)``).
    started_at : datetime
    elapsed : float
        Seconds the fetch took.
    """

    frame: pd.DataFrame
    jobs: pd.DataFrame
    errors: pd.DataFrame
    conflicts: pd.DataFrame
    project_id: str
    requested: int
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    elapsed: float = 0.0

    def matrix(self) -> pd.DataFrame:
        """The jobs x actions availability matrix (see :func:`availability_matrix`).

        Every fetched job is a row, in input order; a job that reported no action
        at all is a row of NA.
        """
        matrix = availability_matrix(self.frame)
        return matrix.reindex(pd.Index(self.jobs["job_id"], name="job_id"))

    def summary(self) -> pd.DataFrame:
        """Per-action counts and rates over every fetched job (see :func:`action_summary`)."""
        return action_summary(self.matrix())

    @property
    def from_cache_share(self) -> float:
        """Share of fetched jobs served from the cache."""
        return float(self.jobs["from_cache"].mean()) if len(self.jobs) else 0.0

    def _stale_repr(self) -> str:
        stale = int(self.jobs["stale"].sum()) if "stale" in self.jobs else 0
        return f" stale={stale}" if stale else ""

    def _repr_html_(self) -> str:
        """Compact HTML summary for notebooks (see :func:`drs_analytics.display.fetch_result_html`)."""
        from .display import fetch_result_html

        return fetch_result_html(self)

    def __repr__(self) -> str:
        return (
            f"<FetchResult project={self.project_id} jobs={len(self.jobs)} errors={len(self.errors)} "
            f"rows={len(self.frame)} actions={self.frame['action'].nunique()} "
            f"from_cache={self.from_cache_share:.0%}{self._stale_repr()} elapsed={self.elapsed:.2f}s>"
        )
