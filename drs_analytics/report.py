"""CSV + PNG fleet reports, and reading them back.

A report folder holds:

=================  ==========================================================
actions.csv        the tidy frame, one row per (job, action)
matrix.csv         jobs x actions: ``True`` / ``False`` / empty (not reported)
summary.csv        per action: available, unavailable, not reported, rates
errors.csv         one row per job that could not be fetched
availability.png   the heatmap (available / unavailable / not reported)
report.json        the manifest: schema version, package version, time, files
=================  ==========================================================

Columns, in order (the schema of :data:`SCHEMA_VERSION` 1; later versions of the
package may add columns at the end of a file, and readers ignore columns they do not
know; a removed or renamed column, or a changed format, raises the version):

``actions.csv``
    ``project_id, job_id, action, available, current_action, fetched_at, from_cache,
    stale`` (:data:`~drs_analytics.frame.FRAME_COLUMNS`; a file without ``stale``, written
    before it existed, reads as ``stale=False``), then the job metadata of ``fetch_fleet`` / ``enrich=True``
    (:data:`~drs_analytics.listing.META_COLUMNS`). ``available``/``from_cache``/``stale``
    are ``True``/``False``; ``fetched_at`` is ISO 8601 UTC (``2026-12-03T10:00:00Z``);
    an idle job's ``current_action`` and missing metadata are empty.
``matrix.csv``
    ``job_id``, then one column per action (documented ones first): ``True``,
    ``False``, or empty (the job did not report the action).
``summary.csv``
    ``action, available, unavailable, not_reported, jobs, availability_rate,
    reported_rate`` (rates are empty when undefined).
``errors.csv``
    :data:`~drs_analytics.result.ERRORS_COLUMNS` (``job_id, status_code, error_code,
    error_msg, attempts, error_type, request_id, detail``), plus ``project_id`` /
    ``region`` in fleet reports; ``status_code`` is empty without an HTTP answer.
``report.json``
    ``{"schema_version": 1, "package_version": "...", "created_at": "...Z",
    "files": {"actions.csv": {"rows": n, "columns": [...]}, ...}, "neutralised": true}``:
    one entry per CSV, its columns as written (the header, index included, without the
    neutralising quotes). It is written last, so its presence says the CSVs are complete.

All CSVs are UTF-8 (no byte-order mark), ``\\n`` line ends, columns in the order above.
Text cells and headers that a spreadsheet would run as a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) are prefixed with ``'``
(:mod:`drs_analytics.csv_safety`; plain numbers such as ``-5`` stay as they are);
``raw=True`` writes exactly what pandas writes, for programmatic consumers, and
``report.json`` says which it is. :func:`read_actions` and :func:`read_errors` undo
the quoting, so a report reads back exactly either way.

Every file is written to a temporary name and renamed into place, so a report
folder never holds a half-written file. Writing a report first deletes the folder's
old ``report.json`` (so a run that fails halfway never leaves an old manifest vouching
for a mix of old and new files) and the temporary files earlier writes left behind
(``.actions.csv.<pid>.<hex>.tmp`` of a process that is gone, or older than an hour).
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from ._version import __version__
from .csv_safety import neutralise_frame, restore_frame
from .fetch import FetchResult
from .frame import FRAME_COLUMNS, action_summary, as_matrix
from .listing import META_COLUMNS
from .vocabulary import order_actions

__all__ = [
    "MANIFEST", "REPORT_FILES", "SCHEMA_VERSION", "ReportFormatError", "invalidate_report", "read_actions",
    "read_errors", "read_manifest", "remove_leftovers", "render_heatmap", "write_csv", "write_frame_report",
    "write_report",
]

#: Version of the report files' layout, recorded in ``report.json``.
SCHEMA_VERSION = 1
#: The manifest's file name.
MANIFEST = "report.json"
REPORT_FILES = ("actions.csv", "matrix.csv", "summary.csv", "errors.csv", "availability.png", MANIFEST)

_CATEGORY_COLUMNS = ("project_id", "job_id", "action", "current_action")
#: True/False columns of ``actions.csv``.
BOOL_COLUMNS = ("available", "from_cache", "stale")
#: Columns an ``actions.csv`` may lack, and the value they then take.
_OPTIONAL_COLUMNS = {"stale": False}


class ReportFormatError(ValueError):
    """A report file this version cannot read: not a report, or a newer schema."""


#: Temporary files of :func:`_atomic_write`: ``.{name}.{pid}.{12 hex digits}.tmp``.
_TMP_NAME = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{12}\.tmp")
#: A temporary file older than this is a leftover even if its process seems alive (pids are reused).
_TMP_MAX_AGE = 3600.0


def _process_gone(pid: int) -> bool:
    if pid == os.getpid():
        return False  # another thread of ours may be writing it
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT there: rely on the age alone
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False
    return False


def remove_leftovers(out_dir: str | Path) -> list[Path]:
    """Delete the temporary files report writes left in ``out_dir`` (their process is gone, or
    they are over an hour old); other files are never touched. Returns the paths deleted."""
    removed = []
    out = Path(out_dir)
    if not out.is_dir():
        return removed
    now = time.time()
    for path in out.iterdir():
        match = _TMP_NAME.fullmatch(path.name)
        if match is None or match["name"] not in REPORT_FILES or not path.is_file():
            continue
        try:
            old = now - path.stat().st_mtime > _TMP_MAX_AGE
            if old or _process_gone(int(match["pid"])):
                path.unlink()
                removed.append(path)
        except OSError:  # gone meanwhile, or not ours to delete: leave it
            continue
    return removed


def invalidate_report(out_dir: str | Path) -> None:
    """Delete ``out_dir``'s ``report.json`` and leftover temporary files, before a new report.

    Until the new ``report.json`` is written, the folder then says it holds no complete report.
    """
    Path(out_dir, MANIFEST).unlink(missing_ok=True)
    remove_leftovers(out_dir)


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


def _csv_ready(frame: pd.DataFrame, index: bool, raw: bool) -> pd.DataFrame:
    """The frame as written: neutralised unless ``raw``, timestamps as ISO 8601 UTC text."""
    frame = frame.copy() if raw else neutralise_frame(frame, index=index)
    for position, dtype in enumerate(frame.dtypes):
        if isinstance(dtype, pd.DatetimeTZDtype):
            frame.isetitem(position, frame.iloc[:, position].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return frame


def write_csv(frame: pd.DataFrame, path, *, index: bool = False, raw: bool = False):
    """Write ``frame`` as UTF-8 CSV, atomically; timestamps as ISO 8601 UTC (``...Z``).

    ``path`` may also be an open text file (e.g. ``sys.stdout``), written directly.

    Parameters
    ----------
    frame : DataFrame
        The data; columns are written in their order.
    path : str, Path or text file
        Where to write.
    index : bool
        Write the index as the first column(s).
    raw : bool
        Write cells exactly as pandas does. By default text cells and headers that a
        spreadsheet would run as a formula get a leading ``'``
        (:mod:`drs_analytics.csv_safety`); :func:`read_actions`, :func:`read_errors`
        and :func:`~drs_analytics.csv_safety.restore_frame` undo it.
    """
    frame = _csv_ready(frame, index, raw)
    if raw:
        if hasattr(path, "write"):
            frame.to_csv(path, index=index, lineterminator="\n")
            return path
        path = Path(path)
        _atomic_write(path, lambda tmp: frame.to_csv(tmp, index=index, encoding="utf-8", lineterminator="\n"))
        return path
    text = _csv_text(frame, index)
    if hasattr(path, "write"):
        path.write(text)
        return path
    path = Path(path)
    _atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8", newline=""))
    return path


def _csv_text(frame: pd.DataFrame, index: bool) -> str:
    """CSV text with ``\\n`` line ends in which every cell holding a CR or LF is quoted.

    Python's csv writer quotes a cell only for the characters of its line terminator,
    so with ``\\n`` a bare CR goes out unquoted and reads back as a line break. Written
    with ``\\r\\n``, every cell holding either is quoted; the record ends (outside
    quotes: even-numbered pieces between ``"``) then become ``\\n``.
    """
    pieces = frame.to_csv(index=index, lineterminator="\r\n").split('"')
    pieces[::2] = [piece.replace("\r\n", "\n") for piece in pieces[::2]]
    return '"'.join(pieces)


def render_heatmap(frame_or_matrix: pd.DataFrame, path: str | Path, *, dpi: int = 110) -> Path:
    """Save the availability heatmap as a PNG sized for the number of jobs.

    Parameters
    ----------
    frame_or_matrix : DataFrame
        A tidy frame or its matrix.
    path : str or Path
        The PNG file (written atomically).
    dpi : int
        Resolution.
    """
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


def _header(frame: pd.DataFrame, index: bool) -> list[str]:
    """The column names a CSV of ``frame`` starts with (before neutralising)."""
    names = [n if n is not None else "" for n in frame.index.names] if index else []
    return [str(n) for n in (*names, *frame.columns)]


def _write_manifest(path: Path, files: dict[str, dict[str, Any]], raw: bool) -> Path:
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "package_version": __version__,
        "created_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "files": files,
        "neutralised": not raw,
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
    _atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return path


def write_frame_report(frame: pd.DataFrame, matrix: pd.DataFrame, out_dir: str | Path, *,
                       errors: pd.DataFrame | None = None, png: bool = True, raw: bool = False) -> dict[str, Path]:
    """Write the report files of a tidy frame and its matrix (``errors.csv`` only when given).

    ``raw=True`` writes the CSV cells exactly as pandas does (see :func:`write_csv`);
    ``report.json`` is written last and records the choice. An old ``report.json`` is
    deleted first (see the module notes).

    Parameters
    ----------
    frame : DataFrame
        The tidy frame (``actions.csv``).
    matrix : DataFrame
        Its jobs x actions matrix (``matrix.csv``, ``summary.csv``, the heatmap).
    out_dir : str or Path
        The report folder (created if needed).
    errors : DataFrame, optional
        Error records (``errors.csv``).
    png : bool
        Also render ``availability.png``.
    raw : bool
        No formula-injection quoting in the CSVs.

    Returns
    -------
    dict
        File name -> path, for the files written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    invalidate_report(out)  # an old manifest must not vouch for a half-replaced folder
    tables: dict[str, tuple[pd.DataFrame, bool]] = {
        "actions.csv": (frame, False),
        "matrix.csv": (matrix, True),
        "summary.csv": (action_summary(matrix), True),
    }
    if errors is not None:
        tables["errors.csv"] = (errors, False)
    names = [n for n in REPORT_FILES if n in tables or n == MANIFEST or (png and n == "availability.png")]
    paths = {name: out / name for name in names}
    files: dict[str, dict[str, Any]] = {}
    for name, (table, index) in tables.items():
        write_csv(table, paths[name], index=index, raw=raw)
        files[name] = {"rows": len(table), "columns": _header(table, index)}
    if png:
        render_heatmap(matrix, paths["availability.png"])
    _write_manifest(paths[MANIFEST], files, raw)
    return paths


def write_report(result: FetchResult, out_dir: str | Path, *, png: bool = True, raw: bool = False) -> dict[str, Path]:
    """Write the report files of ``result`` into ``out_dir`` (created if needed).

    Parameters
    ----------
    result : FetchResult
        What :func:`~drs_analytics.fetch_actions` or :func:`~drs_analytics.fetch_fleet` returned.
    out_dir : str or Path
        The report folder.
    png : bool
        Also render ``availability.png``.
    raw : bool
        Write CSV cells exactly as pandas does, without the formula-injection quoting.

    Returns
    -------
    dict
        File name -> path, for the files written.
    """
    return write_frame_report(result.frame, result.matrix(), out_dir, errors=result.errors, png=png, raw=raw)


def read_manifest(path: str | Path) -> dict[str, Any] | None:
    """The ``report.json`` of a report folder (or of the folder holding a file), checked.

    Returns ``None`` when there is none.

    Raises
    ------
    ReportFormatError
        If it is not a report manifest, or its ``schema_version`` is newer than this
        version of drs-analytics reads (:data:`SCHEMA_VERSION`).
    """
    path = Path(path)
    manifest_path = path if path.name == MANIFEST else (path if path.is_dir() else path.parent) / MANIFEST
    try:
        text = manifest_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        manifest = json.loads(text)
    except ValueError as exc:
        raise ReportFormatError(f"{manifest_path} is not a drs-analytics report manifest: {exc}") from None
    version = manifest.get("schema_version") if isinstance(manifest, dict) else None
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ReportFormatError(f"{manifest_path} is not a drs-analytics report manifest: "
                                f"no valid schema_version (found {version!r})")
    if version > SCHEMA_VERSION:
        raise ReportFormatError(
            f"{manifest_path} has report schema version {version}, newer than this drs-analytics "
            f"({__version__}) reads (up to {SCHEMA_VERSION}); upgrade drs-analytics to read this report"
        )
    return manifest


def _neutralised(path: Any, neutralised: bool | None) -> bool:
    """Whether to undo the quoting: as asked, else as ``report.json`` says, else True."""
    if neutralised is not None:
        return bool(neutralised)
    if not isinstance(path, (str, os.PathLike)):
        return True  # an open file: no folder to look in
    manifest = read_manifest(Path(path).parent)
    if manifest is None:
        return True
    if Path(path).name not in (manifest.get("files") or {}):
        return True  # a CSV written beside a report, not by it (e.g. fetch -o)
    return bool(manifest.get("neutralised", True))


def read_actions(path: str | Path, *, neutralised: bool | None = None) -> pd.DataFrame:
    """Read an ``actions.csv`` back into a tidy frame with the original dtypes and order.

    Category orders are rebuilt as :func:`~drs_analytics.fetch_actions` makes them:
    jobs (and projects) in file order, actions documented ones first.

    Parameters
    ----------
    path : str or Path
        The file (or an open text file).
    neutralised : bool, optional
        Whether the file's text cells carry the formula-injection quotes (see
        :func:`write_csv`); by default as the ``report.json`` beside it says, else True.

    Raises
    ------
    ReportFormatError
        If the ``report.json`` beside the file has a newer schema version, or is not a
        manifest.
    ValueError
        If a column is missing or a True/False column holds anything else.
    """
    restore = _neutralised(path, neutralised)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False,
                        na_values={c: [""] for c in ("current_action", *META_COLUMNS)})
    if restore:
        frame = restore_frame(frame, index=False)
    for col, value in _OPTIONAL_COLUMNS.items():
        if col not in frame.columns:
            frame[col] = str(value)  # a report written before the column existed
    missing = [c for c in FRAME_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} is not an actions.csv report: missing column(s) {', '.join(missing)}")
    for col in ("project_id", "job_id"):
        frame[col] = _with_categories(frame[col], list(dict.fromkeys(frame[col])))
    frame["action"] = _with_categories(frame["action"], order_actions(frame["action"]))
    frame["current_action"] = _with_categories(frame["current_action"], sorted(frame["current_action"].dropna().unique()))
    for col in BOOL_COLUMNS:
        if col in frame.columns:
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


