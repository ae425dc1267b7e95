// One track in a dialog, to decide on: what the app proposes and how sure it is, what writing
// it would change in Rekordbox, the DJ's decision (accept, reject, pick another candidate or a
// track found by a search of their own, undo), every candidate with its score breakdown and
// its Beatport page, and the queries sent. Next / previous doubtful track without closing.
//
// Keys (not while typing in the search box): A accept, R reject, U undo, J next doubtful,
// K previous doubtful, / search Beatport, Esc close.

import {api, post} from "./api.js";
import {fill, h, message, setText, table} from "./dom.js";
import * as f from "./format.js";
import {beatportKey, keyText, loadKeyNotation} from "./keys.js";

const SHORTCUTS = [["A", "accept"], ["R", "reject"], ["U", "undo"], ["J", "next doubtful"],
  ["K", "previous doubtful"], ["/", "search Beatport"], ["Esc", "close"]];

/**
 * Open track result `id`. `doubtful`: the ids of the session's doubtful tracks in playlist
 * order, for next / previous (the dialog moves among them). `onDecided(track)` runs after each
 * stored decision, `onMove(id)` when the dialog shows another track, `onClose()` at the end.
 */
export function openTrack(id, {doubtful = [], onDecided = () => {}, onMove = () => {}, onClose = () => {}} = {}) {
  const title = h("h2", {id: "track-dialog-title", dir: "auto"}, "Track");
  const sub = h("p", {class: "muted small", dir: "auto"});
  const body = h("div", {class: "dialog-body"}, h("p", {class: "muted"}, "Loading…"));
  const close = h("button", {type: "button", "aria-label": "Close", on: {click: () => dialog.close()}}, "Close");
  const keys = h("p", {class: "shortcuts small muted", id: "track-shortcuts"}, "Keys: ",
    SHORTCUTS.map(([key, what], i) => [i ? " · " : "", h("kbd", {}, key), ` ${what}`]));
  const dialog = h("dialog", {class: "track-dialog", "aria-labelledby": "track-dialog-title", id: "track-dialog",
    "aria-describedby": "track-shortcuts"},
  h("div", {class: "dialog-head"}, h("div", {class: "titles"}, title, sub, keys), close), body);
  const view = {id, dialog, title, sub, body, doubtful, onDecided, onMove, track: null, candidates: [], busy: false};
  dialog.addEventListener("close", () => {
    dialog.remove();
    onClose(view.id);
  });
  dialog.addEventListener("keydown", (event) => shortcut(view, event));
  document.body.appendChild(dialog);
  dialog.showModal();
  dialog.loaded = load(view);
  return dialog;
}

async function load(view, {focus = null} = {}) {
  view.dialog.dataset.ready = "0";
  try {
    const [detail] = await Promise.all([api(`/api/tracks/${view.id}`), loadKeyNotation()]);
    draw(view, detail);
    const again = focus && view.dialog.querySelector(focus);
    if (again && !again.disabled) again.focus();
    else if (focus) view.dialog.querySelector("#review-state")?.focus();
  } catch (error) {
    fill(view.body, message("error", error.message));
  }
  view.dialog.dataset.ready = "1";
}

function draw(view, {track, candidates, queries}) {
  view.track = track;
  view.candidates = candidates;
  setText(view.title, f.trackName(track.rekordbox.artist, track.rekordbox.name));
  setText(view.sub, `${track.playlist} · position ${track.position}`);
  view.status = h("div", {role: "status", "aria-live": "polite", id: "decision-status"});
  view.results = h("div", {id: "search-results"});
  const considered = track.candidate_count ?? candidates.length;
  fill(view.body,
    decisionPanel(view, track),
    view.status,
    sureness(track, considered, candidates.length),
    track.error ? message("error", track.error) : null,
    changesPanel(track),
    h("section", {class: "panel"}, h("h3", {class: "row-gap"}, "Rekordbox and Beatport"), comparison(track)),
    h("section", {class: "panel", id: "candidates"},
      h("h3", {class: "row-gap"}, candidateHeading(candidates.length, considered)),
      candidates.length ? candidates.map((candidate) => candidateCard(view, track, candidate))
        : h("p", {class: "muted"}, "Beatport returned no candidate for this track.")),
    searchPanel(view, track),
    h("section", {class: "panel"}, h("h3", {class: "row-gap"}, `Queries (${queries.length})`), queryTable(queries)));
}

