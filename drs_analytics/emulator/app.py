"""The in-process face of the emulator: request in, response out, no sockets.

:class:`DRSApp` answers ``GET /v5/{project_id}/jobs/{job_id}/actions`` like
the real API, with the gateway in front of it. Checks run in this order:
route (404 ``APIGW.0101``), faults, token (401 ``APIGW.0301``), project
(403 ``DRS.M00261``), job (400 ``DRS.10000010``). The HTTP server in
:mod:`drs_analytics.emulator.server` only moves bytes in and out of
:meth:`DRSApp.handle`; tests and in-process transports can call it directly.

New endpoints go into :data:`ROUTES` (a name, a method, a path pattern and
the name of a handler method).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

from .faults import FaultInjector, Faults
from .fleet import Job
from .rules import job_actions

__all__ = ["CONTENT_TYPE", "IDLE_CURRENT_ACTION_CHOICES", "ROUTES", "DRSApp", "Response", "Route"]

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/json;charset=UTF-8"
#: How an idle job's ``current_action`` is rendered (undocumented, DOMAIN.md 2.1):
#: ``null``, an empty string, or the key left out.
IDLE_CURRENT_ACTION_CHOICES: tuple[str, ...] = ("null", "empty", "absent")

Headers = Mapping[str, str] | Iterable[tuple[str, str]]


class Route(NamedTuple):
    """One endpoint: a name for counters, a method, a path pattern, a handler method name."""

    name: str
    method: str
    pattern: re.Pattern[str]
    handler: str


ROUTES: tuple[Route, ...] = (
    Route(
        "job_actions", "GET", re.compile(r"/v5/(?P<project_id>[^/]+)/jobs/(?P<job_id>[^/]+)/actions"), "_job_actions"
    ),
)
_UNROUTED = "unrouted"

# Error messages. APIGW messages are English only [I]; the zh-cn DRS texts are our translations [I].
_APIGW_NOT_FOUND = ("APIGW.0101", "The API does not exist or has not been published in the environment.")
_APIGW_NO_TOKEN = ("APIGW.0301", "Incorrect IAM authentication information: x-auth-token not found")
_APIGW_BAD_TOKEN = ("APIGW.0301", "Incorrect IAM authentication information: decrypt token fail")
_APIGW_THROTTLED = (
    "APIGW.0308",
    "The throttling threshold has been reached: policy user over ratelimit,limit:60,time:1 minute",
)
_DRS_MESSAGES: dict[str, dict[str, str]] = {
    "DRS.10000010": {"en-us": "Job does not exist, please check job ID.", "zh-cn": "任务不存在，请检查任务ID。"},
    "DRS.M00261": {"en-us": "Invalid project ID.", "zh-cn": "无效的项目ID。"},
    "DRS.M00004": {"en-us": "Service is abnormal. Check logs.", "zh-cn": "服务异常，请检查日志。"},
}


@dataclass
class Response:
    """An emulated HTTP response.

    ``reset`` asks the server to drop the connection abruptly instead of
    answering (``status`` is then 0); ``delay`` is extra seconds to wait first.
    """

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    reset: bool = False
    delay: float = 0.0

    def json(self) -> Any:
        """Decode the body as JSON."""
        return json.loads(self.body)


@dataclass
class _Request:
    """What the handlers need from one request."""

    method: str
    headers: dict[str, str]
    request_id: str
    params: dict[str, str]

    @property
    def language(self) -> str:
        """``zh-cn`` or ``en-us`` (the default, also for unknown values)."""
        return "zh-cn" if self.headers.get("x-language", "").strip().lower() == "zh-cn" else "en-us"


def _encode(payload: Any) -> bytes:
    """Serialise compact UTF-8 JSON, like the real API."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _lower_headers(headers: Headers | None) -> dict[str, str]:
    """Return the headers with lower-case names (names are case-insensitive)."""
    items = headers.items() if hasattr(headers, "items") else (headers or ())
    return {str(k).lower(): str(v) for k, v in items}


