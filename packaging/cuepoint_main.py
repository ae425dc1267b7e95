"""Entry point of the frozen bundle (see cuepoint.spec). Both programs are this script,
frozen twice under two names: `cuepoint-tray` runs the tray app, `cuepoint` the command line.
One analysis for both halves the build time and keeps one copy of every library."""

import multiprocessing
import os
import sys
from pathlib import Path


def program() -> str:
    """'tray' or 'cli', from the name this executable was started under."""
    name = Path(sys.executable if getattr(sys, "frozen", False) else sys.argv[0]).stem
    return "tray" if name.lower().startswith("cuepoint-tray") else "cli"


def use_system_libraries_in_helpers() -> None:
    """Linux: the bootloader points LD_LIBRARY_PATH at the bundle's copies of the libraries,
    and every program started from here inherits it — WebKit's own helper programs
    (WebKitWebProcess, from the system) too, which then draw nothing: the window stays
    blank. Give started programs the user's own setting back; this process has loaded its
    libraries already, and a frozen child (the window's process) sets its own again."""
    if not (getattr(sys, "frozen", False) and sys.platform.startswith("linux")):
        return
    original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original is None:
        os.environ.pop("LD_LIBRARY_PATH", None)
    else:
        os.environ["LD_LIBRARY_PATH"] = original


if __name__ == "__main__":
    use_system_libraries_in_helpers()
    # The dashboard window runs in a child process started with "spawn": in a frozen app
    # that child is this executable again, and freeze_support() turns it into the child.
    multiprocessing.freeze_support()
    if program() == "tray":
        from cuepoint_tray.tray.app import main
    else:
        from cuepoint_tray.cli import main
    sys.exit(main())
