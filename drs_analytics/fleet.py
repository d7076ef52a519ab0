"""Whole fleets: every job of the chosen types in one or many projects and regions.

Two sources of the same ``job_action`` data:

* ``source="list"`` (default, bulk): ``GET /v5/{project_id}/jobs`` pages of up to
  1,000 jobs carry each job's actions and metadata, children included. A project of
  N jobs costs about N / 1000 requests per job type.
* ``source="actions"``: the list gives the job IDs and metadata, then each job's
  actions come from ``GET /v5/{project_id}/jobs/{job_id}/actions``, the API the
  product page names as the authority on a job's actions. N more requests.

Use the list for fleet overviews and audits; use ``actions`` (or
:func:`~drs_analytics.fetch_actions`) to confirm what a particular job allows right
now before acting on it.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from .client import DRSClient
from .exceptions import DRSAnalyticsError, MalformedResponseError, RequestError
from .fetch import collect_actions, warn_conflicts
from .frame import build_frames, str_categorical
from .listing import (
    DEFAULT_PAGE_SIZE, META_COLUMNS, ListedJob, _filters, check_page_size, iter_jobs, job_types, jobs_metadata,
)  # fmt: skip
from .result import FetchResult, error_record, errors_frame
from .targets import Target, distinct_targets, target_client, to_target

__all__ = ["SOURCES", "EnrichmentWarning", "enrichment", "fetch_fleet"]

logger = logging.getLogger(__name__)

SOURCES = ("list", "actions")
#: Extra columns of ``FetchResult.errors`` from :func:`fetch_fleet`.
FLEET_ERROR_COLUMNS = ("project_id", "region", "target")


class EnrichmentWarning(UserWarning):
    """Job metadata could not be read for some jobs (their metadata columns are NA)."""


@dataclass
class _Part:
    """What one target gave: fetched jobs, their list entries, error records."""

    project_id: str
    region: str | None
    target: str = ""
    records: list = field(default_factory=list)
    listed: list[ListedJob | None] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)


def _scan(client: DRSClient, kinds: tuple[str, ...], page_size: int, filters: dict, part: _Part,
          refresh: bool = False) -> list[ListedJob]:
    """Every listed job of ``kinds`` (first occurrence of an ID kept); failed scans become errors."""
    jobs: dict[str, ListedJob] = {}
    for kind in kinds:
        try:
            for job in iter_jobs(client, kind, page_size=page_size, filters=filters, refresh=refresh):
                jobs.setdefault(job.job_id, job)
        except RequestError as exc:
            part.errors.append(error_record(f"<list job_type={kind}>", exc))
        except Exception as exc:  # a bug must cost one scan, not the fleet
            logger.warning("unexpected %s while listing %s jobs: %s", type(exc).__name__, kind, exc)
            part.errors.append(error_record(f"<list job_type={kind}>", RequestError(f"unexpected {type(exc).__name__}: {exc}")))
    return list(jobs.values())


def _collect(client: DRSClient, kinds, source, page_size, filters, max_workers, progress, label,
             refresh=False) -> _Part:
    client.check_open()
    part = _Part(client.project_id, client.region, label)
    listed = _scan(client, kinds, page_size, filters, part, refresh)
    if source == "list":
        for job in listed:
            if job.actions is None:
                part.errors.append(error_record(job.job_id, MalformedResponseError(f"in the job list: {job.problem}")))
            else:
                part.records.append(job.actions)
                part.listed.append(job)
        return part
    by_id = {job.job_id: job for job in listed}
    _, fetched, errors = collect_actions(list(by_id), client=client, max_workers=max_workers, progress=progress,
                                         refresh=refresh)
    part.records.extend(fetched)
    part.listed.extend(by_id[r.job_id] for r in fetched)
    part.errors.extend(errors)
    return part


def _label(item: Any, client: DRSClient) -> str:
    """How a target is named in error records: its ``name``, else region-or-endpoint/project."""
    if isinstance(item, Target):
        return item.label
    if isinstance(item, Mapping):
        return to_target(item).label
    return f"{client.region or client.endpoint}/{client.project_id}"


def _target_failed(target: Any, exc: Exception) -> _Part:
    """A target that could not even be set up: one error record naming it."""
    label = target.label if isinstance(target, Target) else repr(target)
    project = getattr(target, "project_id", None) or ""
    part = _Part(project, getattr(target, "region", None), label)
    part.errors.append(error_record(f"<target {label}>", exc))
    return part


def _combine(parts: list[_Part]) -> tuple[list, dict[str, pd.Categorical], list[dict]]:
    """All targets' jobs (distinct IDs), their metadata columns, and all error records."""
    records, listed, projects, regions, errors, seen, repeated = [], [], [], [], [], set(), []
    for part in parts:
        for record, job in zip(part.records, part.listed):
            if record.job_id in seen:
                repeated.append(record.job_id)
                continue
            seen.add(record.job_id)
            records.append(record)
            listed.append(job)
            projects.append(part.project_id)
            regions.append(part.region)
        errors.extend({**e, "project_id": part.project_id, "region": part.region, "target": part.target}
                      for e in part.errors)
    if repeated:
        warnings.warn(f"{len(repeated)} job{'s' if len(repeated) != 1 else ''} appear in more than one target "
                      f"(first: {repeated[0]}); kept the first target's", stacklevel=3)
    meta = _meta(listed, projects, regions)
    return records, meta, errors


