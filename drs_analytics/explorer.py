"""FleetExplorer: filter a fleet by its actions and look at it, in a notebook (ipywidgets).

The explorer composes plain ipywidgets (no subclassing, no custom JavaScript, so it
works in JupyterLab and the classic notebook). Controls are wired with
``observe(..., "value")``; each change recomputes the matching jobs and redraws the
heatmap into an ``Output`` with ``clear_output(wait=True)``, on the thread that changed
the value (the kernel's main thread in a notebook; never a worker thread).

The data work lives in :class:`_Fleet` (pure pandas/numpy, testable without widgets);
:class:`FleetExplorer` only builds widgets and draws. ``ipywidgets`` is imported when an
explorer is created, so importing this module stays light.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from html import escape
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .display import format_utc
from .frame import availability_matrix
from .plot_base import state_codes
from .report import write_csv
from .result import FetchResult

__all__ = [
    "ANY_CURRENT",
    "AVAILABILITY_STATES",
    "EXPLORER_SORTS",
    "EXPORT_FILES",
    "IDLE",
    "SEARCH_COLUMNS",
    "FleetExplorer",
]

#: Availability filters, applied to the selected actions (no effect while none is selected).
AVAILABILITY_STATES = ("any state", "all available", "any available", "none available", "any unavailable",
                       "any not reported")
#: Row orders: by action signature (biggest group first), by job ID, by current action (idle last).
EXPLORER_SORTS = ("signature", "job", "current_action")
#: Per-job columns searched by the text box, when present.
SEARCH_COLUMNS = ("job_id", "job_name", "name", "status", "job_type", "engine_type", "region", "project_id")
#: Current-action filter values besides the actions themselves (which are upper case).
ANY_CURRENT, IDLE = "any", "idle"
#: Files written by :meth:`FleetExplorer.export`.
EXPORT_FILES = ("filtered_actions.csv", "filtered_matrix.csv")

TABLE_ROWS = 50  # jobs listed in the table
JOB_CHOICES = 500  # jobs offered in the job chooser
_REQUIRED = ("job_id", "action", "available")
_META = SEARCH_COLUMNS[1:]

_STATE_TESTS = {
    "all available": lambda s: (s == 2).all(axis=1),
    "any available": lambda s: (s == 2).any(axis=1),
    "none available": lambda s: ~(s == 2).any(axis=1),
    "any unavailable": lambda s: (s == 1).any(axis=1),
    "any not reported": lambda s: (s == 0).any(axis=1),
}


def _ipywidgets() -> Any:
    try:
        import ipywidgets
    except ImportError:  # pragma: no cover - ipywidgets is a dependency
        raise ImportError("FleetExplorer needs ipywidgets 8: pip install 'ipywidgets>=8.1'") from None
    return ipywidgets


def _jobs_from_frame(frame: pd.DataFrame, matrix: pd.DataFrame, state: np.ndarray) -> pd.DataFrame:
    """One row per job of ``matrix``, from each job's first row in ``frame``."""
    cols = [c for c in ("job_id", "current_action", "fetched_at", "from_cache") if c in frame.columns]
    first = frame[cols].dropna(subset=["job_id"]).drop_duplicates("job_id")
    first = first.assign(job_id=first["job_id"].astype(str)).set_index("job_id").reindex(matrix.index)
    if "current_action" not in first.columns:
        first["current_action"] = pd.Series(pd.NA, index=first.index, dtype="string")
    first.insert(1, "n_available", (state == 2).sum(axis=1))
    first.insert(2, "n_unavailable", (state == 1).sum(axis=1))
    return first.reset_index()


