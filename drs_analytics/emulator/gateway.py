"""The API gateway's authentication: IAM tokens and AK/SK signatures (DOMAIN.md 4.3, 5).

:meth:`Gateway.authenticate` decides, for one request, which projects its
credentials own, or which 401 to answer:

* ``X-Auth-Token``: the emulator's fixed token (never expires) or a token
  issued by the emulated IAM (:meth:`Gateway.issue_token`), valid
  ``token_validity`` seconds by the gateway's clock.
* ``Authorization: SDK-HMAC-SHA256 ...``: verified the way the real gateway
  does it, by recomputing the signature over the request as received
  (:mod:`drs_analytics.signing`, the same code clients sign with).

Choices marked [I] are not documented: a request carrying both a token and an
``Authorization`` header is judged by its token; the signed headers must
include ``host`` and ``x-sdk-date``; a permanent AK/SK must not carry an
``X-Security-Token``; an AK/SK request without ``X-Project-Id`` is accepted
(its project is then the one in the path; when the header is sent it must equal
the path's project, signed or not); every AK/SK failure gets the one message
"verify aksk signature fail" (also an unknown AK, a stale date, a wrong
``X-Project-Id``); failed AK/SK attempts never lock the key (the real gateway
locks a key for 5 minutes after 5 failures [D], which would make tests
order-dependent).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import NamedTuple
from urllib.parse import parse_qsl

from drs_analytics.signing import (
    MAX_CLOCK_SKEW,
    canonical_request,
    parse_authorization,
    parse_sdk_date,
    sdk_date,
    signature,
)

from .identity import Identity

__all__ = [
    "APIGW_AKSK_FAIL",
    "APIGW_BAD_TOKEN",
    "APIGW_NO_TOKEN",
    "Gateway",
    "credential_key",
    "Verdict",
    "iso_utc",
    "token_expired",
]

logger = logging.getLogger(__name__)

_PREFIX = "Incorrect IAM authentication information: "
APIGW_NO_TOKEN = ("APIGW.0301", _PREFIX + "x-auth-token not found")
APIGW_BAD_TOKEN = ("APIGW.0301", _PREFIX + "decrypt token fail")
APIGW_AKSK_FAIL = ("APIGW.0301", _PREFIX + "verify aksk signature fail")


def credential_key(headers: Mapping[str, str]) -> str:
    """Who a request is, for per-user limits: a hash of its token, else the AK it signed with.

    ``headers`` have lower-case names. Never the secret itself (the key may be logged).
    """
    token = headers.get("x-auth-token", "").strip()
    if token:
        return "token:" + hashlib.sha256(token.encode()).hexdigest()[:16]
    try:
        return "ak:" + parse_authorization(headers.get("authorization", "")).ak
    except ValueError:
        return "anonymous"


def token_expired(expires_at: str) -> tuple[str, str]:
    """The APIGW error of an expired token (message variant from DOMAIN.md 4.3)."""
    return ("APIGW.0301", f"{_PREFIX}token expires, expires_at: {expires_at}")


def iso_utc(seconds: float) -> str:
    """IAM's timestamp format, e.g. ``2020-01-04T09:05:22.701000Z``."""
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Verdict(NamedTuple):
    """The gateway's answer: the projects the credentials own, or an APIGW error."""

    projects: frozenset[str]
    error: tuple[str, str] | None = None


class IssuedToken(NamedTuple):
    """A token issued by the emulated IAM."""

    token: str
    projects: frozenset[str]
    issued_at: float
    expires_at: float


class Gateway:
    """Authenticate requests for one :class:`~drs_analytics.emulator.identity.Identity`.

    Parameters
    ----------
    identity : Identity
        The accepted credentials.
    clock : callable
        Returns the gateway's time in seconds since the epoch (token expiry, date skew).
    """

    def __init__(self, identity: Identity, clock: Callable[[], float]) -> None:
        self.identity = identity
        self._clock = clock
        self._lock = threading.Lock()
        self._issued: dict[str, IssuedToken] = {}

    def issue_token(self, projects: frozenset[str]) -> IssuedToken:
        """Issue a new token for ``projects``, valid ``identity.token_validity`` seconds from now.

        Expired tokens are forgotten on the way (they then answer "decrypt token fail").
        """
        now = self._clock()
        issued = IssuedToken("MII" + secrets.token_urlsafe(48), projects, now, now + self.identity.token_validity)
        with self._lock:
            for old in [t for t, v in self._issued.items() if v.expires_at + MAX_CLOCK_SKEW < now]:
                del self._issued[old]
            self._issued[issued.token] = issued
        return issued

    def revoke_tokens(self) -> int:
        """Forget every issued token (as a password change does [D, DOMAIN.md 5.1]); return how many.

        They then answer 401 "decrypt token fail"; the fixed token is not affected.
        """
        with self._lock:
            count = len(self._issued)
            self._issued.clear()
        return count

    def authenticate(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes, project_id: str | None
    ) -> Verdict:
        """Judge one request's credentials.

        Parameters
        ----------
        method, path, query : str
            As received: the raw (still percent-encoded) path and query string.
        headers : mapping
            Lower-case names, values as text.
        body : bytes
            The request body.
        project_id : str or None
            The project in the path, checked against ``X-Project-Id``.
        """
        token = headers.get("x-auth-token", "").strip()
        if token:
            return self._check_token(token)
        if "authorization" in headers:
            if self._check_signature(method, path, query, headers, body, project_id):
                return Verdict(frozenset({self.identity.project_id}))
            logger.debug("AK/SK verification failed for %s %s", method, path)
            return Verdict(frozenset(), APIGW_AKSK_FAIL)
        return Verdict(frozenset(), APIGW_NO_TOKEN)

    def _check_token(self, token: str) -> Verdict:
        if hmac.compare_digest(token.encode(), self.identity.token.encode()):
            return Verdict(frozenset({self.identity.project_id}))
        with self._lock:
            issued = self._issued.get(token)
        if issued is None:
            return Verdict(frozenset(), APIGW_BAD_TOKEN)
        if self._clock() >= issued.expires_at:
            return Verdict(frozenset(), token_expired(iso_utc(issued.expires_at)))
        return Verdict(issued.projects)

    def _check_signature(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes, project_id: str | None
    ) -> bool:
        """Whether an ``SDK-HMAC-SHA256`` request is signed by our AK/SK, fresh, and consistent."""
        ident = self.identity
        try:
            auth = parse_authorization(headers["authorization"])
            when = parse_sdk_date(headers.get("x-sdk-date", "").strip())
        except ValueError:
            return False
        checks = (
            hmac.compare_digest(auth.ak.encode(), ident.ak.encode()),
            "host" in auth.signed_headers and "x-sdk-date" in auth.signed_headers,
            abs(when.timestamp() - self._clock()) <= MAX_CLOCK_SKEW,
            self._security_token_ok(headers.get("x-security-token")),
            project_id is None or headers.get("x-project-id", project_id).strip() == project_id,
        )
        if not all(checks):
            return False
        pairs = parse_qsl(query, keep_blank_values=True)
        canonical = canonical_request(method, path, pairs, headers, body, signed=auth.signed_headers)
        expected = signature(ident.sk, sdk_date(when), canonical)
        return hmac.compare_digest(expected, auth.signature)

    def _security_token_ok(self, sent: str | None) -> bool:
        expected = self.identity.security_token
        if expected is None:
            return sent is None
        return sent is not None and hmac.compare_digest(sent.strip().encode(), expected.encode())
