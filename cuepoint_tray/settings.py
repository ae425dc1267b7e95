"""Settings, declared once: each setting's name, default, label, help, limits and choices live
in the `Settings` dataclass below, and `checked` is the one place a value is accepted or refused.

The CLI (`cuepoint settings --set`), the settings file's loader and the dashboard (which
gets `schema()` from the API) all go through `with_values`, so they refuse the same values
with the same sentence; the defaults, `cuepoint settings` and the README's table (a test
checks it) are read from the same declarations.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, Field, asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import tomli_w

from cuepoint_tray.changes import KEY_NOTATIONS
from cuepoint_tray.errors import SettingsError
from cuepoint_tray.file_writing import whole_file
from cuepoint_tray.report_formats import REPORT_FORMATS
from cuepoint_tray.secrets_store import SecretsStore


@dataclass(frozen=True)
class Limits:
    """What a number setting may be: a finite number from `low` to `high` (never NaN or an
    infinity); `zero` says what 0 means when `low` allows it."""

    low: float
    high: float
    zero: str = ""


def _setting(default: Any, label: str, help: str, *, secret: bool = False,
             limits: Limits | None = None, choices: Mapping[str, str] | None = None,
             advanced: bool = False, example: str = "") -> Any:
    return field(default=default, metadata={
        "label": label, "help": help, "secret": secret, "limits": limits,
        "choices": dict(choices or {}), "advanced": advanced, "example": example})


# The limits: past these a value is a typing slip (or a hostile page), and would make the
# client hammer Beatport, wait for ever, hold unbounded threads or crash on a date.
@dataclass(frozen=True)
class Settings:
    rekordbox_library: str = _setting(
        "", "Rekordbox library", "Your Rekordbox library: Rekordbox's own master.db, or the "
        "collection exported as XML (File > Export Collection in xml format). Empty: "
        "Rekordbox's master.db where Rekordbox keeps it.",
        example="/Users/you/Music/rekordbox.xml")
    default_playlist: str = _setting(
        "", "Default playlist",
        "Playlist matched when none is chosen, as a path such as 'Sets/Friday'.",
        example="Sets/Friday")
    beatport_api_url: str = _setting(
        "https://api.beatport.com/v4", "Beatport API address", "Base URL of Beatport's API v4.",
        advanced=True)
    beatport_web_url: str = _setting(
        "https://www.beatport.com", "Beatport website address",
        "Base URL of Beatport's website.", advanced=True)
    beatport_token: str = _setting(
        "", "Beatport API token", "Beatport API access token, set by signing in (`cuepoint "
        "login`) or pasted. When set, the API is used; otherwise the website.", secret=True)
    beatport_refresh_token: str = _setting(
        "", "Beatport refresh token",
        "Beatport API refresh token, used to renew the access token before it expires.",
        secret=True, advanced=True)
    beatport_account: str = _setting(
        "", "Beatport account", "The Beatport account signed in with `cuepoint login` or "
        "Settings (its password is never kept).", advanced=True)
    beatport_client_id: str = _setting(
        "", "Beatport client id", "The public client id of Beatport's API docs page, found "
        "at the first sign-in and kept.", advanced=True)
    requests_per_second: float = _setting(
        4.0, "Requests per second", "Most requests sent to one Beatport host per second.",
        limits=Limits(0.001, 10_000.0))
    concurrency: int = _setting(
        4, "Requests at once",
        "Most requests in flight at once (still under requests_per_second).",
        limits=Limits(1, 64))
    request_timeout_s: float = _setting(
        15.0, "Request timeout (seconds)",
        "Seconds to wait for Beatport's answer before trying again.",
        limits=Limits(0.1, 600.0), advanced=True)
    max_attempts: int = _setting(
        5, "Tries per request",
        "Tries per request on 429, server errors, timeouts and dropped connections.",
        limits=Limits(1, 20), advanced=True)
    cache_expiry_days: float = _setting(
        30.0, "Cache expiry (days)", "Days a Beatport answer is reused from the local cache "
        "before it is asked again; 0 asks again every time.",
        limits=Limits(0.0, 3650.0, zero="asks Beatport again every time"))
    cache_max_mb: float = _setting(
        200.0, "Cache size (MB)", "Most megabytes the local cache of Beatport answers may "
        "hold; the oldest answers make room first.",
        limits=Limits(1.0, 100_000.0), advanced=True)
    report_format: str = _setting(
        "html", "Report format", "Format of the report written when a session ends: "
        + ", ".join(REPORT_FORMATS) + ".",
        choices={name: kind.label for name, kind in REPORT_FORMATS.items()})
    key_notation: str = _setting(
        "musical", "Key notation", "How keys are shown (dashboard, reports, CSVs) and written "
        "into an enriched Rekordbox XML: musical (Am, F#), Camelot (8A, 2B) or Open Key "
        "(1m, 7d).", choices=KEY_NOTATIONS)
    query_retention_days: int = _setting(
        0, "Keep query details (days)",
        "Days to keep per-query rows in the history; 0 keeps them for ever.",
        limits=Limits(0, 36_500, zero="keeps them for ever"))

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
        for name in secret_names():
            kept = secrets.get(name)
            if kept is not None:
                stored[name] = kept
    return with_values(Settings(), stored, source=f"your settings file {path}")


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
        kept.update({RENAMED.get(name, name): getattr(one, RENAMED.get(name, name))
                     for name in tomllib.loads(line)})
    return with_values(Settings(), kept, source=str(path)), dropped


def served_from(beatport_url: str) -> dict[str, str]:
    """The settings that point CuePoint at one server for the website (URL) and the API
    (URL/v4): the local catalog server, for one."""
    base = beatport_url.rstrip("/")
    return {"beatport_web_url": base, "beatport_api_url": base + "/v4"}


def secret_names() -> list[str]:
    return [d.name for d in declared() if d.metadata["secret"]]


# Old names still read (and `--set` still takes them): settings files outlive versions.
RENAMED = {"rekordbox_xml": "rekordbox_library"}


def with_values(settings: Settings, values: Mapping[str, Any], *, source: str) -> Settings:
    """A copy of `settings` with `values` applied, each `checked`; SettingsError on the
    first refused one, with nothing applied."""
    known = {declaration.name: declaration for declaration in declared()}
    changes: dict[str, Any] = {}
    for old, new in RENAMED.items():
        if old in values:
            values = {**{new: values[old]}, **{k: v for k, v in values.items() if k != old}}
    for name, value in values.items():
        if name not in known:
            raise SettingsError(f"Unknown setting '{name}' in {source}.", setting=name)
        changes[name] = checked(known[name], value, source)
    return replace(settings, **changes)


def checked(declaration: Field[Any], value: Any, source: str) -> Any:
    """`value` as the setting's type, or SettingsError with the one sentence said about it
    wherever it was typed: the setting's label and what it must be."""
    coerced = _as_kind(declaration, value)
    refusal = _refusal(declaration, coerced) if coerced is not None else _kind_refusal(
        declaration)
    if refusal:
        raise SettingsError(f"Setting '{declaration.name}' in {source}: {refusal}",
                            setting=declaration.name, sentence=refusal)
    return coerced