function candidateHeading(shown, considered) {
  if (considered > shown) return `Candidates: the best ${f.count(shown)} of ${f.count(considered)} found`;
  return `Candidates (${f.count(shown)})`;
}

// --- the decision -----------------------------------------------------------------------

/** The DJ's decision in words: what will be written for this track. */
function decisionWords(track) {
  const decision = track.decision;
  const proposal = track.proposal;
  if (!decision) {
    if (track.needs_decision) {
      return proposal ? `Proposed: ${f.beatportName(proposal.title, proposal.mix_name, proposal.artists)}`
        : "No proposal: reject it, or search Beatport below";
    }
    return track.final ? "The app's match is written" : "Nothing is written for this track";
  }
  const bp = decision.beatport || track.final;
  const earlier = decision.earlier ? ` (your decision from session ${decision.session_id})` : "";
  if (decision.state === "rejected") return `Nothing is written for this track${earlier}`;
  const name = bp ? f.beatportName(bp.title, bp.mix_name, bp.artists) : `Beatport track ${decision.beatport_id}`;
  return `${decision.state === "picked" ? "Your pick: " : ""}${name} is written${earlier}`;
}

function decisionPanel(view, track) {
  const state = track.review_state;
  const decided = Boolean(track.decision);
  const canAccept = Boolean(track.proposal);
  const position = view.doubtful.indexOf(view.id);
  const badgeTone = decided ? f.tone(f.REVIEW_STATE, state) : track.needs_decision ? "warn" : "neutral";
  const badgeText = decided ? f.label(f.REVIEW_STATE, state) : track.needs_decision ? "To review" : "Not reviewed";
  return h("section", {class: "panel decision", id: "decision"},
    h("div", {class: "review-bar"},
      h("div", {class: "state"},
        h("span", {class: `badge ${badgeTone}`, id: "review-state", "data-state": state, tabindex: "-1"}, badgeText), " ",
        h("span", {dir: "auto", class: "decision-words", id: "decision-words"}, decisionWords(track))),
      h("button", {type: "button", id: "review-accept", class: state === "accepted" ? "" : "primary",
        "aria-pressed": String(state === "accepted"), "aria-keyshortcuts": "A", disabled: !canAccept,
        title: canAccept ? "Write the proposed Beatport track (A)" : "There is no Beatport track to accept",
        on: {click: () => decide(view, {state: "accepted"}, "#review-accept")}}, "✓ Accept"),
      h("button", {type: "button", id: "review-reject", "aria-pressed": String(state === "rejected"), "aria-keyshortcuts": "R",
        title: "No Beatport match: write nothing for this track (R)",
        on: {click: () => decide(view, {state: "rejected"}, "#review-reject")}}, "✕ Reject"),
      h("button", {type: "button", id: "review-undo", disabled: !decided, "aria-keyshortcuts": "U",
        title: "Forget your decision: the app's own result again (U)",
        on: {click: () => decide(view, {state: "undo"}, "#review-undo")}}, "Undo")),
    view.doubtful.length ? h("div", {class: "review-bar row-gap nav-doubtful"},
      h("button", {type: "button", id: "previous-doubtful", "aria-keyshortcuts": "K", disabled: !previousOf(view),
        on: {click: () => move(view, previousOf(view))}}, "← Previous doubtful"),
      h("span", {class: "muted small", id: "doubtful-position"},
        position >= 0 ? `Doubtful track ${f.count(position + 1)} of ${f.count(view.doubtful.length)}` : `${f.plural(view.doubtful.length, "doubtful track")} in this session`),
      h("button", {type: "button", id: "next-doubtful", "aria-keyshortcuts": "J", disabled: !nextOf(view),
        on: {click: () => move(view, nextOf(view))}}, "Next doubtful →")) : null,
    h("p", {class: "muted small"}, "Your decision is kept for this Rekordbox track: every later session that meets it uses it. ",
      "Accept writes the proposal, Reject writes nothing, “Use this one” on a candidate (or a track you search for below) writes that one."));
}

