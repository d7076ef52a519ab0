"""The in-process face of the emulator: request in, response out, no sockets.

:class:`DRSApp` answers like the real API, with the gateway in front of it:

* ``GET /v5/{project_id}/jobs/{job_id}/actions`` (route ``job_actions``);
* ``GET /v5/{project_id}/jobs`` (ListJobs, route ``list_jobs``,
  :mod:`drs_analytics.emulator.listing`);
* ``POST /v3/auth/tokens`` (the emulated IAM, route ``iam_tokens``,
  :mod:`drs_analytics.emulator.iam`).

Checks run in this order: body size (413 ``APIGW.0201``), route (404
``APIGW.0101``), faults, authentication (401 ``APIGW.0301``: token or AK/SK,
:mod:`drs_analytics.emulator.gateway`), the per-credential rate limit when one
is set (429 ``APIGW.0308``), project (403 ``DRS.M00261``), then the handler
(400 ``DRS.10000010`` for an unknown job, the ListJobs query checks), then the
conditional request check (304). The IAM route is another service in reality: it
skips faults, the gateway and the rate limit [I].

Undocumented for DRS, all [I] and all knobs:

* Conditional requests (``etags=True``): a 200 of ``/actions`` or the job list
  carries a strong ``ETag``, the quoted SHA-256 (32 hex digits) of its body; a
  request whose ``If-None-Match`` names it (or ``*``; ``W/`` tags compared
  weakly, as RFC 9110 says) gets ``304 Not Modified`` with no body and only
  ``X-Request-Id``, ``Date`` and ``ETag`` (no ``Content-Length``/``Content-Type``:
  a cache merges a 304's headers into the stored answer).
* Rate limit (``rate_limit=N``): at most N requests per credential (token, or
  AK of a signed request) in any sliding 1-second window, counted after
  authentication; the rest get 429 ``APIGW.0308`` with the documented message
  ``The throttling threshold has been reached: policy user over
  ratelimit,limit:N,time:1 second`` [D, DOMAIN.md 4.4]; ``Retry-After`` only with
  ``rate_limit_retry_after=True`` (no Huawei doc mentions it). Throttled requests
  do not use up the window.

The HTTP server in :mod:`drs_analytics.emulator.server` only moves bytes in
and out of :meth:`DRSApp.handle`; tests and in-process transports can call it
directly.

New endpoints go into :data:`ROUTES` (a name, a method, a path pattern, the
name of a handler method and the service: ``"drs"`` behind the gateway,
``"iam"`` without it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

from . import listing
from .faults import FaultInjector, Faults
from .fleet import Job
from .gateway import Gateway, credential_key
from .iam import issue_token
from .identity import DEFAULT_DOMAIN, DEFAULT_REGION, DEFAULT_TOKEN_VALIDITY, DEFAULT_USERNAME, Identity
from .rules import job_actions

__all__ = [
    "CONTENT_TYPE", "ETAG_ROUTES", "IDLE_CURRENT_ACTION_CHOICES", "MAX_BODY_BYTES", "RATE_LIMIT_MESSAGE", "ROUTES",
    "DRSApp", "Response", "Route", "etag_of",
]

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/json;charset=UTF-8"
#: How an idle job's ``current_action`` is rendered (undocumented, DOMAIN.md 2.1):
#: ``null``, an empty string, or the key left out.
IDLE_CURRENT_ACTION_CHOICES: tuple[str, ...] = ("null", "empty", "absent")
#: Largest request body the gateway accepts (12 MB) [D, DOMAIN.md 4.3, 5.2].
MAX_BODY_BYTES = 12 * 1024 * 1024

Headers = Mapping[str, str] | Iterable[tuple[str, str]]


class Route(NamedTuple):
    """One endpoint: a name for counters, a method, a path pattern, a handler method name, a service."""

    name: str
    method: str
    pattern: re.Pattern[str]
    handler: str
    service: str = "drs"


ROUTES: tuple[Route, ...] = (
    Route(
        "job_actions", "GET", re.compile(r"/v5/(?P<project_id>[^/]+)/jobs/(?P<job_id>[^/]+)/actions"), "_job_actions"
    ),
    Route("list_jobs", "GET", re.compile(r"/v5/(?P<project_id>[^/]+)/jobs"), "_list_jobs"),
    Route("iam_tokens", "POST", re.compile(r"/v3/auth/tokens"), "_iam_tokens", service="iam"),
)
_UNROUTED = "unrouted"

# Error messages. APIGW messages are English only [I]; the zh-cn DRS texts are our translations [I].
_APIGW_NOT_FOUND = ("APIGW.0101", "The API does not exist or has not been published in the environment.")
_APIGW_TOO_LARGE = ("APIGW.0201", "Request entity too large")
_APIGW_THROTTLED = (
    "APIGW.0308",
    "The throttling threshold has been reached: policy user over ratelimit,limit:60,time:1 minute",
)
#: The rate limit's 429 message, with the limit filled in [D, DOMAIN.md 4.4].
RATE_LIMIT_MESSAGE = "The throttling threshold has been reached: policy user over ratelimit,limit:{limit},time:1 second"
#: Routes whose 200 answers carry an ``ETag`` and honour ``If-None-Match``.
ETAG_ROUTES: frozenset[str] = frozenset({"job_actions", "list_jobs"})
_ENTITY_TAG = re.compile(r'\s*(W/)?("[^"]*")\s*(?:,|$)')
_DRS_MESSAGES: dict[str, dict[str, str]] = {
    "DRS.10000010": {"en-us": "Job does not exist, please check job ID.", "zh-cn": "任务不存在，请检查任务ID。"},
    "DRS.M00261": {"en-us": "Invalid project ID.", "zh-cn": "无效的项目ID。"},
    "DRS.M00004": {"en-us": "Service is abnormal. Check logs.", "zh-cn": "服务异常，请检查日志。"},
    "DRS.M00201": {"en-us": "The parameter %s is empty.", "zh-cn": "参数%s为空。"},
    "DRS.M00202": {"en-us": "The value of parameter %s is invalid.", "zh-cn": "参数%s的值无效。"},
    "DRS.M00210": {"en-us": "The value of Page is invalid, %s", "zh-cn": "分页参数无效，%s"},
    "DRS.M00211": {"en-us": "The value of Page exceeds the upper limit.", "zh-cn": "分页参数超过上限。"},
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
    path: str = ""
    query: str = ""
    body: bytes = b""

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


def etag_of(body: bytes) -> str:
    """The strong entity tag of a body: its SHA-256, quoted (32 hex digits)."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _if_none_match(header: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` value matches ``etag`` (``*``, or a listed tag; weak comparison)."""
    header = header.strip()
    if header == "*":
        return True
    opaque = etag[2:] if etag.startswith("W/") else etag
    position = 0
    while position < len(header):
        match = _ENTITY_TAG.match(header, position)
        if match is None:
            return False  # malformed: no match (the answer is a full 200)
        if match.group(2) == opaque:
            return True
        position = match.end()
    return False


