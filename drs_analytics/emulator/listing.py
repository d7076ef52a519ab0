"""``GET /v5/{project_id}/jobs`` (ListJobs): query checks, filters, sort and paging.

Documented in DOMAIN.md 3.1 and 7.4 [D unless marked]. :func:`parse_query`
turns the query pairs into a :class:`ListQuery` or raises :class:`ListError`
(400, ``DRS.M00201``/``M00202``/``M00210``/``M00211``); :func:`select` picks
one page of top-level jobs; :func:`job_object` renders one ``JobListResp``
(or ``ChildrenJobListResp``) entry around the ``job_action`` it is given, so
that the app renders actions the one way ``/actions`` does.

Undocumented choices [I], all here:

* Only top-level jobs (``parent_id is None``) are listed and counted; filters
  look at them only; children ride along in their parent's ``children``.
* ``name``: up to 10 comma-separated terms, each matching a job whose ID
  equals it or whose name contains it (case-sensitive); more terms are
  ``DRS.M00202``.
* ``status``: a comma list; blank terms are ignored; a blank value (like a
  blank ``engine_type``, ``net_type`` or ``enterprise_project_id``) filters nothing.
* ``instance_ids`` (at most 10) and ``instance_ip``: the synthetic jobs have
  no database instances, so a non-blank value matches no job.
* A blank ``offset`` or ``limit`` means the default; the last of repeated
  parameters wins; unknown parameters are ignored.
* Ties of the sort key are broken by ascending job ID, whatever ``sort_dir``,
  so that pages never overlap.
* A job without children carries no ``children`` key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from .fleet import Job

__all__ = [
    "JOB_FIELDS",
    "JOB_TYPES",
    "MAX_NAME_TERMS",
    "SORT_KEYS",
    "ListError",
    "ListQuery",
    "job_object",
    "parse_query",
    "render_page",
    "select",
    "top_level_by_id",
]

logger = logging.getLogger(__name__)

#: Valid ``job_type`` values [D, SDK-v5 ``list_jobs_request.py``].
JOB_TYPES: tuple[str, ...] = ("migration", "sync", "cloudDataGuard", "replay")
#: ``sort_key`` -> the job field it sorts (``pay_mode`` sorts the charging mode) [D; mapping I].
SORT_KEYS: dict[str, str] = {
    "name": "name",
    "status": "status",
    "create_time": "create_time",
    "net_type": "net_type",
    "job_direction": "job_direction",
    "pay_mode": "charging_mode",
}
SORT_DIRS: tuple[str, ...] = ("desc", "asc")
MAX_NAME_TERMS = 10
MAX_INSTANCE_IDS = 10  # [D, list_jobs_request.py: "at most 10"]
#: The fields of a ``JobListResp`` before ``job_action`` and ``children``, in the SDK's order [D].
JOB_FIELDS: tuple[str, ...] = (
    "id", "name", "status", "description", "create_time", "engine_type", "net_type", "charging_mode",
    "billing_tag", "job_direction", "job_type", "task_type", "enterprise_project_id", "job_mode",
    "job_mode_role", "is_multi_az", "node_role", "node_new_framework",
)  # fmt: skip
_job_fields = attrgetter(*JOB_FIELDS)


class ListError(ValueError):
    """A rejected ListJobs query: HTTP 400 with a DRS error code and the ``%s`` of its message."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class ListQuery:
    """A checked ListJobs query."""

    job_type: str
    statuses: frozenset[str] = frozenset()
    names: tuple[str, ...] = ()
    exact: tuple[tuple[str, str], ...] = ()
    no_match: bool = False
    offset: int = 0
    limit: int = 10
    sort_field: str = "create_time"
    descending: bool = True


def _page_number(params: dict[str, str], name: str, default: int, low: int) -> int:
    raw = params.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not raw.isascii() or int(raw) < low:
        raise ListError("DRS.M00210", f"{name} must be an integer >= {low}")
    return int(raw)


def _terms(value: str) -> list[str]:
    return [term.strip() for term in value.split(",") if term.strip()]


