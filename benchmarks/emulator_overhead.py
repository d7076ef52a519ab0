"""How much latency does the emulator add on top of the latency it injects?

Prints the median and 95th percentile time per request over keep-alive
connections, sequential over one connection and concurrent from 16 threads
with a connection each, at 0 ms and at ``--latency-ms`` of injected latency,
for:

* ``emulator``: :class:`drs_analytics.emulator.Emulator` in this process;
* ``emu-proc``: the same started with ``python -m drs_analytics.emulator``,
  so client and server do not share a GIL (also timed with the lighter
  ``http.client`` to separate server cost from ``requests`` cost);
* ``naive``: a textbook ``http.server`` handler that writes headers and body
  separately without TCP_NODELAY, to show the ~40 ms Nagle/delayed-ACK stall
  per keep-alive request that the emulator avoids.

The overhead column is the median minus the injected latency.

Run: ``python benchmarks/emulator_overhead.py [--requests 200] [--latency-ms 25]``.
Figures only, no assertions; the default run takes about 30 s.
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import urlsplit

import requests

from drs_analytics.emulator import Emulator

THREADS = 16


class _NaiveHandler(http.server.BaseHTTPRequestHandler):
    """The textbook handler: send_response/send_header/end_headers, then write the body."""

    protocol_version = "HTTP/1.1"
    latency = 0.0
    body = b'{"job_action":{"available_actions":[],"unavailable_actions":[],"current_action":null}}'

    def do_GET(self) -> None:
        time.sleep(self.latency)
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()  # first write: status line and headers
        self.wfile.write(self.body)  # second write: held back by Nagle until the ACK

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def naive_server(latency_ms: float) -> Iterator[tuple[str, dict[str, str]]]:
    """Run the naive server; yield (URL of one job's actions, headers)."""
    handler = type("Handler", (_NaiveHandler,), {"latency": latency_ms / 1000})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v5/p/jobs/j/actions", {}
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def emulator_server(latency_ms: float) -> Iterator[tuple[str, dict[str, str]]]:
    """Run the emulator; yield (URL of one job's actions, headers)."""
    with Emulator(jobs=50, seed=7, latency_ms=latency_ms) as emu:
        yield f"{emu.url}/v5/{emu.project_id}/jobs/{emu.job_ids[0]}/actions", {"X-Auth-Token": emu.token}


@contextmanager
def emulator_process(latency_ms: float) -> Iterator[tuple[str, dict[str, str]]]:
    """Run the emulator in a child process (``python -m``), so client and server do not share a GIL."""
    cmd = [sys.executable, "-m", "drs_analytics.emulator", "--port", "0", "--jobs", "50", "--seed", "7"]
    proc = subprocess.Popen([*cmd, "--latency-ms", str(latency_ms)], stdout=subprocess.PIPE, text=True)
    try:
        settings = dict(proc.stdout.readline().strip().split("=", 1) for _ in range(3))
        job_id = Emulator(jobs=50, seed=7).job_ids[0]
        url = f"{settings['DRS_ENDPOINT']}/v5/{settings['DRS_PROJECT_ID']}/jobs/{job_id}/actions"
        yield url, {"X-Auth-Token": settings["DRS_AUTH_TOKEN"]}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        proc.stdout.close()


def _timed_requests(url: str, headers: dict[str, str], n: int) -> list[float]:
    """Send ``n`` GETs over one keep-alive ``requests.Session``; return the seconds each took."""
    times = []
    with requests.Session() as session:
        session.get(url, headers=headers, timeout=10).raise_for_status()  # open the connection
        for _ in range(n):
            start = time.perf_counter()
            session.get(url, headers=headers, timeout=10).raise_for_status()
            times.append(time.perf_counter() - start)
    return times


def _timed_http_client(url: str, headers: dict[str, str], n: int) -> list[float]:
    """Same with the lighter stdlib ``http.client`` (isolates the server from client overhead)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)

    def one() -> None:
        conn.request("GET", parts.path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")

    one()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        one()
        times.append(time.perf_counter() - start)
    conn.close()
    return times


CLIENTS: dict[str, Callable[[str, dict[str, str], int], list[float]]] = {
    "requests": _timed_requests,
    "http.client": _timed_http_client,
}


def concurrent(timed: Callable, url: str, headers: dict[str, str], n: int) -> list[float]:
    """Per-request times of ``n`` requests spread over 16 threads, a connection each."""
    share = max(1, n // THREADS)
    with ThreadPoolExecutor(THREADS) as pool:
        parts = list(pool.map(lambda _: timed(url, headers, share), range(THREADS)))
    return [t for part in parts for t in part]


def _row(server: str, client: str, mode: str, latency_ms: float, times: list[float], wall: float) -> str:
    ms = sorted(t * 1000 for t in times)
    median = statistics.median(ms)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    return (
        f"{server:<9} {client:<12} {mode:<11} {latency_ms:>6.0f} {len(ms):>5} {median:>9.2f} {p95:>8.2f} "
        f"{median - latency_ms:>9.2f} {len(ms) / wall:>7.0f}"
    )


def measure(server: Callable, name: str, latency_ms: float, n: int, clients: tuple[str, ...]) -> Iterator[str]:
    """Yield one table row per client and mode for a server at one latency."""
    with server(latency_ms) as (url, headers):
        for client in clients:
            timed = CLIENTS[client]
            for mode in ("sequential", f"{THREADS} threads"):
                start = time.perf_counter()
                times = timed(url, headers, n) if mode == "sequential" else concurrent(timed, url, headers, n)
                yield _row(name, client, mode, latency_ms, times, time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per measurement (default: 200)")
    parser.add_argument("--latency-ms", type=float, default=25.0, help="injected latency (default: 25)")
    parser.add_argument(
        "--naive-requests", type=int, default=60, help="requests per naive-server measurement (default: 60)"
    )
    args = parser.parse_args(argv)
    print(f"{'server':<9} {'client':<12} {'mode':<11} {'lat ms':>6} {'n':>5} {'median ms':>9} {'p95 ms':>8} "
          f"{'overhead':>9} {'req/s':>7}")  # fmt: skip
    runs = (
        (emulator_server, "emulator", args.requests, ("requests",)),
        (emulator_process, "emu-proc", args.requests, ("requests", "http.client")),
        (naive_server, "naive", args.naive_requests, ("requests",)),
    )
    for latency in (0.0, args.latency_ms):
        for server, name, n, clients in runs:
            for row in measure(server, name, latency, n, clients):
                print(row, flush=True)
    print("overhead = median - injected latency, client time included (requests costs ~1-2 ms of CPU per call;")
    print("16 client threads in one process are bound by the client's GIL, not by the server)")
    print("emulator = in the benchmark's process (shares its GIL); emu-proc = python -m drs_analytics.emulator")
    print("naive = textbook http.server handler: headers and body in two writes, Nagle on")


if __name__ == "__main__":
    main()