def _meta(listed: list[ListedJob | None], projects: list[str], regions: list[str | None]) -> dict[str, pd.Categorical]:
    """Metadata columns: project_id, then :data:`META_COLUMNS` (NA where a job has no entry)."""
    empty = ListedJob("", {}, None, None)
    meta = jobs_metadata([job or empty for job in listed], project_id="", region=None)
    codes, uniques = pd.factorize(np.asarray(regions, dtype=object), use_na_sentinel=True)
    meta["region"] = str_categorical(codes.astype(np.int32), [str(u) for u in uniques])
    codes, uniques = pd.factorize(np.asarray(projects, dtype=object))
    return {"project_id": str_categorical(codes.astype(np.int32), [str(u) for u in uniques]), **meta}


def _fleet_errors(errors: list[dict]) -> pd.DataFrame:
    frame = errors_frame(errors)
    for name in FLEET_ERROR_COLUMNS:
        frame[name] = pd.array([e.get(name) for e in errors], dtype="string")
    return frame


def fetch_fleet(
    client: DRSClient | None = None,
    *,
    targets: Iterable[DRSClient | Target | Mapping[str, Any]] | None = None,
    job_type: str | Iterable[str] | None = None,
    source: str = "list",
    page_size: int = DEFAULT_PAGE_SIZE,
    max_workers: int = 16,
    progress: bool | None = None,
    client_options: Mapping[str, Any] | None = None,
    refresh: bool = False,
    **filters: Any,
) -> FetchResult:
    """The actions of every job of the chosen types, in one project or many.

    Parameters
    ----------
    client : DRSClient, optional
        One project. Or pass ``targets``.
    targets : list of DRSClient, Target or dict, optional
        Several projects and regions (see :class:`~drs_analytics.targets.Target`; dicts
        name credential *variables*, never secrets). Clients made from targets are
        closed afterwards; clients passed in are not. All are checked before the
        first request: something else (``42``), a closed client or a malformed dict
        raises ``TypeError``/:class:`ConfigurationError` naming its index; what only
        fetching shows (an unset variable, a refused token) becomes error records.
    job_type : str or list, optional
        ``"sync"``, ``"sync,migration"``, a list; default: every documented type.
    source : {"list", "actions"}
        Where the actions come from (see the module notes): the list pages (about
        N / page_size requests) or each job's ``/actions`` (N more requests).
    page_size : int
        Jobs per list request (``limit``).
    max_workers, progress
        As for :func:`~drs_analytics.fetch_actions` (``source="actions"``).
    client_options : dict, optional
        Other :class:`DRSClient` arguments for clients made from targets (``cache``,
        ``retry``, ``timeout``...).
    refresh : bool
        Ask the API even where a fresh answer is cached (list pages and, with
        ``source="actions"``, each job's ``/actions``), and cache the new answers.
    **filters
        List filters: ``status``, ``name``, ``engine_type``, ``net_type``,
        ``enterprise_project_id``, ``sort_key``, ``sort_dir``. They select parent
        (top-level) jobs, which bring all their children whatever their status:
        ``status="INCRE_TRANSFER_FAILED"`` can return children in other statuses
        (keep ``frame[frame["status"] == ...]`` for exactly those).

    Returns
    -------
    FetchResult
        The tidy frame with the metadata columns ``region``, ``job_name``, ``status``,
        ``job_type``, ``engine_type``, ``task_type``, ``charging_mode``, ``parent_id``,
        ``job_role``; children are jobs of their own. ``errors`` has one record per job
        that could not be read, one per failed list scan (``<list job_type=...>``) and
        one per target that could not be reached at all, with ``project_id``/``region``.
    """
    if (client is None) == (targets is None):
        raise TypeError("pass either a client or targets=[...]")
    if isinstance(targets, (str, bytes, Mapping, Target, DRSClient)):
        raise TypeError(f"targets must be a list of targets, not a single {type(targets).__name__}; wrap it: [target]")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    kinds = job_types(job_type)
    checked = _filters(filters)
    check_page_size(page_size)
    started, t0 = datetime.now(timezone.utc), time.perf_counter()
    parts: list[_Part] = []
    items = [client] if client is not None else distinct_targets(_checked_targets(targets))  # type: ignore[arg-type]
    if not items:
        raise ValueError("targets is empty")
    if client is not None:
        client.check_open()
    for item in items:
        own = None
        try:
            if isinstance(item, DRSClient):
                target_cli = item
            else:
                own = target_cli = target_client(to_target(item), **dict(client_options or {}))
            parts.append(_collect(target_cli, kinds, source, page_size, checked, max_workers, progress,
                                  _label(item, target_cli), refresh))
        except DRSAnalyticsError as exc:
            parts.append(_target_failed(item, exc))
        finally:
            if own is not None:
                own.close()
    records, meta, errors = _combine(parts)
    projects = list(dict.fromkeys(p.project_id for p in parts if p.project_id))
    frame, jobs, conflicts = build_frames(projects[0] if projects else "", records, meta)
    warn_conflicts(conflicts)
    result = FetchResult(frame, jobs, _fleet_errors(errors), conflicts, ",".join(projects), len(jobs) + len(errors),
                         started_at=started, elapsed=time.perf_counter() - t0)
    logger.info("%r", result)
    return result


def _shown(value: Any) -> str:
    """A bad target as an error message may show it: numbers and None as such, others by type only
    (a string or a tuple in the wrong place could be a secret)."""
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    size = f" of length {len(value)}" if isinstance(value, (str, bytes, tuple, list)) else ""
    return f"a {type(value).__name__}{size}"


def _checked_targets(targets: Iterable[Any]) -> list[DRSClient | Target]:
    """Every target checked before any request: DRSClients open, mappings made Targets.

    A target that is no target at all (``42``), a closed client or a malformed mapping
    is the caller's mistake: raised, naming its index, before the first target is fetched.
    Problems only the fetch can show (an unset credential variable, a refused token)
    become error records instead.
    """
    out: list[DRSClient | Target] = []
    for i, item in enumerate(targets):
        if isinstance(item, DRSClient):
            try:
                item.check_open()
            except DRSAnalyticsError as exc:
                raise type(exc)(f"targets[{i}]: {exc}") from None
            out.append(item)
        elif isinstance(item, Target):
            out.append(item)
        elif isinstance(item, Mapping):
            try:
                out.append(to_target(item))
            except DRSAnalyticsError as exc:
                raise type(exc)(f"targets[{i}]: {exc}") from None
        else:
            raise TypeError(f"targets[{i}] is {_shown(item)}: a target is a DRSClient, a Target or a mapping of "
                            "Target fields (region/endpoint, project_id, *_env)")
    return out


def enrichment(client: DRSClient, records: list, *, job_type: str | Iterable[str] | None = None,
               refresh: bool = False) -> dict[str, pd.Categorical]:
    """Metadata columns for ``records`` from the job list (NA for jobs it does not show).

    Parameters
    ----------
    client : DRSClient
        The project whose job list is read.
    records : list of JobActions
        The fetched jobs, in the order of the columns returned.
    job_type : str or list, optional
        Job types to list (default every documented type).
    refresh : bool
        Ask the API for every list page, even cached fresh ones (as the actions were).

    Returns
    -------
    dict
        :data:`~drs_analytics.listing.META_COLUMNS` name -> categorical, one value per record.
        A failed list scan warns (:class:`EnrichmentWarning`) and leaves its jobs NA.
    """
    part = _Part(client.project_id, client.region, _label(client, client))
    listed = {job.job_id: job for job in _scan(client, job_types(job_type), DEFAULT_PAGE_SIZE, {}, part, refresh)}
    if part.errors:
        warnings.warn(f"job metadata is incomplete: {len(part.errors)} list scan(s) failed "
                      f"({part.errors[0]['detail']})", EnrichmentWarning, stacklevel=3)
    missing = sum(r.job_id not in listed for r in records)
    if missing:
        logger.info("%d of %d jobs are not in the job list; their metadata is NA", missing, len(records))
    meta = _meta([listed.get(r.job_id) for r in records], [client.project_id] * len(records), [client.region] * len(records))
    del meta["project_id"]
    return {name: meta[name] for name in META_COLUMNS}
