"""The job list, ``GET /v5/{project_id}/jobs``: paging, flattening, job metadata.

The list is the bulk source: one page carries up to ``limit`` jobs, each with the
same ``job_action`` object the per-job ``/actions`` API returns, and parents carry
their ``children`` (each with its own ``job_action``). :func:`iter_jobs` pages through
it and yields one :class:`ListedJob` per job, children right after their parent.

Paging (DOMAIN.md 3.1): ``offset`` advances by the number of jobs received. It stops
on an empty page, on a short page unless ``total_count`` says more jobs remain (a
server may give fewer than ``limit``: the maximum is undocumented), or when the jobs
received reach ``total_count`` and every page agreed on that count. A list that
changes while it is read (a job created or deleted between pages) can shift entries
across pages: jobs are kept once each by ID, and a ``total_count`` that changed during
the scan raises a :class:`ListChangedWarning` (a job may have been skipped).

Trusting ``total_count``: when every page gave the same count and the jobs received
reach it, the scan ends without asking for the empty page after the last one (one
request fewer per scan; a whole project of up to ``limit`` jobs costs one request).
The price: a job created after the last page was served is not seen, as it would not
be a moment later either; one created during the scan changes the count, pages then
disagree, and the scan goes on to an empty page and warns. A server whose count is
too small (one that counted, say, only some of the jobs it pages through) would end
the scan early; Terraform's idiom (no ``total_count``, stop on the first empty page)
avoids that at the cost of the extra request. Without a ``total_count`` that is what
happens here too.

A page that brings no job not already seen can be a list growing during the scan
(reading on loses nothing) or a server that ignores ``offset`` (it would never end):
``total_count`` tells them apart, see :class:`_ScanGuard`; a scan stopped early ends
with a :class:`ListChangedWarning`. A refused ``limit`` (400 ``DRS.M00210``/``DRS.M00211`` on the
first page) is retried with :data:`FALLBACK_PAGE_SIZES`: 1000, then 500, 200, 100, 10.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .exceptions import APIError, ConfigurationError, MalformedResponseError
from .frame import str_categorical
from .responses import JobActions, parse_job_action, response_time
from .vocabulary import JOB_TYPES

if TYPE_CHECKING:
    from .client import DRSClient

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "FALLBACK_PAGE_SIZES",
    "JOB_LIST_COLUMNS",
    "META_COLUMNS",
    "ListChangedWarning",
    "ListedJob",
    "MAX_PAGES_FACTOR",
    "MAX_STALE_PAGES",
    "check_page_size",
    "iter_jobs",
    "job_types",
    "jobs_metadata",
    "list_jobs",
]

logger = logging.getLogger(__name__)

#: Jobs per list request. The documented default is 10; the maximum is not documented
#: (sibling v5 list APIs allow 1-1000) [I].
DEFAULT_PAGE_SIZE = 1000
#: Job metadata columns added to the tidy frame by ``fetch_fleet`` and ``enrich=True``.
META_COLUMNS = (
    "region", "job_name", "status", "job_type", "engine_type", "task_type", "charging_mode", "parent_id", "job_role",
)  # fmt: skip
#: Columns of :func:`list_jobs`, in order.
JOB_LIST_COLUMNS = (
    "project_id", "job_id", *META_COLUMNS, "job_mode", "net_type", "job_direction", "create_time", "description",
    "enterprise_project_id", "billing_tag", "is_multi_az", "node_role", "node_new_framework", "n_children",
    "current_action",
)  # fmt: skip
#: (column, field of the list entry) for the text metadata.
_TEXT_FIELDS = (
    ("job_name", "name"), ("status", "status"), ("job_type", "job_type"), ("engine_type", "engine_type"),
    ("task_type", "task_type"), ("charging_mode", "charging_mode"), ("job_role", "job_mode_role"),
    ("job_mode", "job_mode"), ("net_type", "net_type"), ("job_direction", "job_direction"),
    ("create_time", "create_time"), ("description", "description"),
    ("enterprise_project_id", "enterprise_project_id"), ("node_role", "node_role"),
)  # fmt: skip
_BOOL_FIELDS = ("billing_tag", "is_multi_az", "node_new_framework")


class ListChangedWarning(UserWarning):
    """The job list changed while it was paged through: a job may be missing; fetch again."""


def check_page_size(page_size: object) -> int:
    """``page_size`` if it is a positive integer, else ``ValueError``."""
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
        raise ValueError(f"page_size must be a positive integer, got {page_size!r}")
    return page_size


@dataclass
class ListedJob:
    """One job of the list: its fields, its parent (for a child) and its actions.

    ``actions`` is None when the entry's ``job_action`` could not be read; ``problem``
    then says why.
    """

    job_id: str
    fields: dict[str, Any]
    parent_id: str | None
    actions: JobActions | None
    problem: str | None = None
    n_children: int = 0


def job_types(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Normalise ``"sync,migration"``, a list, or None (all documented types) to a tuple.

    >>> job_types("sync, migration")
    ('sync', 'migration')
    """
    if value is None:
        return JOB_TYPES
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ConfigurationError(f"job types must be non-empty strings, got {item!r}")
        name = item.strip()
        if name not in JOB_TYPES:
            raise ConfigurationError(f"unknown job type {name!r}; documented types: {', '.join(JOB_TYPES)}")
        if name not in out:
            out.append(name)
    if not out:
        raise ConfigurationError("no job type given")
    return tuple(out)


