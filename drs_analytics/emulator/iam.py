"""The emulated IAM: ``POST /v3/auth/tokens`` with the password method (DOMAIN.md 5.1).

Request body [D]::

    {"auth": {"identity": {"methods": ["password"],
                           "password": {"user": {"name": U, "password": P, "domain": {"name": D}}}},
              "scope": {"project": {"id": PID}}}}

The scope's project may also be named by its region (``{"name": "cn-south-2"}``) [D].
Success is 201 with the token in the ``X-Subject-Token`` header and a
``{"token": {...}}`` body [D]. No ``X-Auth-Token`` is needed on this route.

Error answers are not in DOMAIN.md [I]: they use the Keystone shape,
``{"error": {"code": 401, "message": "...", "title": "Unauthorized"}}`` (the
official SDK's error parser finds ``code``/``message`` in it), and all of
them are in :data:`IAM_ERRORS`, the one place to correct them.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any, NamedTuple

from .gateway import Gateway, iso_utc
from .identity import Identity

__all__ = ["IAM_ERRORS", "IamAnswer", "issue_token"]

logger = logging.getLogger(__name__)

#: Every IAM error the emulator answers [I]: key -> (HTTP status, title, message).
IAM_ERRORS: dict[str, tuple[int, str, str]] = {
    "malformed": (400, "Bad Request", "The request body is not a valid password authentication request."),
    "method": (400, "Bad Request", "Only the password authentication method is supported."),
    "scope": (400, "Bad Request", "A project scope (project id or name) is required."),
    "credentials": (401, "Unauthorized", "The username or password is wrong."),
    "project": (401, "Unauthorized", "The user has no access to the requested project."),
}


class IamAnswer(NamedTuple):
    """What the IAM route answers: status, JSON payload, extra headers."""

    status: int
    payload: dict[str, Any]
    headers: dict[str, str]


def _error(key: str) -> IamAnswer:
    status, title, message = IAM_ERRORS[key]
    return IamAnswer(status, {"error": {"code": status, "message": message, "title": title}}, {})


def _get(node: Any, *path: str) -> Any:
    """``node[path[0]][path[1]]...``, or ``None`` as soon as a step is missing or not an object."""
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _same(sent: Any, expected: str) -> bool:
    return isinstance(sent, str) and hmac.compare_digest(sent.encode(), expected.encode())


def issue_token(body: bytes, identity: Identity, gateway: Gateway) -> IamAnswer:
    """Answer one ``POST /v3/auth/tokens``.

    Parameters
    ----------
    body : bytes
        The request body (JSON).
    identity : Identity
        The one user, domain and project that exist.
    gateway : Gateway
        Issues (and later accepts) the token.

    Returns
    -------
    IamAnswer
        201 with ``X-Subject-Token``; 400 for a malformed body, an unsupported
        method or a missing project scope; 401 for wrong credentials or a project
        the user does not own.
    """
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _error("malformed")
    ident = _get(doc, "auth", "identity")
    methods = _get(ident, "methods")
    user = _get(ident, "password", "user")
    if not isinstance(ident, dict) or not isinstance(methods, list) or not isinstance(user, dict):
        return _error("malformed")
    if "password" not in methods:
        return _error("method")
    name, password, domain = user.get("name"), user.get("password"), user.get("domain")
    if not all(isinstance(v, str) for v in (name, password)) or not isinstance(domain, dict):
        return _error("malformed")
    project = _get(doc, "auth", "scope", "project")
    if not isinstance(project, dict) or not any(isinstance(project.get(key), str) for key in ("id", "name")):
        return _error("scope")
    domain_ok = _same(domain.get("name"), identity.domain) or _same(domain.get("id"), identity.domain_id)
    if not (domain_ok and _same(name, identity.username) and _same(password, identity.password)):
        logger.debug("IAM: wrong credentials for user %r", name)
        return _error("credentials")
    if "id" in project:
        owned = project.get("id") == identity.project_id
    else:
        owned = project.get("name") == identity.region
    if not owned:
        return _error("project")
    issued = gateway.issue_token(frozenset({identity.project_id}))
    domain_obj = {"id": identity.domain_id, "name": identity.domain}
    token = {
        "expires_at": iso_utc(issued.expires_at),
        "issued_at": iso_utc(issued.issued_at),
        "methods": ["password"],
        "project": {"id": identity.project_id, "name": identity.region, "domain": domain_obj},
        "user": {"id": identity.user_id, "name": identity.username, "domain": domain_obj},
        "catalog": [],
    }
    return IamAnswer(201, {"token": token}, {"X-Subject-Token": issued.token})
