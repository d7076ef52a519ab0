"""Hostile and odd input, one table: every case has one exact expected outcome.

Each row is a hostile job ID, input list, project ID, response body or server, and
what must come of it: an error record (its type, status, code, message, attempts),
rows read from an odd but valid body, or a clear exception for a caller mistake.
No case ever crashes a fleet fetch, and every case also fetches two good jobs (in the
same fetch, or, when the case breaks the whole call, right after with a sound client)
and checks that their rows are intact.
"""

from __future__ import annotations

import json
import math
import socket
import threading
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest

from drs_analytics import DRSClient, fetch_actions
from drs_analytics.exceptions import ConfigurationError, InvalidIDError

from .conftest import FAST_RETRY

pytestmark = pytest.mark.timeout(60)

UNKNOWN = "00000000-0000-4000-8000-000000000jb000"
NA = None


# -- what a case expects ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Err:
    """The case's job ends as exactly this error record."""

    error_type: str
    status: int | None = None
    code: str | None = None
    msg: str | None = None  # the start of error_msg (the API's own message, or the problem)
    attempts: int = 1
    label: str | None = None  # the job_id of the record, when it is not the input itself


@dataclass(frozen=True)
class Rows:
    """The case's job is read: ``rows`` (action, available) pairs, or their number, and its current action."""

    rows: tuple[tuple[str, bool], ...] | int
    current: str | None = None


@dataclass(frozen=True)
class Raises:
    """A caller mistake: this exception, this message, before any request."""

    exc: type[BaseException]
    match: str


@dataclass(frozen=True)
class Outcome:
    """For whole-input cases: the fetched job IDs (goods implied) and the error labels, and requests sent."""

    errors: tuple[str, ...] = ()
    requests: int = 2
    error_type: str | None = None


@dataclass(frozen=True)
class Case:
    id: str
    kind: str  # id | ids | call | project | body | hang | silent
    payload: Any
    expect: Err | Rows | Raises | Outcome


def _html(status: int, reason: str) -> bytes:
    return f"<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1></body></html>".encode()


def _body(action: Any) -> bytes:
    return json.dumps({"job_action": action}).encode()


def bad_id(msg: str, label: str | None = None) -> Err:
    """An ID refused before any request: no status, no code, zero attempts."""
    return Err("InvalidIDError", msg=msg, attempts=0, label=label)


HUGE = tuple(f"ACTION_{i}" for i in range(20_000))
M = "MalformedResponseError"