@dataclass
class _Page:
    total_count: int | None
    jobs: list[Any]


def _parse_page(response: Any, what: str) -> _Page:
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedResponseError(f"HTTP {response.status_code} from {what}: body is not JSON ({type(exc).__name__})",
                                     status_code=response.status_code) from None
    if not isinstance(body, dict) or not isinstance(body.get("jobs", []), list):
        raise MalformedResponseError(f"HTTP {response.status_code} from {what}: no 'jobs' list in the body",
                                     status_code=response.status_code)
    total = body.get("total_count")
    return _Page(total if isinstance(total, int) and not isinstance(total, bool) else None, body.get("jobs") or [])


@dataclass(frozen=True)
class _Served:
    """What every job of one page shares: when and how the page was served."""

    fetched_at: datetime
    from_cache: bool
    request_id: str | None
    attempts: int
    stale: bool

    @classmethod
    def of(cls, response: Any, attempts: int) -> _Served:
        from .client import is_stale

        return cls(response_time(response), bool(getattr(response, "from_cache", False)),
                   response.headers.get("X-Request-Id"), attempts, is_stale(response))


def _entry(item: Any, parent_id: str | None, served: _Served, where: str) -> ListedJob:
    """A list entry as a ListedJob; a bad ``job_action`` is recorded, not raised.

    ``fields`` is the entry itself (``job_action`` and ``children`` are simply not read from it).
    """
    job_id = item.get("id") if isinstance(item, dict) else None
    if not isinstance(job_id, str) or not job_id.strip():
        label = f"<{where}: entry without an id>"
        return ListedJob(label, {}, parent_id, None, problem="list entry without a string 'id'")
    children = item.get("children")
    n_children = len(children) if isinstance(children, list) else 0
    try:
        available, unavailable, current = parse_job_action(item.get("job_action"))
    except MalformedResponseError as exc:
        return ListedJob(job_id, item, parent_id, None, problem=str(exc), n_children=n_children)
    actions = JobActions(
        job_id=job_id, available=available, unavailable=unavailable, current_action=current,
        fetched_at=served.fetched_at, from_cache=served.from_cache, request_id=served.request_id,
        attempts=served.attempts, stale=served.stale,
    )
    return ListedJob(job_id, item, parent_id, actions, n_children=n_children)


