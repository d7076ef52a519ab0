"""DRSClient: one configured, cached HTTP session for the DRS v5 API."""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit
from typing import Any, TypeVar

import requests

from .auth import IAM_ENDPOINT_ENV, PROJECT_ENV, PasswordAuth, make_auth
from .cache import make_session
from .cancellation import cancel_scope, check_cancelled, current_event
from .exceptions import (
    AuthenticationError,
    ConfigurationError,
    FetchCancelled,
    NotCachedError,
    MalformedResponseError,
    RequestError,
    ServerError,
    ThrottledError,
    TransportError,
)
from .regions import check_no_userinfo, iam_endpoint, region_endpoint, url_origin
from .responses import JobActions, api_error, parsed_actions, response_time
from .signing import canonical_query
from .pacing import Pacer
from .settings import (
    DEFAULT_EXPIRE_AFTER,
    DEFAULT_LANGUAGE,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_TIMEOUT,
    ClientSettings,
    PacingSettings,
    RetrySettings,
    default_cache_path,
)
from .validation import check_id

__all__ = ["DRSClient", "cancel_scope"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Failures worth another attempt. A malformed 200 is usually a truncated transfer.
_RETRYABLE = (TransportError, ServerError, ThrottledError, MalformedResponseError)
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def _endpoint(endpoint: str | None, region: str | None, what: str = "endpoint") -> str:
    check_no_userinfo(endpoint, what)  # first: the messages below show the endpoint
    if region:
        url = region_endpoint(region)  # checks the region even when an endpoint overrides it
        if not endpoint:
            return url
    if not endpoint:
        raise ConfigurationError("no endpoint: pass endpoint='https://...' or region='cn-south-2', or set DRS_ENDPOINT or DRS_REGION")
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
        raise ConfigurationError(f"invalid endpoint {endpoint!r}: it must start with https:// (or http:// for a local emulator)")
    if any(c in endpoint for c in "?#") or any(c.isspace() for c in endpoint):
        raise ConfigurationError(f"invalid endpoint {endpoint!r}: no query, fragment or spaces allowed")
    host = urlsplit(endpoint).netloc.rsplit("@", 1)[-1]
    host = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    if endpoint.startswith("http://") and not (host in _LOOPBACK or host.startswith("127.")):
        raise ConfigurationError(
            f"invalid endpoint {endpoint!r}: plain http:// would send the token in clear text; "
            "use https:// (http:// is accepted for loopback emulators only)"
        )
    return endpoint.rstrip("/")


#: The API's own path in an endpoint: a ``/v5`` or ``/v3`` segment (any case) and what follows.
_API_PATH = re.compile(r"/v[35](?=/|$).*$", re.IGNORECASE)


def _check_no_api_path(endpoint: str, what: str = "endpoint", adds: str = "/v5/{project_id}/...") -> None:
    """Refuse ``https://host/v5`` (``/v5/{project_id}``, a copied ``/v5/.../jobs`` URL, ``/v3``):
    the client adds ``adds`` itself, so requests would go to ``/v5/v5/...``. Any other path
    (a reverse proxy's prefix, ``/drs/v1`` too) is kept."""
    match = _API_PATH.search(urlsplit(endpoint).path)
    if match:
        raise ConfigurationError(
            f"{what} {endpoint!r} has the API path {match.group(0).rstrip('/')!r}: give the scheme and host only "
            f"(the client adds {adds})"
        )


def _iam_endpoint(iam: str | None, region: str | None) -> str | None:
    if iam:
        what, url = "IAM endpoint", iam
    elif os.environ.get(IAM_ENDPOINT_ENV, "").strip():
        what, url = f"IAM endpoint (${IAM_ENDPOINT_ENV})", os.environ[IAM_ENDPOINT_ENV].strip()
    else:
        return iam_endpoint(region) if region else None
    url = _endpoint(url, None, what)
    _check_no_api_path(url, what, adds="/v3/auth/tokens")
    return url


#: Environment variables read when ``endpoint=``/``region=``/``project_id=`` are not given
#: (the same the CLI and ``open_fleet`` read).
ENDPOINT_ENV, REGION_ENV, DRS_PROJECT_ENV = "DRS_ENDPOINT", "DRS_REGION", "DRS_PROJECT_ID"


def _project(project_id: str | None) -> str:
    if project_id is None:
        project_id = os.environ.get(DRS_PROJECT_ENV, "").strip() or os.environ.get(PROJECT_ENV, "").strip() or None
        if project_id is None:
            raise ConfigurationError(f"no project: pass project_id= or set {DRS_PROJECT_ENV} or {PROJECT_ENV}")
    return check_id(project_id, "project ID")


#: Where requests reads a CA bundle from the environment, in its order.
CA_BUNDLE_ENVS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def _check_ca_path(path: str, source: str) -> str:
    if not path.strip():
        raise ConfigurationError(f"the CA bundle path ({source}) is empty")
    if not os.path.exists(path):
        raise ConfigurationError(
            f"CA bundle {path!r} (from {source}) does not exist; give an existing CA bundle file or a directory "
            "of CA certificates"
        )
    return path


def _verify(ca_bundle: Any, session: requests.Session | None) -> bool | str:
    """TLS verification setting from ``ca_bundle=`` or the environment, checked before anything is sent.

    A missing path would otherwise surface later as an ``OSError`` on every request. An
    existing file or directory is accepted (requests takes both); ``False`` is refused:
    verification cannot be turned off.
    """
    if ca_bundle is None or ca_bundle is True:
        if session is None or session.trust_env:
            for var in CA_BUNDLE_ENVS:
                value = os.environ.get(var)
                if value:  # requests: the first non-empty one
                    _check_ca_path(value, f"${var}")
                    break
        return True
    if ca_bundle is False:
        raise ConfigurationError(
            "TLS verification cannot be turned off (ca_bundle=False); for a private CA pass "
            "ca_bundle='/path/to/ca.pem' (a CA bundle file or a directory of CA certificates) or set REQUESTS_CA_BUNDLE"
        )
    path = os.fspath(ca_bundle) if isinstance(ca_bundle, (str, os.PathLike)) else None
    if not isinstance(path, str):
        raise ConfigurationError(f"ca_bundle must be a path (str or os.PathLike), got {type(ca_bundle).__name__}")
    return _check_ca_path(path, "ca_bundle=")


def _cache_path(cache: str | Path | bool | None) -> Path | None:
    if cache is False:
        return None
    if cache is None or cache is True:
        return default_cache_path()
    if isinstance(cache, (str, Path)) and str(cache).strip():
        return Path(cache)
    raise ConfigurationError(f"cache must be a file path, True/None (default location) or False, got {cache!r}")


class DRSClient:
    """A client for ``GET /v5/{project_id}/jobs/{job_id}/actions``, with an HTTP cache.

    Parameters
    ----------
    endpoint : str, optional
        Base URL, e.g. ``https://drs.cn-south-2.myhuaweicloud.com`` or an emulator's ``emu.url``.
        With neither ``endpoint`` nor ``region``: ``$DRS_ENDPOINT`` / ``$DRS_REGION``.
        Scheme and host only (a reverse proxy's path prefix is kept): the client adds
        ``/v5/{project_id}/...``, so a path ending in ``/v5`` (or ``/v3``, ``/v5/...``) is
        a :class:`ConfigurationError`.
    region : str, optional
        Region ID (``eu-west-101`` uses its ``.eu`` domain). With ``endpoint`` too, the
        endpoint is used and the region only labels the data (and picks the IAM endpoint).
    project_id : str, optional
        The project (tenant in a region) whose jobs are read; default ``$DRS_PROJECT_ID``, else
        ``$HUAWEICLOUD_SDK_PROJECT_ID``.
    token : str, optional
        IAM token sent as ``X-Auth-Token``.
    ak, sk, security_token : str, optional
        AK/SK credentials (``security_token`` for temporary ones): every request is signed.
    username, password, domain : str, optional
        An IAM user's password credentials: a token is obtained from IAM and renewed.
    iam_endpoint : str, optional
        IAM base URL for password credentials; default ``$HUAWEICLOUD_SDK_IAM_ENDPOINT``,
        else the region's IAM endpoint.

        Pass one kind of credentials. With none, the environment is read:
        ``DRS_AUTH_TOKEN``, else ``HUAWEICLOUD_SDK_AK``/``HUAWEICLOUD_SDK_SK`` (and
        ``HUAWEICLOUD_SDK_SECURITY_TOKEN``). Secrets are never shown, logged or cached.
    cache : path, bool or None
        requests-cache SQLite file. None/True: ``http_cache.sqlite`` in the user cache
        directory; False: no cache.
    expire_after : float
        Seconds an answer stays fresh (default 300).
    timeout : float or (float, float)
        Connect and read timeouts in seconds.
    language : {"en-us", "zh-cn"}
        ``X-Language`` header (language of error messages).
    max_connections : int
        HTTP connection pool size; keep it at least the number of fetch workers.
    retry : RetrySettings, optional
        Retry policy for 429, 5xx and transport errors.
    pacing : PacingSettings, optional
        Request rate limit and adaptive slow-down on 429s (cache hits are never paced).
    stale_if_error : bool
        When the API still fails after the retries (5xx, 429, no connection, malformed
        body), use an expired cached answer if there is one; its rows get ``stale=True``.
    offline : bool
        Send nothing: serve what the cache holds (expired answers too, ``stale=True``);
        a job that is not cached is a :class:`NotCachedError` error record.
    ca_bundle : str or os.PathLike, optional
        CA bundle file (or directory of CA certificates) for TLS verification, of the
        API and of IAM (default: certifi's, or ``$REQUESTS_CA_BUNDLE``/``$CURL_CA_BUNDLE``).
        A path that does not exist, given or from those variables, is a
        :class:`ConfigurationError` when the client is made. Verification cannot be
        turned off: ``ca_bundle=False`` is refused.
    session : requests.Session, optional
        Use this session as is (tests, custom transports); ``cache`` is then ignored.

    Examples
    --------
    >>> from drs_analytics.emulator import Emulator
    >>> with Emulator(jobs=3, seed=1) as emu, DRSClient(
    ...     endpoint=emu.url, project_id=emu.project_id, token=emu.token, cache=False
    ... ) as client:
    ...     actions = client.get_actions(emu.job_ids[0])
    >>> actions.job_id == emu.job_ids[0]
    True
    """

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        region: str | None = None,
        project_id: str | None = None,
        token: str | None = None,
        ak: str | None = None,
        sk: str | None = None,
        security_token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        domain: str | None = None,
        iam_endpoint: str | None = None,
        cache: str | Path | bool | None = None,
        expire_after: float = DEFAULT_EXPIRE_AFTER,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        language: str = DEFAULT_LANGUAGE,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        retry: RetrySettings | None = None,
        pacing: PacingSettings | None = None,
        stale_if_error: bool = False,
        offline: bool = False,
        ca_bundle: str | os.PathLike | None = None,
        session: requests.Session | None = None,
    ) -> None:
        verify = _verify(ca_bundle, session)
        what = "endpoint"
        if endpoint is None and region is None:
            endpoint = os.environ.get(ENDPOINT_ENV, "").strip() or None
            region = os.environ.get(REGION_ENV, "").strip() or None
            what = f"endpoint (${ENDPOINT_ENV})"
        base = _endpoint(endpoint, region, what)
        _check_no_api_path(base, what)
        self.settings = ClientSettings(
            endpoint=base,
            project_id=_project(project_id),
            cache_path=None if session is not None else _cache_path(cache),
            expire_after=expire_after,
            timeout=timeout,
            language=language,
            max_connections=max_connections,
            retry=retry or RetrySettings(),
            pacing=pacing or PacingSettings(),
            stale_if_error=stale_if_error,
            offline=offline,
            verify=verify,
        )
        if offline and self.settings.cache_path is None and session is None:
            raise ConfigurationError("offline=True needs a cache to read from (cache=False was given)")
        self.region = region
        self.pacer = Pacer(self.settings.pacing, max_pause=self.settings.retry.max_retry_after)
        iam_session = requests.Session()
        self._auth = make_auth(
            project_id=self.settings.project_id, token=token, ak=ak, sk=sk, security_token=security_token,
            username=username, password=password, domain=domain,
            iam_endpoint=lambda: _iam_endpoint(iam_endpoint, region),
            # IAM calls are rare: requests reads proxy and CA-bundle variables for their own URL
            iam_session=iam_session, timeout=self.settings.timeout,
            send_kwargs=None if verify is True else {"verify": verify},  # IAM trusts the same CA
        )
        if not isinstance(self._auth, PasswordAuth):
            iam_session.close()
        self.session = session or make_session(
            cache_path=self.settings.cache_path,
            expire_after=self.settings.expire_after,
            identity=self._auth.identity,
            max_connections=self.settings.max_connections,
            pacer=self.pacer,
        )
        self._headers = {"Content-Type": "application/json", "X-Language": self.settings.language}
        self._send_kwargs = {} if session is not None else _environment_settings(self.session, self.endpoint)
        if self.settings.verify is not True:
            self._send_kwargs["verify"] = self.settings.verify
        self._rand = random.Random()
        self._rand_lock = threading.Lock()
        self._keys: dict[str, str] = {}

    # -- properties -------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return self.settings.endpoint

    @property
    def project_id(self) -> str:
        return self.settings.project_id

    @property
    def cache(self) -> Any:
        """The requests-cache backend, or None when caching is off."""
        return getattr(self.session, "cache", None)

    @property
    def identity(self) -> str:
        """One-way hash of the credential (what keys the cache); safe to show."""
        return self._auth.identity

    @property
    def auth_kind(self) -> str:
        """``"token"``, ``"aksk"`` or ``"password"``."""
        return self._auth.kind

    # -- requests ----------------------------------------------------------------------------
    def actions_path(self, job_id: str) -> str:
        """``/v5/{project_id}/jobs/{job_id}/actions`` for a checked ``job_id``."""
        return f"/v5/{self.project_id}/jobs/{check_id(job_id)}/actions"

    def get_actions(self, job_id: str, *, refresh: bool = False) -> JobActions:
        """Fetch (or read from the cache) the actions of one job.

        Parameters
        ----------
        job_id : str
            The job's ID (checked before anything is sent).
        refresh : bool
            Ask the API even when a fresh answer is cached (and cache the new one).

        Returns
        -------
        JobActions
            Available, unavailable and current action, when and how it was fetched.

        Raises
        ------
        InvalidIDError
            ``job_id`` is not a safe ID (raised before any request).
        RequestError
            After the retries: an :class:`APIError` subclass for an error status,
            :class:`TransportError`, or :class:`MalformedResponseError`. Its
            ``attempts`` attribute says how many requests were made.
        """
        path = self.actions_path(job_id)
        (available, unavailable, current), response, attempts = self.call(path, parse=self._parse, refresh=refresh)
        return JobActions(
            job_id=job_id,
            available=available,
            unavailable=unavailable,
            current_action=current,
            fetched_at=response_time(response),
            from_cache=bool(getattr(response, "from_cache", False)),
            request_id=response.headers.get("X-Request-Id"),
            attempts=attempts,
            stale=is_stale(response),
        )

    def call(
        self,
        path: str,
        query: Sequence[tuple[str, Any]] = (),
        *,
        parse: Callable[[Any, str], T],
        refresh: bool = False,
    ) -> tuple[T, Any, int]:
        """GET ``path?query`` with the retry policy; return (parsed body, response, attempts).

        Parameters
        ----------
        path : str
            URL path below the endpoint, e.g. ``/v5/{project_id}/jobs`` (IDs already checked).
        query : sequence of (name, value)
            Query parameters, sent in canonical (sorted, percent-encoded) order.
        parse : callable
            ``parse(response, what)``, see below.
        refresh : bool
            Ask the API even when a fresh answer is cached.

        ``parse(response, what)`` turns a 2xx response into a value or raises
        :class:`MalformedResponseError` (retried like a truncated transfer). Password
        credentials get one new token when the API answers 401. Offline, the cache is
        read instead; with ``stale_if_error``, an expired cached answer replaces a final
        transient failure (see :func:`is_stale`).
        """
        self.check_open()
        url = self.endpoint + path + (f"?{canonical_query(query)}" if query else "")
        what = f"GET {self.endpoint}{path}"  # the host too: the path alone cannot tell a wrong endpoint
        if self.settings.offline:
            return self._offline(url, what, parse)
        if not refresh:
            hit = self._fresh_hit(url, what, parse)
            if hit is not None:
                return hit
        attempt, renewed = 0, False
        while True:
            attempt += 1
            check_cancelled("this job was done")
            try:
                response = self._send(url, what, refresh)
                return parse(response, what), response, attempt
            except AuthenticationError as exc:
                # the generation of the token this request carried (None: IAM itself refused)
                generation = getattr(self._auth, "sent_generation", None)
                if renewed or generation is None or exc.status_code != 401:
                    exc.attempts = attempt
                    raise
                renewed = True
                self._auth.renew(generation)
                logger.info("token refused (%s); getting a new one", exc.error_code)
            except _RETRYABLE as exc:
                if attempt >= self.settings.retry.attempts:
                    exc.attempts = attempt
                    stale = self._stale(url, what, parse, exc) if self.settings.stale_if_error else None
                    if stale is None:
                        raise
                    return (*stale, attempt)
                self._wait(attempt, exc)
            except RequestError as exc:
                exc.attempts = attempt
                raise

    @staticmethod
    def _parse(response: Any, what: str) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
        try:
            return parsed_actions(response)
        except MalformedResponseError as exc:
            raise MalformedResponseError(
                f"HTTP {response.status_code} from {what}: {exc}", status_code=response.status_code,
                error_msg=str(exc), request_id=response.headers.get("X-Request-Id"),
            ) from None

    def _send(self, url: str, what: str, refresh: bool = False) -> Any:
        """One GET; returns a 2xx response or raises a RequestError."""
        extra = {"force_refresh": True} if refresh and self.cache is not None else {}
        try:
            response = self.session.get(
                url, headers=self._headers, auth=self._auth, timeout=self.settings.timeout, allow_redirects=False,
                **self._send_kwargs, **extra,
            )
        except requests.Timeout as exc:
            raise TransportError(f"timed out on {what}{self._via_proxy(url)} ({type(exc).__name__})") from None
        except requests.RequestException as exc:
            raise TransportError(f"no answer to {what}{self._via_proxy(url)}: {_reason(exc)}") from None
        if response.status_code >= 300:
            raise api_error(response, what)
        return response

    def _via_proxy(self, url: str) -> str:
        """`` via proxy scheme://host:port`` when a proxy serves ``url``, else ``""``.

        Tells a broken proxy from a wrong endpoint. Only the proxy's scheme, host and port
        are shown: its URL may hold a user name and password, which never are.
        """
        try:
            proxies = dict(getattr(self.session, "proxies", None) or {})
            if "proxies" in self._send_kwargs:  # resolved from the environment when the client was made
                proxies.update(self._send_kwargs["proxies"] or {})
            elif getattr(self.session, "trust_env", False):  # a given session: requests reads them per request
                for key, value in requests.utils.get_environ_proxies(url).items():
                    proxies.setdefault(key, value)
            proxy = requests.utils.select_proxy(url, proxies)
        except Exception:  # a message helper must never fail the request's own error
            return ""
        return f" via proxy {url_origin(proxy)}" if proxy else ""

    def _wait(self, attempt: int, exc: RequestError) -> None:
        with self._rand_lock:
            rand = self._rand.random()
        delay = self.settings.retry.delay(attempt, rand, getattr(exc, "retry_after", None))
        logger.debug("attempt %d failed (%s); retrying in %.2f s", attempt, type(exc).__name__, delay)
        event = current_event()
        if event is None:
            time.sleep(delay)
        elif event.wait(delay):
            raise FetchCancelled(f"cancelled while waiting to retry ({exc})")

    # -- cache inspection and control --------------------------------------------------------
    def _require_cache(self) -> Any:
        if self.cache is None:
            raise ConfigurationError("this client has no cache (cache=False)")
        return self.cache

    def cache_info(self) -> dict[str, Any]:
        """Counts of the cache file: ``entries``, ``mine`` (this credential's), ``fresh``,
        ``expired``, ``bytes``, ``next_expiry``/``last_expiry`` and ``path``."""
        from .cache_admin import cache_info

        return cache_info(self._require_cache(), self.identity, self.settings.cache_path)

    def cache_entries(self) -> Any:
        """A DataFrame of the cached answers (decoded), oldest first: kind, job, age, expiry..."""
        from .cache_admin import cache_entries

        return cache_entries(self._require_cache(), self.identity)

    def clear_cache(self, *, expired_only: bool = False, job_ids: Any = None, everyone: bool = False) -> int:
        """Delete cached answers of this credential (``everyone=True``: of all credentials).

        Parameters
        ----------
        expired_only : bool
            Keep the fresh answers.
        job_ids : iterable of str, optional
            Only these jobs' ``/actions`` answers.
        everyone : bool
            Every credential's answers in the cache file, not only this one's.

        Returns
        -------
        int
            How many answers were deleted.
        """
        from .cache_admin import clear_cache

        return clear_cache(self._require_cache(), self.identity, expired_only=expired_only,
                           job_ids=job_ids, everyone=everyone)

    # -- the cache, read directly ------------------------------------------------------------
    def cached_response(self, url: str) -> Any:
        """The cached answer of ``GET url`` for this credential, fresh or expired, or None."""
        cache = self.cache
        if cache is None:
            return None
        key = self._keys.get(url)
        if key is None:  # the key depends only on the URL, X-Language and the credential: memoised
            request = requests.Request("GET", url, headers=self._headers).prepare()
            key = self._keys[url] = cache.create_key(request, verify=self._send_kwargs.get("verify", True))
        return cache.get_response(key)

    def _fresh_hit(self, url: str, what: str, parse: Callable[[Any, str], T]) -> tuple[T, Any, int] | None:
        """A fresh cached answer read straight from the cache, or None.

        The same lookup requests-cache makes, without preparing, signing and sending a
        request through its session (about 1 ms of Python per call): a warm fleet fetch
        is bound by SQLite and unpickling instead. Anything else (missing, expired,
        unreadable) takes the normal path, which revalidates and writes the cache.
        """
        try:
            response = self.cached_response(url)
        except Exception:  # a cache problem must never cost more than the fast path
            logger.debug("cache read failed for %s", what, exc_info=True)
            return None
        if response is None or response.is_expired or response.status_code != 200:
            return None
        try:
            return parse(response, what), response, 1
        except RequestError:
            return None

    def _offline(self, url: str, what: str, parse: Callable[[Any, str], T]) -> tuple[T, Any, int]:
        response = self.cached_response(url)
        if response is None:
            raise NotCachedError(f"not in the cache (offline): {what}", attempts=0)
        mark_stale(response, bool(getattr(response, "is_expired", False)))
        return parse(response, what), response, 0

    def _stale(self, url: str, what: str, parse: Callable[[Any, str], T], exc: RequestError) -> tuple[T, Any] | None:
        response = self.cached_response(url)
        if response is None:
            return None
        try:
            parsed = parse(response, what)
        except RequestError:
            return None
        mark_stale(response, True)
        logger.info("%s failed (%s); using the cached answer of %s", what, type(exc).__name__,
                    getattr(response, "created_at", "?"))
        return parsed, response

    def list_jobs(
        self,
        job_type: str | Sequence[str] | None = None,
        *,
        page_size: int = 1000,
        **filters: Any,
    ) -> Any:
        """Every job of the given types, as a DataFrame of job metadata.

        Pages through ``GET /v5/{project_id}/jobs`` until an empty page, a short page
        that ``total_count`` does not contradict, or the documented ``total_count``
        when every page agreed on it (see :mod:`drs_analytics.listing`). Children are
        rows of their own, with ``parent_id`` and ``job_role``.

        Parameters
        ----------
        job_type : str or list, optional
            ``"sync"``, ``"sync,migration"`` or a list; default every documented type
            (the API needs one per request, so each type is a scan of its own).
        page_size : int
            ``limit`` per request (the API's maximum is undocumented; 1000 is assumed).
        **filters
            ``status`` (str or list), ``name`` (up to 10 IDs or name parts),
            ``engine_type``, ``net_type``, ``enterprise_project_id``, ``sort_key``,
            ``sort_dir``, ``instance_ip``. Filters select parent (top-level) jobs:
            a matching parent brings all its children, whatever their ``status``
            (so ``status="PAUSING"`` can return children in other statuses; filter
            the ``status`` column to keep only those), and a child matching under a
            parent that does not is not returned.

        Returns
        -------
        DataFrame
            Columns :data:`~drs_analytics.listing.JOB_LIST_COLUMNS`.
        """
        from .listing import list_jobs

        return list_jobs(self, job_type, page_size=page_size, **filters)

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (a closed client sends nothing)."""
        return getattr(self, "_closed", False)

    def check_open(self) -> None:
        """Raise :class:`ConfigurationError` if the client was closed."""
        if self.closed:
            raise ConfigurationError("this DRSClient is closed (it left its with-block?); make a new one")

    def close(self) -> None:
        """Close the HTTP session and its cache connection."""
        self._closed = True
        self.session.close()
        iam = getattr(self._auth, "_session", None)
        if iam is not None:
            iam.close()

    def __enter__(self) -> DRSClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        cache = self.settings.cache_path or "off"
        return (f"DRSClient(endpoint={self.endpoint!r}, project_id={self.project_id!r}, cache={str(cache)!r}, "
                f"auth={self.auth_kind})")


_STALE_ATTR = "_drs_stale"


def mark_stale(response: Any, stale: bool) -> None:
    """Flag a cached response used past its expiry (or offline)."""
    setattr(response, _STALE_ATTR, stale)


def is_stale(response: Any) -> bool:
    """Whether ``response`` is an expired cached answer standing in for a failed request."""
    return bool(getattr(response, _STALE_ATTR, False))


def _environment_settings(session: requests.Session, endpoint: str) -> dict[str, Any]:
    """Proxy and CA-bundle settings from the environment, read once instead of per request.

    requests re-reads ``*_PROXY``/``NO_PROXY`` and ``REQUESTS_CA_BUNDLE`` on every call
    (about 1 ms each); resolving them at construction keeps them honoured at a fraction
    of the cost.
    """
    if not session.trust_env:
        return {}
    settings = session.merge_environment_settings(endpoint, {}, None, None, None)
    session.trust_env = False
    return {"proxies": settings["proxies"], "verify": settings["verify"]}


def _reason(exc: requests.RequestException) -> str:
    """A short cause for a transport failure, without URLs that could carry secrets."""
    text = str(exc)
    for marker in ("Connection refused", "Connection reset", "Name or service not known",
                   "Temporary failure in name resolution", "Remote end closed connection",
                   "RemoteDisconnected", "certificate verify failed"):
        if marker in text:
            return marker.lower() if marker != "RemoteDisconnected" else "remote end closed connection"
    return type(exc).__name__