def read_errors(path: str | Path, *, neutralised: bool | None = None) -> pd.DataFrame:
    """Read an ``errors.csv`` back.

    Parameters
    ----------
    path : str or Path
        The file.
    neutralised : bool, optional
        Whether to undo the formula-injection quoting, as in :func:`read_actions`
        (default: as the ``report.json`` beside it says, else True).

    Returns
    -------
    DataFrame
        The error records, ``status_code`` as ``Int64`` and ``attempts`` as int64.
    """
    restore = _neutralised(path, neutralised)
    # all as text first: a job ID such as "-05" or "1e3" must not turn into a number
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if restore:
        frame = restore_frame(frame, index=False)
    for col in frame.columns:  # ERRORS_COLUMNS, and project_id/region of fleet reports
        cells = frame[col].tolist()
        if col == "job_id":  # as errors_frame makes it (an empty label stays "")
            frame[col] = pd.Series(cells, dtype=object, index=frame.index).astype(str)
        elif col == "status_code":
            frame[col] = pd.array([int(v) if v else None for v in cells], dtype="Int64")
        elif col == "attempts":
            frame[col] = pd.Series([int(v) for v in cells], dtype="int64", index=frame.index)
        else:
            frame[col] = pd.array([v if v else None for v in cells], dtype="string")
    return frame
