// History: every session, sortable, filterable and paged; a selection to compare; trends.

import {api} from "../api.js";
import {chart, plotText} from "../charts.js";
import {clickableRow, fill, h, message, nameCell, select, setText} from "../dom.js";
import * as f from "../format.js";
import {go, replaceQuery} from "../route.js";

const PAGE_SIZE = 25;
const MAX_COMPARED = 6;
const STATUS_OPTIONS = [["", "All statuses"], ...Object.entries(f.SESSION_STATUS).map(([key, [label]]) => [key, label])];
const COLUMNS = [
  {key: "select", label: "Select"},
  {key: "started_at", label: "Session", sort: "started_at"},
  {key: "playlists", label: "Playlists"},
  {key: "status", label: "Status"},
  {key: "to_review", label: "To review", num: true},
  {key: "tracks", label: "Tracks", sort: "tracks", num: true},
  {key: "match_rate", label: "Match rate", sort: "match_rate", num: true},
  {key: "ms_per_track", label: "Time per track", sort: "ms_per_track", num: true},
  {key: "wall_ms", label: "Duration", sort: "wall_ms", num: true, narrow: true},
  {key: "errors", label: "Errors", sort: "errors", num: true},
  {key: "cache", label: "Cache hits", num: true, narrow: true},
];
const TRENDS = [
  {key: "match_rate", title: "Match rate", value: (p) => p.match_rate, format: ".0%", hover: ".1%"},
  {key: "ms_per_track", title: "Time per track (s)", value: (p) => p.ms_per_track / 1000, format: "", hover: ".2f"},
  {key: "requests_per_track", title: "Requests per track", value: (p) => p.requests_per_track, format: "", hover: ".2f"},
  {key: "cache_hit_rate", title: "Cache hit rate", value: (p) => p.cache_hit_rate, format: ".0%", hover: ".1%"},
];

// The selection survives paging and returning from a session page within this tab.
const selected = new Set();

export async function render(main, route) {
  const state = {
    order: route.params.get("order") || "-started_at",
    status: route.params.get("status") || "",
    search: route.params.get("search") || "",
    offset: Math.max(0, Number(route.params.get("offset")) || 0),
    limit: Math.min(500, Math.max(1, Number(route.params.get("limit")) || PAGE_SIZE)),
  };
  const view = new HistoryView(main, state);
  await Promise.all([view.load(), view.trends()]);
}

class HistoryView {
  constructor(main, state) {
    this.state = state;
    this.results = h("div", {id: "sessions"});
    this.pager = h("div", {class: "pager"});
    this.compareButton = h("button", {type: "button", class: "primary", id: "compare-selected",
      on: {click: () => go(`#/compare?ids=${[...selected].join(",")}`)}}, "Compare selected");
    this.clearButton = h("button", {type: "button", on: {click: () => { selected.clear(); this.redraw(); }}},
      "Clear selection");
    this.trendBox = h("div", {class: "charts-2", id: "trends"});
    fill(main,
      h("div", {class: "page-head"}, h("div", {class: "titles"}, h("h1", {}, "History"),
        h("p", {class: "sub"}, "Every matching session, as kept in the history. Open one for its tracks and reviews; tick two or more to compare them."))),
      h("section", {class: "panel"}, this.toolbar(), this.results, this.pager),
      h("section", {class: "panel"}, h("h2", {}, "Trends across sessions"),
        h("p", {class: "muted small"}, "The last 100 sessions that matched tracks, by session number. Click a point to open its session."),
        this.trendBox));
    this.showSelection();
  }

