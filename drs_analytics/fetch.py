"""Fleet fetch: the actions of many jobs, concurrently, through one cached client."""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import pandas as pd

from .exceptions import (
    AuthenticationError,
    DRSAnalyticsError,
    InvalidIDError,
    PermissionDeniedError,
    RequestError,
    TransportError,
)
from .client import cancel_scope
from .frame import build_frames
from .responses import JobActions
from .result import ERRORS_COLUMNS, FetchResult, error_record, errors_frame, input_label
from .validation import id_problem

if TYPE_CHECKING:
    from .client import DRSClient

__all__ = [
    "ABORT_AFTER", "ERRORS_COLUMNS", "ActionConflictWarning", "FetchAborted", "FetchResult", "collect_actions",
    "fetch_actions", "warn_conflicts",
]

logger = logging.getLogger(__name__)

#: Fetches of at least this many jobs show a progress bar unless ``progress=False``.
PROGRESS_MIN_JOBS = 50
#: Seconds an interrupted fetch waits for requests already in flight.
CANCEL_GRACE = 5.0
#: After this many failures in a row that will fail every job (401, 403, no connection)
#: and no success at all, the remaining jobs are not attempted.
ABORT_AFTER = 20
_FLEET_WIDE = (AuthenticationError, PermissionDeniedError, TransportError)


class ActionConflictWarning(UserWarning):
    """A job listed an action as both available and unavailable (kept as unavailable)."""


class FetchAborted(DRSAnalyticsError):
    """A job not attempted because the fetch was failing for every job (see :data:`ABORT_AFTER`)."""


class _Breaker:
    """Stops a fetch that can only fail: ABORT_AFTER fleet-wide failures and no success."""

    def __init__(self, limit: int) -> None:
        self.limit, self.failures, self.succeeded = limit, 0, False
        self.cause: RequestError | None = None
        self._lock = threading.Lock()

    def record(self, outcome: object) -> None:
        with self._lock:
            if isinstance(outcome, JobActions):
                self.succeeded = True
            elif isinstance(outcome, _FLEET_WIDE) and not self.succeeded:
                self.failures += 1
                self.cause = outcome

    @property
    def open(self) -> bool:
        return not self.succeeded and self.failures >= self.limit

    def aborted(self) -> FetchAborted:
        return FetchAborted(f"not attempted: the first {self.failures} jobs all failed ({self.cause})")


def _distinct(job_ids: Iterable[str]) -> dict[str, object]:
    """Input label -> original value, first occurrence first (unhashable values included)."""
    if isinstance(job_ids, (str, bytes)):
        raise TypeError("job_ids must be a list of job IDs, not a single string; wrap it: [job_id]")
    if isinstance(job_ids, pd.DataFrame):
        raise TypeError("job_ids must be a list or Series of job IDs, not a DataFrame; pick the column")
    try:
        values = list(job_ids)
    except TypeError:
        raise TypeError(f"job_ids must be an iterable of job IDs, got {type(job_ids).__name__}") from None
    distinct: dict[str, object] = {}
    for value in values:
        distinct.setdefault(input_label(value), value)
    return distinct


def _progress(total: int, progress: bool | None):
    if progress is False or (progress is None and total < PROGRESS_MIN_JOBS):
        return None
    from tqdm.auto import tqdm

    # disable=None: no bar when stderr is not a terminal (a notebook still shows one)
    return tqdm(total=total, desc="DRS actions", unit="job", leave=False, disable=None if progress is None else False)


def _fetch_one(client: DRSClient, job_id: str, breaker: _Breaker, cancel: threading.Event,
               refresh: bool) -> JobActions | DRSAnalyticsError:
    if breaker.open:
        return breaker.aborted()
    try:
        with cancel_scope(cancel):  # ends retry waits and pacer waits
            outcome: JobActions | DRSAnalyticsError = client.get_actions(job_id, refresh=refresh)
    except RequestError as exc:
        outcome = exc
    except Exception as exc:  # a bug or a cache failure must cost one job, not the fleet
        logger.warning("unexpected %s while fetching %s: %s", type(exc).__name__, job_id, exc)
        outcome = RequestError(f"unexpected {type(exc).__name__}: {exc}")
    breaker.record(outcome)
    return outcome


def _run(client: DRSClient, job_ids: list[str], max_workers: int, progress: bool | None, refresh: bool) -> list:
    """Fetch ``job_ids`` on a thread pool; outcomes in input order.

    An interrupt (Ctrl-C, a notebook's stop button) or any other exception in the
    calling thread cancels the jobs not started, ends retry and pacer waits at once
    (a request whose wait was cancelled is not sent), waits up to
    :data:`CANCEL_GRACE` seconds for requests in flight, and re-raises. Answers already
    received stay in the cache, so a rerun only fetches the rest.
    """
    bar = _progress(len(job_ids), progress)
    breaker = _Breaker(ABORT_AFTER)
    cancel = threading.Event()
    outcomes: list = [None] * len(job_ids)
    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="drs-fetch")
    try:
        futures = {pool.submit(_fetch_one, client, job_id, breaker, cancel, refresh): i
                   for i, job_id in enumerate(job_ids)}
        for future in as_completed(futures):
            outcomes[futures[future]] = future.result()
            if bar is not None:
                bar.update(1)
    except BaseException:
        cancel.set()
        pool.shutdown(wait=False, cancel_futures=True)
        _join(pool, CANCEL_GRACE)
        logger.info("fetch interrupted: %d of %d jobs done", sum(o is not None for o in outcomes), len(job_ids))
        raise
    finally:
        if bar is not None:
            bar.close()
    pool.shutdown(wait=True)
    return outcomes


