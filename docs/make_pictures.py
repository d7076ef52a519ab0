"""Regenerate the README pictures from the emulator's fleet (reproducible: fixed seed).

Run: ``.venv/bin/python docs/make_pictures.py``
"""

from __future__ import annotations

from pathlib import Path

from drs_analytics import DRSClient, fetch_actions
from drs_analytics.emulator import Emulator
from drs_analytics.report import render_heatmap

HERE = Path(__file__).parent


def main() -> None:
    with Emulator(jobs=300, seed=7) as emu, DRSClient(
        endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False
    ) as client:
        result = fetch_actions(emu.job_ids, client=client, progress=False)
    path = render_heatmap(result.matrix(), HERE / "availability.png", dpi=80)
    print(f"wrote {path} ({len(result.jobs)} jobs x {result.frame['action'].nunique()} actions)")


if __name__ == "__main__":
    main()
