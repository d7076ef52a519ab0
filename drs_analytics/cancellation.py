"""The cancel event of the fetch a worker thread is serving.

A fleet fetch runs each job inside :func:`cancel_scope`; once its event is set (Ctrl-C,
a notebook's interrupt), the waits of that thread end and no new request starts: retry
waits (:mod:`~drs_analytics.client`), request-pacer waits (:mod:`~drs_analytics.pacing`)
and IAM token requests (:mod:`~drs_analytics.auth`) raise :class:`FetchCancelled`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from .exceptions import FetchCancelled

__all__ = ["cancel_scope", "check_cancelled", "current_event"]

_scope = threading.local()


@contextlib.contextmanager
def cancel_scope(event: threading.Event) -> Iterator[None]:
    """Within this block, this thread's retry waits, pacer waits and token requests end,
    and no new attempt starts, once ``event`` is set: they raise :class:`FetchCancelled`."""
    previous = getattr(_scope, "event", None)
    _scope.event = event
    try:
        yield
    finally:
        _scope.event = previous


def current_event() -> threading.Event | None:
    """The cancel event of this thread's :func:`cancel_scope`, or None outside one."""
    return getattr(_scope, "event", None)


def check_cancelled(what: str) -> None:
    """Raise :class:`FetchCancelled` ("... interrupted before {what}") if this thread's fetch was cancelled."""
    event = current_event()
    if event is not None and event.is_set():
        raise FetchCancelled(f"cancelled: the fetch was interrupted before {what}")
