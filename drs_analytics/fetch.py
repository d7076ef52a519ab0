"""Fleet fetch: the actions of many jobs, concurrently, through one cached client."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import pandas as pd

from .exceptions import RequestError
from .frame import action_summary, availability_matrix, build_frames
from .responses import JobActions
from .validation import id_problem

if TYPE_CHECKING:
    from .client import DRSClient

__all__ = ["ERRORS_COLUMNS", "ActionConflictWarning", "FetchResult", "fetch_actions"]

logger = logging.getLogger(__name__)

#: Columns of ``FetchResult.errors``.
ERRORS_COLUMNS = ("job_id", "status_code", "error_code", "error_msg", "attempts", "error_type", "request_id")

#: Fetches of at least this many jobs show a progress bar unless ``progress=False``.
PROGRESS_MIN_JOBS = 50


class ActionConflictWarning(UserWarning):
    """A job listed an action as both available and unavailable (kept as unavailable)."""


@dataclass
class FetchResult:
    """What :func:`fetch_actions` returns.

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
        """Per-action counts and rates (see :func:`action_summary`)."""
        return action_summary(self.frame)

    @property
    def from_cache_share(self) -> float:
        """Share of fetched jobs served from the cache."""
        return float(self.jobs["from_cache"].mean()) if len(self.jobs) else 0.0

    def __repr__(self) -> str:
        return (
            f"<FetchResult project={self.project_id} jobs={len(self.jobs)} errors={len(self.errors)} "
            f"rows={len(self.frame)} actions={self.frame['action'].nunique()} "
            f"from_cache={self.from_cache_share:.0%} elapsed={self.elapsed:.2f}s>"
        )


def _job_list(job_ids: Iterable[str]) -> list:
    if isinstance(job_ids, (str, bytes)):
        raise TypeError("job_ids must be a list of job IDs, not a single string; wrap it: [job_id]")
    if isinstance(job_ids, pd.DataFrame):
        raise TypeError("job_ids must be a list or Series of job IDs, not a DataFrame; pick the column")
    try:
        return list(job_ids)
    except TypeError:
        raise TypeError(f"job_ids must be an iterable of job IDs, got {type(job_ids).__name__}") from None


def _error_record(job_id: object, exc: BaseException) -> dict:
    return {
        "job_id": job_id,
        "status_code": getattr(exc, "status_code", None),
        "error_code": getattr(exc, "error_code", None),
        "error_msg": str(exc),
        "attempts": getattr(exc, "attempts", 0),
        "error_type": type(exc).__name__,
        "request_id": getattr(exc, "request_id", None),
    }


def _errors_frame(records: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(ERRORS_COLUMNS))
    frame["job_id"] = frame["job_id"].map(str).astype(str) if len(frame) else frame["job_id"].astype(str)
    frame["status_code"] = pd.array(frame["status_code"], dtype="Int64")
    frame["attempts"] = frame["attempts"].astype("int64")
    for col in ("error_code", "error_msg", "error_type", "request_id"):
        frame[col] = frame[col].astype("string")
    return frame


def _progress(total: int, progress: bool | None):
    if progress is False or (progress is None and total < PROGRESS_MIN_JOBS):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="DRS actions", unit="job", leave=False)


def _fetch_one(client: DRSClient, job_id: str) -> JobActions | RequestError:
    try:
        return client.get_actions(job_id)
    except RequestError as exc:
        return exc


def _run(client: DRSClient, job_ids: list[str], max_workers: int, progress: bool | None) -> list:
    bar = _progress(len(job_ids), progress)
    outcomes: list = []
    try:
        with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="drs-fetch") as pool:
            for outcome in pool.map(lambda j: _fetch_one(client, j), job_ids):
                outcomes.append(outcome)
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return outcomes


def fetch_actions(
    job_ids: Iterable[str],
    *,
    client: DRSClient,
    max_workers: int = 16,
    progress: bool | None = None,
) -> FetchResult:
    """Fetch the actions of many jobs into a tidy :class:`FetchResult`.

    Parameters
    ----------
    job_ids : iterable of str
        Job IDs (list, Series, Index...). Duplicates are fetched once; invalid IDs
        become error records without a request.
    client : DRSClient
        The configured (and usually cached) client.
    max_workers : int
        Concurrent requests.
    progress : bool, optional
        Show a tqdm progress bar; default: only for fetches of 50 jobs or more.

    Returns
    -------
    FetchResult
        Every distinct input job is in exactly one of ``.jobs`` and ``.errors``.

    Warns
    -----
    ActionConflictWarning
        When a job lists an action as both available and unavailable.
    """
    if not isinstance(max_workers, int) or max_workers < 1:
        raise ValueError(f"max_workers must be a positive integer, got {max_workers!r}")
    started, t0 = datetime.now(timezone.utc), time.perf_counter()
    distinct = list(dict.fromkeys(_job_list(job_ids)))
    errors: list[dict] = []
    valid: list[str] = []
    for job_id in distinct:
        problem = id_problem(job_id)
        if problem is None:
            valid.append(job_id)
        else:
            errors.append({**_error_record(job_id, ValueError()), "error_type": "InvalidIDError",
                           "error_msg": f"invalid job ID {job_id!r:.80}: {problem}"})

    outcomes = _run(client, valid, max_workers, progress) if valid else []
    fetched = [o for o in outcomes if isinstance(o, JobActions)]
    errors.extend(_error_record(j, o) for j, o in zip(valid, outcomes) if not isinstance(o, JobActions))
    frame, jobs, conflicts = build_frames(client.project_id, fetched)
    if len(conflicts):
        warnings.warn(
            f"{len(conflicts)} action(s) of {conflicts['job_id'].nunique()} job(s) were listed as both "
            "available and unavailable; kept as unavailable (see result.conflicts)",
            ActionConflictWarning,
            stacklevel=2,
        )
    errors_frame = _errors_frame(_in_input_order(errors, distinct))
    result = FetchResult(frame, jobs, errors_frame, conflicts, client.project_id, len(distinct),
                         started_at=started, elapsed=time.perf_counter() - t0)
    logger.info("%r", result)
    return result


def _in_input_order(errors: list[dict], distinct: list) -> list[dict]:
    position = {job_id: i for i, job_id in enumerate(distinct)}
    return sorted(errors, key=lambda e: position[e["job_id"]])
