"""``python -m handgrad.cli``."""

import sys

from . import main

sys.exit(main())
