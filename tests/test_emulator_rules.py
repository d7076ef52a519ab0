"""The status -> actions rules of the emulator, checked against DOMAIN.md by hand.

Expectations here are read off ``shared/reference/DOMAIN.md`` (sections 2.2 and
2.3), not computed by the code under test. Where a rule is inferred [I], the
test says so; correcting the table means correcting the matching test.
"""

from __future__ import annotations

import itertools

import pytest

from drs_analytics.emulator import rules
from drs_analytics.emulator.fleet import Job
from drs_analytics.emulator.rules import Rule, action_evidence, action_universe, check_tables, job_actions
from drs_analytics.vocabulary import ACTIONS, ENGINE_TYPES, JOB_TYPES, STATUSES

pytestmark = pytest.mark.timeout(30)

ORACLE_ONLY = ("CONTINUE_JOB", "STOP_JOB", "CONTINUE_CAPTURE", "STOP_CAPTURE", "CONTINUE_APPLY", "STOP_APPLY")
CASSANDRA_ONLY = ("START_INCR", "MODIFY_TASK_NUMBER")
BILLING = ("PAY_ORDER", "UNSUBSCRIBE", "TO_PERIOD", "TO_RENEW", "ORDER_INFO")


def make_job(status: str, **fields) -> Job:
    """A single-AZ, on-demand, idle MySQL sync job unless told otherwise."""
    base = dict(job_type="sync", engine_type="mysql-to-mysql", charging_mode="on_demand", is_multi_az=False)
    base.update(fields)
    return Job(id="0f21ddb6-d3ac-490c-8f28-3926305jb5zr", name="orders-sync-eu", status=status, **base)


def available(status: str, **fields) -> list[str]:
    return job_actions(make_job(status, **fields))[0]


def statuses_allowing(action: str, **fields) -> set[str]:
    return {s for s in STATUSES if action in available(s, **fields)}


# --- worked examples --------------------------------------------------------------------


def test_sync_incremental_on_demand_job():
    avail, unavail, current = job_actions(make_job("INCRE_TRANSFER_STARTED"))
    # DOMAIN 2.3 row INCRE_TRANSFER_STARTED: PAUSE D,T; stop D; CLONE D; CHANGE_FLAVOR D; CHANGE_MODE D;
    # CHOOSE_OBJECT T (sync); billing: on-demand gets TO_PERIOD in running states [I].
    for action in ("PAUSE", "FREE_RESOURCE", "CLONE", "CHANGE_FLAVOR", "CHANGE_MODE", "CHOOSE_OBJECT", "TO_PERIOD"):
        assert action in avail, action
    for action in ("DELETE", "RETRY", "START", "SWITCH_OVER", "RESET", "TO_RENEW", "UNSUBSCRIBE", "PAY_ORDER"):
        assert action not in avail and action in unavail, action
    assert current is None


def test_sync_incremental_job_full_answer_pins_the_table():
    """The exact lists, inferred rows included (MODIFY_CONFIGURATION, MODIFY_DB_CONFIG, RESET_DB_PWD are [I])."""
    avail, unavail, _ = job_actions(make_job("INCRE_TRANSFER_STARTED"))
    assert avail == [
        "CHOOSE_OBJECT", "CHANGE_MODE", "FREE_RESOURCE", "MODIFY_DB_CONFIG", "RESET_DB_PWD",
        "MODIFY_CONFIGURATION", "PAUSE", "TO_PERIOD", "CHANGE_FLAVOR", "CLONE",
    ]  # fmt: skip
    assert unavail == [
        "CREATE", "PRE_CHECK", "START", "CHANGE", "RETRY", "RESET", "DELETE", "QUERY_PRE_CHECK",
        "SWITCH_OVER", "PAY_ORDER", "UNSUBSCRIBE", "TO_RENEW", "ORDER_INFO",
    ]  # fmt: skip


@pytest.mark.parametrize("job_type", ["sync", "migration", "cloudDataGuard"])
def test_released_job_can_only_delete_and_clone(job_type):
    assert available("RELEASE_RESOURCE_COMPLETE", job_type=job_type) == ["DELETE", "CLONE"]


def test_create_failed_can_only_delete():
    assert available("CREATE_FAILED") == ["DELETE"]  # DELETE D,T; cloning "creation failed" not supported


