"""Client settings in one object: :class:`ClientSettings`.

Defaults are module constants; the repr shows only what differs from them.
Secrets (tokens) are never settings: they live in the auth object.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs

__all__ = [
    "DEFAULT_CACHE_FILENAME",
    "DEFAULT_EXPIRE_AFTER",
    "DEFAULT_LANGUAGE",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_TIMEOUT",
    "LANGUAGES",
    "ClientSettings",
    "PacingSettings",
    "RetrySettings",
    "default_cache_path",
]

#: Seconds a cached answer stays fresh: availability changes as jobs move.
DEFAULT_EXPIRE_AFTER = 300.0
#: (connect, read) timeouts in seconds.
DEFAULT_TIMEOUT = (5.0, 30.0)
DEFAULT_LANGUAGE = "en-us"
LANGUAGES = ("en-us", "zh-cn")
#: Size of the HTTP connection pool (at least the number of fetch workers).
DEFAULT_MAX_CONNECTIONS = 32
DEFAULT_CACHE_FILENAME = "http_cache.sqlite"


def default_cache_path() -> Path:
    """The cache file in the user cache directory (``DRS_ANALYTICS_CACHE_DIR`` overrides it)."""
    root = os.environ.get("DRS_ANALYTICS_CACHE_DIR")
    if not root:
        from platformdirs import user_cache_dir

        root = user_cache_dir("drs-analytics")
    return Path(root) / DEFAULT_CACHE_FILENAME


def _check_timeout(instance, attribute, value) -> None:
    pair = value if isinstance(value, tuple) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, (int, float)) and v > 0 for v in pair):
        raise ValueError(f"timeout must be a positive number or a (connect, read) pair, got {value!r}")


def _to_timeout(value):
    if isinstance(value, list):
        value = tuple(value)
    return value if isinstance(value, tuple) else (value, value)


@attrs.define(frozen=True, repr=False)
class RetrySettings:
    """Bounded retries with exponential backoff and full jitter.

    Retried: 429 (honouring ``Retry-After`` up to ``max_retry_after``), 5xx, and
    transport errors. Never retried: other 4xx and malformed bodies.
    """

    attempts: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    backoff: float = attrs.field(default=0.25, validator=attrs.validators.ge(0))
    max_backoff: float = attrs.field(default=10.0, validator=attrs.validators.ge(0))
    max_retry_after: float = attrs.field(default=60.0, validator=attrs.validators.ge(0))

    def delay(self, attempt: int, rand: float, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``rand`` in [0, 1)).

        Without ``retry_after``: ``rand * min(max_backoff, backoff * 2 ** (attempt - 1))``
        (full jitter). With it: ``retry_after`` itself, between 0 and ``max_retry_after``.
        """
        if retry_after is not None and retry_after == retry_after:  # NaN: as if not given
            return min(max(retry_after, 0.0), self.max_retry_after)
        return rand * min(self.max_backoff, self.backoff * 2 ** (attempt - 1))

    def __repr__(self) -> str:
        return _repr_changed(self)


def _rate(instance, attribute, value) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
        raise ValueError(f"{attribute.name} must be a positive number of requests per second or None, got {value!r}")


@attrs.define(frozen=True, repr=False)
class PacingSettings:
    """How fast requests go out (cache hits are never paced).

    ``max_rate``: requests per second for the whole client (None: no limit).
    ``adaptive``: when the gateway answers 429, every thread slows down together: the
    rate drops to 70% of what was being sent (at least ``min_rate``), a ``Retry-After``
    pauses everyone, and the rate then recovers by ``recovery`` requests/s per second
    without a 429. The documented gateway default is 200 requests/s per API; per-user
    limits can be far lower (DOMAIN.md 4.4).
    """

    max_rate: float | None = attrs.field(default=None, validator=_rate)
    adaptive: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))
    min_rate: float = attrs.field(default=1.0, validator=_rate)
    recovery: float = attrs.field(default=5.0, validator=_rate)

    def __repr__(self) -> str:
        return _repr_changed(self)


@attrs.define(frozen=True, repr=False)
class ClientSettings:
    """Everything that shapes a :class:`~drs_analytics.DRSClient`, except credentials.

    Frozen: a client's settings are checked once, when it is made; make a new client
    (or ``attrs.evolve(settings, ...)`` for a new one) to change them.
    """

    endpoint: str
    project_id: str
    cache_path: Path | None = None  # None: caching disabled
    expire_after: float = attrs.field(default=DEFAULT_EXPIRE_AFTER)
    timeout: tuple[float, float] = attrs.field(
        default=DEFAULT_TIMEOUT, converter=_to_timeout, validator=_check_timeout
    )
    language: str = attrs.field(default=DEFAULT_LANGUAGE, validator=attrs.validators.in_(LANGUAGES))
    max_connections: int = attrs.field(default=DEFAULT_MAX_CONNECTIONS, validator=attrs.validators.ge(1))
    retry: RetrySettings = attrs.field(factory=RetrySettings)
    pacing: PacingSettings = attrs.field(factory=PacingSettings)
    #: Use an expired cached answer when the API still fails after the retries (5xx, 429,
    #: no connection, malformed body); such rows have ``stale=True``.
    stale_if_error: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    #: Serve only what the cache holds (fresh or expired); send no request at all.
    offline: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    #: TLS verification: True (the default CA bundle, or ``$REQUESTS_CA_BUNDLE``), a CA bundle file, or
    #: a directory of CA certificates (requests' ``ca_cert_dir``, hashed names as ``c_rehash`` makes them).
    verify: bool | str = attrs.field(default=True)

    @verify.validator
    def _check_verify(self, attribute, value) -> None:
        if value is True:
            return
        if value is False:
            raise ValueError("TLS verification cannot be turned off here; pass a CA bundle path (ca_bundle=) instead")
        if not isinstance(value, str) or not (os.path.isfile(value) or os.path.isdir(value)):
            raise ValueError(f"ca_bundle must be the path of a CA bundle file or a directory of CA certificates, "
                             f"got {value!r}")

    @expire_after.validator
    def _check_expire(self, attribute, value) -> None:
        if not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"expire_after must be a number of seconds >= 0, got {value!r}")

    def __repr__(self) -> str:
        return _repr_changed(self)


def _repr_changed(obj) -> str:
    parts = []
    for a in attrs.fields(type(obj)):
        value = getattr(obj, a.name)
        default = a.default.factory() if isinstance(a.default, attrs.Factory) else a.default
        if a.default is attrs.NOTHING or value != default:
            parts.append(f"{a.name}={value!r}")
    return f"{type(obj).__name__}({', '.join(parts)})"