CASES = [
    # -- job IDs: refused before any request, an InvalidIDError record each ------------------------
    Case("id slash", "id", "a/b", bad_id("invalid job ID 'a/b': contains '/'")),
    Case("id question mark", "id", "a?b", bad_id("invalid job ID 'a?b': contains '?'")),
    Case("id hash", "id", "a#b", bad_id("invalid job ID 'a#b': contains '#'")),
    Case("id percent", "id", "a%2Fb", bad_id("invalid job ID 'a%2Fb': contains '%'")),
    Case("id dot-dot", "id", "..", bad_id("invalid job ID '..': contains '..'")),
    Case("id dot-dot inside", "id", "a..b", bad_id("invalid job ID 'a..b': contains '..'")),
    Case("id space", "id", "a b", bad_id("invalid job ID 'a b': contains whitespace")),
    Case("id tab", "id", "a\tb", bad_id("invalid job ID 'a\\tb': contains whitespace")),
    Case("id NUL", "id", "a\x00b", bad_id("invalid job ID 'a\\x00b': contains a control character")),
    Case("id DEL", "id", "a\x7fb", bad_id("invalid job ID 'a\\x7fb': contains a control character")),
    Case("id unicode", "id", "jöb-1", bad_id("invalid job ID 'jöb-1': contains non-ASCII characters")),
    Case("id bidi override", "id", "\u202ejob", bad_id("invalid job ID '\\u202ejob': contains non-ASCII characters")),
    Case("id formula", "id", "=1+1", bad_id("invalid job ID '=1+1': contains '+', '='")),
    Case("id empty", "id", "", bad_id("invalid job ID '': is empty")),
    Case("id blank", "id", "   ", bad_id("invalid job ID '   ': is only whitespace")),
    Case("id too long", "id", "a" * 129,  # the ID is cut to 80 characters in the message
         bad_id("invalid job ID '" + "a" * 79 + ": is 129 characters long (at most 128)")),
    Case("id None", "id", None, bad_id("invalid job ID '<NoneType: None>': is a NoneType",
                                    label="<NoneType: None>")),
    Case("id int", "id", 5, bad_id("invalid job ID '<int: 5>': is a int", label="<int: 5>")),
    Case("id bytes", "id", b"job", bad_id("invalid job ID \"<bytes: b'job'>\": is a bytes",
                                       label="<bytes: b'job'>")),
    Case("id NaN", "id", math.nan, bad_id("invalid job ID '<float: nan>'", label="<float: nan>")),
    Case("id pd.NA", "id", pd.NA, bad_id("invalid job ID '<NAType: <NA>>'", label="<NAType: <NA>>")),
    Case("id list", "id", ["x"], bad_id("invalid job ID \"<list: ['x']>\"", label="<list: ['x']>")),
    Case("id well-formed, unknown", "id", UNKNOWN,
         Err("JobNotFoundError", 400, "DRS.10000010", "Job does not exist, please check job ID.")),
    # -- whole inputs ----------------------------------------------------------------------------
    Case("10,000 duplicates", "ids", lambda good: [good[0]] * 10_000 + [good[1]] * 3, Outcome()),
    Case("10,000 duplicate bad IDs", "ids", lambda good: [good[0], *["a/b"] * 10_000, good[1]],
         Outcome(("a/b",), error_type="InvalidIDError")),
    Case("empty list", "ids", lambda good: [], Outcome(requests=0)),
    Case("generator", "ids", lambda good: (j for j in good), Outcome()),
    Case("Series with NA", "ids", lambda good: pd.Series([good[0], None, good[1]], dtype="string"),
         Outcome(("<NAType: <NA>>",), error_type="InvalidIDError")),
    # -- caller mistakes: a clear exception, no request --------------------------------------------
    Case("a single string", "call", lambda good: fetch_args(good[0]),
         Raises(TypeError, r"job_ids must be a list of job IDs, not a single string; wrap it: \[job_id\]")),
    Case("a single bytes", "call", lambda good: fetch_args(good[0].encode()),
         Raises(TypeError, "not a single string")),
    Case("a DataFrame", "call", lambda good: fetch_args(pd.DataFrame({"job_id": good})),
         Raises(TypeError, "not a DataFrame; pick the column")),
    Case("not iterable", "call", lambda good: fetch_args(5),
         Raises(TypeError, "job_ids must be an iterable of job IDs, got int")),
    Case("max_workers 0", "call", lambda good: fetch_args(good, max_workers=0),
         Raises(ValueError, "max_workers must be a positive integer, got 0")),
    # -- project IDs ---------------------------------------------------------------------------------
    Case("project slash", "project", "a/b", Raises(InvalidIDError, "invalid project ID 'a/b': contains '/'")),
    Case("project dot-dot", "project", "..", Raises(InvalidIDError, "invalid project ID '..': contains '..'")),
    Case("project empty", "project", "", Raises(InvalidIDError, "invalid project ID '': is empty")),
    Case("project space", "project", "p 1", Raises(InvalidIDError, "invalid project ID 'p 1': contains whitespace")),
    Case("project unicode", "project", "prøject", Raises(InvalidIDError, "contains non-ASCII characters")),
    Case("project query", "project", "p?x=1", Raises(InvalidIDError, "invalid project ID 'p\\?x=1': contains '\\?'")),
    Case("project too long", "project", "p" * 200, Raises(InvalidIDError, "is 200 characters long")),
    Case("project int", "project", 1234, Raises(InvalidIDError, "invalid project ID 1234: is a int")),
    Case("project not owned", "project", "0" * 32,
         Err("PermissionDeniedError", 403, "DRS.M00261", "Invalid project ID.")),
    # -- response bodies ------------------------------------------------------------------------------
    Case("truncated JSON", "body", (200, b'{"job_action": {"available_actions": ["PAU', {}),
         Err(M, 200, msg="response body is not JSON (JSONDecodeError", attempts=2)),
    Case("HTML 502 from a gateway", "body", (502, _html(502, "Bad Gateway"), {"Content-Type": "text/html"}),
         Err("ServerError", 502, msg="<html><head><title>502 Bad Gateway</title>", attempts=2)),
    Case("HTML 504 from a gateway", "body", (504, _html(504, "Gateway Time-out"), {"Content-Type": "text/html"}),
         Err("ServerError", 504, msg="<html><head><title>504 Gateway Time-out", attempts=2)),
    Case("HTML page with 200", "body", (200, _html(200, "Login"), {"Content-Type": "text/html"}),
         Err(M, 200, msg="response body is not JSON", attempts=2)),
    Case("empty body 200", "body", (200, b"", {}), Err(M, 200, msg="response body is not JSON", attempts=2)),
    Case("empty object", "body", (200, b"{}", {}),
         Err(M, 200, msg="response body is not a job_action: no 'job_action' object", attempts=2)),
    Case("job_action null", "body", (200, b'{"job_action": null}', {}),
         Err(M, 200, msg="response body is not a job_action: no 'job_action' object", attempts=2)),
    Case("JSON array", "body", (200, b"[]", {}), Err(M, 200, msg="response body is not a job_action", attempts=2)),
    Case("JSON string", "body", (200, b'"job_action"', {}), Err(M, 200, msg="response body is not a job_action",
                                                                 attempts=2)),
    Case("list of ints", "body", (200, _body({"available_actions": [1, 2]}), {}),
         Err(M, 200, msg="response body is not a job_action: available_actions holds a int (1)", attempts=2)),
    Case("list of objects", "body", (200, _body({"unavailable_actions": [{"name": "PAUSE"}]}), {}),
         Err(M, 200, msg="response body is not a job_action: unavailable_actions holds a dict", attempts=2)),
    Case("list of nulls", "body", (200, _body({"available_actions": [None]}), {}),
         Err(M, 200, msg="response body is not a job_action: available_actions holds a NoneType", attempts=2)),
    Case("NaN in a list", "body", (200, b'{"job_action": {"available_actions": [NaN]}}', {}),
         Err(M, 200, msg="response body is not a job_action: available_actions holds a float (nan)", attempts=2)),
    Case("list is a string", "body", (200, _body({"available_actions": "PAUSE"}), {}),
         Err(M, 200, msg="response body is not a job_action: available_actions is a str, not a list", attempts=2)),
    Case("current_action a number", "body", (200, _body({"current_action": 5}), {}),
         Err(M, 200, msg="response body is not a job_action: current_action is a int, not a string", attempts=2)),
    Case("not UTF-8", "body", (200, b'\xff\xfe{"job_action"', {}),
         Err(M, 200, msg="response body is not JSON (UnicodeDecodeError", attempts=2)),
    Case("deep nesting", "body", (200, b"[" * 100_000, {}),
         Err(M, 200, msg="response body is not JSON (RecursionError", attempts=2)),
    Case("204 no content", "body", (204, b"", {}), Err(M, 204, msg="response body is not JSON", attempts=2)),
    Case("302 redirect is not followed", "body", (302, b"", {"Location": "http://127.0.0.1:9/steal"}),
         Err("APIError", 302, msg="HTTP 302 from GET http://127.0.0.1:")),
    Case("500 with a DRS error", "body", (500, b'{"error_code": "DRS.M00004", "error_msg": "Service is abnormal."}', {}),
         Err("ServerError", 500, "DRS.M00004", "Service is abnormal.", attempts=2)),
    Case("500 SDK-style error keys", "body", (500, b'{"code": "X.1", "message": "boom"}', {}),
         Err("ServerError", 500, "X.1", "boom", attempts=2)),
    Case("429 without Retry-After", "body",
         (429, b'{"error_code": "APIGW.0308", "error_msg": "The throttling threshold has been reached"}', {}),
         Err("ThrottledError", 429, "APIGW.0308", "The throttling threshold has been reached", attempts=2)),
    Case("401 for one job", "body", (401, b'{"error_code": "APIGW.0301", "error_msg": "nope"}', {}),
         Err("AuthenticationError", 401, "APIGW.0301", "nope")),
    Case("404 plain text", "body", (404, b"Not Found", {"Content-Type": "text/plain"}),
         Err("APIError", 404, None, "Not Found")),
    Case("null lists", "body", (200, _body({"available_actions": None, "unavailable_actions": None,
                                            "current_action": None}), {}), Rows(())),
    Case("missing current_action", "body", (200, _body({"available_actions": ["PAUSE"],
                                                        "unavailable_actions": ["START"]}), {}),
         Rows((("PAUSE", True), ("START", False)))),
    Case("missing everything but job_action", "body", (200, _body({}), {}), Rows(())),
    Case("extra unknown fields", "body",
         (200, b'{"job_action": {"available_actions": ["PAUSE"], "x": {"y": [1]}}, "z": null}', {}),
         Rows((("PAUSE", True),))),
    Case("blank current_action", "body", (200, _body({"available_actions": ["RETRY"], "current_action": " "}), {}),
         Rows((("RETRY", True),))),
    Case("unknown action names kept", "body",
         (200, _body({"available_actions": ["QUICK_START", "=HACK()"], "current_action": "NEW_THING"}), {}),
         Rows((("QUICK_START", True), ("=HACK()", True)), current="NEW_THING")),
    Case("duplicate keys: the last wins", "body",
         (200, b'{"job_action": {"available_actions": ["A"], "available_actions": ["B"]}}', {}),
         Rows((("B", True),))),
    Case("byte-order mark", "body", (200, b"\xef\xbb\xbf" + _body({"available_actions": ["PAUSE"]}), {}),
         Rows((("PAUSE", True),))),
    Case("wrong content type", "body", (200, _body({"unavailable_actions": ["DELETE"]}),
                                        {"Content-Type": "text/html; charset=latin-1"}),
         Rows((("DELETE", False),))),
    Case("huge lists", "body", (200, _body({"available_actions": HUGE[:10_000], "unavailable_actions": HUGE[10_000:]}),
                                {}), Rows(20_000)),
    # -- servers that do not answer -----------------------------------------------------------------------
    Case("backend hangs past the timeout", "hang", 30.0,
         Err("TransportError", msg="timed out on GET http://127.0.0.1:", attempts=2)),
    Case("accepts the connection, never answers", "silent", None,
         Err("TransportError", msg="timed out on GET http://127.0.0.1:", attempts=2)),
]


