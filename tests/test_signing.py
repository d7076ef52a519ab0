"""Our SDK-HMAC-SHA256 signer against the official one (huaweicloudsdkcore), byte for byte."""

from __future__ import annotations

import random
import string

import pytest

from drs_analytics import signing

core_signer = pytest.importorskip("huaweicloudsdkcore.signer.signer")
from huaweicloudsdkcore.auth.credentials import BasicCredentials  # noqa: E402
from huaweicloudsdkcore.sdk_request import SdkRequest  # noqa: E402

AK, SK = "HPUAEXAMPLEAK1234567", "sk/with+odd=chars~and-more-0123456789ABCD"
DATE = "20261203T101112Z"

# Characters that stress percent-encoding: spaces, +, :, reserved, unreserved, non-ASCII, emoji.
_ALPHABET = string.ascii_letters + string.digits + " +:/?#[]@!$&'()*,;=%~-._" + "äöü中文€😀"


def _text(rng: random.Random, low: int = 0, high: int = 12) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(low, high)))


def _case(rng: random.Random):
    """One generated request: method, path, query pairs, headers, body."""
    segments = [rng.choice(["v5", "jobs", "actions", _text(rng, 1, 8), "163b98e8-6088-46c3-8b86-c18fea6jb502"])
                for _ in range(rng.randint(1, 5))]
    path = "/" + "/".join(segments) + rng.choice(["", "/"])
    query = []
    for _ in range(rng.randint(0, 6)):
        key = rng.choice(["job_type", "status", "name", "offset", "limit", "a b", "k+", "ключ", _text(rng, 1, 6)])
        value = rng.choice(["sync", "", "FULL_TRANSFER_STARTED,PAUSING", "10", "x y", "1+1", "a:b", "名前", _text(rng)])
        query.append((key, value))
    headers = {
        "Host": rng.choice(["127.0.0.1:8080", "drs.cn-south-2.myhuaweicloud.com", "[::1]:9000"]),
        "X-Sdk-Date": DATE,
        "Content-Type": rng.choice(["application/json", "application/json;charset=UTF-8", "text/plain"]),
        "X-Language": rng.choice(["en-us", "zh-cn", "  en-us  "]),
        "X-Project-Id": "%032x" % rng.getrandbits(128),
        "User-Agent": "drs-analytics/test",
    }
    if rng.random() < 0.3:
        headers["X-Security-Token"] = _text(rng, 5, 40).replace(" ", "x").encode("ascii", "ignore").decode() or "tok"
    if rng.random() < 0.2:
        headers["X_Underscored"] = "not signed"
    body = rng.choice([b"", b"", b'{"jobs": []}', _text(rng, 1, 30).encode()])
    return rng.choice(["GET", "POST", "get", "DELETE"]), path, query, headers, body


def _official(method, path, query, headers, body) -> str:
    request = SdkRequest(method=method.upper(), schema="https", host=headers["Host"], resource_path=path,
                         query_params=[tuple(p) for p in query], header_params=dict(headers), body=body)
    core_signer.Signer(BasicCredentials(AK, SK)).sign(request)
    return request.header_params["Authorization"]


def _ours(method, path, query, headers, body) -> str:
    headers = dict(headers)
    content = headers.get("Content-Type", "")
    if content and not content.startswith(("application/json", "application/bson")):
        headers["X-Sdk-Content-Sha256"] = "UNSIGNED-PAYLOAD"  # what the SDK adds before signing
    return signing.sign(method, path, query, headers, body, ak=AK, sk=SK)


def test_signature_matches_the_official_signer_over_generated_requests():
    rng = random.Random(20261203)
    checked = 0
    for _ in range(600):
        case = _case(rng)
        assert _ours(*case) == _official(*case), case
        checked += 1
    assert checked == 600


@pytest.mark.parametrize(
    "path, query",
    [
        ("/v5/pid/jobs", [("job_type", "sync"), ("status", "A,B"), ("offset", "0"), ("limit", "1000")]),
        ("/v5/pid/jobs/", []),
        ("/v5/p%20id/jobs", [("name", "x y+z:w")]),
        ("/v5/项目/jobs", [("name", "名前"), ("name", "")]),
        ("/", [("empty", ""), ("a", "b")]),
        ("/v5/pid/jobs", [("k", ["b", "a"]), ("flag", True)]),
    ],
)
def test_edge_cases_match(path, query):
    headers = {"Host": "127.0.0.1:1", "X-Sdk-Date": DATE, "Content-Type": "application/json"}
    official_query = [(k, list(v) if isinstance(v, list) else v) for k, v in query]
    assert _ours("GET", path, query, headers, b"") == _official("GET", path, official_query, headers, b"")


def test_canonical_pieces_worked_by_hand():
    assert signing.canonical_uri("/v5/a b/jobs") == "/v5/a%20b/jobs/"
    assert signing.canonical_query([("z", "1"), ("a", "x y+z:ü")]) == "a=x%20y%2Bz%3A%C3%BC&z=1"
    canonical = signing.canonical_request("get", "/v5", [], {"Host": "h", "X-Sdk-Date": DATE})
    assert canonical == (
        "GET\n/v5/\n\nhost:h\nx-sdk-date:" + DATE + "\n\nhost;x-sdk-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_sign_requires_a_date_and_parse_authorization_rejects_others():
    with pytest.raises(ValueError, match="X-Sdk-Date"):
        signing.sign("GET", "/", [], {"Host": "h"}, ak=AK, sk=SK)
    with pytest.raises(ValueError):
        signing.parse_authorization("Bearer abc")
    value = signing.sign("GET", "/", [], {"Host": "h", "X-Sdk-Date": DATE}, ak=AK, sk=SK)
    parsed = signing.parse_authorization(value)
    assert parsed.ak == AK and parsed.signed_headers == ("host", "x-sdk-date") and len(parsed.signature) == 64


def test_a_different_secret_or_date_changes_the_signature():
    headers = {"Host": "h", "X-Sdk-Date": DATE}
    base = signing.sign("GET", "/v5/p/jobs", [], headers, ak=AK, sk=SK)
    assert signing.sign("GET", "/v5/p/jobs", [], headers, ak=AK, sk=SK + "x") != base
    assert signing.sign("GET", "/v5/p/jobs", [], {**headers, "X-Sdk-Date": "20261203T101113Z"}, ak=AK, sk=SK) != base
