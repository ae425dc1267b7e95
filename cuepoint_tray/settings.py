"""Settings, declared once: name, default and help live in the `Settings` dataclass below.

The CLI, the defaults, `cuepoint settings` and the README's table are all read from it.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import tomllib
from dataclasses import MISSING, Field, asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import tomli_w

from cuepoint_tray.errors import SettingsError
from cuepoint_tray.secrets_store import SecretsStore


def _setting(default: Any, help: str, *, secret: bool = False) -> Any:
    return field(default=default, metadata={"help": help, "secret": secret})


@dataclass(frozen=True)
class Settings:
    rekordbox_library: str = _setting(
        "", "Your Rekordbox library: Rekordbox's own master.db, or the collection exported as "
        "XML (File > Export Collection in xml format). Empty: Rekordbox's master.db where "
        "Rekordbox keeps it.")
    default_playlist: str = _setting(
        "", "Playlist matched when none is chosen, as a path such as 'Sets/Friday'.")
    beatport_api_url: str = _setting(
        "https://api.beatport.com/v4", "Base URL of Beatport's API v4.")
    beatport_web_url: str = _setting(
        "https://www.beatport.com", "Base URL of Beatport's website.")
    beatport_token: str = _setting(
        "", "Beatport API access token, set by signing in (`cuepoint login`) or pasted. When "
        "set, the API is used; otherwise the website.", secret=True)
    beatport_refresh_token: str = _setting(
        "", "Beatport API refresh token, used to renew the access token before it expires.",
        secret=True)
    beatport_account: str = _setting(
        "", "The Beatport account signed in with `cuepoint login` or Settings (its password "
        "is never kept).")
    beatport_client_id: str = _setting(
        "", "The public client id of Beatport's API docs page, found at the first sign-in "
        "and kept.")
    requests_per_second: float = _setting(
        4.0, "Most requests sent to one Beatport host per second.")
    concurrency: int = _setting(
        4, "Most requests in flight at once (still under requests_per_second).")
    request_timeout_s: float = _setting(
        15.0, "Seconds to wait for Beatport's answer before trying again.")
    max_attempts: int = _setting(
        5, "Tries per request on 429, server errors, timeouts and dropped connections.")
    cache_expiry_days: float = _setting(
        30.0, "Days a Beatport answer is reused from the local cache before it is asked again.")
    cache_max_mb: float = _setting(
        200.0, "Most megabytes the local cache of Beatport answers may hold; the oldest "
        "answers make room first.")
    report_format: str = _setting(
        "html", "Format of the report written when a session ends: html, csv, json or txt.")
    query_retention_days: int = _setting(
        0, "Days to keep per-query rows in the history; 0 keeps them for ever.")

    def shown(self) -> dict[str, Any]:
        """The settings with secrets masked, for printing."""
        values = asdict(self)
        for declared in fields(self):
            if declared.metadata["secret"] and values[declared.name]:
                values[declared.name] = "(set)"
        return values


def declared() -> tuple[Field[Any], ...]:
    return fields(Settings)


def default_of(declaration: Field[Any]) -> Any:
    assert declaration.default is not MISSING
    return declaration.default


def load_settings(path: Path, secrets: SecretsStore | None = None, *,
                  with_secrets: bool = True) -> Settings:
    """Read the TOML file, and the secrets from the system keyring when it has them;
    settings named nowhere keep their defaults.

    `with_secrets=False` leaves the keyring alone, for readers polling the settings that
    need no token: a keyring may be slow (D-Bus) or ask the DJ to unlock it."""
    stored = _read_file(path)
    if with_secrets:
        secrets = secrets if secrets is not None else SecretsStore()
        for name in _secret_names():
            kept = secrets.get(name)
            if kept is not None:
                stored[name] = kept
    return with_values(Settings(), stored, source=str(path))


_AT_LINE = re.compile(r"\s*\(at (?:line (\d+), column \d+|end of document)\)")
REPAIR_HINT = ("fix or delete that line, or change a setting with `cuepoint settings --set NAME "
               "VALUE`, which rewrites the file")


def _read_file(path: Path) -> dict[str, Any]:
    """The settings file's TOML; SettingsError naming the line when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        raise SettingsError(f"Your settings file is damaged: it is not text; {REPAIR_HINT}. "
                            f"The file is {path}") from None
    except OSError as exc:
        raise SettingsError(f"Your settings file {path} cannot be read ({exc.strerror}).") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = _AT_LINE.search(str(exc))
        what = _AT_LINE.sub("", str(exc)).rstrip(".")
        line = where.group(1) if where else str(max(1, len(text.splitlines())))
        raise SettingsError(f"Your settings file is damaged at line {line} ({what}): "
                            f"{REPAIR_HINT}. The file is {path}") from None


