"""The tidy frame (one row per job and action) and the shapes derived from it.

Building the frame does no Python work per row: jobs are grouped by their exact
(available, unavailable) lists (one dictionary lookup per job), and the distinct
pairs are resolved together with numpy (duplicates dropped, an action in both lists
kept once as unavailable, see :func:`_resolve`); the rows of all jobs are then
gathered with numpy. A fleet where every job has its own lists costs the same steps
over more data.
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


def _index_dtype(size: int) -> type:
    """The smallest of int32/int64 that indexes ``size`` items."""
    return np.int32 if size < 2**31 else np.int64


def _resolve(signatures: list[tuple[tuple[str, ...], tuple[str, ...]]]) -> dict[str, np.ndarray]:
    """Resolve every distinct (available, unavailable) pair at once, with numpy.

    Each pair's names are laid end to end (available, then unavailable), coded once by
    name (a dictionary lookup in C per name, no object array), and keyed by (pair,
    name). Entries whose key occurs once are final as they are; among entries sharing a
    key (a duplicate within a list, or an action in both lists) the first unavailable
    one is kept, else the first available one, so an action in both lists is one
    unavailable row in the unavailable block (and a conflict). Python touches each pair
    once, never each name.

    Returns the kept entries' ``codes`` (into ``uniques``) and ``flags``, each pair's
    kept ``lengths``, and the conflicts' ``conflict_codes`` and ``conflict_lengths``.
    """
    n_sig = len(signatures)
    blocks = list(chain.from_iterable(signatures))  # available 0, unavailable 0, available 1, ...
    block_len = np.fromiter(map(len, blocks), dtype=np.int64, count=len(blocks))
    total = int(block_len.sum())
    code = {name: i for i, name in enumerate(dict.fromkeys(chain.from_iterable(blocks)))}
    uniques = np.array(list(code), dtype=object)
    codes = np.fromiter(map(code.__getitem__, chain.from_iterable(blocks)), dtype=np.int32, count=total)
    sig = np.repeat(np.repeat(np.arange(n_sig, dtype=_index_dtype(n_sig)), 2), block_len)
    flag = np.repeat(np.tile(np.array([True, False]), n_sig), block_len)
    width = max(len(uniques), 1)
    key = sig.astype(np.int64) * width + codes
    if n_sig * width <= 4 * total + 1024:  # counting is cheaper than hashing
        shared = np.flatnonzero((np.bincount(key, minlength=n_sig * width) > 1)[key])
    else:
        shared = np.flatnonzero(pd.Series(key, copy=False).duplicated(keep=False).to_numpy())
    keep = np.ones(total, dtype=bool)
    conflict = np.zeros(total, dtype=bool)
    if len(shared):
        order = shared[np.lexsort((shared, flag[shared], key[shared]))]  # by key, unavailable first, position
        first = np.r_[True, key[order][1:] != key[order][:-1]]
        winners = order[first]
        keep[shared] = False
        keep[winners] = True
        listed_available = np.logical_or.reduceat(flag[order], np.flatnonzero(first))
        conflict[winners[listed_available & ~flag[winners]]] = True
    del key
    return {
        "uniques": uniques,
        "codes": codes[keep],
        "flags": flag[keep],
        "lengths": np.bincount(sig[keep], minlength=n_sig),
        "conflict_codes": codes[conflict],
        "conflict_lengths": np.bincount(sig[conflict], minlength=n_sig),
    }


def _spans(lengths: np.ndarray) -> np.ndarray:
    """(offsets, lengths) of runs of the given lengths laid end to end."""
    lengths = np.asarray(lengths, dtype=np.int64)
    return np.stack([np.cumsum(lengths) - lengths, lengths])


def _gather(spans: np.ndarray, job_sig: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows for every job: (row -> job position, row -> index into the flattened lists).

    Both are int32 unless the fleet has 2**31 rows or more.
    """
    starts, lengths = spans[0][job_sig], spans[1][job_sig]
    n_rows = int(lengths.sum())
    dtype = _index_dtype(max(n_rows, int(spans.sum(axis=0).max(initial=0)), len(job_sig)))
    row_job = np.repeat(np.arange(len(job_sig), dtype=dtype), lengths)
    # row r of job j reads starts[j] + (r - first row of j)
    src = np.repeat((starts - (np.cumsum(lengths) - lengths)).astype(dtype), lengths)
    src += np.arange(n_rows, dtype=dtype)
    return row_job, src


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
    index: dict[tuple, int] = {}  # distinct (available, unavailable) pairs -> position
    job_sig = np.fromiter((index.setdefault((r.available, r.unavailable), len(index)) for r in records),
                          dtype=np.int64, count=n)
    sigs = _resolve(list(index))
    spans = _spans(sigs["lengths"])
    actions = order_actions(sigs["uniques"])
    to_action = pd.Index(actions, dtype=object).get_indexer(sigs["uniques"]).astype(np.int32)
    codes_flat, flags_flat = to_action[sigs["codes"]], sigs["flags"]
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
            "job_id": str_categorical(row_job.astype(np.int32, copy=False), job_ids),
            "action": str_categorical(codes_flat[src], actions),
            "available": flags_flat[src],
            "current_action": current.take(row_job),
            "fetched_at": times.take(row_job),
            "from_cache": cached[row_job],
            "stale": stale[row_job],
            **{name: _take(values, row_job) for name, values in meta.items()},
        }
    )
    sig_of_row = np.repeat(np.arange(len(spans[1])), spans[1])
    n_available = np.bincount(sig_of_row, weights=flags_flat, minlength=len(spans[1])).astype(np.int64)[job_sig]
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
    conflict_names = np.asarray(sigs["uniques"], dtype=object)[sigs["conflict_codes"]]
    return frame, jobs, _conflicts(_spans(sigs["conflict_lengths"]), conflict_names, job_sig, job_ids)


def _take(values: Any, positions: np.ndarray) -> Any:
    """``values[positions]`` for a categorical or any array-like."""
    if isinstance(values, pd.Categorical):
        return values.take(positions)
    return pd.array(values).take(positions)


def _conflicts(spans: np.ndarray, names: np.ndarray, job_sig: np.ndarray, job_ids: list[str]) -> pd.DataFrame:
    job_pos, src = _gather(spans, job_sig)
    return pd.DataFrame(
        {
            "job_id": pd.Series(np.asarray(job_ids, dtype=object)[job_pos], dtype=object).astype(str),
            "action": pd.Series(names[src], dtype=object).astype(str),
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