def test_released_child_can_only_delete():
    assert available("RELEASE_CHILD_TRANSFER_COMPLETE") == ["DELETE"]


@pytest.mark.parametrize("status", ["STARTJOBING", "DELETED", "CHILD_TRANSFER_STARTING"])
def test_transitional_and_deleted_statuses_allow_nothing(status):
    assert available(status) == []


def test_dr_in_progress_can_switch_over():
    avail = available("INCRE_TRANSFER_STARTED", job_type="cloudDataGuard")
    assert "SWITCH_OVER" in avail and "PAUSE" in avail
    assert "CHOOSE_OBJECT" not in avail  # sync only


def test_dr_failed_can_switch_over_and_retry():
    avail = available("INCRE_TRANSFER_FAILED", job_type="cloudDataGuard")
    assert {"SWITCH_OVER", "RETRY", "RESET"} <= set(avail)  # T, D, D/T
    assert "CHANGE_FLAVOR" not in avail  # DR spec change: Initializing or DR in progress only


def test_paused_job_can_retry_and_reset_when_sync():
    avail = available("PAUSING")
    assert {"RETRY", "RESET", "FREE_RESOURCE", "CLONE"} <= set(avail)
    assert "PAUSE" not in avail and "START" not in avail
    assert "RESET" not in available("PAUSING", job_type="migration")  # reset when paused: sync only


def test_waiting_for_start_can_start():
    assert {"START", "FREE_RESOURCE"} <= set(available("WAITING_FOR_START"))  # T, D


# --- one action across all statuses ---------------------------------------------------------


def test_delete_only_in_the_three_documented_statuses():
    assert statuses_allowing("DELETE") == {
        "CREATE_FAILED",
        "RELEASE_RESOURCE_COMPLETE",
        "RELEASE_CHILD_TRANSFER_COMPLETE",
    }


def test_pause_statuses():
    v3_batch_pause = {
        "FULL_TRANSFER_STARTED", "FULL_TRANSFER_FAILED", "FULL_TRANSFER_COMPLETE",
        "INCRE_TRANSFER_STARTED", "INCRE_TRANSFER_FAILED",
    }  # fmt: skip
    assert statuses_allowing("PAUSE") == v3_batch_pause | {"CHILD_TRANSFER_STARTED"}  # the child row is [I]


def test_terraform_stop_and_restart_preconditions_hold():
    terraform_stop = {"FULL_TRANSFER_STARTED", "FULL_TRANSFER_COMPLETE", "INCRE_TRANSFER_STARTED"}
    assert terraform_stop <= statuses_allowing("PAUSE")
    assert "PAUSING" in statuses_allowing("RETRY")
    assert {"FULL_TRANSFER_FAILED", "INCRE_TRANSFER_FAILED"} <= statuses_allowing("RESET")


def test_retry_statuses():
    documented = {"FULL_TRANSFER_FAILED", "INCRE_TRANSFER_FAILED", "PAUSING"}
    inferred = {"START_JOB_FAILED", "CHANGE_JOB_FAILED", "REBUILD_NODE_FAILED", "CHILD_TRANSFER_FAILED"}
    assert statuses_allowing("RETRY") == documented | inferred


def test_reset_statuses():
    assert statuses_allowing("RESET") == {"FULL_TRANSFER_FAILED", "INCRE_TRANSFER_FAILED", "PAUSING"}
    assert statuses_allowing("RESET", job_type="migration") == {"FULL_TRANSFER_FAILED", "INCRE_TRANSFER_FAILED"}


def test_clone_never_in_the_documented_exclusions():
    excluded = {"CREATING", "CREATE_FAILED", "CONFIGURATION", "WAITING_FOR_START", "STARTJOBING", "DELETED"}
    assert not statuses_allowing("CLONE") & excluded
    assert {"FULL_TRANSFER_STARTED", "INCRE_TRANSFER_STARTED", "RELEASE_RESOURCE_COMPLETE"} <= statuses_allowing(
        "CLONE"
    )


