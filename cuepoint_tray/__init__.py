"""CuePoint Tray: match Rekordbox playlists against Beatport and keep every session's history."""

__version__ = "0.1.0"
APP_NAME = "CuePoint Tray"
