// Session, review first: what this session will change in the DJ's library and the tracks
// that need a decision (each with its proposal in the row), then every track, then how the
// session ran (requests, cache, timing, query types, slowest tracks, tips). A decision made
// anywhere on the page (a row's buttons, the track dialog, a bulk action) redraws every count
// and list at once.

import {ApiError, api, post} from "../api.js";
import {chart, plotText} from "../charts.js";
import {card, clickableRow, fill, h, message, nameCell, names, select, setText, table} from "../dom.js";
import * as f from "../format.js";
import {beatportKey, keyText, loadKeyNotation} from "../keys.js";
import {replaceQuery} from "../route.js";
import {openTrack} from "../track.js";

const PAGE_SIZE = 100;
const DECIDE_LIMIT = 500;  // tracks needing a decision listed at once (and walked by J / K)
const RESUMABLE = ["paused", "interrupted", "cancelled", "failed"];
const FILTERS = [
  ["status", "Status", f.TRACK_STATUS],
  ["confidence", "Confidence", f.CONFIDENCE],
  ["review_state", "Decision", f.REVIEW_STATE],
];

export async function render(main, route) {
  const id = Number(route.args[0]);
  if (!Number.isInteger(id) || id < 1) throw new ApiError("This session address has no valid session number.", 404);
  const view = new SessionView(main, id, route.params);
  await view.load();
}

class SessionView {
  constructor(main, id, params) {
    this.main = main;
    this.id = id;
    this.filters = {status: params.get("status") || "", confidence: params.get("confidence") || "",
      review_state: params.get("review_state") || "", search: params.get("search") || "",
      needs_decision: params.get("needs_decision") || "",
      offset: Math.max(0, Number(params.get("offset")) || 0)};
    this.changesView = {all: params.get("changes") === "all", offset: 0};
    this.openId = Number(params.get("track")) || null;
    this.cardsBox = h("div");
    this.decideBox = h("div");
    this.changesBox = h("div");
    this.tracksBox = h("div", {id: "tracks"});
    this.pager = h("div", {class: "pager"});
    this.doubtful = [];
  }

  async load() {
    const [data, tracks, toDecide, changes] = await Promise.all([api(`/api/sessions/${this.id}`),
      api(this.tracksUrl()), api(this.decideUrl()), api(this.changesUrl()), loadKeyNotation()]);
    this.overviewBox = h("div");
    fill(this.main, this.head(data.overview), this.cardsBox,
      h("section", {class: "panel", id: "to-decide", "aria-labelledby": "to-decide-title"}, this.decideBox),
      h("section", {class: "panel", id: "changes", "aria-labelledby": "changes-title"}, this.changesBox),
      this.tracksPanel(),
      h("section", {class: "performance", id: "performance", "aria-labelledby": "performance-title"},
        h("h2", {class: "section-title", id: "performance-title"}, "How the session ran"), this.overviewBox));
    this.drawCards(data.overview);
    this.drawDecide(toDecide);
    this.drawChanges(changes);
    this.drawTracks(tracks);
    await this.drawOverview(data);
    if (this.openId) this.open(this.openId);
  }

  /** After a decision: every count and list again, nothing else moved. */
  async refresh() {
    const [data, tracks, toDecide, changes] = await Promise.all([api(`/api/sessions/${this.id}`),
      api(this.tracksUrl()), api(this.decideUrl()), api(this.changesUrl())]);
    this.drawCards(data.overview);
    this.drawDecide(toDecide);
    this.drawChanges(changes);
    this.drawTracks(tracks);
    this.drawOutcomes(data.overview);
  }

  // --- the head and the review's figures ------------------------------------------------

