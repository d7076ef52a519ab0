"""How long does a 10,000-job heatmap take, from the FetchResult to a PNG?

Collects a 10,000-job fleet from the built-in emulator once through the job list (about
2 s, not timed), then
times, best of ``--repeat`` runs, preparing the heatmap (order, group, columns) plus
drawing it and writing the PNG (``savefig``), for:

* ``report``: :func:`drs_analytics.report.render_heatmap`, the PNG of ``write_report``
  (a tall figure sized for the number of jobs);
* ``notebook``: an 8 x 6 in figure at 100 dpi, where rows are binned into pixel rows;
* ``grouped``: the same with ``group="signature"``.

Run: ``python benchmarks/plot_heatmap.py [--jobs 10000] [--repeat 3]``. Figures only.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from drs_analytics import DRSClient, fetch_fleet  # noqa: E402
from drs_analytics.emulator import Emulator  # noqa: E402
from drs_analytics.plots import plot_availability_matrix  # noqa: E402
from drs_analytics.report import render_heatmap  # noqa: E402


def fleet(jobs: int):
    with Emulator(jobs=jobs, seed=7) as emu, DRSClient(
        endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False
    ) as client:
        return fetch_fleet(client, progress=False)


def notebook(result, **kwargs) -> None:
    fig = Figure(figsize=(8, 6), dpi=100, layout="constrained")
    plot_availability_matrix(result, ax=fig.add_subplot(), **kwargs)
    fig.savefig(io.BytesIO(), format="png")


def best_of(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    result = fleet(args.jobs)
    print(f"fetched {len(result.jobs):,} jobs x {result.frame['action'].nunique()} actions "
          f"({len(result.frame):,} rows) in {time.perf_counter() - t0:.1f} s (not timed below)")
    with tempfile.TemporaryDirectory() as tmp:
        runs = {
            "report": lambda: render_heatmap(result.matrix(), Path(tmp) / "h.png"),
            "notebook": lambda: notebook(result),
            "grouped": lambda: notebook(result, group="signature"),
        }
        for name, run in runs.items():
            print(f"{name:>9}: {best_of(args.repeat, run):.2f} s (prepare + draw + savefig, best of {args.repeat})")


if __name__ == "__main__":
    main()
