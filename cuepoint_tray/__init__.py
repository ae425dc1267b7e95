"""CuePoint Tray: match Rekordbox playlists against Beatport and keep every session's history."""

__version__ = "0.1.0"
APP_NAME = "CuePoint Tray"
DATA_DIR_ENV = "CUEPOINT_DATA_DIR"  # one folder for everything (--data-dir); see paths.py
