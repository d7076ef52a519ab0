"""An UpSet-style figure of the most common sets of available actions, drawn with matplotlib."""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .plot_base import STATE_COLORS, DataSource, fleet_matrix, plain, row_groups, state_codes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["EMPTY_SET_LABEL", "SignaturePlot", "plot_signatures"]

#: Label of the set of jobs that can run no action at all.
EMPTY_SET_LABEL = "(none)"
_DOT_COLOR, _NO_DOT_COLOR, _STRIPE_COLOR = "#333333", "#dddddd", "#f3f3f3"


def _top_sets(available: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(one representative row per top set, jobs per top set, distinct sets): most common first,
    ties by first appearance."""
    ids, sizes = row_groups(available)
    _, first = np.unique(ids, return_index=True)
    order = np.lexsort((first, -sizes))[:top]
    return first[order], sizes[order].astype(np.int64), len(sizes)


class SignaturePlot:
    """The most common sets of available actions and their job counts, UpSet-style.

    Prepared on construction; :meth:`plot` draws a bar of jobs per set (``"counts"``) above
    a dot matrix (``"matrix"``: a filled dot where the set holds the action, the dots of a
    set joined by a line). Shows itself as a PNG in a notebook.

    Parameters
    ----------
    data : DataFrame or FetchResult
        A tidy frame, an availability matrix or a FetchResult (whose jobs that reported no
        action count, in the empty set).
    top : int
        How many sets to show, most common first (ties: first seen first).

    Attributes
    ----------
    counts : Series
        Set label (actions joined by " + ", or ``"(none)"``) -> jobs, most common first.
    membership : DataFrame of bool
        Actions (rows, most available across the fleet first; only actions in a shown set)
        x sets (columns, as in ``counts``).
    n_jobs, n_sets, covered : int
        Jobs, distinct sets in the fleet, jobs in the shown sets.
    """

    def __init__(self, data: DataSource, *, top: int = 10) -> None:
        if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
            raise ValueError(f"top must be a positive integer; got {top!r}")
        matrix = fleet_matrix(data)
        available = state_codes(matrix) == 2
        reps, sizes, self.n_sets = _top_sets(available, int(top))
        members = available[reps]
        cols = np.argsort(-available.sum(axis=0), kind="stable")
        cols = cols[members[:, cols].any(axis=0)]
        actions = matrix.columns.astype(str)[cols]
        labels = [" + ".join(actions[row]) or EMPTY_SET_LABEL for row in members[:, cols]]
        self.counts = pd.Series(sizes, index=pd.Index(labels, dtype=object, name="actions"), name="jobs")
        self.membership = pd.DataFrame(members[:, cols].T, index=pd.Index(actions, name="action"),
                                       columns=self.counts.index)
        self.n_jobs, self.covered = len(matrix), int(sizes.sum())

    def figsize(self) -> tuple[float, float]:
        """A size that fits the sets and actions shown (inches)."""
        return max(6.0, 2.9 + 0.42 * len(self.counts)), 2.9 + 0.2 * max(len(self.membership), 1)

    def plot(self, fig: Figure | None = None) -> dict[str, Axes]:
        """Draw on ``fig`` (default a new :class:`~matplotlib.figure.Figure`, not pyplot's).

        Returns
        -------
        dict
            ``{"counts": Axes, "matrix": Axes}``.
        """
        from matplotlib.figure import Figure

        if fig is None:
            fig = Figure(figsize=self.figsize(), layout="constrained")
        grid = fig.add_gridspec(2, 1, height_ratios=(2.1, 0.2 * max(len(self.membership), 1)), hspace=0.02)
        axes = {"counts": fig.add_subplot(grid[0])}
        axes["matrix"] = fig.add_subplot(grid[1], sharex=axes["counts"])
        self.plot_counts(axes["counts"])
        self.plot_matrix(axes["matrix"])
        return axes

    def plot_counts(self, ax: Axes) -> None:
        """Jobs per set, as bars."""
        x = np.arange(len(self.counts))
        bars = ax.bar(x, self.counts.to_numpy(), width=0.6, color=STATE_COLORS[2])
        ax.bar_label(bars, labels=[f"{n:,}" for n in self.counts.tolist()], padding=2, fontsize=8)
        ax.set_ylim(0, max(int(self.counts.max()) if len(x) else 0, 1) * 1.15)
        ax.set_ylabel("jobs", fontsize=9)
        ax.tick_params(axis="x", bottom=False, labelbottom=False)
        ax.spines[["top", "right", "bottom"]].set_visible(False)
        ax.set_title(self.title(), loc="left", fontsize=10)
        if not len(x):
            ax.text(0.5, 0.5, "no jobs to show", ha="center", va="center", transform=ax.transAxes, color="#666666")

    def title(self) -> str:
        share = f" ({self.covered / self.n_jobs:.0%})" if self.n_jobs else ""
        return (f"Most common sets of available actions: top {len(self.counts)} of {self.n_sets:,},\n"
                f"{self.covered:,} of {self.n_jobs:,} jobs{share}")

    def plot_matrix(self, ax: Axes) -> None:
        """The dot matrix: actions down, sets across; filled where the set holds the action."""
        member = self.membership.to_numpy(dtype=bool)
        n_actions, n_sets = member.shape
        ys, xs = np.mgrid[0:n_actions, 0:n_sets]
        ax.barh(np.arange(0, n_actions, 2), n_sets + 1, left=-1, height=1, color=_STRIPE_COLOR, zorder=0)
        ax.scatter(xs[~member], ys[~member], s=36, color=_NO_DOT_COLOR, zorder=2, linewidths=0)
        ax.scatter(xs[member], ys[member], s=36, color=_DOT_COLOR, zorder=3, linewidths=0)
        top = np.where(member, ys, n_actions).min(axis=0, initial=n_actions)
        bottom = np.where(member, ys, -1).max(axis=0, initial=-1)
        joined = bottom > top
        ax.vlines(np.arange(n_sets)[joined], top[joined], bottom[joined], color=_DOT_COLOR, linewidth=2, zorder=2.5)
        ax.set_yticks(range(n_actions), plain(self.membership.index), fontsize=8)
        ax.set_ylim(max(n_actions, 1) - 0.5, -0.5)
        ax.set_xlim(-0.6, max(n_sets, 1) - 0.4)
        empty = [i for i, label in enumerate(self.counts.index) if label == EMPTY_SET_LABEL]
        ax.set_xticks(empty, ["nothing\navailable"] * len(empty), fontsize=7, color="#555555")
        ax.tick_params(left=False, bottom=False)
        ax.spines[:].set_visible(False)

    def _repr_html_(self) -> str:
        buffer = io.BytesIO()
        self.plot()["counts"].figure.savefig(buffer, format="png", dpi=90)
        data = base64.b64encode(buffer.getvalue()).decode("ascii")
        return f'<img src="data:image/png;base64,{data}" alt="{self.title()}">'


def plot_signatures(data: DataSource, *, top: int = 10, fig: Figure | None = None) -> dict[str, Axes]:
    """UpSet-style figure: the ``top`` most common sets of available actions and their job counts.

    Parameters
    ----------
    data : DataFrame or FetchResult
        A tidy frame, an availability matrix or a FetchResult (whose jobs that reported no
        action count, in the empty set ``"(none)"``).
    top : int
        How many sets to show, most common first.
    fig : matplotlib Figure, optional
        Where to draw; default a new :class:`~matplotlib.figure.Figure` (not registered with
        pyplot) sized for the sets and actions shown.

    Returns
    -------
    dict
        ``{"counts": Axes, "matrix": Axes}``: the bars of jobs per set, and below them the
        dot matrix (a filled dot where the set holds the action, joined by a line).

    See Also
    --------
    SignaturePlot : the prepared data (``counts``, ``membership``), and notebook display.
    plot_availability_matrix : every job's row, grouped by signature.

    Notes
    -----
    A set is what a job can run now: its available actions, whatever it reported as
    unavailable or left out. The empty set (jobs that can run nothing) is a set like any
    other. Only actions in a shown set get a row, most available across the fleet first.

    Examples
    --------
    >>> import pandas as pd
    >>> matrix = pd.DataFrame({"PAUSE": [True, True, False, None], "DELETE": [True, True, True, None]},
    ...                       dtype="boolean")
    >>> axes = plot_signatures(matrix)
    >>> [round(bar.get_height()) for bar in axes["counts"].patches]
    [2, 1, 1]
    >>> [t.get_text() for t in axes["matrix"].get_yticklabels()]
    ['DELETE', 'PAUSE']
    """
    return SignaturePlot(data, top=top).plot(fig=fig)