  head(overview) {
    this.resumeMessage = h("div");
    const resume = RESUMABLE.includes(overview.status)
      ? h("button", {type: "button", class: "primary", id: "resume-session", on: {click: () => this.resume()}}, "Resume session")
      : null;
    return h("div", {},
      h("div", {class: "page-head"},
        h("div", {class: "titles"},
          h("div", {class: "inline"}, h("h1", {}, `Session ${overview.id}`),
            h("span", {class: `badge ${f.tone(f.SESSION_STATUS, overview.status)}`, id: "session-status"},
              f.label(f.SESSION_STATUS, overview.status))),
          h("p", {class: "sub"}, names(overview.playlists)),
          h("p", {class: "sub small"}, `Started ${f.when(overview.started_at)}`,
            overview.ended_at ? ` · ended ${f.when(overview.ended_at)}` : "",
            ` · ${overview.provider || "—"} · CuePoint ${overview.app_version || "—"}`)),
        h("div", {class: "actions"}, resume,
          h("a", {class: "button", href: `#/export/${overview.id}`}, "Export"),
          h("a", {class: "button", href: "#/history"}, "All sessions"))),
      overview.status === "running" ? message("info", "This session is running: ",
        h("a", {href: "#/live"}, "follow it on the Live page"), "; this page shows it as it was when opened.") : null,
      overview.reason ? message(overview.status === "failed" ? "error" : "info", overview.reason) : null,
      this.resumeMessage);
  }

  async resume() {
    fill(this.resumeMessage);
    try {
      await post(`/api/sessions/${this.id}/resume`);
      fill(this.resumeMessage, message("ok", "Resuming: follow it on the ", h("a", {href: "#/live"}, "Live page"), "."));
    } catch (error) {
      fill(this.resumeMessage, message("error", error.message));
    }
  }

  drawCards(o) {
    const toReview = o.to_review ?? o.review;
    fill(this.cardsBox, h("div", {class: "cards review-cards", id: "session-cards"},
      card("To review", f.count(toReview), {tone: toReview ? "warn" : "", id: "review",
        note: toReview ? "need your decision" : "nothing waits for you"}),
      card("Will change", f.count(o.will_change), {tone: o.will_change ? "accent" : "", id: "will-change",
        note: "tracks in your library"}),
      card("Decided by you", f.count(o.decided), {id: "decided"}),
      card("Matched", f.count(o.matched), {tone: "ok", id: "matched", note: f.percent(o.match_rate)}),
      card("Unmatched", f.count(o.unmatched), {id: "unmatched"}),
      card("Tracks", o.done === o.tracks ? f.count(o.tracks) : `${f.count(o.done)} / ${f.count(o.tracks)}`, {id: "tracks"}),
      o.errors ? card("Errors", f.count(o.errors), {tone: "bad", id: "errors"}) : null));
  }

  // --- tracks that need a decision --------------------------------------------------------

  decideUrl() {
    return `/api/sessions/${this.id}/tracks?needs_decision=1&limit=${DECIDE_LIMIT}`;
  }

  drawDecide(data) {
    this.doubtful = data.tracks.map((t) => t.id);
    const bulk = new BulkBar(this, "to-decide", data.tracks.map((t) => t.id), {all: true});
    const several = new Set(data.tracks.map((t) => t.playlist)).size > 1;
    const rows = data.tracks.map((t) => this.decideRow(t, several));
    const more = data.total > data.tracks.length
      ? h("p", {class: "muted small"}, `The first ${f.count(data.tracks.length)} of ${f.count(data.total)} are listed.`) : null;
    fill(this.decideBox,
      h("div", {class: "panel-head"}, h("h2", {id: "to-decide-title", tabindex: "-1"}, `Needs your decision (${f.count(data.total)})`),
        h("span", {class: "spacer"}), data.total ? bulk.element : null),
      data.total ? h("p", {class: "muted small"}, "Doubtful matches: the app's proposal is in each row. ",
        "Accept it, reject it (nothing written), or open the track to pick another candidate or search Beatport yourself.")
        : message("ok", "Nothing waits for your decision in this session."),
      data.total ? table([{label: "#", class: "num"}, {label: "Rekordbox track"}, {label: "Proposed on Beatport"},
        {label: "Key · BPM"}, {label: "How sure"}, {label: "Decide", class: "actions-col"}], rows) : null,
      more);
  }

