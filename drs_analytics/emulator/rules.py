"""Which actions a DRS job allows: the emulator's status -> actions table.

Everything the emulator knows about "which operation is allowed when" lives
in the tables of this module, as data. :func:`job_actions` only reads them.

Evidence labels (see ``shared/reference/DOMAIN.md``, sections 2.2 and 2.3):

``D``
    Documented by Huawei (help-center pages, or the official SDK/API spec).
``OTC``
    Documented in the Open Telekom Cloud copy of the DRS docs (an older
    snapshot of the same product).
``T``
    Encoded by Huawei's own Terraform provider.
``I``
    Inferred: not documented anywhere we looked. A plausible guess.

A cell may carry several labels (``"D,T"``).

How a job's answer is derived, in order:

1. :data:`STATUS_RULES`: one row per (status, action) that is allowed, e.g.
   ``Rule("FULL_TRANSFER_STARTED", "PAUSE", "D,T")`` reads "PAUSE is allowed in
   FULL_TRANSFER_STARTED [D,T]". A row may carry a ``when`` condition on other
   job fields (``job_type``, ``engine_type``...).
2. :data:`BILLING_RULES`: billing actions by ``charging_mode`` and status group.
3. :data:`ACTION_SCOPE`: conditions an action needs whatever the status
   (``SWITCH_OVER`` only for ``cloudDataGuard`` jobs...).
4. :data:`GATES`: documented exceptions that remove an action
   (a multi-AZ task cannot change flavor...).
5. :data:`NOT_BLOCKED_BY_CURRENT_ACTION`: while an operation is in progress
   (``current_action`` set) only these read-only actions stay available [I].
6. ``unavailable_actions`` is the complement of ``available_actions`` within
   the job's engine-relevant universe: all 31 documented actions minus the
   engine-specific ones (:data:`ENGINE_SPECIFIC`) that do not apply to its
   engine [I, DOMAIN.md 2.3 caveat].

Both lists come out in the documented order of
:data:`drs_analytics.vocabulary.ACTIONS`.

To correct an inferred rule, edit its row: delete it to forbid the action,
change the status to move it, and replace ``"I"`` by the evidence you found
(``"D"``, ``"OTC"``, ``"T"``) with the source in ``note``. The tables are
checked at import time (unknown status, action, label or job field raise
``ValueError``), and ``tests/test_emulator_rules.py`` holds the hand-worked
expectations to update alongside.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

from drs_analytics.vocabulary import ACTIONS, STATUSES

__all__ = [
    "ACTION_SCOPE",
    "BILLING_RULES",
    "ENGINE_SPECIFIC",
    "EVIDENCE_LABELS",
    "GATES",
    "NOT_BLOCKED_BY_CURRENT_ACTION",
    "STATUS_RULES",
    "BillingRule",
    "Gate",
    "JobLike",
    "Rule",
    "Scope",
    "action_evidence",
    "action_universe",
    "check_tables",
    "job_actions",
]

logger = logging.getLogger(__name__)

#: The evidence labels a table cell may carry.
EVIDENCE_LABELS: tuple[str, ...] = ("D", "OTC", "T", "I")

#: A condition on job fields: field name -> allowed values (all must match).
Condition = Mapping[str, tuple[Any, ...]]

#: Job fields a condition may test.
_CONDITION_FIELDS = frozenset(
    {"job_type", "engine_type", "charging_mode", "job_mode", "job_mode_role", "is_multi_az", "task_type"}
)


class JobLike(Protocol):
    """What :func:`job_actions` reads from a job (``emulator.fleet.Job`` fits)."""

    status: str
    job_type: str
    engine_type: str
    charging_mode: str
    job_mode: str
    job_mode_role: str
    is_multi_az: bool
    task_type: str
    current_action: str | None


class Rule(NamedTuple):
    """One allowed (status, action) cell, with its evidence."""

    status: str
    action: str
    evidence: str
    when: Condition | None = None
    note: str = ""


class BillingRule(NamedTuple):
    """A billing action allowed for one charging mode in a group of statuses."""

    charging_mode: str
    action: str
    statuses: tuple[str, ...]
    evidence: str
    note: str = ""


class Scope(NamedTuple):
    """Conditions an action needs in every status."""

    when: Condition
    evidence: str
    note: str = ""


class Gate(NamedTuple):
    """A documented exception: ``action`` is not available when ``when`` matches."""

    action: str
    when: Condition
    evidence: str
    note: str = ""


# --- condition shorthands ------------------------------------------------------------
DR_ONLY: Condition = {"job_type": ("cloudDataGuard",)}
NOT_DR: Condition = {"job_type": ("migration", "sync", "replay")}
SYNC_ONLY: Condition = {"job_type": ("sync",)}

# --- 1. status -> actions --------------------------------------------------------------
# One row per allowed cell. A status with no row allows nothing (besides billing).
# Statuses without rows: STARTJOBING, CHILD_TRANSFER_STARTING, RELEASE_CHILD_TRANSFER_STARTED,
# REBUILD_NODE_STARTED (stop is "not while a fault is being rectified" [OTC]), DELETED,
# NODE_UPGRADE_START/COMPLETE/FAILED (undocumented).
STATUS_RULES: tuple[Rule, ...] = (
    # status                           action                  evidence  condition / note
    Rule("CREATING",                   "CREATE",               "I",      note="creation wizard still open"),
    Rule("CREATING",                   "PRE_CHECK",            "OTC",    note="editable while Creating"),
    Rule("CREATING",                   "MODIFY_CONFIGURATION", "OTC",    note="editable while Creating"),
    Rule("CREATING",                   "CHANGE",               "OTC",    note="editable while Creating"),
    Rule("CREATING",                   "FREE_RESOURCE",        "OTC"),
    Rule("CREATE_FAILED",              "DELETE",               "D,T"),
    Rule("CONFIGURATION",              "CREATE",               "I",      note="creation wizard still open"),
    Rule("CONFIGURATION",              "PRE_CHECK",            "OTC",    note="editable while Configuration"),
    Rule("CONFIGURATION",              "QUERY_PRE_CHECK",      "I"),
    Rule("CONFIGURATION",              "MODIFY_CONFIGURATION", "OTC",    note="editable while Configuration"),
    Rule("CONFIGURATION",              "CHANGE",               "OTC",    note="editable while Configuration"),
    Rule("CONFIGURATION",              "START",                "OTC,T",  note="once configured and prechecked"),
    Rule("CONFIGURATION",              "FREE_RESOURCE",        "OTC"),
    Rule("CONFIGURATION",              "CHANGE_MODE",          "D"),
    Rule("CONFIGURATION",              "RESET_DB_PWD",         "I"),
    Rule("WAITING_FOR_START",          "START",                "T"),
    Rule("WAITING_FOR_START",          "CHANGE",               "OTC",    note="modify the scheduled start time only"),
    Rule("WAITING_FOR_START",          "FREE_RESOURCE",        "OTC"),
    Rule("START_JOB_FAILED",           "PRE_CHECK",            "I"),
    Rule("START_JOB_FAILED",           "MODIFY_CONFIGURATION", "I"),
    Rule("START_JOB_FAILED",           "CHANGE",               "I"),
    Rule("START_JOB_FAILED",           "RETRY",                "I",      note="retry the start"),
    Rule("START_JOB_FAILED",           "FREE_RESOURCE",        "I"),
    Rule("START_JOB_FAILED",           "RESET_DB_PWD",         "I"),
    Rule("START_JOB_FAILED",           "CLONE",                "I"),
    Rule("FULL_TRANSFER_STARTED",      "RESET_DB_PWD",         "I"),
    Rule("FULL_TRANSFER_STARTED",      "MODIFY_CONFIGURATION", "I",      note="task parameters"),
    Rule("FULL_TRANSFER_STARTED",      "MODIFY_DB_CONFIG",     "I"),
    Rule("FULL_TRANSFER_STARTED",      "PAUSE",                "D,T"),
    Rule("FULL_TRANSFER_STARTED",      "FREE_RESOURCE",        "OTC"),
    Rule("FULL_TRANSFER_STARTED",      "CHANGE_FLAVOR",        "D",      note="sync: Full; DR: Initializing"),
    Rule("FULL_TRANSFER_STARTED",      "CLONE",                "T,OTC"),
    Rule("FULL_TRANSFER_FAILED",       "RESET_DB_PWD",         "OTC"),
    Rule("FULL_TRANSFER_FAILED",       "MODIFY_DB_CONFIG",     "I"),
    Rule("FULL_TRANSFER_FAILED",       "PAUSE",                "OTC",    note="v3 batch-pause list"),
    Rule("FULL_TRANSFER_FAILED",       "RETRY",                "D"),
    Rule("FULL_TRANSFER_FAILED",       "RESET",                "T"),
    Rule("FULL_TRANSFER_FAILED",       "FREE_RESOURCE",        "OTC"),
    Rule("FULL_TRANSFER_FAILED",       "CHANGE_FLAVOR",        "D",      NOT_DR, "DR: Initializing/DR in progress"),
    Rule("FULL_TRANSFER_FAILED",       "CLONE",                "T,OTC"),
    Rule("FULL_TRANSFER_COMPLETE",     "RESET_DB_PWD",         "I"),
    Rule("FULL_TRANSFER_COMPLETE",     "PAUSE",                "D,T"),
    Rule("FULL_TRANSFER_COMPLETE",     "FREE_RESOURCE",        "I"),
    Rule("FULL_TRANSFER_COMPLETE",     "CHANGE_FLAVOR",        "I",      NOT_DR),
    Rule("FULL_TRANSFER_COMPLETE",     "CLONE",                "T,OTC"),
    Rule("INCRE_TRANSFER_STARTED",     "CHOOSE_OBJECT",        "T",      note="sync re-edit"),
    Rule("INCRE_TRANSFER_STARTED",     "CHANGE_MODE",          "D"),
    Rule("INCRE_TRANSFER_STARTED",     "RESET_DB_PWD",         "I"),
    Rule("INCRE_TRANSFER_STARTED",     "MODIFY_CONFIGURATION", "I",      note="task parameters"),
    Rule("INCRE_TRANSFER_STARTED",     "MODIFY_DB_CONFIG",     "I"),
    Rule("INCRE_TRANSFER_STARTED",     "PAUSE",                "D,T"),
    Rule("INCRE_TRANSFER_STARTED",     "FREE_RESOURCE",        "OTC"),
    Rule("INCRE_TRANSFER_STARTED",     "SWITCH_OVER",          "OTC,T",  note="DR in progress"),
    Rule("INCRE_TRANSFER_STARTED",     "CHANGE_FLAVOR",        "D",      note="sync: Incremental; DR: DR in progress"),
    Rule("INCRE_TRANSFER_STARTED",     "CLONE",                "T,OTC"),
    Rule("INCRE_TRANSFER_FAILED",      "CHOOSE_OBJECT",        "T",      note="sync re-edit"),
    Rule("INCRE_TRANSFER_FAILED",      "CHANGE_MODE",          "D"),
    Rule("INCRE_TRANSFER_FAILED",      "RESET_DB_PWD",         "OTC"),
    Rule("INCRE_TRANSFER_FAILED",      "MODIFY_DB_CONFIG",     "I"),
    Rule("INCRE_TRANSFER_FAILED",      "PAUSE",                "OTC",    note="v3 batch-pause list"),
    Rule("INCRE_TRANSFER_FAILED",      "RETRY",                "D"),
    Rule("INCRE_TRANSFER_FAILED",      "RESET",                "OTC,T"),
    Rule("INCRE_TRANSFER_FAILED",      "FREE_RESOURCE",        "OTC"),
    Rule("INCRE_TRANSFER_FAILED",      "SWITCH_OVER",          "T",      note="DR failed"),
    Rule("INCRE_TRANSFER_FAILED",      "CHANGE_FLAVOR",        "D",      NOT_DR, "DR: Initializing/DR in progress"),
    Rule("INCRE_TRANSFER_FAILED",      "CLONE",                "T,OTC"),
    Rule("PAUSING",                    "RESET_DB_PWD",         "OTC"),
    Rule("PAUSING",                    "RETRY",                "D,T",    note="resume a paused task"),
    Rule("PAUSING",                    "RESET",                "OTC",    SYNC_ONLY, "sync: Paused"),
    Rule("PAUSING",                    "FREE_RESOURCE",        "OTC"),
    Rule("PAUSING",                    "CHANGE_FLAVOR",        "I",      NOT_DR),
    Rule("PAUSING",                    "CLONE",                "T,OTC"),
    Rule("CHANGE_JOB_STARTED",         "CLONE",                "I"),
    Rule("CHANGE_JOB_FAILED",          "RETRY",                "I"),
    Rule("CHANGE_JOB_FAILED",          "FREE_RESOURCE",        "I"),
    Rule("CHANGE_JOB_FAILED",          "CLONE",                "I"),
    Rule("REBUILD_NODE_FAILED",        "RETRY",                "I"),
    Rule("REBUILD_NODE_FAILED",        "FREE_RESOURCE",        "I"),
    Rule("CHILD_TRANSFER_STARTED",     "PAUSE",                "I"),
    Rule("CHILD_TRANSFER_STARTED",     "FREE_RESOURCE",        "I"),
    Rule("CHILD_TRANSFER_COMPLETE",    "FREE_RESOURCE",        "I"),
    Rule("CHILD_TRANSFER_FAILED",      "RETRY",                "I"),
    Rule("CHILD_TRANSFER_FAILED",      "FREE_RESOURCE",        "I"),
    Rule("RELEASE_CHILD_TRANSFER_COMPLETE", "DELETE",          "D,T"),
    Rule("RELEASE_RESOURCE_STARTED",   "CLONE",                "T,OTC"),
    Rule("RELEASE_RESOURCE_FAILED",    "FREE_RESOURCE",        "I",      note="retry the stop"),
    Rule("RELEASE_RESOURCE_FAILED",    "CLONE",                "T,OTC"),
    Rule("RELEASE_RESOURCE_COMPLETE",  "DELETE",               "D,T"),
    Rule("RELEASE_RESOURCE_COMPLETE",  "CLONE",                "T,OTC"),
    # Engine-specific actions (they only exist for their engines, see ENGINE_SPECIFIC).
    Rule("FULL_TRANSFER_STARTED",      "STOP_JOB",             "I"),
    Rule("FULL_TRANSFER_COMPLETE",     "STOP_JOB",             "I"),
    Rule("INCRE_TRANSFER_STARTED",     "STOP_JOB",             "I"),
    Rule("INCRE_TRANSFER_STARTED",     "STOP_CAPTURE",         "I"),
    Rule("INCRE_TRANSFER_STARTED",     "STOP_APPLY",           "I"),
    Rule("FULL_TRANSFER_FAILED",       "CONTINUE_JOB",         "I",      note="resume a failed task"),
    Rule("INCRE_TRANSFER_FAILED",      "CONTINUE_JOB",         "I",      note="resume a failed task"),
    Rule("INCRE_TRANSFER_FAILED",      "CONTINUE_CAPTURE",     "I"),
    Rule("INCRE_TRANSFER_FAILED",      "CONTINUE_APPLY",       "I"),
    Rule("PAUSING",                    "CONTINUE_JOB",         "I",      note="resume a stopped task"),
    Rule("PAUSING",                    "CONTINUE_CAPTURE",     "I"),
    Rule("PAUSING",                    "CONTINUE_APPLY",       "I"),
    Rule("FULL_TRANSFER_COMPLETE",     "START_INCR",           "I"),
    Rule("FULL_TRANSFER_STARTED",      "MODIFY_TASK_NUMBER",   "I"),
    Rule("INCRE_TRANSFER_STARTED",     "MODIFY_TASK_NUMBER",   "I"),
)  # fmt: skip

# --- 2. billing --------------------------------------------------------------------------
#: Transfer in progress: where an on-demand task can switch to yearly/monthly.
RUNNING_STATUSES: tuple[str, ...] = ("FULL_TRANSFER_STARTED", "FULL_TRANSFER_COMPLETE", "INCRE_TRANSFER_STARTED")
#: Before the order of a yearly/monthly task is paid.
UNPAID_STATUSES: tuple[str, ...] = ("CREATING", "CONFIGURATION")
#: A paid order exists (every status except unpaid and deleted).
PAID_STATUSES: tuple[str, ...] = tuple(s for s in STATUSES if s not in (*UNPAID_STATUSES, "DELETED"))
#: A paid order still runs: paid, and the task is neither failed at creation nor ended.
RENEWABLE_STATUSES: tuple[str, ...] = tuple(
    s
    for s in PAID_STATUSES
    if s not in ("CREATE_FAILED", "RELEASE_RESOURCE_COMPLETE", "RELEASE_CHILD_TRANSFER_COMPLETE")
)

BILLING_RULES: tuple[BillingRule, ...] = (
    # charging mode  action         statuses                          evidence
    BillingRule("on_demand", "TO_PERIOD",   RUNNING_STATUSES,                 "I"),
    BillingRule("period",    "PAY_ORDER",   UNPAID_STATUSES,                  "I"),
    BillingRule("period",    "ORDER_INFO",  UNPAID_STATUSES + PAID_STATUSES,  "I"),
    BillingRule("period",    "UNSUBSCRIBE", PAID_STATUSES,                    "I"),
    BillingRule("period",    "TO_RENEW",    RENEWABLE_STATUSES,               "I"),
)  # fmt: skip

# --- 3. scope: conditions an action needs whatever the status ------------------------------
ACTION_SCOPE: dict[str, Scope] = {
    "SWITCH_OVER": Scope(DR_ONLY, "D", "DR switchover (enum description)"),
    "CHOOSE_OBJECT": Scope(SYNC_ONLY, "T", "object re-edit is for sync tasks (TF updateObjectsSelection)"),
    "CHANGE_MODE": Scope(SYNC_ONLY, "I", "the synchronization mode is a sync-task setting"),
    "TO_PERIOD": Scope({"job_type": ("sync", "cloudDataGuard")}, "T", "pre-paid only for sync and DR"),
    "MODIFY_DB_CONFIG": Scope({"engine_type": ("mysql-to-mysql",)}, "I", "parameter restart: MySQL sources"),
}

# --- 4. gates: documented exceptions that remove an action ------------------------------------
GATES: tuple[Gate, ...] = (
    Gate("CHANGE_FLAVOR", {"is_multi_az": (True,)}, "D", "spec change: single-AZ tasks only"),
    Gate("PAUSE", {"job_type": ("cloudDataGuard",), "job_mode_role": ("parent",)}, "D", "dual-active DR parent"),
    Gate("RETRY", {"job_type": ("cloudDataGuard",), "job_mode_role": ("parent",)}, "D", "dual-active DR parent"),
    Gate("DELETE", {"charging_mode": ("period",)}, "D", "pre-paid tasks must be unsubscribed first"),
    Gate("CLONE", {"job_mode": ("multi_to_single",)}, "OTC", "many-to-one tasks cannot be cloned"),
    Gate("CLONE", {"job_type": ("sync",), "engine_type": ("oracle-to-gaussdbv5",)}, "OTC", "sync clone: MySQL only"),
)

# --- 5. operation in progress ---------------------------------------------------------------
#: Read-only actions that stay available while ``current_action`` is set [I]. Every
#: other action is blocked, like DRS.M01504 "Another operation is being performed".
NOT_BLOCKED_BY_CURRENT_ACTION: frozenset[str] = frozenset({"QUERY_PRE_CHECK", "ORDER_INFO"})

# --- 6. engine-specific actions -----------------------------------------------------------
#: Actions that exist only for some engines [D, enum descriptions]. They are left out of
#: both lists for other engines (the engine-relevant universe).
ENGINE_SPECIFIC: dict[str, tuple[str, ...]] = {
    "START_INCR": ("cloudDataGuard-cassandra",),
    "MODIFY_TASK_NUMBER": ("cloudDataGuard-cassandra",),
    "CONTINUE_JOB": ("oracle-to-gaussdbv5",),
    "STOP_JOB": ("oracle-to-gaussdbv5",),
    "CONTINUE_CAPTURE": ("oracle-to-gaussdbv5",),
    "STOP_CAPTURE": ("oracle-to-gaussdbv5",),
    "CONTINUE_APPLY": ("oracle-to-gaussdbv5",),
    "STOP_APPLY": ("oracle-to-gaussdbv5",),
}


def _matches(job: JobLike, when: Condition | None) -> bool:
    """Return whether every field named in ``when`` has one of the allowed values."""
    return not when or all(getattr(job, field) in allowed for field, allowed in when.items())


def action_universe(engine_type: str) -> tuple[str, ...]:
    """Return the actions that exist for an engine, in documented order.

    Parameters
    ----------
    engine_type : str
        The job's ``engine_type``.

    Returns
    -------
    tuple of str
        ``ACTIONS`` minus the engine-specific actions of other engines.
    """
    return tuple(a for a in ACTIONS if a not in ENGINE_SPECIFIC or engine_type in ENGINE_SPECIFIC[a])


def action_evidence(job: JobLike) -> dict[str, str]:
    """Return the allowed actions of a job with the evidence of the cell allowing each.

    Parameters
    ----------
    job : JobLike
        Any object with the fields of :class:`JobLike`.

    Returns
    -------
    dict of str to str
        Action -> evidence label(s), in documented order. Only actions that end
        up in ``available_actions`` are present.
    """
    found: dict[str, str] = {}
    for rule in _STATUS_INDEX.get(job.status, ()):
        if _matches(job, rule.when):
            found.setdefault(rule.action, rule.evidence)
    for rule in BILLING_RULES:
        if job.charging_mode == rule.charging_mode and job.status in rule.statuses:
            found.setdefault(rule.action, rule.evidence)
    universe = action_universe(job.engine_type)
    return {a: found[a] for a in universe if a in found and _allowed(job, a)}


def _allowed(job: JobLike, action: str) -> bool:
    """Apply scope, gates and the current-action block to one candidate action."""
    scope = ACTION_SCOPE.get(action)
    if scope is not None and not _matches(job, scope.when):
        return False
    if any(g.action == action and _matches(job, g.when) for g in GATES):
        return False
    return not job.current_action or action in NOT_BLOCKED_BY_CURRENT_ACTION


def job_actions(job: JobLike) -> tuple[list[str], list[str], str | None]:
    """Derive the ``/actions`` answer of a job from its status, type, engine and billing.

    Parameters
    ----------
    job : JobLike
        Any object with the fields of :class:`JobLike`, typically an
        :class:`drs_analytics.emulator.fleet.Job`.

    Returns
    -------
    available : list of str
        Allowed actions, in documented order.
    unavailable : list of str
        The rest of the engine-relevant universe, in documented order.
    current_action : str or None
        The operation in progress, ``None`` when idle.

    Examples
    --------
    >>> from drs_analytics.emulator.fleet import Job
    >>> job = Job(id="x", name="DRS-1", status="RELEASE_RESOURCE_COMPLETE")
    >>> job_actions(job)[0]
    ['DELETE', 'CLONE']
    """
    available = set(action_evidence(job))
    universe = action_universe(job.engine_type)
    return (
        [a for a in universe if a in available],
        [a for a in universe if a not in available],
        job.current_action or None,
    )


def check_tables() -> None:
    """Check every table against the vocabulary.

    Raises
    ------
    ValueError
        On an unknown status, action, evidence label or job field, or a duplicated row.
    """
    seen: set[tuple[str, str, str]] = set()
    for rule in STATUS_RULES:
        _check_names(rule, [rule.status], rule.action, rule.evidence, rule.when)
        key = (rule.status, rule.action, repr(rule.when))
        if key in seen:
            raise ValueError(f"duplicated rule {rule!r}")
        seen.add(key)
    for brule in BILLING_RULES:
        _check_names(brule, brule.statuses, brule.action, brule.evidence, None)
    for action, scope in ACTION_SCOPE.items():
        _check_names(scope, [], action, scope.evidence, scope.when)
    for gate in GATES:
        _check_names(gate, [], gate.action, gate.evidence, gate.when)
    for action in ENGINE_SPECIFIC:
        _check_names(action, [], action, "I", None)


def _check_names(row: object, statuses, action: str, evidence: str, when: Condition | None) -> None:
    """Raise ``ValueError`` naming ``row`` if one of its names is not in the vocabulary."""
    problems = [f"status {s!r}" for s in statuses if s not in STATUSES]
    if action not in ACTIONS:
        problems.append(f"action {action!r}")
    problems += [f"evidence {e!r}" for e in evidence.split(",") if e not in EVIDENCE_LABELS]
    problems += [f"job field {f!r}" for f in (when or {}) if f not in _CONDITION_FIELDS]
    if problems:
        raise ValueError(f"bad rules table row {row!r}: unknown {', '.join(problems)}")


check_tables()

_STATUS_INDEX: dict[str, tuple[Rule, ...]] = {
    status: tuple(r for r in STATUS_RULES if r.status == status) for status in STATUSES
}
