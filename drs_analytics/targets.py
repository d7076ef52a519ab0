"""Where to fetch from: a region or endpoint, a project, and the names of credential variables.

A :class:`Target` never holds a secret: it names the environment variables that do
(``ak_env = "PROD_AK"``), so a targets file can be committed and shared. Targets come
from Python (``Target(...)`` or plain dicts) or from a TOML file::

    [[target]]
    name = "prod-guangzhou"          # optional label
    region = "cn-south-2"
    project_id = "0123456789abcdef0123456789abcdef"
    ak_env = "PROD_AK"               # optional; default HUAWEICLOUD_SDK_AK ...
    sk_env = "PROD_SK"

    [[target]]
    region = "cn-south-4"
    project_id = "fedcba9876543210fedcba9876543210"
    token_env = "STAGING_TOKEN"
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .exceptions import ConfigurationError
from .regions import check_no_userinfo

__all__ = ["Target", "load_targets", "target_client", "to_target"]

#: Keys that would put a secret into a file: refused with a pointer to the ``*_env`` key.
_SECRET_KEYS = {"token": "token_env", "ak": "ak_env", "sk": "sk_env", "security_token": "security_token_env",
                "password": "password_env"}


@dataclass(frozen=True)
class Target:
    """One project in one region (or at one endpoint), and where its credentials are.

    ``*_env`` fields name environment variables. With none set, the client reads the
    usual ones (``DRS_AUTH_TOKEN``, ``HUAWEICLOUD_SDK_AK``/``_SK``...).
    """

    project_id: str | None = None
    region: str | None = None
    endpoint: str | None = None
    name: str | None = None
    iam_endpoint: str | None = None
    token_env: str | None = None
    ak_env: str | None = None
    sk_env: str | None = None
    security_token_env: str | None = None
    username_env: str | None = None
    password_env: str | None = None
    domain_env: str | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigurationError(f"target field {f.name!r} must be a non-empty string, got {value!r}")
        for name in ("endpoint", "iam_endpoint"):
            check_no_userinfo(getattr(self, name), f"target {name}")
        if not self.region and not self.endpoint:
            raise ConfigurationError(f"target {self.label!r} needs a region or an endpoint")

    @property
    def label(self) -> str:
        """``name``, else ``region/project_id``."""
        return self.name or f"{self.region or self.endpoint}/{self.project_id or '$HUAWEICLOUD_SDK_PROJECT_ID'}"

    def credentials(self, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """Client keyword arguments read from the named environment variables.

        Parameters
        ----------
        environ : mapping, optional
            The environment (default ``os.environ``).

        Raises
        ------
        ConfigurationError
            A named variable is not set (the message names it, not its value).
        """
        env = os.environ if environ is None else environ
        out = {}
        for f in fields(self):
            if f.name.endswith("_env") and getattr(self, f.name):
                var = getattr(self, f.name)
                if not env.get(var):
                    raise ConfigurationError(f"target {self.label!r}: environment variable {var} is not set")
                out[f.name[: -len("_env")]] = env[var]
        return out


def to_target(value: Target | Mapping[str, Any]) -> Target:
    """A Target from a Target or a mapping of its fields (secrets refused).

    Parameters
    ----------
    value : Target or mapping
        A Target (returned as is) or its fields; a key such as ``sk`` or ``token``
        is refused, pointing to its ``*_env`` counterpart.

    Raises
    ------
    ConfigurationError
        Unknown or secret keys, empty values, no region or endpoint, an endpoint with
        a user name or password.
    TypeError
        ``value`` is neither.
    """
    if isinstance(value, Target):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(f"a target is a DRSClient, a Target or a mapping, got {type(value).__name__}")
    known = {f.name for f in fields(Target)}
    for key in value:
        if key in _SECRET_KEYS:
            raise ConfigurationError(
                f"target key {key!r}: credentials come from the environment only; "
                f"name the variable instead ({_SECRET_KEYS[key]} = \"MY_VAR\")"
            )
    unknown = sorted(set(value) - known)
    if unknown:
        raise ConfigurationError(f"unknown target key(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}")
    return Target(**dict(value))


def load_targets(path: str | Path) -> list[Target]:
    """Read ``[[target]]`` tables from a TOML file.

    Parameters
    ----------
    path : str or Path
        The TOML file (keys as for :class:`Target`; see the module notes).

    Returns
    -------
    list of Target

    Raises
    ------
    ConfigurationError
        The file is missing, unreadable, not TOML, has no ``[[target]]`` tables, other
        top-level keys, or a table :func:`to_target` refuses.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigurationError(f"targets file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise ConfigurationError(f"targets file {str(path)!r} cannot be read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"targets file {str(path)!r} is not valid TOML: {exc}") from None
    tables = data.get("target")
    if not isinstance(tables, list) or not tables:
        raise ConfigurationError(f"targets file {str(path)!r} has no [[target]] tables")
    extra = sorted(set(data) - {"target"})
    if extra:
        raise ConfigurationError(f"targets file {str(path)!r}: unknown top-level key(s) {', '.join(extra)}")
    return [to_target(table) for table in tables]


def target_client(target: Target, **options: Any):
    """A :class:`~drs_analytics.DRSClient` for ``target``.

    Parameters
    ----------
    target : Target
        Where to connect; its ``*_env`` variables are read now.
    **options
        Other :class:`~drs_analytics.DRSClient` arguments (``cache``, ``retry``...).
    """
    from .client import DRSClient

    return DRSClient(
        endpoint=target.endpoint, region=target.region, project_id=target.project_id,
        iam_endpoint=target.iam_endpoint, **target.credentials(), **options,
    )


def distinct_targets(targets: Iterable[Any]) -> list[Any]:
    """Targets in order, without repeats (the same target but for its ``name`` or an endpoint's final ``/``).

    Mappings count as the Targets they describe (a malformed one is kept, to be reported).
    Two targets of one project with different credentials are both kept.
    """
    out, seen = [], set()
    for target in targets:
        if isinstance(target, Mapping):
            try:
                target = to_target(target)
            except (ConfigurationError, TypeError):
                pass
        if isinstance(target, Target):
            key: Any = replace(target, name=None, endpoint=target.endpoint and (target.endpoint.rstrip("/") or target.endpoint))
        else:
            key = id(target)
        if key not in seen:
            seen.add(key)
            out.append(target)
    return out
