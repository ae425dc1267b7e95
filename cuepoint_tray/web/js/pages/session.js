// Session: how it went (cards, query performance, slowest tracks, tips) and its tracks, each
// opening its candidates and the review.

import {ApiError, api, post} from "../api.js";
import {chart, plotText} from "../charts.js";
import {card, clickableRow, fill, h, message, nameCell, names, select, setText, table} from "../dom.js";
import * as f from "../format.js";
import {replaceQuery} from "../route.js";
import {openTrack} from "../track.js";

const PAGE_SIZE = 100;
const RESUMABLE = ["paused", "interrupted", "cancelled", "failed"];
const FILTERS = [
  ["status", "Status", f.TRACK_STATUS],
  ["confidence", "Confidence", f.CONFIDENCE],
  ["review_state", "Review", f.REVIEW_STATE],
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
      offset: Math.max(0, Number(params.get("offset")) || 0)};
    this.openId = Number(params.get("track")) || null;
    this.tracksBox = h("div", {id: "tracks"});
    this.pager = h("div", {class: "pager"});
  }

  async load() {
    const [data, tracks] = await Promise.all([api(`/api/sessions/${this.id}`), api(this.tracksUrl())]);
    const head = this.head(data.overview);
    this.overviewBox = h("div");
    fill(this.main, head, this.overviewBox, this.tracksPanel());
    const drawn = this.drawOverview(data);
    this.drawTracks(tracks);
    await drawn;
    if (this.openId) this.open(this.openId);
  }

  async refresh() {
    const [data, tracks] = await Promise.all([api(`/api/sessions/${this.id}`), api(this.tracksUrl())]);
    await this.drawOverview(data);
    this.drawTracks(tracks);
  }

  // --- the session ----------------------------------------------------------------------

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

  async drawOverview({overview, query_stats: stats, slowest, tips}) {
    const chartBox = h("div", {class: "chart small", id: "query-chart", role: "img",
      "aria-label": "Average and 95th percentile time per query type"});
    fill(this.overviewBox,
      this.cards(overview),
      h("div", {class: "grid-2 row-gap"}, this.outcomes(overview), this.tipsPanel(overview, tips)),
      h("section", {class: "panel", id: "query-performance"}, h("h2", {}, "Query performance by type"),
        stats.length ? h("div", {class: "stack"}, this.statsTable(stats), h("div", {class: "chart-box"}, chartBox))
          : h("p", {class: "muted"}, "No query is stored for this session.")),
      h("section", {class: "panel", id: "slowest"}, h("h2", {}, "Slowest tracks"), this.slowestTable(slowest)),
      overview.recent_errors.length ? this.errorsPanel(overview.recent_errors) : null);
    if (stats.length) await this.statsChart(chartBox, stats);
  }

  cards(o) {
    return h("div", {class: "cards", id: "session-cards"},
      card("Tracks", o.done === o.tracks ? f.count(o.tracks) : `${f.count(o.done)} / ${f.count(o.tracks)}`, {id: "tracks"}),
      card("Matched", f.count(o.matched), {tone: "ok", id: "matched", note: f.percent(o.match_rate)}),
      card("To review", f.count(o.review), {tone: o.review ? "warn" : "", id: "review"}),
      card("Unmatched", f.count(o.unmatched), {id: "unmatched"}),
      card("Errors", f.count(o.errors), {tone: o.errors ? "bad" : "", id: "errors"}),
      card("Duration", f.duration(o.wall_ms), {id: "duration"}),
      card("Time per track", f.ms(o.ms_per_track), {id: "ms-per-track", note: `${f.ms(o.avg_track_ms)} searching each`}),
      card("Requests", f.count(o.requests), {id: "requests", note: `${f.decimal(o.requests_per_track, 2)} per track`}),
      card("Cache hit rate", f.percent(o.cache_hit_rate), {id: "cache", note: `${f.count(o.cache_hits)} of ${f.count(o.queries)} queries`}),
      card("Retries", f.count(o.retries), {id: "retries"}),
      card("429s", f.count(o.rate_limited), {tone: o.rate_limited ? "warn" : "", id: "rate-limited", note: "rate limited"}),
      card("Early exits", f.count(o.early_exits), {id: "early-exits", note: "found by the first query"}));
  }

  outcomes(o) {
    const confidence = ["strong", "medium", "low", "none"];
    const colours = {strong: "c-ok", medium: "c-accent", low: "c-warn", none: "c-neutral"};
    const total = confidence.reduce((sum, key) => sum + (o.by_confidence[key] || 0), 0) || 1;
    const reviews = Object.entries(o.by_review_state);
    const costs = o.query_costs;
    return h("section", {class: "panel"}, h("h2", {}, "Confidence and reviews"),
      h("div", {class: "stackbar", role: "img", "aria-label": "Tracks by confidence"},
        confidence.map((key) => h("span", {class: colours[key],
          style: `width: ${((o.by_confidence[key] || 0) / total * 100).toFixed(2)}%`}))),
      h("div", {class: "legend"}, confidence.map((key) => h("span", {},
        h("span", {class: `dot ${colours[key]}`}), `${f.label(f.CONFIDENCE, key)} ${f.count(o.by_confidence[key] || 0)}`))),
      h("h3", {class: "row-gap", style: "margin-top: 16px"}, "Reviews"),
      h("p", {class: "inline", id: "review-counts"}, reviews.map(([state, n]) => h("span", {class: `badge ${f.tone(f.REVIEW_STATE, state)}`},
        `${f.label(f.REVIEW_STATE, state)}: ${f.count(n)}`))),
      h("h3", {class: "row-gap", style: "margin-top: 16px"}, "Where the time went"),
      h("dl", {class: "kv"},
        h("dt", {}, "Queries"), h("dd", {}, f.count(costs.queries)),
        h("dt", {}, "Average query"), h("dd", {}, f.ms(costs.avg_ms)),
        h("dt", {}, "Average wait for Beatport"), h("dd", {}, f.ms(costs.avg_network_ms)),
        h("dt", {}, "Average parsing"), h("dd", {}, f.ms(costs.avg_parse_ms)),
        h("dt", {}, "Waiting for the rate limit"), h("dd", {}, f.duration(costs.throttle_ms))));
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

  // --- the tracks -----------------------------------------------------------------------

  tracksUrl() {
    const params = new URLSearchParams({limit: String(PAGE_SIZE), offset: String(this.filters.offset)});
    for (const name of ["status", "confidence", "review_state", "search"]) {
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
    this.count = h("span", {class: "muted small", "aria-live": "polite", id: "track-count"});
    return h("section", {class: "panel"},
      h("div", {class: "panel-head"}, h("h2", {}, "Tracks"), h("span", {class: "spacer"}), this.count),
      h("div", {class: "toolbar"}, h("label", {}, "Search", search), selects),
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
    if (this.openId) params.set("track", String(this.openId));
    replaceQuery(params);
  }

  drawTracks(data) {
    const several = new Set(data.tracks.map((t) => t.playlist)).size > 1;
    fill(this.tracksBox, table([{label: "#", class: "num"}, {label: "Rekordbox track"}, {label: "Beatport match"},
      {label: "Status · confidence"}, {label: "Score", class: "num"}, {label: "Review"},
      {label: "Time", class: "num"}],
    data.tracks.map((t) => {
      const rb = t.rekordbox, bp = t.beatport;
      const row = clickableRow(() => this.open(t.id), `Open ${f.trackName(rb.artist, rb.name)}`,
        h("td", {class: "num muted"}, t.position),
        nameCell(rb.name, several ? [rb.artist, t.playlist] : rb.artist),
        bp !== null ? nameCell(bp.mix_name ? `${bp.title} (${bp.mix_name})` : bp.title, bp.artists.join(", "))
          : h("td", {class: "muted"}, t.error ? "Search failed" : "—"),
        h("td", {class: "nowrap"}, statusBadge(t.status),
          h("span", {class: "sub muted small", style: "display:block"}, f.label(f.CONFIDENCE, t.confidence))),
        h("td", {class: "num"}, f.decimal(t.score, 2)),
        h("td", {}, reviewBadge(t)),
        h("td", {class: "num"}, f.ms(t.elapsed_ms)));
      row.dataset.track = String(t.id);
      return row;
    }), {empty: "No track matches these filters."}));
    const first = data.total ? data.offset + 1 : 0;
    const last = data.offset + data.tracks.length;
    setText(this.count, `${f.count(data.total)} tracks`);
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
    this.openId = trackId;
    this.saveQuery();
    let changed = false;
    openTrack(trackId, {
      onReviewed: () => { changed = true; },
      onClose: async () => {
        this.openId = null;
        this.saveQuery();
        if (changed) await this.refresh().catch(() => {});
        const row = this.tracksBox.querySelector(`tr[data-track="${trackId}"]`);
        (row || (opener && opener.isConnected ? opener : null))?.focus();
      },
    });
  }
}

function reviewBadge(track) {
  const state = track.review_state;
  if (state === "auto" && track.status !== "review") return h("span", {class: "muted", "data-review": state}, "—");
  const tone = state === "auto" ? "warn" : f.tone(f.REVIEW_STATE, state);
  return h("span", {class: `badge ${tone}`, "data-review": state}, f.label(f.REVIEW_STATE, state));
}

function statusBadge(status) {
  return h("span", {class: `badge ${f.tone(f.TRACK_STATUS, status)}`}, f.label(f.TRACK_STATUS, status));
}

function tipFigure(rule, value) {
  if (typeof value !== "number") return String(value);
  if (rule === "network") return f.ms(value);
  return value > 0 && value < 1 ? f.percent(value, 0) : f.count(value);
}
