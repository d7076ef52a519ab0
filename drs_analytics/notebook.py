"""One line to get a fleet in a notebook: the built-in emulator, or a real endpoint.

>>> from drs_analytics.notebook import open_fleet
>>> with open_fleet(jobs=5) as fleet:
...     fleet.source, len(fleet.job_ids)
('emulator', 5)

With ``DRS_ENDPOINT`` or ``DRS_REGION`` set, :func:`open_fleet` uses the real API instead:

==============================  ==========================================================
``DRS_ENDPOINT``                API base URL (or ``DRS_REGION``, e.g. ``cn-south-2``)
``DRS_PROJECT_ID``              the project whose jobs are read (or ``HUAWEICLOUD_SDK_PROJECT_ID``)
credentials                     ``DRS_AUTH_TOKEN``; or ``HUAWEICLOUD_SDK_AK``/``_SK``; or
                                ``DRS_IAM_USERNAME``/``_PASSWORD``/``_DOMAIN`` (never printed)
``DRS_JOBS_FILE`` (optional)    one job ID per line (``#`` comments allowed); without it,
                                every job of the project, from the job list
==============================  ==========================================================
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .client import DRSClient
from .exceptions import ConfigurationError
from .validation import id_lines

__all__ = ["ENV_VARIABLES", "Fleet", "open_fleet"]

#: The variables :func:`open_fleet` reads for a real endpoint (``DRS_ENDPOINT`` or ``DRS_REGION`` switches to it).
ENV_VARIABLES = ("DRS_ENDPOINT", "DRS_REGION", "DRS_PROJECT_ID", "DRS_AUTH_TOKEN", "DRS_JOBS_FILE")


@dataclass
class Fleet:
    """A client and the job IDs to fetch; close it (or use ``with``) when done."""

    client: DRSClient
    job_ids: list[str]
    source: str
    emulator: Any = None
    _tmp: str | None = field(default=None, repr=False)

    def close(self) -> None:
        """Close the client, stop the emulator (if any) and remove its temporary cache."""
        self.client.close()
        if self.emulator is not None:
            self.emulator.stop()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Fleet {self.source}: {len(self.job_ids)} jobs, project {self.client.project_id}>"


def _job_ids_from(path: str) -> list[str]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read DRS_JOBS_FILE {path}: {exc.strerror}") from None
    return id_lines(text)


def _from_environment() -> Fleet | None:
    env = {name: os.environ.get(name, "").strip() for name in ENV_VARIABLES}
    if not (env["DRS_ENDPOINT"] or env["DRS_REGION"]):
        others = [name for name in ("DRS_PROJECT_ID", "DRS_AUTH_TOKEN", "DRS_JOBS_FILE") if env[name]]
        if others:
            raise ConfigurationError(f"{', '.join(others)} set but no DRS_ENDPOINT or DRS_REGION: set one of them "
                                     "for a real endpoint (or unset the others for the emulator)")
        return None
    client = DRSClient()  # endpoint, region, project and credentials from the environment
    try:
        if env["DRS_JOBS_FILE"]:
            job_ids = _job_ids_from(env["DRS_JOBS_FILE"])
            if not job_ids:
                raise ConfigurationError(f"DRS_JOBS_FILE {env['DRS_JOBS_FILE']} holds no job ID")
        else:
            job_ids = list(client.list_jobs()["job_id"])
    except BaseException:
        client.close()
        raise
    return Fleet(client, job_ids, client.endpoint)


def open_fleet(*, jobs: int = 300, seed: int = 7, latency_ms: float = 10.0) -> Fleet:
    """A real endpoint when ``DRS_ENDPOINT`` or ``DRS_REGION`` is set, else a started emulator.

    The emulator's client caches in a temporary file removed by :meth:`Fleet.close`.

    Parameters
    ----------
    jobs : int, default 300
        Jobs of the emulated fleet, child tasks included (ignored for a real endpoint).
    seed : int, default 7
        The emulated fleet's random seed: the same seed gives the same fleet.
    latency_ms : float, default 10.0
        The emulator's answer latency in milliseconds.

    Returns
    -------
    Fleet
        ``client``, ``job_ids`` (from ``DRS_JOBS_FILE``, else the whole project's job
        list) and ``source``; use it as a context manager or call ``close()``.

    Raises
    ------
    ConfigurationError
        ``DRS_PROJECT_ID``, ``DRS_AUTH_TOKEN`` or ``DRS_JOBS_FILE`` set without
        ``DRS_ENDPOINT``/``DRS_REGION``; an unreadable or empty ``DRS_JOBS_FILE``.
    """
    fleet = _from_environment()
    if fleet is not None:
        return fleet
    from .emulator import Emulator

    emulator = Emulator(jobs=jobs, seed=seed, latency_ms=latency_ms).start()
    tmp = tempfile.mkdtemp(prefix="drs-notebook-")
    client = DRSClient(endpoint=emulator.url, project_id=emulator.project_id, token=emulator.token,
                       cache=Path(tmp) / "cache.sqlite")
    return Fleet(client, list(emulator.job_ids), "emulator", emulator, tmp)
