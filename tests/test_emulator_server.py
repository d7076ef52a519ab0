"""The threaded server: lifecycle, keep-alive, concurrency, faults and the CLI."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from drs_analytics.emulator import DRSApp, Emulator, Faults, Job, job_actions, make_fleet
from drs_analytics.emulator.cli import add_arguments, run

pytestmark = pytest.mark.timeout(60)

T = 5  # seconds, every request is bounded


def actions_url(emu, job_id=None):
    return f"{emu.url}/v5/{emu.project_id}/jobs/{job_id or emu.job_ids[0]}/actions"


def get(emu, job_id=None, **kwargs):
    return requests.get(actions_url(emu, job_id), headers={"X-Auth-Token": emu.token}, timeout=T, **kwargs)


def raw_exchange(port, request: bytes, *, read_until_close=False) -> bytes:
    """Send raw bytes and read the answer (until close, or one response)."""
    with socket.create_connection(("127.0.0.1", port), timeout=T) as sock:
        sock.sendall(request)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
            if not read_until_close and b"\r\n\r\n" in data:
                head, _, body = data.partition(b"\r\n\r\n")
                lengths = [h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")]
                length = int(lengths[0].split(b":")[1])
                if len(body) >= length:
                    return data


# --- lifecycle -------------------------------------------------------------------------------


def test_port_zero_gives_a_free_port():
    with Emulator(jobs=5) as emu:
        assert emu.port > 0 and emu.url == f"http://127.0.0.1:{emu.port}"
        assert get(emu).status_code == 200


def test_attributes():
    emu = Emulator(jobs=12, seed=3, token="tok")
    assert len(emu.job_ids) == 12 and emu.job_ids == [j.id for j in emu.fleet]
    assert emu.token == "tok" and len(emu.project_id) == 32 and int(emu.project_id, 16) >= 0
    assert Emulator(jobs=1, seed=3).project_id == emu.project_id != Emulator(jobs=1, seed=4).project_id
    assert Emulator(jobs=1).token != Emulator(jobs=1).token  # random by default
    assert isinstance(emu.app, DRSApp)
    with pytest.raises(RuntimeError, match="start"):
        emu.url  # noqa: B018
    assert "stopped" in repr(emu)


def test_credential_attributes_and_defaults():
    emu, other = Emulator(jobs=1, seed=3), Emulator(jobs=1, seed=3)
    assert len(emu.ak) == 20 and emu.ak.isalnum() and emu.ak == emu.ak.upper()
    assert len(emu.sk) == 40 and emu.sk.isalnum()
    assert (emu.ak, emu.sk, emu.password) != (other.ak, other.sk, other.password)  # random by default
    assert (emu.username, emu.domain, emu.region) == ("drs-auditor", "drs-demo", "cn-south-2")
    assert emu.security_token is None and emu.token_validity == 86400
    assert (emu.app.list_default_limit, emu.app.list_max_limit) == (10, 1000)
    given = Emulator(jobs=1, ak="AK1", sk="SK1", username="u", password="pw", domain="d", region="cn-south-4",
                     security_token="sts", token_validity=60, list_default_limit=5, list_max_limit=20)  # fmt: skip
    assert (given.ak, given.sk, given.username, given.password, given.domain) == ("AK1", "SK1", "u", "pw", "d")
    assert (given.region, given.security_token, given.token_validity) == ("cn-south-4", "sts", 60)
    assert (given.app.list_default_limit, given.app.list_max_limit) == (5, 20)
    with given:
        assert given.iam_url == given.url
        assert given.sdk_env() == {
            "HUAWEICLOUD_SDK_REGION_DRS_CN_SOUTH_4": given.url,
            "HUAWEICLOUD_SDK_IAM_ENDPOINT": given.url,
            "HUAWEICLOUD_SDK_AK": "AK1",
            "HUAWEICLOUD_SDK_SK": "SK1",
            "HUAWEICLOUD_SDK_PROJECT_ID": given.project_id,
            "HUAWEICLOUD_SDK_SECURITY_TOKEN": "sts",
        }
        assert not {"SK1", "pw", "sts", given.token} & set(repr(given).replace(">", " ").split())
    with pytest.raises(RuntimeError, match="start"):
        given.sdk_env()


def test_own_fleet():
    jobs = [Job(id=f"job-{i}", name=f"DRS-{i:04d}", status="PAUSING") for i in range(3)]
    with Emulator(fleet=jobs) as emu:
        assert emu.job_ids == ["job-0", "job-1", "job-2"] and emu.fleet == jobs
        assert get(emu, "job-1").status_code == 200


def test_two_emulators_at_once():
    with Emulator(jobs=10, seed=1) as a, Emulator(jobs=10, seed=2) as b:
        assert a.port != b.port and a.project_id != b.project_id
        assert get(a).status_code == 200 and get(b).status_code == 200
        assert get(a, b.job_ids[0]).status_code == 400  # b's job is unknown to a
        foreign = requests.get(actions_url(a), headers={"X-Auth-Token": b.token}, timeout=T)
        assert foreign.status_code == 401


def test_start_twice_and_stop_twice():
    emu = Emulator(jobs=3).start()
    try:
        with pytest.raises(RuntimeError, match="already"):
            emu.start()
    finally:
        emu.stop()
    emu.stop()
    assert not emu.running


def test_restart_after_stop():
    emu = Emulator(jobs=3)
    for _ in range(2):
        with emu:
            assert get(emu).status_code == 200


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"jobs": -1}, "jobs"),
        ({"jobs": 2.5}, "jobs"),
        ({"port": 70000}, "port"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"jitter_ms": float("nan")}, "jitter_ms"),
        ({"token": ""}, "token"),
        ({"project_id": "a/b"}, "project_id"),
        ({"idle_current_action": "none"}, "idle_current_action"),
        ({"faults": {"error_500": 1}}, "faults"),
        ({"host": ""}, "host"),
        ({"ak": "AK WITH SPACE"}, "ak"),
        ({"ak": ""}, "ak"),
        ({"sk": ""}, "sk"),
        ({"security_token": ""}, "security_token"),
        ({"username": ""}, "username"),
        ({"password": ""}, "password"),
        ({"domain": 5}, "domain"),
        ({"region": "CN South 2"}, "region"),
        ({"token_validity": 0}, "token_validity"),
        ({"token_validity": float("inf")}, "token_validity"),
        ({"list_max_limit": 0}, "list_max_limit"),
        ({"list_default_limit": 2000}, "list_default_limit"),
        ({"clock": 12.0}, "clock"),
        ({"jobs": 3, "fleet": []}, "fleet"),
        ({"fleet": ["not a job"]}, "fleet"),
        ({"fleet": [Job(id="a", name="DRS-1", status="PAUSING")] * 2}, "unique"),
    ],
)
def test_constructor_validation(kwargs, word):
    with pytest.raises(ValueError, match=word):
        Emulator(**(kwargs if "fleet" in kwargs else {"jobs": 1, **kwargs}))


@pytest.mark.parametrize("name", ["sk", "password", "security_token"])
def test_validation_errors_hide_secrets(name):
    with pytest.raises(ValueError, match=name) as caught:
        Emulator(jobs=1, **{name: " hunter2 "})
    assert "hunter2" not in str(caught.value)


def test_stop_is_prompt_with_idle_keep_alive_connections():
    emu = Emulator(jobs=5).start()
    sessions = [requests.Session() for _ in range(4)]
    for session in sessions:
        assert session.get(actions_url(emu), headers={"X-Auth-Token": emu.token}, timeout=T).status_code == 200
    silent = socket.create_connection(("127.0.0.1", emu.port), timeout=T)  # connected, never speaks
    partial = socket.create_connection(("127.0.0.1", emu.port), timeout=T)
    partial.sendall(b"GET /v5/")  # half a request line
    time.sleep(0.1)
    port, start = emu.port, time.monotonic()
    emu.stop()
    assert time.monotonic() - start < 2
    assert silent.recv(1) == b"" and partial.recv(1) == b""  # closed by the server
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()  # listener closed
    for sock in (silent, partial, *sessions):
        sock.close()


def test_stop_interrupts_injected_latency():
    emu = Emulator(jobs=3, latency_ms=20_000).start()
    outcome: queue.Queue = queue.Queue()
    worker = threading.Thread(target=lambda: outcome.put(_swallow(lambda: get(emu))), daemon=True)
    worker.start()
    time.sleep(0.2)  # the request is now waiting out its 20 s latency
    start = time.monotonic()
    emu.stop()
    assert time.monotonic() - start < 2
    worker.join(T)
    assert not worker.is_alive()
    assert outcome.get_nowait() is not None  # a (late) response or a connection error, not a hang


def _swallow(call):
    try:
        return call()
    except requests.RequestException as exc:
        return exc


# --- HTTP/1.1 behaviour --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emu():
    with Emulator(jobs=50, seed=5) as emulator:
        yield emulator


def request_bytes(emu, *, extra=b"") -> bytes:
    path = f"/v5/{emu.project_id}/jobs/{emu.job_ids[0]}/actions".encode()
    return b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nX-Auth-Token: " + emu.token.encode() + b"\r\n" + extra + b"\r\n"


def test_connection_close_honoured(emu):
    data = raw_exchange(emu.port, request_bytes(emu, extra=b"Connection: close\r\n"), read_until_close=True)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and b"\r\nConnection: close" in head
    assert json.loads(body)["job_action"]  # then the server closed: read_until_close returned


def test_pipelined_requests_on_one_connection(emu):
    data = raw_exchange(emu.port, request_bytes(emu) * 2 + request_bytes(emu, extra=b"Connection: close\r\n"),
                        read_until_close=True)  # fmt: skip
    assert data.count(b"HTTP/1.1 200 OK") == 3


def test_request_body_is_read_and_the_stream_stays_intact(emu):
    with requests.Session() as session:
        session.headers["X-Auth-Token"] = emu.token
        assert session.post(actions_url(emu), data=b"x" * 5000, timeout=T).status_code == 404
        assert session.get(actions_url(emu), timeout=T).status_code == 200  # same connection, stream intact


def test_head_has_no_body(emu):
    response = requests.head(actions_url(emu), timeout=T)
    assert response.status_code == 404 and response.content == b""


def test_keep_alive_adds_no_nagle_delay(emu):
    """Sequential keep-alive requests: a headers-then-body server would take >= 40 ms each."""
    with requests.Session() as session:
        session.headers["X-Auth-Token"] = emu.token
        times = []
        for _ in range(30):
            start = time.perf_counter()
            assert session.get(actions_url(emu), timeout=T).status_code == 200
            times.append(time.perf_counter() - start)
    # not a speed target: a generous bound that only the ~40 ms Nagle/delayed-ACK stall breaks
    assert statistics.median(times) < 0.035


def test_latency_and_jitter():
    with Emulator(jobs=3, latency_ms=100, jitter_ms=50) as emu:
        start = time.perf_counter()
        assert get(emu).status_code == 200
        assert 0.1 <= time.perf_counter() - start < 1.0


def test_concurrent_keep_alive_sessions():
    with Emulator(jobs=100, seed=9, latency_ms=25) as emu:
        expected = {job.id: list(job_actions(job)) for job in emu.fleet}

        def worker(k: int) -> int:
            ok = 0
            with requests.Session() as session:
                session.headers["X-Auth-Token"] = emu.token
                for i in range(20):
                    job_id = emu.job_ids[(k * 20 + i) % len(emu.job_ids)]
                    response = session.get(actions_url(emu, job_id), timeout=T)
                    body = response.json()["job_action"]
                    ok += response.status_code == 200 and [
                        body["available_actions"], body["unavailable_actions"], body["current_action"]
                    ] == expected[job_id]  # fmt: skip
            return ok

        start = time.perf_counter()
        with ThreadPoolExecutor(32) as pool:
            results = list(pool.map(worker, range(32)))
        elapsed = time.perf_counter() - start
        assert results == [20] * 32
        assert emu.app.request_count == 640
        assert elapsed < 10  # 20 sequential x 25 ms = 0.5 s per thread at best


# --- faults --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, word",
    [({"error_500": 1.5}, "error_500"), ({"reset": -0.1}, "reset"), ({"slow": float("nan")}, "slow"),
     ({"slow_seconds": -1}, "slow_seconds"), ({"retry_after": 1.5}, "retry_after"), ({"malformed": "x"}, "malformed")],
)  # fmt: skip
def test_faults_validation(kwargs, word):
    with pytest.raises(ValueError, match=word):
        Faults(**kwargs)


def test_fault_500():
    with Emulator(jobs=3, faults=Faults(error_500=1.0)) as emu:
        response = get(emu)
    assert response.status_code == 500
    assert response.content == b'{"error_code":"DRS.M00004","error_msg":"Service is abnormal. Check logs."}'
    assert len(response.headers["X-Request-Id"]) == 32


def test_fault_429_with_retry_after():
    with Emulator(jobs=3, faults=Faults(throttle_429=1.0, retry_after=3)) as emu:
        response = get(emu)
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"
    body = response.json()
    assert body["error_code"] == "APIGW.0308" and body["request_id"] == response.headers["X-Request-Id"]
    assert body["error_msg"].startswith("The throttling threshold has been reached: policy user over ratelimit")


def test_fault_reset():
    with Emulator(jobs=3, faults=Faults(reset=1.0)) as emu:
        with pytest.raises(requests.ConnectionError):
            get(emu)
        assert emu.app.request_count == 1


def test_fault_malformed():
    with Emulator(jobs=3, faults=Faults(malformed=1.0)) as emu:
        response = get(emu)
    assert response.status_code == 200
    assert response.content.startswith(b'{"job_action":')
    with pytest.raises(ValueError):
        json.loads(response.content)


def test_fault_slow():
    with Emulator(jobs=3, faults=Faults(slow=1.0, slow_seconds=0.3)) as emu:
        start = time.perf_counter()
        response = get(emu)
        assert time.perf_counter() - start >= 0.3
    assert response.status_code == 200 and response.json()["job_action"]


def test_no_faults_at_rate_zero():
    with Emulator(jobs=10, faults=Faults()) as emu, requests.Session() as session:
        session.headers["X-Auth-Token"] = emu.token
        for job_id in emu.job_ids * 5:
            response = session.get(actions_url(emu, job_id), timeout=T)
            assert response.status_code == 200 and response.json()["job_action"]


def test_fault_404_and_routes_unfaulted():
    with Emulator(jobs=3, faults=Faults(error_500=1.0)) as emu:
        assert requests.get(emu.url + "/nothing", timeout=T).status_code == 404


def fault_sequence(seed: int) -> list[int]:
    fleet = make_fleet(3, seed=1)
    app = DRSApp(fleet, project_id="p", token="t", faults=Faults(error_500=0.3, throttle_429=0.3), seed=seed)
    return [app.handle("GET", f"/v5/p/jobs/{fleet[0].id}/actions", {"X-Auth-Token": "t"}).status for _ in range(60)]


def test_faults_reproducible_for_a_seed():
    first = fault_sequence(4)
    assert first == fault_sequence(4) and first != fault_sequence(5)
    assert {200, 429, 500} == set(first)


# --- CLI -----------------------------------------------------------------------------------------


def _read_lines(stream, out: queue.Queue) -> None:
    for line in stream:
        out.put(line)


def _announced(proc, count=4, timeout=20.0) -> list[str]:
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + timeout
    return [lines.get(timeout=max(0.1, deadline - time.monotonic())).rstrip("\n") for _ in range(count)]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery differs on Windows")
def test_python_m_prints_settings_and_stops_on_sigint():
    cmd = [sys.executable, "-m", "drs_analytics.emulator", "--port", "0", "--jobs", "20", "--seed", "3",
           "--token", "secret-token", "--latency-ms", "1"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = _announced(proc)
        settings = dict(line.split("=", 1) for line in lines[:3])
        assert list(settings) == ["DRS_ENDPOINT", "DRS_PROJECT_ID", "DRS_AUTH_TOKEN"]
        assert lines[3].startswith("# ")
        assert settings["DRS_AUTH_TOKEN"] == "secret-token" and len(settings["DRS_PROJECT_ID"]) == 32
        job_id = make_fleet(20, seed=3)[0].id
        url = f"{settings['DRS_ENDPOINT']}/v5/{settings['DRS_PROJECT_ID']}/jobs/{job_id}/actions"
        assert requests.get(url, headers={"X-Auth-Token": "secret-token"}, timeout=T).status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        proc.stdout.close()
        proc.stderr.close()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery differs on Windows")
def test_cli_credentials_options_and_env_file(tmp_path):
    env_file = tmp_path / "emu.env"
    cmd = [sys.executable, "-m", "drs_analytics.emulator", "--port", "0", "--jobs", "20", "--seed", "3",
           "--region", "cn-south-4", "--ak", "AKFROMTHECLI", "--sk", "sk-from-the-cli", "--token-validity", "120",
           "--list-max-limit", "50", "--env-file", str(env_file)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = _announced(proc)
        settings = dict(line.split("=", 1) for line in lines[:3])
        assert list(settings) == ["DRS_ENDPOINT", "DRS_PROJECT_ID", "DRS_AUTH_TOKEN"]  # unchanged
        url = settings["DRS_ENDPOINT"]
        exported = dict(line.removeprefix("export ").split("=", 1) for line in env_file.read_text().splitlines())
        assert list(exported) == [
            "DRS_ENDPOINT", "DRS_PROJECT_ID", "DRS_AUTH_TOKEN", "HUAWEICLOUD_SDK_REGION_DRS_CN_SOUTH_4",
            "HUAWEICLOUD_SDK_IAM_ENDPOINT", "HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_PROJECT_ID",
            "DRS_IAM_USERNAME", "DRS_IAM_PASSWORD", "DRS_IAM_DOMAIN",
        ]  # fmt: skip
        assert {k: v for k, v in exported.items() if k in settings} == settings
        assert exported["HUAWEICLOUD_SDK_REGION_DRS_CN_SOUTH_4"] == exported["HUAWEICLOUD_SDK_IAM_ENDPOINT"] == url
        assert exported["HUAWEICLOUD_SDK_AK"] == "AKFROMTHECLI" and exported["HUAWEICLOUD_SDK_SK"] == "sk-from-the-cli"
        assert exported["HUAWEICLOUD_SDK_PROJECT_ID"] == settings["DRS_PROJECT_ID"]
        if os.name == "posix":
            assert env_file.stat().st_mode & 0o077 == 0  # secrets: owner only
        user = {
            "name": exported["DRS_IAM_USERNAME"],
            "password": exported["DRS_IAM_PASSWORD"],
            "domain": {"name": exported["DRS_IAM_DOMAIN"]},
        }
        identity = {"methods": ["password"], "password": {"user": user}}
        body = {"auth": {"identity": identity, "scope": {"project": {"name": "cn-south-4"}}}}
        issued = requests.post(f"{url}/v3/auth/tokens", json=body, timeout=T)
        assert issued.status_code == 201
        assert issued.json()["token"]["expires_at"] > issued.json()["token"]["issued_at"]
        jobs_url = f"{url}/v5/{settings['DRS_PROJECT_ID']}/jobs"
        headers = {"X-Auth-Token": issued.headers["X-Subject-Token"]}
        assert requests.get(jobs_url, params={"job_type": "sync", "limit": 50}, headers=headers, timeout=T).ok
        too_many = requests.get(jobs_url, params={"job_type": "sync", "limit": 51}, headers=headers, timeout=T)
        assert too_many.json()["error_code"] == "DRS.M00211"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        proc.stdout.close()
        proc.stderr.close()


def test_cli_rejects_bad_credentials_options(capsys):
    assert run(_parse(["--port", "0", "--jobs", "1", "--ak", "not valid"])) == 2
    assert "ak" in capsys.readouterr().err
    assert run(_parse(["--port", "0", "--jobs", "1", "--list-max-limit", "0"])) == 2
    assert "list_max_limit" in capsys.readouterr().err
    assert run(_parse(["--port", "0", "--jobs", "1", "--token-validity", "-1"])) == 2
    assert "token_validity" in capsys.readouterr().err


def _parse(argv):
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_cli_rejects_bad_fault_rate(capsys):
    assert run(_parse(["--port", "0", "--fault-500", "2"])) == 2
    assert "error_500" in capsys.readouterr().err


def test_cli_reports_busy_port(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert run(_parse(["--port", str(busy.getsockname()[1]), "--jobs", "1"])) == 1
    assert "cannot bind" in capsys.readouterr().err


def test_cli_stops_on_sigterm_in_process(capsys):
    if threading.current_thread() is not threading.main_thread() or os.name != "posix":
        pytest.skip("signals need the main thread on POSIX")
    done, original = threading.Event(), signal.getsignal(signal.SIGTERM)

    def terminate_once_handled() -> None:  # never SIGTERM pytest itself before run() handles it
        deadline = time.monotonic() + 10
        while not done.is_set() and time.monotonic() < deadline:
            if signal.getsignal(signal.SIGTERM) is not original:
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(0.02)

    killer = threading.Thread(target=terminate_once_handled, daemon=True)
    killer.start()
    try:
        assert run(_parse(["--port", "0", "--jobs", "2", "--fault-429", "0.5"])) == 0
    finally:
        done.set()
        killer.join(T)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("DRS_ENDPOINT=http://127.0.0.1:") and out[1].startswith("DRS_PROJECT_ID=")
    assert signal.getsignal(signal.SIGTERM) is original  # handler restored


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_env_file_replacing_a_readable_file_is_owner_only(tmp_path):
    import argparse

    from drs_analytics.emulator.cli import _write_files

    env_file = tmp_path / "emu.env"
    env_file.write_text("old\n")
    env_file.chmod(0o644)  # left by an older version, or by hand
    with Emulator(jobs=1, seed=3) as emu:
        _write_files(emu, argparse.Namespace(env_file=str(env_file), job_ids_file=None))
        assert emu.sk in env_file.read_text()
    assert env_file.stat().st_mode & 0o077 == 0
