"""Bar charts of the fleet: availability per action, and what the jobs are doing now."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .plot_base import (
    plain,
    IDLE_LABEL,
    STATE_COLORS,
    DataSource,
    check_choice,
    fill_doc,
    fleet_summary,
    get_ax,
    job_values,
    state_legend,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["BUSY_COLOR", "IDLE_COLOR", "RATE_SORTS", "plot_action_rates", "plot_current_actions"]

RATE_SORTS = ("rate", "unavailable", "none")
#: Summary columns drawn left to right, and their state codes (colours).
_SEGMENTS = (("available", 2), ("unavailable", 1), ("not_reported", 0))
BUSY_COLOR = "#009e73"  # Okabe-Ito bluish green
IDLE_COLOR = "#bbbbbb"


class _RatesPlotter:
    """Per-action counts or shares in drawing order; :meth:`plot` only draws.

    Attributes
    ----------
    table : DataFrame
        One row per action, top to bottom; columns available, unavailable, not_reported,
        as shares of all jobs (``normalize=True``) or job counts.
    counts : DataFrame
        The same as job counts.
    n_jobs : int
    """

    def __init__(self, data: DataSource, *, sort: str = "rate", normalize: bool = True) -> None:
        check_choice("sort", sort, RATE_SORTS)
        summary = fleet_summary(data)
        counts = summary[[name for name, _ in _SEGMENTS]].astype("int64")
        if sort == "rate":
            counts = counts.sort_values(["available", "unavailable"], ascending=[False, True], kind="stable")
        elif sort == "unavailable":
            counts = counts.sort_values(["unavailable", "available"], ascending=[False, True], kind="stable")
        self.n_jobs = int(summary["jobs"].max()) if len(summary) else 0
        self.normalize = normalize
        self.counts = counts
        self.table = counts / self.n_jobs if normalize and self.n_jobs else counts.astype(float)

    def plot(self, ax: Axes, *, legend: bool = True, **kwargs: Any) -> None:
        y = np.arange(len(self.table))
        left = np.zeros(len(y))
        for key, value in (("height", 0.72), ("edgecolor", "white"), ("linewidth", 0.4)):
            kwargs.setdefault(key, value)
        for name, code in _SEGMENTS:
            widths = self.table[name].to_numpy(dtype=float)
            ax.barh(y, widths, left=left, color=STATE_COLORS[code], **kwargs)
            left += widths
        ax.set_yticks(y, plain(self.table.index), fontsize=8)
        ax.set_ylim(max(len(y), 1) - 0.5, -0.5)
        ax.set_xlim(0, 1 if self.normalize else max(self.n_jobs, 1))
        if not len(y):
            ax.text(0.5, 0.5, "no action reported", ha="center", va="center", transform=ax.transAxes, color="#666666")
        self._label_axes(ax, legend)
        self._label_available(ax, y)

    def _label_axes(self, ax: Axes, legend: bool) -> None:
        from matplotlib.ticker import PercentFormatter

        if self.normalize:
            ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_xlabel(f"share of {self.n_jobs:,} jobs" if self.normalize else "jobs", fontsize=9)
        ax.tick_params(axis="y", length=0)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_title(f"Availability per action: {self.n_jobs:,} jobs x {len(self.table)} actions", loc="left",
                     pad=20 if legend else 6)
        if legend:
            state_legend(ax)

    def _label_available(self, ax: Axes, y: np.ndarray) -> None:
        """The available count (and share) of each action, on the right."""
        if not len(y):
            return
        available = self.counts["available"].to_numpy()
        shares = available / max(self.n_jobs, 1)
        side = ax.secondary_yaxis("right")
        side.set_yticks(y, [f"{n:,} ({s:.0%})" for n, s in zip(available.tolist(), shares.tolist())], fontsize=7,
                        color=STATE_COLORS[2])
        side.tick_params(length=0)
        side.spines["right"].set_visible(False)


@fill_doc
def plot_action_rates(
    data: DataSource,
    *,
    sort: str = "rate",
    normalize: bool = True,
    legend: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Per action, a stacked bar of the jobs that can run it, cannot, or did not report it.

    Parameters
    ----------
    {data}
    sort : {"rate", "unavailable", "none"}
        Bar order, top to bottom: most available first ("rate"), most unavailable first,
        or the documented action order ("none").
    normalize : bool
        Bar lengths as shares of all jobs (0 to 1) rather than job counts.
    legend : bool
        Draw the three-state legend.
    {ax}
    **kwargs
        Passed to each :meth:`matplotlib.axes.Axes.barh` call (defaults ``height=0.72``,
        white edges 0.4 pt wide); the colours are the states'.

    Returns
    -------
    {returns_ax}

    See Also
    --------
    plot_availability_matrix : the same states job by job.
    action_summary : the numbers drawn.

    Notes
    -----
    Every bar covers all jobs: with a FetchResult, jobs that reported no action at all
    count as "not reported" for every action. The right-hand labels give each action's
    available count and share.

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> matrix = pd.DataFrame({"PAUSE": [True, False, None, True], "DELETE": [False, True, None, None]},
    ...                       dtype="boolean")
    >>> ax = plot_action_rates(matrix, ax=Figure().add_subplot())
    >>> [round(float(bar.get_width()), 2) for bar in ax.patches]  # available, unavailable, not reported
    [0.5, 0.25, 0.25, 0.25, 0.25, 0.5]
    """
    plotter = _RatesPlotter(data, sort=sort, normalize=normalize)
    ax = get_ax(ax)
    plotter.plot(ax, legend=legend, **kwargs)
    return ax


