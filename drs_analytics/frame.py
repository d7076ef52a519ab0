"""The tidy frame (one row per job and action) and the shapes derived from it.

Building the frame does per-*signature* Python work only: jobs are grouped by
their exact (available, unavailable) lists, each distinct pair is resolved once
(duplicates dropped, an action in both lists kept once as unavailable), and the
rows of all jobs are gathered with numpy. A fleet where every job has its own
lists still costs one dictionary lookup per job, never per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np
import pandas as pd

from .responses import JobActions
from .vocabulary import order_actions

__all__ = [
    "CONFLICT_COLUMNS",
    "FRAME_COLUMNS",
    "JOBS_COLUMNS",
    "action_summary",
    "availability_matrix",
    "build_frames",
    "empty_frame",
]

#: Columns of the tidy frame, in order.
FRAME_COLUMNS = ("project_id", "job_id", "action", "available", "current_action", "fetched_at", "from_cache")
#: Columns of ``FetchResult.jobs``.
JOBS_COLUMNS = ("job_id", "current_action", "n_available", "n_unavailable", "fetched_at", "from_cache")
#: Columns of ``FetchResult.conflicts``: actions a job listed as both available and unavailable.
CONFLICT_COLUMNS = ("job_id", "action")

_TIME_DTYPE = "datetime64[ns, UTC]"


class _Signatures:
    """Distinct (available, unavailable) pairs, resolved once each."""

    def __init__(self) -> None:
        self.index: dict[tuple, int] = {}
        self.names: list[list[str]] = []  # resolved action names, response order
        self.flags: list[list[bool]] = []  # available flag per name
        self.conflicts: list[list[str]] = []  # names listed as both

    def add(self, available: tuple[str, ...], unavailable: tuple[str, ...]) -> int:
        key = (available, unavailable)
        found = self.index.get(key)
        if found is None:
            found = self.index[key] = len(self.names)
            self._resolve(available, unavailable)
        return found

    def _resolve(self, available: tuple[str, ...], unavailable: tuple[str, ...]) -> None:
        state: dict[str, bool] = dict.fromkeys(available, True)
        both = state.keys() & set(unavailable)
        state.update(dict.fromkeys(unavailable, False))
        self.names.append(list(state))
        self.flags.append(list(state.values()))
        self.conflicts.append([name for name in dict.fromkeys(unavailable) if name in both] if both else [])


def _spans(lists: list[list]) -> np.ndarray:
    """(offsets, lengths) of per-signature lists laid end to end."""
    lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    offsets = np.zeros(len(lists), dtype=np.int64)
    if len(lists):
        np.cumsum(lengths[:-1], out=offsets[1:])
    return np.stack([offsets, lengths])


def _chain(lists: list[list], dtype=object) -> np.ndarray:
    total = sum(map(len, lists))
    return np.fromiter(chain.from_iterable(lists), dtype=dtype, count=total) if dtype is not object else np.array(
        list(chain.from_iterable(lists)), dtype=object
    )


def _gather(spans: np.ndarray, job_sig: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows for every job: (row -> job position, row -> index into the flattened lists)."""
    starts, lengths = spans[0][job_sig], spans[1][job_sig]
    row_job = np.repeat(np.arange(len(job_sig)), lengths)
    first_row = np.repeat(np.cumsum(lengths) - lengths, lengths)
    src = np.repeat(starts, lengths) + (np.arange(len(row_job)) - first_row)
    return row_job, src


def _categorical(codes: np.ndarray, categories: Sequence[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(categories), dtype=object).astype(str))


