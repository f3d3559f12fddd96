"""`python -m tui` is `msgwatch`."""

import sys

from tui.cli import main

sys.exit(main())
