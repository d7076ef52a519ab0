"""Look into and tidy the HTTP cache: how many answers, how old, clear all or expired.

Every stored key starts with the first 16 hex digits of the credential's one-way
identity hash (:func:`drs_analytics.cache.cache_key`), so a client can tell its own
entries from those of other credentials sharing the file, and clears only its own
unless asked otherwise.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from .validation import check_id

__all__ = ["ENTRY_COLUMNS", "cache_entries", "cache_info", "clear_cache"]

#: Columns of :func:`cache_entries`.
ENTRY_COLUMNS = (
    "mine", "kind", "project_id", "job_id", "path", "status", "created_at", "expires", "expired", "age_s", "size_bytes",
)  # fmt: skip
_ACTIONS = re.compile(r"^/v5/(?P<project_id>[^/]+)/jobs/(?P<job_id>[^/]+)/actions$")
_LIST = re.compile(r"^/v5/(?P<project_id>[^/]+)/jobs$")


def _rows(cache: Any) -> list[tuple[str, float | None, int]]:
    """(key, expires as a UNIX time or None, stored size) of every response, from SQL alone."""
    storage = cache.responses
    with storage.connection() as con:
        try:
            return con.execute(f"SELECT key, expires, length(value) FROM {storage.table_name}").fetchall()
        except sqlite3.OperationalError:  # an old file without the expires column
            return [(k, None, n) for k, n in con.execute(f"SELECT key, length(value) FROM {storage.table_name}")]


def _mine(key: str, identity: str) -> bool:
    return key.startswith(identity[:16] + "-")


def cache_info(cache: Any, identity: str, path: Any = None) -> dict[str, Any]:
    """Counts from the cache index (no answer is decoded): entries, mine, expired, size."""
    now = datetime.now(timezone.utc).timestamp()
    rows = _rows(cache)
    expires = [e for _, e, _ in rows if e is not None]
    return {
        "path": str(path) if path is not None else None,
        "entries": len(rows),
        "mine": sum(_mine(k, identity) for k, _, _ in rows),
        "expired": sum(e is not None and e <= now for _, e, _ in rows),
        "fresh": sum(e is None or e > now for _, e, _ in rows),
        "bytes": sum(n or 0 for _, _, n in rows),
        "next_expiry": datetime.fromtimestamp(min(expires), timezone.utc) if expires else None,
        "last_expiry": datetime.fromtimestamp(max(expires), timezone.utc) if expires else None,
    }


def cache_entries(cache: Any, identity: str) -> pd.DataFrame:
    """One row per stored answer (decoded), oldest first; see :data:`ENTRY_COLUMNS`."""
    now = datetime.now(timezone.utc)
    records = []
    for key, _, size in _rows(cache):
        response = cache.get_response(key)
        if response is None:
            continue
        path = urlsplit(response.url).path
        match = _ACTIONS.match(path) or _LIST.match(path)
        created = _utc(getattr(response, "created_at", None))
        expires = _utc(getattr(response, "expires", None))
        records.append({
            "mine": _mine(key, identity),
            "kind": "actions" if _ACTIONS.match(path) else ("job list" if _LIST.match(path) else "other"),
            "project_id": match["project_id"] if match else None,
            "job_id": match.groupdict().get("job_id") if match else None,
            "path": path + (f"?{urlsplit(response.url).query}" if urlsplit(response.url).query else ""),
            "status": response.status_code,
            "created_at": created,
            "expires": expires,
            "expired": bool(expires is not None and expires <= now),
            "age_s": (now - created).total_seconds() if created else float("nan"),
            "size_bytes": size or 0,
        })
    frame = pd.DataFrame.from_records(records, columns=list(ENTRY_COLUMNS))
    for col in ("created_at", "expires"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    for col in ("kind", "project_id", "job_id", "path"):
        frame[col] = frame[col].astype("string")
    frame["age_s"] = frame["age_s"].astype(float)
    return frame.sort_values("created_at", kind="stable").reset_index(drop=True)


def clear_cache(cache: Any, identity: str, *, expired_only: bool = False, everyone: bool = False,
                job_ids: Any = None) -> int:
    """Delete answers: this credential's (or everyone's), all or expired only, or of given jobs.

    ``job_ids`` is a list (or any iterable) of job IDs, each checked like a request's;
    a single string is refused rather than read character by character.
    Returns the number of answers deleted.

    Raises
    ------
    TypeError
        ``job_ids`` is a string, bytes or not iterable.
    InvalidIDError
        One of ``job_ids`` is not a valid job ID (nothing is deleted).
    """
    now = datetime.now(timezone.utc).timestamp()
    wanted = None if job_ids is None else _wanted(job_ids)
    keys = []
    for key, expires, _ in _rows(cache):
        if not everyone and not _mine(key, identity):
            continue
        if expired_only and not (expires is not None and expires <= now):
            continue
        if wanted is not None:
            response = cache.get_response(key)
            match = _ACTIONS.match(urlsplit(response.url).path) if response is not None else None
            if not match or match["job_id"] not in wanted:
                continue
        keys.append(key)
    if keys:
        cache.responses.bulk_delete(keys)
    return len(keys)


def _wanted(job_ids: Any) -> set[str]:
    if isinstance(job_ids, (str, bytes, bytearray)):
        raise TypeError(f"job_ids must be a list of job IDs, not a single {type(job_ids).__name__}; "
                        "wrap it: job_ids=[job_id]")
    try:
        values = list(job_ids)
    except TypeError:
        raise TypeError(f"job_ids must be an iterable of job IDs, got {type(job_ids).__name__}") from None
    return {check_id(value) for value in values}


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