def _times(records: Sequence[JobActions]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([r.fetched_at for r in records]).tz_convert("UTC").as_unit("ns") if records else pd.DatetimeIndex([], tz="UTC").as_unit("ns")


def build_frames(project_id: str, records: Sequence[JobActions]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Build (tidy frame, jobs, conflicts) from the fetched jobs, in the given order.

    Job IDs in ``records`` must be distinct. See :data:`FRAME_COLUMNS` for the columns.
    """
    n = len(records)
    sigs = _Signatures()
    job_sig = np.fromiter((sigs.add(r.available, r.unavailable) for r in records), dtype=np.int64, count=n)
    spans = _spans(sigs.names)
    names_flat = _chain(sigs.names)
    flags_flat = _chain(sigs.flags, dtype=bool)
    name_codes, uniques = pd.factorize(names_flat)
    actions = order_actions(uniques)
    codes_flat = pd.Index(actions).get_indexer(uniques)[name_codes].astype(np.int16)
    row_job, src = _gather(spans, job_sig)

    job_ids = [r.job_id for r in records]
    current = pd.Categorical([r.current_action for r in records])
    times = _times(records)
    cached = np.fromiter((r.from_cache for r in records), dtype=bool, count=n)

    frame = pd.DataFrame(
        {
            "project_id": _categorical(np.zeros(len(row_job), dtype=np.int8), [project_id]),
            "job_id": _categorical(row_job.astype(np.int32), job_ids),
            "action": _categorical(codes_flat[src], actions),
            "available": flags_flat[src],
            "current_action": current.take(row_job) if n else _categorical(np.zeros(0, np.int8), []),
            "fetched_at": times.take(row_job),
            "from_cache": cached[row_job],
        }
    )
    available_per_sig = np.bincount(np.repeat(np.arange(len(sigs.names)), spans[1]), weights=flags_flat,
                                    minlength=len(sigs.names)).astype(np.int64)
    total_per_sig = spans[1]
    n_available = available_per_sig[job_sig] if n else np.zeros(0, np.int64)
    jobs = pd.DataFrame(
        {
            "job_id": pd.Series(job_ids, dtype=object).astype(str) if n else pd.Series([], dtype=object).astype(str),
            "current_action": current if n else _categorical(np.zeros(0, np.int8), []),
            "n_available": n_available,
            "n_unavailable": (total_per_sig[job_sig] if n else np.zeros(0, np.int64)) - n_available,
            "fetched_at": times,
            "from_cache": cached,
        }
    )
    return frame, jobs, _conflicts(sigs, job_sig, job_ids)


def _conflicts(sigs: _Signatures, job_sig: np.ndarray, job_ids: list[str]) -> pd.DataFrame:
    names, spans = _chain(sigs.conflicts), _spans(sigs.conflicts)
    job_pos, src = _gather(spans, job_sig)
    return pd.DataFrame(
        {
            "job_id": pd.Series(np.asarray(job_ids, dtype=object)[job_pos] if len(job_pos) else [], dtype=object).astype(str),
            "action": pd.Series(names[src] if len(src) else [], dtype=object).astype(str),
        }
    )


def empty_frame() -> pd.DataFrame:
    """A tidy frame with no rows and the right columns and dtypes."""
    return build_frames("", [])[0]


# -- derived shapes ----------------------------------------------------------------------------
def _as_categorical(series: pd.Series, categories: list[str] | None = None) -> pd.Categorical:
    if isinstance(series.dtype, pd.CategoricalDtype) and categories is None:
        return series.array
    return pd.Categorical(series.astype(str), categories=categories)


def availability_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """Jobs x actions of nullable booleans: True available, False unavailable, NA not reported.

    Rows are the jobs present in ``frame`` (in their categorical order, else first
    appearance); columns are every action present, documented ones first in documented
    order. If a (job, action) pair appears more than once, unavailable wins.

    >>> from drs_analytics.frame import availability_matrix
    >>> import pandas as pd
    >>> tidy = pd.DataFrame({"job_id": ["a", "a", "b"], "action": ["PAUSE", "DELETE", "PAUSE"],
    ...                      "available": [True, False, False]})
    >>> availability_matrix(tidy)
    action  PAUSE  DELETE
    job_id
    a        True   False
    b       False    <NA>
    """
    jobs = _as_categorical(frame["job_id"], None if isinstance(frame["job_id"].dtype, pd.CategoricalDtype)
                           else list(dict.fromkeys(frame["job_id"].astype(str))))
    acts = _as_categorical(frame["action"])
    job_used = np.unique(jobs.codes[jobs.codes >= 0])
    act_present = pd.unique(acts.categories[np.unique(acts.codes[acts.codes >= 0])])
    act_order = order_actions(act_present)
    act_pos = pd.Index(act_order).get_indexer(acts.categories)

    job_pos = np.full(len(jobs.categories), -1, dtype=np.int64)
    job_pos[job_used] = np.arange(len(job_used))
    state = np.full((len(job_used), len(act_order)), -1, dtype=np.int8)
    rows, cols = job_pos[jobs.codes], act_pos[acts.codes]
    flags = frame["available"].to_numpy(dtype=bool)
    state[rows[flags], cols[flags]] = 1
    state[rows[~flags], cols[~flags]] = 0

    data = {
        name: pd.arrays.BooleanArray(state[:, j] == 1, state[:, j] < 0) for j, name in enumerate(act_order)
    }
    index = pd.Index(np.asarray(jobs.categories)[job_used].astype(str), name="job_id", dtype=object).astype(str)
    out = pd.DataFrame(data, index=index)
    out.columns = pd.Index(act_order, name="action", dtype=object).astype(str)
    return out


def action_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per action: jobs available, unavailable, not reported, and the availability rate.

    ``availability_rate`` is available / all jobs in ``frame`` (the share of the fleet
    that can run the action now); ``reported_rate`` is available / jobs that reported it.
    """
    matrix = availability_matrix(frame)
    n_jobs = len(matrix)
    available = matrix.sum(skipna=True).astype("int64")
    reported = matrix.notna().sum().astype("int64")
    out = pd.DataFrame(
        {
            "available": available,
            "unavailable": reported - available,
            "not_reported": n_jobs - reported,
            "jobs": np.full(len(available), n_jobs, dtype=np.int64),
            "availability_rate": available / n_jobs if n_jobs else available.astype(float),
            "reported_rate": (available / reported.where(reported > 0)).astype(float),
        }
    )
    out.index.name = "action"
    return out
