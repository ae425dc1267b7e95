"""Report renderers keyed by format: adding a format is adding one function to RENDERERS.

The HTML report is one self-contained file a DJ can open offline, mail or keep: inline CSS,
charts drawn as inline SVG, no script and no external URL. Inline SVG rather than plotly.js
because embedding plotly would add ~4.8 MB of script to every report for three simple charts,
and a report without script cannot run anything a track name smuggles in.
Every text from the DJ's files or from Beatport is escaped and isolated with <bdi>, so
markup stays text and right-to-left overrides cannot flip the text around it.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import orjson
from peewee import SqliteDatabase

from cuepoint_tray.errors import CuepointError
from cuepoint_tray.file_writing import capped_name, whole_file, write_whole
from cuepoint_tray.finite import finite
from cuepoint_tray.reports.data import (
    OUTCOMES,
    ReportData,
    build_report,
    key_as_rekordbox,
    playlist_names,
)
from cuepoint_tray.reports.tables import results_csv
from cuepoint_tray.store.database import reads

Renderer = Callable[[ReportData], bytes | str]
# Characters no file system takes well, controls, and bidi controls that disguise names.
_UNSAFE_NAME = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]')
_MAX_NAME = 120


@reads
def write_report(db: SqliteDatabase, session_id: int, fmt: str, folder: Path,
                 key_notation: str = "musical") -> Path:
    """Write one session's report in `fmt` to folder, keys in `key_notation`; returns the
    file's path.

    The name is "<session id> <playlist names> <date>.<fmt>". An unknown format raises
    CuepointError naming the known ones.
    """
    _known(fmt)
    data = build_report(db, session_id, key_notation)
    path = Path(folder) / report_file_name(data, fmt)
    write_rendered(data, fmt, path)
    return path


def _known(fmt: str) -> None:
    if fmt not in RENDERERS:
        raise CuepointError(f"Unknown report format '{fmt}': choose one of "
                            f"{', '.join(sorted(RENDERERS))}")


def write_rendered(data: ReportData, fmt: str, path: Path) -> None:
    """Write `data` rendered in `fmt` at `path`, whole; JSON goes to the file track by track,
    so a long session's JSON is never held whole in memory."""
    _known(fmt)
    if fmt == "json":
        with whole_file(path, "w", encoding="utf-8") as handle:
            _write_json(data, handle)
        return
    rendered = RENDERERS[fmt](data)
    write_whole(path, rendered.encode("utf-8") if isinstance(rendered, str) else rendered)


def report_file_name(data: ReportData, fmt: str) -> str:
    """A file name safe on every system: "12 Dev Set, Warm Up 2024-05-01.html"."""
    names = ", ".join(playlist_names(data.playlists)) or "session"
    names = capped_name(" ".join(_UNSAFE_NAME.sub("_", names).split())[:_MAX_NAME])
    stem = " ".join(_UNSAFE_NAME.sub("_", f"{data.session_id} {names} {data.started[:10]}")
                    .split()).rstrip(" .")
    return f"{stem}.{fmt}"


# --- JSON, CSV -----------------------------------------------------------------------------

def render_json(data: ReportData) -> str:
    """All the report data as JSON: one track a line."""
    out = io.StringIO()
    _write_json(data, out)
    return out.getvalue()


def _write_json(data: ReportData, out: IO[str]) -> None:
    """The report's figures, then its tracks one a line, each encoded on its own (by orjson:
    a 4,000-track session's JSON in a tenth of a second)."""
    document = data.as_dict()
    tracks = document.pop("tracks")
    out.write(_json(document)[:-1] + ', "tracks": [')
    for number, track in enumerate(tracks):
        out.write(("," if number else "") + "\n" + _json(track))
    out.write("\n]}\n")


def _json(value: Any) -> str:
    """`value` as compact JSON; a non-finite number in it (from an older history) as null,
    a value JSON has no type for as its text."""
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, say
        return json.dumps(finite(value), ensure_ascii=False, allow_nan=False, default=str)


def render_csv(data: ReportData) -> bytes:
    """The track table as results.csv has it (`tables.py`), one row per playlist entry."""
    return results_csv(data.tracks)


# --- plain text ------------------------------------------------------------------------------