  decideRow(t, several) {
    const rb = t.rekordbox, bp = t.proposal;
    const why = f.matchWords(t.reason, t.confidence);
    const act = (state) => (event) => {
      event.stopPropagation();
      this.decideOne(t.id, state, event.currentTarget);
    };
    const row = clickableRow(() => this.open(t.id), `Open ${f.trackName(rb.artist, rb.name)}`,
      h("td", {class: "num muted"}, t.position),
      nameCell(rb.name, several ? [rb.artist, t.playlist] : rb.artist),
      bp ? nameCell(bp.mix_name ? `${bp.title} (${bp.mix_name})` : bp.title, bp.artists.join(", "))
        : h("td", {class: "muted"}, "No proposal"),
      h("td", {class: "nowrap"}, bp ? [beatportKey(bp) || "—", " · ", f.bpm(bp.bpm)] : "—"),
      h("td", {class: "sure"}, h("span", {class: `badge ${f.tone(f.SURENESS, t.confidence)}`}, f.label(f.SURENESS, t.confidence)),
        why.words ? h("span", {class: "sub muted small", dir: "auto", title: why.detail || null}, why.words) : null),
      h("td", {class: "nowrap actions-col"},
        h("button", {type: "button", class: "small-btn", "data-accept": t.id, disabled: !bp,
          "aria-label": `Accept the proposal for ${f.trackName(rb.artist, rb.name)}`, on: {click: act("accepted")}}, "✓ Accept"),
        " ",
        h("button", {type: "button", class: "small-btn", "data-reject": t.id,
          "aria-label": `Reject: nothing written for ${f.trackName(rb.artist, rb.name)}`, on: {click: act("rejected")}}, "✕ Reject")));
    row.dataset.track = String(t.id);
    return row;
  }

  async decideOne(trackId, state, button) {
    const list = [...this.decideBox.querySelectorAll("tr[data-track]")];
    const index = list.findIndex((row) => row.dataset.track === String(trackId));
    button.disabled = true;
    try {
      await post(`/api/tracks/${trackId}/review`, {state});
      await this.refresh();
      // Focus stays where the DJ works: the same button of the row that took its place.
      const rows = [...this.decideBox.querySelectorAll("tr[data-track]")];
      const next = rows[Math.min(index, rows.length - 1)];
      const same = next && next.querySelector(state === "accepted" ? "[data-accept]" : "[data-reject]");
      (same && !same.disabled ? same : next || this.decideBox.querySelector("h2"))?.focus?.();
      this.say(`Decision saved: ${state === "accepted" ? "accepted" : "rejected"}.`);
    } catch (error) {
      button.disabled = false;
      this.say(error.message, "error");
    }
  }

  say(text, kind = "ok") {
    if (!this.announce) {
      this.announce = h("div", {class: "toast", role: "status", "aria-live": "polite", id: "session-announce"});
      document.body.appendChild(this.announce);
    }
    fill(this.announce, message(kind, text));
    clearTimeout(this.announceTimer);
    this.announceTimer = setTimeout(() => this.announce && fill(this.announce), 4000);
  }

  // --- what will change in the library ----------------------------------------------------

  changesUrl() {
    const params = new URLSearchParams({limit: String(PAGE_SIZE), offset: String(this.changesView.offset)});
    if (!this.changesView.all) params.set("only_changing", "1");
    return `/api/sessions/${this.id}/changes?${params}`;
  }

