"""Soak, bounded: 2,000 jobs against the emulator with faults on every kind of answer.

The rates are the issue's: 10% HTTP 500, 5% 429 with Retry-After, 2% connection
resets, 1% malformed 200 bodies, 1% slow answers (seeded). The same code runs longer
as ``benchmarks/soak.py``; ``pytest -s`` shows the figures, and every assertion
message carries them.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "soak.py"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(180),
    pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning"),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]


def _load_soak():
    spec = importlib.util.spec_from_file_location("drs_soak_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_soak_2000_jobs_with_faults(tmp_path):
    bench = _load_soak()
    run = bench.soak(jobs=2000, seed=7, cache_dir=tmp_path)
    figures = bench.describe(run)
    print("\nsoak, 2,000 jobs at the issue's fault rates:\n" + figures)
    f = run.figures
    assert f["jobs"] == 2000, figures
    # every job accounted for: in exactly one of result.jobs and result.errors
    assert not run.unaccounted and not run.duplicated, figures
    assert run.result.requested == f["fetched"] + f["errors"] == 2000, figures
    # at least 99% fetched after retries
    assert run.fetched_share >= 0.99, figures
    # the faults really happened, of every kind
    assert set(f["faults"]) == {"error_500", "throttle_429", "reset", "malformed", "slow"}, figures
    assert f["requests"] > 2000 and f["retried_jobs"] > 0, figures
    # no error response in the cache: exactly one valid 200 per fetched job
    assert not run.cache_problems, run.cache_problems[:5]
    assert f["cached"] == f["fetched"], figures
    # no uncaught exception: a crash inside a worker would be a RequestError "unexpected ..."
    assert not run.unexpected, run.unexpected[:5]
    assert set(f["error_types"]) <= {"ServerError", "ThrottledError", "TransportError", "MalformedResponseError"}, figures


def test_the_soak_script_runs_at_a_tiny_size(tmp_path):
    out = subprocess.run(
        # 8 attempts: with 60 jobs a single failure would be below 99% (4 attempts fail ~0.1% of jobs)
        [sys.executable, str(SCRIPT), "--jobs", "60", "--workers", "4", "--slow-seconds", "0.05", "--attempts", "8"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "fetched after retries" in out.stdout and "all checks passed" in out.stdout