def fetch_args(job_ids, **kwargs):
    return job_ids, kwargs


def test_the_table_has_at_least_30_cases_with_distinct_ids():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 30


# -- the one test -------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_case(case, emu, make_client, tmp_path):
    good = emu.job_ids[:2]
    client = make_client()
    run = _RUNNERS[case.kind]
    run(case, emu, client, good, make_client)


def _check_goods(result, emu, good):
    """The good jobs are fetched, with exactly the rows the emulator serves."""
    fetched = result.jobs["job_id"].tolist()
    assert [j for j in fetched if j in good] == list(good)
    for job in good:
        served = emu.app.job_action(job)
        rows = result.frame[result.frame["job_id"] == job]
        expected = {**dict.fromkeys(served["available_actions"], True),
                    **dict.fromkeys(served["unavailable_actions"], False)}
        assert dict(zip(rows["action"].astype(str), rows["available"])) == expected, job
        current = result.jobs.set_index("job_id").loc[job, "current_action"]
        assert (None if pd.isna(current) else current) == served.get("current_action")


def _check_error(result, expect: Err, label: str):
    errors = result.errors.set_index("job_id")
    assert label in errors.index, (label, result.errors)
    row = errors.loc[label]
    got = (row["error_type"], None if pd.isna(row["status_code"]) else int(row["status_code"]),
           None if pd.isna(row["error_code"]) else row["error_code"], int(row["attempts"]))
    assert got == (expect.error_type, expect.status, expect.code, expect.attempts), row.to_dict()
    if expect.msg is not None:
        assert str(row["error_msg"]).startswith(expect.msg), row["error_msg"]
    assert isinstance(row["detail"], str) and row["detail"]


