"""Shared fixtures: a live emulator on loopback, clients with a per-test cache file."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from drs_analytics import DRSClient, RetrySettings  # noqa: E402
from drs_analytics.emulator import Emulator  # noqa: E402

#: The API page's example: request path IDs and the 200 body.
DOC_PROJECT_ID = "5237e10fe9aa4ad5b16b6a5245248314"
DOC_JOB_ID = "163b98e8-6088-46c3-8b86-c18fea6jb502"
DOC_AVAILABLE = ["CREATE", "CHOOSE_OBJECT", "PRE_CHECK"]
DOC_UNAVAILABLE = ["START", "QUICK_START", "CHANGE", "RETRY"]
DOC_CURRENT = "SWITCH_OVER"

FAST_RETRY = RetrySettings(attempts=2, backoff=0.01, max_backoff=0.02, max_retry_after=0.05)


#: Every variable the package reads for endpoints, credentials, projects and job lists.
CONNECTION_ENV = (
    "DRS_ENDPOINT", "DRS_REGION", "DRS_PROJECT_ID", "DRS_AUTH_TOKEN", "DRS_JOBS_FILE",
    "HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN", "HUAWEICLOUD_SDK_PROJECT_ID",
    "HUAWEICLOUD_SDK_IAM_ENDPOINT", "DRS_IAM_USERNAME", "DRS_IAM_PASSWORD", "DRS_IAM_DOMAIN",
)


@pytest.fixture
def clean_env(monkeypatch):
    """No connection variable of the machine running the tests reaches the code under test."""
    for name in CONNECTION_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def emu():
    """A fresh 40-job emulator per test (so overrides and counters never leak)."""
    with Emulator(jobs=40, seed=11) as server:
        yield server


@pytest.fixture
def make_client(emu, tmp_path):
    """Factory: a client on ``emu`` with its cache in this test's folder."""
    clients = []

    def make(**kwargs):
        kwargs.setdefault("endpoint", emu.url)
        kwargs.setdefault("project_id", emu.project_id)
        kwargs.setdefault("token", emu.token)
        kwargs.setdefault("cache", tmp_path / "cache.sqlite")
        kwargs.setdefault("retry", FAST_RETRY)
        client = DRSClient(**kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client):
    return make_client()


def served(emulator) -> int:
    """Requests the emulator has answered on the actions route."""
    return emulator.app.request_count


def emulated_fleet_result(jobs: int, seed: int = 7):
    """A FetchResult of a fresh emulator fleet (no cache)."""
    from drs_analytics import fetch_actions

    with Emulator(jobs=jobs, seed=seed) as server, DRSClient(
        endpoint=server.url, project_id=server.project_id, token=server.token, cache=False
    ) as client:
        return fetch_actions(server.job_ids, client=client, progress=False)
