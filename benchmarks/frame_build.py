"""Time and memory of building the tidy frame and the matrix from in-memory responses.

Run: ``.venv/bin/python benchmarks/frame_build.py [--jobs 100000] [--signatures few|distinct]``

"few": jobs share 20 distinct (available, unavailable) pairs, as real fleets do;
"distinct": every job has its own shuffled lists (the worst case for the builder).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import time
import tracemalloc
from datetime import datetime, timezone

from drs_analytics.frame import availability_matrix, build_frames
from drs_analytics.responses import JobActions
from drs_analytics.vocabulary import ACTIONS


def records(n: int, signatures: str) -> list[JobActions]:
    rng, when = random.Random(1), datetime(2026, 12, 3, tzinfo=timezone.utc)
    out = []
    for i in range(n):
        actions = list(ACTIONS)
        if signatures == "distinct":
            rng.shuffle(actions)
            k = rng.randrange(0, 8)
        else:
            k = i % 20
        out.append(JobActions(f"{i:08x}-0000-4000-8000-00000000j{i % 1000:03d}", tuple(actions[:k]),
                              tuple(actions[k:]), "PAUSE" if i % 50 == 0 else None, when))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--signatures", choices=("few", "distinct"), default="few")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = records(args.jobs, args.signatures)
    times = []
    for _ in range(args.repeat):
        gc.collect()
        t0 = time.perf_counter()
        frame, _, _ = build_frames("p", data)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    matrix = availability_matrix(frame)
    matrix_time = time.perf_counter() - t0
    del frame, matrix
    gc.collect()
    tracemalloc.start()
    frame, _, _ = build_frames("p", data)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    print(f"machine: {platform.machine()} {platform.python_implementation()} {platform.python_version()}")
    print(f"{args.jobs:,} jobs x {len(ACTIONS)} actions = {len(frame):,} rows ({args.signatures} signatures)")
    print(f"build: median {sorted(times)[len(times) // 2]:.2f} s over {args.repeat} runs; "
          f"peak traced memory {peak:.0f} MB (tracemalloc, measured in a separate run)")
    print(f"matrix pivot: {matrix_time:.2f} s")


if __name__ == "__main__":
    main()