def test_change_flavor_statuses_sync_and_dr():
    sync = {"FULL_TRANSFER_STARTED", "FULL_TRANSFER_FAILED", "INCRE_TRANSFER_STARTED", "INCRE_TRANSFER_FAILED"}
    assert sync <= statuses_allowing("CHANGE_FLAVOR")
    dr = statuses_allowing("CHANGE_FLAVOR", job_type="cloudDataGuard")
    assert dr == {"FULL_TRANSFER_STARTED", "INCRE_TRANSFER_STARTED"}


def test_change_mode_statuses():
    assert statuses_allowing("CHANGE_MODE") == {"CONFIGURATION", "INCRE_TRANSFER_STARTED", "INCRE_TRANSFER_FAILED"}


def test_free_resource_statuses():
    documented = {
        "CREATING", "CONFIGURATION", "WAITING_FOR_START", "FULL_TRANSFER_STARTED", "FULL_TRANSFER_FAILED",
        "INCRE_TRANSFER_STARTED", "INCRE_TRANSFER_FAILED", "PAUSING",
    }  # fmt: skip
    allowed = statuses_allowing("FREE_RESOURCE")
    assert documented <= allowed
    assert not allowed & {"REBUILD_NODE_STARTED", "CREATE_FAILED", "RELEASE_RESOURCE_COMPLETE", "DELETED"}


@pytest.mark.parametrize("job_type", ["sync", "migration", "replay"])
def test_switch_over_is_for_dr_only(job_type):
    assert statuses_allowing("SWITCH_OVER", job_type=job_type) == set()
    assert statuses_allowing("SWITCH_OVER", job_type="cloudDataGuard") == {
        "INCRE_TRANSFER_STARTED",
        "INCRE_TRANSFER_FAILED",
    }


def test_choose_object_is_for_sync_incremental_only():
    assert statuses_allowing("CHOOSE_OBJECT") == {"INCRE_TRANSFER_STARTED", "INCRE_TRANSFER_FAILED"}
    for job_type in ("migration", "cloudDataGuard", "replay"):
        assert statuses_allowing("CHOOSE_OBJECT", job_type=job_type) == set()


# --- gates: role, AZ, billing, operation in progress ------------------------------------------


def test_operation_in_progress_blocks_state_changes():
    avail, unavail, current = job_actions(
        make_job("INCRE_TRANSFER_STARTED", job_type="cloudDataGuard", current_action="SWITCH_OVER")
    )
    assert current == "SWITCH_OVER"
    assert avail == []  # on-demand, nothing read-only applies
    assert {"SWITCH_OVER", "PAUSE", "CLONE"} <= set(unavail)


def test_operation_in_progress_keeps_read_only_actions():
    avail, _, current = job_actions(make_job("CONFIGURATION", charging_mode="period", current_action="PRE_CHECK"))
    assert current == "PRE_CHECK"
    assert avail == ["QUERY_PRE_CHECK", "ORDER_INFO"]


def test_dual_active_dr_parent_cannot_pause_or_retry():
    parent = available("INCRE_TRANSFER_STARTED", job_type="cloudDataGuard", job_mode_role="parent")
    assert "PAUSE" not in parent and "SWITCH_OVER" in parent
    assert "RETRY" not in available("PAUSING", job_type="cloudDataGuard", job_mode_role="parent")
    assert "PAUSE" in available("INCRE_TRANSFER_STARTED", job_type="cloudDataGuard", job_mode_role="child")


def test_multi_az_job_cannot_change_flavor():
    assert "CHANGE_FLAVOR" not in available("INCRE_TRANSFER_STARTED", is_multi_az=True)


def test_period_job_billing_actions():
    running = available("INCRE_TRANSFER_STARTED", charging_mode="period")
    assert {"TO_RENEW", "UNSUBSCRIBE", "ORDER_INFO"} <= set(running)
    assert "TO_PERIOD" not in running and "PAY_ORDER" not in running
    assert {"PAY_ORDER", "ORDER_INFO"} <= set(available("CONFIGURATION", charging_mode="period"))
    ended = available("RELEASE_RESOURCE_COMPLETE", charging_mode="period")
    assert "DELETE" not in ended and "UNSUBSCRIBE" in ended  # pre-paid: unsubscribe before delete [D]


