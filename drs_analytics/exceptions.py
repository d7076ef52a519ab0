"""Exceptions raised by drs-analytics.

The tree::

    DRSAnalyticsError
    ├── InvalidIDError (also ValueError)            bad job or project ID, caught before any request
    ├── ConfigurationError (also ValueError)        bad client settings (endpoint, region, token...)
    │   └── NoCredentialsError                      no credential given or in the environment
    └── RequestError                                anything that went wrong with one API call
        ├── TransportError                          no HTTP answer: refused, reset, timed out
        ├── NotCachedError                          offline, and the answer is not in the cache
        ├── FetchCancelled                          the fetch was interrupted (Ctrl-C) before this call
        ├── MalformedResponseError                  a 200 whose body is not the documented shape
        └── APIError                                an HTTP error answer (status >= 400)
            ├── AuthenticationError                 401 (APIGW.0301 and friends)
            ├── PermissionDeniedError               403 (DRS.M00261 invalid project, ...)
            ├── JobNotFoundError                    400 DRS.10000010 "Job does not exist"
            ├── ThrottledError                      429 (APIGW.0308); ``retry_after`` when given
            └── ServerError                         5xx

Every :class:`RequestError` carries ``status_code``, ``error_code``, ``error_msg`` and
``request_id`` where known, and ``request``/``response`` like requests' own exceptions.
Messages name the URL requested, host and path (project and job IDs are not secrets), and
for transport failures and timeouts the proxy it went through, but never a credential (nor a
proxy's user name and password).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIError",
    "AuthenticationError",
    "ConfigurationError",
    "DRSAnalyticsError",
    "FetchCancelled",
    "InvalidIDError",
    "JobNotFoundError",
    "MalformedResponseError",
    "NoCredentialsError",
    "NotCachedError",
    "PermissionDeniedError",
    "RequestError",
    "ServerError",
    "ThrottledError",
    "TransportError",
]


class DRSAnalyticsError(Exception):
    """Base class of every error raised by drs-analytics."""


class InvalidIDError(DRSAnalyticsError, ValueError):
    """A job or project ID that cannot be sent safely (empty, ``/``, ``..``, control characters...)."""


class ConfigurationError(DRSAnalyticsError, ValueError):
    """Client settings that cannot work (no endpoint, no token, a bad region name...)."""


class NoCredentialsError(ConfigurationError):
    """No credential given and none in the environment (the CLI words it for the shell)."""


class RequestError(DRSAnalyticsError):
    """One API call failed.

    Attributes
    ----------
    status_code : int or None
        HTTP status, None when no answer arrived.
    error_code, error_msg : str or None
        The API's ``error_code`` / ``error_msg`` when the body carried them.
    request_id : str or None
        The ``X-Request-Id`` response header, to quote to Huawei support.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error_code: str | None = None,
        error_msg: str | None = None,
        request_id: str | None = None,
        request: Any = None,
        response: Any = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error_code = error_code
        self.error_msg = error_msg
        self.request_id = request_id
        self.request = request
        self.response = response
        self.attempts = attempts


class TransportError(RequestError):
    """No HTTP answer: connection refused or reset, DNS failure, timeout, TLS failure."""


class NotCachedError(RequestError):
    """Offline (``DRSClient(offline=True)``) and the answer is not in the cache.

    The message says why a job fetched before may be missing: answers are cached per
    credential, and a renewed IAM token is a new one (:data:`CACHED_PER_CREDENTIAL`).
    ``error_msg`` is the short cause, :data:`NOT_CACHED`, the same for every job (so
    error records group well, and their ``detail`` is not their ``error_msg`` again).
    """

    #: Appended to every message.
    CACHED_PER_CREDENTIAL = "answers are cached per credential; a renewed IAM token is a new one"
    #: The default ``error_msg``.
    NOT_CACHED = "not in the cache (offline)"

    def __init__(self, message: str, **kwargs: Any) -> None:
        if self.CACHED_PER_CREDENTIAL not in message:
            message = f"{message} ({self.CACHED_PER_CREDENTIAL})"
        kwargs.setdefault("error_msg", self.NOT_CACHED)
        super().__init__(message, **kwargs)


class FetchCancelled(RequestError):
    """The fetch was interrupted (Ctrl-C, a notebook interrupt) before this call was done."""


class MalformedResponseError(RequestError):
    """A successful status whose body is not ``{"job_action": {...}}`` as documented."""


class APIError(RequestError):
    """The API answered with an error status (>= 400)."""


class AuthenticationError(APIError):
    """401: missing, wrong or expired credentials."""


class PermissionDeniedError(APIError):
    """403: the credentials may not use this project or API."""


class JobNotFoundError(APIError):
    """400 ``DRS.10000010``: the job does not exist in this project."""


class ThrottledError(APIError):
    """429: the gateway's rate limit was reached. ``retry_after`` is in seconds, or None."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the service failed."""


_STATUS_CLASSES: dict[int, type[APIError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    429: ThrottledError,
}


def api_error_class(status_code: int, error_code: str | None) -> type[APIError]:
    """Pick the :class:`APIError` subclass for a status and DRS error code."""
    if error_code == "DRS.10000010":
        return JobNotFoundError
    if status_code >= 500:
        return ServerError
    return _STATUS_CLASSES.get(status_code, APIError)
