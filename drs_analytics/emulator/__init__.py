"""A local emulator of the DRS v5 job APIs, with the API gateway and IAM in front.

Routes: ``GET /v5/{project_id}/jobs/{job_id}/actions``, ``GET /v5/{project_id}/jobs``
(ListJobs) and IAM's ``POST /v3/auth/tokens``; requests authenticate with a token
(``X-Auth-Token``) or an AK/SK signature (``SDK-HMAC-SHA256``), so the official
Huawei Cloud SDK works against it (:meth:`Emulator.sdk_env`).

Two faces (STYLE.md, example 6):

* :class:`DRSApp`: in process, ``handle(method, path, headers, body) -> Response``, no sockets.
* :class:`Emulator`: a real threaded HTTP server on loopback, used as a context manager.

The answers come from a seeded synthetic fleet (:func:`make_fleet`) and one
rules table (:func:`job_actions`, :mod:`drs_analytics.emulator.rules`).

Examples
--------
>>> from drs_analytics.emulator import Emulator
>>> with Emulator(jobs=10, seed=7) as emu:
...     emu.url.startswith("http://127.0.0.1:")
True
"""

from .app import DRSApp, Response
from .faults import Faults
from .fleet import Job, make_fleet
from .rules import job_actions
from .server import Emulator

__all__ = ["DRSApp", "Emulator", "Faults", "Job", "Response", "job_actions", "make_fleet"]
