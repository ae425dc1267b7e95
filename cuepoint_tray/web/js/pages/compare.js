// Compare: two or more sessions side by side, and the tracks whose outcome changed.

import {ApiError, api} from "../api.js";
import {clickableRow, fill, h, message, nameCell, names, select, table} from "../dom.js";
import * as f from "../format.js";
import {openTrack} from "../track.js";

const SHOWN = 100;  // changed tracks listed before "Show all"

// name: [label, format, which way is better (+1 higher, -1 lower, 0 neither)]
const METRICS = {
  tracks: ["Tracks", "count", 0], done: ["Tracks done", "count", 0], matched: ["Matched", "count", 1],
  to_review: ["To review (needs your decision)", "count", -1], decided: ["Decided by you", "count", 0],
  will_change: ["Will change in your library", "count", 0],
  review: ["Doubtful (the app's own count)", "count", -1], unmatched: ["Unmatched", "count", -1], errors: ["Errors", "count", -1],
  queries: ["Queries", "count", -1], requests: ["Requests", "count", -1], cache_hits: ["Cache hits", "count", 1],
  rate_limited: ["429s (rate limited)", "count", -1], wall_ms: ["Duration", "duration", -1],
  match_rate: ["Match rate", "percent", 1], cache_hit_rate: ["Cache hit rate", "percent", 1],
  ms_per_track: ["Time per track", "ms", -1], requests_per_track: ["Requests per track", "decimal", -1],
};

export async function render(main, route) {
  const ids = (route.params.get("ids") || "").split(",").map((s) => s.trim()).filter(Boolean);
  if (ids.length < 2) {
    throw new ApiError("Choose two or more sessions in History (tick their boxes), then Compare.", 400);
  }
  const data = await api(`/api/compare?ids=${ids.map(encodeURIComponent).join(",")}`);
  const sessions = data.sessions;
  // Two different playlists: more or fewer tracks matched says nothing about better or worse.
  const samePlaylists = sessions.every((s) => playlistKey(s) === playlistKey(sessions[0]));
  fill(main,
    h("div", {class: "page-head"}, h("div", {class: "titles"},
      h("h1", {}, `Comparing ${sessions.length} sessions`),
      h("p", {class: "sub"}, `Differences are against session ${sessions[0].id}, the first chosen.`)),
    h("div", {class: "actions"}, h("a", {class: "button", href: "#/history"}, "Back to History"))),
    samePlaylists ? null : h("div", {id: "different-playlists"}, message("info",
      "These sessions matched different playlists, so their counts differ in size: ",
      "those differences are shown as they are, not as better or worse.")),
    h("section", {class: "panel", id: "compare-metrics"}, h("h2", {}, "Figures"), metricsTable(data, samePlaylists)),
    data.differences.map((difference) => differencesPanel(sessions[0], sessions.find((s) => s.id === difference.session_id), difference)));
}

function sessionHeader(session) {
  return h("th", {scope: "col", class: "num"}, h("a", {href: `#/session/${session.id}`}, `Session ${session.id}`),
    h("span", {class: "sub muted small", style: "display:block; font-weight:400"}, f.when(session.started_at)),
    h("span", {class: "sub small", style: "display:block; font-weight:400; white-space: normal"}, names(session.playlists)));
}

function playlistKey(session) {
  return [...(session.playlists || [])].sort().join("\n");
}

// Counts of tracks depend on the playlists; rates and times per track less so.
const SIZE_BOUND = new Set(["tracks", "done", "matched", "to_review", "decided", "will_change", "review",
  "unmatched", "errors", "queries", "requests", "cache_hits", "rate_limited", "wall_ms"]);

function metricsTable({sessions, metrics}, samePlaylists) {
  const rows = metrics.map((metric) => {
    const [label, format, judged] = METRICS[metric.name] || [metric.name, "decimal", 0];
    const better = samePlaylists || !SIZE_BOUND.has(metric.name) ? judged : 0;
    const [first, ...others] = metric.values;
    return h("tr", {"data-metric": metric.name},
      h("th", {scope: "row"}, label),
      h("td", {class: "num"}, show(format, first)),
      others.map((value) => h("td", {class: "num"}, show(format, value), " ", delta(format, value - first, first, better))));
  });
  return h("div", {class: "table-wrap"}, h("table", {},
    h("thead", {}, h("tr", {}, h("th", {scope: "col"}, ""), sessions.map(sessionHeader))),
    h("tbody", {}, rows)));
}

