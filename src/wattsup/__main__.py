"""``python -m wattsup``: the same as the ``wattsup`` command."""

import sys

from wattsup.cli import main

sys.exit(main())