def _fetch(client, ids):
    return fetch_actions(ids, client=client, progress=False)


def _run_id(case, emu, client, good, make_client):
    before = emu.app.request_count
    result = _fetch(client, [good[0], case.payload, good[1]])
    label = case.expect.label or case.payload
    _check_error(result, case.expect, label)
    assert result.errors["job_id"].tolist() == [label]
    _check_goods(result, emu, good)
    assert emu.app.request_count - before == (3 if case.expect.status else 2)
    assert result.requested == len(result.jobs) + len(result.errors) == 3


def _run_ids(case, emu, client, good, make_client):
    before = emu.app.request_count
    result = _fetch(client, case.payload(good))
    expect: Outcome = case.expect
    assert result.errors["job_id"].tolist() == list(expect.errors)
    if expect.error_type:
        assert set(result.errors["error_type"]) == {expect.error_type}
    assert emu.app.request_count - before == expect.requests
    if expect.requests:
        _check_goods(result, emu, good)
        assert len(result.jobs) == 2
    else:
        assert len(result.jobs) == 0 and len(result.frame) == 0
    assert result.requested == len(result.jobs) + len(result.errors)


def _run_call(case, emu, client, good, make_client):
    args, kwargs = case.payload(good)
    before = emu.app.request_count
    with pytest.raises(case.expect.exc, match=case.expect.match):
        fetch_actions(args, client=client, progress=False, **kwargs)
    assert emu.app.request_count == before
    _check_goods(_fetch(client, good), emu, good)  # the client is still sound


