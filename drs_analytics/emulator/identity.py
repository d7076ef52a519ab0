"""Who the emulator's tenant is: project, region, token, AK/SK, IAM user.

:class:`Identity` holds every credential the emulator accepts, validated once.
Its ``repr`` shows no secret (token, SK, security token, password), so it can be
logged. Secrets default to random values, like :func:`random_ak` and
:func:`random_sk`, shaped as Huawei Cloud's (an AK is 20 upper-case letters or
digits, an SK 40 letters or digits [I, from the console's downloads]).
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_DOMAIN", "DEFAULT_REGION", "DEFAULT_USERNAME", "Identity", "random_ak", "random_sk"]

DEFAULT_REGION = "cn-south-2"  # one of the two v5 regions (DOMAIN.md 6)
DEFAULT_USERNAME = "drs-auditor"
DEFAULT_DOMAIN = "drs-demo"
#: Issued IAM tokens are valid 24 hours [D, DOMAIN.md 5.1].
DEFAULT_TOKEN_VALIDITY = 86400.0

_AK_ALPHABET = string.ascii_uppercase + string.digits
_SK_ALPHABET = string.ascii_letters + string.digits
_REGION_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")
_AK_RE = re.compile(r"^[A-Za-z0-9]+$")  # the Authorization header's Access= value has no ',' or space
_PRINTABLE_RE = re.compile(r"^[\x21-\x7e]+$")  # header-safe: visible ASCII, no spaces


def random_ak() -> str:
    """A random access key ID: 20 upper-case letters and digits."""
    return "".join(secrets.choice(_AK_ALPHABET) for _ in range(20))


def random_sk() -> str:
    """A random secret access key: 40 letters and digits."""
    return "".join(secrets.choice(_SK_ALPHABET) for _ in range(40))


def _derived_id(kind: str, name: str) -> str:
    """A stable 32-hex-character ID for a named thing (domain, user)."""
    return hashlib.sha256(f"drs-emulator-{kind}:{name}".encode()).hexdigest()[:32]


def _text(name: str, value: Any, pattern: re.Pattern[str] | None = None, what: str = "a non-empty string") -> None:
    if not isinstance(value, str) or not value or value != value.strip() or (pattern and not pattern.match(value)):
        raise ValueError(f"{name} must be {what}, got {'<hidden>' if name in _SECRETS else repr(value)}")


_SECRETS = frozenset({"sk", "password", "security_token", "token"})


@dataclass(frozen=True)
class Identity:
    """The tenant the emulator serves and every credential it accepts.

    Parameters
    ----------
    project_id : str
        The one project the credentials own.
    token : str
        The fixed ``X-Auth-Token`` (never expires).
    ak, sk : str, optional
        The AK/SK pair; random by default.
    security_token : str, optional
        Set for temporary AK/SK: requests must then carry it in ``X-Security-Token``.
    username, password, domain : str
        The IAM user (password random by default) and its account (domain) name.
    region : str
        Region ID, e.g. ``cn-south-2``; IAM also accepts it as the scope's project name.
    token_validity : float
        Seconds an IAM-issued token is valid.

    Raises
    ------
    ValueError
        If a value is malformed, naming it (never showing a secret).
    """

    project_id: str
    token: str = field(repr=False)
    ak: str = field(default_factory=random_ak)
    sk: str = field(default_factory=random_sk, repr=False)
    security_token: str | None = field(default=None, repr=False)
    username: str = DEFAULT_USERNAME
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18), repr=False)
    domain: str = DEFAULT_DOMAIN
    region: str = DEFAULT_REGION
    token_validity: float = DEFAULT_TOKEN_VALIDITY

    def __post_init__(self) -> None:
        _text("project_id", self.project_id)
        if "/" in self.project_id:
            raise ValueError(f"project_id must not contain '/', got {self.project_id!r}")
        if not isinstance(self.token, str) or not self.token.strip():
            raise ValueError("token must be a non-empty string")
        _text("ak", self.ak, _AK_RE, "a non-empty string of letters and digits")
        _text("sk", self.sk)
        if self.security_token is not None:
            _text("security_token", self.security_token, _PRINTABLE_RE, "None or visible ASCII characters")
        _text("username", self.username)
        _text("password", self.password)
        _text("domain", self.domain)
        _text("region", self.region, _REGION_RE, "a region ID such as 'cn-south-2'")
        validity = self.token_validity
        if isinstance(validity, bool) or not isinstance(validity, (int, float)) or not math.isfinite(validity):
            raise ValueError(f"token_validity must be a positive number of seconds, got {validity!r}")
        if validity <= 0:
            raise ValueError(f"token_validity must be a positive number of seconds, got {validity!r}")

    @property
    def domain_id(self) -> str:
        """The account (domain) ID, derived from its name."""
        return _derived_id("domain", self.domain)

    @property
    def user_id(self) -> str:
        """The IAM user ID, derived from the domain and user names."""
        return _derived_id("user", f"{self.domain}/{self.username}")
