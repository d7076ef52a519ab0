"""The ``drs-analytics`` command: demo, fetch, report, emulator.

Exit codes: 0 success; 1 some jobs failed (the output is still written); 2 usage
errors (bad arguments, settings or input file). Expected failures print one line
on stderr, never a traceback. Credentials come from the environment only
(``DRS_AUTH_TOKEN``; or ``HUAWEICLOUD_SDK_AK``/``HUAWEICLOUD_SDK_SK``; or
``DRS_IAM_USERNAME``/``DRS_IAM_PASSWORD``/``DRS_IAM_DOMAIN``), so they stay out of
shell history and process lists; a targets file names variables, never secrets.
"""

from __future__ import annotations

import argparse
import logging
import warnings
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ._version import __version__
from .auth import AK_ENV, DOMAIN_ENV, PASSWORD_ENV, PROJECT_ENV, SK_ENV, TOKEN_ENV, USERNAME_ENV
from .exceptions import DRSAnalyticsError, NoCredentialsError
from .validation import id_lines

__all__ = ["main"]

ENV_ENDPOINT, ENV_REGION, ENV_PROJECT = "DRS_ENDPOINT", "DRS_REGION", "DRS_PROJECT_ID"


class UsageError(Exception):
    """Bad arguments or input: exit code 2."""


