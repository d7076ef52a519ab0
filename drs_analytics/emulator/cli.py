"""The ``drs-analytics emulator`` subcommand: run the emulator until interrupted.

On start it prints three ``KEY=value`` lines a shell or a test can parse, then
one human line starting with ``#`` (a shell comment)::

    DRS_ENDPOINT=http://127.0.0.1:8080
    DRS_PROJECT_ID=5237e10fe9aa4ad5b16b6a5245248314
    DRS_AUTH_TOKEN=...
    # DRS emulator: 300 jobs (seed 7) at http://127.0.0.1:8080. Press Ctrl+C to stop.

``--env-file`` writes ``export`` lines for a shell: the three above, the
official SDK's variables (``HUAWEICLOUD_SDK_AK``, ``_SK``, ``_PROJECT_ID``,
``HUAWEICLOUD_SDK_REGION_DRS_<REGION>``, ``HUAWEICLOUD_SDK_IAM_ENDPOINT``) and
the IAM user (``DRS_IAM_USERNAME``, ``DRS_IAM_PASSWORD``, ``DRS_IAM_DOMAIN``).
The file holds secrets, so it is created readable by its owner only.

SIGINT or SIGTERM stops it cleanly (exit status 0).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shlex
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .app import IDLE_CURRENT_ACTION_CHOICES
from .faults import Faults
from .server import Emulator

__all__ = ["add_arguments", "main", "run"]

logger = logging.getLogger(__name__)

_FAULT_OPTIONS = {
    "fault_500": "error_500",
    "fault_429": "throttle_429",
    "fault_reset": "reset",
    "fault_malformed": "malformed",
    "fault_slow": "slow",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the emulator options to a (sub)parser.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        Parser of the ``emulator`` subcommand.
    """
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8080, help="port to bind, 0 for a free one (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=300, help="synthetic fleet size (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=7, help="fleet and fault seed (default: %(default)s)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added latency per answer (default: 0)")
    parser.add_argument("--jitter-ms", type=float, default=0.0, help="uniform extra latency up to this (default: 0)")
    parser.add_argument("--token", default=None, help="accepted X-Auth-Token (default: random)")
    parser.add_argument("--project-id", default=None, help="tenant project ID (default: derived from the seed)")
    parser.add_argument("--region", default="cn-south-2", help="region ID (default: %(default)s)")
    parser.add_argument("--ak", default=None, help="accepted access key ID (default: random)")
    parser.add_argument("--sk", default=None, help="accepted secret access key (default: random)")
    parser.add_argument("--token-validity", type=float, default=86400.0,
                        help="seconds an IAM-issued token is valid (default: %(default)s)")
    parser.add_argument("--list-max-limit", type=int, default=1000,
                        help="largest ListJobs limit accepted (default: %(default)s)")
    parser.add_argument(
        "--idle-current-action",
        choices=IDLE_CURRENT_ACTION_CHOICES,
        default="null",
        help="how an idle job's current_action is rendered (default: %(default)s)",
    )
    parser.add_argument("--no-etags", dest="etags", action="store_false",
                        help="no ETag / If-None-Match (304) on /actions and the job list")
    parser.add_argument("--rate-limit", type=int, default=None, metavar="N",
                        help="at most N requests per second per credential, then 429 APIGW.0308 (default: no limit)")
    parser.add_argument("--rate-limit-retry-after", action="store_true",
                        help="send Retry-After on the rate limit's 429s (the real gateway is not documented to)")
    parser.add_argument("--env-file", metavar="FILE",
                        help="also write 'export KEY=value' lines here (DRS_*, the official SDK's "
                             "HUAWEICLOUD_SDK_*, the IAM user), for '. FILE' in a shell; mode 0600")
    parser.add_argument("--job-ids-file", metavar="FILE", help="write the fleet's job IDs here, one per line")
    faults = parser.add_argument_group("faults", "rates between 0 and 1, all 0 by default")
    for option in _FAULT_OPTIONS:
        flag = "--" + option.replace("_", "-")
        faults.add_argument(flag, type=float, default=0.0, metavar="RATE")
    faults.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds of 429s (default: 1)")
    faults.add_argument("--slow-seconds", type=float, default=1.0, help="delay of slow answers (default: 1)")


