"""The notebooks run top to bottom against the built-in emulator, and are stored clean."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_the_three_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == ["01_quickstart.ipynb", "02_fleet_audit.ipynb", "03_csv_reports.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs_or_widget_state(path):
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    for name in ("DRS_ENDPOINT", "DRS_REGION", "DRS_PROJECT_ID", "DRS_AUTH_TOKEN", "DRS_JOBS_FILE"):
        monkeypatch.delenv(name, raising=False)  # the emulator, whatever the shell has
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend: plots really render
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    # nbclient's Output-widget emulation can stall a cell for its whole timeout (jupyter/nbclient#312);
    # widget messages need no handling here
    client.comm_open_handlers = {}
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    kinds = {k for o in outputs for k in o.get("data", {})}
    source = "".join(c.source for c in nb.cells)
    if "plot_" in source:
        assert "image/png" in kinds  # the plots were drawn
    if "Explorer" in source:
        assert "application/vnd.jupyter.widget-view+json" in kinds  # the explorer is a widget
    assert not list(Path(tmp_path).glob("drs-*"))  # no temporary folder left behind
