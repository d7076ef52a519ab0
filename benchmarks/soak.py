"""Soak: a fleet fetch against the emulator with faults at every request, figures printed.

The test ``tests/test_soak.py`` runs :func:`soak` once at 2,000 jobs; this script runs
the same at any size and for any duration::

    .venv/bin/python benchmarks/soak.py                          # 2,000 jobs, the issue's fault rates
    .venv/bin/python benchmarks/soak.py --fast-retry             # the test's settings: throughput, not waiting
    .venv/bin/python benchmarks/soak.py --jobs 20000 --duration 600 --latency-ms 5

By default the client runs with the package's own retry and pacing settings
(``RetrySettings()``, ``PacingSettings()``: 3 attempts, 0.25 s backoff up to 10 s,
``Retry-After`` honoured up to 60 s, adaptive pacing), so the figures are what a user
gets. ``--fast-retry`` uses :data:`FAST_SOAK_RETRY` and :data:`FAST_SOAK_PACING` instead,
as ``tests/test_soak.py`` does.

Faults (per request, seeded): 10% HTTP 500, 5% 429 with ``Retry-After``, 2% connection
resets, 1% malformed 200 bodies, 1% slow answers. Each round checks that every job is
accounted for (rows or an error record), how many were fetched after retries, that the
cache holds only valid 200 answers, and that no exception escaped.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import attrs

from drs_analytics import DRSClient, fetch_actions
from drs_analytics.emulator import Emulator, Faults
from drs_analytics.responses import parse_actions_body
from drs_analytics.settings import PacingSettings, RetrySettings

#: The issue's fault rates.
ISSUE_FAULTS = Faults(error_500=0.10, throttle_429=0.05, retry_after=1, reset=0.02, malformed=0.01, slow=0.01,
                      slow_seconds=0.5)
#: The package's defaults: what a soak runs with unless told otherwise.
DEFAULT_RETRY = RetrySettings()
DEFAULT_PACING = PacingSettings()
#: ``--fast-retry`` (and the test): retries that make >= 99% reachable at those rates
#: (about 0.17^4 of jobs fail all four attempts); a 429's Retry-After is capped at 50 ms
#: so that a soak is about throughput, not waiting.
FAST_SOAK_RETRY = RetrySettings(attempts=4, backoff=0.01, max_backoff=0.05, max_retry_after=0.05)
#: ``--fast-retry``: fixed pacing (the injected 429s are random, not a rate signal).
FAST_SOAK_PACING = PacingSettings(adaptive=False)


@dataclass
class SoakRun:
    """One round: the fetch result, the figures, and what the checks found."""

    result: Any
    figures: dict[str, Any]
    unaccounted: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    cache_problems: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    @property
    def fetched_share(self) -> float:
        return self.figures["fetched"] / self.figures["jobs"] if self.figures["jobs"] else 1.0


def _audit_cache(client: DRSClient) -> tuple[int, list[str]]:
    """(stored responses, problems): every stored answer must be a 200 with a valid job_action body."""
    problems = []
    stored = 0
    for key in list(client.cache.responses.keys()):
        response = client.cache.responses[key]
        stored += 1
        if response.status_code != 200:
            problems.append(f"{key}: status {response.status_code}")
            continue
        try:
            parse_actions_body(response.content)
        except Exception as exc:  # noqa: BLE001 - any failure is a finding
            problems.append(f"{key}: {type(exc).__name__}: {exc}")
    return stored, problems


def soak(*, jobs: int = 2000, seed: int = 7, faults: Faults = ISSUE_FAULTS, retry: RetrySettings = DEFAULT_RETRY,
         pacing: PacingSettings = DEFAULT_PACING, workers: int = 16, latency_ms: float = 0.0,
         cache_dir: str | Path | None = None) -> SoakRun:
    """Fetch a ``jobs``-job fleet through a cached client while the emulator injects ``faults``."""
    with tempfile.TemporaryDirectory(prefix="drs-soak-") as tmp:
        cache = Path(cache_dir or tmp) / f"soak-{seed}.sqlite"
        with Emulator(jobs=jobs, seed=seed, faults=faults, latency_ms=latency_ms) as emu, DRSClient(
            endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=cache, retry=retry,
            pacing=pacing, max_connections=max(workers, 1),
        ) as client:
            started = time.perf_counter()
            result = fetch_actions(emu.job_ids, client=client, max_workers=workers, progress=False)
            elapsed = time.perf_counter() - started
            stored, cache_problems = _audit_cache(client)
            app = emu.app
            ids = list(emu.job_ids)
            requests, statuses, injected = app.request_count, app.status_counts, app.fault_counts
    fetched = result.jobs["job_id"].tolist()
    failed = result.errors["job_id"].tolist()
    seen = Counter(fetched + failed)
    attempts = [*result.jobs["attempts"].tolist(), *result.errors["attempts"].tolist()]
    unexpected = [f"{row.job_id}: {row.detail}" for row in result.errors.itertuples()
                  if row.error_type == "RequestError" and str(row.detail).startswith("unexpected")]
    figures = {
        "jobs": len(ids),
        "fetched": len(fetched),
        "errors": len(failed),
        "error_types": dict(Counter(result.errors["error_type"].tolist())),
        "rows": len(result.frame),
        "requests": requests,
        "statuses": dict(sorted(statuses.items())),
        "faults": dict(sorted(injected.items())),
        "attempts_mean": sum(attempts) / len(attempts) if attempts else 0.0,
        "attempts_max": max(attempts, default=0),
        "retried_jobs": sum(a > 1 for a in attempts),
        "cached": stored,
        "elapsed_s": elapsed,
        "jobs_per_s": len(ids) / elapsed if elapsed else 0.0,
    }
    return SoakRun(
        result=result,
        figures=figures,
        unaccounted=[j for j in ids if j not in seen],
        duplicated=[j for j, n in seen.items() if n > 1],
        cache_problems=cache_problems,
        unexpected=unexpected,
    )


def summary(run: SoakRun) -> str:
    """The figures of one round on one line."""
    f = run.figures
    return (f"soak {f['jobs']:,} jobs: {f['fetched']:,} fetched ({run.fetched_share:.2%}), {f['errors']:,} errors, "
            f"{f['requests']:,} requests ({f['requests'] / max(f['jobs'], 1):.2f}/job), "
            f"{len(run.unaccounted)} unaccounted, {len(run.cache_problems)} bad cache entries, "
            f"{len(run.unexpected)} uncaught; {f['elapsed_s']:.2f} s ({f['jobs_per_s']:,.0f} jobs/s)")


def describe(run: SoakRun) -> str:
    """The figures of one round as a small table."""
    f = run.figures
    rows = [
        ("jobs", f"{f['jobs']:,}"),
        ("fetched after retries", f"{f['fetched']:,} ({run.fetched_share:.2%})"),
        ("error records", f"{f['errors']:,} {f['error_types'] or ''}".rstrip()),
        ("accounted for", f"{f['jobs'] - len(run.unaccounted):,} of {f['jobs']:,} (duplicates: {len(run.duplicated)})"),
        ("rows", f"{f['rows']:,}"),
        ("requests served", f"{f['requests']:,} ({f['requests'] / max(f['jobs'], 1):.2f} per job)"),
        ("answers by status", ", ".join(f"{s or 'reset'}: {n:,}" for s, n in f["statuses"].items())),
        ("injected faults", ", ".join(f"{k}: {n:,}" for k, n in f["faults"].items()) or "none"),
        ("attempts per job", f"mean {f['attempts_mean']:.3f}, max {f['attempts_max']}, "
                             f"{f['retried_jobs']:,} jobs retried"),
        ("cache", f"{f['cached']:,} answers stored, {len(run.cache_problems)} not a valid 200"),
        ("uncaught exceptions", str(len(run.unexpected))),
        ("elapsed", f"{f['elapsed_s']:.2f} s ({f['jobs_per_s']:,.0f} jobs/s)"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"  {name:<{width}}  {value}" for name, value in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7, help="seed of the first round (each round adds 1)")
    parser.add_argument("--duration", type=float, default=0.0,
                        help="keep running rounds until this many seconds have passed (default: one round)")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--fast-retry", action="store_true",
                        help="the test's fast settings: 4 attempts, 10-50 ms backoff, Retry-After capped at 50 ms, "
                             "fixed pacing (default: the package's RetrySettings() and PacingSettings())")
    parser.add_argument("--attempts", type=int, default=None, help="attempts per job (default: from the settings)")
    parser.add_argument("--max-retry-after", type=float, default=None,
                        help="cap on a 429's Retry-After wait, seconds (default: from the settings)")
    parser.add_argument("--adaptive", action=argparse.BooleanOptionalAction, default=None,
                        help="adaptive pacing on or off (default: from the settings)")
    for name, rate in (("500", 0.10), ("429", 0.05), ("reset", 0.02), ("malformed", 0.01), ("slow", 0.01)):
        parser.add_argument(f"--fault-{name}", type=float, default=rate, metavar="RATE")
    parser.add_argument("--retry-after", type=int, default=ISSUE_FAULTS.retry_after)
    parser.add_argument("--slow-seconds", type=float, default=ISSUE_FAULTS.slow_seconds)
    args = parser.parse_args(argv)
    faults = Faults(error_500=args.fault_500, throttle_429=args.fault_429, retry_after=args.retry_after,
                    reset=args.fault_reset, malformed=args.fault_malformed, slow=args.fault_slow,
                    slow_seconds=args.slow_seconds)
    base_retry, base_pacing = (FAST_SOAK_RETRY, FAST_SOAK_PACING) if args.fast_retry else (DEFAULT_RETRY,
                                                                                           DEFAULT_PACING)
    retry = attrs.evolve(base_retry, **{k: v for k, v in (("attempts", args.attempts),
                                                         ("max_retry_after", args.max_retry_after)) if v is not None})
    pacing = base_pacing if args.adaptive is None else attrs.evolve(base_pacing, adaptive=args.adaptive)
    print(f"soak: {args.jobs:,} jobs; faults 500 {faults.error_500:.0%}, 429 {faults.throttle_429:.0%} "
          f"(Retry-After {faults.retry_after} s, waited at most {retry.max_retry_after:g} s), reset {faults.reset:.0%}, "
          f"malformed {faults.malformed:.0%}, slow {faults.slow:.0%} ({faults.slow_seconds:g} s); "
          f"{retry.attempts} attempts, backoff {retry.backoff:g}-{retry.max_backoff:g} s, {args.workers} workers, "
          f"adaptive pacing {'on' if pacing.adaptive else 'off'} "
          f"({'--fast-retry' if args.fast_retry else 'package defaults'})")
    started, round_no, failures = time.monotonic(), 0, 0
    totals: Counter[str] = Counter()
    while True:
        run = soak(jobs=args.jobs, seed=args.seed + round_no, faults=faults, retry=retry, pacing=pacing,
                   workers=args.workers, latency_ms=args.latency_ms)
        round_no += 1
        print(f"round {round_no} (seed {args.seed + round_no - 1}):")
        print(describe(run))
        print(summary(run), flush=True)
        ok = (not run.unaccounted and not run.duplicated and not run.cache_problems and not run.unexpected
              and run.fetched_share >= 0.99)
        failures += not ok
        totals.update(jobs=run.figures["jobs"], fetched=run.figures["fetched"], requests=run.figures["requests"])
        if time.monotonic() - started >= args.duration:
            break
    if round_no > 1:
        print(f"{round_no} rounds in {time.monotonic() - started:.1f} s: {totals['fetched']:,} of {totals['jobs']:,} "
              f"jobs fetched ({totals['fetched'] / totals['jobs']:.2%}), {totals['requests']:,} requests")
    print("all checks passed" if not failures else f"{failures} round(s) failed a check")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
