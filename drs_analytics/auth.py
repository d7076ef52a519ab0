"""Credentials for DRS requests: an IAM token, AK/SK signing, or an IAM user's password.

Three ``requests`` auth objects, chosen by :func:`make_auth`:

* :class:`TokenAuth` sends an IAM token as ``X-Auth-Token``;
* :class:`AkSkAuth` signs every request (``SDK-HMAC-SHA256``, :mod:`drs_analytics.signing`)
  with a fresh ``X-Sdk-Date``, so a retry is never sent with an expired signature;
* :class:`PasswordAuth` gets a token from IAM (``POST /v3/auth/tokens``), reuses it until
  shortly before ``expires_at``, and gets a new one once when the API answers 401.

Secrets are held in one place each and shown nowhere: reprs print ``***``, no log line
or exception message quotes them, and the cache never stores them (the headers that
carry them are redacted from stored requests and kept out of cache keys). What keys
the cache is :attr:`identity`, a one-way hash of the credential, so two credentials
sharing a cache file never read each other's answers. For a password (which may be
guessable) it is a salted scrypt, so a cache file is no shortcut to testing guesses.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from .cancellation import check_cancelled
from .exceptions import (
    AuthenticationError,
    ConfigurationError,
    NoCredentialsError,
    ServerError,
    ThrottledError,
    TransportError,
)
from .regions import check_no_userinfo
from .signing import DATE_HEADER, sdk_date, sign

__all__ = [
    "AK_ENV",
    "DOMAIN_ENV",
    "PASSWORD_ENV",
    "USERNAME_ENV",
    "PROJECT_ENV",
    "SECURITY_TOKEN_ENV",
    "SK_ENV",
    "TOKEN_ENV",
    "AkSkAuth",
    "PasswordAuth",
    "TokenAuth",
    "make_auth",
    "password_identity",
    "token_from_env",
]

logger = logging.getLogger(__name__)

#: Environment variable read when no credential is given (checked first).
TOKEN_ENV = "DRS_AUTH_TOKEN"
#: The official SDK's variables for AK/SK credentials and the project.
AK_ENV, SK_ENV = "HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK"
SECURITY_TOKEN_ENV = "HUAWEICLOUD_SDK_SECURITY_TOKEN"
PROJECT_ENV = "HUAWEICLOUD_SDK_PROJECT_ID"
#: The official SDK's IAM endpoint override.
IAM_ENDPOINT_ENV = "HUAWEICLOUD_SDK_IAM_ENDPOINT"
#: An IAM user's password credentials (read last).
USERNAME_ENV, PASSWORD_ENV, DOMAIN_ENV = "DRS_IAM_USERNAME", "DRS_IAM_PASSWORD", "DRS_IAM_DOMAIN"

#: Headers AK/SK signatures cover (when present): what identifies the request and the caller.
SIGNED_HEADERS = ("Content-Type", "Host", "X-Language", "X-Project-Id", DATE_HEADER, "X-Security-Token")


def _hash(kind: str, *parts: str) -> str:
    data = "\0".join((f"drs-analytics/{kind}", *parts)).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:32]


#: scrypt cost of the password identity: a guess costs about 16 MiB and tens of milliseconds.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_DKLEN = 2**14, 8, 1, 16


def password_identity(password: str, *, domain: str, username: str) -> str:
    """The cache identity of password credentials: scrypt of the password, salted by the account.

    The salt is the domain and user name (``drs-analytics/password`` and the two,
    NUL-separated): stable across runs for one account, so cached answers survive
    restarts, yet different for two users sharing a password. scrypt makes testing
    guessed passwords against a cache file slow, which a plain hash would not. The IAM
    endpoint is left out, so ``drs-analytics cache`` finds a user's answers however the
    fetch reached IAM (``--region``, ``--iam-endpoint``, a target's ``iam_endpoint``).

    Parameters
    ----------
    password : str
        The IAM user's password.
    domain, username : str
        The account (domain) and user names.

    Returns
    -------
    str
        32 hex digits (scrypt ``n=2**14, r=8, p=1``, 16 bytes).
    """
    salt = "\0".join(("drs-analytics/password", domain, username)).encode("utf-8")
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                          maxmem=64 * 1024 * 1024, dklen=SCRYPT_DKLEN).hex()


def _printable(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"the {what} is empty")
    if not all(33 <= ord(c) <= 126 for c in value):
        raise ConfigurationError(f"the {what} must be printable ASCII without spaces (is it the right value?)")
    return value


class _Secret(requests.auth.AuthBase):
    """Common parts: no secret in repr/str, no equality by secret, no pickling of secrets."""

    kind = "secret"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(***)"

    __str__ = __repr__
    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self):
        raise TypeError(f"{type(self).__name__} holds credentials and is not picklable")


class TokenAuth(_Secret):
    """Send an IAM user token in the ``X-Auth-Token`` header.

    Parameters
    ----------
    token : str
        The IAM token (printable ASCII, no spaces).
    """

    kind = "token"
    header = "X-Auth-Token"

    def __init__(self, token: str) -> None:
        if not isinstance(token, str) or not token.strip():
            raise ConfigurationError("the auth token is empty; pass token= or set " + TOKEN_ENV)
        self._token = _printable(token, "auth token")

    @property
    def identity(self) -> str:
        """A one-way hash of the credential, safe to store: it keys the cache."""
        return _hash("token", self._token)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers[self.header] = self._token
        return request

    def __repr__(self) -> str:
        return "TokenAuth(token='***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenAuth) and other._token == self._token


class AkSkAuth(_Secret):
    """Sign each request with an access key / secret key pair (``SDK-HMAC-SHA256``).

    Adds ``X-Sdk-Date`` (now), ``Host``, ``X-Project-Id`` and, for temporary credentials,
    ``X-Security-Token``, then ``Authorization`` over :data:`SIGNED_HEADERS`, the path,
    the query and the body. A new date and signature are made for every attempt.

    Parameters
    ----------
    ak, sk : str
        Access key and secret key.
    project_id : str
        Sent as ``X-Project-Id``.
    security_token : str, optional
        For temporary credentials: sent (and signed) as ``X-Security-Token``.
    """

    kind = "aksk"

    def __init__(self, ak: str, sk: str, *, project_id: str, security_token: str | None = None) -> None:
        self.ak = _printable(ak, "access key (AK)")
        self._sk = _printable(sk, "secret key (SK)")
        self.project_id = project_id
        self._security_token = None if security_token is None else _printable(security_token, "security token")

    @property
    def identity(self) -> str:
        """A one-way hash of AK and SK (so a wrong SK never reads the right one's cache)."""
        return _hash("aksk", self.ak, self._sk)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        parts = urlsplit(request.url)
        request.headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
        request.headers[DATE_HEADER] = sdk_date()
        request.headers["X-Project-Id"] = self.project_id
        if self._security_token is not None:
            request.headers["X-Security-Token"] = self._security_token
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        signed = {name: request.headers[name] for name in SIGNED_HEADERS if name in request.headers}
        query = parse_qsl(parts.query, keep_blank_values=True)
        request.headers["Authorization"] = sign(
            request.method or "GET", parts.path or "/", query, signed, body, ak=self.ak, sk=self._sk
        )
        # the request pacer signs again after it made the request wait (a signature
        # dated before a long wait could outlive the gateway's 15 minutes)
        request.drs_resign = self
        return request

    def __repr__(self) -> str:
        return "AkSkAuth(ak='***', sk='***')"

    __str__ = __repr__


class PasswordAuth(_Secret):
    """Get an IAM token with a user's password, keep it until shortly before it expires.

    IAM's refusal of the credentials (a 4xx) is remembered and raised again without
    asking IAM, which locks users after a few wrong passwords; its 5xx and 429 answers
    are :class:`ServerError`/:class:`ThrottledError`, retried like the API's.

    Parameters
    ----------
    username, password, domain : str
        The IAM user, its password, and the account (domain) name it belongs to.
    project_id : str
        Scope of the token.
    iam_endpoint : str
        IAM base URL, e.g. ``https://iam.cn-south-2.myhuaweicloud.com``.
    session : requests.Session
        Session for IAM calls (never a cached one).
    timeout : (float, float)
        Connect and read timeouts.
    send_kwargs : mapping
        Proxy and TLS settings for IAM calls.
    """

    kind = "password"
    header = "X-Auth-Token"
    #: A token is renewed when less than this many seconds of validity remain
    #: (at most a quarter of its whole validity).
    refresh_margin = 300.0

    def __init__(
        self,
        *,
        username: str,
        password: str,
        domain: str,
        project_id: str,
        iam_endpoint: str,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        send_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        for value, what in ((username, "IAM user name"), (domain, "IAM domain (account) name")):
            if not isinstance(value, str) or not value.strip():
                raise ConfigurationError(f"the {what} is empty")
        if not isinstance(password, str) or not password:
            raise ConfigurationError("the IAM password is empty")
        self.username, self.domain, self.project_id = username, domain, project_id
        self._password = password
        check_no_userinfo(iam_endpoint, "IAM endpoint")
        self.iam_endpoint = iam_endpoint.rstrip("/")
        self._session = session or requests.Session()
        self._timeout = timeout
        self._send_kwargs = dict(send_kwargs or {})
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0
        self.expires_at: datetime | None = None
        #: Tokens obtained so far (a new one on expiry or after a 401).
        self.issued = 0
        #: IAM's definitive refusal (wrong password, user or project): never asked again.
        self._refused: AuthenticationError | None = None
        self._sent = threading.local()
        self._identity: str | None = None

    @property
    def identity(self) -> str:
        """A slow one-way hash (scrypt) of the password, salted with domain and user
        (:func:`password_identity`): stable across token renewals and restarts."""
        if self._identity is None:
            self._identity = password_identity(self._password, domain=self.domain, username=self.username)
        return self._identity

    @property
    def sent_generation(self) -> int | None:
        """The generation (``issued`` count) of the token this thread last sent, for :meth:`renew`;
        None if getting it failed."""
        return getattr(self._sent, "generation", None)

    def token(self) -> str:
        """The current token, obtaining a new one first if it is missing or about to expire."""
        return self._current()[0]

    def _current(self) -> tuple[str, int]:
        with self._lock:
            if self._refused is not None:
                # IAM locks users after a few wrong passwords: a refused one is not sent again
                refused = self._refused
                raise AuthenticationError(str(refused), status_code=refused.status_code,
                                          error_msg=refused.error_msg, request_id=refused.request_id)
            if self._token is None or time.time() >= self._renew_at:
                check_cancelled("a token was requested")  # a worker queued here while the fetch was interrupted
                self._obtain()
            return self._token, self.issued  # type: ignore[return-value]

    def renew(self, generation: int) -> None:
        """Forget the token of ``generation`` (the API refused it); concurrent callers renew once."""
        with self._lock:
            if generation == self.issued:
                self._token = None

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        self._sent.generation = None
        token, self._sent.generation = self._current()
        request.headers[self.header] = token
        return request

    def _obtain(self) -> None:
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {"name": self.username, "password": self._password, "domain": {"name": self.domain}}
                    },
                },
                "scope": {"project": {"id": self.project_id}},
            }
        }
        url = f"{self.iam_endpoint}/v3/auth/tokens"
        what = f"IAM POST {self.iam_endpoint}/v3/auth/tokens (user {self.username!r}, domain {self.domain!r})"
        try:
            response = self._session.post(
                url, json=body, timeout=self._timeout, allow_redirects=False, **self._send_kwargs
            )
        except requests.RequestException as exc:
            raise TransportError(f"no answer from {what}: {type(exc).__name__}") from None
        if response.status_code != 201 or not response.headers.get("X-Subject-Token"):
            status = response.status_code
            cls = ServerError if status >= 500 else ThrottledError if status == 429 else AuthenticationError
            exc = cls(f"HTTP {status} from {what}: {_iam_message(response)}", status_code=status,
                      error_msg=_iam_message(response), request_id=response.headers.get("X-Request-Id"))
            if cls is AuthenticationError and 400 <= status < 500 and status != 408:
                self._refused = exc
            raise exc
        token = response.headers["X-Subject-Token"]
        expires = _expires_at(response)
        now = time.time()
        lifetime = max(0.0, expires.timestamp() - now)
        self._token, self.expires_at = token, expires
        self._renew_at = now + lifetime - min(self.refresh_margin, lifetime / 4)
        self.issued += 1
        logger.debug("IAM token obtained for %r, expires at %s", self.username, expires.isoformat())

    def __repr__(self) -> str:
        return f"PasswordAuth(username={self.username!r}, domain={self.domain!r}, password='***')"

    __str__ = __repr__


