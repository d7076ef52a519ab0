"""The HTTP session behind a client: requests-cache on SQLite, or plain requests.

Caching rules:

* only ``200`` answers to ``GET`` are stored, and only when the body is a valid
  ``job_action`` or job list page (a malformed 200 is an error and is never served
  from the cache);
* the body is checked where answers are saved (the backend's ``accept``), not with
  requests-cache's ``filter_fn``: an answer failing ``filter_fn`` makes requests-cache
  *delete* the entry under its key, so one malformed 200 would destroy the good copy
  that ``stale_if_error`` and offline mode rely on. A bad answer is just not saved;
* credentials never reach the file: ``X-Auth-Token``, ``Authorization`` (AK/SK
  signatures), ``X-Security-Token`` and ``X-Sdk-Date`` are redacted from stored requests
  and kept out of cache keys, so signed requests hit the cache like token ones;
* instead the key mixes in the credential's one-way ``identity`` hash, so two
  credentials sharing a file never read each other's answers;
* SQLite runs in WAL mode with a busy timeout and a connection per operation
  (:mod:`drs_analytics.sqlite_cache`), so threads and processes can share one file.
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from .exceptions import MalformedResponseError
from .pacing import PacedAdapter
from .responses import parsed_actions

__all__ = ["IGNORED_PARAMETERS", "cache_key", "is_cacheable", "make_session"]

logger = logging.getLogger(__name__)

# requests-cache replaces its defaults when given a list, so they are repeated here.
IGNORED_PARAMETERS: tuple[str, ...] = (
    "Authorization",
    "Proxy-Authorization",
    "X-API-Key",
    "X-Auth-Token",
    "X-API-Token",
    "X-Access-Token",
    "X-Security-Token",
    "X-Sdk-Date",
    "X-Request-Id",
    "access_token",
    "api_key",
    "apikey",
)

#: Milliseconds SQLite waits for a lock held by another thread or process.
BUSY_TIMEOUT_MS = 30_000


def cache_key(request: Any, *, identity: str, memo: dict | None = None, **kwargs: Any) -> str:
    """requests-cache's own key, salted with the credential's identity hash.

    ``memo`` remembers keys by everything they depend on for one session (method, URL,
    body, the matched ``X-Language`` header, TLS verification): requests-cache's key
    normalises the URL in Python (about 0.8 ms), once per URL is enough.
    """
    from requests_cache import create_key

    if memo is None:
        return f"{identity[:16]}-{create_key(request, **kwargs)}"
    headers = getattr(request, "headers", None) or {}
    memo_key = (request.method, request.url, request.body, headers.get("X-Language"), repr(kwargs.get("verify", True)),
                tuple(kwargs.get("match_headers") or ()))
    key = memo.get(memo_key)
    if key is None:
        key = memo[memo_key] = f"{identity[:16]}-{create_key(request, **kwargs)}"
    return key


def is_cacheable(response: Any) -> bool:
    """False for a 200 whose body is not what its API returns.

    ``.../actions`` must hold a valid ``job_action``; a job list page (``.../jobs``)
    must be a JSON object with a ``jobs`` list.
    """
    if response.status_code != 200:
        return True
    path = urlsplit(response.url).path.rstrip("/")
    if path.endswith("/actions"):
        try:
            parsed_actions(response)
        except MalformedResponseError:
            return False
        return True
    if path.endswith("/jobs"):
        try:
            body = json.loads(response.content)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return False
        return isinstance(body, dict) and isinstance(body.get("jobs"), list)
    return True


def _mount_pool(session: requests.Session, max_connections: int, pacer: Any = None) -> None:
    kwargs = dict(pool_connections=4, pool_maxsize=max_connections, max_retries=0)
    adapter = HTTPAdapter(**kwargs) if pacer is None else PacedAdapter(pacer, **kwargs)
    session.mount("http://", adapter)
    session.mount("https://", adapter)


def make_session(
    *,
    cache_path: Path | None,
    expire_after: float,
    identity: str,
    max_connections: int,
    pacer: Any = None,
) -> requests.Session:
    """A session with a pool of ``max_connections``, cached in ``cache_path`` unless None.

    ``pacer`` (a :class:`~drs_analytics.pacing.Pacer`) paces the requests that really go
    out; cache hits never reach the adapter.
    """
    if cache_path is None:
        session = requests.Session()
    else:
        from requests_cache import CachedSession

        from .sqlite_cache import PooledSQLiteCache

        cache_path = Path(cache_path).expanduser()
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        backend = PooledSQLiteCache(
            str(cache_path), wal=True, busy_timeout=BUSY_TIMEOUT_MS, accept=is_cacheable
        )
        session = CachedSession(
            backend=backend,
            expire_after=expire_after,
            allowable_codes=(200,),
            allowable_methods=("GET",),
            ignored_parameters=IGNORED_PARAMETERS,
            match_headers=("X-Language",),
            key_fn=functools.partial(cache_key, identity=identity, memo={}),
            stale_if_error=False,
        )
        logger.debug("HTTP cache at %s (fresh for %s s)", cache_path, expire_after)
    _mount_pool(session, max_connections, pacer)
    return session
