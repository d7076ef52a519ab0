"""The network face of the emulator: a threaded HTTP/1.1 server on loopback.

:class:`Emulator` serves :class:`~drs_analytics.emulator.app.DRSApp` over real
sockets, one thread per connection, with persistent (keep-alive) connections.

It adds no latency of its own. Each response (status line, headers and body)
goes out in a single ``sendall`` on a ``TCP_NODELAY`` socket: a handler that
writes headers and body separately stalls every keep-alive request on the
Nagle / delayed-ACK interplay (about 40 ms on Linux loopback). Latency is
injected on purpose only, by ``latency_ms`` and ``jitter_ms``.

Request bodies are read by ``Content-Length`` and handed to the app (above
12 MB the answer is 413 ``APIGW.0201`` and the connection is closed). Header
values arrive from :mod:`http.server` decoded as latin-1; they are turned back
into UTF-8 text where they decode as such, since the official SDK sends
non-ASCII header values as UTF-8 bytes (and signs their text).
"""

from __future__ import annotations

import contextlib
import hashlib
import http
import http.server
import logging
import math
import random
import secrets
import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from .app import IDLE_CURRENT_ACTION_CHOICES, MAX_BODY_BYTES, DRSApp, Response
from .faults import Faults
from .fleet import Job, make_fleet
from .identity import DEFAULT_DOMAIN, DEFAULT_REGION, DEFAULT_TOKEN_VALIDITY, DEFAULT_USERNAME

__all__ = ["Emulator", "default_project_id"]

logger = logging.getLogger(__name__)

_READY_TIMEOUT = 10.0
_POLL_INTERVAL = 0.05
#: An oversized body up to this size is read and dropped before the 413, so that the
#: client, still sending, sees the answer rather than a reset; a larger one is not read.
_DRAIN_LIMIT = 4 * MAX_BODY_BYTES


