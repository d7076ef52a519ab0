"""Regenerate the README pictures from the emulator's fleet (reproducible: fixed seed).

Writes ``docs/availability.png`` (the heatmap), ``docs/action_rates.png`` (availability per
action) and ``docs/signatures.png`` (the most common sets of available actions), all for the
same 300-job fleet. Figures are plain :class:`matplotlib.figure.Figure` objects, never
registered with pyplot, so nothing is left open.

Run: ``.venv/bin/python docs/make_pictures.py``
"""

from __future__ import annotations

import argparse
from pathlib import Path

from matplotlib.figure import Figure

from drs_analytics import DRSClient, fetch_actions
from drs_analytics.emulator import Emulator
from drs_analytics.plots import plot_action_rates, plot_signatures
from drs_analytics.report import render_heatmap

HERE = Path(__file__).parent
JOBS, SEED = 300, 7


def fetch_fleet():
    with Emulator(jobs=JOBS, seed=SEED) as emu, DRSClient(
        endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False
    ) as client:
        return fetch_actions(emu.job_ids, client=client, progress=False)


def save_rates(result, path: Path) -> Path:
    actions = result.frame["action"].nunique()
    fig = Figure(figsize=(7.5, 1.4 + 0.22 * actions), dpi=90, layout="constrained")
    plot_action_rates(result, ax=fig.add_subplot())
    fig.savefig(path)
    return path


def save_signatures(result, path: Path) -> Path:
    axes = plot_signatures(result, top=12)
    axes["counts"].figure.savefig(path, dpi=90)
    return path


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    result = fetch_fleet()
    shape = f"{len(result.jobs)} jobs x {result.frame['action'].nunique()} actions"
    for path in (
        render_heatmap(result.matrix(), HERE / "availability.png", dpi=80),
        save_rates(result, HERE / "action_rates.png"),
        save_signatures(result, HERE / "signatures.png"),
    ):
        print(f"wrote {path} ({shape})")


if __name__ == "__main__":
    main()
