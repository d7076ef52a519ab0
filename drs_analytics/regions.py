"""DRS endpoints per region (DOMAIN.md section 6).

The pattern is ``https://drs.{region}.myhuaweicloud.com``; the SDK's one exception is
``eu-west-101`` (``.eu`` domain). Huawei's v5 API page lists fewer regions than the SDK;
this list is the SDK's and may grow, so a well-formed region that is not listed is
accepted with a log warning rather than refused.
"""

from __future__ import annotations

import logging
import re

from .exceptions import ConfigurationError

__all__ = ["KNOWN_REGIONS", "check_no_userinfo", "iam_endpoint", "region_endpoint", "url_origin"]

logger = logging.getLogger(__name__)

#: Regions of the official SDK's DRS region list (``huaweicloudsdkdrs/v5/region/drs_region.py``).
KNOWN_REGIONS: tuple[str, ...] = (
    "eu-west-101", "cn-north-4", "cn-north-1", "cn-south-1", "cn-east-3", "cn-east-2",
    "cn-north-2", "ap-southeast-3", "ap-southeast-1", "ap-southeast-2", "sa-brazil-1",
    "la-south-2", "la-north-2", "na-mexico-1", "af-south-1", "cn-north-9", "cn-southwest-2",
    "cn-south-2", "cn-south-4", "tr-west-1", "ap-southeast-4", "eu-west-0", "ru-moscow-1",
    "ae-ad-1", "my-kualalumpur-1", "ru-northwest-2", "ap-southeast-5", "cn-east-5",
    "cn-north-12", "cn-east-4", "cn-southwest-3", "cn-north-11", "af-north-1", "me-east-1",
)

_SPECIAL = {"eu-west-101": "https://drs.eu-west-101.myhuaweicloud.eu"}
_REGION_SHAPE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,3}")


def _check(region: str) -> None:
    if not isinstance(region, str) or not _REGION_SHAPE.fullmatch(region):
        raise ConfigurationError(
            f"invalid region {region!r}: expected a region ID such as 'cn-south-2'; "
            f"known regions: {', '.join(KNOWN_REGIONS)}"
        )


def check_no_userinfo(url: object, what: str = "endpoint") -> None:
    """Refuse a URL with a user name or password in it (``https://user:pass@host``).

    Credentials never travel in a URL here (they would reach logs, error messages and
    the cache's stored requests). The message names the host but never the part before
    ``@``, which may be a password.
    """
    if isinstance(url, str) and "@" in url:
        scheme, host = url_origin(url).split("://", 1)
        shown = f"{scheme}://***@{host}"
        raise ConfigurationError(
            f"invalid {what} {shown}: it holds a user name or password before '@'; credentials never go "
            "in a URL: pass them as arguments or environment variables, and give the URL without them"
        )


def url_origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, without the user name and password it may hold.

    Not with ``urlsplit``: a password with an unencoded ``/``, ``?`` or ``#`` ends its
    netloc early, and the user name and part of the password would pass for the host.
    Whatever comes before the last ``@`` is dropped, then anything after the host.

    >>> url_origin("http://alice:Pa/ss#w?rd@proxy.corp:3128/")
    'http://proxy.corp:3128'
    >>> url_origin("alice:s3cr://et@proxy.corp:3128")  # no scheme; "://" in the password
    'http://proxy.corp:3128'
    """
    scheme, sep, rest = url.partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        scheme, rest = "http", url  # requests reads a bare "host:port" proxy as http
    host = re.split(r"[/?#]", rest.rsplit("@", 1)[-1], maxsplit=1)[0]
    return f"{scheme}://{host}"


def iam_endpoint(region: str) -> str:
    """Return the IAM endpoint of ``region`` (DOMAIN.md 6).

    >>> iam_endpoint("cn-south-2")
    'https://iam.cn-south-2.myhuaweicloud.com'
    >>> iam_endpoint("eu-west-101")
    'https://iam.eu-west-101.myhuaweicloud.eu'
    """
    _check(region)
    return region_endpoint(region).replace("https://drs.", "https://iam.", 1)


def region_endpoint(region: str) -> str:
    """Return the DRS endpoint of ``region``.

    >>> region_endpoint("cn-south-2")
    'https://drs.cn-south-2.myhuaweicloud.com'
    >>> region_endpoint("eu-west-101")
    'https://drs.eu-west-101.myhuaweicloud.eu'
    """
    _check(region)
    if region not in KNOWN_REGIONS:
        logger.warning("region %r is not in the SDK's DRS region list; trying it anyway", region)
    return _SPECIAL.get(region, f"https://drs.{region}.myhuaweicloud.com")