function show(format, value) {
  return {count: f.count, duration: f.duration, percent: f.percent, ms: f.ms,
    decimal: (v) => f.decimal(v, 2)}[format](value);
}

function delta(format, change, base, better) {
  const tiny = Math.abs(change) < 1e-9;
  const slight = Math.abs(change) <= Math.abs(base) * 0.01;  // within 1 %: noise, not a verdict
  const sign = change > 0 ? "+" : change < 0 ? "−" : "±";
  const size = Math.abs(change);
  const shown = format === "duration" ? f.ms(size) : show(format, size);
  const text = format === "percent" ? `${sign}${(size * 100).toFixed(1)} pts` : `${sign}${shown}`;
  const judged = tiny || slight || !better ? "same" : (change > 0) === (better > 0) ? "good" : "bad";
  return h("span", {class: `delta small ${judged}`, "data-delta": String(change)}, `(${tiny ? "no change" : text})`);
}

function changeWords(change, a, b) {
  return {
    only_in_a: `Only in session ${a}`, only_in_b: `Only in session ${b}`,
    matched_in_a_only: `Matched in ${a} only`, matched_in_b_only: `Matched in ${b} only`,
    different_track: "Different Beatport track", confidence_changed: "Confidence changed",
  }[change] || change;
}

function differencesPanel(first, other, difference) {
  const a = first.id;
  const b = other ? other.id : difference.session_id;
  const counts = Object.entries(difference.changes);
  const body = h("div");
  const options = [["", `All changes (${f.count(difference.tracks.length)})`],
    ...counts.map(([change, n]) => [change, `${changeWords(change, a, b)} (${f.count(n)})`])];
  const choice = select(options, "", {"aria-label": "Show changes", "data-compare": b});
  let limit = SHOWN;
  const draw = () => {
    const wanted = difference.tracks.filter((t) => !choice.value || t.change === choice.value);
    const more = wanted.length > limit ? h("p", {class: "pager"}, `Showing ${f.count(limit)} of ${f.count(wanted.length)}. `,
      h("button", {type: "button", on: {click: () => { limit = Infinity; draw(); }}}, `Show all ${f.count(wanted.length)}`)) : null;
    fill(body, changesTable(wanted.slice(0, limit), a, b), more);
  };
  choice.addEventListener("change", () => { limit = SHOWN; draw(); });
  draw();
  return h("section", {class: "panel", "data-differences": b},
    h("div", {class: "panel-head"}, h("h2", {}, `Tracks that changed: session ${a} → session ${b}`),
      h("span", {class: "spacer"}), counts.length ? choice : null),
    counts.length ? h("p", {class: "inline"}, counts.map(([change, n]) =>
      h("span", {class: "badge accent", "data-change": change}, `${changeWords(change, a, b)}: ${f.count(n)}`))) : null,
    counts.length ? body : h("p", {class: "muted"}, "Every track came out the same in both sessions."));
}

function changesTable(tracks, a, b) {
  const rows = tracks.map((t) => {
    const cells = [nameCell(t.rekordbox.name, t.rekordbox.artist),
      h("td", {dir: "auto", class: "playlist"}, t.playlist),
      h("td", {}, h("span", {class: "badge accent"}, changeWords(t.change, a, b))),
      outcome(t.a), outcome(t.b)];
    const target = t.b || t.a;
    const row = target ? clickableRow(() => openTrack(target.id), `Open ${f.trackName(t.rekordbox.artist, t.rekordbox.name)}`, cells)
      : h("tr", {}, cells);
    row.dataset.change = t.change;
    return row;
  });
  return table([{label: "Track"}, {label: "Playlist"}, {label: "Change"}, {label: `In session ${a}`},
    {label: `In session ${b}`}], rows, {empty: "No track with this change."});
}

function outcome(row) {
  if (!row) return h("td", {class: "muted"}, "Not in this session");
  return h("td", {class: "name"},
    h("span", {class: `badge ${f.tone(f.TRACK_STATUS, row.status)}`}, f.label(f.TRACK_STATUS, row.status)), " ",
    h("span", {class: "muted small"}, `${f.label(f.CONFIDENCE, row.confidence)} · ${f.decimal(row.score, 2)}`),
    row.beatport !== null ? h("span", {class: "sub", dir: "auto"},
      row.beatport.mix_name ? `${row.beatport.title} (${row.beatport.mix_name})` : row.beatport.title) : null);
}