def _faults(args: argparse.Namespace) -> Faults | None:
    """Build the ``Faults`` of the parsed options, ``None`` when all rates are 0."""
    rates = {field: getattr(args, option) for option, field in _FAULT_OPTIONS.items()}
    faults = Faults(**rates, retry_after=args.retry_after, slow_seconds=args.slow_seconds)
    return faults if faults.enabled else None


def _variables(emulator: Emulator) -> list[tuple[str, str]]:
    """The ``KEY=value`` lines printed on start (tests parse them: keep them as they are)."""
    return [("DRS_ENDPOINT", emulator.url), ("DRS_PROJECT_ID", emulator.project_id), ("DRS_AUTH_TOKEN", emulator.token)]


def _env_file_variables(emulator: Emulator) -> list[tuple[str, str]]:
    """The ``--env-file`` variables: the printed ones, the official SDK's, the IAM user."""
    iam = [
        ("DRS_IAM_USERNAME", emulator.username),
        ("DRS_IAM_PASSWORD", emulator.password),
        ("DRS_IAM_DOMAIN", emulator.domain),
    ]
    return [*_variables(emulator), *emulator.sdk_env().items(), *iam]


def _write_files(emulator: Emulator, args: argparse.Namespace) -> None:
    """Write the ``--job-ids-file`` and ``--env-file`` (before announcing readiness)."""
    if getattr(args, "job_ids_file", None):
        Path(args.job_ids_file).write_text("".join(f"{job_id}\n" for job_id in emulator.job_ids), encoding="utf-8")
    if getattr(args, "env_file", None):
        lines = "".join(f"export {key}={shlex.quote(value)}\n" for key, value in _env_file_variables(emulator))
        fd = os.open(args.env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT: narrow it before writing
        with open(fd, "w", encoding="utf-8") as out:
            out.write(lines)


def _announce(emulator: Emulator) -> None:
    """Print the ``KEY=value`` lines and the human line, flushed."""
    for key, value in _variables(emulator):
        print(f"{key}={shlex.quote(value)}")
    print(
        f"# DRS emulator: {len(emulator.fleet)} jobs (seed {emulator.seed}) at {emulator.url}. Press Ctrl+C to stop.",
        flush=True,
    )


@contextlib.contextmanager
def _stop_on_signal() -> Iterator[threading.Event]:
    """Install SIGINT/SIGTERM handlers that set the yielded event (before anything is announced)."""
    stop = threading.Event()
    previous: dict[int, Any] = {}

    def _handler(signum: int, frame: Any) -> None:
        stop.set()

    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, _handler)
    except ValueError:  # not the main thread: rely on KeyboardInterrupt
        pass
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _wait(stop: threading.Event) -> None:
    """Block until the event is set (or KeyboardInterrupt outside the main thread)."""
    try:
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass


def run(args: argparse.Namespace) -> int:
    """Run the emulator until SIGINT/SIGTERM.

    Parameters
    ----------
    args : argparse.Namespace
        Options added by :func:`add_arguments`.

    Returns
    -------
    int
        0 after a clean stop, 2 for invalid options or an unwritable file, 1 if the port
        cannot be bound.
    """
    try:
        emulator = Emulator(
            jobs=args.jobs,
            seed=args.seed,
            host=args.host,
            port=args.port,
            token=args.token,
            project_id=args.project_id,
            latency_ms=args.latency_ms,
            jitter_ms=args.jitter_ms,
            faults=_faults(args),
            idle_current_action=args.idle_current_action,
            region=args.region,
            ak=args.ak,
            sk=args.sk,
            token_validity=args.token_validity,
            list_max_limit=args.list_max_limit,
            list_default_limit=min(10, args.list_max_limit) if args.list_max_limit >= 1 else 10,
            etags=args.etags,
            rate_limit=args.rate_limit,
            rate_limit_retry_after=args.rate_limit_retry_after,
        )
    except ValueError as exc:
        print(f"drs-analytics emulator: error: {exc}", file=sys.stderr)
        return 2
    try:
        emulator.start()
    except OSError as exc:
        print(f"drs-analytics emulator: error: cannot bind {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    try:
        try:
            _write_files(emulator, args)
        except OSError as exc:
            print(f"drs-analytics emulator: error: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
            return 2
        with _stop_on_signal() as stop:
            _announce(emulator)
            _wait(stop)
    finally:
        emulator.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m drs_analytics.emulator``."""
    parser = argparse.ArgumentParser(
        prog="python -m drs_analytics.emulator", description="Run a local DRS v5 job-actions API emulator."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