def _utf8(value: str) -> str:
    """A header value decoded as latin-1 by http.server, as UTF-8 text when it is valid UTF-8."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def default_project_id(seed: int) -> str:
    """Return the 32-hex-character project ID the emulator derives from a seed."""
    return hashlib.sha256(f"drs-emulator-project:{seed}".encode()).hexdigest()[:32]


class _Handler(http.server.BaseHTTPRequestHandler):
    """One connection: parse requests, ask the app, write each answer in one piece."""

    protocol_version = "HTTP/1.1"
    #: Idle keep-alive connections are closed after this many seconds.
    timeout = 120
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self) -> None:
        """Read one request and answer it, whatever its method."""
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline = self.request_version = self.command = ""
                self.send_error(http.HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if self.parse_request():
                self._answer()
        except TimeoutError:
            self.close_connection = True

    def _answer(self) -> None:
        """Read the body, get the app's response, wait, then send or reset."""
        emulator = self.server.emulator
        body = self._read_body()
        if body is None:
            response = emulator.app.too_large(self.command, self.path)
        else:
            headers = [(name, _utf8(value)) for name, value in self.headers.items()]
            response = emulator.app.handle(self.command, self.path, headers, body)
        emulator._wait(emulator._latency() + response.delay)
        if response.reset:
            self._reset()
        else:
            self.wfile.write(self._serialise(response))

    def _read_body(self) -> bytes | None:
        """The body sent with ``Content-Length``; ``None`` when it is above the 12 MB limit."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # chunked bodies are not parsed; drop the connection after
            return b""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            return b""
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            if length <= _DRAIN_LIMIT:
                self._drain(length)
            return None
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            self.close_connection = True  # the client hung up mid-body
        return body

    def _drain(self, remaining: int) -> None:
        """Read and drop ``remaining`` bytes (or until the client stops sending)."""
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)

    def _serialise(self, response: Response) -> bytes:
        """Status line, headers and body as one byte string."""
        try:
            reason = http.HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Unknown"
        lines = [f"HTTP/1.1 {response.status} {reason}"]
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        if self.close_connection:
            lines.append("Connection: close")
        elif self.request_version == "HTTP/1.0":
            lines.append("Connection: keep-alive")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")
        return head if self.command == "HEAD" else head + response.body

    def _reset(self) -> None:
        """Drop the connection with a TCP RST (SO_LINGER 0, then close)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            socket.socket(fileno=self.connection.detach()).close()
        except OSError:
            logger.debug("reset of a connection failed", exc_info=True)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep quiet: no per-request lines on stderr."""


class _Server(socketserver.TCPServer):
    """A TCP server with one daemon thread per connection, all tracked for shutdown."""

    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._closing = False
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve a new connection in its own daemon thread."""
        thread = threading.Thread(
            target=self._serve_connection, args=(request, client_address), name="drs-emulator-conn", daemon=True
        )
        with self._lock:
            if self._closing:
                self.shutdown_request(request)
                return
            self._connections.add(request)
            self._threads.add(thread)
        thread.start()

    def _serve_connection(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._lock:
                self._connections.discard(request)
                self._threads.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log connection errors at debug level (clients hang up; that is normal)."""
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)

    def close_connections(self) -> list[threading.Thread]:
        """Shut every open connection down (waking idle readers); return the live threads."""
        with self._lock:
            self._closing = True
            connections, threads = list(self._connections), list(self._threads)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        return threads


def _own_fleet(fleet: Iterable[Job]) -> list[Job]:
    """The jobs of a ``fleet=`` argument, checked: Job instances with unique IDs."""
    jobs = list(fleet)
    bad = [job for job in jobs if not isinstance(job, Job)]
    if bad:
        raise ValueError(f"fleet must hold Job instances, got {type(bad[0]).__name__}")
    ids = [job.id for job in jobs]
    if len(set(ids)) != len(ids):
        raise ValueError("fleet job IDs must be unique")
    return jobs


def _check_number(name: str, value: Any, *, integer: bool = False, low: float = 0, high: float = math.inf) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a number in ``[low, high]``."""
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not (low <= value <= high):
        kind = "an integer" if integer else "a number"
        raise ValueError(f"{name} must be {kind} in [{low}, {high}], got {value!r}")


class Emulator:
    """A local DRS v5 API on a real socket, for demos and integration tests.

    Parameters
    ----------
    jobs : int, optional
        Size of the synthetic fleet (children included); 300 by default.
    fleet : iterable of Job, optional
        Serve these jobs instead of a synthetic fleet (then leave ``jobs`` out).
    seed : int
        Seed of the fleet, the default project ID, the fault dice and the jitter.
    host : str
        Address to bind; loopback by default.
    port : int
        Port to bind; 0 picks a free one (see :attr:`port` after :meth:`start`).
    token : str, optional
        The accepted ``X-Auth-Token``; a random one by default.
    project_id : str, optional
        The tenant's project; by default 32 hex characters derived from ``seed``.
    latency_ms, jitter_ms : float
        Each answer waits ``latency_ms`` plus a uniform draw in ``[0, jitter_ms]``.
    faults : Faults, optional
        Fault rates (all off by default).
    idle_current_action : {"null", "empty", "absent"}
        How an idle job's ``current_action`` is rendered.
    ak, sk : str, optional
        The accepted AK/SK pair; random by default (an AK of 20 upper-case letters and
        digits, an SK of 40 letters and digits).
    security_token : str, optional
        Makes the AK/SK temporary: requests must then carry it in ``X-Security-Token``.
    username, password, domain : str
        The IAM user of ``POST /v3/auth/tokens`` (the password is random by default).
    region : str
        Region ID, e.g. ``cn-south-2`` (see :meth:`sdk_env`).
    token_validity : float
        Seconds an IAM-issued token is valid (24 hours by default).
    list_default_limit, list_max_limit : int
        ListJobs ``limit`` when absent (10), and its largest accepted value (1000).
    clock : callable
        The app's clock (seconds since the epoch): token expiry, ``X-Sdk-Date`` skew,
        the rate limit's window.
    etags : bool
        ``ETag`` on 200 answers of ``/actions`` and the list, 304 for a matching
        ``If-None-Match`` (undocumented for DRS; on by default).
    rate_limit : int, optional
        Requests per second per credential (sliding 1-second window); above it 429
        ``APIGW.0308``, counted in ``app.throttled_count``. ``None``: no limit.
    rate_limit_retry_after : bool
        Send ``Retry-After`` on the rate limit's 429s (off: the real gateway is not
        documented to send it).

    Secrets (token, SK, password, security token) never appear in ``repr`` or logs.

    Raises
    ------
    ValueError
        If an argument is out of range, naming it.

    Examples
    --------
    >>> import requests
    >>> with Emulator(jobs=5, seed=7) as emu:
    ...     url = f"{emu.url}/v5/{emu.project_id}/jobs/{emu.job_ids[0]}/actions"
    ...     requests.get(url, headers={"X-Auth-Token": emu.token}, timeout=5).status_code
    200
    """

    def __init__(
        self,
        *,
        jobs: int | None = None,
        fleet: Iterable[Job] | None = None,
        seed: int = 7,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        project_id: str | None = None,
        latency_ms: float = 0,
        jitter_ms: float = 0,
        faults: Faults | None = None,
        idle_current_action: str = "null",
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
        if fleet is not None and jobs is not None:
            raise ValueError("give either jobs (a synthetic fleet) or fleet (your jobs), not both")
        own = _own_fleet(fleet) if fleet is not None else None
        jobs = 300 if jobs is None else jobs
        _check_number("jobs", jobs, integer=True)
        _check_number("seed", seed, integer=True, low=-math.inf)
        _check_number("port", port, integer=True, high=65535)
        _check_number("latency_ms", latency_ms)
        _check_number("jitter_ms", jitter_ms)
        self._check_strings(host, token, project_id)
        if faults is not None and not isinstance(faults, Faults):
            raise ValueError(f"faults must be a Faults instance or None, got {faults!r}")
        if idle_current_action not in IDLE_CURRENT_ACTION_CHOICES:
            raise ValueError(
                f"idle_current_action must be one of {IDLE_CURRENT_ACTION_CHOICES}, got {idle_current_action!r}"
            )
        self.host, self.seed, self.latency_ms, self.jitter_ms = host, seed, latency_ms, jitter_ms
        self._requested_port = port
        self.token = token or secrets.token_urlsafe(32)
        self.project_id = project_id or default_project_id(seed)
        self.fleet: list[Job] = own if own is not None else make_fleet(jobs, seed=seed)
        self.job_ids: list[str] = [job.id for job in self.fleet]
        self.app = DRSApp(
            self.fleet,
            project_id=self.project_id,
            token=self.token,
            idle_current_action=idle_current_action,
            faults=faults,
            seed=seed,
            ak=ak,
            sk=sk,
            security_token=security_token,
            username=username,
            password=password,
            domain=domain,
            region=region,
            token_validity=token_validity,
            list_default_limit=list_default_limit,
            list_max_limit=list_max_limit,
            clock=clock,
            etags=etags,
            rate_limit=rate_limit,
            rate_limit_retry_after=rate_limit_retry_after,
        )
        self._jitter = random.Random(seed)
        self._jitter_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @staticmethod
    def _check_strings(host: Any, token: Any, project_id: Any) -> None:
        """Validate the string arguments (``None`` allowed for token and project)."""
        if not isinstance(host, str) or not host:
            raise ValueError(f"host must be a non-empty string, got {host!r}")
        if token is not None and (not isinstance(token, str) or not token.strip()):
            raise ValueError(f"token must be a non-empty string, got {token!r}")
        if project_id is not None and (not isinstance(project_id, str) or not project_id or "/" in project_id):
            raise ValueError(f"project_id must be a non-empty string without '/', got {project_id!r}")

    # --- lifecycle --------------------------------------------------------------------------
    def start(self) -> Emulator:
        """Bind, start serving in a background thread, and return once ready.

        Raises
        ------
        RuntimeError
            If already started, or the server did not become ready.
        OSError
            If the address cannot be bound.
        """
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self._stopping.clear()
        server = _Server((self.host, self._requested_port), self)
        ready = threading.Event()
        thread = threading.Thread(target=self._serve, args=(server, ready), name="drs-emulator", daemon=True)
        self._server, self._thread = server, thread
        thread.start()
        if not ready.wait(_READY_TIMEOUT):
            self.stop()
            raise RuntimeError("the emulator did not become ready")
        logger.info("DRS emulator serving %d jobs at %s", len(self.fleet), self.url)
        return self

    @staticmethod
    def _serve(server: _Server, ready: threading.Event) -> None:
        ready.set()
        server.serve_forever(poll_interval=_POLL_INTERVAL)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving: close the listener and every open connection, join the threads.

        Parameters
        ----------
        timeout : float
            Upper bound, in seconds, on the time spent waiting for threads.
        """
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        deadline = time.monotonic() + timeout
        self._stopping.set()
        server.shutdown()
        server.server_close()
        for worker in [thread, *server.close_connections()]:
            worker.join(max(0.0, deadline - time.monotonic()))
        self._server = self._thread = None
        logger.info("DRS emulator stopped")

    close = stop

    def __enter__(self) -> Emulator:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- addresses --------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether the server is started and not stopped."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The bound port (a free one when constructed with ``port=0``)."""
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:8080``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def iam_url(self) -> str:
        """Base URL of the emulated IAM (``POST /v3/auth/tokens``): the same server."""
        return self.url

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<Emulator {where} jobs={len(self.fleet)} seed={self.seed} region={self.region}>"

    # --- credentials --------------------------------------------------------------------------
    @property
    def ak(self) -> str:
        """The accepted access key ID."""
        return self.app.identity.ak

    @property
    def sk(self) -> str:
        """The accepted secret access key."""
        return self.app.identity.sk

    @property
    def security_token(self) -> str | None:
        """The required ``X-Security-Token`` of a temporary AK/SK, else ``None``."""
        return self.app.identity.security_token

    @property
    def username(self) -> str:
        """The IAM user name."""
        return self.app.identity.username

    @property
    def password(self) -> str:
        """The IAM user's password."""
        return self.app.identity.password

    @property
    def domain(self) -> str:
        """The IAM account (domain) name."""
        return self.app.identity.domain

    @property
    def region(self) -> str:
        """The region ID."""
        return self.app.identity.region

    @property
    def token_validity(self) -> float:
        """Seconds an IAM-issued token is valid."""
        return self.app.identity.token_validity

    def sdk_env(self) -> dict[str, str]:
        """The environment variables that point the official Huawei Cloud SDK here.

        ``HUAWEICLOUD_SDK_REGION_DRS_<REGION>`` (the DRS endpoint of :attr:`region`),
        ``HUAWEICLOUD_SDK_IAM_ENDPOINT``, ``HUAWEICLOUD_SDK_AK``/``_SK``/``_PROJECT_ID``,
        and ``HUAWEICLOUD_SDK_SECURITY_TOKEN`` for a temporary AK/SK (DOMAIN.md 6).

        Raises
        ------
        RuntimeError
            If the emulator is not running (the URL is not known yet).
        """
        env = {
            "HUAWEICLOUD_SDK_REGION_DRS_" + self.region.replace("-", "_").upper(): self.url,
            "HUAWEICLOUD_SDK_IAM_ENDPOINT": self.iam_url,
            "HUAWEICLOUD_SDK_AK": self.ak,
            "HUAWEICLOUD_SDK_SK": self.sk,
            "HUAWEICLOUD_SDK_PROJECT_ID": self.project_id,
        }
        if self.security_token is not None:
            env["HUAWEICLOUD_SDK_SECURITY_TOKEN"] = self.security_token
        return env

    # --- used by connection threads ---------------------------------------------------------
    def _latency(self) -> float:
        """Seconds to wait before answering: fixed latency plus uniform jitter."""
        if not self.jitter_ms:
            return self.latency_ms / 1000
        with self._jitter_lock:
            jitter = self._jitter.uniform(0, self.jitter_ms)
        return (self.latency_ms + jitter) / 1000

    def _wait(self, seconds: float) -> None:
        """Sleep, but wake up at once when the emulator stops."""
        if seconds > 0:
            self._stopping.wait(seconds)
