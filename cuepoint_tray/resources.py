"""The files CuePoint carries inside its package: the dashboard (`web/`), the tray icon and
the demo catalog and Rekordbox XML (`assets/`).

They are found with `importlib.resources`, never by a path relative to the repository, so
they are there wherever the package is: a checkout, a wheel installed in any environment,
pipx, a PyInstaller bundle.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path

PACKAGE = "cuepoint_tray"


def resource(*parts: str) -> Traversable:
    """A file or folder of the package's data, e.g. `resource("assets", "tray", "x.png")`."""
    return files(PACKAGE).joinpath(*parts)


TRAY_ICON = ("assets", "tray", "cuepoint.png")
DEMO_XML = ("assets", "demo", "rekordbox.xml")
DEMO_CATALOG = ("assets", "demo", "catalog.jsonl")


@contextmanager
def resource_file(*parts: str) -> Iterator[Path]:
    """A data file as a path on disk for the length of the `with` block (copied out to a
    temporary file only when the package is not installed as plain files)."""
    with as_file(resource(*parts)) as path:
        yield path


@functools.cache
def resource_folder(*parts: str) -> Path:
    """A data folder as a path on disk, for the life of the process (servers need one).

    Installed packages (wheels, editable installs, frozen bundles) hold their data as plain
    files, and the folder is used where it is; from a zip it is copied out once.
    """
    found = resource(*parts)
    if isinstance(found, Path):
        return found
    scratch = Path(tempfile.mkdtemp(prefix="cuepoint-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    target = scratch / parts[-1]
    _copy_tree(found, target)
    return target


def _copy_tree(source: Traversable, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for child in source.iterdir():
        if child.is_dir():
            _copy_tree(child, target / child.name)
        else:
            (target / child.name).write_bytes(child.read_bytes())
