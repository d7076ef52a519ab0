"""The frame builder against a plain per-job reading of the rules, on random fleets.

The oracle below walks each job's lists in Python, one action at a time, exactly as the
README states the rules: duplicates within a list are one row; an action in both lists
is one unavailable row, placed in the unavailable block, and is reported as a conflict
(in the order of the unavailable list); available actions come first, in response order.
"""

from __future__ import annotations

import random
from datetime import datetime, timezone

import numpy as np
import pytest

from drs_analytics.frame import build_frames
from drs_analytics.responses import JobActions

T0 = datetime(2026, 12, 3, tzinfo=timezone.utc)


def oracle(record: JobActions) -> tuple[list[tuple[str, bool]], list[str]]:
    unavailable = set(record.unavailable)
    rows, seen = [], set()
    for name in record.available:
        if name not in unavailable and name not in seen:
            rows.append((name, True))
            seen.add(name)
    conflicts, seen_u = [], set()
    for name in record.unavailable:
        if name not in seen_u:
            rows.append((name, False))
            seen_u.add(name)
            if name in record.available:
                conflicts.append(name)
    return rows, conflicts


def random_fleet(rng: random.Random, n_jobs: int, pool: list[str], shared: int) -> list[JobActions]:
    """Jobs drawing their lists from ``shared`` prototypes or fresh; duplicates and conflicts included."""
    def lists():
        a = [rng.choice(pool) for _ in range(rng.randrange(0, 9))]
        u = [rng.choice(pool) for _ in range(rng.randrange(0, 9))]
        return tuple(a), tuple(u)

    prototypes = [lists() for _ in range(shared)]
    out = []
    for i in range(n_jobs):
        a, u = rng.choice(prototypes) if prototypes and rng.random() < 0.7 else lists()
        out.append(JobActions(f"job-{i}", a, u, None, T0))
    return out


def check_against_oracle(records: list[JobActions]) -> None:
    frame, jobs, conflicts = build_frames("p", records)

    expected_rows, expected_conflicts = [], []
    for r in records:
        rows, found = oracle(r)
        expected_rows += [(r.job_id, name, flag) for name, flag in rows]
        expected_conflicts += [[r.job_id, name] for name in found]
    got = list(zip(frame["job_id"].astype(str), frame["action"].astype(str), frame["available"].tolist()))
    assert got == expected_rows
    assert conflicts.values.tolist() == expected_conflicts
    assert jobs["n_available"].tolist() == [sum(f for _, f in oracle(r)[0]) for r in records]
    assert jobs["n_unavailable"].tolist() == [sum(not f for _, f in oracle(r)[0]) for r in records]


@pytest.mark.parametrize("seed", range(12))
def test_rows_and_conflicts_match_a_per_job_reading(seed):
    rng = random.Random(seed)
    pool = [f"A{i}" for i in range(rng.choice([1, 3, 12, 70]))]
    check_against_oracle(random_fleet(rng, rng.choice([1, 7, 60, 400]), pool, shared=rng.choice([0, 1, 5])))


@pytest.mark.parametrize("pool_size", [2, 2000])
def test_duplicates_found_by_counting_and_by_hashing(pool_size):
    """A small vocabulary is resolved by counting (pairs x names), a huge one by hashing."""
    rng = random.Random(pool_size)
    check_against_oracle(random_fleet(rng, 300, [f"A{i}" for i in range(pool_size)], shared=0))


def test_every_job_its_own_lists_and_all_of_one_signature_agree():
    base = JobActions("j0", ("PAUSE", "DELETE", "PAUSE"), ("START", "DELETE"), None, T0)
    same = [JobActions(f"j{i}", base.available, base.unavailable, None, T0) for i in range(50)]
    frame, jobs, conflicts = build_frames("p", same)
    assert frame["action"].astype(str).tolist()[:3] == ["PAUSE", "START", "DELETE"]
    assert frame["available"].tolist()[:3] == [True, False, False]
    assert len(frame) == 150 and len(conflicts) == 50
    assert (jobs["n_available"] == 1).all() and (jobs["n_unavailable"] == 2).all()
    assert np.array_equal(frame["job_id"].cat.codes.to_numpy(), np.repeat(np.arange(50), 3))
