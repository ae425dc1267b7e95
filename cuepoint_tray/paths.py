"""Where CuePoint keeps its database, cache, logs, reports and settings."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from platformdirs.api import PlatformDirsABC

from cuepoint_tray import DATA_DIR_ENV

_APP_DIR_NAME = "CuePointTray"


@dataclass(frozen=True)
class AppPaths:
    data_dir: Path
    cache_dir: Path
    log_dir: Path
    config_dir: Path
    reports_dir: Path

    @property
    def database(self) -> Path:
        return self.data_dir / "history.sqlite3"

    @property
    def http_cache(self) -> Path:
        return self.cache_dir / "beatport-http.sqlite3"

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.toml"

    @property
    def masterdb_keys(self) -> Path:
        """The SQLCipher key of each Rekordbox master.db read, by salt (masterdb_key.py)."""
        return self.cache_dir / "masterdb-keys.json"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "cuepoint.log"

    def create(self) -> AppPaths:
        for folder in (self.data_dir, self.cache_dir, self.log_dir, self.config_dir,
                       self.reports_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def resolve_paths(data_dir: str | os.PathLike[str] | None = None, *,
                  platform: str = sys.platform) -> AppPaths:
    """All paths under one folder when given (or in $CUEPOINT_DATA_DIR), else the platform's:
    ~/Library/... on macOS, %LOCALAPPDATA% on Windows, the XDG folders elsewhere."""
    chosen = data_dir or os.environ.get(DATA_DIR_ENV)
    if chosen:
        root = Path(chosen).expanduser().resolve()
        return AppPaths(
            data_dir=root,
            cache_dir=root / "cache",
            log_dir=root / "logs",
            config_dir=root / "config",
            reports_dir=root / "reports",
        )
    dirs = _platform_dirs(platform)
    data = Path(dirs.user_data_dir)
    return AppPaths(
        data_dir=data,
        cache_dir=Path(dirs.user_cache_dir),
        log_dir=Path(dirs.user_log_dir),
        config_dir=Path(dirs.user_config_dir),
        reports_dir=data / "reports",
    )


def _platform_dirs(platform: str) -> PlatformDirsABC:
    """platformdirs' conventions for `platform` (a `sys.platform` value)."""
    if platform == "win32":
        from platformdirs.windows import Windows

        return Windows(_APP_DIR_NAME, appauthor=False)
    if platform == "darwin":
        from platformdirs.macos import MacOS

        return MacOS(_APP_DIR_NAME, appauthor=False)
    from platformdirs.unix import Unix

    return Unix(_APP_DIR_NAME, appauthor=False)
