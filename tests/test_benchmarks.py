"""The benchmark scripts keep working (tiny sizes; no timing is asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "benchmarks"


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        ("frame_build.py", ["--jobs", "300", "--repeat", "1"], "300 jobs x 31 actions = 9,300 rows"),
        ("frame_build.py", ["--jobs", "300", "--repeat", "1", "--signatures", "distinct"], "distinct signatures"),
        ("plot_heatmap.py", ["--jobs", "200", "--repeat", "1"], "200"),
        ("fleet_requests.py", ["--jobs", "60"], "actions, no cache"),
        ("fleet_benchmark.py", ["--jobs", "20", "--warm-jobs", "30", "--fleet-jobs", "120", "--latency-ms", "2",
                                "--repeat", "1", "--frame-jobs", "500", "--heatmap-jobs", "100"], "(e') fetch_fleet"),
    ],
)
def test_benchmark_runs_at_a_tiny_size(script, args, expected, tmp_path):
    out = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, env={**os.environ, "MPLBACKEND": "Agg"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert expected in out.stdout
