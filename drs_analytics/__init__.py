"""drs-analytics: fleet-wide analytics of Huawei Cloud DRS job actions."""

from __future__ import annotations

import logging

from ._version import __version__

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["__version__"]
