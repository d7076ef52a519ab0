"""The seeded synthetic fleet: determinism, shapes and proportions."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import datetime

import pytest

from drs_analytics.emulator.fleet import JOB_ID_PATTERN, NAME_PATTERN, Job, make_fleet
from drs_analytics.emulator.rules import job_actions
from drs_analytics.vocabulary import ACTIONS, CURRENT_ACTIONS, ENGINE_TYPES, JOB_TYPES, STATUSES

pytestmark = pytest.mark.timeout(30)

# Independent of fleet.JOB_ID_PATTERN: 8-4-4-4-12 hex, version 4, last group 7 hex + "jb" + 3 alnum.
ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{7}jb[0-9a-z]{3}$")
DOCUMENTED_IDS = [
    "140b5236-88ad-43c8-811c-1268453jb101",
    "8d0e8e36-a618-490d-8a46-8c61ac9jb502",
    "c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r",
    "6211d20d-0006-41da-836e-db3301ajb20b",
    "163b98e8-6088-46c3-8b86-c18fea6jb502",
]


@pytest.fixture(scope="module")
def big_fleet() -> list[Job]:
    return make_fleet(2000, seed=11)


def digest(jobs: list[Job]) -> str:
    return hashlib.sha256(repr([dataclasses.asdict(j) for j in jobs]).encode()).hexdigest()


def test_same_seed_same_fleet():
    assert make_fleet(300, seed=7) == make_fleet(300, seed=7)


def test_different_seeds_differ():
    a, b = make_fleet(300, seed=7), make_fleet(300, seed=8)
    assert not {j.id for j in a} & {j.id for j in b}
    assert [j.status for j in a] != [j.status for j in b]


def test_same_fleet_in_another_process_with_another_hash_seed():
    code = (
        "import dataclasses, hashlib; from drs_analytics.emulator.fleet import make_fleet; "
        "jobs = make_fleet(300, seed=7); "
        "print(hashlib.sha256(repr([dataclasses.asdict(j) for j in jobs]).encode()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=20, check=True)
    assert out.stdout.strip() == digest(make_fleet(300, seed=7))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 10, 301])
def test_exact_size(n):
    assert len(make_fleet(n, seed=1)) == n


@pytest.mark.parametrize("n", [-1, 1.5, True, "3"])
def test_bad_size(n):
    with pytest.raises(ValueError, match="n must be"):
        make_fleet(n, seed=1)


def test_id_pattern_accepts_documented_ids():
    for job_id in DOCUMENTED_IDS:
        assert re.match(JOB_ID_PATTERN, job_id), job_id


def test_ids_shaped_like_documented_ones_and_unique(big_fleet):
    ids = [j.id for j in big_fleet]
    assert all(len(i) == 36 and ID_RE.match(i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_names_valid_and_unique(big_fleet):
    names = [j.name for j in big_fleet]
    assert all(re.match(r"^[A-Za-z][A-Za-z0-9_-]{3,49}$", n) for n in names)
    assert len(set(names)) == len(names)
    assert any(re.match(r"^DRS-\d{4}", n) for n in names)
    assert any(not n.startswith("DRS-") for n in names)
    assert NAME_PATTERN  # exported for clients


def test_field_values_in_documented_domains(big_fleet):
    for j in big_fleet:
        assert j.status in STATUSES and j.job_type in JOB_TYPES and j.engine_type in ENGINE_TYPES
        assert j.net_type in ("eip", "vpc", "vpn") and j.charging_mode in ("period", "on_demand")
        assert j.job_direction in ("up", "down", "non-dbs")
        assert j.task_type in ("FULL_TRANS", "FULL_INCR_TRANS", "INCR_TRANS")
        assert j.job_mode in ("single", "sync_child", "multi_to_single")
        assert j.job_mode_role in ("", "parent", "child", "master", "slave")
        assert isinstance(j.billing_tag, bool) and isinstance(j.is_multi_az, bool)
        assert len(j.description) <= 256 and not set(j.description) & set("!<>&'\"\\")
        datetime.strptime(j.create_time, "%Y-%m-%d %H:%M:%S")
        if j.job_type == "cloudDataGuard":
            assert j.net_type != "vpc"  # vpc not allowed for DR
        if j.status.startswith("INCRE_"):
            assert j.task_type != "FULL_TRANS"


def test_realistic_proportions(big_fleet):
    n = len(big_fleet)
    status = Counter(j.status for j in big_fleet)
    assert status.most_common(1)[0][0] == "INCRE_TRANSFER_STARTED"
    assert 0.35 < status["INCRE_TRANSFER_STARTED"] / n < 0.65
    assert sum(v for k, v in status.items() if k.startswith("FULL_TRANSFER_")) / n > 0.10
    assert status["PAUSING"] / n > 0.02
    assert status["RELEASE_RESOURCE_COMPLETE"] / n > 0.03
    assert 0 < status["CREATE_FAILED"] / n < 0.05
    assert status["CONFIGURATION"] > 0 and status["CREATING"] > 0
    assert status["INCRE_TRANSFER_FAILED"] > 0 and status["FULL_TRANSFER_FAILED"] > 0
    kinds = Counter(j.job_type for j in big_fleet)
    assert (kinds["sync"] + kinds["migration"]) / n > 0.6
    assert 0.05 < kinds["cloudDataGuard"] / n < 0.3 and 0 < kinds["replay"] / n < 0.1
    assert set(Counter(j.engine_type for j in big_fleet)) == set(ENGINE_TYPES)
    modes = Counter(j.charging_mode for j in big_fleet)
    assert modes["on_demand"] > modes["period"] > 0


def test_period_billing_only_for_sync_and_dr(big_fleet):
    assert {j.job_type for j in big_fleet if j.charging_mode == "period"} <= {"sync", "cloudDataGuard"}


def test_a_few_percent_busy_with_fitting_operations(big_fleet):
    busy = [j for j in big_fleet if j.current_action is not None]
    assert 0.01 < len(busy) / len(big_fleet) < 0.10
    for j in busy:
        assert j.current_action in CURRENT_ACTIONS
        if j.current_action == "SWITCH_OVER":
            assert j.job_type == "cloudDataGuard" and j.status == "INCRE_TRANSFER_STARTED"
        if j.current_action == "NODE_FLAVOR_MODIFY":
            assert j.status == "CHANGE_JOB_STARTED"
        if j.current_action == "STOP_JOB":
            assert j.engine_type == "oracle-to-gaussdbv5"
    assert all(j.current_action for j in big_fleet if j.status == "CHANGE_JOB_STARTED")


def test_parents_and_children_are_consistent(big_fleet):
    by_id = {j.id: j for j in big_fleet}
    parents = [j for j in big_fleet if j.children]
    assert any(p.job_type == "cloudDataGuard" for p in parents) and any(p.job_type == "sync" for p in parents)
    for parent in parents:
        assert parent.job_mode_role == "parent" and parent.parent_id is None
        for child_id in parent.children:
            child = by_id[child_id]
            assert child.parent_id == parent.id and child.job_mode_role == "child"
            assert child.job_type == parent.job_type and child.engine_type == parent.engine_type
        if parent.job_type == "cloudDataGuard":
            assert len(parent.children) == 2
        else:
            (child_id,) = parent.children
            assert by_id[child_id].job_mode == "sync_child"
            assert "CHILD_TRANSFER" in by_id[child_id].status
    assert all(by_id[j.parent_id].children.count(j.id) == 1 for j in big_fleet if j.parent_id)


def test_generated_answers_are_disjoint_and_in_vocabulary(big_fleet):
    for j in big_fleet:
        avail, unavail, current = job_actions(j)
        assert not set(avail) & set(unavail)
        assert set(avail) | set(unavail) <= set(ACTIONS)
        assert current is None or current in CURRENT_ACTIONS
