"""``python -m handgrad.cli`` (also ``python -m handgrad``)."""

import sys

from . import main

if __name__ == "__main__":  # not when a worker process imports this module
    sys.exit(main())