def render_txt(data: ReportData) -> str:
    """A readable plain summary, the tips, and the tracks as a fixed-width table."""
    lines = [f"CuePoint report: {data.title}", "=" * 60, *_summary_lines(data), ""]
    lines += ["Tips", "----", *([f"- {tip['message']}" for tip in data.tips] or ["(none)"]), ""]
    lines += ["Query time by type", "------------------"]
    lines += [f"{s['type']:<14} {s['count']:>5} queries  avg {_ms(s['avg_ms']):>8}  "
              f"p95 {_ms(s['p95_ms']):>8}" for s in data.query_stats] or ["(none)"]
    lines += ["", "Tracks", "------", *_text_table(data.tracks)]
    return "\n".join(lines) + "\n"


def _summary_lines(data: ReportData) -> list[str]:
    return [f"{label + ':':<18}{value}" for label, value in _figures(data)]


def _figures(data: ReportData) -> list[tuple[str, str]]:
    """The summary figures, in words, shared by the text and HTML reports."""
    t, o = data.totals, data.overview
    return [
        ("Session", f"{data.session_id} ({o['status']})"),
        ("Tracks", f"{t['done']} of {t['tracks']}"),
        ("Matched", f"{t['matched']} ({t['match_rate']:.0%})"),
        ("To review", str(t["to_review"])
         + (f" ({t['decided']} decided by you)" if t.get("decided") else "")),
        ("Will change", f"{t['will_change']} tracks in Rekordbox (empty fields filled)"),
        ("Unmatched", str(t["unmatched"])),
        ("Errors", str(t["errors"])),
        ("Time", _ms(t["wall_ms"])),
        ("Time per track", _ms(t["ms_per_track"])),
        ("Queries", f"{t['queries']} ({t['requests']} requests)"),
        ("Cache hits", f"{t['cache_hits']} ({t['cache_hit_rate']:.0%})"),
    ]


_TEXT_COLUMNS = (("#", "position", 4), ("Rekordbox", "rb", 40), ("Beatport", "bp", 40),
                 ("Key", "key", 9), ("Confidence", "confidence", 10), ("Status", "status", 9))


def _text_table(tracks: list[dict[str, Any]]) -> list[str]:
    header = "  ".join(f"{title:<{width}}" for title, _, width in _TEXT_COLUMNS).rstrip()
    rows = [header, "-" * len(header)]
    for track in tracks:
        old_key, new_key = _key_pair(track)
        cells = {"position": str(track["position"]), "rb": _rb_text(track["rekordbox"]),
                 "bp": _bp_text(track["final"]),
                 "key": f"{old_key or '-'}/{new_key or '-'}",
                 "confidence": track["confidence"], "status": track["status"]}
        rows.append("  ".join(_fit(cells[key], width) for _, key, width in _TEXT_COLUMNS)
                    .rstrip())
    return rows


def _fit(text: str, width: int) -> str:
    text = " ".join(text.split())
    return f"{text[:width - 1]}…" if len(text) > width else f"{text:<{width}}"


def _rb_text(rekordbox: dict[str, Any]) -> str:
    mix = f" ({rekordbox['mix']})" if rekordbox["mix"] else ""
    artist = f"{rekordbox['artist']} - " if rekordbox["artist"] else ""
    return f"{artist}{rekordbox['name']}{mix}"


def _bp_text(beatport: dict[str, Any] | None) -> str:
    if beatport is None:
        return "-"
    mix = f" ({beatport['mix_name']})" if beatport["mix_name"] else ""
    return f"{', '.join(beatport['artists'])} - {beatport['title']}{mix}"


def _ms(value: float | None) -> str:
    if not value:
        return "0 ms"
    return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.1f} s"


# --- HTML ------------------------------------------------------------------------------------

def render_html(data: ReportData) -> str:
    """The self-contained HTML report: summary, tips, charts and tables."""
    body = "\n".join([
        f"<header><h1>{_e(data.title)}</h1><p class=muted>CuePoint report · session "
        f"{data.session_id} · {_e(data.overview['status'])} · "
        f"{_u(data.overview.get('xml_path', ''))}</p></header>",
        _cards(data), _tips(data), _charts(data),
        _section("Query time by type", _query_table(data.query_stats)),
        _section("Slowest tracks", _slowest_table(data.slowest)),
        _section(f"Review queue ({len(data.review)})", _review_table(data.review)),
        _section(f"Tracks ({len(data.tracks)})", _track_table(data.tracks)),
    ])
    return (f"<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            f"<meta name=viewport content='width=device-width, initial-scale=1'>"
            f"<title>CuePoint — {_e(data.title)}</title><style>{_CSS}</style></head>"
            f"<body>\n{body}\n</body></html>\n")


