"""Fleet plots (matplotlib). Data first, options keyword-only, ``ax=None``, return the Axes.

This module holds the heatmap and gathers the others:

=============================  ================================================================
plot_availability_matrix       jobs x actions heatmap (this module)
plot_action_rates              per action: available / unavailable / not reported bars
plot_current_actions           what the fleet is doing now (current_action counts)
plot_signatures                UpSet-style view of the most common sets of available actions
=============================  ================================================================

None of them imports matplotlib before it draws.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .plot_base import (
    plain,
    IDLE_LABEL,
    STATE_COLORS,
    STATE_LABELS,
    DataSource,
    bin_rows,
    check_choice,
    fill_doc,
    fleet_matrix,
    get_ax,
    job_values,
    row_groups,
    state_codes,
    state_legend,
)
from .plot_rates import plot_action_rates, plot_current_actions
from .plot_signatures import SignaturePlot, plot_signatures

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "STATE_COLORS",
    "STATE_LABELS",
    "SignaturePlot",
    "plot_action_rates",
    "plot_availability_matrix",
    "plot_current_actions",
    "plot_signatures",
]

SORTS = ("signature", "job", "current_action", "status", "none")
GROUPS = (None, "signature")
#: Per-job columns ``sort`` can group by, and the label of their missing value.
_NAMED_SORTS = {"current_action": IDLE_LABEL, "status": "no status"}
_MIN_LABEL_POINTS = 7.0  # row height (pt) below which row labels are not drawn
_MIN_GROUP_LABEL_POINTS = 6.0  # group height (pt) below which a group is not named
_MIN_SEPARATOR_POINTS = 2.0  # row height (pt) below which group separators are not drawn


def _signature_keys(state: np.ndarray, full_id: np.ndarray, full_n: np.ndarray) -> list[np.ndarray]:
    """``np.lexsort`` keys, least significant first: jobs with the same set of available actions
    together, biggest set first; within a set, identical rows together, biggest first."""
    set_id, set_n = row_groups(state == 2)
    return [full_id, -full_n[full_id], set_id, -set_n[set_id]]


def _named_groups(values: pd.Series, na_label: str) -> tuple[np.ndarray, list[str]]:
    """(rank of each job's group, label per rank): biggest group first, missing values last."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    k = len(uniques)
    codes = np.where(codes < 0, k, codes)
    sizes = np.bincount(codes, minlength=k + 1).astype(np.int64)
    sizes[k] = -1  # the missing-value group sorts last, whatever its size
    order = np.lexsort((np.arange(k + 1), -sizes))
    rank = np.empty(k + 1, dtype=np.intp)
    rank[order] = np.arange(k + 1)
    labels = [*map(str, uniques), na_label]
    return rank[codes], [labels[i] for i in order]


class _MatrixPlotter:
    """Orders, groups and bins the rows and works out the labels; :meth:`plot` only draws.

    Attributes
    ----------
    state : ndarray of int8
        One row per job (per signature with ``group="signature"``) in drawing order, one
        column per action; 0 not reported, 1 unavailable, 2 available.
    image : ndarray of int8
        What is drawn: ``state``, or ``state`` binned to ``max_rows`` rows (edges in
        ``bin_edges``, else None). Drawing bins it further to the pixel rows if need be.
    row_labels, col_labels : list of str
    row_jobs : ndarray
        Jobs per row (all 1 unless grouped).
    group_bounds : list of int
        Rows where a new signature (or named group) starts.
    groups : list of (label, start, stop)
        Named row groups (``sort="current_action"`` or ``"status"``).
    counts : ndarray
        Cells per state over the whole matrix.
    """

    def __init__(self, data: DataSource, *, sort: str, group: str | None = None, max_rows: int | None = None) -> None:
        self._check(sort, group, max_rows)
        matrix = fleet_matrix(data)
        state = state_codes(matrix)
        col_order = np.argsort(-(state == 2).sum(axis=0), kind="stable")
        state = state[:, col_order]
        self.col_labels = [str(c) for c in matrix.columns[col_order]]
        self.counts = np.bincount(state.ravel(), minlength=3)
        self.n_jobs, self.sort, self.group, self.max_rows = len(state), sort, group, max_rows
        self._full_id, self._full_n = row_groups(state)
        job_ids = pd.Index(matrix.index.astype(str))
        order, sep_key, named = self._order(data, state, job_ids)
        self.groups = self._group_spans(named, order)
        if group == "signature":
            self._collapse(state, order)
        else:
            self.state, self.row_jobs = state[order], np.ones(len(order), dtype=np.int64)
            self.row_labels = job_ids[order].tolist()
        bounds = [] if sep_key is None or group else np.flatnonzero(np.diff(sep_key[order])) + 1
        self.group_bounds = list(map(int, bounds))
        self.image, self.bin_edges = bin_rows(self.state, max_rows) if max_rows else (self.state, None)

    @staticmethod
    def _check(sort: str, group: str | None, max_rows: int | None) -> None:
        check_choice("sort", sort, SORTS)
        check_choice("group", group, GROUPS)
        if group and sort not in ("signature", "none"):
            raise ValueError(f"group={group!r} draws one row per signature; sort must be 'signature' or 'none', "
                             f"got {sort!r}")
        if max_rows is not None and (isinstance(max_rows, bool) or not isinstance(max_rows, (int, np.integer))
                                     or max_rows < 1):
            raise ValueError(f"max_rows must be a positive integer or None; got {max_rows!r}")

    def _order(self, data: DataSource, state: np.ndarray, job_ids: pd.Index) -> tuple:
        """(row order, key whose changes are group bounds or None, named groups or None)."""
        n = len(state)
        if self.sort == "none":
            return np.arange(n), None, None
        if self.sort == "job":
            return np.argsort(job_ids.to_numpy(dtype=str), kind="stable"), None, None
        keys = [np.arange(n), *_signature_keys(state, self._full_id, self._full_n)]
        if self.sort == "signature":
            return np.lexsort(keys), self._full_id, None
        values = job_values(data, self.sort, purpose=f"sort={self.sort!r}").reindex(job_ids)
        codes, labels = _named_groups(values, _NAMED_SORTS[self.sort])
        return np.lexsort([*keys, codes]), codes, (codes, labels)

    @staticmethod
    def _group_spans(named: tuple | None, order: np.ndarray) -> list[tuple[str, int, int]]:
        if named is None or not len(order):
            return []
        codes, labels = named
        sorted_codes = codes[order]
        starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
        stops = np.r_[starts[1:], len(order)]
        return [(labels[sorted_codes[s]], int(s), int(e)) for s, e in zip(starts, stops)]

    def _collapse(self, state: np.ndarray, order: np.ndarray) -> None:
        """One row per signature (set of available actions), in the order its first job appears.

        A row is available where the set is; elsewhere unavailable if any of its jobs reported
        the action, else not reported (the cell-wise maximum state of its jobs).
        """
        ids = row_groups(state == 2)[0][order]
        if not len(ids):
            self.state, self.row_jobs = state[:0], np.zeros(0, dtype=np.int64)
        else:
            first = np.full(ids.max() + 1, len(ids))
            np.minimum.at(first, ids, np.arange(len(ids)))
            by_set = np.lexsort((np.arange(len(ids)), first[ids]))  # sets by first appearance, stable
            starts = np.flatnonzero(np.r_[True, np.diff(ids[by_set]) != 0])
            self.state = np.maximum.reduceat(state[order[by_set]], starts, axis=0)
            self.row_jobs = np.diff(np.r_[starts, len(ids)]).astype(np.int64)
        self.row_labels = [f"{n:,} job{'s' if n != 1 else ''}" for n in self.row_jobs.tolist()]

    # -- drawing -------------------------------------------------------------------------------
    def plot(self, ax: Axes, *, legend: bool = True, labels: str | bool = "auto", **kwargs: Any) -> None:
        from .plot_image import add_binned_image

        n_rows, n_cols = self.state.shape
        if n_rows and n_cols:
            add_binned_image(ax, self.image, colors=STATE_COLORS, extent=(-0.5, n_cols - 0.5, n_rows - 0.5, -0.5),
                             **kwargs)
        else:
            ax.text(0.5, 0.5, "no jobs to show" if not n_rows else "no action reported", ha="center", va="center",
                    transform=ax.transAxes, color="#666666")
        ax.set_xticks(range(n_cols), plain(self.col_labels), rotation=90, fontsize=8)
        self._draw_separators(ax)
        self._draw_row_labels(ax, labels)
        self._draw_group_labels(ax)
        self._draw_job_counts(ax)
        ax.set_title(f"Action availability: {self.n_jobs:,} jobs x {n_cols} actions", loc="left",
                     pad=20 if legend else 6)
        if legend:
            state_legend(ax, self.counts)

    def pixel_rows(self, ax: Axes) -> int:
        """Pixel rows of ``ax`` at the figure's dpi."""
        return max(int(ax.get_window_extent().height), 1)

    def drawn_rows(self, ax: Axes) -> int:
        """Rows the picture really has: ``image`` rows, or fewer if the axes has fewer pixel rows."""
        return min(len(self.image), self.pixel_rows(ax))

    def _row_points(self, ax: Axes) -> float:
        return ax.get_window_extent().height * 72 / ax.figure.dpi / max(len(self.state), 1)

    def _draw_separators(self, ax: Axes) -> None:
        """White lines between groups of 3+ rows, while rows are 2 pt or taller and none is binned."""
        too_thin = self._row_points(ax) < _MIN_SEPARATOR_POINTS or self.drawn_rows(ax) < len(self.state)
        if not self.group_bounds or too_thin:
            return
        sizes = np.diff([0, *self.group_bounds, len(self.state)])
        keep = ((sizes[:-1] >= 3) & (sizes[1:] >= 3)) | bool(self.groups)
        bounds = np.asarray(self.group_bounds)[keep]
        if len(bounds):
            ax.hlines(bounds - 0.5, -0.5, self.state.shape[1] - 0.5, colors="white", linewidth=0.6)

    def _draw_row_labels(self, ax: Axes, labels: str | bool) -> None:
        fits = self._row_points(ax) >= _MIN_LABEL_POINTS and self.drawn_rows(ax) == len(self.state)
        if labels is True or (labels == "auto" and fits and len(self.state)):
            ax.set_yticks(range(len(self.state)), plain(self.row_labels), fontsize=6 if self.group is None else 7)
        else:
            ax.set_yticks([])
        ax.set_ylabel(self.ylabel(ax), fontsize=9)

    def ylabel(self, ax: Axes) -> str:
        """'2,000 jobs, 4 per pixel row' and the like: what a row of the picture stands for."""
        n = len(self.state)
        text = f"{n:,} signatures of {self.n_jobs:,} jobs" if self.group else f"{n:,} jobs"
        if self.groups or (self.sort == "signature" and not self.group and n):
            text += f" grouped by {'action signature' if not self.groups else self.sort.replace('_', ' ')}"
        bins = self.drawn_rows(ax)
        if bins < len(self.image):  # binned to the pixel rows: their number changes with the final layout
            per = n / bins
            text += f"\nabout {per:.0f} per pixel row" if per >= 10 else f"\nabout {per:.1f} per pixel row"
        elif 0 < bins < n:  # binned to max_rows: exact
            lo, hi = n // bins, -(-n // bins)
            text += f"\n{lo if lo == hi else f'{lo}-{hi}'} per row"
        return text + (", shown available if any is" if 0 < bins < n else "")

    def _draw_group_labels(self, ax: Axes) -> None:
        """Name the named groups on the right, top down, skipping a label that would overlap the last."""
        row_pt, shown, last = self._row_points(ax), [], -np.inf
        for label, start, stop in self.groups:
            centre = (start + stop - 1) / 2
            if (centre - last) * row_pt >= _MIN_GROUP_LABEL_POINTS:
                shown.append((centre, f"{label} ({stop - start:,})"))
                last = centre
        if not shown:
            return
        side = ax.secondary_yaxis("right")
        side.set_yticks([c for c, _ in shown], plain([t for _, t in shown]), fontsize=7)
        side.tick_params(length=3, width=0.6, color="#666666")
        side.spines["right"].set_visible(False)

    def _draw_job_counts(self, ax: Axes) -> None:
        """With ``group="signature"``: a strip on the right with the jobs of each row, as bars."""
        if self.group is None or not self.state.size:
            return
        strip = ax.inset_axes((1.015, 0.0, 0.1, 1.0), sharey=ax)
        edges = np.arange(len(self.row_jobs) + 1) - 0.5
        strip.stairs(self.row_jobs, edges, orientation="horizontal", fill=True, color="#777777")
        strip.set_xlim(0, self.row_jobs.max() * 1.05)
        strip.set_xlabel("jobs", fontsize=8)
        strip.tick_params(axis="x", labelsize=7, length=2)
        strip.tick_params(axis="y", left=False, labelleft=False)
        strip.spines[["top", "right", "left"]].set_visible(False)


@fill_doc
def plot_availability_matrix(
    data: DataSource,
    *,
    sort: str = "signature",
    group: str | None = None,
    labels: str | bool = "auto",
    legend: bool = True,
    max_rows: int | None = None,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Draw the fleet heatmap: jobs x actions, available / unavailable / not reported.

    Parameters
    ----------
    {data}
    sort : {"signature", "job", "current_action", "status", "none"}
        Row order. "signature" puts jobs with the same set of available actions together,
        biggest set first (identical rows together within it), with a thin line between
        groups. "job" sorts by job ID; "none" keeps the input order. "current_action" groups
        busy jobs by what they are doing (biggest group first, idle jobs last) and names the
        groups on the right; it needs the tidy frame or a FetchResult. "status" does the same
        by job status and needs a per-job ``status`` column. Within a group, jobs are in
        signature order.
    group : {None, "signature"}
        "signature" draws one row per distinct signature (the job's whole row of states),
        labelled with its number of jobs; ``sort`` must then be "signature" (biggest
        first) or "none" (first appearance).
    labels : "auto" or bool
        Row labels (job IDs, or job counts when grouped); "auto" draws them only while
        they fit (rows 7 pt or taller, none binned).
    legend : bool
        Draw the three-state legend, with cell counts.
    max_rows : int, optional
        Draw at most this many rows, binning consecutive rows (see Notes). By default every
        job (or signature) is a row, binned only when drawn on fewer pixel rows.
    {ax}
    **kwargs
        Properties of the :class:`~matplotlib.image.AxesImage` (e.g. ``alpha``,
        ``interpolation``, default "nearest"), and ``aspect`` (default "auto") for the Axes.

    Returns
    -------
    {returns_ax}

    See Also
    --------
    plot_action_rates : the same states counted per action.
    plot_signatures : the most common sets of available actions.

    Notes
    -----
    Columns are ordered by how many jobs can run the action, most first.

    No row ever vanishes. When there are more rows than the axes has pixel rows (at the
    dpi it is drawn at, so also when saved at another dpi), consecutive rows in drawing
    order are binned into the pixel rows, and each cell of a bin shows the *most
    informative* state of its jobs: available if any job in the bin can run the action,
    else unavailable if any reported it, else not reported. A single available job is
    therefore always visible, and "not reported" is never drawn over a reported state;
    the price is that a bin mixing states shows the most available one, which the
    signature sort keeps to the edges of groups. The y label says about how many jobs a
    pixel row holds (worked out for the axes size when plotting; a later layout change
    moves the bins, never the rule); the legend counts the cells exactly. ``ax.get_images()[0]`` keeps
    one row per job (or signature, or ``max_rows`` bin). Vector output with
    ``interpolation="none"`` embeds every row unbinned.

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> matrix = pd.DataFrame({"PAUSE": [True, False, None], "DELETE": [None, True, True]},
    ...                       index=["j1", "j2", "j3"], dtype="boolean")
    >>> ax = plot_availability_matrix(matrix, sort="none", legend=False, ax=Figure().add_subplot())
    >>> ax.get_images()[0].get_array().tolist()  # DELETE first: more jobs can run it
    [[0, 2], [2, 1], [2, 0]]
    """
    check_choice("labels", labels, ("auto", True, False))
    plotter = _MatrixPlotter(data, sort=sort, group=group, max_rows=max_rows)
    ax = get_ax(ax)
    plotter.plot(ax, legend=legend, labels=labels, **kwargs)
    return ax
