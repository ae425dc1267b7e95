// One track in a dialog: Rekordbox against the Beatport track chosen, every candidate with
// its score breakdown and why it lost, the queries sent, and the DJ's review.

import {api, post} from "./api.js";
import {fill, h, message, setText, table} from "./dom.js";
import * as f from "./format.js";

/** Open track result `id`; `onReviewed()` runs after each stored review, `onClose()` at the end. */
export function openTrack(id, {onReviewed = () => {}, onClose = () => {}} = {}) {
  const title = h("h2", {id: "track-dialog-title", dir: "auto"}, "Track");
  const sub = h("p", {class: "muted small", dir: "auto"});
  const body = h("div", {class: "dialog-body"}, h("p", {class: "muted"}, "Loading…"));
  const close = h("button", {type: "button", "aria-label": "Close", on: {click: () => dialog.close()}}, "Close");
  const dialog = h("dialog", {class: "track-dialog", "aria-labelledby": "track-dialog-title", id: "track-dialog"},
    h("div", {class: "dialog-head"}, h("div", {class: "titles"}, title, sub), close), body);
  dialog.addEventListener("close", () => {
    dialog.remove();
    onClose();
  });
  document.body.appendChild(dialog);
  dialog.showModal();
  const view = {id, dialog, title, sub, body, onReviewed};
  const loaded = load(view);
  dialog.loaded = loaded;
  return dialog;
}

async function load(view) {
  try {
    const detail = await api(`/api/tracks/${view.id}`);
    draw(view, detail);
  } catch (error) {
    fill(view.body, message("error", error.message));
  }
  view.dialog.dataset.ready = "1";
}

function draw(view, {track, candidates, queries}) {
  setText(view.title, f.trackName(track.rekordbox.artist, track.rekordbox.name));
  setText(view.sub, `${track.playlist} · position ${track.position}`);
  view.status = h("div", {role: "status", "aria-live": "polite"});
  fill(view.body,
    h("div", {class: "inline row-gap"},
      h("span", {class: `badge ${f.tone(f.TRACK_STATUS, track.status)}`}, f.label(f.TRACK_STATUS, track.status)),
      h("span", {class: `badge ${f.tone(f.CONFIDENCE, track.confidence)}`}, `Confidence: ${f.label(f.CONFIDENCE, track.confidence)}`),
      h("span", {class: "muted small"}, `Score ${f.decimal(track.score, 2)} · ${f.ms(track.elapsed_ms)} · ${f.count(track.query_count)} queries · ${f.count(track.candidate_count)} candidates`)),
    track.reason ? h("p", {class: "small", dir: "auto"}, h("span", {class: "muted"}, "Why: "), track.reason) : null,
    track.error ? message("error", track.error) : null,
    reviewPanel(view, track, candidates),
    view.status,
    h("section", {class: "panel"}, h("h3", {class: "row-gap"}, "Rekordbox and Beatport"),
      comparison(track, candidates)),
    h("section", {class: "panel"}, h("h3", {class: "row-gap"}, `Candidates (${candidates.length})`),
      candidates.length ? candidates.map((candidate) => candidateCard(view, track, candidate))
        : h("p", {class: "muted"}, "Beatport returned no candidate for this track.")),
    h("section", {class: "panel"}, h("h3", {class: "row-gap"}, `Queries (${queries.length})`), queryTable(queries)));
}

function reviewPanel(view, track, candidates) {
  const state = track.review_state;
  const chosen = candidates.find((c) => c.id === track.chosen_candidate_id);
  const suggested = track.beatport !== null || track.review_candidate_id !== null;
  const words = state === "changed" && chosen
    ? `Changed to ${f.beatportName(chosen.beatport.title, chosen.beatport.mix_name, chosen.beatport.artists)}`
    : state === "auto" ? "Not reviewed: the app's choice is exported" : f.label(f.REVIEW_STATE, state);
  return h("section", {class: "panel"},
    h("div", {class: "review-bar"},
      h("div", {class: "state"}, h("span", {class: "muted small"}, "Your review"), h("br"),
        h("span", {class: `badge ${f.tone(f.REVIEW_STATE, state)}`, id: "review-state", "data-state": state},
          f.label(f.REVIEW_STATE, state)), " ", h("span", {dir: "auto", class: "small"}, state === "changed" ? words.replace(/^Changed to /, "→ ") : "")),
      h("button", {type: "button", id: "review-accept", "aria-pressed": String(state === "accepted"), disabled: !suggested,
        title: suggested ? "Export the track the app found" : "There is no Beatport track to accept",
        on: {click: () => review(view, {state: "accepted"})}}, "✓ Accept"),
      h("button", {type: "button", id: "review-reject", "aria-pressed": String(state === "rejected"),
        title: "Export no Beatport data for this track", on: {click: () => review(view, {state: "rejected"})}}, "✕ Reject"),
      h("button", {type: "button", id: "review-undo", disabled: state === "auto",
        on: {click: () => review(view, {state: "auto"})}}, "Undo review")),
    h("p", {class: "muted small"}, "Accept keeps the app's match (or its doubtful suggestion), Reject exports nothing for this track; ",
      "or pick another candidate below with “Use this one”."));
}