def _check_rate_limit(rate_limit: Any, retry_after: Any) -> None:
    if rate_limit is not None and (isinstance(rate_limit, bool) or not isinstance(rate_limit, int) or rate_limit < 1):
        raise ValueError(f"rate_limit must be None or an integer >= 1 (requests per second), got {rate_limit!r}")
    if not isinstance(retry_after, bool):
        raise ValueError(f"rate_limit_retry_after must be True or False, got {retry_after!r}")


class _RateLimiter:
    """At most ``limit`` requests per key in any sliding 1-second window (by the app's clock)."""

    def __init__(self, limit: int, clock: Callable[[], float]) -> None:
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}

    def admit(self, key: str) -> float | None:
        """``None`` if the request may pass (it is counted), else seconds until a slot frees up."""
        now = self._clock()
        with self._lock:
            window = self._windows.setdefault(key, deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) < self.limit:
                window.append(now)
                return None
            return max(window[0] + 1.0 - now, 0.0)


def _check_limits(default: Any, maximum: Any) -> None:
    """Raise ``ValueError`` unless ``1 <= default <= maximum`` are integers."""
    for name, value in (("list_max_limit", maximum), ("list_default_limit", default)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if default > maximum:
        raise ValueError(f"list_default_limit ({default}) must not exceed list_max_limit ({maximum})")


class DRSApp:
    """Answer DRS v5 API requests in process.

    Parameters
    ----------
    fleet : iterable of Job
        The jobs of ``project_id``.
    project_id : str
        The one project the credentials own.
    token : str
        The fixed ``X-Auth-Token`` (never expires).
    idle_current_action : {"null", "empty", "absent"}
        How an idle job's ``current_action`` is rendered (in ``/actions`` and the list alike).
    faults : Faults, optional
        Fault rates; faults are off by default.
    seed : int
        Seed of the fault dice.
    ak, sk : str, optional
        The accepted AK/SK pair (random by default).
    security_token : str, optional
        Makes the AK/SK temporary: requests must carry it in ``X-Security-Token``.
    username, password, domain : str
        The IAM user that may get tokens from ``POST /v3/auth/tokens`` (password random by default).
    region : str
        The region ID (IAM accepts it as the scope's project name).
    token_validity : float
        Seconds an IAM-issued token is valid.
    list_default_limit, list_max_limit : int
        ListJobs ``limit`` when absent, and its largest accepted value.
    clock : callable
        Returns the time in seconds since the epoch; the :attr:`clock` attribute may be
        replaced later (tests advance time without sleeping).
    etags : bool
        Send an ``ETag`` on 200 answers of ``/actions`` and the list, and answer a
        matching ``If-None-Match`` with 304 (see the module notes) [I].
    rate_limit : int, optional
        Requests per second allowed per credential (sliding 1-second window, by
        ``clock``); above it 429 ``APIGW.0308``. ``None`` (default): no limit.
    rate_limit_retry_after : bool
        Send ``Retry-After`` (whole seconds until a slot frees up, at least 1) on the
        rate limit's 429s; off by default, as the real gateway is not documented to.

    Raises
    ------
    ValueError
        If an argument is malformed, naming it (never showing a secret).

    Examples
    --------
    >>> from drs_analytics.emulator.fleet import make_fleet
    >>> app = DRSApp(make_fleet(3, seed=1), project_id="p1", token="t")
    >>> app.handle("GET", "/v5/p1/jobs/nope/actions", {"X-Auth-Token": "t"}).status
    400
    >>> app.handle("GET", "/v5/p1/jobs?job_type=sync", {"X-Auth-Token": "t"}).json()["total_count"] >= 0
    True
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
        ak: str | None = None,
        sk: str | None = None,
        security_token: str | None = None,
        username: str = DEFAULT_USERNAME,
        password: str | None = None,
        domain: str = DEFAULT_DOMAIN,
        region: str = DEFAULT_REGION,
        token_validity: float = DEFAULT_TOKEN_VALIDITY,
        list_default_limit: int = 10,
        list_max_limit: int = 1000,
        clock: Callable[[], float] = time.time,
        etags: bool = True,
        rate_limit: int | None = None,
        rate_limit_retry_after: bool = False,
    ) -> None:
        if idle_current_action not in IDLE_CURRENT_ACTION_CHOICES:
            raise ValueError(
                f"idle_current_action must be one of {IDLE_CURRENT_ACTION_CHOICES}, got {idle_current_action!r}"
            )
        _check_limits(list_default_limit, list_max_limit)
        if not callable(clock):
            raise ValueError(f"clock must be a callable returning seconds since the epoch, got {clock!r}")
        if not isinstance(etags, bool):
            raise ValueError(f"etags must be True or False, got {etags!r}")
        _check_rate_limit(rate_limit, rate_limit_retry_after)
        secrets_given = {"ak": ak, "sk": sk, "password": password}
        self.identity = Identity(
            project_id=project_id,
            token=token,
            security_token=security_token,
            username=username,
            domain=domain,
            region=region,
            token_validity=token_validity,
            **{name: value for name, value in secrets_given.items() if value is not None},
        )
        self.project_id = project_id
        self.token = token
        self.idle_current_action = idle_current_action
        self.list_default_limit = list_default_limit
        self.list_max_limit = list_max_limit
        self.clock = clock
        self.jobs: dict[str, Job] = {job.id: job for job in fleet}
        self._top_level = listing.top_level_by_id(self.jobs.values())
        self.gateway = Gateway(self.identity, lambda: self.clock())
        self._faults = FaultInjector(faults, seed)
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, str], tuple[list[str], list[str], str | None]] = {}
        self._raw: dict[tuple[str, str], tuple[int, bytes, dict[str, str], float]] = {}
        self._rules_memo: dict[tuple[Any, ...], tuple[list[str], list[str], str | None]] = {}
        self.etags = etags
        self.rate_limit = rate_limit
        self.rate_limit_retry_after = rate_limit_retry_after
        self._limiter = _RateLimiter(rate_limit, lambda: self.clock()) if rate_limit is not None else None
        self._total = 0
        self._by_route: Counter[tuple[str, str]] = Counter()
        self._by_job: Counter[str] = Counter()
        self._by_status: Counter[int] = Counter()
        self._by_fault: Counter[str] = Counter()
        self._throttled = 0

    @property
    def faults(self) -> Faults:
        """The fault rates in force."""
        return self._faults.faults

    # --- entry point ------------------------------------------------------------------
    def handle(
        self, method: str, path_with_query: str, headers: Headers | None = None, body: bytes = b""
    ) -> Response:
        """Answer one request.

        Parameters
        ----------
        method : str
            HTTP method.
        path_with_query : str
            Request target as received, e.g. ``/v5/{pid}/jobs?job_type=sync`` (a full URL works too).
            The raw path and query are what AK/SK signatures are checked against.
        headers : mapping or iterable of (name, value), optional
            Request headers; names are case-insensitive; values as text.
        body : bytes
            Request body; above :data:`MAX_BODY_BYTES` the answer is 413 ``APIGW.0201``.

        Returns
        -------
        Response
            Always carries ``X-Request-Id`` and ``Date``, and (but a 304) ``Content-Length``
            and ``Content-Type``. A connection reset has status 0.
        """
        response = self._handle(method, path_with_query, headers, body)
        self._count_status(response.status)
        return response

    def _handle(self, method: str, path_with_query: str, headers: Headers | None, body: bytes) -> Response:
        method = method.upper()
        target = urlsplit(path_with_query)
        if len(body) > MAX_BODY_BYTES:
            return self.too_large(method, path_with_query)
        route, params = self._route(method, target.path)
        self._count(method, route, params)
        request = _Request(
            method, _lower_headers(headers), uuid.uuid4().hex, params, target.path, target.query, bytes(body)
        )
        if route is None:
            return self._apigw_error(request, 404, _APIGW_NOT_FOUND)
        if route.service == "iam":
            return getattr(self, route.handler)(request)
        decision = self._faults.draw()
        if decision.kind or decision.delay:
            with self._lock:
                if decision.kind:
                    self._by_fault[decision.kind] += 1
                if decision.delay:
                    self._by_fault["slow"] += 1
        if decision.kind == "reset":
            return Response(0, reset=True, delay=decision.delay)
        response = self._faulted(request, decision.kind) or self._serve(request, route)
        if decision.kind == "malformed":
            response = self._malformed(request, response)
        response.delay += decision.delay
        return response

    def too_large(self, method: str, path_with_query: str) -> Response:
        """The 413 answer to a body above :data:`MAX_BODY_BYTES` (the server calls it without reading the body)."""
        route, params = self._route(method.upper(), urlsplit(path_with_query).path)
        self._count(method.upper(), route, params)
        request = _Request(method.upper(), {}, uuid.uuid4().hex, params)
        self._count_status(413)
        return self._apigw_error(request, 413, _APIGW_TOO_LARGE)

    def _route(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        """Find the route of a method and path (a wrong method is a 404 at the gateway)."""
        for route in ROUTES:
            match = route.pattern.fullmatch(path)
            if match and route.method == method:
                return route, {k: unquote(v) for k, v in match.groupdict().items()}
        return None, {}

    def _serve(self, request: _Request, route: Route) -> Response:
        """Run the gateway checks (authentication, rate limit, project), the handler, then ``If-None-Match``."""
        project_id = request.params.get("project_id")
        verdict = self.gateway.authenticate(
            request.method, request.path, request.query, request.headers, request.body, project_id
        )
        if verdict.error is not None:
            return self._apigw_error(request, 401, verdict.error)
        if self._limiter is not None:
            wait = self._limiter.admit(credential_key(request.headers))
            if wait is not None:
                return self._throttled_answer(request, wait)
        if project_id is not None and project_id not in verdict.projects:
            return self._drs_error(request, 403, "DRS.M00261")
        response = getattr(self, route.handler)(request)
        if self.etags and route.name in ETAG_ROUTES and response.status == 200:
            return self._conditional(request, response)
        return response

    def _throttled_answer(self, request: _Request, wait: float) -> Response:
        """The rate limit's 429 ``APIGW.0308`` (with ``Retry-After`` only if asked for)."""
        with self._lock:
            self._throttled += 1
        response = self._apigw_error(
            request, 429, ("APIGW.0308", RATE_LIMIT_MESSAGE.format(limit=self.rate_limit))
        )
        if self.rate_limit_retry_after:
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response

    def _conditional(self, request: _Request, response: Response) -> Response:
        """Add the ``ETag`` to a 200 (one already set by an override wins); 304 if it matches."""
        etag = next((v for k, v in response.headers.items() if k.lower() == "etag"), None)
        if etag is None:
            etag = response.headers["ETag"] = etag_of(response.body)
        condition = request.headers.get("if-none-match")
        if condition is None or not _if_none_match(condition, etag):
            return response
        return Response(
            304, {"X-Request-Id": request.request_id, "Date": formatdate(self.clock(), usegmt=True), "ETag": etag}
        )

    # --- handlers -----------------------------------------------------------------------
    def _job_actions(self, request: _Request) -> Response:
        """``GET /v5/{project_id}/jobs/{job_id}/actions``."""
        project_id, job_id = request.params["project_id"], request.params["job_id"]
        with self._lock:
            raw = self._raw.get((project_id, job_id))
        if raw is not None:
            status, body, headers, delay = raw
            response = self._respond(request, status, body, headers)
            response.delay = delay
            return response
        job_action = self.job_action(job_id, project_id=project_id)
        if job_action is None:
            return self._drs_error(request, 400, "DRS.10000010")
        return self._respond(request, 200, _encode({"job_action": job_action}))

    def _list_jobs(self, request: _Request) -> Response:
        """``GET /v5/{project_id}/jobs`` (ListJobs); ``set_raw_response`` does not apply here."""
        try:
            query = listing.parse_query(
                parse_qsl(request.query, keep_blank_values=True),
                default_limit=self.list_default_limit,
                max_limit=self.list_max_limit,
            )
        except listing.ListError as exc:
            return self._drs_error(request, 400, exc.code, exc.detail)
        project_id = request.params["project_id"]
        jobs = self._top_level if project_id == self.project_id else []
        total, page = listing.select(jobs, query)
        with self._lock:
            overrides = {job_id: answer for (pid, job_id), answer in self._answers.items() if pid == project_id}

        def render(job: Job) -> dict[str, Any]:
            return self._render(*(overrides.get(job.id) or self._rules(job)))

        body = {"total_count": total, "jobs": listing.render_page(page, self.jobs, render)}
        return self._respond(request, 200, _encode(body))

    def _iam_tokens(self, request: _Request) -> Response:
        """``POST /v3/auth/tokens`` (IAM, password method)."""
        answer = issue_token(request.body, self.identity, self.gateway)
        return self._respond(request, answer.status, _encode(answer.payload), answer.headers)

    # --- job_action: one rendering for /actions and the list -----------------------------
    def job_action(self, job_id: str, *, project_id: str | None = None) -> dict[str, Any] | None:
        """The ``job_action`` object served for a job now, or ``None`` for an unknown job.

        ``/actions`` and the list both render through here: a :meth:`set_job_actions`
        override wins over the rules, and an idle ``current_action`` is rendered as
        configured. :meth:`set_raw_response` is not seen here (it replaces the whole
        ``/actions`` answer only).
        """
        key = (project_id or self.project_id, job_id)
        with self._lock:
            answer = self._answers.get(key)
        if answer is None:
            job = self.jobs.get(job_id) if key[0] == self.project_id else None
            if job is None:
                return None
            answer = self._rules(job)
        return self._render(*answer)

    def _rules(self, job: Job) -> tuple[list[str], list[str], str | None]:
        """:func:`job_actions`, memoised on the fields the rules read (the answer is not mutated)."""
        key = (
            job.status, job.job_type, job.engine_type, job.charging_mode, job.job_mode,
            job.job_mode_role, job.is_multi_az, job.task_type, job.current_action,
        )  # fmt: skip
        answer = self._rules_memo.get(key)
        if answer is None:
            answer = self._rules_memo[key] = job_actions(job)
        return answer

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
        date = formatdate(self.clock(), usegmt=True)
        out = {"X-Request-Id": request.request_id, "Date": date, "Content-Type": CONTENT_TYPE}
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

    def _drs_error(self, request: _Request, status: int, code: str, detail: str = "") -> Response:
        """A DRS service error, its message in the request's language (``%s`` replaced by ``detail``)."""
        msg = _DRS_MESSAGES[code][request.language].replace("%s", detail)
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
        """Add or replace a job's ``job_action``, served verbatim by ``/actions`` and the list.

        Lists are kept as given: duplicates, overlaps and names outside the
        vocabulary included. ``project_id`` defaults to the emulator's project.
        The list shows the override only for jobs of the fleet (it lists no others).
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
        delay: float = 0.0,
    ) -> None:
        """Answer a job's ``/actions`` with any status and body (after the gateway checks).

        ``headers`` add to or replace the default ones; ``Content-Length`` is always recomputed.
        ``delay`` holds the answer back that many seconds (a hanging backend for client
        timeouts; the emulator's :meth:`~drs_analytics.emulator.Emulator.stop` still
        ends the wait). Only ``/actions`` is affected: the list keeps showing the job's
        ``job_action`` (a raw body has no ``job_action`` to show).
        """
        if not isinstance(body, bytes):
            raise TypeError(f"body must be bytes, got {type(body).__name__}")
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay < math.inf:
            raise ValueError(f"delay must be a number of seconds >= 0, got {delay!r}")
        key = (project_id or self.project_id, job_id)
        with self._lock:
            self._raw[key] = (int(status), body, dict(headers or {}), float(delay))

    def clear_overrides(self, job_id: str | None = None) -> None:
        """Forget overrides: of one job (any project), or all of them."""
        with self._lock:
            for table in (self._answers, self._raw):
                for key in [k for k in table if job_id is None or k[1] == job_id]:
                    del table[key]

    def revoke_tokens(self) -> int:
        """Invalidate every IAM-issued token (a password change); return how many there were.

        Their next use answers 401 ``APIGW.0301`` "decrypt token fail"; the fixed token still works.
        """
        return self.gateway.revoke_tokens()

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

    def _count_status(self, status: int) -> None:
        with self._lock:
            self._by_status[status] += 1

    @property
    def status_counts(self) -> dict[int, int]:
        """Answers per HTTP status (0: a connection reset by a fault), whatever the route."""
        with self._lock:
            return dict(self._by_status)

    @property
    def fault_counts(self) -> dict[str, int]:
        """Injected faults per kind (``reset``, ``error_500``, ``throttle_429``, ``malformed``, ``slow``)."""
        with self._lock:
            return dict(self._by_fault)

    @property
    def not_modified_count(self) -> int:
        """304 answers to conditional requests (``If-None-Match``)."""
        with self._lock:
            return self._by_status[304]

    @property
    def throttled_count(self) -> int:
        """429 answers of the rate limit (``rate_limit``; fault-injected 429s not included)."""
        with self._lock:
            return self._throttled

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
            self._by_status.clear()
            self._by_fault.clear()
            self._throttled = 0
