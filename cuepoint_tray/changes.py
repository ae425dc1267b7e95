"""What writing a Beatport track into a Rekordbox track changes, field by field.

One rule for every place that says it: the track JSON's `changes`, the session's
`will_change` count, the enriched XML and its changes CSV. A field changes when Beatport has
a value for it and the export may write it: into an empty Rekordbox field only ("fill", the
default), or over a different one too ("overwrite"). An empty Beatport value never erases.
A key already right in another spelling is left alone: only a different key is written.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cuepoint_tray.errors import CuepointError
from cuepoint_tray.musical_keys import MusicalKey, parse_key

# (name, label, Rekordbox XML attribute), in the order a DJ reads them.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("key", "Key", "Tonality"),
    ("bpm", "BPM", "AverageBpm"),
    ("genre", "Genre", "Genre"),
    ("label", "Label", "Label"),
    ("year", "Year", "Year"),
    ("mix", "Mix", "Mix"),
)
FIELD_NAMES = tuple(name for name, _, _ in FIELDS)
MODES = {"fill": "Fill empty fields only", "overwrite": "Overwrite"}
KEY_NOTATIONS = {"musical": "Musical (Am, F#)", "camelot": "Camelot (8A, 2B)",
                 "open_key": "Open Key (1m, 7d)"}


@dataclass(frozen=True)
class ExportOptions:
    """What an export writes: which fields, over what, whether Comments get a note, and in
    which notation keys are written. The defaults are the safe ones."""

    fields: tuple[str, ...] = FIELD_NAMES
    mode: str = "fill"
    comments: bool = False
    key_notation: str = "musical"

    def __post_init__(self) -> None:
        unknown = [name for name in self.fields if name not in FIELD_NAMES]
        if unknown:
            raise CuepointError(f"'{unknown[0]}' is not a field CuePoint writes: choose "
                                f"among {', '.join(FIELD_NAMES)}.")
        if self.mode not in MODES:
            raise CuepointError(f"'{self.mode}' is no export mode: use fill (empty fields "
                                "only) or overwrite.")
        if self.key_notation not in KEY_NOTATIONS:
            raise CuepointError(f"'{self.key_notation}' is no key notation: use musical, "
                                "camelot or open_key.")


def export_options(fields: str | Iterable[str] | None = None, mode: str | None = None,
                   comments: bool | str | None = None,
                   key_notation: str | None = None) -> ExportOptions:
    """Options from a request's or command line's words: `fields` as "key,bpm,..." (empty:
    the default), `comments` as 0/1 too; anything unknown is refused in one sentence."""
    chosen = FIELD_NAMES
    if isinstance(fields, str):
        chosen = tuple(dict.fromkeys(part.strip().lower() for part in fields.split(",")
                                     if part.strip())) or FIELD_NAMES
    elif fields is not None:
        chosen = tuple(fields)
    if isinstance(comments, str):
        if comments not in ("0", "1", "true", "false", "yes", "no"):
            raise CuepointError(f"'comments' must be 0 or 1, not '{comments}'.")
        comments = comments in ("1", "true", "yes")
    return ExportOptions(fields=chosen, mode=mode or "fill", comments=bool(comments),
                         key_notation=key_notation or "musical")


def key_text(key: MusicalKey | None, notation: str) -> str:
    """A key in the notation chosen; "" for none."""
    if key is None:
        return ""
    if notation == "camelot":
        return key.camelot
    if notation == "open_key":
        return key.open_key
    return key.rekordbox_name


def shown_key(text: str | None, notation: str) -> str:
    """A key as read (any spelling) shown in the notation chosen; unreadable text as it is."""
    key = parse_key(text)
    return key_text(key, notation) if key else (text or "")


def _year(release_date: str | None) -> str:
    year = (release_date or "")[:4]
    return year if year.isdigit() and int(year) > 0 else ""


def _bpm(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{number:.2f}" if math.isfinite(number) and number > 0 else ""


def field_changes(rekordbox: Mapping[str, Any], final: Mapping[str, Any] | None,
                  options: ExportOptions = ExportOptions()) -> list[dict[str, Any]]:
    """Each field of FIELDS as {"field", "label", "old", "new", "changed", "written"}:
    the Rekordbox value, Beatport's (both for showing, keys in the notation chosen), whether
    writing `final` with these options changes it, and the exact text written when it does.

    `rekordbox` and `final` are the track shape's dicts (RekordboxTrack / BeatportTrack names).
    """
    notation = options.key_notation
    old_key = parse_key(rekordbox.get("tonality"))
    new_key = (parse_key(final.get("key_name")) or parse_key(final.get("camelot"))) \
        if final else None
    values: dict[str, tuple[str, str]] = {  # (old, new) as shown
        "key": (shown_key(rekordbox.get("tonality"), notation), key_text(new_key, notation)),
        "bpm": (_bpm(rekordbox.get("average_bpm")), _bpm(final.get("bpm")) if final else ""),
        "genre": (rekordbox.get("genre") or "", (final or {}).get("genre") or ""),
        "label": (rekordbox.get("label") or "", (final or {}).get("label") or ""),
        "year": (str(rekordbox.get("year") or ""), _year((final or {}).get("release_date"))),
        "mix": (rekordbox.get("mix") or "", (final or {}).get("mix_name") or ""),
    }
    rows = []
    for name, label, _ in FIELDS:
        old, new = values[name]
        if name == "key":
            differs = new_key is not None and (old_key is None or old_key != new_key)
        elif name == "bpm":
            differs = bool(new) and (not old or abs(float(old) - float(new)) >= 0.01)
        else:
            differs = bool(new) and new != old
        changed = (name in options.fields and differs
                   and (options.mode == "overwrite" or not old))
        rows.append({"field": name, "label": label, "old": old, "new": new,
                     "changed": changed, "written": new if changed else None})
    return rows


def will_change(rekordbox: Mapping[str, Any], final: Mapping[str, Any] | None,
                options: ExportOptions = ExportOptions()) -> bool:
    """Whether writing `final` changes at least one field."""
    return final is not None and any(row["changed"]
                                     for row in field_changes(rekordbox, final, options))


def fills_sql(rekordbox: str, beatport: str) -> str:
    """`will_change` with the default options (every field, empty Rekordbox fields only) as
    an SQL condition, so that a list of sessions counts it without reading every track.
    `rekordbox` and `beatport` prefix the columns: "t.rb_" for track_results' Rekordbox
    fields, "d.bp_" for a decision's Beatport track."""
    def final(name: str) -> str:
        return f"{beatport}{name}"
    year = f"substr(coalesce({final('release_date')}, ''), 1, 4)"
    return (
        f"(({rekordbox}tonality = '' AND (coalesce({final('key_name')}, '') != '' "
        f"OR coalesce({final('camelot')}, '') != '')) "
        f"OR (coalesce({rekordbox}average_bpm, 0) <= 0 AND coalesce({final('bpm')}, 0) > 0) "
        f"OR ({rekordbox}genre = '' AND coalesce({final('genre')}, '') != '') "
        f"OR ({rekordbox}label = '' AND coalesce({final('label')}, '') != '') "
        f"OR (coalesce({rekordbox}year, 0) = 0 AND {year} GLOB '[0-9][0-9][0-9][0-9]' "
        f"AND CAST({year} AS INTEGER) > 0) "
        f"OR ({rekordbox}mix = '' AND coalesce({final('mix_name')}, '') != ''))")