class _CurrentPlotter:
    """Jobs per current action; :meth:`plot` only draws.

    Attributes
    ----------
    counts : Series
        Current action -> jobs, busiest first (ties by name), then ``"idle"`` (no current
        action) last when ``idle=True``.
    n_jobs, n_idle : int
    """

    def __init__(self, data: DataSource, *, idle: bool = True) -> None:
        values = job_values(data, "current_action", purpose="plot_current_actions")
        busy = values.dropna().astype(str).value_counts().sort_index()
        busy = busy.sort_values(ascending=False, kind="stable").astype("int64")
        self.n_jobs, self.n_idle = len(values), int(values.isna().sum())
        counts = pd.concat([busy, pd.Series({IDLE_LABEL: self.n_idle}, dtype="int64")]) if idle else busy
        counts.index.name, counts.name = "current_action", "jobs"
        self.counts = counts
        self.idle = idle

    @property
    def cut(self) -> bool:
        """Whether the idle bar is cut at the axis end: it would dwarf the busy bars (over 2x the longest)."""
        busy_max = int(self.counts.drop(IDLE_LABEL).max()) if self.idle and len(self.counts) > 1 else 0
        return bool(self.idle and busy_max and self.n_idle > 2 * busy_max)

    def plot(self, ax: Axes, **kwargs: Any) -> None:
        y = np.arange(len(self.counts))
        colors = [BUSY_COLOR] * len(y)
        if self.idle and len(y):
            colors[-1] = IDLE_COLOR
        kwargs.setdefault("color", colors)
        kwargs.setdefault("height", 0.72)
        bars = ax.barh(y, self.counts.to_numpy(), **kwargs)
        labels = [f"{n:,}" for n in self.counts.tolist()]
        ax.bar_label(bars, labels=labels[:-1] + [""] if self.cut else labels, padding=3, fontsize=8)
        ax.set_yticks(y, plain(self.counts.index), fontsize=8)
        ax.set_ylim(max(len(y), 1) - 0.5, -0.5)
        self._set_xlim(ax, len(y) - 1)
        ax.set_xlabel("jobs", fontsize=9)
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # job counts: no 0.5 jobs
        ax.tick_params(axis="y", length=0)
        ax.spines[["top", "right"]].set_visible(False)
        busy = self.n_jobs - self.n_idle
        ax.set_title(f"Current action: {busy:,} of {self.n_jobs:,} jobs busy", loc="left")
        if not self.n_jobs:
            ax.text(0.5, 0.5, "no jobs to show", ha="center", va="center", transform=ax.transAxes, color="#666666")

    def _set_xlim(self, ax: Axes, idle_y: int) -> None:
        """Room for the count labels; a cut idle bar gets a break mark and its count inside."""
        if not self.cut:
            ax.set_xlim(0, max(int(self.counts.max()) if len(self.counts) else 0, 1) * 1.12)
            return
        right = int(self.counts.drop(IDLE_LABEL).max()) * 1.4
        ax.set_xlim(0, right)
        for x in (0.90, 0.92):  # two slanted white strokes: the bar is broken here
            ax.plot([right * (x - 0.01), right * (x + 0.01)], [idle_y + 0.45, idle_y - 0.45], color="white", lw=1.5)
        ax.text(right * 0.985, idle_y, f"{self.n_idle:,}", ha="right", va="center", fontsize=8)


@fill_doc
def plot_current_actions(data: DataSource, *, idle: bool = True, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """What the fleet is doing now: jobs per current action, one count per job.

    Parameters
    ----------
    data : DataFrame or FetchResult
        A FetchResult (its ``jobs``), or a frame with ``job_id`` and ``current_action``
        columns such as the tidy frame (deduplicated by job). A matrix has no current action.
    idle : bool
        Add a grey "idle" bar, last, for the jobs with no current action. When it is over
        twice as long as the longest busy bar it is cut at the axis end (marked with a
        break and its count), so the busy bars stay readable.
    {ax}
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.barh` (default ``height=0.72``, busy jobs
        green, idle grey).

    Returns
    -------
    {returns_ax}

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> tidy = pd.DataFrame({"job_id": ["a", "a", "b", "c"], "action": ["PAUSE", "DELETE", "PAUSE", "PAUSE"],
    ...                      "available": [True, False, True, False], "current_action": ["START", "START", None, None]})
    >>> ax = plot_current_actions(tidy, ax=Figure().add_subplot())
    >>> [(t.get_text(), int(bar.get_width())) for t, bar in zip(ax.get_yticklabels(), ax.patches)]
    [('START', 1), ('idle', 2)]
    """
    plotter = _CurrentPlotter(data, idle=idle)
    ax = get_ax(ax)
    plotter.plot(ax, **kwargs)
    return ax