def _e(value: Any) -> str:
    return "" if value is None else html.escape(str(value), quote=True)


def _u(value: Any) -> str:
    """Text from the DJ's files or Beatport: escaped, and isolated from the text around it."""
    return f"<bdi>{_e(value)}</bdi>" if value not in (None, "") else ""


def _section(title: str, content: str) -> str:
    return f"<section><h2>{_e(title)}</h2>{content}</section>"


def _cards(data: ReportData) -> str:
    cards = "".join(f"<div class=card><div class=label>{_e(label)}</div>"
                    f"<div class=value>{_e(value)}</div></div>" for label, value in _figures(data))
    return f"<section class=cards>{cards}</section>"


def _tips(data: ReportData) -> str:
    if not data.tips:
        return _section("Tips", "<p class=muted>Nothing to improve: no tip for this session.</p>")
    items = "".join(f"<li>{_e(tip['message'])}</li>" for tip in data.tips)
    return _section("Tips", f"<ul class=tips>{items}</ul>")


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]], empty: str = "None.") -> str:
    """A table from already-escaped cells."""
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
                   for row in rows)
    if not body:
        return f"<p class=muted>{_e(empty)}</p>"
    head = "".join(f"<th>{_e(name)}</th>" for name in headers)
    return (f"<div class=scroll><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")


def _query_table(stats: list[dict[str, Any]]) -> str:
    return _table(("Type", "Queries", "Average", "p95", "Candidates", "Cache hits", "Errors"),
                  ([_e(s["type"]), _e(s["count"]), _e(_ms(s["avg_ms"])), _e(_ms(s["p95_ms"])),
                    _e(s["avg_candidates"]), _e(f"{s['cache_hit_rate']:.0%}"), _e(s["errors"])]
                   for s in stats))


def _slowest_table(rows: list[dict[str, Any]]) -> str:
    return _table(("#", "Artist", "Title", "Time", "Queries", "Status"),
                  ([_e(r["position"]), _u(r["rekordbox"]["artist"]), _u(r["rekordbox"]["name"]),
                    _time(r["elapsed_ms"]), _e(r["query_count"]), _badge(r["status"])]
                   for r in rows))


def _review_table(rows: list[dict[str, Any]]) -> str:
    return _table(("#", "Rekordbox", "Best candidate", "Score", "Decision", "Why"),
                  ([_e(r["position"]), _rekordbox_names(r["rekordbox"]),
                    _candidate_cell(r["review_candidate"]),
                    _e(f"{(r['review_candidate'] or {}).get('score') or 0:.2f}"),
                    _decision_cell(r), _u(r.get("reason"))] for r in rows),
                  "No track waits for a decision.")


def _decision_cell(track: dict[str, Any]) -> str:
    """The DJ's decision in words, and what a changed one was changed to."""
    decision = track.get("decision")
    if decision is None:
        return "<span class=muted>to review</span>"
    where = (f" <span class=muted>(in session {_e(decision['session_id'])})</span>"
             if decision.get("earlier") else "")
    if decision["state"] == "rejected":
        return f"Rejected: no Beatport match{where}"
    if decision["state"] == "accepted":
        return f"Accepted{where}"
    return f"Changed to {_beatport_cell(decision.get('beatport'))}{where}"


def _candidate_cell(candidate: dict[str, Any] | None) -> str:
    if candidate is None or candidate["beatport"] is None:
        return "<span class=muted>—</span>"
    return _beatport_names(candidate["beatport"])


def _rekordbox_names(rekordbox: dict[str, Any]) -> str:
    return _names(rekordbox["artist"], rekordbox["name"], rekordbox["mix"])


def _beatport_names(beatport: dict[str, Any]) -> str:
    return _names(", ".join(beatport["artists"]), beatport["title"], beatport["mix_name"])


