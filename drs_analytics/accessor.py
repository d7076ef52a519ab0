"""The ``df.drs`` accessor on tidy frames.

Importing this module registers the accessor (``import drs_analytics`` does it).
Every method delegates to a public function; nothing is reimplemented here, and the
accessor holds nothing but the frame, since pandas builds a new one on each access.
Plotting and widget modules are imported only when a method needs them.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .frame import action_summary, availability_matrix

if TYPE_CHECKING:
    from .explorer import FleetExplorer

__all__ = ["FRAME_REPORT_FILES", "REQUIRED_COLUMNS", "DRSAccessor"]

#: Columns a frame needs for ``df.drs`` (the rest of :data:`~drs_analytics.frame.FRAME_COLUMNS` is optional).
REQUIRED_COLUMNS = ("job_id", "action", "available")
#: Files :meth:`DRSAccessor.to_reports` writes (``availability.png`` only with ``png=True``).
FRAME_REPORT_FILES = ("actions.csv", "matrix.csv", "summary.csv", "availability.png", "report.json")


@pd.api.extensions.register_dataframe_accessor("drs")
class DRSAccessor:
    """Fleet analytics on a tidy actions frame: ``df.drs.matrix()``, ``df.drs.plot_matrix()``, ...

    The frame needs at least the columns ``job_id``, ``action`` and ``available``, as
    in ``fetch_actions(...).frame`` or :func:`~drs_analytics.read_actions`.

    Raises
    ------
    AttributeError
        On access (``df.drs``) when the frame lacks any of those columns; the message
        names the missing ones.

    See Also
    --------
    drs_analytics.FetchResult : the fetch result, which also knows the jobs that failed.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        missing = [col for col in REQUIRED_COLUMNS if col not in frame.columns]
        if missing:
            raise AttributeError(
                f"df.drs needs a tidy DRS actions frame with columns {', '.join(REQUIRED_COLUMNS)}; "
                f"this frame is missing {', '.join(missing)} (get one from fetch_actions(...).frame "
                "or read_actions('actions.csv'))"
            )
        self._frame = frame

    def matrix(self) -> pd.DataFrame:
        """The jobs x actions availability matrix; see :func:`~drs_analytics.availability_matrix`."""
        return availability_matrix(self._frame)

    def summary(self) -> pd.DataFrame:
        """Per-action counts and rates over the jobs in the frame; see :func:`~drs_analytics.action_summary`.

        Jobs that reported no action at all have no rows, so they are not counted; use
        ``FetchResult.summary()`` to count them.
        """
        return action_summary(self._frame)

    def plot_matrix(self, **kwargs: Any) -> Any:
        """The fleet heatmap; keywords go to :func:`~drs_analytics.plot_availability_matrix`.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from .plots import plot_availability_matrix

        return plot_availability_matrix(self._frame, **kwargs)

    def plot_rates(self, **kwargs: Any) -> Any:
        """Per-action availability bars; keywords go to ``plot_action_rates``.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from .plot_rates import plot_action_rates

        return plot_action_rates(self._frame, **kwargs)

    def explore(self, **kwargs: Any) -> FleetExplorer:
        """An interactive :class:`~drs_analytics.explorer.FleetExplorer` on this frame."""
        from .explorer import FleetExplorer

        return FleetExplorer(self._frame, **kwargs)

    def to_reports(self, out_dir: str | Path, *, png: bool = True, raw: bool = False) -> dict[str, Path]:
        """Write ``actions.csv``, ``matrix.csv``, ``summary.csv``, ``availability.png`` and ``report.json``.

        The same files, in the same format, as :func:`~drs_analytics.write_report`,
        except ``errors.csv``: a bare frame does not know which jobs failed to fetch,
        so no ``errors.csv`` is written (an empty one would claim there were no
        failures). Use ``write_report(result, out_dir)`` for a complete report. An
        ``errors.csv`` already in ``out_dir`` is left alone, with a warning, since it
        does not describe this frame.

        Parameters
        ----------
        out_dir : str or Path
            Folder, created if needed.
        png : bool
            Also render the heatmap.
        raw : bool
            Write cells exactly as pandas would, without neutralising spreadsheet
            formulas (for programmatic consumers; see :func:`~drs_analytics.report.write_csv`).

        Returns
        -------
        dict
            File name -> path, for the files written.
        """
        from .report import write_frame_report

        if Path(out_dir).is_dir():
            _warn_stale_errors(Path(out_dir))
        return write_frame_report(self._frame, self.matrix(), out_dir, png=png, raw=raw)


def _warn_stale_errors(out: Path) -> None:
    if (out / "errors.csv").exists():
        warnings.warn(
            f"{out / 'errors.csv'} was left as it is: it comes from an earlier report and does not "
            "describe this frame (a frame has no errors; use write_report(result, ...) for errors.csv)",
            UserWarning,
            stacklevel=3,
        )
