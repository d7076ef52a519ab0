"""A requests-cache SQLite backend that is safe under many threads and processes.

requests-cache's own SQLite storage shares one connection between all threads and
serialises writes with a Python lock around a ``BEGIN IMMEDIATE`` retry loop. With two
sessions on one file and 32 fetch threads each, that design stalls for its 30 s busy
timeout and can livelock (a transaction left open after a non-``OperationalError``
keeps the write lock forever; see requests-cache issues #781 and #820).

Here every operation borrows its own connection from a small pool, so SQLite's own
locking does the work it was built for:

* reads run in parallel (WAL mode: readers never block the writer);
* each write is one short ``BEGIN IMMEDIATE ... COMMIT`` that waits for the lock with
  SQLite's busy timeout, and is rolled back on *any* exception;
* a thread that already holds a connection (``bulk_commit``) reuses it, so nested
  calls never wait on themselves;
* the pool keeps at most ``max_idle`` idle connections, so threads that come and go
  (one thread pool per fetch) do not leak file handles.

:class:`PooledSQLiteCache` also takes ``accept``: answers it refuses are not saved, and
what is stored under their key is left alone (requests-cache's ``filter_fn`` would
delete it).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from requests_cache.backends.base import BaseCache
from requests_cache.backends.sqlite import SQLiteCache, SQLiteDict, _get_sqlite_cache_path

__all__ = ["PooledSQLiteCache", "PooledSQLiteDict"]

logger = logging.getLogger(__name__)


class PooledSQLiteDict(SQLiteDict):
    """:class:`requests_cache.backends.sqlite.SQLiteDict` on pooled per-operation connections."""

    def __init__(self, *args, max_idle: int = 8, **kwargs) -> None:
        self._pool: list[sqlite3.Connection] = []
        self._pool_lock = threading.Lock()
        self._held = threading.local()
        self._max_idle = max_idle
        super().__init__(*args, **kwargs)

    def _open(self) -> sqlite3.Connection:
        timeout = (self.busy_timeout or 30_000) / 1000
        con = sqlite3.connect(self.db_path, timeout=timeout, isolation_level=None, check_same_thread=False,
                              **{k: v for k, v in self.connection_kwargs.items() if k not in ("timeout", "check_same_thread")})
        con.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        if self.wal:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=OFF" if self.fast_save else "PRAGMA synchronous=NORMAL")
        elif self.fast_save:
            con.execute("PRAGMA synchronous=OFF")
        return con

    @contextmanager
    def _borrow(self) -> Iterator[sqlite3.Connection]:
        held = getattr(self._held, "con", None)
        if held is not None:  # re-entrant: this thread already has one
            yield held
            return
        with self._pool_lock:
            con = self._pool.pop() if self._pool else None
        if con is None:
            con = self._open()
        self._held.con = con
        try:
            yield con
        finally:
            self._held.con = None
            if con.in_transaction:  # never hand back a connection holding a lock
                con.rollback()
            with self._pool_lock:
                if len(self._pool) < self._max_idle:
                    self._pool.append(con)
                    con = None
            if con is not None:
                con.close()

    @contextmanager
    def connection(self, commit: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection for one operation; with ``commit``, inside one write transaction."""
        with self._borrow() as con:
            if not commit or con.in_transaction:
                yield con
                return
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.rollback()
                raise
            con.commit()

    @contextmanager
    def bulk_commit(self) -> Iterator[None]:
        """Run many writes in one transaction."""
        with self.connection(commit=True):
            yield

    def close(self) -> None:
        """Close the idle connections (borrowed ones close when they come back)."""
        with self._pool_lock:
            pool, self._pool = self._pool, []
        for con in pool:
            con.close()

    def vacuum(self) -> None:
        with self._borrow() as con:
            if not con.in_transaction:
                con.execute("VACUUM")


class PooledSQLiteCache(SQLiteCache):
    """:class:`requests_cache.SQLiteCache` whose two tables use :class:`PooledSQLiteDict`.

    Parameters
    ----------
    db_path : str
        The SQLite file.
    serializer : optional
        requests-cache serializer (default: its pickle one).
    accept : callable, optional
        ``accept(response) -> bool``; a response it refuses is not saved and the entry
        already stored under its key (a good earlier answer) is kept.
    **kwargs
        requests-cache backend and SQLite options (``wal``, ``busy_timeout``...).
    """

    def __init__(self, db_path: str = "http_cache", serializer=None, *,
                 accept: Callable[[Any], bool] | None = None, **kwargs) -> None:
        self.accept = accept
        BaseCache.__init__(self, cache_name=str(db_path), **kwargs)
        skwargs = {"serializer": serializer, **kwargs} if serializer else kwargs
        path = _get_sqlite_cache_path(db_path, False, False)
        self.responses = PooledSQLiteDict(path, table_name="responses", **skwargs)
        self.redirects = PooledSQLiteDict(path, table_name="redirects", serializer=None, **kwargs)

    def save_response(self, response: Any, cache_key: str | None = None, expires: Any = None) -> None:
        """Store ``response`` under ``cache_key``, unless ``accept`` refuses it (then store nothing)."""
        if self.accept is not None and not self.accept(response):
            logger.debug("not caching a refused %s answer of %s", response.status_code,
                         getattr(response, "url", "?"))
            return
        super().save_response(response, cache_key, expires)