# -- argument parsing -------------------------------------------------------------------------
def _number(kind: type, low: float, strict: bool):
    """An argparse type: a number >= low (> low when strict), with a clear message."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a{'n integer' if kind is int else ' number'}") from None
        if value < low or (strict and value == low):
            raise argparse.ArgumentTypeError(f"{text} must be {'>' if strict else '>='} {low:g}")
        return value

    return parse


_positive = _number(float, 0, strict=True)
_non_negative = _number(float, 0, strict=False)
_count = _number(int, 1, strict=False)


def _connection_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "connection (credentials from the environment: $DRS_AUTH_TOKEN, or $HUAWEICLOUD_SDK_AK and "
        "$HUAWEICLOUD_SDK_SK, or $DRS_IAM_USERNAME, $DRS_IAM_PASSWORD and $DRS_IAM_DOMAIN)")
    # defaults from the environment are read in _client: a flag given is told apart from a variable set
    group.add_argument("--endpoint", default=None, help=f"API base URL (default ${ENV_ENDPOINT})")
    group.add_argument("--region", default=None,
                       help=f"region ID; with --endpoint it only labels the data (default ${ENV_REGION})")
    group.add_argument("--project-id", default=None, help=f"project ID (default ${ENV_PROJECT}, else ${PROJECT_ENV})")
    group.add_argument("--iam-endpoint", default=None, metavar="URL",
                       help="IAM base URL for password credentials (default: the region's; with --targets, "
                            "for targets that name none)")
    group.add_argument("--cache", default=None, metavar="PATH", help="HTTP cache file (default: user cache directory)")
    group.add_argument("--no-cache", action="store_true", help="do not read or write the HTTP cache")
    group.add_argument("--expire-after", type=_non_negative, default=300.0, metavar="SECONDS", help="cache freshness (default 300)")
    group.add_argument("--timeout", type=_positive, default=30.0, metavar="SECONDS", help="read timeout (default 30)")
    group.add_argument("--language", default="en-us", choices=("en-us", "zh-cn"),
                       help="X-Language of the requests: language of API error messages (default en-us)")
    group.add_argument("--offline", action="store_true",
                       help="send nothing: use only what the cache holds (missing jobs become error records)")
    group.add_argument("--stale-if-error", action="store_true",
                       help="when the API keeps failing, use an expired cached answer (marked stale=True)")
    group.add_argument("--refresh", action="store_true", help="ask the API even for jobs with a fresh cached answer")
    group.add_argument("--max-rate", type=_positive, default=None, metavar="PER_SECOND",
                       help="at most this many requests per second (429s slow down further anyway)")
    group.add_argument("--ca-bundle", default=None, metavar="FILE", help="CA bundle for TLS verification")
    fleet = parser.add_argument_group("whole fleets (through the job list API)")
    fleet.add_argument("--all", action="store_true", help="every job of the project(s) instead of given job IDs")
    fleet.add_argument("--job-type", default=None, metavar="TYPES",
                       help="with --all: comma-separated job types (default: migration,sync,cloudDataGuard,replay)")
    fleet.add_argument("--source", choices=("list", "actions"), default="list",
                       help="with --all: actions from the list pages (about N/1000 requests per job type) or from "
                            "each job's /actions (N more requests; the per-job authority) (default: list)")
    fleet.add_argument("--targets", metavar="FILE.toml",
                       help="several projects/regions from a TOML file of [[target]] tables (implies --all; "
                            "not with --endpoint, --region or --project-id: each target names its own)")
    fleet.add_argument("--page-size", type=_count, default=None, metavar="N",
                       help="with --all: jobs per list request (default 1000; smaller sizes are tried if refused)")
    fleet.add_argument("--enrich", action="store_true",
                       help="with job IDs: add job metadata (name, status, type...) from the job list "
                            "(--all/--targets include it already)")
    parser.add_argument("job_ids", nargs="*", metavar="JOB_ID", help="job IDs (or use --jobs-file)")
    parser.add_argument("--jobs-file", metavar="FILE",
                        help="file with one job ID per line ('#' starts a comment); '-' reads stdin")
    parser.add_argument("--workers", type=_count, default=16, help="concurrent requests (default 16)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _raw_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--raw", action="store_true",
                        help="CSV cells exactly as pandas writes them: no quote added before a leading = + - @ "
                             "(for programs, not spreadsheets)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="drs-analytics", description="Fleet analytics of Huawei Cloud DRS job actions.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="fetch a synthetic fleet from the built-in emulator and write a report")
    demo.add_argument("--jobs", type=_count, default=300, help="fleet size (default 300)")
    demo.add_argument("--seed", type=int, default=7, help="fleet seed (default 7)")
    demo.add_argument("--latency-ms", type=_non_negative, default=20.0, help="emulated server latency (default 20)")
    demo.add_argument("--workers", type=_count, default=16, help="concurrent requests (default 16)")
    demo.add_argument("--out", default="drs-report", help="report folder (default ./drs-report)")

    fetch = sub.add_parser("fetch", help="fetch job actions and write the tidy CSV (stdout or --output)")
    fetch.set_defaults(subparser=fetch)
    _connection_args(fetch)
    _raw_arg(fetch)
    fetch.add_argument("-o", "--output", metavar="FILE", help="write actions CSV here instead of stdout")
    fetch.add_argument("--errors", metavar="FILE", help="also write the error records (errors.csv format) here")

    report = sub.add_parser("report", help="fetch job actions and write the full report folder")
    report.set_defaults(subparser=report)
    _connection_args(report)
    _raw_arg(report)
    report.add_argument("--out", required=True, metavar="DIR", help="report folder")

    cache = sub.add_parser("cache", help="inspect or clear the HTTP cache")
    cache.add_argument("action", choices=("info", "list", "clear", "clear-expired"),
                       help="info: counts; list: one line per cached answer (CSV); clear / clear-expired: delete")
    cache.add_argument("--cache", default=None, metavar="PATH", help="cache file (default: user cache directory)")
    cache.add_argument("--everyone", action="store_true",
                       help="clear the answers of every credential in the file, not only the current one")

    emulator = sub.add_parser("emulator", help="run the DRS emulator until interrupted")
    from .emulator import cli as emulator_cli

    emulator_cli.add_arguments(emulator)
    return parser


# -- helpers ----------------------------------------------------------------------------------
def _read_job_ids(args: argparse.Namespace) -> list[str]:
    ids = list(args.job_ids)
    if args.jobs_file:
        try:
            text = sys.stdin.read() if args.jobs_file == "-" else Path(args.jobs_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read job IDs from {args.jobs_file}: {exc.strerror if isinstance(exc, OSError) else exc}") from None
        ids += id_lines(text)
    elif not ids and not sys.stdin.isatty():
        ids += id_lines(sys.stdin.read())
    if not ids:
        raise UsageError("no job IDs: give them as arguments, with --jobs-file FILE, or on stdin")
    return ids


def _client_options(args: argparse.Namespace) -> dict:
    """Client arguments shared by every target (never credentials: those come from the environment)."""
    from .settings import PacingSettings

    if args.offline and args.no_cache:
        raise UsageError("--offline reads the cache: it cannot go with --no-cache")
    return {"cache": False if args.no_cache else args.cache, "expire_after": args.expire_after,
            "timeout": (min(5.0, args.timeout), args.timeout), "language": args.language,
            "offline": args.offline, "stale_if_error": args.stale_if_error, "ca_bundle": args.ca_bundle,
            "pacing": PacingSettings(max_rate=args.max_rate)}


def _client(args: argparse.Namespace):
    from .client import DRSClient

    project_id = args.project_id or os.environ.get(ENV_PROJECT) or os.environ.get(PROJECT_ENV)
    if not project_id:
        raise UsageError(f"no project ID: pass --project-id or set ${ENV_PROJECT} (or ${PROJECT_ENV})")
    # each flag defaults to its variable (--region with $DRS_ENDPOINT set: the region labels the data)
    endpoint = args.endpoint or os.environ.get(ENV_ENDPOINT, "").strip() or None
    region = args.region or os.environ.get(ENV_REGION, "").strip() or None
    if not (endpoint or region):
        raise UsageError(f"no endpoint: pass --endpoint/--region or set ${ENV_ENDPOINT}/${ENV_REGION}")
    if args.endpoint is None and args.region is None:
        endpoint = region = None  # DRSClient reads the same variables, and names them in its errors
    try:
        return DRSClient(endpoint=endpoint, region=region, project_id=project_id,
                         iam_endpoint=args.iam_endpoint, **_client_options(args))
    except NoCredentialsError:  # its text names DRSClient's arguments, which the CLI has not
        raise UsageError(NO_CREDENTIALS) from None


#: The CLI reads credentials from the environment only.
NO_CREDENTIALS = (f"no credentials: set {TOKEN_ENV}, or {AK_ENV} and {SK_ENV}, "
                  f"or {USERNAME_ENV}, {PASSWORD_ENV} and {DOMAIN_ENV}")


def check_combinations(args: argparse.Namespace) -> None:
    """Refuse options that contradict each other, the argparse way (usage, message, exit 2)."""
    parser = getattr(args, "subparser", None)
    if parser is None:
        return
    fleet = bool(args.targets or args.all)
    if args.targets:
        given = [flag for flag, value in (("--endpoint", args.endpoint), ("--region", args.region),
                                          ("--project-id", args.project_id)) if value]
        if given:
            parser.error(f"--targets cannot go with {', '.join(given)}: each [[target]] of the file names its own "
                         "region or endpoint and project (the variables $DRS_ENDPOINT, $DRS_REGION and "
                         "$DRS_PROJECT_ID are not used with --targets either)")
    if args.enrich and fleet:
        parser.error("--enrich cannot go with --all/--targets: it adds the job list's metadata to given job IDs, "
                     "and --all/--targets include that metadata already")
    if args.page_size is not None and not fleet:
        parser.error("--page-size needs --all or --targets (it sizes the job list pages)")


def _check_out_dir(path: str) -> None:
    if Path(path).exists() and not Path(path).is_dir():
        raise UsageError(f"--out {path} exists and is not a folder")


def _check_out_file(path: str | None) -> None:
    if path and Path(path).is_dir():
        raise UsageError(f"--output {path} is a folder; give a file name")


def _nothing() -> None:
    pass


def _fetch(args: argparse.Namespace, starting=_nothing):
    """Fetch what the arguments ask for; ``starting()`` runs once they are checked, just before the fetch."""
    from .fetch import fetch_actions

    progress = False if args.no_progress else None
    if args.targets or args.all:
        return _fetch_fleet(args, progress, starting)
    if args.job_type or args.source != "list":
        raise UsageError("--job-type and --source need --all or --targets")
    job_ids = _read_job_ids(args)
    with _client(args) as client:
        starting()
        return fetch_actions(job_ids, client=client, max_workers=args.workers, progress=progress, enrich=args.enrich,
                             refresh=args.refresh)


def _fetch_fleet(args: argparse.Namespace, progress, starting=_nothing):
    from .fleet import fetch_fleet
    from .listing import DEFAULT_PAGE_SIZE
    from .targets import load_targets

    if args.job_ids or args.jobs_file:
        raise UsageError("give job IDs or --all/--targets, not both")
    kwargs = dict(job_type=args.job_type, source=args.source, max_workers=args.workers, progress=progress,
                  page_size=args.page_size or DEFAULT_PAGE_SIZE, refresh=args.refresh)
    if args.targets:
        targets = load_targets(args.targets)
        if args.iam_endpoint:  # the default of targets that name no IAM endpoint of their own
            targets = [t if t.iam_endpoint else replace(t, iam_endpoint=args.iam_endpoint) for t in targets]
        options = _client_options(args)
        starting()
        return fetch_fleet(targets=targets, client_options=options, **kwargs)
    with _client(args) as client:
        starting()
        return fetch_fleet(client, **kwargs)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _counts(result) -> str:
    """``N jobs, N rows, N errors[, N stale]`` (list scans and targets that failed counted apart)."""
    scans = int(result.errors["job_id"].str.startswith("<").sum()) if len(result.errors) else 0
    parts = [_plural(len(result.jobs), "job"), _plural(len(result.frame), "row"),
             _plural(len(result.errors) - scans, "error")]
    if scans:
        parts.append(f"{_plural(scans, 'failed list scan')} or target{'s' if scans != 1 else ''}")
    stale = int(result.jobs["stale"].sum()) if "stale" in result.jobs else 0
    if stale:
        parts.append(f"{stale:,} stale (expired cached answers)")
    return ", ".join(parts)


def _failure_line(result) -> str | None:
    """One stderr line when jobs (or list scans) failed; names the common cause when all failed alike."""
    errors = result.errors
    if not len(errors):
        return None
    first = errors.iloc[0]
    if len(result.jobs) == 0:
        return f"error: nothing fetched ({_counts(result)}): {first['detail']}"
    return f"warning: {_counts(result)} (first: {first['job_id']}: {first['detail']})"


def _finish(result) -> int:
    line = _failure_line(result)
    if line:
        print(line, file=sys.stderr)
    return 1 if len(result.errors) else 0


# -- commands ---------------------------------------------------------------------------------
def cmd_fetch(args: argparse.Namespace) -> int:
    _check_out_file(args.output)
    from .report import write_csv

    result = _fetch(args)
    if args.output:
        write_csv(result.frame, args.output, raw=args.raw)
        print(f"{_counts(result)} -> {args.output}")
    else:
        write_csv(result.frame, sys.stdout, raw=args.raw)
    if args.errors:
        write_csv(result.errors, args.errors, raw=args.raw)
    return _finish(result)


def cmd_report(args: argparse.Namespace) -> int:
    from .report import invalidate_report, write_report

    _check_out_dir(args.out)
    # the old report.json goes once the arguments are checked: a fetch that fails or is
    # interrupted must not leave it looking like this run's report
    result = _fetch(args, starting=lambda: invalidate_report(args.out))
    paths = write_report(result, args.out, raw=args.raw)
    print(f"{_counts(result)}; report in {Path(args.out)}/: {' '.join(paths)}")
    return _finish(result)


def cmd_demo(args: argparse.Namespace) -> int:
    from .client import DRSClient
    from .emulator import Emulator
    from .fetch import fetch_actions
    from .fleet import fetch_fleet
    from .report import write_report

    _check_out_dir(args.out)
    with Emulator(jobs=args.jobs, seed=args.seed, latency_ms=args.latency_ms) as emu, \
            tempfile.TemporaryDirectory(prefix="drs-demo-") as tmp, \
            DRSClient(endpoint=emu.url, project_id=emu.project_id, token=emu.token,
                      cache=Path(tmp) / "cache.sqlite") as client:
        print(f"emulator: {emu.url}  project {emu.project_id}  {len(emu.job_ids)} jobs (seed {args.seed}, "
              f"{args.latency_ms:g} ms latency)")
        t0 = time.perf_counter()
        result = fetch_actions(emu.job_ids, client=client, max_workers=args.workers)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = fetch_actions(emu.job_ids, client=client, max_workers=args.workers, progress=False)
        warm = time.perf_counter() - t0
        emu.app.reset_counters()
        t0 = time.perf_counter()
        listed = fetch_fleet(client, progress=False)
        list_time, list_requests = time.perf_counter() - t0, emu.app.request_count
    paths = write_report(result, args.out)
    _print_summary(result, again, cold, warm)
    print(f"whole project through the job list: {len(listed.jobs)} jobs in {list_requests} requests "
          f"({list_time:.2f} s; one per job type): fetch_fleet(client), drs-analytics fetch --all")
    print(f"report: {Path(args.out)}/ " + " ".join(paths))
    return _finish(result)


def _print_summary(result, again, cold: float, warm: float) -> None:
    summary = result.summary()
    n = len(result.jobs)
    print(f"fetched {n} jobs in {cold:.2f} s; again in {warm:.2f} s with "
          f"{int(again.jobs['from_cache'].sum())}/{len(again.jobs)} from the cache")
    print(f"rows: {len(result.frame):,}  actions: {len(summary)}  errors: {len(result.errors)}  "
          f"busy jobs (current_action set): {int(result.jobs['current_action'].notna().sum())}")
    top = summary.sort_values("availability_rate", ascending=False).head(5)
    print("most available: " + ", ".join(f"{a} {r:.0%}" for a, r in top["availability_rate"].items()))


def cmd_cache(args: argparse.Namespace) -> int:
    """Cache info/list/clear. The credential (from the environment) tells whose answers are "mine";
    without one, only counts of the whole file and ``--everyone`` clearing are possible."""
    from .cache import make_session
    from .cache_admin import cache_entries, cache_info, clear_cache
    from .settings import default_cache_path

    path = Path(args.cache) if args.cache else default_cache_path()
    if not path.is_file():
        raise UsageError(f"no cache file at {path}")
    identity = _identity_from_env()
    if identity is None and args.action in ("clear", "clear-expired") and not args.everyone:
        raise UsageError("no credentials in the environment: say --everyone to clear every credential's answers")
    session = make_session(cache_path=path, expire_after=300, identity=identity or "", max_connections=1)
    try:
        if args.action == "info":
            info = cache_info(session.cache, identity or "\0", path)
            for key, value in info.items():
                if key != "mine" or identity:
                    print(f"{key}: {value}")
        elif args.action == "list":
            from .report import write_csv

            write_csv(cache_entries(session.cache, identity or "\0"), sys.stdout)
        else:
            n = clear_cache(session.cache, identity or "", expired_only=args.action == "clear-expired",
                            everyone=args.everyone)
            print(f"deleted {n} cached answer{'s' if n != 1 else ''} from {path}")
    finally:
        session.close()
    return 0


def _identity_from_env() -> str | None:
    """The identity hash of the environment's credential, or None when there is none."""
    from .auth import make_auth

    try:
        # a password identity does not depend on the IAM endpoint: a placeholder serves
        return make_auth(project_id=os.environ.get(PROJECT_ENV) or os.environ.get(ENV_PROJECT) or "-",
                         iam_endpoint="https://iam.invalid").identity
    except DRSAnalyticsError:
        return None


COMMANDS = {"demo": cmd_demo, "fetch": cmd_fetch, "report": cmd_report, "cache": cmd_cache}


def _log_to_stderr() -> None:
    """Show the package's warnings (e.g. an unknown region) as 'warning: ...' lines."""
    logger = logging.getLogger("drs_analytics")
    if not any(isinstance(h, logging.StreamHandler) and not isinstance(h, logging.NullHandler) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("warning: %(message)s"))
        handler.setLevel(logging.WARNING)
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Python warnings as one ``warning: ...`` line (no source line, no file name)."""
    print(f"warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``drs-analytics`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code (see the module notes). Bad arguments exit 2 through argparse
        (``SystemExit``).
    """
    args = _parser().parse_args(argv)
    check_combinations(args)
    _log_to_stderr()
    with warnings.catch_warnings():
        warnings.showwarning = _one_line_warning
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    if args.command == "emulator":
        from .emulator import cli as emulator_cli

        return emulator_cli.run(args)
    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DRSAnalyticsError as exc:  # ConfigurationError, InvalidIDError...
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ValueError) else 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