  drawChanges(data) {
    const only = h("input", {type: "checkbox", id: "only-changing", props: {checked: !this.changesView.all}});
    only.addEventListener("change", () => {
      this.changesView = {all: !only.checked, offset: 0};
      this.saveQuery();
      this.reloadChanges();
    });
    const fields = ["key", "bpm", "genre", "label", "year", "mix"];
    const labels = Object.fromEntries((data.rows[0]?.changes || []).map((c) => [c.field, c.label]));
    const columns = [{label: "#", class: "num"}, {label: "Track"},
      ...fields.map((field) => ({label: labels[field] || field[0].toUpperCase() + field.slice(1)}))];
    const several = new Set(data.rows.map((t) => t.playlist)).size > 1;
    const rows = data.rows.map((t) => {
      const byField = Object.fromEntries(t.changes.map((c) => [c.field, c]));
      const row = clickableRow(() => this.open(t.id), `Open ${f.trackName(t.rekordbox.artist, t.rekordbox.name)}`,
        h("td", {class: "num muted"}, t.position),
        nameCell(t.rekordbox.name, several ? [t.rekordbox.artist, t.playlist] : t.rekordbox.artist),
        fields.map((field) => changeCell(byField[field])));
      row.dataset.track = String(t.id);
      return row;
    });
    const first = data.total ? data.offset + 1 : 0;
    const last = data.offset + data.rows.length;
    fill(this.changesBox,
      h("div", {class: "panel-head"}, h("h2", {id: "changes-title"}, "What this session changes in your library"),
        h("span", {class: "spacer"}), h("label", {class: "inline small"}, only, "Only tracks that change")),
      h("p", {class: "muted small", id: "changes-summary"},
        data.tracks_changing
          ? `${f.plural(data.tracks_changing, "track")} change, ${f.plural(data.fields_changing, "field")} in all: `
          : "Nothing would change in your library with the export's defaults: ",
        "empty Rekordbox fields are filled, nothing is overwritten (",
        h("a", {href: `#/export/${this.id}`}, "choose on the Export page"), "). ",
        h("span", {class: "changed-key"}, h("span", {class: "mark", "aria-hidden": "true"}, "●"), " marks a field that changes.")),
      table(columns, rows, {empty: this.changesView.all ? "No track in this session." : "No track changes."}),
      data.total > PAGE_SIZE ? h("div", {class: "pager"},
        h("span", {}, `${f.count(first)}–${f.count(last)} of ${f.count(data.total)}`), h("span", {class: "spacer"}),
        h("button", {type: "button", disabled: data.offset === 0, on: {click: () => this.pageChanges(-PAGE_SIZE)}}, "← Previous"),
        h("button", {type: "button", disabled: last >= data.total, on: {click: () => this.pageChanges(PAGE_SIZE)}}, "Next →")) : null);
  }

  pageChanges(step) {
    this.changesView.offset = Math.max(0, this.changesView.offset + step);
    this.reloadChanges();
  }

  async reloadChanges() {
    document.body.dataset.ready = "0";
    try {
      this.drawChanges(await api(this.changesUrl()));
      this.changesBox.querySelector("#only-changing")?.focus();
    } catch (error) {
      fill(this.changesBox, message("error", error.message));
    }
    document.body.dataset.ready = "1";
  }

  // --- every track ----------------------------------------------------------------------

  tracksUrl() {
    const params = new URLSearchParams({limit: String(PAGE_SIZE), offset: String(this.filters.offset)});
    for (const name of ["status", "confidence", "review_state", "search", "needs_decision"]) {
      if (this.filters[name]) params.set(name, this.filters[name]);
    }
    return `/api/sessions/${this.id}/tracks?${params}`;
  }