def _iam_message(response: Any) -> str:
    """IAM's error message (several body shapes), never the request."""
    try:
        body = response.json()
    except ValueError:
        return (response.reason or "no body")[:200]
    if isinstance(body, dict):
        error = body.get("error") if isinstance(body.get("error"), dict) else body
        for key in ("message", "error_msg", "errorMsg"):
            if isinstance(error.get(key), str):
                return error[key][:200]
    return "unexpected body"


def _expires_at(response: Any) -> datetime:
    """``token.expires_at`` of an IAM answer; 24 hours from now if missing or unreadable."""
    try:
        text = response.json()["token"]["expires_at"]
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
    except (ValueError, KeyError, TypeError, AttributeError):
        logger.warning("IAM answer without a readable expires_at; assuming 24 hours")
        return datetime.fromtimestamp(time.time() + 86400, timezone.utc)


def token_from_env() -> str:
    """Return ``$DRS_AUTH_TOKEN`` or raise :class:`ConfigurationError` saying how to set it."""
    token = os.environ.get(TOKEN_ENV, "")
    if not token.strip():
        raise ConfigurationError(f"no auth token: pass token= or set the {TOKEN_ENV} environment variable")
    return token


def make_auth(
    *,
    project_id: str,
    token: str | None = None,
    ak: str | None = None,
    sk: str | None = None,
    security_token: str | None = None,
    username: str | None = None,
    password: str | None = None,
    domain: str | None = None,
    iam_endpoint: str | Callable[[], str | None] | None = None,
    iam_session: requests.Session | None = None,
    timeout: tuple[float, float] = (5.0, 30.0),
    send_kwargs: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> TokenAuth | AkSkAuth | PasswordAuth:
    """Pick the credential: explicit arguments first (one kind only), else the environment.

    Environment, in order: ``DRS_AUTH_TOKEN``; ``HUAWEICLOUD_SDK_AK`` + ``HUAWEICLOUD_SDK_SK``
    (+ ``HUAWEICLOUD_SDK_SECURITY_TOKEN``); ``DRS_IAM_USERNAME`` + ``DRS_IAM_PASSWORD`` +
    ``DRS_IAM_DOMAIN``. ``iam_endpoint`` may be a callable, called only for password
    credentials (so that an IAM setting no other credential uses cannot fail them).

    Parameters
    ----------
    project_id : str
        The project: ``X-Project-Id`` of AK/SK requests, the scope of password tokens.
    token : str, optional
        An IAM token (:class:`TokenAuth`).
    ak, sk, security_token : str, optional
        AK/SK credentials (:class:`AkSkAuth`); ``security_token`` for temporary ones.
    username, password, domain : str, optional
        An IAM user's password credentials (:class:`PasswordAuth`).
    iam_endpoint : str or callable, optional
        IAM base URL for password credentials, or a callable returning it.
    iam_session : requests.Session, optional
        Session for IAM calls.
    timeout : (float, float)
        Connect and read timeouts of IAM calls.
    send_kwargs : mapping, optional
        Proxy and TLS settings for IAM calls (e.g. ``{"verify": ca_bundle}``).
    environ : mapping, optional
        The environment to read (default ``os.environ``).

    Returns
    -------
    TokenAuth, AkSkAuth or PasswordAuth

    Raises
    ------
    ConfigurationError
        Two kinds given, a kind incomplete, no credentials at all, or no IAM endpoint
        for password credentials; the message names what is missing, never a secret.
    """
    env = os.environ if environ is None else environ
    kinds = [name for name, given in (
        ("token=", token is not None),
        ("ak=/sk=", ak is not None or sk is not None or security_token is not None),
        ("username=/password=", username is not None or password is not None or domain is not None),
    ) if given]
    if len(kinds) > 1:
        raise ConfigurationError(f"pass one kind of credentials, not {' and '.join(kinds)}")
    if token is not None:
        return TokenAuth(token)
    if kinds == ["ak=/sk="]:
        if ak is None or sk is None:
            raise ConfigurationError(f"AK/SK credentials need both ak= and sk= (missing {'ak' if ak is None else 'sk'}=)")
        return AkSkAuth(ak, sk, project_id=project_id, security_token=security_token)
    if not kinds and not env.get(TOKEN_ENV, "").strip() and not env.get(AK_ENV) and not env.get(SK_ENV) \
            and any(env.get(v) for v in (USERNAME_ENV, PASSWORD_ENV, DOMAIN_ENV)):
        missing_env = [v for v in (USERNAME_ENV, PASSWORD_ENV, DOMAIN_ENV) if not env.get(v)]
        if missing_env:
            raise ConfigurationError(f"password credentials from the environment need {', '.join(missing_env)} too")
        username, password, domain = env[USERNAME_ENV], env[PASSWORD_ENV], env[DOMAIN_ENV]
        kinds = ["username=/password="]
    if kinds:
        missing = [n for n, v in (("username", username), ("password", password), ("domain", domain)) if v is None]
        if missing:
            raise ConfigurationError(f"password credentials need username=, password= and domain= (missing {', '.join(missing)}=)")
        if callable(iam_endpoint):
            iam_endpoint = iam_endpoint()
        if not iam_endpoint:
            raise ConfigurationError(
                f"password credentials need an IAM endpoint: pass region= or iam_endpoint=, or set {IAM_ENDPOINT_ENV}"
            )
        return PasswordAuth(username=username, password=password, domain=domain, project_id=project_id,
                            iam_endpoint=iam_endpoint, session=iam_session, timeout=timeout, send_kwargs=send_kwargs)
    if env.get(TOKEN_ENV, "").strip():
        return TokenAuth(env[TOKEN_ENV])
    if env.get(AK_ENV, "").strip() or env.get(SK_ENV, "").strip():
        if not env.get(AK_ENV, "").strip() or not env.get(SK_ENV, "").strip():
            raise ConfigurationError(f"set both {AK_ENV} and {SK_ENV} (only one is set)")
        return AkSkAuth(env[AK_ENV], env[SK_ENV], project_id=project_id,
                        security_token=env.get(SECURITY_TOKEN_ENV) or None)
    raise NoCredentialsError(
        f"no credentials: pass token=, ak=/sk= or username=/password=/domain=, "
        f"or set {TOKEN_ENV}, or {AK_ENV} and {SK_ENV}, or {USERNAME_ENV}, {PASSWORD_ENV} and {DOMAIN_ENV}"
    )
