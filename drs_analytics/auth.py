"""Credentials for DRS requests.

:class:`TokenAuth` sends an IAM token as ``X-Auth-Token``. The token is held in one
place, shown nowhere (repr, str, logs and exceptions print ``***``), and never
written to the cache: requests-cache redacts the header from stored requests,
and the cache key mixes in :attr:`TokenAuth.identity`, a one-way hash, so two
tokens sharing a cache file never read each other's answers.
"""

from __future__ import annotations

import hashlib
import os

import requests

from .exceptions import ConfigurationError

__all__ = ["TOKEN_ENV", "TokenAuth", "token_from_env"]

#: Environment variable read when no token is given.
TOKEN_ENV = "DRS_AUTH_TOKEN"


class TokenAuth(requests.auth.AuthBase):
    """Send an IAM user token in the ``X-Auth-Token`` header."""

    header = "X-Auth-Token"

    def __init__(self, token: str) -> None:
        if not isinstance(token, str) or not token.strip():
            raise ConfigurationError("the auth token is empty; pass token= or set " + TOKEN_ENV)
        if not all(33 <= ord(c) <= 126 for c in token):
            raise ConfigurationError("the auth token must be printable ASCII without spaces (is it the right value?)")
        self._token = token

    @property
    def identity(self) -> str:
        """A one-way hash of the credential, safe to store: it keys the cache."""
        return hashlib.sha256(b"drs-analytics/token\0" + self._token.encode()).hexdigest()[:32]

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers[self.header] = self._token
        return request

    def __repr__(self) -> str:
        return "TokenAuth(token='***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenAuth) and other._token == self._token

    __hash__ = None  # type: ignore[assignment]


def token_from_env() -> str:
    """Return ``$DRS_AUTH_TOKEN`` or raise :class:`ConfigurationError` saying how to set it."""
    token = os.environ.get(TOKEN_ENV, "")
    if not token.strip():
        raise ConfigurationError(f"no auth token: pass token= or set the {TOKEN_ENV} environment variable")
    return token