  tracksPanel() {
    const search = h("input", {type: "search", id: "track-search", value: this.filters.search,
      placeholder: "Artist or title", "aria-label": "Search tracks"});
    let typing = null;
    search.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => this.change({search: search.value.trim(), offset: 0}), 300);
    });
    const selects = FILTERS.map(([name, label, words]) => {
      const choice = select([["", `Any ${label.toLowerCase()}`], ...Object.entries(words).map(([key, [text]]) => [key, text])],
        this.filters[name], {id: `filter-${name}`, "aria-label": label});
      choice.addEventListener("change", () => this.change({[name]: choice.value, offset: 0}));
      return h("label", {}, label, choice);
    });
    const needs = h("input", {type: "checkbox", id: "filter-needs-decision", props: {checked: Boolean(this.filters.needs_decision)}});
    needs.addEventListener("change", () => this.change({needs_decision: needs.checked ? "1" : "", offset: 0}));
    this.count = h("span", {class: "muted small", "aria-live": "polite", id: "track-count"});
    this.bulkBox = h("span", {class: "bulk-box"});
    return h("section", {class: "panel", id: "all-tracks"},
      h("div", {class: "panel-head"}, h("h2", {}, "All tracks"), h("span", {class: "spacer"}), this.count),
      h("div", {class: "toolbar"}, h("label", {}, "Search", search), selects,
        h("label", {class: "inline"}, needs, "Needs a decision")),
      h("div", {class: "toolbar bulk-row"}, this.bulkBox),
      this.tracksBox, this.pager);
  }

  async change(changes) {
    Object.assign(this.filters, changes);
    this.saveQuery();
    document.body.dataset.ready = "0";
    try {
      this.drawTracks(await api(this.tracksUrl()));
    } catch (error) {
      fill(this.tracksBox, message("error", error.message));
    }
    document.body.dataset.ready = "1";
  }

  saveQuery() {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(this.filters)) if (value) params.set(name, String(value));
    if (this.changesView.all) params.set("changes", "all");
    if (this.openId) params.set("track", String(this.openId));
    replaceQuery(params);
  }

  drawTracks(data) {
    const several = new Set(data.tracks.map((t) => t.playlist)).size > 1;
    fill(this.tracksBox, table([{label: "#", class: "num"}, {label: "Rekordbox track"}, {label: "Beatport"},
      {label: "Status · how sure"}, {label: "Key · BPM"}, {label: "Decision"},
      {label: "Time", class: "num"}],
    data.tracks.map((t) => {
      const rb = t.rekordbox;
      const bp = t.final || t.proposal;
      const proposed = !t.final && t.proposal && t.review_state !== "rejected";
      const row = clickableRow(() => this.open(t.id), `Open ${f.trackName(rb.artist, rb.name)}`,
        h("td", {class: "num muted"}, t.position),
        nameCell(rb.name, several ? [rb.artist, t.playlist] : rb.artist),
        bp && (t.final || proposed)
          ? nameCell(bp.mix_name ? `${bp.title} (${bp.mix_name})` : bp.title, [bp.artists.join(", "), proposed ? "proposed" : ""])
          : h("td", {class: "muted"}, t.error ? "Search failed" : "—"),
        h("td", {class: "nowrap"}, statusBadge(t.status),
          h("span", {class: "sub muted small", style: "display:block"}, f.label(f.SURENESS, t.confidence))),
        h("td", {class: "nowrap"}, bp && (t.final || proposed) ? `${beatportKey(bp) || "—"} · ${f.bpm(bp.bpm)}`
          : h("span", {class: "muted"}, keyText(rb.tonality) || "—")),
        h("td", {}, reviewBadge(t)),
        h("td", {class: "num"}, f.ms(t.elapsed_ms)));
      row.dataset.track = String(t.id);
      return row;
    }), {empty: "No track matches these filters."}));
    const first = data.total ? data.offset + 1 : 0;
    const last = data.offset + data.tracks.length;
    setText(this.count, `${f.count(data.total)} tracks`);
    const deciding = data.tracks.filter((t) => t.needs_decision).map((t) => t.id);
    fill(this.bulkBox, deciding.length ? new BulkBar(this, "tracks", deciding, {}).element
      : h("span", {class: "muted small"}, "No track shown needs a decision."));
    fill(this.pager, h("span", {}, `${f.count(first)}–${f.count(last)} of ${f.count(data.total)}`),
      h("span", {class: "spacer"}),
      h("button", {type: "button", disabled: data.offset === 0,
        on: {click: () => this.change({offset: Math.max(0, data.offset - PAGE_SIZE)})}}, "← Previous"),
      h("button", {type: "button", disabled: last >= data.total,
        on: {click: () => this.change({offset: data.offset + PAGE_SIZE})}}, "Next →"));
    this.pager.hidden = data.total <= PAGE_SIZE;
  }

  open(trackId) {
    const opener = document.activeElement;
    const box = opener && opener.closest ? opener.closest("#to-decide, #changes, #tracks, #slowest") : null;
    this.openId = trackId;
    this.saveQuery();
    let decided = false;
    openTrack(trackId, {
      doubtful: this.doubtful,
      onDecided: () => { decided = true; },
      onMove: (id) => {
        this.openId = id;
        this.saveQuery();
      },
      onClose: async (lastId) => {
        this.openId = null;
        this.saveQuery();
        if (decided) await this.refresh().catch(() => {});
        // Back where the DJ was: the row of the track last shown (or the one opened), in the
        // list it was opened from; the track may have left it after a decision.
        const where = box && box.isConnected ? box : this.main;
        const row = where.querySelector(`tr[data-track="${lastId}"]`) || where.querySelector(`tr[data-track="${trackId}"]`)
          || this.main.querySelector(`#tracks tr[data-track="${lastId}"]`);
        (row || (opener && opener.isConnected ? opener : where.querySelector("tr[data-track], h2")))?.focus?.();
      },
    });
  }

  // --- how the session ran --------------------------------------------------------------

  async drawOverview({overview, query_stats: stats, slowest, tips}) {
    const chartBox = h("div", {class: "chart small", id: "query-chart", role: "img",
      "aria-label": "Average and 95th percentile time per query type"});
    this.outcomesBox = h("div");
    fill(this.overviewBox,
      this.performanceCards(overview),
      h("div", {class: "grid-2 row-gap"}, this.outcomesBox, this.tipsPanel(overview, tips)),
      h("section", {class: "panel", id: "query-performance"}, h("h2", {}, "Query performance by type"),
        stats.length ? h("div", {class: "stack"}, this.statsTable(stats), h("div", {class: "chart-box"}, chartBox))
          : h("p", {class: "muted"}, "No query is stored for this session.")),
      h("section", {class: "panel", id: "slowest"}, h("h2", {}, "Slowest tracks"), this.slowestTable(slowest)),
      overview.recent_errors.length ? this.errorsPanel(overview.recent_errors) : null);
    this.drawOutcomes(overview);
    if (stats.length) await this.statsChart(chartBox, stats);
  }

  performanceCards(o) {
    return h("div", {class: "cards", id: "performance-cards"},
      card("Duration", f.duration(o.wall_ms), {id: "duration"}),
      card("Time per track", f.ms(o.ms_per_track), {id: "ms-per-track", note: `${f.ms(o.avg_track_ms)} searching each`}),
      card("Requests", f.count(o.requests), {id: "requests", note: `${f.decimal(o.requests_per_track, 2)} per track`}),
      card("Cache hit rate", f.percent(o.cache_hit_rate), {id: "cache", note: `${f.count(o.cache_hits)} of ${f.count(o.queries)} queries`}),
      card("Retries", f.count(o.retries), {id: "retries"}),
      card("429s", f.count(o.rate_limited), {tone: o.rate_limited ? "warn" : "", id: "rate-limited", note: "rate limited"}),
      card("Early exits", f.count(o.early_exits), {id: "early-exits", note: "found by the first query"}),
      card("Errors", f.count(o.errors), {tone: o.errors ? "bad" : "", id: "errors"}));
  }

  drawOutcomes(o) {
    const confidence = ["strong", "medium", "low", "none"];
    const colours = {strong: "c-ok", medium: "c-accent", low: "c-warn", none: "c-neutral"};
    const total = confidence.reduce((sum, key) => sum + (o.by_confidence[key] || 0), 0) || 1;
    const reviews = Object.entries(o.by_review_state);
    const costs = o.query_costs;
    fill(this.outcomesBox, h("section", {class: "panel"}, h("h2", {}, "How sure the matches are"),
      h("div", {class: "stackbar", role: "img", "aria-label": "Tracks by how sure the app is"},
        confidence.map((key) => h("span", {class: colours[key],
          style: `width: ${((o.by_confidence[key] || 0) / total * 100).toFixed(2)}%`}))),
      h("div", {class: "legend"}, confidence.map((key) => h("span", {},
        h("span", {class: `dot ${colours[key]}`}), `${f.label(f.SURENESS, key)} ${f.count(o.by_confidence[key] || 0)}`))),
      h("h3", {class: "row-gap", style: "margin-top: 16px"}, "Decisions"),
      h("p", {class: "inline", id: "review-counts"}, reviews.map(([state, n]) => h("span", {class: `badge ${f.tone(f.REVIEW_STATE, state)}`},
        `${f.label(f.REVIEW_STATE, state)}: ${f.count(n)}`))),
      h("h3", {class: "row-gap", style: "margin-top: 16px"}, "Where the time went"),
      h("dl", {class: "kv"},
        h("dt", {}, "Queries"), h("dd", {}, f.count(costs.queries)),
        h("dt", {}, "Average query"), h("dd", {}, f.ms(costs.avg_ms)),
        h("dt", {}, "Average wait for Beatport"), h("dd", {}, f.ms(costs.avg_network_ms)),
        h("dt", {}, "Average parsing"), h("dd", {}, f.ms(costs.avg_parse_ms)),
        h("dt", {}, "Waiting for the rate limit"), h("dd", {}, f.duration(costs.throttle_ms)))));
  }

  tipsPanel(o, tips) {
    return h("section", {class: "panel", id: "tips"}, h("h2", {}, "Tips and bottlenecks"),
      tips.length ? h("ul", {class: "tips"}, tips.map((tip) => h("li", {"data-rule": tip.rule},
        h("span", {dir: "auto"}, tip.message),
        h("span", {class: "figure"}, `Measured ${tipFigure(tip.rule, tip.figure)} (threshold ${tipFigure(tip.rule, tip.threshold)})`))))
        : h("p", {class: "muted"}, o.done ? "Nothing slowed this session down noticeably." : "No track finished yet."));
  }

  statsTable(stats) {
    return table([{label: "Type"}, {label: "Queries", class: "num"}, {label: "Average", class: "num"},
      {label: "p95", class: "num"}, {label: "Network", class: "num"}, {label: "Candidates", class: "num"},
      {label: "Cache hits", class: "num"}, {label: "Errors", class: "num"}, {label: "429s", class: "num"}],
    stats.map((s) => h("tr", {"data-type": s.type},
      h("td", {}, s.type), h("td", {class: "num"}, f.count(s.count)), h("td", {class: "num"}, f.ms(s.avg_ms)),
      h("td", {class: "num"}, f.ms(s.p95_ms)), h("td", {class: "num"}, f.ms(s.avg_network_ms)),
      h("td", {class: "num"}, f.decimal(s.avg_candidates)), h("td", {class: "num"}, f.percent(s.cache_hit_rate)),
      h("td", {class: "num"}, f.count(s.errors)), h("td", {class: "num"}, f.count(s.rate_limited)))));
  }

  statsChart(element, stats) {
    const types = stats.map((s) => plotText(s.type));
    return chart(element, (p) => ({
      data: [
        {type: "bar", name: "Average", x: types, y: stats.map((s) => s.avg_ms / 1000), marker: {color: p.accent},
          hovertemplate: "%{x}: %{y:.2f} s average<extra></extra>"},
        {type: "bar", name: "95th percentile", x: types, y: stats.map((s) => s.p95_ms / 1000), marker: {color: p.warn},
          hovertemplate: "%{x}: %{y:.2f} s p95<extra></extra>"},
      ],
      layout: {barmode: "group", bargap: 0.35, showlegend: true, yaxis: {title: "Seconds"}, margin: {l: 52, r: 10, t: 30, b: 36}},
    }));
  }

  slowestTable(tracks) {
    return table([{label: "Track"}, {label: "Status"}, {label: "Time", class: "num"},
      {label: "Queries", class: "num"}, {label: "Candidates", class: "num"}],
    tracks.map((t) => clickableRow(() => this.open(t.id), `Open ${f.trackName(t.rekordbox.artist, t.rekordbox.name)}`,
      nameCell(t.rekordbox.name, t.rekordbox.artist),
      h("td", {}, statusBadge(t.status)),
      h("td", {class: "num"}, f.ms(t.elapsed_ms)), h("td", {class: "num"}, f.count(t.query_count)),
      h("td", {class: "num"}, f.count(t.candidate_count)))),
    {empty: "No track finished yet."});
  }

  errorsPanel(errors) {
    return h("section", {class: "panel", id: "errors"}, h("h2", {}, "Errors"),
      table([{label: "When"}, {label: "Where"}, {label: "What happened"}],
        errors.map((e) => h("tr", {}, h("td", {class: "nowrap"}, f.when(e.at)),
          h("td", {dir: "auto", class: "wrap-anywhere"}, e.where), h("td", {dir: "auto", class: "wrap-anywhere"}, e.message)))));
  }
}