def _as_kind(declaration: Field[Any], value: Any) -> Any:
    """`value` converted to the setting's type, or None when it is not one."""
    kind = type(default_of(declaration))
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None  # TOML's `true`, a list, a table
    if kind is int and isinstance(value, float) and not value.is_integer():
        return None
    try:
        return kind(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _kind_refusal(declaration: Field[Any]) -> str:
    label = declaration.metadata["label"]
    what = {int: "a whole number", float: "a number"}.get(type(default_of(declaration)),
                                                           "text")
    return f"{label} must be {what}."


def _refusal(declaration: Field[Any], value: Any) -> str:
    """What is wrong with a value of the right type, in one sentence; "" when nothing."""
    label, limits = declaration.metadata["label"], declaration.metadata["limits"]
    choices: dict[str, str] = declaration.metadata["choices"]
    if choices and value not in choices:
        return f"{label} must be {either(choices)}."
    if limits is None:
        return ""
    if not math.isfinite(value):
        return f"{label} must be a number from {limits.low:g} to {limits.high:g}."
    if value < limits.low:
        return (f"{label} cannot be negative." if limits.low == 0 else
                f"{label} must be at least {limits.low:g}.")
    if value > limits.high:
        return f"{label} must be at most {limits.high:g}."
    return ""


def either(words: Iterable[str]) -> str:
    """'html, csv, json or txt'."""
    listed = list(words)
    return ", ".join(listed[:-1]) + f" or {listed[-1]}" if len(listed) > 1 else "".join(listed)


def schema() -> list[dict[str, Any]]:
    """Every setting as the dashboard renders it: name, label, help, type, whether it is a
    secret or advanced, its default (none for secrets), limits and choices."""
    return [_described(declaration) for declaration in declared()]


def _described(declaration: Field[Any]) -> dict[str, Any]:
    meta, limits = declaration.metadata, declaration.metadata["limits"]
    return {
        "name": declaration.name, "label": meta["label"], "help": meta["help"],
        "kind": type(default_of(declaration)).__name__, "secret": meta["secret"],
        "advanced": meta["advanced"], "example": meta["example"],
        "default": None if meta["secret"] else default_of(declaration),
        "limits": None if limits is None else {
            "low": limits.low, "high": limits.high, "zero_allowed": limits.low <= 0,
            "zero": limits.zero, "finite_only": True},
        "choices": [{"value": value, "label": label} for value, label in meta["choices"].items()],
    }


def save_settings(settings: Settings, path: Path, secrets: SecretsStore | None = None) -> None:
    """Write the settings that differ from the defaults, readable by the user only; secrets
    go to the system keyring instead when there is one."""
    secrets = secrets if secrets is not None else SecretsStore()
    in_keyring = {name for name in secret_names()
                  if secrets.put(name, getattr(settings, name))}
    changed = {d.name: getattr(settings, d.name) for d in declared()
               if getattr(settings, d.name) != default_of(d) and d.name not in in_keyring}
    # whole_file's temporary file is created 0600: a token is never readable by others,
    # not even for a moment, and a kill leaves the old file whole.
    with whole_file(path, "w", encoding="utf-8") as handle:
        handle.write(tomli_w.dumps(changed))