def _names(artist: str, title: str, mix: str) -> str:
    """Artist - Title (Mix), each isolated on its own: one's bidi override cannot flip another."""
    text = f"{_u(artist)} - {_u(title)}" if artist else _u(title)
    return f"{text} ({_u(mix)})" if mix else text


def _time(ms: float) -> str:
    return f"<span class=nowrap>{_e(_ms(ms))}</span>"


def _track_table(tracks: list[dict[str, Any]]) -> str:
    return _table(("#", "Rekordbox", "Beatport", "BPM", "Key", "Genre", "Label", "Year",
                   "Confidence", "Status", "Time"),
                  (_track_cells(t) + [_badge(t["confidence"]), _badge(t["status"]),
                                      _time(t["elapsed_ms"])]
                   for t in tracks))


def _key_pair(track: dict[str, Any]) -> tuple[str, str]:
    """The track's key as Rekordbox has it and as it would be written, in the notation
    chosen (`changes`); before changes were shaped, as Rekordbox spells it."""
    for change in track.get("changes") or ():
        if change["field"] == "key":
            return change["old"], change["new"]
    return track["rekordbox"]["tonality"], key_as_rekordbox(track["final"])


def _track_cells(track: dict[str, Any]) -> list[str]:
    """Rekordbox's values over what will be written from Beatport (the decision applied)."""
    rb, bp = track["rekordbox"], track["final"]
    new = bp or {}
    year = (new.get("release_date") or "")[:4]
    return [_e(track["position"]), _rekordbox_names(rb), _beatport_cell(bp),
            _pair(rb["average_bpm"], new.get("bpm")),
            _pair(*_key_pair(track)),
            _pair(rb["genre"], new.get("genre")), _pair(rb["label"], new.get("label")),
            _pair(rb["year"], int(year) if year.isdigit() else None)]


def _beatport_cell(beatport: dict[str, Any] | None) -> str:
    if beatport is None:
        return "<span class=muted>—</span>"
    text = _beatport_names(beatport)
    url = beatport["url"] or ""
    return f"<a href=\"{_e(url)}\">{text}</a>" if _is_beatport_link(url) else text


