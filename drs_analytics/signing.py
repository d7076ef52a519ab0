"""AK/SK request signing: Huawei Cloud's ``SDK-HMAC-SHA256``, written out.

The algorithm (DOMAIN.md 5.2; the official ``huaweicloudsdkcore`` ``Signer``)::

    canonical request = METHOD \\n URI/ \\n sorted query \\n headers \\n signed header names \\n sha256(body)
    string to sign    = SDK-HMAC-SHA256 \\n X-Sdk-Date \\n sha256(canonical request)
    signature         = hex(HMAC-SHA256(SK, string to sign))
    Authorization     = SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b;c, Signature=hex

Every step mirrors the official signer byte for byte (``tests/test_signing.py``
checks it against ``huaweicloudsdkcore`` over generated requests), so we sign
without depending on the SDK at run time. The emulator verifies with the same
functions; the official SDK talking to the emulator proves that side.

>>> headers = {"Host": "drs.example.com", "X-Sdk-Date": "20260102T030405Z"}
>>> sign("GET", "/v5/p/jobs", [("job_type", "sync")], headers, ak="AK", sk="SK")[:61]
'SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Sig'
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, NamedTuple
from urllib.parse import quote, unquote

__all__ = [
    "ALGORITHM",
    "DATE_FORMAT",
    "DATE_HEADER",
    "MAX_CLOCK_SKEW",
    "Authorization",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "parse_authorization",
    "parse_sdk_date",
    "sdk_date",
    "sign",
    "signature",
    "signed_header_names",
]

ALGORITHM = "SDK-HMAC-SHA256"
DATE_HEADER = "X-Sdk-Date"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
CONTENT_HEADER = "X-Sdk-Content-Sha256"
#: Seconds an ``X-Sdk-Date`` may differ from the gateway's clock (15 minutes) [D].
MAX_CLOCK_SKEW = 15 * 60
_EMPTY_HASH = hashlib.sha256(b"").hexdigest()
_AUTH_RE = re.compile(
    r"^SDK-HMAC-SHA256 Access=(?P<ak>[^,\s]+), SignedHeaders=(?P<signed>[^,\s]+), Signature=(?P<sig>[0-9a-f]{64})$"
)


class Authorization(NamedTuple):
    """The parts of an ``Authorization: SDK-HMAC-SHA256 ...`` header."""

    ak: str
    signed_headers: tuple[str, ...]
    signature: str


def sdk_date(now: datetime | None = None) -> str:
    """``X-Sdk-Date`` for ``now`` (default: the current UTC time), e.g. ``20260102T030405Z``."""
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is not None:
        now = now.astimezone(timezone.utc)
    return now.strftime(DATE_FORMAT)


def parse_sdk_date(value: str) -> datetime:
    """The UTC time of an ``X-Sdk-Date`` value; ``ValueError`` if it is not one."""
    return datetime.strptime(value, DATE_FORMAT).replace(tzinfo=timezone.utc)


def _encode(text: str) -> str:
    return quote(text, safe="~")


def canonical_uri(path: str) -> str:
    """Each path segment decoded then percent-encoded (``~`` kept), with a trailing ``/``.

    >>> canonical_uri("/v5/p%20x/jobs")
    '/v5/p%20x/jobs/'
    """
    url_path = "/".join(_encode(part) for part in unquote(path).split("/"))
    return url_path if url_path.endswith("/") else url_path + "/"


def canonical_query(params: Sequence[tuple[str, Any]]) -> str:
    """Sorted ``key=value`` pairs, both percent-encoded (space is ``%20``, ``+`` is ``%2B``).

    List values give one pair per element, sorted; booleans are ``true``/``false``.
    This is also the query string to send, so that what goes out is what was signed.

    >>> canonical_query([("b", "x y"), ("a", "1+1"), ("c", "")])
    'a=1%2B1&b=x%20y&c='
    """
    pairs = []
    for key, value in sorted(params):
        k = _encode(key)
        if isinstance(value, list):
            pairs.extend(f"{k}={_encode(str(v))}" for v in sorted(value))
        elif isinstance(value, bool):
            pairs.append(f"{k}={_encode(str(value).lower())}")
        else:
            pairs.append(f"{k}={_encode(str(value))}")
    return "&".join(pairs)


def signed_header_names(headers: Mapping[str, Any]) -> list[str]:
    """Lower-cased names of the headers to sign: all but those containing ``_``, sorted."""
    return sorted(name.lower() for name in headers if "_" not in name)


def _header_value(headers: Mapping[str, Any], name: str) -> str | None:
    found = None
    for key, value in headers.items():
        if key.lower() == name:
            found = str(value).strip()  # the last of same-named headers wins, as in the SDK
    return found


def _payload_hash(headers: Mapping[str, Any], body: bytes) -> str:
    if not body:
        return _EMPTY_HASH
    return _header_value(headers, CONTENT_HEADER.lower()) or hashlib.sha256(body).hexdigest()


def canonical_request(
    method: str,
    path: str,
    query: Sequence[tuple[str, Any]],
    headers: Mapping[str, Any],
    body: bytes = b"",
    signed: Sequence[str] | None = None,
) -> str:
    """The canonical request over ``signed`` header names (default: :func:`signed_header_names`).

    ``path`` may be percent-encoded or not; header values are stripped.
    """
    signed = list(signed) if signed is not None else signed_header_names(headers)
    lines = "".join(f"{name}:{_header_value(headers, name) or ''}\n" for name in signed)
    return "\n".join(
        [method.upper(), canonical_uri(path), canonical_query(query), lines, ";".join(signed), _payload_hash(headers, body)]
    )


def signature(sk: str, date: str, canonical: str) -> str:
    """Hex HMAC-SHA256 of the string to sign, keyed with the secret key."""
    to_sign = f"{ALGORITHM}\n{date}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
    return hmac.new(sk.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def sign(
    method: str,
    path: str,
    query: Sequence[tuple[str, Any]],
    headers: Mapping[str, Any],
    body: bytes = b"",
    *,
    ak: str,
    sk: str,
) -> str:
    """The ``Authorization`` value for a request whose ``headers`` already hold Host and ``X-Sdk-Date``.

    Every header in ``headers`` whose name has no ``_`` is signed, so pass exactly
    the headers that will be sent unchanged.

    Parameters
    ----------
    method : str
        HTTP method (upper-cased for signing).
    path : str
        URL path as sent.
    query : sequence of (name, value)
        Decoded query parameters (a list value stands for a repeated parameter).
    headers : mapping
        The headers to sign, ``Host`` and ``X-Sdk-Date`` among them.
    body : bytes
        The request body.
    ak, sk : str
        Access key (named in the header) and secret key (the HMAC key).

    Returns
    -------
    str
        ``SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...``.
    """
    date = _header_value(headers, DATE_HEADER.lower())
    if not date:
        raise ValueError(f"the {DATE_HEADER} header is required to sign a request")
    date = sdk_date(parse_sdk_date(date))
    signed = signed_header_names(headers)
    sig = signature(sk, date, canonical_request(method, path, query, headers, body, signed))
    return f"{ALGORITHM} Access={ak}, SignedHeaders={';'.join(signed)}, Signature={sig}"


def parse_authorization(value: str) -> Authorization:
    """Split an ``Authorization`` header; ``ValueError`` if it is not ``SDK-HMAC-SHA256``.

    >>> parse_authorization("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=" + "0" * 64).ak
    'AK'
    """
    match = _AUTH_RE.match(value.strip())
    if not match:
        raise ValueError("not an SDK-HMAC-SHA256 Authorization header")
    return Authorization(match["ak"], tuple(match["signed"].split(";")), match["sig"])
