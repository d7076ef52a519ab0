"""The official Huawei Cloud SDK (``huaweicloudsdkdrs`` v5) against the emulator, unchanged.

The SDK is the reference for the wire format: it signs with its own signer, sends its
own headers and parses the answers into its own models. It is pointed at the emulator
by the environment variables of :meth:`Emulator.sdk_env` (DOMAIN.md 6).
"""

from __future__ import annotations

import re

import pandas as pd

import pytest

pytest.importorskip("huaweicloudsdkdrs")

from huaweicloudsdkcore.auth.credentials import BasicCredentials  # noqa: E402
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException  # noqa: E402
from huaweicloudsdkcore.http.http_config import HttpConfig  # noqa: E402
from huaweicloudsdkdrs.v5 import DrsClient, ListJobsRequest, ShowActionsRequest  # noqa: E402
from huaweicloudsdkdrs.v5.region.drs_region import DrsRegion  # noqa: E402

from drs_analytics.emulator import Emulator  # noqa: E402
from drs_analytics.emulator.listing import JOB_FIELDS, JOB_TYPES  # noqa: E402

pytestmark = pytest.mark.timeout(60)

REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture(scope="module")
def emu():
    with Emulator(jobs=80, seed=5) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _reset(emu):
    emu.app.clear_overrides()


def sdk_client(emu, monkeypatch, *, sk=None, security_token=None) -> DrsClient:
    """A DrsClient built the documented way, pointed at ``emu`` by environment variables."""
    for name, value in emu.sdk_env().items():
        monkeypatch.setenv(name, value)
    config = HttpConfig.get_default_config()
    config.timeout = (3, 10)
    config.ignore_ssl_verification = True  # irrelevant over http://, set as a real setup would
    credentials = BasicCredentials(emu.ak, sk or emu.sk, emu.project_id)
    if security_token is not None:
        credentials = credentials.with_security_token(security_token)
    return (
        DrsClient.new_builder()
        .with_credentials(credentials)
        .with_region(DrsRegion.value_of(emu.region))
        .with_http_config(config)
        .build()
    )


def interesting_jobs(emu) -> list[str]:
    """A parent, a child, a busy job, an idle job, one of each type."""
    fleet = emu.fleet
    picks = [
        next(j for j in fleet if j.children),
        next(j for j in fleet if j.parent_id),
        next(j for j in fleet if j.current_action),
        next(j for j in fleet if not j.current_action),
        *(next(j for j in fleet if j.job_type == t) for t in JOB_TYPES),
    ]
    return list(dict.fromkeys(j.id for j in picks))


def as_emulator_renders(job_action) -> dict:
    """The SDK's JobActions model as the emulator's job_action dict (idle rendered as null)."""
    return {
        "available_actions": job_action.available_actions,
        "unavailable_actions": job_action.unavailable_actions,
        "current_action": job_action.current_action,
    }


def test_show_actions_returns_the_emulators_answer(emu, monkeypatch):
    client = sdk_client(emu, monkeypatch)
    for job_id in interesting_jobs(emu):
        response = client.show_actions(ShowActionsRequest(job_id=job_id))
        assert as_emulator_renders(response.job_action) == emu.app.job_action(job_id)
        assert response.status_code == 200 and response.to_json_object() == {"job_action": emu.app.job_action(job_id)}


def test_show_actions_of_an_override(emu, monkeypatch):
    client = sdk_client(emu, monkeypatch)
    job_id = emu.job_ids[0]
    emu.app.set_job_actions(job_id, ["CREATE", "CHOOSE_OBJECT", "PRE_CHECK"], ["START", "RETRY"], "SWITCH_OVER")
    job_action = client.show_actions(ShowActionsRequest(job_id=job_id)).job_action
    assert job_action.available_actions == ["CREATE", "CHOOSE_OBJECT", "PRE_CHECK"]
    assert job_action.unavailable_actions == ["START", "RETRY"] and job_action.current_action == "SWITCH_OVER"


def test_list_jobs_paging_returns_every_job_with_children(emu, monkeypatch):
    client = sdk_client(emu, monkeypatch)
    by_id = {j.id: j for j in emu.fleet}
    for job_type in JOB_TYPES:
        expected = {j.id for j in emu.fleet if j.job_type == job_type and j.parent_id is None}
        seen, offset = [], 0
        while True:
            response = client.list_jobs(ListJobsRequest(job_type=job_type, offset=offset, limit=7))
            assert response.total_count == len(expected)
            if not response.jobs:
                break
            for job in response.jobs:
                seen.append(job.id)
                fleet_job = by_id[job.id]
                assert {name: getattr(job, name) for name in JOB_FIELDS} == {
                    name: getattr(fleet_job, name) for name in JOB_FIELDS
                }
                assert as_emulator_renders(job.job_action) == emu.app.job_action(job.id)
                assert [child.id for child in job.children or []] == fleet_job.children
                for child in job.children or []:
                    assert by_id[child.id].parent_id == job.id
                    assert as_emulator_renders(child.job_action) == emu.app.job_action(child.id)
            offset += 7
        assert len(seen) == len(set(seen)) and set(seen) == expected
    assert any(by_id[j].children for j in emu.job_ids)