def _add_metadata(jobs: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Copy name / status / job_type from the frame when the jobs table lacks them."""
    extra = [c for c in _META if c in frame.columns and c not in jobs.columns]
    if not extra:
        return jobs
    first = frame[["job_id", *extra]].drop_duplicates("job_id")
    first = first.assign(job_id=first["job_id"].astype(str)).set_index("job_id")
    return jobs.join(first, on="job_id")


class _Fleet:
    """The explorer's data: matrix, per-job table and cell states, aligned row by row."""

    def __init__(self, source: FetchResult | pd.DataFrame) -> None:
        if isinstance(source, FetchResult):
            self.frame, self.matrix = source.frame, source.matrix()
            self.state = state_codes(self.matrix)
            jobs = source.jobs
        elif isinstance(source, pd.DataFrame):
            missing = [c for c in _REQUIRED if c not in source.columns]
            if missing:
                raise ValueError(f"FleetExplorer needs a tidy frame with {', '.join(_REQUIRED)}; "
                                 f"missing {', '.join(missing)}")
            self.frame, self.matrix = source, availability_matrix(source)
            self.state = state_codes(self.matrix)
            jobs = _jobs_from_frame(source, self.matrix, self.state)
        else:
            raise TypeError(f"FleetExplorer takes a FetchResult or a tidy DataFrame, not {type(source).__name__}")
        self.jobs = _add_metadata(jobs, self.frame).reset_index(drop=True)
        self.has_current = "current_action" in self.frame.columns or isinstance(source, FetchResult)
        self._search = {c: self.jobs[c].astype("string").str.lower() for c in SEARCH_COLUMNS if c in self.jobs.columns}

    def __len__(self) -> int:
        return len(self.jobs)

    @property
    def current_values(self) -> list[str]:
        return sorted(str(v) for v in self.jobs["current_action"].dropna().unique())

    def mask(self, *, actions: tuple[str, ...] = (), state: str = "any state", current: str = ANY_CURRENT,
             search: str = "") -> np.ndarray:
        """Boolean mask over the jobs matching every filter."""
        return self._state_mask(actions, state) & self._current_mask(current) & self._search_mask(search)

    def _state_mask(self, actions: tuple[str, ...], state: str) -> np.ndarray:
        if state not in AVAILABILITY_STATES:
            raise ValueError(f"state must be one of {', '.join(AVAILABILITY_STATES)}; got {state!r}")
        if not actions or state == "any state":
            return np.ones(len(self), dtype=bool)
        columns = self.matrix.columns.get_indexer(list(actions))
        return _STATE_TESTS[state](self.state[:, columns])

    def _current_mask(self, current: str) -> np.ndarray:
        values = self.jobs["current_action"]
        if current == ANY_CURRENT:
            return np.ones(len(self), dtype=bool)
        if current == IDLE:
            return values.isna().to_numpy()
        return (values.astype(object) == current).to_numpy(dtype=bool)

    def _search_mask(self, text: str) -> np.ndarray:
        text = text.strip().lower()
        found = np.zeros(len(self), dtype=bool) if text else np.ones(len(self), dtype=bool)
        for column in self._search.values() if text else ():
            found |= column.str.contains(text, regex=False).fillna(False).to_numpy(dtype=bool)
        return found

    def order(self, rows: np.ndarray, sort: str) -> np.ndarray:
        """Positions ``rows`` (job positions) in the chosen order."""
        if sort not in EXPLORER_SORTS:
            raise ValueError(f"sort must be one of {', '.join(EXPLORER_SORTS)}; got {sort!r}")
        if sort == "job":
            return rows[np.argsort(self.jobs["job_id"].to_numpy(dtype=str)[rows], kind="stable")]
        if sort == "current_action":  # by name, idle last, then input order (lexsort is stable)
            current = self.jobs["current_action"].iloc[rows]
            names = current.astype(object).fillna("").to_numpy(dtype=str)
            return rows[np.lexsort((names, current.isna().to_numpy()))]
        return rows[self._signature_order(rows)]

    def _signature_order(self, rows: np.ndarray) -> np.ndarray:
        """The heatmap's own signature order (one definition, in plots), as positions in ``rows``."""
        from .plots import _MatrixPlotter

        if len(rows) == 0 or self.state.shape[1] == 0:
            return np.arange(len(rows))
        drawn = _MatrixPlotter(self.matrix.iloc[rows], sort="signature").row_labels
        return pd.Index(self.matrix.index[rows]).get_indexer(drawn)


class FleetExplorer:
    """Filter a fleet by its actions and look at it: heatmap, job table, per-job detail, CSV export.

    Parameters
    ----------
    source : FetchResult or DataFrame
        A fetch result (every fetched job, also those that reported no action) or a
        tidy frame with at least ``job_id``, ``action`` and ``available``.

    Attributes
    ----------
    actions, state, current, search, sort : ipywidgets
        The filters: actions (``SelectMultiple``), their availability state (one of
        :data:`AVAILABILITY_STATES`, no effect while no action is selected), current
        action (``"any"``, ``"idle"`` or an action), text contained in the job ID (or
        name / status / job type when present; applied on Enter or when the box loses
        focus), and row order (one of :data:`EXPLORER_SORTS`).
    count : ipywidgets.Label
        ``"N of M jobs"``.
    heatmap : ipywidgets.Output
        The heatmap of the matching jobs.
    figure : matplotlib.figure.Figure or None
        The last heatmap drawn. It is not registered with pyplot, so it is never shown
        on its own: the Output shows its PNG once.
    table : ipywidgets.HTML
        The first 50 matching jobs.
    job, detail : ipywidgets
        The job chooser (the first 500 matching jobs) and its available / unavailable /
        current actions, ``fetched_at`` and whether it came from the cache.
    folder, export_button, export_status : ipywidgets
        Where "Export CSV" writes :data:`EXPORT_FILES`, and the paths it wrote.
    widget : ipywidgets.VBox
        The whole explorer (what a notebook displays).

    Examples
    --------
    >>> explorer = FleetExplorer(result)              # doctest: +SKIP
    >>> explorer.actions.value = ("PAUSE",)           # doctest: +SKIP
    >>> explorer.state.value = "all available"        # doctest: +SKIP
    >>> explorer.filtered_jobs()                      # doctest: +SKIP
    """

    def __init__(self, source: FetchResult | pd.DataFrame) -> None:
        self._fleet = _Fleet(source)
        self._rows = np.arange(len(self._fleet))
        self.figure: Any = None
        self._held, self._closed = 0, False
        self._build(_ipywidgets())
        self._connect()
        self._update()

    # -- widgets --------------------------------------------------------------------------
    def _build(self, w: Any) -> None:
        fleet = self._fleet
        self.actions = w.SelectMultiple(options=list(fleet.matrix.columns), rows=8, description="Actions")
        self.state = w.Dropdown(options=AVAILABILITY_STATES, description="State")
        current = [ANY_CURRENT, IDLE, *fleet.current_values] if fleet.has_current else [ANY_CURRENT]
        self.current = w.Dropdown(options=current, description="Current")
        self.search = w.Text(placeholder="part of a job ID, name, status", description="Search",
                             continuous_update=False)
        self.sort = w.Dropdown(options=EXPLORER_SORTS, description="Sort")
        self.count = w.Label()
        self.heatmap = w.Output()
        self.table = w.HTML(layout=w.Layout(max_height="320px", overflow="auto", width="100%"))
        self.job = w.Dropdown(options=[], description="Job", layout=w.Layout(width="auto"))
        self.detail = w.HTML()
        self.folder = w.Text(value="drs_export", description="Folder", continuous_update=False)
        self.export_button = w.Button(description="Export CSV", icon="download",
                                      tooltip="Write the matching jobs as filtered_actions.csv and filtered_matrix.csv")
        self.export_status = w.Label()
        filters = w.HBox([self.actions, w.VBox([self.state, self.current, self.search, self.sort])])
        jobs = w.HBox([w.VBox([self.table], layout=w.Layout(flex="3")),
                       w.VBox([self.job, self.detail], layout=w.Layout(flex="2"))])
        export = w.HBox([self.folder, self.export_button, self.export_status])
        self.widget = w.VBox([filters, self.count, self.heatmap, jobs, export])
        self._containers = [filters, *filters.children[1:], jobs, *jobs.children, export, self.widget]

    def _connect(self) -> None:
        self._observers = [(control, self._update) for control in self._filters()]
        self._observers.append((self.job, self._show_job))
        for control, handler in self._observers:
            control.observe(handler, names="value")
        self.export_button.on_click(self._on_export)

    def _filters(self) -> list[Any]:
        return [self.actions, self.state, self.current, self.search, self.sort]

    def close(self) -> None:
        """Unhook every observer and close every widget (the explorer goes blank)."""
        for control, handler in self._observers:
            control.unobserve(handler, names="value")
        self._observers = []
        self.export_button.on_click(self._on_export, remove=True)
        for widget in [*self._filters(), self.count, self.heatmap, self.table, self.job, self.detail, self.folder,
                       self.export_button, self.export_status, *self._containers]:
            widget.close()
        self.figure, self._closed = None, True

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    # -- results --------------------------------------------------------------------------
    def filtered_jobs(self) -> pd.DataFrame:
        """One row per matching job, in the chosen order."""
        return self._fleet.jobs.iloc[self._rows].reset_index(drop=True)

    def filtered_matrix(self) -> pd.DataFrame:
        """The availability matrix of the matching jobs, in the chosen order."""
        return self._fleet.matrix.iloc[self._rows]

    def filtered_frame(self) -> pd.DataFrame:
        """The tidy rows of the matching jobs, in the source's row order."""
        frame = self._fleet.frame
        ids = self._fleet.jobs["job_id"].iloc[self._rows]
        return frame[frame["job_id"].astype(str).isin(ids).to_numpy()].reset_index(drop=True)

    def export(self, folder: str | Path) -> dict[str, Path]:
        """Write the matching jobs' tidy frame and matrix as CSV into ``folder`` (created if needed).

        Returns
        -------
        dict
            File name (see :data:`EXPORT_FILES`) -> path written.
        """
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths = {name: out / name for name in EXPORT_FILES}
        write_csv(self.filtered_frame(), paths["filtered_actions.csv"])
        write_csv(self.filtered_matrix(), paths["filtered_matrix.csv"], index=True)
        return paths

    @contextmanager
    def hold(self) -> Iterator[FleetExplorer]:
        """Set several filters with one redraw, on leaving the block.

        >>> with explorer.hold():                     # doctest: +SKIP
        ...     explorer.actions.value = ("PAUSE", "RETRY")
        ...     explorer.state.value = "any available"
        """
        self._held += 1
        try:
            yield self
        finally:
            self._held -= 1
            if not self._held:
                self._update()

    # -- observers ------------------------------------------------------------------------
    def _update(self, change: Any = None) -> None:
        if self._held or self._closed:
            return
        fleet = self._fleet
        mask = fleet.mask(actions=tuple(self.actions.value), state=self.state.value, current=self.current.value,
                          search=self.search.value)
        self._rows = fleet.order(np.flatnonzero(mask), self.sort.value)
        self.state.disabled = not self.actions.value
        self.count.value = f"{len(self._rows):,} of {len(fleet):,} jobs"
        self.table.value = _jobs_table(self.filtered_jobs(), len(self._rows))
        self._offer_jobs()
        self._draw()

    def _offer_jobs(self) -> None:
        ids = list(self._fleet.jobs["job_id"].iloc[self._rows[:JOB_CHOICES]])
        chosen = self.job.value
        self.job.options = ids
        self.job.value = chosen if chosen in ids else (ids[0] if ids else None)
        self._show_job()

    def _show_job(self, change: Any = None) -> None:
        job_id = self.job.value
        if job_id is None:
            self.detail.value = "<i>no job matches the filters</i>"
            return
        position = self._fleet.matrix.index.get_loc(job_id)
        self.detail.value = _job_detail(self._fleet, position)

    def _draw(self) -> None:
        from IPython.display import Image, clear_output, display

        png = self._render()
        with self.heatmap:
            clear_output(wait=True)
            display(Image(data=png, format="png"))

    def _render(self) -> bytes:
        """Draw the heatmap of the matching jobs on a new Figure; return it as PNG."""
        from matplotlib.figure import Figure

        from .plots import plot_availability_matrix

        matrix = self.filtered_matrix()
        height = min(8.0, max(3.0, 2.2 + 0.03 * len(matrix)))
        fig = Figure(figsize=(9.0, height), dpi=80, layout="constrained")
        # the rows are already in the table's order: draw them as they are
        plot_availability_matrix(matrix, sort="none", ax=fig.add_subplot())
        buffer = BytesIO()
        fig.savefig(buffer, format="png")
        self.figure = fig
        return buffer.getvalue()

    def _on_export(self, button: Any = None) -> None:
        folder = self.folder.value
        try:
            paths = self.export(folder)
        except OSError as exc:
            self.export_status.value = f"Could not export to {folder!r}: {exc}"
            return
        self.export_status.value = "Wrote " + ", ".join(str(p.resolve()) for p in paths.values())


def _jobs_table(jobs: pd.DataFrame, n_matching: int) -> str:
    """HTML table of the first :data:`TABLE_ROWS` jobs (escaped by pandas)."""
    shown = jobs.head(TABLE_ROWS).copy()
    shown["current_action"] = shown["current_action"].astype(object).where(shown["current_action"].notna(), IDLE)
    if "fetched_at" in shown.columns:
        shown["fetched_at"] = [format_utc(t) if pd.notna(t) else "" for t in shown["fetched_at"]]
    caption = f"first {len(shown):,} of {n_matching:,} matching jobs" if n_matching > TABLE_ROWS else \
        f"{n_matching:,} matching jobs"
    table = shown.to_html(index=False, escape=True, border=0, na_rep="", classes="drs-jobs")
    return f"<div style='font-size:90%'><i>{escape(caption)}</i>{table}</div>"


def _job_detail(fleet: _Fleet, position: int) -> str:
    """HTML: one job's actions by state, its current action, when it was fetched."""
    job = fleet.jobs.iloc[position]
    row = fleet.state[position]
    names = np.asarray(fleet.matrix.columns, dtype=object)
    current = job.get("current_action")
    lines = [f"<b>{escape(str(job['job_id']))}</b>",
             f"current action: {escape(IDLE if pd.isna(current) else str(current))}"]
    for code, label in ((2, "available"), (1, "unavailable"), (0, "not reported")):
        listed = ", ".join(escape(str(n)) for n in names[row == code]) or "&mdash;"
        lines.append(f"{label} ({int((row == code).sum())}): {listed}")
    lines.append(_fetched_line(job))
    lines += [f"{col}: {escape(str(job[col]))}" for col in _META if col in job.index and pd.notna(job[col])]
    return "<div style='line-height:1.5'>" + "<br>".join(lines) + "</div>"


def _fetched_line(job: pd.Series) -> str:
    fetched = job.get("fetched_at")
    when = format_utc(fetched) if fetched is not None and pd.notna(fetched) else "unknown"
    cached = job.get("from_cache")
    source = "unknown" if cached is None or pd.isna(cached) else ("yes" if bool(cached) else "no")
    return f"fetched at: {escape(when)} (from cache: {source})"
