"""The tidy frame (one row per job and action) and the shapes derived from it.

Building the frame does per-*signature* Python work only: jobs are grouped by
their exact (available, unavailable) lists, each distinct pair is resolved once
(duplicates dropped, an action in both lists kept once as unavailable), and the
rows of all jobs are gathered with numpy. A fleet where every job has its own
lists still costs one dictionary lookup per job, never a Python step per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from .responses import JobActions
from .vocabulary import order_actions

__all__ = [
    "CONFLICT_COLUMNS",
    "FRAME_COLUMNS",
    "JOBS_COLUMNS",
    "action_summary",
    "as_matrix",
    "availability_matrix",
    "build_frames",
    "empty_frame",
    "str_categorical",
]

#: Columns of the tidy frame, in order.
FRAME_COLUMNS = ("project_id", "job_id", "action", "available", "current_action", "fetched_at", "from_cache", "stale")
#: Columns of ``FetchResult.jobs``.
JOBS_COLUMNS = (
    "job_id", "current_action", "n_available", "n_unavailable", "fetched_at", "from_cache", "stale", "attempts",
)
#: Columns of ``FetchResult.conflicts``: actions a job listed as both available and unavailable.
CONFLICT_COLUMNS = ("job_id", "action")


def str_categorical(codes: np.ndarray, categories: Sequence[str]) -> pd.Categorical:
    """A categorical with string categories (``str`` on pandas 3, object on 2.2) from codes."""
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(categories), dtype=object).astype(str))


class _Signatures:
    """Distinct (available, unavailable) pairs, resolved once each."""

    def __init__(self) -> None:
        self.index: dict[tuple, int] = {}
        self.names: list[list[str]] = []  # resolved action names: available ones, then unavailable
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
        for name in both:  # an action in both lists is unavailable, in the unavailable block
            del state[name]
        state.update(dict.fromkeys(unavailable, False))
        self.names.append(list(state))
        self.flags.append(list(state.values()))
        self.conflicts.append([name for name in dict.fromkeys(unavailable) if name in both] if both else [])


def _spans(lists: list[list]) -> np.ndarray:
    """(offsets, lengths) of lists laid end to end."""
    lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    return np.stack([np.cumsum(lengths) - lengths, lengths])


def _chain(lists: list[list], dtype: type = object) -> np.ndarray:
    flat = list(chain.from_iterable(lists))
    return np.array(flat, dtype=dtype) if flat else np.zeros(0, dtype=dtype)


def _gather(spans: np.ndarray, job_sig: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows for every job: (row -> job position, row -> index into the flattened lists)."""
    starts, lengths = spans[0][job_sig], spans[1][job_sig]
    row_job = np.repeat(np.arange(len(job_sig)), lengths)
    first_row = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return row_job, np.repeat(starts, lengths) + (np.arange(len(row_job)) - first_row)


def _current(records: Sequence[JobActions]) -> pd.Categorical:
    values = [r.current_action for r in records]
    categories = sorted({v for v in values if v is not None})
    code = {name: i for i, name in enumerate(categories)}
    codes = np.fromiter((code[v] if v is not None else -1 for v in values), dtype=np.int32, count=len(values))
    return str_categorical(codes, categories)