class DRSApp:
    """Answer DRS v5 API requests in process.

    Parameters
    ----------
    fleet : iterable of Job
        The jobs of ``project_id``.
    project_id : str
        The one project the token owns.
    token : str
        The accepted ``X-Auth-Token``.
    idle_current_action : {"null", "empty", "absent"}
        How an idle job's ``current_action`` is rendered.
    faults : Faults, optional
        Fault rates; faults are off by default.
    seed : int
        Seed of the fault dice.

    Examples
    --------
    >>> from drs_analytics.emulator.fleet import make_fleet
    >>> app = DRSApp(make_fleet(3, seed=1), project_id="p1", token="t")
    >>> app.handle("GET", "/v5/p1/jobs/nope/actions", {"X-Auth-Token": "t"}).status
    400
    """

    def __init__(
        self,
        fleet: Iterable[Job],
        *,
        project_id: str,
        token: str,
        idle_current_action: str = "null",
        faults: Faults | None = None,
        seed: int = 0,
    ) -> None:
        if idle_current_action not in IDLE_CURRENT_ACTION_CHOICES:
            raise ValueError(
                f"idle_current_action must be one of {IDLE_CURRENT_ACTION_CHOICES}, got {idle_current_action!r}"
            )
        self.project_id = project_id
        self.token = token
        self.idle_current_action = idle_current_action
        self.jobs: dict[str, Job] = {job.id: job for job in fleet}
        self._projects_by_token: dict[str, frozenset[str]] = {token: frozenset({project_id})}
        self._faults = FaultInjector(faults, seed)
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, str], tuple[list[str], list[str], str | None]] = {}
        self._raw: dict[tuple[str, str], tuple[int, bytes, dict[str, str]]] = {}
        self._total = 0
        self._by_route: Counter[tuple[str, str]] = Counter()
        self._by_job: Counter[str] = Counter()

    @property
    def faults(self) -> Faults:
        """The fault rates in force."""
        return self._faults.faults

    # --- entry point ------------------------------------------------------------------
    def handle(self, method: str, path_with_query: str, headers: Headers | None = None) -> Response:
        """Answer one request.

        Parameters
        ----------
        method : str
            HTTP method.
        path_with_query : str
            Request target, e.g. ``/v5/{pid}/jobs/{id}/actions?x=1`` (a full URL works too).
        headers : mapping or iterable of (name, value), optional
            Request headers; names are case-insensitive.

        Returns
        -------
        Response
            Always carries ``X-Request-Id``, ``Date``, ``Content-Length`` and ``Content-Type``.
        """
        method = method.upper()
        route, params = self._route(method, urlsplit(path_with_query).path)
        self._count(method, route, params)
        request = _Request(method, _lower_headers(headers), uuid.uuid4().hex, params)
        if route is None:
            return self._apigw_error(request, 404, _APIGW_NOT_FOUND)
        decision = self._faults.draw()
        if decision.kind == "reset":
            return Response(0, reset=True, delay=decision.delay)
        response = self._faulted(request, decision.kind) or self._serve(request, route)
        if decision.kind == "malformed":
            response = self._malformed(request, response)
        response.delay = decision.delay
        return response

    def _route(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        """Find the route of a method and path (a wrong method is a 404 at the gateway)."""
        for route in ROUTES:
            match = route.pattern.fullmatch(path)
            if match and route.method == method:
                return route, {k: unquote(v) for k, v in match.groupdict().items()}
        return None, {}

    def _serve(self, request: _Request, route: Route) -> Response:
        """Run the gateway checks, then the route's handler."""
        token = request.headers.get("x-auth-token", "").strip()
        if not token:
            return self._apigw_error(request, 401, _APIGW_NO_TOKEN)
        if token not in self._projects_by_token:
            return self._apigw_error(request, 401, _APIGW_BAD_TOKEN)
        project_id = request.params.get("project_id")
        if project_id is not None and project_id not in self._projects_by_token[token]:
            return self._drs_error(request, 403, "DRS.M00261")
        return getattr(self, route.handler)(request)

    # --- handlers -----------------------------------------------------------------------
    def _job_actions(self, request: _Request) -> Response:
        """``GET /v5/{project_id}/jobs/{job_id}/actions``."""
        key = (request.params["project_id"], request.params["job_id"])
        with self._lock:
            raw = self._raw.get(key)
            answer = self._answers.get(key)
        if raw is not None:
            status, body, headers = raw
            return self._respond(request, status, body, headers)
        if answer is None:
            job = self.jobs.get(key[1]) if key[0] == self.project_id else None
            if job is None:
                return self._drs_error(request, 400, "DRS.10000010")
            answer = job_actions(job)
        return self._respond(request, 200, _encode({"job_action": self._render(*answer)}))

    def _render(self, available: list[str], unavailable: list[str], current: str | None) -> dict[str, Any]:
        """Build the ``job_action`` object, rendering an idle ``current_action`` as configured."""
        body: dict[str, Any] = {"available_actions": list(available), "unavailable_actions": list(unavailable)}
        if current is not None:
            body["current_action"] = current
        elif self.idle_current_action == "null":
            body["current_action"] = None
        elif self.idle_current_action == "empty":
            body["current_action"] = ""
        return body

    # --- responses ----------------------------------------------------------------------
    def _respond(
        self, request: _Request, status: int, body: bytes, headers: Mapping[str, str] | None = None
    ) -> Response:
        """Build a response with the headers every answer carries."""
        out = {"X-Request-Id": request.request_id, "Date": formatdate(usegmt=True), "Content-Type": CONTENT_TYPE}
        for name, value in (headers or {}).items():
            out = {k: v for k, v in out.items() if k.lower() != name.lower()}
            out[name] = value
        out["Content-Length"] = str(len(body))
        return Response(status, out, body)

    def _apigw_error(self, request: _Request, status: int, error: tuple[str, str]) -> Response:
        """An API-gateway error: English message, ``request_id`` in the body."""
        code, msg = error
        body = {"error_code": code, "error_msg": msg, "request_id": request.request_id}
        return self._respond(request, status, _encode(body))

    def _drs_error(self, request: _Request, status: int, code: str) -> Response:
        """A DRS service error, its message in the request's language."""
        msg = _DRS_MESSAGES[code][request.language]
        return self._respond(request, status, _encode({"error_code": code, "error_msg": msg}))

    def _faulted(self, request: _Request, kind: str | None) -> Response | None:
        """The answer replacing the real one for a 500 or 429 fault, else ``None``."""
        if kind == "error_500":
            return self._drs_error(request, 500, "DRS.M00004")
        if kind == "throttle_429":
            response = self._apigw_error(request, 429, _APIGW_THROTTLED)
            response.headers["Retry-After"] = str(self.faults.retry_after)
            return response
        return None

    def _malformed(self, request: _Request, response: Response) -> Response:
        """Turn an answer into a 200 whose JSON body is cut in half (never valid JSON)."""
        body = response.body[: max(1, len(response.body) // 2)]
        return self._respond(request, 200, body)

    # --- overrides ----------------------------------------------------------------------
    def set_job_actions(
        self,
        job_id: str,
        available: Iterable[str],
        unavailable: Iterable[str],
        current_action: str | None,
        *,
        project_id: str | None = None,
    ) -> None:
        """Add or replace a job's ``/actions`` answer, served verbatim.

        Lists are kept as given: duplicates, overlaps and names outside the
        vocabulary included. ``project_id`` defaults to the emulator's project.
        """
        key = (project_id or self.project_id, job_id)
        with self._lock:
            self._answers[key] = (list(available), list(unavailable), current_action)

    def set_raw_response(
        self,
        job_id: str,
        status: int,
        body: bytes,
        headers: Mapping[str, str] | None = None,
        *,
        project_id: str | None = None,
    ) -> None:
        """Answer a job's ``/actions`` with any status and body (after the gateway checks).

        ``headers`` add to or replace the default ones; ``Content-Length`` is always recomputed.
        """
        if not isinstance(body, bytes):
            raise TypeError(f"body must be bytes, got {type(body).__name__}")
        key = (project_id or self.project_id, job_id)
        with self._lock:
            self._raw[key] = (int(status), body, dict(headers or {}))

    def clear_overrides(self, job_id: str | None = None) -> None:
        """Forget overrides: of one job (any project), or all of them."""
        with self._lock:
            for table in (self._answers, self._raw):
                for key in [k for k in table if job_id is None or k[1] == job_id]:
                    del table[key]

    # --- counters -----------------------------------------------------------------------
    def _count(self, method: str, route: Route | None, params: Mapping[str, str]) -> None:
        """Count one request: in total, per (method, route name) and per job ID."""
        with self._lock:
            self._total += 1
            self._by_route[(method, route.name if route else _UNROUTED)] += 1
            if route is not None and "job_id" in params:
                self._by_job[params["job_id"]] += 1

    @property
    def request_count(self) -> int:
        """Requests handled since the last :meth:`reset_counters`, whatever the answer."""
        with self._lock:
            return self._total

    @property
    def route_counts(self) -> dict[tuple[str, str], int]:
        """Requests per ``(method, route name)``; unknown paths count as ``"unrouted"``."""
        with self._lock:
            return dict(self._by_route)

    @property
    def job_counts(self) -> dict[str, int]:
        """``/actions`` requests per job ID (known or not)."""
        with self._lock:
            return dict(self._by_job)

    def reset_counters(self) -> None:
        """Set every counter back to zero."""
        with self._lock:
            self._total = 0
            self._by_route.clear()
            self._by_job.clear()
