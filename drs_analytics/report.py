"""CSV + PNG fleet reports, and reading them back.

A report folder holds:

=================  ==========================================================
actions.csv        the tidy frame, one row per (job, action)
matrix.csv         jobs x actions: ``True`` / ``False`` / empty (not reported)
summary.csv        per action: available, unavailable, not reported, rates
errors.csv         one row per job that could not be fetched
availability.png   the heatmap (available / unavailable / not reported)
=================  ==========================================================

Every file is written to a temporary name and renamed into place, so a report
folder never holds a half-written file.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from .fetch import FetchResult
from .frame import FRAME_COLUMNS, action_summary, as_matrix
from .listing import META_COLUMNS
from .vocabulary import order_actions

__all__ = ["REPORT_FILES", "read_actions", "read_errors", "render_heatmap", "write_csv", "write_frame_report", "write_report"]

REPORT_FILES = ("actions.csv", "matrix.csv", "summary.csv", "errors.csv", "availability.png")

_CATEGORY_COLUMNS = ("project_id", "job_id", "action", "current_action")


def _atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Write through ``write(tmp_name)`` beside ``path``, then rename into place.

    The writer creates the temporary file itself, so it gets the usual permissions (umask).
    """
    tmp = str(path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp"))
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(frame: pd.DataFrame, path, *, index: bool = False):
    """Write ``frame`` as UTF-8 CSV, atomically; timestamps as ISO 8601 UTC (``...Z``).

    ``path`` may also be an open text file (e.g. ``sys.stdout``), written directly.
    """
    frame = frame.copy()
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
            frame[col] = frame[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    if hasattr(path, "write"):
        frame.to_csv(path, index=index, lineterminator="\n")
        return path
    path = Path(path)
    _atomic_write(path, lambda tmp: frame.to_csv(tmp, index=index, encoding="utf-8", lineterminator="\n"))
    return path


def render_heatmap(frame_or_matrix: pd.DataFrame, path: str | Path, *, dpi: int = 110) -> Path:
    """Save the availability heatmap as a PNG sized for the number of jobs."""
    from matplotlib.figure import Figure

    from .plots import plot_availability_matrix

    matrix = as_matrix(frame_or_matrix)
    rows, cols = matrix.shape
    fig = Figure(figsize=(max(7.0, 2.5 + 0.28 * cols), min(60.0, max(4.5, 2.4 + 0.045 * rows))), dpi=dpi)
    ax = fig.add_subplot()
    plot_availability_matrix(matrix, ax=ax)
    fig.tight_layout()
    path = Path(path)
    _atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))
    return path


def write_frame_report(frame: pd.DataFrame, matrix: pd.DataFrame, out_dir: str | Path, *,
                       errors: pd.DataFrame | None = None, png: bool = True) -> dict[str, Path]:
    """Write the report files of a tidy frame and its matrix (``errors.csv`` only when given)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = [n for n in REPORT_FILES if (png or n != "availability.png") and (errors is not None or n != "errors.csv")]
    paths = {name: out / name for name in names}
    write_csv(frame, paths["actions.csv"])
    write_csv(matrix, paths["matrix.csv"], index=True)
    write_csv(action_summary(matrix), paths["summary.csv"], index=True)
    if errors is not None:
        write_csv(errors, paths["errors.csv"])
    if png:
        render_heatmap(matrix, paths["availability.png"])
    return paths


def write_report(result: FetchResult, out_dir: str | Path, *, png: bool = True) -> dict[str, Path]:
    """Write the report files of ``result`` into ``out_dir`` (created if needed).

    Returns
    -------
    dict
        File name -> path, for the files written.
    """
    return write_frame_report(result.frame, result.matrix(), out_dir, errors=result.errors, png=png)


def read_actions(path: str | Path) -> pd.DataFrame:
    """Read an ``actions.csv`` back into a tidy frame with the original dtypes and order.

    Category orders are rebuilt as :func:`~drs_analytics.fetch_actions` makes them:
    jobs (and projects) in file order, actions documented ones first.
    """
    frame = pd.read_csv(path, dtype=str, keep_default_na=False,
                        na_values={c: [""] for c in ("current_action", *META_COLUMNS)})
    if "stale" not in frame.columns:  # reports written before the column existed
        frame["stale"] = "False"
    missing = [c for c in FRAME_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} is not an actions.csv report: missing column(s) {', '.join(missing)}")
    for col in ("project_id", "job_id"):
        frame[col] = _with_categories(frame[col], list(dict.fromkeys(frame[col])))
    frame["action"] = _with_categories(frame["action"], order_actions(frame["action"]))
    frame["current_action"] = _with_categories(frame["current_action"], sorted(frame["current_action"].dropna().unique()))
    for col in [c for c in ("available", "from_cache", "stale") if c in frame.columns]:
        frame[col] = _booleans(frame[col], col, path)
    frame["fetched_at"] = pd.to_datetime(frame["fetched_at"], utc=True).dt.as_unit("ns")
    meta = [c for c in META_COLUMNS if c in frame.columns]  # reports of fetch_fleet / enrich=True
    for col in meta:
        frame[col] = _with_categories(frame[col], list(frame[col].dropna().unique()))
    return frame[[*FRAME_COLUMNS, *meta]]


def _with_categories(values: pd.Series, categories: list) -> pd.Categorical:
    return pd.Categorical(values, categories=pd.Index(categories, dtype=object).astype(str))


def _booleans(values: pd.Series, column: str, path: str | Path) -> pd.Series:
    """``True``/``False`` cells as bool; anything else is an error naming the column."""
    mapped = values.map({"True": True, "False": False})
    if mapped.isna().any():
        bad = sorted({repr(v) for v in values[mapped.isna()]})[:5]
        raise ValueError(f"{path}: column {column!r} must hold True/False, found {', '.join(bad)}")
    return mapped.astype(bool)


def read_errors(path: str | Path) -> pd.DataFrame:
    """Read an ``errors.csv`` back."""
    frame = pd.read_csv(path, dtype={"status_code": "Int64", "attempts": "int64"}, keep_default_na=False,
                        na_values=[""])
    for col in frame.columns:  # ERRORS_COLUMNS, and project_id/region of fleet reports
        if col not in ("status_code", "attempts"):
            frame[col] = frame[col].astype("string")
    return frame