  toolbar() {
    const search = h("input", {type: "search", id: "session-search", value: this.state.search,
      placeholder: "Playlist, file or reason", "aria-label": "Search sessions"});
    let typing = null;
    search.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => this.change({search: search.value.trim(), offset: 0}), 300);
    });
    search.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        clearTimeout(typing);
        this.change({search: search.value.trim(), offset: 0});
      }
    });
    const status = select(STATUS_OPTIONS, this.state.status, {id: "status-filter", "aria-label": "Status"});
    status.addEventListener("change", () => this.change({status: status.value, offset: 0}));
    this.selectionNote = h("span", {class: "muted small", "aria-live": "polite"});
    return h("div", {class: "toolbar"},
      h("label", {}, "Search", search), h("label", {}, "Status", status),
      h("span", {class: "spacer"}), this.selectionNote, this.clearButton, this.compareButton);
  }

  async change(changes) {
    Object.assign(this.state, changes);
    const params = new URLSearchParams();
    if (this.state.order !== "-started_at") params.set("order", this.state.order);
    if (this.state.status) params.set("status", this.state.status);
    if (this.state.search) params.set("search", this.state.search);
    if (this.state.offset) params.set("offset", String(this.state.offset));
    if (this.state.limit !== PAGE_SIZE) params.set("limit", String(this.state.limit));
    replaceQuery(params);
    document.body.dataset.ready = "0";
    try {
      await this.load();
    } catch (error) {
      fill(this.results, message("error", error.message));
    }
    document.body.dataset.ready = "1";
  }

  async load() {
    const {order, status, search, offset, limit} = this.state;
    const params = new URLSearchParams({limit: String(limit), offset: String(offset), order});
    if (status) params.set("status", status);
    if (search) params.set("search", search);
    const asked = params.toString();
    this.asked = asked;
    const data = await api(`/api/sessions?${asked}`);
    if (this.asked !== asked) return;  // a newer search answered first
    this.data = data;
    this.redraw();
  }

  redraw() {
    const data = this.data;
    if (!data) return;
    const rows = data.sessions.map((session) => this.row(session));
    fill(this.results, h("div", {class: "table-wrap"}, h("table", {"aria-label": "Sessions"},
      h("thead", {}, h("tr", {}, COLUMNS.map((column) => this.header(column)))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", {class: "empty", colspan: COLUMNS.length},
        this.state.search || this.state.status ? "No session matches these filters." : "No session yet: matched playlists show here."))))));
    const first = data.total ? data.offset + 1 : 0;
    const last = data.offset + data.sessions.length;
    fill(this.pager,
      h("span", {id: "page-figures"}, `${f.count(first)}–${f.count(last)} of ${f.count(data.total)} sessions`),
      h("span", {class: "spacer"}),
      h("button", {type: "button", disabled: data.offset === 0, on: {click: () =>
        this.change({offset: Math.max(0, data.offset - this.state.limit)})}}, "← Previous"),
      h("button", {type: "button", disabled: last >= data.total, on: {click: () =>
        this.change({offset: data.offset + this.state.limit})}}, "Next →"));
    this.showSelection();
  }

  header(column) {
    const classes = [column.num ? "num" : "", column.narrow ? "hide-narrow" : ""].join(" ").trim() || null;
    if (column.key === "select") return h("th", {scope: "col"}, h("span", {class: "visually-hidden"}, "Select"));
    if (!column.sort) return h("th", {scope: "col", class: classes}, column.label);
    const current = this.state.order.replace(/^-/, "") === column.sort;
    const descending = this.state.order.startsWith("-");
    const next = current ? (descending ? column.sort : `-${column.sort}`) : `-${column.sort}`;
    const arrow = current ? (descending ? "▼" : "▲") : "";
    return h("th", {scope: "col", class: classes,
      "aria-sort": current ? (descending ? "descending" : "ascending") : null},
    h("button", {type: "button", class: "sort", "data-sort": column.sort,
      title: `Sort by ${column.label.toLowerCase()}`, on: {click: () => this.change({order: next, offset: 0})}},
    column.label, h("span", {class: "arrow", "aria-hidden": "true"}, arrow)));
  }

  row(session) {
    const open = () => go(`#/session/${session.id}`);
    const box = h("input", {type: "checkbox", "aria-label": `Select session ${session.id} to compare`,
      props: {checked: selected.has(session.id)}});
    box.addEventListener("change", () => {
      if (box.checked) selected.add(session.id);
      else selected.delete(session.id);
      row.classList.toggle("selected", box.checked);
      this.showSelection();
    });
    const row = clickableRow(open, `Session ${session.id}`,
      h("td", {}, box),
      h("td", {class: "nowrap"}, h("a", {href: `#/session/${session.id}`}, `Session ${session.id}`),
        h("span", {class: "sub muted small", style: "display:block", title: f.when(session.started_at)},
          f.shortWhen(session.started_at))),
      nameCell(session.playlists[0] || "—", session.playlists.slice(1)),
      h("td", {}, h("span", {class: `badge ${f.tone(f.SESSION_STATUS, session.status)}`},
        f.label(f.SESSION_STATUS, session.status))),
      h("td", {class: "num", "data-to-review": session.to_review ?? session.review},
        (session.to_review ?? session.review) ? h("span", {class: "badge warn"}, f.count(session.to_review ?? session.review))
          : h("span", {class: "muted"}, "0")),
      h("td", {class: "num"}, session.done === session.tracks ? f.count(session.tracks)
        : `${f.count(session.done)} / ${f.count(session.tracks)}`),
      h("td", {class: "num"}, session.done ? f.percent(session.match_rate) : "—"),
      h("td", {class: "num"}, session.done ? f.ms(session.ms_per_track) : "—"),
      h("td", {class: "num hide-narrow"}, f.duration(session.wall_ms)),
      h("td", {class: `num ${session.errors ? "" : "muted"}`}, f.count(session.errors)),
      h("td", {class: "num hide-narrow"}, f.percent(session.cache_hit_rate)));
    row.dataset.session = String(session.id);
    if (selected.has(session.id)) row.classList.add("selected");
    return row;
  }

  showSelection() {
    const n = selected.size;
    this.compareButton.disabled = n < 2 || n > MAX_COMPARED;
    this.clearButton.hidden = n === 0;
    setText(this.selectionNote, n === 0 ? "" : n > MAX_COMPARED
      ? `${n} selected: compare at most ${MAX_COMPARED}` : `${n} selected`);
    setText(this.compareButton, n >= 2 ? `Compare ${n} sessions` : "Compare selected");
  }

  async trends() {
    const points = await api("/api/trends?limit=100");
    if (!points.length) {
      fill(this.trendBox, h("p", {class: "muted"}, "Trends appear once sessions have matched tracks."));
      return;
    }
    const boxes = TRENDS.map((trend) => h("div", {class: "chart small", "data-trend": trend.key, role: "img",
      "aria-label": `${trend.title} per session`}));
    fill(this.trendBox, boxes.map((element, i) => h("div", {class: "chart-box"}, h("h3", {}, TRENDS[i].title), element)));
    const x = points.map((p) => p.id);
    const step = Math.max(1, Math.ceil((x[x.length - 1] - x[0]) / 6));
    const text = points.map((p) => plotText(`Session ${p.id} · ${f.when(p.started_at)} · ${f.count(p.tracks)} tracks`));
    await Promise.all(TRENDS.map((trend, i) => chart(boxes[i], (palette) => ({
      data: [{type: "scatter", mode: "lines+markers", x, y: points.map(trend.value),
        text, customdata: points.map((p) => p.id),
        line: {color: palette.accent, width: 1.5}, marker: {size: points.length > 60 ? 4 : 6, color: palette.accent},
        hovertemplate: `%{text}<br>%{y:${trend.hover}}<extra></extra>`}],
      layout: {margin: {l: 50, r: 10, t: 6, b: 30},
        yaxis: {tickformat: trend.format || undefined, rangemode: "tozero"},
        xaxis: {type: "linear", tickformat: "d", title: "Session", dtick: step}},
    })).then((element) => {
      if (element) element.on("plotly_click", (event) => go(`#/session/${event.points[0].customdata}`));
    })));
  }
}