def test_list_jobs_with_filters_the_sdk_encodes(emu, monkeypatch):
    client = sdk_client(emu, monkeypatch)
    response = client.list_jobs(
        ListJobsRequest(job_type="sync", name="a b+c:d,é,名前", status="", sort_key="name", sort_dir="asc")
    )
    assert response.total_count == 0 and response.jobs == []
    target = next(j for j in emu.fleet if j.job_type == "sync" and j.parent_id is None)
    response = client.list_jobs(ListJobsRequest(job_type="sync", name=target.id, x_language="zh-cn"))
    assert [job.id for job in response.jobs] == [target.id]


def test_unknown_job_raises_client_request_exception(emu, monkeypatch):
    client = sdk_client(emu, monkeypatch)
    with pytest.raises(ClientRequestException) as caught:
        client.show_actions(ShowActionsRequest(job_id="00000000-0000-4000-8000-0000000jb000"))
    error = caught.value
    assert error.status_code == 400 and error.error_code == "DRS.10000010"
    assert error.error_msg == "Job does not exist, please check job ID."
    assert REQUEST_ID.match(error.request_id)


def test_list_without_job_type_raises(emu, monkeypatch):
    client = sdk_client(emu, monkeypatch)
    with pytest.raises(ClientRequestException) as caught:
        client.list_jobs(ListJobsRequest())
    assert caught.value.status_code == 400 and caught.value.error_code == "DRS.M00201"
    with pytest.raises(ClientRequestException) as caught:
        client.list_jobs(ListJobsRequest(job_type="sync", limit=1001))
    assert caught.value.error_code == "DRS.M00211"


def test_wrong_secret_key_is_401(emu, monkeypatch):
    client = sdk_client(emu, monkeypatch, sk="not-the-secret-key-at-all")
    with pytest.raises(ClientRequestException) as caught:
        client.show_actions(ShowActionsRequest(job_id=emu.job_ids[0]))
    assert caught.value.status_code == 401 and caught.value.error_code == "APIGW.0301"
    assert REQUEST_ID.match(caught.value.request_id)


def test_temporary_credentials_with_a_security_token(monkeypatch):
    with Emulator(jobs=10, seed=2, security_token="sts-temporary-token") as emu:
        client = sdk_client(emu, monkeypatch, security_token="sts-temporary-token")
        job_id = emu.job_ids[0]
        job_action = client.show_actions(ShowActionsRequest(job_id=job_id)).job_action
        assert as_emulator_renders(job_action) == emu.app.job_action(job_id)
        assert client.list_jobs(ListJobsRequest(job_type="sync")).total_count >= 0
        for token in (None, "another-token"):
            client = sdk_client(emu, monkeypatch, security_token=token)
            with pytest.raises(ClientRequestException) as caught:
                client.show_actions(ShowActionsRequest(job_id=job_id))
            assert caught.value.status_code == 401 and caught.value.error_code == "APIGW.0301"


def test_the_sdk_and_our_fetcher_return_the_same_data(emu, monkeypatch, tmp_path):
    """Every job: the SDK's show_actions and list_jobs against fetch_actions and fetch_fleet (AK/SK both)."""
    from drs_analytics import DRSClient, fetch_actions, fetch_fleet

    sdk = sdk_client(emu, monkeypatch)
    sdk_actions = {}
    for job_id in emu.job_ids:
        ja = sdk.show_actions(ShowActionsRequest(job_id=job_id)).job_action
        sdk_actions[job_id] = (set(ja.available_actions or []), set(ja.unavailable_actions or []), ja.current_action)
    sdk_meta = {}
    for job_type in JOB_TYPES:
        offset = 0
        while True:
            jobs = sdk.list_jobs(ListJobsRequest(job_type=job_type, offset=offset, limit=1000)).jobs or []
            for job in jobs:
                sdk_meta[job.id] = (job.name, job.status, job.job_type, None)
                for child in job.children or []:
                    sdk_meta[child.id] = (child.name, child.status, child.job_type, job.id)
            if len(jobs) < 1000:
                break
            offset += len(jobs)

    with DRSClient(endpoint=emu.url, region=emu.region, project_id=emu.project_id, ak=emu.ak, sk=emu.sk,
                   cache=tmp_path / "c.sqlite") as client:
        per_job = fetch_actions(emu.job_ids, client=client, progress=False)
        fleet = fetch_fleet(client)

    def ours(result):
        out = {}
        for job_id, rows in result.frame.groupby("job_id", observed=True):
            out[job_id] = (set(rows.loc[rows["available"], "action"]), set(rows.loc[~rows["available"], "action"]))
        current = result.jobs.set_index("job_id")["current_action"]
        return {j: (*out.get(j, (set(), set())), None if pd.isna(current[j]) else current[j]) for j in current.index}

    assert ours(per_job) == sdk_actions
    assert ours(fleet) == sdk_actions
    jobs = fleet.jobs.set_index("job_id")
    ours_meta = {
        j: (r["job_name"], r["status"], r["job_type"], None if pd.isna(r["parent_id"]) else r["parent_id"])
        for j, r in jobs.iterrows()
    }
    assert ours_meta == sdk_meta and len(sdk_meta) == len(emu.job_ids)
