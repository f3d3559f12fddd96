"""`python -m tui` is `msgwatch`."""

import sys

from tui.cli import main

# Guarded: the store's writer process may import this module as __mp_main__.
if __name__ == "__main__":
    sys.exit(main())