def salvage_settings(path: Path) -> tuple[Settings, list[str]]:
    """The settings a broken file still holds, line by line, and what was left out; for
    `settings --set`, which must be able to repair the file it cannot read whole."""
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    try:
        lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    for number, line in enumerate(lines, start=1):
        try:
            one = with_values(Settings(), tomllib.loads(line), source=f"line {number}")
        except (tomllib.TOMLDecodeError, SettingsError):
            dropped.append(f"line {number}: {line.strip()[:80]}")
            continue
        kept.update({name: getattr(one, name) for name in tomllib.loads(line)})
    return with_values(Settings(), kept, source=str(path)), dropped


def served_from(beatport_url: str) -> dict[str, str]:
    """The settings that point CuePoint at one server for the website (URL) and the API
    (URL/v4): the local catalog server, for one."""
    base = beatport_url.rstrip("/")
    return {"beatport_web_url": base, "beatport_api_url": base + "/v4"}


def _secret_names() -> list[str]:
    return [d.name for d in declared() if d.metadata["secret"]]


# Old names still read (and `--set` still takes them): settings files outlive versions.
RENAMED = {"rekordbox_xml": "rekordbox_library"}


def with_values(settings: Settings, values: dict[str, Any], *, source: str) -> Settings:
    """A copy of `settings` with `values` applied, each checked against its declared type."""
    known = {declaration.name: declaration for declaration in declared()}
    changes: dict[str, Any] = {}
    for old, new in RENAMED.items():
        if old in values:
            values = {**{new: values[old]}, **{k: v for k, v in values.items() if k != old}}
    for name, value in values.items():
        if name not in known:
            raise SettingsError(f"Unknown setting '{name}' in {source}.")
        changes[name] = _coerce(name, type(default_of(known[name])), value, source)
    return replace(settings, **changes)


# What each number may be. Past these a value is a typing slip (or a hostile page), and
# would make the client hammer Beatport, wait for ever or hold unbounded threads.
RANGES: dict[str, tuple[float, float]] = {
    "requests_per_second": (0.001, 10_000.0), "concurrency": (1, 64),
    "request_timeout_s": (0.1, 600.0), "max_attempts": (1, 20),
    "cache_expiry_days": (0.0, 3650.0), "query_retention_days": (0, 36_500),
    "cache_max_mb": (1.0, 1_000_000.0),
}


def _coerce(name: str, kind: type, value: Any, source: str) -> Any:
    coerced = _as_kind(name, kind, value, source)
    low, high = RANGES.get(name, (coerced, coerced))
    if not low <= coerced <= high:
        raise SettingsError(f"Setting '{name}' in {source} must be between {low:g} and "
                            f"{high:g}, not {value!r}.")
    return coerced


def _as_kind(name: str, kind: type, value: Any, source: str) -> Any:
    try:
        if kind is bool or isinstance(value, bool) and kind is not str:
            raise ValueError
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError
        coerced = kind(value)
        if isinstance(coerced, float) and not math.isfinite(coerced):
            raise ValueError
        return coerced
    except (TypeError, ValueError, OverflowError):
        raise SettingsError(
            f"Setting '{name}' in {source} should be a {kind.__name__}, not {value!r}.") from None


def save_settings(settings: Settings, path: Path, secrets: SecretsStore | None = None) -> None:
    """Write the settings that differ from the defaults, readable by the user only; secrets
    go to the system keyring instead when there is one."""
    secrets = secrets if secrets is not None else SecretsStore()
    in_keyring = {name for name in _secret_names()
                  if secrets.put(name, getattr(settings, name))}
    changed = {d.name: getattr(settings, d.name) for d in declared()
               if getattr(settings, d.name) != default_of(d) and d.name not in in_keyring}
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file 0600: a token is never readable by others, not even for a
    # moment, and a kill leaves the old file whole.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                             suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(tomli_w.dumps(changed))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