def iter_jobs(
    client: DRSClient,
    job_type: str,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    filters: Mapping[str, str] | None = None,
    refresh: bool = False,
) -> Iterator[ListedJob]:
    """Yield every job of one ``job_type`` (children after their parent), page by page.

    Parameters
    ----------
    client : DRSClient
        The project to list.
    job_type : str
        One documented job type (the API takes one per request).
    page_size : int
        ``limit`` of each request; smaller ones are tried if the first page refuses it.
    filters : mapping, optional
        Extra query parameters (``status``, ``name``, ``engine_type``, ``sort_key``...),
        already rendered as strings.
    refresh : bool
        Ask the API even when a page is cached fresh.

    Raises
    ------
    RequestError
        The client's error when a page fails after its retries.
    """
    check_page_size(page_size)
    path = f"/v5/{client.project_id}/jobs"
    base = [("job_type", job_type), *((k, str(v)) for k, v in (filters or {}).items() if v is not None)]
    offset, seen, totals = 0, set(), []  # totals: each distinct total_count, in order (None: not given)
    guard = _ScanGuard(page_size)
    while True:
        query = [*base, ("offset", str(offset)), ("limit", str(page_size))]
        try:
            page, response, attempts = client.call(path, query, parse=_parse_page, refresh=refresh)
        except APIError as exc:
            smaller = _smaller_page(exc, page_size)
            if offset or smaller is None:
                raise
            logger.warning("the job list refused limit=%d (%s); using limit=%d", page_size, exc.error_code, smaller)
            page_size = smaller
            continue
        where = f"list job_type={job_type} offset={offset}"
        served = _Served.of(response, attempts)
        # before this page's entries are added to seen; an entry without an ID counts as new
        fresh = sum(not (isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"] in seen)
                    for item in page.jobs)
        for i, item in enumerate(page.jobs):
            entries = [_entry(item, None, served, f"{where} item {i}")]
            children = item.get("children") if isinstance(item, dict) else None
            for child in children if isinstance(children, list) else ():
                entries.append(_entry(child, entries[0].job_id, served, f"{where} item {i} child"))
            for entry in entries:
                if entry.job_id in seen:
                    continue
                seen.add(entry.job_id)
                yield entry
        offset += len(page.jobs)
        logger.debug("%s: %d jobs (total_count %s)", where, len(page.jobs), page.total_count)
        if page.total_count not in totals:
            totals.append(page.total_count)
        more = page.total_count is not None and offset < page.total_count  # the server says more remain
        if not page.jobs or (len(page.jobs) < page_size and not more):
            break
        reason = guard.stop(offset - len(page.jobs), len(page.jobs), fresh, page.total_count)
        if reason:
            warnings.warn(
                f"the job list (job_type={job_type}) page at offset {offset - len(page.jobs)} {reason}: stopped "
                f"after {len(seen)} jobs" + (f" of total_count {page.total_count}" if page.total_count is not None else "")
                + "; some jobs may be missing",
                ListChangedWarning, stacklevel=2,
            )
            break
        if totals == [page.total_count] and page.total_count is not None and not more:
            break
    counts = [t for t in totals if t is not None]
    if len(counts) > 1:
        warnings.warn(
            f"the job list (job_type={job_type}) changed while it was read (total_count "
            f"{' then '.join(map(str, counts))}): a job may be missing; fetch again for a consistent list",
            ListChangedWarning, stacklevel=2,
        )


#: Pages in a row that bring no new job before a scan without ``total_count`` gives up.
MAX_STALE_PAGES = 3
#: Pages a scan may read: this many times the pages the first ``total_count`` needs, or
#: (without a count) this many times 100, whatever the list does meanwhile.
MAX_PAGES_FACTOR = 100


class _ScanGuard:
    """When a scan must stop early: a server ignoring ``offset``, or a list that never ends.

    Offset paging over a list sorted newest first is safe while jobs are only created:
    they push the others back, so some pages hold only jobs already seen, and reading on
    loses nothing. A server that ignores ``offset`` looks the same but never ends. They
    are told apart by ``total_count``, taken as the first page gave it (growth before a
    count was given is invisible, so a scan whose first page has none never uses one):

    * a page starting at or past the count that still holds jobs: ``offset`` is ignored;
    * with G jobs more than at the first page, a page ending past the jobs seen plus G
      must hold an unseen one; two such pages in a row holding none (one could be jobs
      deleted as fast as others are created): ``offset`` is ignored;
    * growth explains at most ``ceil(G / limit) + 1`` pages in a row with nothing new;
      without a count, :data:`MAX_STALE_PAGES` are allowed;
    * whatever the list does, a scan reads at most :data:`MAX_PAGES_FACTOR` times the
      pages its first count needs (times 100 without one).

    What this cannot tell from a server ignoring ``offset``: a full page of jobs created
    *and* as many deleted between two requests, twice in a row (the count stays put).
    At the default ``limit`` of 1000 that is 2,000 changes within seconds.
    """

    def __init__(self, page_size: int) -> None:
        self.page_size = page_size
        self.pages = self.listed = self.stale = self.suspect = 0
        self.first_total: int | None = None
        self.limit = 0  # pages allowed, set from the first page's count

    def stop(self, start: int, n_page: int, fresh: int, total: int | None) -> str | None:
        """Why the scan must stop after this page (``start``: its offset), or None to go on."""
        self.pages += 1
        self.listed += fresh
        if self.pages == 1:
            self.first_total = total
            self.limit = MAX_PAGES_FACTOR * (total // self.page_size + 1 if total is not None else 100)
        counted = self.first_total is not None and total is not None
        self.stale = 0 if fresh else self.stale + 1
        growth = max(total - self.first_total, 0) if counted else 0
        if counted and start > 0 and n_page and start >= total:
            return "starts past total_count and still holds jobs (does the server ignore offset?)"
        if self.stale and counted and start + n_page - growth > self.listed:
            self.suspect += 1
            if self.suspect >= 2:
                return "brought no job not already seen, again (does the server ignore offset?)"
        else:
            self.suspect = 0
        allowed = -(-growth // self.page_size) + 2 if counted else MAX_STALE_PAGES
        if self.stale >= allowed:
            return f"brought no job not already seen ({self.stale} pages in a row)"
        if self.pages >= self.limit:
            return f"is page {self.pages:,}, more than this list can need"
        return None


#: Page sizes tried, in order, when the API refuses a larger ``limit`` (its maximum is undocumented):
#: after 1000, 500, 200, 100 and 10.
FALLBACK_PAGE_SIZES = (500, 200, 100, 10)


def _smaller_page(exc: APIError, page_size: int) -> int | None:
    """The next page size to try after a refused ``limit`` (400 DRS.M00211/M00210), or None."""
    if exc.status_code != 400 or exc.error_code not in ("DRS.M00211", "DRS.M00210"):
        return None
    return next((size for size in FALLBACK_PAGE_SIZES if size < page_size), None)


def _text(values: list[Any]) -> pd.Categorical:
    """Strings as a categorical with string categories; empty, None and non-strings are NA."""
    # factorize first (in C), then treat the few distinct non-strings and "" as NA
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)  # an ndarray: pandas 2 warns on others
    keep = np.array([isinstance(u, str) and u != "" for u in uniques], dtype=bool)
    if not keep.all():
        remap = np.where(keep, np.cumsum(keep) - 1, -1)
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
        uniques = [u for u, k in zip(uniques, keep) if k]
    return str_categorical(codes.astype(np.int32), [str(u) for u in uniques])


def jobs_metadata(jobs: list[ListedJob], *, project_id: str, region: str | None) -> dict[str, pd.Categorical]:
    """The :data:`META_COLUMNS` of ``jobs``, one categorical per column."""
    n = len(jobs)
    out = {"region": _text([region] * n)}
    for column, key in _TEXT_FIELDS:
        if column in META_COLUMNS:
            out[column] = _text([job.fields.get(key) for job in jobs])
    out["parent_id"] = _text([job.parent_id for job in jobs])
    return {name: out[name] for name in META_COLUMNS}


def _bools(values: list[Any]) -> pd.arrays.BooleanArray:
    return pd.array([v if isinstance(v, bool) else None for v in values], dtype="boolean")


def jobs_frame(jobs: list[ListedJob], *, project_id: str, region: str | None) -> pd.DataFrame:
    """One row per listed job with :data:`JOB_LIST_COLUMNS`."""
    data: dict[str, Any] = {
        "project_id": _text([project_id] * len(jobs)),
        "job_id": pd.array([job.job_id for job in jobs], dtype="string"),
    }
    data.update(jobs_metadata(jobs, project_id=project_id, region=region))
    for column, key in _TEXT_FIELDS:
        if column not in data:
            data[column] = _text([job.fields.get(key) for job in jobs])
    for key in _BOOL_FIELDS:
        data[key] = _bools([job.fields.get(key) for job in jobs])
    data["n_children"] = np.array([job.n_children for job in jobs], dtype=np.int64)
    data["current_action"] = _text([job.actions.current_action if job.actions else None for job in jobs])
    for name in ("job_name", "create_time", "description", "parent_id"):
        data[name] = pd.array(np.asarray(data[name]), dtype="string") if len(jobs) else pd.array([], dtype="string")
    return pd.DataFrame({name: data[name] for name in JOB_LIST_COLUMNS})


def list_jobs(
    client: DRSClient,
    job_type: str | Iterable[str] | None = None,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    **filters: str | None,
) -> pd.DataFrame:
    """Every job of the given types as a DataFrame of metadata (see :data:`JOB_LIST_COLUMNS`).

    Parameters
    ----------
    client : DRSClient
        The project to list.
    job_type : str or list, optional
        ``"sync"``, ``"sync,migration"`` or a list; default every documented type.
    page_size : int
        ``limit`` per request (smaller ones are tried if refused).
    **filters
        As for :meth:`DRSClient.list_jobs`. Filters select parent jobs: their children
        come along whatever their own ``status``.

    Returns
    -------
    DataFrame
        One row per job (children included, after their parent), first listing kept.
    """
    jobs: list[ListedJob] = []
    seen: set[str] = set()
    for kind in job_types(job_type):
        for job in iter_jobs(client, kind, page_size=page_size, filters=_filters(filters)):
            if job.job_id not in seen:
                seen.add(job.job_id)
                jobs.append(job)
    return jobs_frame(jobs, project_id=client.project_id, region=client.region)


_FILTERS = ("status", "name", "engine_type", "net_type", "enterprise_project_id", "sort_key", "sort_dir", "instance_ip")


def _filters(filters: Mapping[str, Any]) -> dict[str, str]:
    """Check and render list filters; lists become comma-separated values."""
    out = {}
    for key, value in filters.items():
        if key not in _FILTERS:
            raise TypeError(f"unknown list filter {key!r}; known: {', '.join(_FILTERS)}")
        if value is None:
            continue
        if not isinstance(value, str):
            items = list(value) if isinstance(value, Iterable) and not isinstance(value, (bytes, bytearray)) else None
            if items is None or not all(isinstance(v, str) for v in items):
                raise TypeError(f"list filter {key!r} must be a string or a list of strings, got {value!r:.80}")
            value = ",".join(items)
        out[key] = value
    return out
