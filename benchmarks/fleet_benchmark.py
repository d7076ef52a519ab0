"""drs-analytics side by side with the official SDK, against the emulator in its own process.

Run: ``.venv/bin/python benchmarks/fleet_benchmark.py [--jobs 500] [--latency-ms 50] [--workers 16]``

Measures, each in a fresh Python process (so its peak memory is its own), against an
emulator running in another process with the given latency:

* (a) the official SDK (``huaweicloudsdkdrs``), a sequential ``show_actions`` loop, AK/SK;
* (b) a naive sequential ``requests`` loop (one keep-alive session, token);
* (c0) ``fetch_actions`` concurrent with no cache; (c) cold: an empty cache; (d) warm:
  everything cached (``--warm-jobs`` jobs);
* (e) ``fetch_fleet`` through the job list, cold and warm, on a ``--fleet-jobs`` project
  (a second emulator with the same latency); requests counted by the client;
* in process: the tidy frame of 100,000 jobs x 31 actions from in-memory responses, the
  matrix pivot, and the heatmap of the (e) fleet's first 10,000 jobs.

Times are medians of ``--repeat`` runs; ratios are against (a) in the same run. Figures
only: nothing is asserted (machines here are shared and noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REGION = "cn-south-2"


# -- the emulator, in its own process ---------------------------------------------------------------
class EmulatorProcess:
    """``python -m drs_analytics.emulator`` on a free port; its KEY=value lines parsed."""

    def __init__(self, jobs: int, latency_ms: float, seed: int = 7) -> None:
        self.ak = "BENCH" + secrets.token_hex(8).upper()[:15]
        self.sk = secrets.token_hex(20)
        self.token = secrets.token_urlsafe(24)
        self.ids_file = tempfile.NamedTemporaryFile("w+", suffix=".txt", delete=False).name
        cmd = [sys.executable, "-m", "drs_analytics.emulator", "--port", "0", "--jobs", str(jobs), "--seed", str(seed),
               "--latency-ms", str(latency_ms), "--region", REGION, "--token", self.token, "--ak", self.ak,
               "--sk", self.sk, "--job-ids-file", self.ids_file]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        values = {}
        for line in self.proc.stdout:
            if line.startswith("#"):
                break
            key, _, value = line.strip().partition("=")
            values[key] = value.strip("'")
        self.url, self.project_id = values["DRS_ENDPOINT"], values["DRS_PROJECT_ID"]
        self.job_ids = [x for x in Path(self.ids_file).read_text().split() if x]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        os.unlink(self.ids_file)

    def spec(self) -> dict:
        return {"url": self.url, "project_id": self.project_id, "ak": self.ak, "sk": self.sk, "token": self.token}


# -- one measure in a child process -------------------------------------------------------------------
def _sdk_client(spec: dict):
    os.environ["HUAWEICLOUD_SDK_REGION_DRS_" + REGION.upper().replace("-", "_")] = spec["url"]
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkdrs.v5 import DrsClient
    from huaweicloudsdkdrs.v5.region.drs_region import DrsRegion

    return (DrsClient.new_builder().with_credentials(BasicCredentials(spec["ak"], spec["sk"], spec["project_id"]))
            .with_region(DrsRegion.value_of(REGION)).build())


def _client(spec: dict, cache, workers: int):
    from drs_analytics import DRSClient

    return DRSClient(endpoint=spec["url"], region=REGION, project_id=spec["project_id"], ak=spec["ak"], sk=spec["sk"],
                     cache=cache, max_connections=max(workers, 1))


def child(measure: str, spec: dict, ids: list[str], workers: int, repeat: int) -> dict:
    """Run one measure ``repeat`` times; return seconds per run, requests, and the answer count."""
    times, sent, count = [], 0, 0
    tmp = tempfile.mkdtemp(prefix="drs-bench-")
    if measure == "sdk_loop":
        from huaweicloudsdkdrs.v5 import ShowActionsRequest

        sdk = _sdk_client(spec)
        for _ in range(repeat):
            t0 = time.perf_counter()
            count = sum(1 for j in ids if sdk.show_actions(ShowActionsRequest(job_id=j)).job_action is not None)
            times.append(time.perf_counter() - t0)
        sent = len(ids)
    elif measure == "requests_loop":
        import requests

        with requests.Session() as session:
            for _ in range(repeat):
                t0 = time.perf_counter()
                count = sum(1 for j in ids if session.get(
                    f"{spec['url']}/v5/{spec['project_id']}/jobs/{j}/actions",
                    headers={"X-Auth-Token": spec["token"]}, timeout=30).json().get("job_action") is not None)
                times.append(time.perf_counter() - t0)
        sent = len(ids)
    elif measure in ("no_cache", "cold", "warm"):
        from drs_analytics import fetch_actions

        for run in range(repeat):
            cache = False if measure == "no_cache" else Path(tmp) / f"c{run if measure == 'cold' else 0}.sqlite"
            with _client(spec, cache, workers) as client:
                if measure == "warm":
                    fetch_actions(ids, client=client, max_workers=workers, progress=False)
                    client.pacer.sent = 0
                t0 = time.perf_counter()
                result = fetch_actions(ids, client=client, max_workers=workers, progress=False)
                times.append(time.perf_counter() - t0)
                sent, count = client.pacer.sent, len(result.jobs)
    elif measure in ("fleet_cold", "fleet_warm"):
        from drs_analytics import fetch_fleet

        for run in range(repeat):
            with _client(spec, Path(tmp) / f"f{run if measure == 'fleet_cold' else 0}.sqlite", workers) as client:
                if measure == "fleet_warm":
                    fetch_fleet(client)
                    client.pacer.sent = 0
                t0 = time.perf_counter()
                result = fetch_fleet(client)
                times.append(time.perf_counter() - t0)
                sent, count = client.pacer.sent, len(result.jobs)
    else:
        raise SystemExit(f"unknown measure {measure}")
    import resource

    return {"times": times, "sent": sent, "count": count,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_child(measure: str, spec: dict, ids: list[str], workers: int, repeat: int) -> dict:
    payload = json.dumps({"measure": measure, "spec": spec, "ids": ids, "workers": workers, "repeat": repeat})
    out = subprocess.run([sys.executable, __file__, "--child"], input=payload, capture_output=True, text=True,
                         check=False, timeout=3600)
    if out.returncode != 0:
        raise SystemExit(f"measure {measure} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- in-process measures --------------------------------------------------------------------------------
def frame_measures(n_jobs: int, repeat: int) -> list[tuple[str, float, float, str]]:
    import gc
    import tracemalloc

    sys.path.insert(0, str(HERE))
    from frame_build import records  # noqa: E402  (benchmarks/frame_build.py)

    from drs_analytics.frame import availability_matrix, build_frames

    recs = records(n_jobs, "few")
    times, peak = [], 0.0
    for i in range(repeat + 1):
        gc.collect()
        if i == repeat:  # one more run, traced, for memory only
            tracemalloc.start()
        t0 = time.perf_counter()
        frame = build_frames("p", recs)[0]
        elapsed = time.perf_counter() - t0
        if i == repeat:
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        else:
            times.append(elapsed)
    pivots = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        availability_matrix(frame)
        pivots.append(time.perf_counter() - t0)
    rows = f"{len(frame):,} rows"
    return [(f"tidy frame, {n_jobs:,} jobs x 31 actions", statistics.median(times), peak, rows),
            ("matrix pivot of that frame", statistics.median(pivots), float("nan"), "")]


def heatmap_measure(spec: dict, n_jobs: int, repeat: int) -> tuple[str, float, float, str]:
    import matplotlib

    matplotlib.use("Agg")
    from drs_analytics import fetch_fleet
    from drs_analytics.report import render_heatmap

    with _client(spec, False, 16) as client:
        result = fetch_fleet(client)
    frame = result.frame[result.frame["job_id"].isin(result.jobs["job_id"].iloc[:n_jobs])]
    jobs = frame["job_id"].nunique()
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        render_heatmap(frame.iloc[:100], Path(tmp) / "warm-up.png")  # matplotlib's first-use costs, not timed
        for _ in range(repeat):
            t0 = time.perf_counter()
            path = render_heatmap(frame, Path(tmp) / "heatmap.png")  # the report's PNG, from the tidy frame
            times.append(time.perf_counter() - t0)
        size = path.stat().st_size
    return (f"heatmap PNG, {jobs:,} jobs", statistics.median(times), float("nan"), f"{size:,} bytes")


# -- the table ----------------------------------------------------------------------------------------------
def main() -> None:
    if "--child" in sys.argv:
        args = json.loads(sys.stdin.read())
        print(json.dumps(child(args["measure"], args["spec"], args["ids"], args["workers"], args["repeat"])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500, help="jobs for (a)-(c) (default 500)")
    parser.add_argument("--warm-jobs", type=int, default=1000, help="jobs for (d) (default 1000)")
    parser.add_argument("--fleet-jobs", type=int, default=10_000, help="project size for (e) (default 10000)")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="emulator latency (default 50)")
    parser.add_argument("--workers", type=int, default=16, help="fetch_actions workers (default 16)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measure; the median is shown (default 3)")
    parser.add_argument("--frame-jobs", type=int, default=100_000, help="jobs of the tidy-frame build (default 100000)")
    parser.add_argument("--heatmap-jobs", type=int, default=10_000, help="jobs of the heatmap (default 10000)")
    parser.add_argument("--skip-sdk", action="store_true", help="skip (a) (e.g. without huaweicloudsdkdrs)")
    parser.add_argument("--skip-loops", action="store_true", help="skip (a) and (b), the slow sequential loops")
    args = parser.parse_args()

    import drs_analytics

    print(f"# drs-analytics {drs_analytics.__version__}; {platform.python_implementation()} {platform.python_version()}; "
          f"{platform.machine()}, {os.cpu_count()} CPUs; {platform.platform(terse=True)}")
    sys.stdout.flush()
    print(f"# emulator in its own process, {args.latency_ms:g} ms latency; medians of {args.repeat} runs; "
          f"peak memory = max RSS of the measuring process")
    rows = []
    emu = EmulatorProcess(max(args.jobs, args.warm_jobs), args.latency_ms)
    try:
        ids, warm_ids = emu.job_ids[: args.jobs], emu.job_ids[: args.warm_jobs]
        plan = [("a", "sdk_loop", ids, f"(a) official SDK show_actions loop, {len(ids)} jobs")]
        plan += [("b", "requests_loop", ids, f"(b) naive requests loop, {len(ids)} jobs")]
        plan = [p for p in plan if not args.skip_loops and not (args.skip_sdk and p[0] == "a")]
        plan += [
            ("c0", "no_cache", ids, f"(c0) fetch_actions, no cache, {len(ids)} jobs"),
            ("c", "cold", ids, f"(c) fetch_actions, cold cache, {len(ids)} jobs"),
            ("d", "warm", warm_ids, f"(d) fetch_actions, warm cache, {len(warm_ids)} jobs"),
        ]
        for key, measure, job_ids, label in plan:
            out = run_child(measure, emu.spec(), job_ids, args.workers, args.repeat)
            rows.append((key, label, statistics.median(out["times"]), out["peak_rss_mb"], out["sent"], len(job_ids)))
            print(f"  done: {label}: {statistics.median(out['times']):.3f} s", file=sys.stderr, flush=True)
    finally:
        emu.stop()
    fleet = EmulatorProcess(args.fleet_jobs, args.latency_ms)
    try:
        for key, measure in (("e", "fleet_cold"), ("e'", "fleet_warm")):
            out = run_child(measure, fleet.spec(), [], args.workers, args.repeat)
            label = f"({key}) fetch_fleet via the job list, {'cold' if key == 'e' else 'warm'}, {out['count']:,} jobs"
            rows.append((key, label, statistics.median(out["times"]), out["peak_rss_mb"], out["sent"], out["count"]))
        extra = [heatmap_measure(fleet.spec(), args.heatmap_jobs, args.repeat)]
    finally:
        fleet.stop()
    extra = frame_measures(args.frame_jobs, args.repeat) + extra

    base = next((r[2] / max(r[5], 1) for r in rows if r[0] == "a"), None)  # (a)'s seconds per job
    print("\n| measure | median s | per job ms | faster than (a), per job | requests sent | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for key, label, seconds, rss, sent, n in rows:
        ratio = f"{base / (seconds / max(n, 1)):.1f}x" if base else "-"
        print(f"| {label} | {seconds:.3f} | {1000 * seconds / max(n, 1):.2f} | {ratio} | {sent:,} | {rss:.0f} |")
    for label, seconds, peak, note in extra:
        mem = f"{peak:.0f} (traced)" if peak == peak else "-"
        print(f"| {label} {('(' + note + ')') if note else ''} | {seconds:.3f} | - | - | - | {mem} |")
    by = {r[0]: r[2] for r in rows}
    if "c" in by and "c0" in by:
        print(f"\ncache writes: cold / no-cache = {by['c'] / by['c0']:.2f}x")


if __name__ == "__main__":
    main()
