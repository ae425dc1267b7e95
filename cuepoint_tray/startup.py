"""Start-up shared by `cuepoint` and `cuepoint-tray`: the data folder, the settings with the
command line's overrides over them, and the log file.

Both programs take `--data-dir` (or $CUEPOINT_DATA_DIR) and `--beatport-url`; the command
line's values are applied to the settings at each read and never saved.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

from cuepoint_tray import DATA_DIR_ENV
from cuepoint_tray.errors import CuepointError
from cuepoint_tray.paths import AppPaths, resolve_paths
from cuepoint_tray.settings import Settings, load_settings, served_from, with_values

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s"


def data_folder(data_dir: str | os.PathLike[str] | None) -> AppPaths:
    """The app's folders (under `data_dir` when given), created; CuepointError in the DJ's
    words when they cannot be."""
    paths = resolve_paths(data_dir)
    try:
        return paths.create()
    except OSError as exc:
        raise unwritable(paths, exc) from None


def unwritable(paths: AppPaths, exc: OSError) -> CuepointError:
    return CuepointError(
        f"CuePoint cannot write in its data folder {paths.data_dir} "
        f"({exc.strerror or exc}): make it writable, or choose another with --data-dir "
        f"or ${DATA_DIR_ENV}.")


def command_line_settings(beatport_url: str | None = None,
                          token: str | None = None) -> dict[str, Any]:
    """The settings the command line changes for this run only."""
    overrides: dict[str, Any] = served_from(beatport_url) if beatport_url else {}
    if token:
        overrides["beatport_token"] = token
    return overrides


def settings_reader(paths: AppPaths, overrides: Mapping[str, Any], *,
                    with_secrets: bool = True) -> Callable[[], Settings]:
    """The settings file as it is at each call, with `overrides` over it (`with_secrets` as
    for load_settings)."""
    def settings() -> Settings:
        return with_values(load_settings(paths.settings_file, with_secrets=with_secrets),
                           overrides, source="the command line")
    return settings


def log_to_file(paths: AppPaths) -> logging.Handler:
    """Log INFO and above to the app's log file; returns the handler, to remove it."""
    logging.raiseExceptions = False  # a full disk must not print logging's tracebacks
    try:
        handler = logging.FileHandler(paths.log_file, encoding="utf-8")
    except OSError as exc:
        raise unwritable(paths, exc) from None
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler
