"""``python -m drs_analytics.emulator``: run the emulator (see :mod:`drs_analytics.emulator.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