function nextOf(view) {
  const position = view.doubtful.indexOf(view.id);
  return view.doubtful[position + 1] ?? null;
}

function previousOf(view) {
  const position = view.doubtful.indexOf(view.id);
  return position > 0 ? view.doubtful[position - 1] : position === -1 ? view.doubtful.at(-1) ?? null : null;
}

async function move(view, id) {
  if (!id || view.busy) return;
  view.id = id;
  view.onMove(id);
  const button = document.activeElement && document.activeElement.id;
  await load(view, {focus: button ? `#${button}` : "#review-state"});
  view.dialog.querySelector(".dialog-body")?.scrollTo?.(0, 0);
  view.dialog.scrollTop = 0;
}

async function decide(view, body, focus) {
  if (view.busy) return;
  view.busy = true;
  fill(view.status);
  try {
    const track = await post(`/api/tracks/${view.id}/review`, body);
    await load(view, {focus});
    view.onDecided(track);
    fill(view.status, message("ok", body.state === "undo" ? "Decision undone." : "Decision saved."));
  } catch (error) {
    fill(view.status, message("error", error.message));
  } finally {
    view.busy = false;
  }
}

function shortcut(view, event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const typing = event.target.closest("input, textarea, select");
  if (typing) return;  // Esc still closes (the dialog's own)
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const click = (selector) => {
    const button = view.dialog.querySelector(selector);
    if (button && !button.disabled) button.click();
  };
  const actions = {
    a: () => click("#review-accept"), r: () => click("#review-reject"), u: () => click("#review-undo"),
    j: () => click("#next-doubtful"), k: () => click("#previous-doubtful"),
    "/": () => view.dialog.querySelector("#beatport-search")?.focus(),
  };
  if (!actions[key]) return;
  event.preventDefault();
  actions[key]();
}

// --- how sure, and what would change ----------------------------------------------------

function sureness(track, considered, kept) {
  const {words, detail} = f.matchWords(track.reason, track.confidence);
  return h("div", {class: "inline row-gap sureness"},
    track.status === "review" ? null  // the decision above says what is to do
      : h("span", {class: `badge ${f.tone(f.TRACK_STATUS, track.status)}`}, f.label(f.TRACK_STATUS, track.status)),
    h("span", {class: `badge ${f.tone(f.SURENESS, track.confidence)}`, id: "track-sureness"}, f.label(f.SURENESS, track.confidence)),
    words ? h("span", {class: "small", dir: "auto", id: "track-why", title: detail || null}, words) : null,
    h("span", {class: "muted small"}, `${f.plural(track.query_count, "query", "queries")} · ${f.plural(considered, "candidate")} considered`
      + (considered > kept ? `, the best ${f.count(kept)} kept` : "") + ` · ${f.ms(track.elapsed_ms)}`));
}

/** What the proposal would fill in, before the DJ accepts it: the export's default rule (an
 * empty Rekordbox field takes Beatport's value), for a track whose `changes` are still empty
 * because nothing is written for it yet. */
