"""The DRS vocabulary: action names, statuses, job types and engines.

Every list here is documented by Huawei (see ``shared/reference/DOMAIN.md``
sections 1 and 2.1). The order of :data:`ACTIONS` is the order of the API
page, which is also the default column order of availability matrices.

Action names outside this vocabulary are kept wherever they appear: the API
page's own example answers with ``QUICK_START``, which is not in the enum.
"""

from __future__ import annotations

__all__ = [
    "ACTIONS",
    "CURRENT_ACTIONS",
    "ENGINE_TYPES",
    "JOB_TYPES",
    "LIST_STATUSES",
    "STATUSES",
    "order_actions",
]

#: The 31 values of ``available_actions`` / ``unavailable_actions``, in documented order.
ACTIONS: tuple[str, ...] = (
    "CREATE",
    "CHOOSE_OBJECT",
    "PRE_CHECK",
    "CHANGE_MODE",
    "FREE_RESOURCE",
    "MODIFY_DB_CONFIG",
    "RESET_DB_PWD",
    "MODIFY_CONFIGURATION",
    "PAUSE",
    "START",
    "CHANGE",
    "RETRY",
    "RESET",
    "DELETE",
    "QUERY_PRE_CHECK",
    "SWITCH_OVER",
    "START_INCR",
    "MODIFY_TASK_NUMBER",
    "CONTINUE_JOB",
    "STOP_JOB",
    "CONTINUE_CAPTURE",
    "STOP_CAPTURE",
    "CONTINUE_APPLY",
    "STOP_APPLY",
    "PAY_ORDER",
    "UNSUBSCRIBE",
    "TO_PERIOD",
    "TO_RENEW",
    "ORDER_INFO",
    "CHANGE_FLAVOR",
    "CLONE",
)

#: The 33 values of ``current_action``: the actions minus ``CHANGE_FLAVOR``, plus three.
CURRENT_ACTIONS: tuple[str, ...] = tuple(a for a in ACTIONS if a != "CHANGE_FLAVOR") + (
    "API_CONFIGURATION_ACTION",
    "JUMP_RETRY",
    "NODE_FLAVOR_MODIFY",
)

#: The 22 statuses of ``GET /v5/{project_id}/jobs`` (ListJobs).
LIST_STATUSES: tuple[str, ...] = (
    "CREATING",
    "CREATE_FAILED",
    "CONFIGURATION",
    "STARTJOBING",
    "WAITING_FOR_START",
    "START_JOB_FAILED",
    "FULL_TRANSFER_STARTED",
    "FULL_TRANSFER_FAILED",
    "FULL_TRANSFER_COMPLETE",
    "INCRE_TRANSFER_STARTED",
    "INCRE_TRANSFER_FAILED",
    "RELEASE_RESOURCE_STARTED",
    "RELEASE_RESOURCE_FAILED",
    "RELEASE_RESOURCE_COMPLETE",
    "CHANGE_JOB_STARTED",
    "CHANGE_JOB_FAILED",
    "CHILD_TRANSFER_STARTING",
    "CHILD_TRANSFER_STARTED",
    "CHILD_TRANSFER_COMPLETE",
    "CHILD_TRANSFER_FAILED",
    "RELEASE_CHILD_TRANSFER_STARTED",
    "RELEASE_CHILD_TRANSFER_COMPLETE",
)

#: The 29 statuses of the job-detail and v3 APIs: the list statuses plus seven.
STATUSES: tuple[str, ...] = LIST_STATUSES + (
    "PAUSING",
    "REBUILD_NODE_STARTED",
    "REBUILD_NODE_FAILED",
    "DELETED",
    "NODE_UPGRADE_START",
    "NODE_UPGRADE_COMPLETE",
    "NODE_UPGRADE_FAILED",
)

#: ``job_type`` values accepted by ListJobs.
JOB_TYPES: tuple[str, ...] = ("migration", "sync", "cloudDataGuard", "replay")

#: Engines the v5 APIs support (HW-constraints).
ENGINE_TYPES: tuple[str, ...] = (
    "mysql-to-mysql",
    "redis-to-gaussredis",
    "rediscluster-to-gaussredis",
    "oracle-to-gaussdbv5",
)

_ACTION_RANK = {name: i for i, name in enumerate(ACTIONS)}


def order_actions(names) -> list[str]:
    """Return distinct action names: documented ones in documented order, then the rest sorted.

    >>> order_actions(["RETRY", "QUICK_START", "CREATE", "RETRY"])
    ['CREATE', 'RETRY', 'QUICK_START']
    """
    distinct = set(names)
    known = sorted((n for n in distinct if n in _ACTION_RANK), key=_ACTION_RANK.__getitem__)
    return known + sorted(distinct - _ACTION_RANK.keys())