/** Accept or reject many tracks at once, after a confirm that names how many. */
class BulkBar {
  constructor(view, name, ids, {all = false}) {
    this.view = view;
    this.ids = ids;
    const n = f.plural(ids.length, "track");
    const scope = all ? `all ${n}` : `the ${n} shown`;
    this.confirm = h("span", {class: "inline confirm", hidden: true, role: "group", "aria-label": "Confirm"});
    this.accept = h("button", {type: "button", "data-bulk": `${name}-accept`,
      on: {click: () => this.ask("accepted", `Accept the proposals of ${scope}?`)}}, `✓ Accept ${all ? "all" : "shown"} (${f.count(ids.length)})`);
    this.reject = h("button", {type: "button", "data-bulk": `${name}-reject`,
      on: {click: () => this.ask("rejected", `Reject ${scope}? Nothing will be written for them.`)}}, `✕ Reject ${all ? "all" : "shown"} (${f.count(ids.length)})`);
    this.element = h("span", {class: "inline bulk", "data-bulk-bar": name}, this.accept, this.reject, this.confirm);
  }

  ask(state, question) {
    const yes = h("button", {type: "button", class: state === "rejected" ? "danger solid" : "primary", "data-bulk-confirm": state,
      on: {click: () => this.run(state, yes)}}, state === "accepted" ? `Yes, accept ${f.count(this.ids.length)}` : `Yes, reject ${f.count(this.ids.length)}`);
    const no = h("button", {type: "button", on: {click: () => {
      this.confirm.hidden = true;
      (state === "accepted" ? this.accept : this.reject).focus();
    }}}, "No");
    fill(this.confirm, h("span", {class: "small"}, question), yes, no);
    this.confirm.hidden = false;
    yes.focus();
  }