function proposalChanges(track) {
  const bp = track.proposal;
  const rb = track.rekordbox || {};
  if (!bp || track.final || (track.decision && track.decision.state === "rejected")) return null;
  const year = /^\d{4}/.test(bp.release_date || "") && Number(bp.release_date.slice(0, 4)) > 0 ? bp.release_date.slice(0, 4) : "";
  const rows = [
    ["key", "Key", keyText(rb.tonality), beatportKey(bp)],
    ["bpm", "BPM", rb.average_bpm > 0 ? f.decimal(rb.average_bpm, 2) : "", bp.bpm > 0 ? f.decimal(bp.bpm, 2) : ""],
    ["genre", "Genre", rb.genre || "", bp.genre || ""],
    ["label", "Label", rb.label || "", bp.label || ""],
    ["year", "Year", rb.year > 0 ? String(rb.year) : "", year],
    ["mix", "Mix", rb.mix || "", bp.mix_name || ""],
  ];
  return rows.map(([field, label, old, value]) => ({field, label, old, new: value, changed: !old && Boolean(value)}));
}

function changesPanel(track) {
  const preview = proposalChanges(track);
  const changes = preview || track.changes || [];
  const changing = changes.filter((c) => c.changed);
  const heading = preview
    ? (changing.length ? `Accepting it fills ${f.plural(changing.length, "empty field")} in Rekordbox` : "Accepting it changes nothing in Rekordbox")
    : changing.length ? `Writing it changes ${f.plural(changing.length, "field")} in Rekordbox` : "Writing it changes nothing in Rekordbox";
  return h("section", {class: "panel", id: "track-changes"},
    h("h3", {class: "row-gap"}, heading),
    changes.length ? h("div", {class: "table-wrap"}, h("table", {class: "changes compact"},
      h("thead", {}, h("tr", {}, h("th", {}, "Field"), h("th", {}, "In Rekordbox now"), h("th", {}, preview ? "Once accepted" : "Written"))),
      h("tbody", {}, changes.map((c) => h("tr", {class: c.changed ? "changed" : null, "data-field": c.field},
        h("th", {scope: "row"}, c.label),
        h("td", {dir: "auto"}, c.old || "—"),
        h("td", {dir: "auto"}, c.changed ? [h("span", {class: "mark", "aria-hidden": "true"}, "● "), c.new]
          : h("span", {class: "muted"}, c.new && c.new !== c.old ? `${c.new} (not written: the field has a value)` : "unchanged"))))))) : null);
}

function comparison(track) {
  const rb = track.rekordbox || {};
  const bp = track.final || track.proposal;
  const row = (label, left, right) => (!left && !(bp && right) ? null : h("tr", {},
    h("th", {scope: "row"}, label),
    h("td", {dir: "auto", class: "wrap-anywhere"}, left || "—"),
    h("td", {dir: "auto", class: "wrap-anywhere"}, bp ? (right || "—") : "")));
  const rows = [
    row("Artists", rb.artist, bp && bp.artists.join(", ")),
    row("Title", rb.name, bp && bp.title),
    row("Mix", rb.mix, bp && bp.mix_name),
    row("Remixers", rb.remixer, bp && bp.remixers.join(", ")),
    row("Label", rb.label, bp && bp.label),
    row("Album / release", rb.album, bp && bp.release),
    row("Genre", rb.genre, bp && [bp.genre, bp.sub_genre].filter(Boolean).join(" / ")),
    row("Year / date", rb.year || "", bp && bp.release_date),
    row("BPM", rb.average_bpm ? f.decimal(rb.average_bpm, 2) : "", bp && (bp.bpm ? f.decimal(bp.bpm, 2) : "")),
    row("Key", keyText(rb.tonality), bp && beatportKey(bp)),
    row("Length", rb.total_time ? f.length(rb.total_time, {seconds: true}) : "", bp && f.length(bp.length_ms)),
    row("ISRC", "", bp && bp.isrc),
    row("Beatport", "", bp ? beatportLink(bp.url, bp.id) : ""),
    row("File", rb.location ? decodeLocation(rb.location) : "", ""),
  ];
  const heading = track.final ? "Beatport (written)" : bp ? "Beatport, proposed (written once you accept)" : "Beatport: nothing written";
  return h("div", {class: "table-wrap"}, h("table", {},
    h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, "Rekordbox"), h("th", {}, heading))),
    h("tbody", {}, rows.filter(Boolean))));
}