def _is_beatport_link(url: str) -> bool:
    """Only https links to Beatport itself: a stored URL is data, never javascript: or elsewhere."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return parts.scheme == "https" and (host == "beatport.com" or host.endswith(".beatport.com"))


def _pair(rekordbox: Any, beatport: Any) -> str:
    """Rekordbox's value over Beatport's, marked when Beatport would change it."""
    if beatport in (None, ""):
        return _u(rekordbox)
    differs = str(rekordbox or "") != str(beatport)
    new = f"<div class={'changed' if differs else 'same'}>{_u(beatport)}</div>"
    return f"<div>{_u(rekordbox) or '<span class=muted>—</span>'}</div>{new}"


def _badge(value: str) -> str:
    return f"<span class='badge {_e(value)}'>{_e(value)}</span>"


# --- charts (inline SVG) -------------------------------------------------------------------

def _charts(data: ReportData) -> str:
    outcomes = [(name, float(data.totals[name])) for name in OUTCOMES]
    by_type = [(s["type"], float(s["avg_ms"])) for s in data.query_stats]
    return ("<section class=charts>"
            f"<figure class=wide><figcaption>Time per track</figcaption>"
            f"{_time_chart(data.time_per_track)}{_LEGEND}</figure>"
            f"<figure><figcaption>Outcome</figcaption>{_bar_chart(outcomes, _count)}</figure>"
            f"<figure><figcaption>Average query time by type</figcaption>"
            f"{_bar_chart(by_type, _ms)}</figure></section>")


_LEGEND = ("<div class=legend>" + "".join(
    f"<span><i class='swatch {name}'></i>{name}</span>"
    for name in ("matched", "review", "unmatched", "error")) + "</div>")


def _count(value: float) -> str:
    return f"{value:.0f}"


def _bar_chart(bars: list[tuple[str, float]], label: Callable[[float], str]) -> str:
    """Horizontal bars, one a row, each with its name and value."""
    if not bars:
        return "<p class=muted>No data.</p>"
    top = max((value for _, value in bars), default=0.0) or 1.0
    rows = []
    for index, (name, value) in enumerate(bars):
        y, width = index * 28, 250 * value / top
        rows.append(f"<text x=0 y={y + 17} class=axis>{_e(name)}</text>"
                    f"<rect x=100 y={y + 4} width={width:.1f} height=18 rx=3 "
                    f"class='bar {_e(name)}'><title>{_e(name)}: {_e(label(value))}</title></rect>"
                    f"<text x={104 + width:.1f} y={y + 17} class=value>{_e(label(value))}</text>")
    return (f"<svg viewBox='0 0 420 {len(bars) * 28}' role=img class=chart>"
            f"{''.join(rows)}</svg>")


def _time_chart(series: list[dict[str, Any]]) -> str:
    """One bar per track in playlist order, coloured by outcome, with a tooltip."""
    if not series:
        return "<p class=muted>No tracks.</p>"
    width, height, left = 800.0, 180.0, 48.0
    top = max(point["elapsed_ms"] for point in series) or 1.0
    step = (width - left) / len(series)
    bars = []
    for index, point in enumerate(series):
        tall = (height - 20) * point["elapsed_ms"] / top
        tip = f"#{point['position']} {point['name']}: {_ms(point['elapsed_ms'])}"
        bars.append(f"<rect x={left + index * step:.2f} y={height - 10 - tall:.1f} "
                    f"width={max(step * 0.8, 0.5):.2f} height={tall:.1f} "
                    f"class='bar {_e(point['status'])}'><title>{_e(tip)}</title></rect>")
    axis = (f"<text x=0 y=14 class=axis>{_e(_ms(top))}</text>"
            f"<text x=0 y={height - 10:.0f} class=axis>0</text>"
            f"<line x1={left} x2={width} y1={height - 10} y2={height - 10} class=grid />")
    return (f"<svg viewBox='0 0 {width:.0f} {height:.0f}' role=img class=chart>"
            f"{axis}{''.join(bars)}</svg>")


_CSS = """
:root { color-scheme: light dark; --bg: #fafafa; --fg: #1d1d1f; --muted: #6e6e73;
  --card: #fff; --line: #e2e2e7; --accent: #3a6ff7; --matched: #2e9d5b; --review: #d99a15;
  --unmatched: #8e8e93; --errors: #d64545; }
@media (prefers-color-scheme: dark) { :root { --bg: #161618; --fg: #ececf0; --muted: #9a9aa2;
  --card: #222226; --line: #3a3a40; --accent: #7a9cff; --matched: #46c07a; --review: #f0b43c;
  --unmatched: #7b7b82; --errors: #f06b6b; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 24px; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 10px; }
.muted { color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px;
  margin-top: 18px; }
.card, figure { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 10px 12px; }
.card .label { color: var(--muted); font-size: 12px; } .card .value { font-size: 18px; }
.tips li { margin: 4px 0; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; margin-top: 24px; }
figure { margin: 0; } figure.wide { grid-column: 1 / -1; }
figcaption { font-weight: 600; margin-bottom: 6px; }
.chart { width: 100%; height: auto; display: block; }
.chart text { fill: var(--fg); font-size: 12px; } .chart .axis { fill: var(--muted); }
.chart .grid { stroke: var(--line); }
.bar { fill: var(--accent); } .bar.matched { fill: var(--matched); }
.bar.review { fill: var(--review); } .bar.unmatched { fill: var(--unmatched); }
.bar.errors, .bar.error { fill: var(--errors); }
.scroll { overflow-x: auto; } .nowrap { white-space: nowrap; }
.legend { display: flex; gap: 14px; font-size: 12px; color: var(--muted); margin-top: 4px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 5px; background: var(--unmatched); }
.swatch.matched { background: var(--matched); } .swatch.review { background: var(--review); }
.swatch.error { background: var(--errors); }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td .changed { color: var(--accent); font-weight: 600; } td .same { color: var(--muted); }
a { color: var(--accent); }
.badge { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 12px;
  border: 1px solid var(--line); }
.badge.matched, .badge.strong { color: var(--matched); } .badge.review, .badge.medium,
.badge.low { color: var(--review); } .badge.error { color: var(--errors); }
@media (max-width: 700px) { .charts { grid-template-columns: 1fr; } }
"""

RENDERERS: dict[str, Renderer] = {
    "html": render_html,
    "csv": render_csv,
    "json": render_json,
    "txt": render_txt,
}