  async run(state, button) {
    button.disabled = true;
    try {
      const answer = await post(`/api/sessions/${this.view.id}/review`, {state, track_ids: this.ids});
      await this.view.refresh();
      const skipped = answer.skipped ? ` (${f.plural(answer.skipped, "track")} had nothing to accept)` : "";
      this.view.say(`${state === "accepted" ? "Accepted" : "Rejected"} ${f.plural(answer.decided, "track")}${skipped}.`);
      this.view.main.querySelector("#to-decide h2")?.focus?.();
    } catch (error) {
      button.disabled = false;
      this.view.say(error.message, "error");
    }
  }
}

function changeCell(change) {
  if (!change) return h("td", {class: "muted"}, "—");
  if (!change.changed) return h("td", {class: "muted", dir: "auto"}, change.old || "—");
  return h("td", {class: "change", "data-changed": change.field, dir: "auto"},
    h("span", {class: "mark", "aria-hidden": "true"}, "● "),
    h("span", {class: "old"}, change.old || "empty"), h("span", {class: "arrow", "aria-label": "becomes"}, " → "),
    h("strong", {}, change.new));
}

function reviewBadge(track) {
  const state = track.review_state;
  if (track.decision) {
    const earlier = track.decision.earlier ? " (earlier)" : "";
    return h("span", {class: `badge ${f.tone(f.REVIEW_STATE, state)}`, "data-review": state,
      title: track.decision.earlier ? `Your decision from session ${track.decision.session_id}` : null},
    `${f.label(f.REVIEW_STATE, state)}${earlier}`);
  }
  if (track.needs_decision) return h("span", {class: "badge warn", "data-review": "auto"}, "To review");
  return h("span", {class: "muted", "data-review": state}, "—");
}

function statusBadge(status) {
  return h("span", {class: `badge ${f.tone(f.TRACK_STATUS, status)}`}, f.label(f.TRACK_STATUS, status));
}

function tipFigure(rule, value) {
  if (typeof value !== "number") return String(value);
  if (rule === "network") return f.ms(value);
  return value > 0 && value < 1 ? f.percent(value, 0) : f.count(value);
}