/** A link to the track's page on beatport.com only: a stored URL is data from an answer,
 * and an answer may point anywhere. Anything else shows the id as text. */
export function beatportLink(url, id, text = `Track ${id}`) {
  if (!isBeatportTrackUrl(url)) return `#${id}`;
  return h("a", {href: url, target: "_blank", rel: "noopener noreferrer"}, text);
}

export function isBeatportTrackUrl(url) {
  let parsed;
  try {
    parsed = new URL(url || "");
  } catch {
    return false;
  }
  const host = parsed.hostname.toLowerCase();
  return parsed.protocol === "https:" && !parsed.username && !parsed.password
    && (host === "beatport.com" || host === "www.beatport.com")
    && parsed.pathname.startsWith("/track/");
}

function decodeLocation(location) {
  try {
    return decodeURIComponent(location.replace(/^file:\/\/localhost/, ""));
  } catch {
    return location;
  }
}

// --- candidates, and a search of the DJ's own ---------------------------------------------

function candidateCard(view, track, candidate) {
  const bp = candidate.beatport;
  const written = track.final && track.final.id === bp.id;
  const picked = track.decision && track.decision.state === "picked" && track.decision.beatport_id === bp.id;
  const proposed = !written && track.proposal && track.proposal.id === bp.id && !track.decision;
  const verdict = written ? h("span", {class: "badge ok"}, picked ? "Your choice" : "Written")
    : proposed ? h("span", {class: "badge warn"}, "Proposed") : null;
  const why = [];
  if (candidate.lost_because && !written) why.push(h("div", {dir: "auto"}, `Lost: ${candidate.lost_because}`));
  if (candidate.vetoes && candidate.vetoes.length) {
    why.push(h("div", {}, "Ruled out: ", candidate.vetoes.map((veto) => h("span", {class: "badge bad", dir: "auto"}, veto))));
  }
  const label = candidate.id === null ? `Use search result ${candidate.rank}` : `Use candidate ${candidate.rank}`;
  return h("article", {class: `candidate ${written ? "final" : ""}`, "data-candidate": bp.id},
    h("div", {class: "candidate-head"},
      h("span", {class: "muted num"}, `#${candidate.rank}`),
      h("span", {class: "who", dir: "auto"}, f.beatportName(bp.title, bp.mix_name, bp.artists)),
      h("span", {class: "score", title: `Score ${f.decimal(candidate.score, 2)}`}, scoreMeter(candidate.score), f.percent(candidate.score, 0), " alike"),
      verdict,
      isBeatportTrackUrl(bp.url) ? h("a", {href: bp.url, target: "_blank", rel: "noopener noreferrer", class: "small",
        "data-beatport-link": bp.id, title: "Listen on Beatport (opens your browser)"}, "Beatport ↗") : null,
      h("button", {type: "button", class: "small-btn", "aria-pressed": String(picked), "aria-label": label,
        on: {click: () => decide(view, {state: "picked", beatport_id: bp.id}, `article[data-candidate='${bp.id}'] button`)}}, "Use this one")),
    h("div", {class: "why"}, `${[bp.label, bp.release_date, bp.bpm ? `${f.bpm(bp.bpm)} BPM` : "",
      beatportKey(bp), f.length(bp.length_ms)].filter((x) => x && x !== "—").join(" · ")} · found by ${candidate.found_by || "—"}`),
    why.length ? h("div", {class: "why"}, why) : null,
    h("details", {}, h("summary", {}, "Score breakdown"), breakdown(candidate.components || [])));
}