def test_on_demand_billing_actions():
    assert not set(BILLING) & set(available("RELEASE_RESOURCE_COMPLETE"))
    assert "TO_PERIOD" in available("FULL_TRANSFER_STARTED", job_type="cloudDataGuard")
    assert "TO_PERIOD" not in available("INCRE_TRANSFER_STARTED", job_type="migration")  # pre-paid: sync/DR only [T]
    assert "TO_PERIOD" not in available("PAUSING")  # running states only [I]


# --- engines and the universe ------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINE_TYPES)
def test_cassandra_actions_never_appear_for_v5_engines(engine):
    for status in STATUSES:
        avail, unavail, _ = job_actions(make_job(status, engine_type=engine))
        assert not set(CASSANDRA_ONLY) & (set(avail) | set(unavail))


def test_oracle_actions_only_for_oracle_to_gaussdbv5():
    mysql = job_actions(make_job("INCRE_TRANSFER_STARTED"))
    assert not set(ORACLE_ONLY) & set(mysql[0] + mysql[1])
    oracle = job_actions(make_job("INCRE_TRANSFER_STARTED", engine_type="oracle-to-gaussdbv5"))
    assert set(ORACLE_ONLY) <= set(oracle[0] + oracle[1])
    assert {"STOP_JOB", "STOP_CAPTURE", "STOP_APPLY"} <= set(oracle[0])  # [I]
    paused = available("PAUSING", engine_type="oracle-to-gaussdbv5")
    assert {"CONTINUE_JOB", "CONTINUE_CAPTURE", "CONTINUE_APPLY"} <= set(paused)  # [I]
    assert "STOP_JOB" not in paused


def test_universe_sizes():
    assert len(action_universe("mysql-to-mysql")) == 31 - 6 - 2
    assert len(action_universe("oracle-to-gaussdbv5")) == 31 - 2
    assert len(action_universe("cloudDataGuard-cassandra")) == 31 - 6


def test_lists_partition_the_universe_in_documented_order_for_every_combination():
    rank = {a: i for i, a in enumerate(ACTIONS)}
    combos = itertools.product(STATUSES, JOB_TYPES, ENGINE_TYPES, ("on_demand", "period"), (None, "PAUSE"))
    for status, job_type, engine, mode, current in combos:
        job = make_job(status, job_type=job_type, engine_type=engine, charging_mode=mode, current_action=current)
        avail, unavail, _ = job_actions(job)
        assert not set(avail) & set(unavail)
        assert sorted(avail + unavail, key=rank.__getitem__) == list(action_universe(engine))
        assert [rank[a] for a in avail] == sorted(rank[a] for a in avail)
        assert [rank[a] for a in unavail] == sorted(rank[a] for a in unavail)


# --- the table itself --------------------------------------------------------------------------


def test_evidence_of_the_brief_example():
    assert action_evidence(make_job("FULL_TRANSFER_STARTED"))["PAUSE"] == "D,T"
    assert action_evidence(make_job("RELEASE_RESOURCE_COMPLETE")) == {"DELETE": "D,T", "CLONE": "T,OTC"}


def test_every_row_is_labelled_with_known_evidence():
    for rule in rules.STATUS_RULES:
        assert set(rule.evidence.split(",")) <= {"D", "OTC", "T", "I"}, rule
        assert rule.status in STATUSES and rule.action in ACTIONS, rule


@pytest.mark.parametrize(
    "bad, word",
    [
        (Rule("PAUSED", "PAUSE", "D"), "PAUSED"),
        (Rule("PAUSING", "RESUME", "D"), "RESUME"),
        (Rule("PAUSING", "RETRY", "X"), "'X'"),
        (Rule("PAUSING", "RETRY", "I", {"colour": ("red",)}), "colour"),
    ],
)
def test_check_tables_rejects_typos(monkeypatch, bad, word):
    monkeypatch.setattr(rules, "STATUS_RULES", (*rules.STATUS_RULES, bad))
    with pytest.raises(ValueError, match=word):
        check_tables()


def test_check_tables_rejects_duplicates(monkeypatch):
    monkeypatch.setattr(rules, "STATUS_RULES", (*rules.STATUS_RULES, Rule("CREATE_FAILED", "DELETE", "D,T")))
    with pytest.raises(ValueError, match="duplicated"):
        check_tables()
