"""Soak, bounded: 2,000 jobs against the emulator with faults on every kind of answer.

The rates are the issue's: 10% HTTP 500, 5% 429 with Retry-After, 2% connection
resets, 1% malformed 200 bodies, 1% slow answers (seeded). The same code runs longer
as ``benchmarks/soak.py`` (which defaults to the package's retry and pacing settings;
the test uses its fast ones, ``--fast-retry``). The test prints a one-line summary in
pytest's normal output, ``pytest -s`` shows the whole table, and every assertion message
carries it.
"""

from __future__ import annotations

import importlib.util
import inspect
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


def test_soak_2000_jobs_with_faults(tmp_path, capsys):
    bench = _load_soak()
    run = bench.soak(jobs=2000, seed=7, cache_dir=tmp_path, retry=bench.FAST_SOAK_RETRY, pacing=bench.FAST_SOAK_PACING)
    figures = bench.describe(run)
    print("\nsoak, 2,000 jobs at the issue's fault rates:\n" + figures)
    with capsys.disabled():  # shown without -s: the figures are the point of a soak
        print(f"\n{bench.summary(run)} [fast retry]")
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
        [sys.executable, str(SCRIPT), "--jobs", "60", "--workers", "4", "--slow-seconds", "0.05", "--fast-retry",
         "--attempts", "8"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "fetched after retries" in out.stdout and "all checks passed" in out.stdout
    # the settings it ran with: the fast ones, with the attempts asked for
    assert "8 attempts, backoff 0.01-0.05 s, 4 workers, adaptive pacing off (--fast-retry)" in out.stdout
    assert "soak 60 jobs: " in out.stdout and "0 unaccounted" in out.stdout


def test_the_soak_script_defaults_to_the_package_settings(tmp_path):
    from drs_analytics.settings import PacingSettings, RetrySettings

    bench = _load_soak()
    parameters = inspect.signature(bench.soak).parameters
    assert parameters["retry"].default == RetrySettings() and parameters["pacing"].default == PacingSettings()
    assert bench.FAST_SOAK_RETRY.attempts == 4 and bench.FAST_SOAK_PACING.adaptive is False
    no_faults = [arg for name in ("500", "429", "reset", "malformed", "slow") for arg in (f"--fault-{name}", "0")]
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--jobs", "5", "--workers", "2", *no_faults],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    # RetrySettings(): 3 attempts, 0.25 s backoff up to 10 s, Retry-After up to 60 s; adaptive pacing
    assert "waited at most 60 s" in out.stdout
    assert "3 attempts, backoff 0.25-10 s, 2 workers, adaptive pacing on (package defaults)" in out.stdout
    assert "soak 5 jobs: 5 fetched (100.00%), 0 errors, 5 requests (1.00/job)" in out.stdout
