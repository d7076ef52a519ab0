"""Requests and time a whole project costs with each source: the job list, or per-job /actions.

Run: ``.venv/bin/python benchmarks/fleet_requests.py [--jobs 10000] [--latency-ms 0] [--workers 32]``

Requests are counted at the emulator (in this process). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from collections import Counter
from pathlib import Path

from drs_analytics import DRSClient, fetch_fleet
from drs_analytics.emulator import Emulator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--workers", type=int, default=32)
    args = parser.parse_args()
    print(f"# {platform.python_implementation()} {platform.python_version()}, {platform.machine()}")
    with Emulator(jobs=args.jobs, seed=args.seed, latency_ms=args.latency_ms) as emu, \
            tempfile.TemporaryDirectory() as tmp:
        top = Counter(job.job_type for job in emu.fleet if job.parent_id is None)
        print(f"project: {len(emu.fleet):,} jobs; top-level per job type: {dict(top)}")
        runs = [("list, cold cache", "list", True), ("list, warm cache", "list", False),
                ("actions, no cache", "actions", None)]
        cache = Path(tmp) / "cache.sqlite"
        for label, source, _ in runs:
            with DRSClient(endpoint=emu.url, project_id=emu.project_id, token=emu.token,
                           cache=False if source == "actions" else cache, max_connections=args.workers) as client:
                emu.app.reset_counters()
                t0 = time.perf_counter()
                result = fetch_fleet(client, source=source, max_workers=args.workers, progress=False)
                elapsed = time.perf_counter() - t0
            routes = {name: n for (_, name), n in emu.app.route_counts.items()}
            print(f"{label:18s} {elapsed:6.2f} s  requests {emu.app.request_count:6,d} {routes}  "
                  f"jobs {len(result.jobs):,}  errors {len(result.errors)}")


if __name__ == "__main__":
    main()