def parse_query(pairs: Iterable[tuple[str, str]], *, default_limit: int, max_limit: int) -> ListQuery:
    """Check the query parameters of a ListJobs request.

    Parameters
    ----------
    pairs : iterable of (name, value)
        The decoded query (``urllib.parse.parse_qsl(..., keep_blank_values=True)``).
    default_limit, max_limit : int
        ``limit`` when absent, and its largest accepted value.

    Returns
    -------
    ListQuery

    Raises
    ------
    ListError
        ``DRS.M00201`` without ``job_type``; ``DRS.M00202`` for an invalid ``job_type``,
        ``sort_key``, ``sort_dir`` or too many ``name``/``instance_ids`` terms;
        ``DRS.M00210`` for a malformed ``offset``/``limit``; ``DRS.M00211`` for ``limit``
        above ``max_limit``.
    """
    params = dict(pairs)
    job_type = params.get("job_type", "").strip()
    if not job_type:
        raise ListError("DRS.M00201", "job_type")
    if job_type not in JOB_TYPES:
        raise ListError("DRS.M00202", "job_type")
    offset = _page_number(params, "offset", 0, 0)
    limit = _page_number(params, "limit", default_limit, 1)
    if limit > max_limit:
        raise ListError("DRS.M00211", "limit")
    sort_key = params.get("sort_key", "").strip() or "create_time"
    sort_dir = params.get("sort_dir", "").strip() or "desc"
    if sort_key not in SORT_KEYS:
        raise ListError("DRS.M00202", "sort_key")
    if sort_dir not in SORT_DIRS:
        raise ListError("DRS.M00202", "sort_dir")
    names = _terms(params.get("name", ""))
    if len(names) > MAX_NAME_TERMS:
        raise ListError("DRS.M00202", "name")
    instance_ids = _terms(params.get("instance_ids", ""))
    if len(instance_ids) > MAX_INSTANCE_IDS:
        raise ListError("DRS.M00202", "instance_ids")
    exact = tuple(
        (field, params[field].strip())
        for field in ("engine_type", "net_type", "enterprise_project_id")
        if params.get(field, "").strip()
    )
    return ListQuery(
        job_type=job_type,
        statuses=frozenset(_terms(params.get("status", ""))),
        names=tuple(names),
        exact=exact,
        no_match=bool(instance_ids or params.get("instance_ip", "").strip()),
        offset=offset,
        limit=limit,
        sort_field=SORT_KEYS[sort_key],
        descending=sort_dir == "desc",
    )


def _filter(jobs: Sequence[Job], query: ListQuery) -> list[Job]:
    """The jobs matching every filter of ``query``, in the given order (one cheap pass per filter)."""
    found = [job for job in jobs if job.job_type == query.job_type]
    if query.statuses:
        found = [job for job in found if job.status in query.statuses]
    for field, value in query.exact:
        found = [job for job in found if getattr(job, field) == value]
    if query.names:
        names = query.names
        found = [job for job in found if any(term == job.id or term in job.name for term in names)]
    return found


def select(jobs: Sequence[Job], query: ListQuery) -> tuple[int, list[Job]]:
    """The number of matching top-level jobs and the requested page of them.

    Parameters
    ----------
    jobs : sequence of Job
        Top-level jobs, sorted by ID (the tie-break order).
    query : ListQuery
        The checked query.

    Returns
    -------
    total_count : int
        Matches, independent of paging.
    page : list of Job
        At most ``query.limit`` matches from ``query.offset`` on.
    """
    if query.no_match:
        return 0, []
    found = _filter(jobs, query)
    found.sort(key=attrgetter(query.sort_field), reverse=query.descending)  # stable: ties stay by ID
    return len(found), found[query.offset : query.offset + query.limit]


def job_object(job: Job, job_action: dict[str, Any], children: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One ``JobListResp`` entry (a ``ChildrenJobListResp`` when ``children`` is None)."""
    entry: dict[str, Any] = dict(zip(JOB_FIELDS, _job_fields(job)))
    entry["job_action"] = job_action
    if children:
        entry["children"] = children
    return entry


def top_level_by_id(jobs: Iterable[Job]) -> list[Job]:
    """The jobs without a parent, sorted by ID (what :func:`select` expects)."""
    return sorted((job for job in jobs if job.parent_id is None), key=lambda job: job.id)


def render_page(
    page: Iterable[Job], jobs: dict[str, Job], job_action: Callable[[Job], dict[str, Any]]
) -> list[dict[str, Any]]:
    """The ``jobs`` array of a page: each job with its ``job_action`` and its children's."""
    out = []
    for job in page:
        kids = [jobs[child_id] for child_id in job.children if child_id in jobs]
        children = [job_object(kid, job_action(kid)) for kid in kids]
        out.append(job_object(job, job_action(job), children))
    return out
