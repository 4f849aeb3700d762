"""``python -m hera``: the ``hera`` command."""
import sys

from .cli import main

sys.exit(main())