function searchPanel(view, track) {
  const rb = track.rekordbox;
  const input = h("input", {type: "search", id: "beatport-search", "aria-label": "Search Beatport",
    placeholder: "Artist, title, mix", value: [rb.artist, rb.name].filter(Boolean).join(" "), autocomplete: "off", spellcheck: "false"});
  const button = h("button", {type: "submit", id: "beatport-search-go"}, "Search Beatport");
  const form = h("form", {class: "toolbar", role: "search"}, input, button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    search(view, input.value, button);
  });
  return h("section", {class: "panel", id: "manual-search"},
    h("h3", {class: "row-gap"}, "None fits? Search Beatport yourself"),
    h("p", {class: "muted small"}, "Sent like the session's own queries (at the same pace, answers cached) and kept with this track's queries."),
    form, view.results);
}

async function search(view, text, button) {
  if (!text.trim()) {
    fill(view.results, message("error", "Type what to search for: an artist, a title or both."));
    return;
  }
  button.disabled = true;
  fill(view.results, h("p", {class: "muted", "aria-busy": "true"}, "Searching Beatport…"));
  try {
    const found = await api(`/api/search?${new URLSearchParams({q: text.trim(), track: String(view.id)})}`);
    fill(view.results, found.candidates.length
      ? [h("p", {class: "muted small"}, `${f.plural(found.candidates.length, "track")} found for “`, h("span", {dir: "auto"}, found.query), "”, most alike first."),
        found.candidates.map((candidate) => candidateCard(view, view.track, candidate))]
      : message("info", "Beatport found nothing for that: try fewer words, or the artist alone."));
  } catch (error) {
    fill(view.results, message("error", error.message));
  } finally {
    button.disabled = false;
  }
}

function scoreMeter(score) {
  return h("span", {class: "meter", "aria-hidden": "true"},
    h("span", {style: `width: ${Math.max(0, Math.min(1, score || 0)) * 100}%`}));
}

function breakdown(components) {
  const weights = components.reduce((sum, c) => sum + c.weight, 0) || 1;
  return table([{label: "Component"}, {label: "Weight", class: "num"}, {label: "Similarity", class: "num"},
    {label: "Share of score", class: "num"}, {label: "Compared"}],
  components.map((c) => h("tr", {},
    h("td", {}, c.name),
    h("td", {class: "num"}, f.decimal(c.weight, 2)),
    h("td", {class: "num"}, scoreMeter(c.similarity), f.decimal(c.similarity, 2)),
    h("td", {class: "num"}, f.percent((c.similarity * c.weight) / weights)),
    h("td", {dir: "auto", class: "wrap-anywhere"}, c.detail))),
  {empty: "No breakdown stored."});
}

function queryTable(queries) {
  return table([{label: "#"}, {label: "Type"}, {label: "Query"}, {label: "Time", class: "num"},
    {label: "Network", class: "num"}, {label: "Candidates", class: "num"}, {label: "Cache"},
    {label: "Attempts", class: "num"}, {label: "HTTP", class: "num"}, {label: "Error"}],
  queries.map((q) => h("tr", {},
    h("td", {class: "num"}, q.number),
    h("td", {class: "nowrap"}, q.type),
    h("td", {dir: "auto", class: "mono wrap-anywhere"}, q.text),
    h("td", {class: "num"}, f.ms(q.elapsed_ms)),
    h("td", {class: "num"}, q.from_cache ? "—" : f.ms(q.network_ms)),
    h("td", {class: "num"}, f.count(q.candidate_count)),
    h("td", {}, q.from_cache === null ? "—" : q.from_cache ? "hit" : "miss"),
    h("td", {class: "num"}, q.attempts ?? "—"),
    h("td", {class: "num"}, q.http_status ?? "—"),
    h("td", {class: "wrap-anywhere"}, [q.rate_limited ? "429 " : "", q.error || ""].join("") || "—"))),
  {empty: "No query was stored (older sessions may have had them removed by the retention setting)."});
}