def _run_project(case, emu, client, good, make_client):
    if isinstance(case.expect, Raises):
        with pytest.raises(case.expect.exc, match=case.expect.match):
            DRSClient(endpoint=emu.url, project_id=case.payload, token=emu.token, cache=tmp_cache(client))
        assert emu.app.request_count == 0
    else:  # well-formed, but not the credential's: every job is a 403 record, none lost
        foreign = make_client(project_id=case.payload)
        result = _fetch(foreign, good)
        for job in good:
            _check_error(result, case.expect, job)
        assert len(result.jobs) == 0 and result.requested == 2
    _check_goods(_fetch(client, good), emu, good)  # the right project still works


def tmp_cache(client):
    return client.settings.cache_path


def _run_body(case, emu, client, good, make_client):
    status, body, headers = case.payload
    bad = emu.job_ids[2]
    emu.app.set_raw_response(bad, status, body, headers)
    result = _fetch(client, [good[0], bad, good[1]])
    _check_goods(result, emu, good)
    assert result.requested == len(result.jobs) + len(result.errors) == 3
    if isinstance(case.expect, Err):
        _check_error(result, case.expect, bad)
        assert len(result.errors) == 1
        assert client.cache.responses.count() == 2  # only the good answers are stored
    else:
        assert len(result.errors) == 0
        rows = result.frame[result.frame["job_id"] == bad]
        got = tuple(zip(rows["action"].astype(str), rows["available"]))
        if isinstance(case.expect.rows, int):
            assert len(got) == case.expect.rows
        else:
            assert got == case.expect.rows
        current = result.jobs.set_index("job_id").loc[bad, "current_action"]
        assert (None if pd.isna(current) else current) == case.expect.current
        assert client.cache.responses.count() == 3


def _run_hang(case, emu, client, good, make_client):
    bad = emu.job_ids[2]
    emu.app.set_raw_response(bad, 200, _body({}), delay=case.payload)  # the emulator's stop() ends the wait
    quick = make_client(timeout=0.5)
    result = _fetch(quick, [good[0], bad, good[1]])
    _check_error(result, case.expect, bad)
    _check_goods(result, emu, good)
    assert result.requested == len(result.jobs) + len(result.errors) == 3


def _run_silent(case, emu, client, good, make_client):
    with _SilentServer() as port:
        silent = make_client(endpoint=f"http://127.0.0.1:{port}", timeout=0.5)
        result = _fetch(silent, good)
    for job in good:
        _check_error(result, case.expect, job)
    assert len(result.jobs) == 0 and result.requested == 2
    _check_goods(_fetch(client, good), emu, good)  # the real endpoint is unaffected


_RUNNERS = {"id": _run_id, "ids": _run_ids, "call": _run_call, "project": _run_project, "body": _run_body,
            "hang": _run_hang, "silent": _run_silent}


class _SilentServer:
    """A TCP server on loopback that accepts connections, reads nothing and never answers."""

    def __enter__(self) -> int:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name="silent-server", daemon=True)
        self._thread.start()
        return self._sock.getsockname()[1]

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self._held.append(conn)  # held open, silent, until the end

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(5)
        for conn in self._held:
            conn.close()
        self._sock.close()


def test_a_case_never_breaks_the_next_fetch_on_the_same_client(emu, client):
    """All body cases at once, through one client: each bad job is one record, the rest intact."""
    bodies = [case for case in CASES if case.kind == "body"]
    jobs = emu.job_ids[2:2 + len(bodies)]
    for job, case in zip(jobs, bodies):
        emu.app.set_raw_response(job, *case.payload)
    result = _fetch(client, [*emu.job_ids[:2], *jobs])
    _check_goods(result, emu, emu.job_ids[:2])
    expected_errors = [job for job, case in zip(jobs, bodies) if isinstance(case.expect, Err)]
    assert result.errors["job_id"].tolist() == expected_errors
    assert result.requested == len(result.jobs) + len(result.errors) == 2 + len(bodies)


def test_configuration_mistakes_are_clear():
    with pytest.raises(ConfigurationError, match="clear text"):
        DRSClient(endpoint="http://drs.example.com", project_id="p1", token="t", cache=False)
    assert FAST_RETRY.attempts == 2  # the attempts the table expects for retried errors
