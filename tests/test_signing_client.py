"""The requests DRSClient really sends (AK/SK), re-signed by the official huaweicloudsdkcore Signer for
the same date: byte-identical Authorization headers, odd query values and security tokens included."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest

from drs_analytics import DRSClient
from drs_analytics.emulator import Emulator

core_signer = pytest.importorskip("huaweicloudsdkcore.signer.signer")
from huaweicloudsdkcore.auth.credentials import BasicCredentials  # noqa: E402
from huaweicloudsdkcore.sdk_request import SdkRequest  # noqa: E402

pytestmark = pytest.mark.timeout(60)

#: Headers our client signs when present (DOMAIN.md 5.2); the official signer gets exactly these.
SIGNED = ("Content-Type", "Host", "X-Language", "X-Project-Id", "X-Sdk-Date", "X-Security-Token")


def record_sent(client: DRSClient) -> list:
    """Copies of the prepared requests that reach the transport adapter (after auth, cache and pacing)."""
    sent = []
    adapter = client.session.get_adapter(client.endpoint)
    real = adapter.send

    def send(request, **kwargs):
        sent.append(request.copy())
        return real(request, **kwargs)

    adapter.send = send
    return sent


def official_authorization(request, ak: str, sk: str) -> str:
    parts = urlsplit(request.url)
    assert "+" not in parts.query  # a literal '+' would be ambiguous (space or plus): always %2B
    query = [tuple(unquote(piece) for piece in pair.split("=", 1)) for pair in parts.query.split("&") if pair]
    assert all(len(pair) == 2 for pair in query)
    headers = {name: request.headers[name] for name in SIGNED if name in request.headers}
    sdk = SdkRequest(method=request.method, schema=parts.scheme, host=parts.netloc, resource_path=parts.path,
                     query_params=query, header_params=headers, body=request.body or b"")
    core_signer.Signer(BasicCredentials(ak, sk)).sign(sdk)
    return sdk.header_params["Authorization"]


ODD_FILTERS = [
    {"name": "a b+c:d", "status": "FULL_TRANSFER_STARTED,PAUSING"},
    {"name": "名前 €", "engine_type": ""},
    {"status": "", "net_type": "eip", "sort_dir": "asc"},
    {"name": ["x:y", "1+1", "sp ace"], "enterprise_project_id": "0"},
    {"instance_ip": "10.0.0.1", "sort_key": "name"},
]


def check(sent, ak, sk, *, security_token):
    assert sent
    for request in sent:
        authorization = request.headers["Authorization"]
        assert authorization == official_authorization(request, ak, sk), request.url
        signed = authorization.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
        wanted = {"content-type", "host", "x-language", "x-project-id", "x-sdk-date"}
        assert set(signed) == (wanted | {"x-security-token"} if security_token else wanted)
        assert (request.headers.get("X-Security-Token") == security_token) if security_token else (
            "X-Security-Token" not in request.headers)


@pytest.mark.parametrize("security_token", [None, "sts-tok/with+odd=chars"])
def test_client_requests_resign_identically_with_the_official_signer(tmp_path, security_token):
    with Emulator(jobs=30, seed=5, security_token=security_token) as emu, DRSClient(
            endpoint=emu.url, project_id=emu.project_id, ak=emu.ak, sk=emu.sk, security_token=security_token,
            cache=tmp_path / "c.sqlite") as client:
        sent = record_sent(client)
        for job_id in emu.job_ids[:3]:
            assert client.get_actions(job_id).job_id == job_id  # the emulated gateway accepted the signature
        frame = client.list_jobs("sync", page_size=7)
        assert len(frame) == sum(j.job_type == "sync" for j in emu.fleet)
        for filters in ODD_FILTERS:
            client.list_jobs("migration", page_size=3, **filters)
        n_sent = len(sent)
        assert emu.app.route_counts.get(("GET", "job_actions")) == 3
        assert n_sent == 3 + sum(count for (method, route), count in emu.app.route_counts.items()
                                 if route == "list_jobs")
        assert set(emu.app.status_counts) == {200}  # every signature accepted by the emulated gateway
    urls = [r.url for r in sent]
    assert any("%E5%90%8D%E5%89%8D%20%E2%82%AC" in u for u in urls)  # non-ASCII and a space, percent-encoded
    assert any("a%20b%2Bc%3Ad" in u for u in urls)
    assert any("engine_type=&" in u for u in urls) and any(u.endswith("&status=") for u in urls)  # empty values
    assert any("x%3Ay%2C1%2B1%2Csp%20ace" in u for u in urls)
    check(sent, emu.ak, emu.sk, security_token=security_token)


def test_a_retried_request_is_signed_again_with_its_own_date(monkeypatch):
    from datetime import datetime, timedelta, timezone

    from drs_analytics import RetrySettings, ServerError
    from drs_analytics import auth as auth_module
    from drs_analytics.signing import sdk_date

    now = datetime.now(timezone.utc)
    wanted = [sdk_date(now), sdk_date(now + timedelta(seconds=1))]
    dates = iter(wanted)
    monkeypatch.setattr(auth_module, "sdk_date", lambda: next(dates))
    with Emulator(jobs=3, seed=5) as emu, DRSClient(
            endpoint=emu.url, project_id=emu.project_id, ak=emu.ak, sk=emu.sk, cache=False,
            retry=RetrySettings(attempts=2, backoff=0.01, max_backoff=0.02)) as client:
        sent = record_sent(client)
        emu.app.set_raw_response(emu.job_ids[0], 503, b'{"error_code": "DRS.X", "error_msg": "busy"}')
        with pytest.raises(ServerError):
            client.get_actions(emu.job_ids[0])
        assert emu.app.status_counts == {503: 2}  # both signatures accepted by the emulated gateway
    assert [r.headers["X-Sdk-Date"] for r in sent] == wanted
    assert sent[0].headers["Authorization"] != sent[1].headers["Authorization"]
    check(sent, emu.ak, emu.sk, security_token=None)
