"""The cache identity of password credentials: a salted scrypt, stable per account, no password in it."""

from __future__ import annotations

import hashlib

import pytest

from drs_analytics import DRSClient, fetch_actions
from drs_analytics.auth import PasswordAuth

pytestmark = pytest.mark.timeout(60)

IAM = "https://iam.cn-south-2.myhuaweicloud.com"


def password_auth(username="alice", password="Tr0ub4dor&3", domain="acme", iam_endpoint=IAM):
    return PasswordAuth(username=username, password=password, domain=domain, project_id="p" * 32,
                        iam_endpoint=iam_endpoint)


def expected(password, domain, username):
    salt = b"drs-analytics/password\0" + domain.encode() + b"\0" + username.encode()
    return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=16).hex()


def test_identity_is_scrypt_of_the_password_salted_by_domain_and_user():
    auth = password_auth()
    assert auth.identity == expected("Tr0ub4dor&3", "acme", "alice")
    assert len(auth.identity) == 32
    # the unsalted sha256 it replaces is not what keys the cache any more
    assert auth.identity != hashlib.sha256(b"drs-analytics/password\0acme\0alice\0Tr0ub4dor&3").hexdigest()[:32]


def test_same_account_same_identity_other_accounts_differ():
    assert password_auth().identity == password_auth().identity  # a new process: cache hits survive
    # however IAM is reached (region, --iam-endpoint, a target's): `drs-analytics cache` finds them
    assert password_auth(iam_endpoint="https://iam.cn-south-4.myhuaweicloud.com").identity == password_auth().identity
    same_password = {
        password_auth().identity,
        password_auth(username="bob").identity,
        password_auth(domain="other").identity,
        password_auth(password="another one").identity,
    }
    assert len(same_password) == 4


def test_identity_is_computed_once_per_auth(monkeypatch):
    calls = []
    real = hashlib.scrypt

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    auth = password_auth()
    for _ in range(5):
        auth.identity
    assert len(calls) == 1


def test_password_never_in_identity_or_cache_file(emu, tmp_path):
    kwargs = dict(endpoint=emu.url, project_id=emu.project_id, username=emu.username, password=emu.password,
                  domain=emu.domain, iam_endpoint=emu.iam_url, cache=tmp_path / "c.sqlite")
    with DRSClient(**kwargs) as client:
        identity = client.identity
        assert identity == expected(emu.password, emu.domain, emu.username)
        first = fetch_actions(emu.job_ids[:5], client=client, progress=False)
        assert len(first.errors) == 0
    served = emu.app.request_count
    with DRSClient(**kwargs) as again:  # a restart: same identity, the cache answers
        assert again.identity == identity
        second = fetch_actions(emu.job_ids[:5], client=again, progress=False)
        assert second.jobs["from_cache"].all() and emu.app.request_count == served
    assert emu.password not in identity
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("c.sqlite*"))
    assert raw and emu.password.encode() not in raw
    assert hashlib.sha256(emu.password.encode()).hexdigest()[:16].encode() not in raw
