"""What the fleet plots share: the three states and their colours, the data they accept, row binning.

No matplotlib import at module level (``import drs_analytics`` stays light); drawing helpers import
it when called.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from .frame import action_summary, as_matrix
from .result import FetchResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "plain",
    "DOCS",
    "IDLE_LABEL",
    "STATE_COLORS",
    "STATE_LABELS",
    "DataSource",
    "bin_rows",
    "check_choice",
    "fill_doc",
    "fleet_matrix",
    "fleet_summary",
    "get_ax",
    "job_values",
    "row_groups",
    "state_codes",
    "state_legend",
]

#: Cell states in code order 0, 1, 2: not reported, unavailable, available (Okabe-Ito, colour-blind safe).
STATE_LABELS = ("not reported", "unavailable", "available")
STATE_COLORS = ("#e8e8e8", "#e69f00", "#0072b2")
#: How a job without a current action is shown.
IDLE_LABEL = "idle"

DataSource = pd.DataFrame | FetchResult
F = TypeVar("F", bound=Callable[..., Any])

#: Parameter text shared by the plot docstrings; ``{name}`` in a docstring is replaced by :func:`fill_doc`.
DOCS = {
    "data": """data : DataFrame or FetchResult
        A tidy frame (``job_id``, ``action``, ``available``, ...), an availability matrix
        (jobs x actions of booleans, NA = not reported) or a :class:`~drs_analytics.FetchResult`
        (whose jobs that reported no action at all also count).""",
    "ax": """ax : matplotlib Axes, optional
        Where to draw; default the current Axes (:func:`matplotlib.pyplot.gca`).""",
    "returns_ax": """matplotlib.axes.Axes
        The Axes drawn on.""",
}
_PLACEHOLDER = re.compile(r"\{(" + "|".join(DOCS) + r")\}")


def fill_doc(func: F) -> F:
    """Replace the ``{name}`` placeholders of :data:`DOCS` in ``func``'s docstring."""
    if func.__doc__:
        func.__doc__ = _PLACEHOLDER.sub(lambda m: DOCS[m.group(1)], func.__doc__)
    return func


def check_choice(name: str, value: object, choices: Sequence[object]) -> None:
    """Raise ``ValueError`` naming the valid choices if ``value`` is not one of them."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")


def get_ax(ax: Axes | None) -> Axes:
    """``ax``, or the current pyplot Axes."""
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.gca()
    return ax


# -- data --------------------------------------------------------------------------------------
def fleet_matrix(data: DataSource) -> pd.DataFrame:
    """The availability matrix of a tidy frame, a matrix or a FetchResult (every fetched job a row)."""
    if isinstance(data, FetchResult):
        return data.matrix()
    if not isinstance(data, pd.DataFrame):
        raise TypeError("data must be a tidy frame, an availability matrix or a FetchResult; "
                        f"got {type(data).__name__}")
    matrix = as_matrix(data)
    try:
        return matrix.astype("boolean")
    except (TypeError, ValueError):
        raise ValueError(
            "data is neither a tidy frame (columns job_id, action, available) nor an availability "
            f"matrix of booleans; columns: {', '.join(map(str, data.columns[:8]))}"
        ) from None


def fleet_summary(data: DataSource) -> pd.DataFrame:
    """Per-action counts (see :func:`~drs_analytics.action_summary`); a FetchResult counts every job."""
    return data.summary() if isinstance(data, FetchResult) else action_summary(fleet_matrix(data))


def job_values(data: DataSource, column: str, *, purpose: str) -> pd.Series:
    """One value of ``column`` per job, indexed by job ID (str), from a FetchResult or a frame.

    Raises ``ValueError`` saying what ``purpose`` needs when the data has no such column.
    """
    frames = (data.jobs, data.frame) if isinstance(data, FetchResult) else (data,)
    for frame in frames:
        if isinstance(frame, pd.DataFrame) and {"job_id", column} <= set(frame.columns):
            per_job = frame.drop_duplicates("job_id")
            return pd.Series(per_job[column].to_numpy(), index=pd.Index(per_job["job_id"].astype(str)), name=column)
    kind = "a FetchResult" if isinstance(data, FetchResult) else "this frame"
    hint = (" (job metadata such as status comes with fetch_fleet(client) or fetch_actions(..., enrich=True))"
            if column == "status" else "")
    raise ValueError(f"{purpose} needs a per-job {column!r} column (the tidy frame or a FetchResult); "
                     f"{kind} has none{hint}")


def plain(labels: Sequence[object]) -> list[str]:
    """Data shown as text, with ``$`` escaped so matplotlib never reads it as mathtext."""
    return [str(label).replace("$", r"\$") for label in labels]


def state_codes(matrix: pd.DataFrame) -> np.ndarray:
    """Cell states as int8: 0 not reported (NA), 1 unavailable, 2 available."""
    values = matrix.astype("boolean")
    filled = values.fillna(False).to_numpy(dtype=bool)
    missing = values.isna().to_numpy()
    return np.where(missing, 0, np.where(filled, 2, 1)).astype(np.int8)


def row_groups(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Identical rows of a 2-D array: (group id per row, rows per group id)."""
    n, k = values.shape
    if n == 0 or k == 0:
        return np.zeros(n, dtype=np.intp), np.full(1 if n else 0, n, dtype=np.intp)
    rows = np.ascontiguousarray(values, dtype=np.int8).view(np.dtype((np.void, k))).ravel()
    _, ids, counts = np.unique(rows, return_inverse=True, return_counts=True)
    return ids.ravel(), counts


def bin_rows(values: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Bin consecutive rows into ``n_bins`` rows, each cell the max of its bin.

    With state codes (0 not reported < 1 unavailable < 2 available) the max is the most
    informative state: a bin shows available if any of its rows is available, else unavailable
    if any row reported the action, else not reported. Bins hold ``n // n_bins`` or one more
    rows. Returns (binned values, bin edges); with ``n_bins >= len(values)`` nothing is binned.

    >>> binned, edges = bin_rows(np.array([[0, 1], [2, 1], [0, 0], [0, 0], [1, 0]]), 2)
    >>> binned.tolist(), edges.tolist()
    ([[2, 1], [1, 0]], [0, 2, 5])
    """
    n = len(values)
    if n_bins >= n:
        return values, np.arange(n + 1)
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1; got {n_bins}")
    edges = np.arange(n_bins + 1) * n // n_bins
    return np.maximum.reduceat(values, edges[:-1], axis=0), edges


# -- drawing -----------------------------------------------------------------------------------
def state_legend(ax: Axes, counts: Sequence[int] | None = None, *, title_pad_points: float = 0.0) -> None:
    """The three-state legend (available first) in one row just above ``ax``, optionally with counts."""
    from matplotlib.patches import Patch

    handles = []
    for code in (2, 1, 0):
        label = STATE_LABELS[code] if counts is None else f"{STATE_LABELS[code]} ({counts[code]:,})"
        handles.append(Patch(facecolor=STATE_COLORS[code], edgecolor="#999999", linewidth=0.5, label=label))
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, frameon=False, fontsize=8,
              borderaxespad=0.3, borderpad=0.0, handlelength=1.2, columnspacing=1.2)
