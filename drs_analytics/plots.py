"""Fleet plots (matplotlib). Data first, options keyword-only, ``ax=None``, return the Axes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .frame import as_matrix

__all__ = ["STATE_COLORS", "STATE_LABELS", "plot_availability_matrix"]

#: Cell states in drawing order: not reported, unavailable, available (Okabe-Ito, colour-blind safe).
STATE_LABELS = ("not reported", "unavailable", "available")
STATE_COLORS = ("#e8e8e8", "#e69f00", "#0072b2")
SORTS = ("signature", "job", "none")

_MIN_LABEL_POINTS = 7.0  # row height (pt) below which job labels are not drawn


def _state(matrix: pd.DataFrame) -> np.ndarray:
    """0 not reported, 1 unavailable, 2 available."""
    values = matrix.astype("boolean")
    filled = values.fillna(False).to_numpy(dtype=bool)
    missing = values.isna().to_numpy()
    return np.where(missing, 0, np.where(filled, 2, 1)).astype(np.int8)


class _MatrixPlotter:
    """Orders rows and columns and works out labels; :meth:`plot` only draws."""

    def __init__(self, data: pd.DataFrame, *, sort: str) -> None:
        if sort not in SORTS:
            raise ValueError(f"sort must be one of {', '.join(SORTS)}; got {sort!r}")
        matrix = as_matrix(data)
        state = _state(matrix)
        col_order = np.argsort(-(state == 2).sum(axis=0), kind="stable")
        state = state[:, col_order]
        row_order, groups = self._rows(state, matrix.index, sort)
        self.state = state[row_order]
        self.row_labels = [str(x) for x in matrix.index[row_order]]
        self.col_labels = [str(x) for x in matrix.columns[col_order]]
        self.group_bounds = groups
        self.counts = {label: int((self.state == i).sum()) for i, label in enumerate(STATE_LABELS)}

    @staticmethod
    def _rows(state: np.ndarray, index: pd.Index, sort: str) -> tuple[np.ndarray, list[int]]:
        n = len(state)
        if sort == "none" or n == 0:
            return np.arange(n), []
        if sort == "job":
            return np.argsort(np.asarray(index.astype(str)), kind="stable"), []
        rows = np.ascontiguousarray(state).view(np.dtype((np.void, state.shape[1] or 1)))
        _, inverse, counts = np.unique(rows.ravel() if state.shape[1] else np.zeros(n), return_inverse=True, return_counts=True)
        inverse = inverse.ravel()
        order = np.lexsort((np.arange(n), inverse, -counts[inverse]))
        sorted_groups = inverse[order]
        bounds = list(np.flatnonzero(np.diff(sorted_groups)) + 1)
        return order, bounds

    def plot(self, ax: Any, *, legend: bool, labels: str | bool, **kwargs: Any) -> None:
        from matplotlib.colors import ListedColormap
        from matplotlib.patches import Patch

        n_rows, n_cols = self.state.shape
        kwargs.setdefault("interpolation", "nearest")
        kwargs.setdefault("aspect", "auto")
        if n_rows and n_cols:
            ax.imshow(self.state, cmap=ListedColormap(STATE_COLORS), vmin=-0.5, vmax=2.5, **kwargs)
        else:
            ax.text(0.5, 0.5, "no jobs to show", ha="center", va="center", transform=ax.transAxes, color="#666666")
        ax.set_xticks(range(n_cols), self.col_labels, rotation=90, fontsize=8)
        for bound in self._visible_bounds(ax):
            ax.axhline(bound - 0.5, color="white", linewidth=0.6)
        if self._show_row_labels(ax, labels):
            ax.set_yticks(range(n_rows), self.row_labels, fontsize=6)
        else:
            ax.set_yticks([])
            ax.set_ylabel(f"{n_rows} jobs" + (" (grouped by action signature)" if self.group_bounds else ""))
        ax.set_title(f"Action availability: {n_rows} jobs x {n_cols} actions", loc="left", pad=20 if legend else 6)
        if legend:
            handles = [Patch(facecolor=c, edgecolor="#999999", label=f"{lab} ({self.counts[lab]:,})")
                       for lab, c in zip(STATE_LABELS[::-1], STATE_COLORS[::-1])]
            ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, frameon=False, fontsize=8,
                      borderaxespad=0.2, handlelength=1.2, columnspacing=1.0)

    def _visible_bounds(self, ax: Any) -> list[int]:
        """Group separators worth drawing: between groups of 3+ rows, while rows are 2pt+ high."""
        if not self.group_bounds or self._row_points(ax) < 2.0:
            return []
        edges = [0, *self.group_bounds, len(self.state)]
        sizes = np.diff(edges)
        return [b for i, b in enumerate(self.group_bounds) if sizes[i] >= 3 and sizes[i + 1] >= 3]

    def _row_points(self, ax: Any) -> float:
        height_pt = ax.get_window_extent().height * 72 / ax.figure.dpi
        return height_pt / max(len(self.state), 1)

    def _show_row_labels(self, ax: Any, labels: str | bool) -> bool:
        if labels in (True, False):
            return bool(labels)
        return len(self.state) > 0 and self._row_points(ax) >= _MIN_LABEL_POINTS


def plot_availability_matrix(
    data: pd.DataFrame,
    *,
    sort: str = "signature",
    labels: str | bool = "auto",
    legend: bool = True,
    ax: Any = None,
    **kwargs: Any,
) -> Any:
    """Draw the fleet heatmap: jobs x actions, available / unavailable / not reported.

    Parameters
    ----------
    data : DataFrame
        A tidy frame (``job_id``, ``action``, ``available``) or an availability matrix.
    sort : {"signature", "job", "none"}
        Row order. "signature" puts jobs with the same states side by side, biggest
        group first, with a thin line between groups.
    labels : "auto" or bool
        Job ID labels on the rows; "auto" draws them only while they fit.
    legend : bool
        Draw the three-state legend, with cell counts.
    ax : matplotlib Axes, optional
        Where to draw; default the current Axes.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.imshow`.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Columns are ordered by how many jobs can run the action, most first.
    """
    import matplotlib.pyplot as plt

    plotter = _MatrixPlotter(data, sort=sort)
    if ax is None:
        ax = plt.gca()
    plotter.plot(ax, legend=legend, labels=labels, **kwargs)
    return ax