def _join(pool: ThreadPoolExecutor, timeout: float) -> None:
    """Wait up to ``timeout`` seconds for the pool's threads to end."""
    deadline = time.monotonic() + timeout
    for thread in list(getattr(pool, "_threads", ())):
        thread.join(max(0.0, deadline - time.monotonic()))


def _workers(max_workers: int, client: DRSClient) -> int:
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise ValueError(f"max_workers must be a positive integer, got {max_workers!r}")
    pool = client.settings.max_connections
    if max_workers > pool:
        warnings.warn(f"max_workers={max_workers} is more than the client's connection pool ({pool}); "
                      f"using {pool} (raise DRSClient(max_connections=...) for more)", stacklevel=3)
    return min(max_workers, pool)


def warn_conflicts(conflicts: pd.DataFrame, stacklevel: int = 3) -> None:
    """Warn once about actions listed as both available and unavailable."""
    if len(conflicts):
        warnings.warn(
            f"{len(conflicts)} action(s) of {conflicts['job_id'].nunique()} job(s) were listed as both "
            "available and unavailable; kept as unavailable (see result.conflicts)",
            ActionConflictWarning,
            stacklevel=stacklevel,
        )


def collect_actions(
    job_ids: Iterable[str],
    *,
    client: DRSClient,
    max_workers: int = 16,
    progress: bool | None = None,
    refresh: bool = False,
) -> tuple[dict[str, object], list[JobActions], list[dict]]:
    """Fetch distinct jobs: (input label -> value, fetched jobs, error records in input order)."""
    client.check_open()
    workers = _workers(max_workers, client)
    distinct = _distinct(job_ids)
    errors: list[dict] = []
    valid: list[str] = []
    for label, value in distinct.items():
        problem = id_problem(value)
        if problem is None:
            valid.append(label)
        else:
            errors.append(error_record(label, InvalidIDError(f"invalid job ID {label!r:.80}: {problem}")))

    outcomes = _run(client, valid, workers, progress, refresh) if valid else []
    fetched = [o for o in outcomes if isinstance(o, JobActions)]
    errors.extend(error_record(j, o) for j, o in zip(valid, outcomes) if not isinstance(o, JobActions))
    order = {label: i for i, label in enumerate(distinct)}
    errors.sort(key=lambda e: order[e["job_id"]])
    return distinct, fetched, errors


def fetch_actions(
    job_ids: Iterable[str],
    *,
    client: DRSClient,
    max_workers: int = 16,
    progress: bool | None = None,
    enrich: bool = False,
    enrich_job_types: str | Iterable[str] | None = None,
    refresh: bool = False,
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
        Concurrent requests (at most the client's ``max_connections``).
    progress : bool, optional
        Show a tqdm progress bar; default: for 50 jobs or more, in a notebook or terminal.
    enrich : bool
        Join job metadata from the job list (``GET /v5/{project_id}/jobs``) onto the
        frame and ``.jobs``: the columns of :data:`~drs_analytics.listing.META_COLUMNS`.
        Costs one list scan per job type (about N / 1000 requests each); jobs the list
        does not show get NA.
    enrich_job_types : str or list, optional
        Job types the list scan covers (default: all documented ones).
    refresh : bool
        Ask the API for every job even when a fresh answer is cached (the new answers
        replace the cached ones); with ``enrich``, the job list too.

    Returns
    -------
    FetchResult
        Every distinct input job is in exactly one of ``.jobs`` and ``.errors``.

    Warns
    -----
    ActionConflictWarning
        When a job lists an action as both available and unavailable.

    Notes
    -----
    When the first :data:`ABORT_AFTER` jobs all fail in a way that will fail every
    job (401, 403, no connection), the rest are not attempted; they are recorded
    as ``FetchAborted`` errors, so nothing is lost and a wrong token costs seconds.

    Interrupting (Ctrl-C, a notebook's stop button) stops promptly: jobs not started are
    cancelled, retry waits end, and ``KeyboardInterrupt`` propagates. Every answer
    received before is in the cache, so running the same call again fetches only the
    rest.
    """
    started, t0 = datetime.now(timezone.utc), time.perf_counter()
    distinct, fetched, errors = collect_actions(job_ids, client=client, max_workers=max_workers, progress=progress,
                                                refresh=refresh)
    meta = None
    if enrich:
        from .fleet import enrichment

        meta = enrichment(client, fetched, job_type=enrich_job_types, refresh=refresh)
    frame, jobs, conflicts = build_frames(client.project_id, fetched, meta)
    warn_conflicts(conflicts)
    result = FetchResult(frame, jobs, errors_frame(errors), conflicts, client.project_id, len(distinct),
                         started_at=started, elapsed=time.perf_counter() - t0)
    logger.info("%r", result)
    return result
