"""`python -m cuepoint_tray.tray`: the same as the `cuepoint-tray` command."""

import sys

from cuepoint_tray.tray.app import main

if __name__ == "__main__":  # the window's spawned child imports this module as __mp_main__
    sys.exit(main())
