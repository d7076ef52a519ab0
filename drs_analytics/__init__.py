"""drs-analytics: fleet-wide analytics of Huawei Cloud DRS job actions.

Architecture, left to right: ``client`` (auth, cache) -> ``fetch`` -> ``frame`` ->
``plots`` / ``report``; the ``emulator`` and the ``cli`` sit at the edges.
"""

from __future__ import annotations

import logging

from ._version import __version__
from .client import DRSClient
from .exceptions import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    DRSAnalyticsError,
    InvalidIDError,
    JobNotFoundError,
    MalformedResponseError,
    PermissionDeniedError,
    RequestError,
    ServerError,
    ThrottledError,
    TransportError,
)
from .fetch import ActionConflictWarning, FetchAborted, FetchResult, fetch_actions
from .frame import action_summary, availability_matrix
from .plots import plot_availability_matrix
from .report import read_actions, write_report
from .responses import JobActions
from .settings import ClientSettings, RetrySettings

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "APIError",
    "ActionConflictWarning",
    "AuthenticationError",
    "ClientSettings",
    "ConfigurationError",
    "DRSAnalyticsError",
    "DRSClient",
    "FetchAborted",
    "FetchResult",
    "InvalidIDError",
    "JobActions",
    "JobNotFoundError",
    "MalformedResponseError",
    "PermissionDeniedError",
    "RequestError",
    "RetrySettings",
    "ServerError",
    "ThrottledError",
    "TransportError",
    "__version__",
    "action_summary",
    "availability_matrix",
    "fetch_actions",
    "plot_availability_matrix",
    "read_actions",
    "write_report",
]