def _times(records: Sequence[JobActions]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([r.fetched_at for r in records], tz="UTC").as_unit("ns")


def build_frames(
    project_id: str,
    records: Sequence[JobActions],
    meta: Mapping[str, pd.Categorical] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Build (tidy frame, jobs, conflicts) from the fetched jobs, in the given order.

    Job IDs in ``records`` must be distinct. See :data:`FRAME_COLUMNS` for the columns.
    ``meta`` adds per-job columns (one value per record, categoricals are cheapest) to
    both frames, after the standard ones; a ``project_id`` entry replaces the constant
    ``project_id`` (fleets spanning several projects).
    """
    n = len(records)
    sigs = _Signatures()
    job_sig = np.fromiter((sigs.add(r.available, r.unavailable) for r in records), dtype=np.int64, count=n)
    spans = _spans(sigs.names)
    flags_flat = _chain(sigs.flags, dtype=bool)
    name_codes, uniques = pd.factorize(_chain(sigs.names))
    actions = order_actions(uniques)
    codes_flat = pd.Index(actions, dtype=object).get_indexer(uniques)[name_codes].astype(np.int32)
    row_job, src = _gather(spans, job_sig)

    job_ids = [r.job_id for r in records]
    current, times = _current(records), _times(records)
    cached = np.fromiter((r.from_cache for r in records), dtype=bool, count=n)
    stale = np.fromiter((r.stale for r in records), dtype=bool, count=n)
    attempts = np.fromiter((r.attempts for r in records), dtype=np.int64, count=n)
    meta = dict(meta or {})
    projects = meta.pop("project_id", None)
    if projects is None:
        project_col = str_categorical(np.zeros(len(row_job), dtype=np.int8), [project_id])
    else:
        project_col = _take(projects, row_job)
    frame = pd.DataFrame(
        {
            "project_id": project_col,
            "job_id": str_categorical(row_job.astype(np.int32), job_ids),
            "action": str_categorical(codes_flat[src], actions),
            "available": flags_flat[src],
            "current_action": current.take(row_job),
            "fetched_at": times.take(row_job),
            "from_cache": cached[row_job],
            "stale": stale[row_job],
            **{name: _take(values, row_job) for name, values in meta.items()},
        }
    )
    sig_of_row = np.repeat(np.arange(len(sigs.names)), spans[1])
    n_available = np.bincount(sig_of_row, weights=flags_flat, minlength=len(sigs.names)).astype(np.int64)[job_sig]
    jobs = pd.DataFrame(
        {
            "job_id": pd.Series(job_ids, dtype=object).astype(str),
            "current_action": current,
            "n_available": n_available,
            "n_unavailable": spans[1][job_sig] - n_available,
            "fetched_at": times,
            "from_cache": cached,
            "stale": stale,
            "attempts": attempts,
            **({"project_id": projects} if projects is not None else {}),
            **meta,
        }
    )
    return frame, jobs, _conflicts(sigs, job_sig, job_ids)


def _take(values: Any, positions: np.ndarray) -> Any:
    """``values[positions]`` for a categorical or any array-like."""
    if isinstance(values, pd.Categorical):
        return values.take(positions)
    return pd.array(values).take(positions)


def _conflicts(sigs: _Signatures, job_sig: np.ndarray, job_ids: list[str]) -> pd.DataFrame:
    job_pos, src = _gather(_spans(sigs.conflicts), job_sig)
    return pd.DataFrame(
        {
            "job_id": pd.Series(np.asarray(job_ids, dtype=object)[job_pos], dtype=object).astype(str),
            "action": pd.Series(_chain(sigs.conflicts)[src], dtype=object).astype(str),
        }
    )


def empty_frame() -> pd.DataFrame:
    """A tidy frame with no rows and the right columns and dtypes."""
    return build_frames("", [])[0]


# -- derived shapes ----------------------------------------------------------------------------
def _codes(series: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """(codes, categories) of a column; -1 for NA. Non-categoricals keep first-appearance order."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return np.asarray(series.cat.codes), series.cat.categories
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes, pd.Index(uniques)


def availability_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """Jobs x actions of nullable booleans: True available, False unavailable, NA not reported.

    Rows are the jobs present in ``frame`` (in categorical order, else first
    appearance); columns are every action present, documented ones first in documented
    order. If a (job, action) pair appears more than once, unavailable wins. Rows
    whose job, action or flag is missing carry no information and are skipped.

    >>> import pandas as pd
    >>> tidy = pd.DataFrame({"job_id": ["a", "a", "b"], "action": ["PAUSE", "DELETE", "PAUSE"],
    ...                      "available": [True, False, False]})
    >>> availability_matrix(tidy)
    action  PAUSE  DELETE
    job_id
    a        True   False
    b       False    <NA>
    """
    job_codes, job_cats = _codes(frame["job_id"])
    act_codes, act_cats = _codes(frame["action"])
    flags = frame["available"].astype("boolean")
    keep = (job_codes >= 0) & (act_codes >= 0) & flags.notna().to_numpy()
    job_codes, act_codes, flags = job_codes[keep], act_codes[keep], flags.to_numpy(dtype=bool, na_value=False)[keep]

    job_used = np.unique(job_codes)
    act_order = order_actions(act_cats[np.unique(act_codes)].astype(str))
    act_pos = pd.Index(act_order, dtype=object).get_indexer(act_cats.astype(str))
    job_pos = np.full(len(job_cats), -1, dtype=np.int64)
    job_pos[job_used] = np.arange(len(job_used))

    state = np.full((len(job_used), len(act_order)), -1, dtype=np.int8)
    rows, cols = job_pos[job_codes], act_pos[act_codes]
    state[rows[flags], cols[flags]] = 1
    state[rows[~flags], cols[~flags]] = 0
    data = {name: pd.arrays.BooleanArray(state[:, j] == 1, state[:, j] < 0) for j, name in enumerate(act_order)}
    out = pd.DataFrame(data, index=pd.Index(np.asarray(job_cats)[job_used], dtype=object, name="job_id").astype(str))
    out.columns = pd.Index(act_order, dtype=object, name="action").astype(str)
    return out


def as_matrix(data: pd.DataFrame) -> pd.DataFrame:
    """``data`` as an availability matrix: a tidy frame is pivoted, a matrix is returned as is."""
    if {"job_id", "action", "available"} <= set(data.columns):
        return availability_matrix(data)
    return data


def action_summary(data: pd.DataFrame) -> pd.DataFrame:
    """Per action: jobs available, unavailable, not reported, and the availability rates.

    ``data`` is a tidy frame or an availability matrix (pass ``FetchResult.matrix()`` to
    count jobs that reported nothing). ``availability_rate`` is available / all jobs (the
    share of the fleet that can run the action now); ``reported_rate`` is available /
    jobs that reported the action.
    """
    matrix = as_matrix(data)
    n_jobs = len(matrix)
    available = matrix.sum(skipna=True).astype("int64")
    reported = matrix.notna().sum().astype("int64")
    out = pd.DataFrame(
        {
            "available": available,
            "unavailable": reported - available,
            "not_reported": n_jobs - reported,
            "jobs": np.full(len(available), n_jobs, dtype=np.int64),
            "availability_rate": (available / n_jobs if n_jobs else available).astype(float),
            "reported_rate": (available / reported.where(reported > 0)).astype(float),
        }
    )
    out.index.name = "action"
    return out