async function review(view, body) {
  fill(view.status);
  try {
    await post(`/api/tracks/${view.id}/review`, body);
    view.dialog.dataset.ready = "0";
    await load(view);
    view.onReviewed();
    view.dialog.querySelector("#review-state")?.focus?.();
  } catch (error) {
    fill(view.status, message("error", error.message));
  }
}

function comparison(track, candidates) {
  const rb = track.rekordbox || {};
  const offered = candidates.find((c) => c.id === track.review_candidate_id);
  const suggested = !track.final && offered && track.review_state !== "rejected";
  const bp = track.final || (suggested ? offered.beatport : null);
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
    row("Key", rb.tonality, bp && [bp.key_name, bp.camelot].filter(Boolean).join(" · ")),
    row("Length", rb.total_time ? f.length(rb.total_time, {seconds: true}) : "", bp && f.length(bp.length_ms)),
    row("ISRC", "", bp && bp.isrc),
    row("Beatport", "", bp ? beatportLink(bp.url, bp.id) : ""),
    row("File", rb.location ? decodeLocation(rb.location) : "", ""),
  ];
  const exported = track.final ? "Beatport (exported)"
    : suggested ? "Beatport, suggested (exported once you accept)" : "Beatport: nothing exported";
  return h("div", {class: "table-wrap"}, h("table", {},
    h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, "Rekordbox"), h("th", {}, exported))),
    h("tbody", {}, rows.filter(Boolean))));
}

/** A link to the track's page on beatport.com only: a stored URL is data from an answer,
 * and an answer may point anywhere. Anything else shows the id as text. */
export function beatportLink(url, id) {
  if (!isBeatportTrackUrl(url)) return `#${id}`;
  return h("a", {href: url, target: "_blank", rel: "noopener noreferrer"}, `Track ${id}`);
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
    && (host === "beatport.com" || host.endsWith(".beatport.com"))
    && parsed.pathname.startsWith("/track/");
}

function decodeLocation(location) {
  try {
    return decodeURIComponent(location.replace(/^file:\/\/localhost/, ""));
  } catch {
    return location;
  }
}

function candidateCard(view, track, candidate) {
  const bp = candidate.beatport;
  const final = track.final && track.final.id === bp.id;
  const chosenByDj = track.review_state === "changed" && track.chosen_candidate_id === candidate.id;
  const offered = track.review_candidate_id === candidate.id;
  const verdict = final ? h("span", {class: "badge ok"}, chosenByDj ? "Your choice" : "Exported")
    : offered ? h("span", {class: "badge warn"}, "Offered for review") : null;
  const why = [];
  if (candidate.lost_because && !final) why.push(h("div", {dir: "auto"}, `Lost: ${candidate.lost_because}`));
  if (candidate.vetoes && candidate.vetoes.length) {
    why.push(h("div", {}, "Vetoes: ", candidate.vetoes.map((veto) => h("span", {class: "badge bad", dir: "auto"}, veto))));
  }
  return h("article", {class: `candidate ${final ? "final" : ""}`, "data-candidate": bp.id},
    h("div", {class: "candidate-head"},
      h("span", {class: "muted num"}, `#${candidate.rank}`),
      h("span", {class: "who", dir: "auto"}, f.beatportName(bp.title, bp.mix_name, bp.artists)),
      h("span", {class: "score", title: "Score"}, scoreMeter(candidate.score), f.decimal(candidate.score, 2)),
      verdict,
      h("button", {type: "button", class: "small-btn", "aria-pressed": String(chosenByDj),
        "aria-label": `Use candidate ${candidate.rank}`,
        on: {click: () => review(view, {state: "changed", beatport_id: bp.id})}}, "Use this one")),
    h("div", {class: "why"}, `${[bp.label, bp.release_date, bp.bpm ? `${f.decimal(bp.bpm, 0)} BPM` : "",
      bp.camelot, f.length(bp.length_ms)].filter((x) => x && x !== "—").join(" · ")} · found by ${candidate.found_by || "—"}`),
    why.length ? h("div", {class: "why"}, why) : null,
    h("details", {}, h("summary", {}, "Score breakdown"), breakdown(candidate.components || [])));
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
