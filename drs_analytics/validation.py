"""Checks on job and project IDs before they go into a URL path.

DRS IDs are plain tokens (``163b98e8-6088-46c3-8b86-c18fea6jb502``,
``5237e10fe9aa4ad5b16b6a5245248314``). Anything that could change the request
path (``/``, ``.``, ``..``, ``?``, ``#``, ``%``) or that is not a printable ASCII token is
refused with an :class:`~drs_analytics.exceptions.InvalidIDError` naming the value
and the problem, before any request is sent.
"""

from __future__ import annotations

import re

from .exceptions import InvalidIDError

__all__ = ["MAX_ID_LENGTH", "check_id", "id_lines", "id_problem"]

#: Longest ID accepted; real ones are 32 (project) or 36 (job) characters.
MAX_ID_LENGTH = 128

# RFC 3986 "unreserved" characters: safe in a path segment without encoding.
_TOKEN = re.compile(r"[A-Za-z0-9._~-]+")

_PROBLEMS: tuple[tuple[str, str], ...] = (
    ("/", "contains '/'"),
    ("?", "contains '?'"),
    ("#", "contains '#'"),
    ("%", "contains '%'"),
)


def id_problem(value: object) -> str | None:
    """Return what is wrong with ``value`` as an ID, or None when it is fine.

    >>> id_problem("163b98e8-6088-46c3-8b86-c18fea6jb502") is None
    True
    >>> id_problem("../admin")
    "contains '/'"
    """
    if not isinstance(value, str):
        return f"is a {type(value).__name__}, not a string"
    if not value:
        return "is empty"
    if not value.strip():
        return "is only whitespace"
    if _TOKEN.fullmatch(value):
        if value == ".":  # "contains '..'" would not be true of it
            return "is '.', a relative path segment (the current folder)"
        if ".." in value:  # ".." itself, the parent folder, and anything holding it
            return "contains '..'"
        if len(value) > MAX_ID_LENGTH:
            return f"is {len(value)} characters long (at most {MAX_ID_LENGTH})"
        return None
    for char, problem in _PROBLEMS:
        if char in value:
            return problem
    if any(c.isspace() for c in value):
        return "contains whitespace"
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "contains a control character"
    if not value.isascii():
        return "contains non-ASCII characters"
    bad = sorted({c for c in value if not _TOKEN.fullmatch(c)})
    return "contains " + ", ".join(repr(c) for c in bad)


def check_id(value: object, kind: str = "job ID") -> str:
    """Return ``value`` if it is a safe ID, else raise :class:`InvalidIDError` naming it.

    >>> check_id("a/b")
    Traceback (most recent call last):
    ...
    drs_analytics.exceptions.InvalidIDError: invalid job ID 'a/b': contains '/'
    """
    problem = id_problem(value)
    if problem is not None:
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        raise InvalidIDError(f"invalid {kind} {shown}: {problem}")
    return value  # type: ignore[return-value]


def id_lines(text: str) -> list[str]:
    """Job IDs from a jobs file: one per line; blank lines and ``#`` comments ignored.

    >>> id_lines("# fleet\\n a1  # prod\\n\\n b2\\r\\n")
    ['a1', 'b2']
    """
    return [line for line in (raw.split("#", 1)[0].strip() for raw in text.splitlines()) if line]
