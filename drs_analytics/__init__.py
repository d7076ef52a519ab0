"""drs-analytics: fleet-wide analytics of Huawei Cloud DRS job actions.

Architecture, left to right: ``client`` (auth, cache) -> ``fetch`` -> ``frame`` ->
``plots`` / ``explorer`` (widgets) / ``report``; the ``emulator`` and the ``cli`` sit at
the edges. ``df.drs`` (the accessor) and ``notebook.open_fleet`` serve notebooks.
"""

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
    NoCredentialsError,
    PermissionDeniedError,
    RequestError,
    ServerError,
    ThrottledError,
    TransportError,
)
from .fetch import ActionConflictWarning, FetchAborted, FetchResult, fetch_actions
from .fleet import fetch_fleet
from .frame import action_summary, availability_matrix
from .targets import Target, load_targets
from .explorer import FleetExplorer
from .plot_rates import plot_action_rates, plot_current_actions
from .plot_signatures import plot_signatures
from .plots import plot_availability_matrix
from .report import read_actions, write_report
from .responses import JobActions
from .settings import ClientSettings, PacingSettings, RetrySettings

from . import accessor as _accessor  # noqa: F401  (registers the df.drs accessor)

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
    "FleetExplorer",
    "InvalidIDError",
    "JobActions",
    "JobNotFoundError",
    "MalformedResponseError",
    "NoCredentialsError",
    "PacingSettings",
    "PermissionDeniedError",
    "RequestError",
    "RetrySettings",
    "ServerError",
    "Target",
    "ThrottledError",
    "TransportError",
    "__version__",
    "action_summary",
    "availability_matrix",
    "fetch_actions",
    "fetch_fleet",
    "load_targets",
    "plot_action_rates",
    "plot_availability_matrix",
    "plot_current_actions",
    "plot_signatures",
    "read_actions",
    "write_report",
]
