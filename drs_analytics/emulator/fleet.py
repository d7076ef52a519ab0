"""A seeded synthetic fleet of DRS jobs.

:func:`make_fleet` draws every value from one ``random.Random(seed)``, in a
fixed order, so a seed gives the same fleet on every run and platform.

The proportions below are invented to look like a real tenant (mostly
incremental sync/migration tasks, some full transfers, paused and failed
tasks, some ended ones) [I]. Field values follow ``DOMAIN.md`` section 1.4.
"""

from __future__ import annotations

import logging
import random
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from typing import TypeVar

__all__ = ["CURRENT_ACTION_FITS", "JOB_ID_PATTERN", "NAME_PATTERN", "Job", "make_fleet"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Shape of the documented job IDs (``163b98e8-6088-46c3-8b86-c18fea6jb502``).
JOB_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{7}jb[0-9a-z]{3}$"
#: Documented task names: 4-50 chars, a letter first, then letters, digits, ``-`` or ``_``.
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{3,49}$"


@dataclass
class Job:
    """One DRS job, with the fields of a v5 ListJobs entry (``JobListResp``).

    ``parent_id``/``children`` link parent and child tasks (children are jobs of
    their own). ``current_action`` is the operation in progress, ``None`` when idle.
    """

    id: str
    name: str
    status: str
    description: str = ""
    create_time: str = "2025-01-01 00:00:00"
    engine_type: str = "mysql-to-mysql"
    net_type: str = "eip"
    charging_mode: str = "on_demand"
    billing_tag: bool = True
    job_direction: str = "up"
    job_type: str = "sync"
    task_type: str = "FULL_INCR_TRANS"
    enterprise_project_id: str = "0"
    job_mode: str = "single"
    job_mode_role: str = ""
    is_multi_az: bool = False
    node_role: str = ""
    node_new_framework: bool = True
    parent_id: str | None = None
    children: list[str] = field(default_factory=list)
    current_action: str | None = None


# --- proportions [I] --------------------------------------------------------------------
_JOB_TYPES = {"sync": 45, "migration": 33, "cloudDataGuard": 17, "replay": 5}
_ENGINES = {
    "sync": {"mysql-to-mysql": 70, "oracle-to-gaussdbv5": 30},
    "migration": {"mysql-to-mysql": 50, "redis-to-gaussredis": 30, "rediscluster-to-gaussredis": 20},
    "cloudDataGuard": {"mysql-to-mysql": 100},
    "replay": {"mysql-to-mysql": 100},
}
_SYNC_STATUSES = {
    "INCRE_TRANSFER_STARTED": 50, "FULL_TRANSFER_STARTED": 8, "FULL_TRANSFER_COMPLETE": 2,
    "FULL_TRANSFER_FAILED": 2, "INCRE_TRANSFER_FAILED": 4, "PAUSING": 7, "CONFIGURATION": 5,
    "CREATING": 2, "CREATE_FAILED": 2, "WAITING_FOR_START": 2, "STARTJOBING": 1, "START_JOB_FAILED": 1,
    "RELEASE_RESOURCE_STARTED": 1, "RELEASE_RESOURCE_FAILED": 1, "RELEASE_RESOURCE_COMPLETE": 8,
    "CHANGE_JOB_STARTED": 2, "CHANGE_JOB_FAILED": 1,
}  # fmt: skip
_MIGRATION_STATUSES = {
    "INCRE_TRANSFER_STARTED": 34, "FULL_TRANSFER_STARTED": 14, "FULL_TRANSFER_COMPLETE": 8,
    "FULL_TRANSFER_FAILED": 4, "INCRE_TRANSFER_FAILED": 3, "PAUSING": 5, "CONFIGURATION": 6,
    "CREATING": 2, "CREATE_FAILED": 2, "WAITING_FOR_START": 2, "STARTJOBING": 1, "START_JOB_FAILED": 1,
    "RELEASE_RESOURCE_STARTED": 1, "RELEASE_RESOURCE_FAILED": 1, "RELEASE_RESOURCE_COMPLETE": 12,
    "CHANGE_JOB_STARTED": 1, "CHANGE_JOB_FAILED": 1,
}  # fmt: skip
# Replay statuses (Parsing/Replaying/...) have no documented API mapping; full-transfer codes [I].
_REPLAY_STATUSES = {
    "FULL_TRANSFER_STARTED": 40, "FULL_TRANSFER_COMPLETE": 20, "FULL_TRANSFER_FAILED": 8,
    "CONFIGURATION": 12, "CREATING": 4, "RELEASE_RESOURCE_COMPLETE": 16,
}  # fmt: skip
_STATUSES = {"sync": _SYNC_STATUSES, "cloudDataGuard": _SYNC_STATUSES, "migration": _MIGRATION_STATUSES}
_CHILD_STATUSES = {
    "CHILD_TRANSFER_STARTED": 40, "CHILD_TRANSFER_COMPLETE": 20, "CHILD_TRANSFER_STARTING": 10,
    "CHILD_TRANSFER_FAILED": 10, "RELEASE_CHILD_TRANSFER_STARTED": 5, "RELEASE_CHILD_TRANSFER_COMPLETE": 15,
}  # fmt: skip
_NOT_BILLING = {
    "CREATING", "CREATE_FAILED", "CONFIGURATION", "WAITING_FOR_START",
    "RELEASE_RESOURCE_COMPLETE", "RELEASE_CHILD_TRANSFER_COMPLETE",
}  # fmt: skip
#: (not DR, DR): DR tasks cannot use vpc; their direction is up or down.
_NET_TYPES = (("eip", "vpc", "vpn"), ("eip", "vpn"))
_DIRECTIONS = (("up", "up", "down", "non-dbs"), ("up", "down"))
_PERIOD_SHARE = 0.2  # of sync and DR jobs; pre-paid applies only to those [T]
_FAMILY_SHARE = {"dual_active": 0.025, "re_edit": 0.03}
_BUSY_SHARE = 0.04  # idle-able jobs with an operation in progress

#: Operations in progress that fit a status [I]: (current_action, statuses, job types or
#: None for any, engines or None for any, weight).
CURRENT_ACTION_FITS: tuple[tuple[str, tuple[str, ...], tuple[str, ...] | None, tuple[str, ...] | None, int], ...] = (
    ("SWITCH_OVER", ("INCRE_TRANSFER_STARTED",), ("cloudDataGuard",), None, 6),
    ("PAUSE", ("FULL_TRANSFER_STARTED", "INCRE_TRANSFER_STARTED", "PAUSING"), None, None, 3),
    ("STOP_JOB", ("FULL_TRANSFER_STARTED", "INCRE_TRANSFER_STARTED"), None, ("oracle-to-gaussdbv5",), 2),
    ("RETRY", ("PAUSING", "FULL_TRANSFER_FAILED", "INCRE_TRANSFER_FAILED"), None, None, 3),
    ("JUMP_RETRY", ("INCRE_TRANSFER_FAILED",), None, None, 1),
    ("RESET", ("FULL_TRANSFER_FAILED", "INCRE_TRANSFER_FAILED"), None, None, 1),
    ("CLONE", ("FULL_TRANSFER_STARTED", "INCRE_TRANSFER_STARTED", "RELEASE_RESOURCE_COMPLETE"), None, None, 1),
    ("CHOOSE_OBJECT", ("INCRE_TRANSFER_STARTED",), ("sync",), None, 2),
    ("MODIFY_CONFIGURATION", ("INCRE_TRANSFER_STARTED",), None, None, 1),
    ("PRE_CHECK", ("CONFIGURATION",), None, None, 2),
    ("API_CONFIGURATION_ACTION", ("CONFIGURATION",), None, None, 2),
    ("START", ("STARTJOBING",), None, None, 1),
    ("FREE_RESOURCE", ("RELEASE_RESOURCE_STARTED",), None, None, 1),
    ("NODE_FLAVOR_MODIFY", ("CHANGE_JOB_STARTED",), None, None, 7),
    ("CHANGE", ("CHANGE_JOB_STARTED",), None, None, 3),
)
#: Statuses that are themselves an operation in progress: share of them showing it.
_BUSY_STATUSES = {"CHANGE_JOB_STARTED": 1.0, "STARTJOBING": 0.5, "RELEASE_RESOURCE_STARTED": 0.5}

_NAME_STEMS = (
    "orders", "billing", "users", "inventory", "payments", "crm", "erp", "analytics", "catalog",
    "sessions", "ledger", "audit", "shipping", "reports", "cache", "profiles", "invoices", "events",
)  # fmt: skip
_NAME_KINDS = {"sync": "sync", "migration": "mig", "cloudDataGuard": "dr", "replay": "replay"}
_NAME_PLACES = ("eu", "us", "ap", "gz", "sh", "bj", "prod", "stg", "dev", "hk")
_DESCRIPTIONS = (
    "", "", "", "nightly reporting copy", "cut-over to the new cluster", "owned by the data team",
    "temporary, remove after go-live", "DR for the core database", "ticket INC-2041",
)  # fmt: skip
_EPOCH = datetime(2025, 6, 30, 12, 0, 0)
_HEX = "0123456789abcdef"
_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyz"


def _weighted(rng: random.Random, weights: dict[T, float]) -> T:
    """Draw one key of ``weights`` with probability proportional to its value.

    The same draw as ``rng.choices(keys, weights)[0]`` (one ``random()``, the same
    bisection), without its per-call overhead; the keys and cumulative weights of
    this module's constant tables are computed once (:data:`_CUMULATIVE`).
    """
    table = _CUMULATIVE.get(id(weights))
    if table is None or table[0] is not weights:
        table = (weights, list(weights), list(accumulate(weights.values())))
    _, keys, cumulative = table
    return keys[bisect(cumulative, rng.random() * (cumulative[-1] + 0.0), 0, len(keys) - 1)]


def _pick(rng: random.Random, options: Sequence[T]) -> T:
    """Draw one element uniformly (``rng.choice``: the same draw as ``options[rng.randrange(len(options))]``)."""
    return rng.choice(options)


def _job_id(rng: random.Random) -> str:
    """Draw a UUID-like job ID whose last group ends in ``jb`` + 3 characters."""
    tail = "".join(_pick(rng, _ALNUM) for _ in range(3))
    return (
        f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}-"
        f"{_pick(rng, '89ab')}{rng.getrandbits(12):03x}-{rng.getrandbits(28):07x}jb{tail}"
    )


