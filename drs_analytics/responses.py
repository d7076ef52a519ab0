"""Reading DRS answers: the ``job_action`` body, error bodies, and response times."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from .exceptions import MalformedResponseError, ThrottledError, api_error_class

__all__ = ["SECRET_HEADERS", "JobActions", "api_error", "parse_actions_body", "parse_job_action", "parsed_actions", "redacted_request", "response_time",
           "retry_after_seconds"]

_PARSED_ATTR = "_drs_parsed_actions"


@dataclass(frozen=True)
class JobActions:
    """The actions of one job, as ``GET /v5/{project_id}/jobs/{job_id}/actions`` gave them.

    ``available`` and ``unavailable`` keep the API's order and any duplicates;
    :func:`~drs_analytics.fetch_actions` resolves duplicates and conflicts when it
    builds the tidy frame. ``current_action`` is None when the API gave null, ``""``
    or nothing. ``fetched_at`` is the server's ``Date`` (UTC) of the original answer,
    also for an answer served from the cache. ``stale`` is True for an expired cached
    answer used because the API failed (``stale_if_error``) or because the client is
    offline.
    """

    job_id: str
    available: tuple[str, ...]
    unavailable: tuple[str, ...]
    current_action: str | None
    fetched_at: datetime
    from_cache: bool = False
    request_id: str | None = None
    attempts: int = 1
    stale: bool = False


def _string_list(action: dict, key: str) -> tuple[str, ...]:
    value = action.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError(f"{key} is a {type(value).__name__}, not a list")
    try:
        "".join(value)  # raises TypeError at the first non-string, in C (a list per job, not a step per action)
    except TypeError:
        bad = next(v for v in value if not isinstance(v, str))
        raise ValueError(f"{key} holds a {type(bad).__name__} ({bad!r:.40}), not only strings")
    return tuple(value)


def parse_actions_body(content: bytes) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    """Parse a ``{"job_action": {...}}`` body into (available, unavailable, current_action).

    A missing or null list reads as empty; a missing, null or empty ``current_action``
    reads as None. Anything else off the documented shape raises
    :class:`MalformedResponseError` (unknown extra fields are ignored).

    >>> parse_actions_body(b'{"job_action": {"available_actions": ["PAUSE"], "current_action": ""}}')
    (('PAUSE',), (), None)
    """
    try:
        body = json.loads(content)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedResponseError(f"response body is not JSON ({exc.__class__.__name__}: {str(exc)[:120]})") from None
    if not isinstance(body, dict) or "job_action" not in body:
        raise MalformedResponseError("response body is not a job_action: no 'job_action' object in the body")
    return parse_job_action(body["job_action"])


def parse_job_action(action: Any) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    """Read one ``job_action`` object (of ``/actions`` or of a list entry).

    >>> parse_job_action({"available_actions": ["PAUSE"], "unavailable_actions": None})
    (('PAUSE',), (), None)
    """
    try:
        if not isinstance(action, dict):
            raise ValueError("no 'job_action' object in the body")
        current = action.get("current_action")
        if current is not None and not isinstance(current, str):
            raise ValueError(f"current_action is a {type(current).__name__}, not a string")
        return (_string_list(action, "available_actions"), _string_list(action, "unavailable_actions"),
                current if current and current.strip() else None)
    except ValueError as exc:
        raise MalformedResponseError(f"response body is not a job_action: {exc}") from None


def parsed_actions(response: Any) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    """Parse ``response``'s body once and remember the result on the response object."""
    parsed = getattr(response, _PARSED_ATTR, None)
    if parsed is None:
        parsed = parse_actions_body(response.content)
        setattr(response, _PARSED_ATTR, parsed)
    return parsed


def response_time(response: Any) -> datetime:
    """When the server answered: its ``Date`` header, else when the answer was received."""
    date = response.headers.get("Date")
    if date:
        try:
            when = parsedate_to_datetime(date)
            return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
        except (TypeError, ValueError, IndexError):
            pass
    created = getattr(response, "created_at", None)
    if isinstance(created, datetime):
        return created if created.tzinfo else created.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc)


def _error_fields(response: Any) -> tuple[str | None, str | None]:
    """(error_code, error_msg) from any of the three body styles the SDK accepts."""
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = None
    if isinstance(body, dict):
        for code_key, msg_key in (("error_code", "error_msg"), ("errorCode", "errorMsg"), ("code", "message")):
            if code_key in body or msg_key in body:
                code, msg = body.get(code_key), body.get(msg_key)
                return (str(code) if code is not None else None), (str(msg) if msg is not None else None)
    text = " ".join(response.content[:300].decode("utf-8", "replace").split())
    return None, (text or None)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds or an HTTP-date (RFC 9110 10.2.3).

    ``now`` (default: the current UTC time) is what an HTTP-date is counted from. A date
    in the past is 0; anything unreadable is None.

    >>> retry_after_seconds("120")
    120.0
    >>> retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=datetime(2015, 10, 21, 7, 27, 30, tzinfo=timezone.utc))
    30.0
    """
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
            if when.tzinfo is None:  # "-0000": UTC by RFC 5322
                when = when.replace(tzinfo=timezone.utc)
            seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return max(0.0, seconds) if seconds == seconds else None  # NaN: unreadable


def _retry_after(response: Any) -> float | None:
    return retry_after_seconds(response.headers.get("Retry-After"))


#: Request headers that carry credentials; shown as "***" on requests attached to errors.
SECRET_HEADERS = ("X-Auth-Token", "Authorization", "X-Security-Token", "Proxy-Authorization")


def redacted_request(request: Any) -> Any:
    """A copy of a prepared request with credential headers replaced by ``***``."""
    if request is None or not hasattr(request, "copy"):
        return request
    copy = request.copy()
    for name in SECRET_HEADERS:
        if name in copy.headers:
            copy.headers[name] = "***"
    return copy


def api_error(response: Any, what: str):
    """Build the :class:`~drs_analytics.exceptions.APIError` for an error ``response``.

    ``what`` names the call (``"GET https://host/v5/.../actions"``); no header value is quoted.
    """
    code, msg = _error_fields(response)
    response.request = redacted_request(response.request)
    status = response.status_code
    request_id = response.headers.get("X-Request-Id")
    cls = api_error_class(status, code)
    detail = " ".join(x for x in (code, msg) if x) or (response.reason or "no body")
    kwargs = dict(
        status_code=status, error_code=code, error_msg=msg, request_id=request_id,
        request=response.request, response=response,
    )
    if cls is ThrottledError:
        kwargs["retry_after"] = _retry_after(response)
    return cls(f"HTTP {status} from {what}: {detail}", **kwargs)