class _FleetMaker:
    """Stateful helper of :func:`make_fleet`: one RNG, used names and IDs."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names: set[str] = set()
        self.ids: set[str] = set()
        self.projects = ["0"] + [f"{rng.getrandbits(128):032x}" for _ in range(3)]

    def family(self, room: int) -> list[Job]:
        """Return one standalone job, or a parent and its children if ``room`` allows."""
        u = self.rng.random()
        if u < _FAMILY_SHARE["dual_active"] and room >= 3:
            return self._dual_active()
        if u < _FAMILY_SHARE["dual_active"] + _FAMILY_SHARE["re_edit"] and room >= 2:
            return self._re_edit()
        return [self._job(_weighted(self.rng, _JOB_TYPES))]

    def _job(self, job_type: str, status: str | None = None, **fields) -> Job:
        """Draw one job of ``job_type``; ``fields`` override drawn values."""
        rng = self.rng
        engine = _weighted(rng, _ENGINES[job_type])
        status = status or _weighted(rng, _STATUSES.get(job_type, _REPLAY_STATUSES))
        period = job_type in ("sync", "cloudDataGuard") and rng.random() < _PERIOD_SHARE
        multi_az = rng.random() < 0.1
        job = Job(
            id=self._unique_id(),
            name=self._unique_name(job_type),
            status=status,
            description=_pick(rng, _DESCRIPTIONS),
            create_time=(_EPOCH - timedelta(seconds=rng.randrange(540 * 86400))).strftime("%Y-%m-%d %H:%M:%S"),
            engine_type=engine,
            net_type=_pick(rng, _NET_TYPES[job_type == "cloudDataGuard"]),
            charging_mode="period" if period else "on_demand",
            billing_tag=status not in _NOT_BILLING,
            job_direction=_pick(rng, _DIRECTIONS[job_type == "cloudDataGuard"]),
            job_type=job_type,
            task_type=self._task_type(job_type, status),
            enterprise_project_id=self.projects[0] if rng.random() < 0.7 else _pick(rng, self.projects[1:]),
            is_multi_az=multi_az,
            node_role="master" if multi_az else "",
            node_new_framework=rng.random() < 0.85,
        )  # fmt: skip
        for key, value in fields.items():
            setattr(job, key, value)
        job.current_action = self._current_action(job)
        return job

    def _task_type(self, job_type: str, status: str) -> str:
        """Draw a task type consistent with the status (no FULL_TRANS in incremental)."""
        if job_type == "replay":
            return "FULL_TRANS"
        if job_type == "cloudDataGuard":
            return "FULL_INCR_TRANS"
        if status.startswith("INCRE_"):
            return _weighted(self.rng, {"FULL_INCR_TRANS": 80, "INCR_TRANS": 20})
        if status.startswith("FULL_"):
            return _weighted(self.rng, {"FULL_INCR_TRANS": 75, "FULL_TRANS": 25})
        return _weighted(self.rng, {"FULL_INCR_TRANS": 70, "FULL_TRANS": 15, "INCR_TRANS": 15})

    def _current_action(self, job: Job) -> str | None:
        """Draw an operation in progress that fits the job, or ``None`` (mostly)."""
        share = _BUSY_STATUSES.get(job.status, _BUSY_SHARE)
        if self.rng.random() >= share:
            return None
        fits = {
            name: weight
            for name, statuses, types, engines, weight in CURRENT_ACTION_FITS
            if job.status in statuses
            and (types is None or job.job_type in types)
            and (engines is None or job.engine_type in engines)
        }
        return _weighted(self.rng, fits) if fits else None

    def _dual_active(self) -> list[Job]:
        """A dual-active DR parent with its forward and backward child tasks."""
        parent = self._job("cloudDataGuard", "INCRE_TRANSFER_STARTED", job_mode_role="parent")
        backward = _weighted(self.rng, {"INCRE_TRANSFER_STARTED": 70, "WAITING_FOR_START": 20, "PAUSING": 10})
        children = [
            self._child(parent, "INCRE_TRANSFER_STARTED", job_direction="up"),
            self._child(parent, backward, job_direction="down"),
        ]
        return [parent, *children]

    def _re_edit(self) -> list[Job]:
        """A sync task re-edited while incremental, with its child task."""
        parent = self._job("sync", "INCRE_TRANSFER_STARTED", job_mode_role="parent")
        child = self._child(parent, _weighted(self.rng, _CHILD_STATUSES), job_mode="sync_child")
        return [parent, child]

    def _child(self, parent: Job, status: str, **fields) -> Job:
        """A child of ``parent``, sharing its type, engine and billing."""
        inherited = {
            "engine_type": parent.engine_type,
            "charging_mode": parent.charging_mode,
            "enterprise_project_id": parent.enterprise_project_id,
            "net_type": parent.net_type,
        }
        child = self._job(parent.job_type, status, job_mode_role="child", parent_id=parent.id, **inherited, **fields)
        parent.children.append(child.id)
        return child

    def _unique_id(self) -> str:
        """Draw job IDs until one is new."""
        while (job_id := _job_id(self.rng)) in self.ids:
            pass
        self.ids.add(job_id)
        return job_id

    def _unique_name(self, job_type: str) -> str:
        """Draw a console-default (``DRS-1234``) or meaningful name not used yet."""
        rng = self.rng
        while True:
            if rng.random() < 0.45:
                name = f"DRS-{rng.randrange(1000, 10000)}"
                if rng.random() < 0.2:
                    name += "-" + "".join(_pick(rng, "abcdefghijklmnopqrstuvwxyz") for _ in range(3))
            else:
                name = f"{_pick(rng, _NAME_STEMS)}-{_NAME_KINDS[job_type]}-{_pick(rng, _NAME_PLACES)}"
                if name in self.names:
                    name += f"_{rng.randrange(2, 100)}"
            if name not in self.names:
                self.names.add(name)
                return name


#: id -> (table, keys, cumulative weights) of the constant weight tables above (never mutated).
_CUMULATIVE: dict[int, tuple[dict, list, list]] = {
    id(table): (table, list(table), list(accumulate(table.values())))
    for table in (
        _JOB_TYPES, *_ENGINES.values(), _SYNC_STATUSES, _MIGRATION_STATUSES, _REPLAY_STATUSES, _CHILD_STATUSES
    )
}


def make_fleet(n: int, *, seed: int) -> list[Job]:
    """Generate ``n`` synthetic DRS jobs, the same ones for the same seed.

    Parameters
    ----------
    n : int
        Number of jobs, children included (children are jobs of their own).
    seed : int
        Seed of the ``random.Random`` every value is drawn from.

    Returns
    -------
    list of Job
        Parents come right before their children.

    Raises
    ------
    ValueError
        If ``n`` is negative or not an integer.

    Examples
    --------
    >>> [job.id for job in make_fleet(3, seed=1)] == [job.id for job in make_fleet(3, seed=1)]
    True
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    maker = _FleetMaker(random.Random(seed))
    jobs: list[Job] = []
    while len(jobs) < n:
        jobs.extend(maker.family(room=n - len(jobs)))
    logger.debug("made a fleet of %d jobs (seed %d)", len(jobs), seed)
    return jobs
