// Live: the session running now (or the latest one), polled every 700 ms without reloading
// while a session runs, every 5 s while none does (one may start from the tray), and not at
// all while the page is hidden (the window closed to the tray, minimised, another tab): it
// polls again at once when shown. When nothing runs, a way to start a match.

import {api, post} from "../api.js";
import {chart, extend, plotText, whenIdle} from "../charts.js";
import {append, card, fill, h, message, names, setText} from "../dom.js";
import * as f from "../format.js";

const POLL_MS = 700;
const IDLE_POLL_MS = 5000;
const EAGER_MS = 10000;
const RECENT = 12;
const STATUSES = ["matched", "review", "unmatched", "error"];
const STATUS_COLOURS = {matched: "ok", review: "warn", unmatched: "neutral", error: "bad"};
const SEARCHING_PHASES = ["starting", "running", "stopping"];
// An unfinished session the app can continue from its first unmatched track.
const RESUMABLE = ["paused", "interrupted", "cancelled", "failed"];

/** One list of points per track status, as the chart's traces hold them. */
function newSeries() {
  return STATUSES.map(() => ({x: [], y: [], text: []}));
}

export async function render(main) {
  const view = new LiveView(main);
  await view.poll();
  view.schedule();
  const onVisibility = () => view.visibilityChanged();
  document.addEventListener("visibilitychange", onVisibility);
  return () => {
    document.removeEventListener("visibilitychange", onVisibility);
    view.stop();
  };
}

class LiveView {
  constructor(main) {
    this.main = main;
    this.sessionId = undefined;
    this.after = 0;
    this.points = 0;
    this.recent = [];
    this.series = newSeries();  // every point of the session, for a chart drawn late
    this.chartDrawn = false;
    this.stopChart = () => {};
    this.stopped = false;
    this.timer = null;
    this.start = null;
    this.refs = null;
    this.active = false;  // a session is starting, running or stopping: poll often
    this.eagerUntil = 0;  // after the DJ starts or controls a session, poll often meanwhile
    this.polling = false;
  }

  stop() {
    this.stopped = true;
    this.stopChart();
    clearTimeout(this.timer);
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped || document.hidden) return;  // visibilityChanged starts it again
    this.timer = setTimeout(() => this.tick(), this.active ? POLL_MS : IDLE_POLL_MS);
  }

  async tick() {
    if (this.polling) return;  // one request at a time; the running one reschedules
    this.polling = true;
    try {
      await this.poll();
      this.setProblem("");
    } catch (error) {
      this.setProblem(error.message);
    } finally {
      this.polling = false;
    }
    this.schedule();
  }

  /** The DJ started or controlled a session: poll often until it shows (a session takes a
   * moment to start, and the request starting it may answer after the first polls). */
  expectChange() {
    this.eagerUntil = Date.now() + EAGER_MS;
    if (!this.active) {
      this.active = true;
      this.schedule();
    }
  }

  visibilityChanged() {
    if (this.stopped) return;
    if (document.hidden) {
      clearTimeout(this.timer);
      this.timer = null;
    } else if (!this.timer && !this.polling) {
      this.tick();  // what changed while hidden shows at once
    }
  }

  async poll() {
    let data = await api(`/api/live?after=${this.after}`);
    if (this.stopped) return;
    const wasActive = this.active;
    this.active = isActive(data) || Date.now() < this.eagerUntil;
    if (this.active !== wasActive) this.schedule();  // a session started or ended: new pace
    const session = data.session;
    if ((session ? session.id : null) !== this.sessionId) {
      if (session && this.after) data = await api(`/api/live?session=${session.id}&after=0`);
      if (this.stopped) return;
      this.sessionId = session ? session.id : null;
      this.after = 0;
      this.points = 0;
      this.recent = [];
      this.series = newSeries();
      await this.build(data);
    }
    this.update(data);
  }

  setProblem(text) {
    if (this.refs) {
      this.refs.problem.hidden = !text;
      setText(this.refs.problem, text ? `Lost contact with CuePoint: ${text}` : "");
    }
  }

  // --- the skeleton, built once per session -------------------------------------------

  async build(data) {
    const session = data.session;
    const refs = {};
    refs.problem = h("p", {class: "message error", role: "alert", hidden: true});
    refs.title = h("h1", {}, "Live");
    refs.sub = h("p", {class: "sub"});
    refs.badge = h("span", {class: "badge"});
    refs.startBox = h("div");
    const head = h("div", {class: "page-head"},
      h("div", {class: "titles"}, h("div", {class: "inline"}, refs.title, refs.badge), refs.sub),
      session ? h("div", {class: "actions"},
        h("a", {class: "button", href: `#/session/${session.id}`}, "Open session"),
        h("a", {class: "button", href: `#/export/${session.id}`}, "Export")) : null);
    if (!session) {
      fill(this.main, refs.problem, head, refs.startBox,
        h("div", {class: "notice"}, h("h2", {}, "No session yet"),
          h("p", {class: "muted"}, "Matched playlists will show here while they run, and in History afterwards.")));
      this.refs = refs;
      setText(refs.sub, "Nothing has been matched yet.");
      return;
    }
    fill(this.main, refs.problem, head, refs.startBox,
      this.progressPanel(refs), this.cards(refs), this.queuePanel(refs),
      h("div", {class: "grid-2 row-gap"}, this.chartPanel(refs), this.recentPanel(refs)));
    const opening = !this.refs;
    this.refs = refs;
    this.stopChart();
    this.chartDrawn = false;
    if (opening && !isActive(data)) {
      // A session over: its chart (below the fold) is drawn once the page is shown. Loading
      // plotly.js (3.5 MB) took longer than all the rest of opening the window on Live.
      this.stopChart = whenIdle(refs.chart, () => this.drawChart(refs.chart));
    } else {
      // A session running: its chart grows from its first polls, which come every 700 ms
      // once the page shows, so plotly's loading (a second or so of the page's thread on a
      // slow machine) comes before rather than between them.
      refs.chart.dataset.chart = "waiting";
      await this.drawChart(refs.chart);
      refs.chart.dataset.chart = "drawn";
    }
  }

  async drawChart(element) {
    const series = this.series;
    await chart(element, (p) => ({
      data: STATUSES.map((status, i) => ({
        type: "scatter", mode: "markers", name: f.label(f.TRACK_STATUS, status),
        x: [...series[i].x], y: [...series[i].y], text: [...series[i].text],
        marker: {color: p[STATUS_COLOURS[status]], size: 7, opacity: .85},
        hovertemplate: "#%{x} %{text}<br>%{y:.2f} s<extra>%{fullData.name}</extra>",
      })),
      layout: {showlegend: true, xaxis: {title: "Track (in the order finished)", rangemode: "tozero"},
        yaxis: {title: "Seconds", rangemode: "tozero"}, margin: {l: 52, r: 12, t: 30, b: 44}},
    }));
    if (series !== this.series || !element.isConnected) return;  // another session by now
    // Points that came while plotly loaded and drew.
    const late = STATUSES.map((_, i) => ({x: series[i].x.slice(element.data[i].x.length),
      y: series[i].y.slice(element.data[i].y.length), text: series[i].text.slice(element.data[i].text.length)}));
    const indices = late.map((_, i) => i).filter((i) => late[i].x.length);
    if (indices.length) extend(element, {x: indices.map((i) => late[i].x), y: indices.map((i) => late[i].y),
      text: indices.map((i) => late[i].text)}, indices);
    this.chartDrawn = true;
  }

  progressPanel(refs) {
    refs.bar = h("span");
    refs.progress = h("div", {class: "progress", role: "progressbar", "aria-label": "Tracks done",
      "aria-valuemin": "0", "aria-valuemax": "100"}, refs.bar);
    refs.figures = h("span", {class: "figures"});
    refs.nowTrack = h("dd", {dir: "auto", id: "now-track"});
    refs.nowQuery = h("dd", {dir: "auto", class: "mono", id: "now-query"});
    refs.state = h("dd");
    refs.lastTrack = h("dd");
    refs.controls = this.controls(refs);
    refs.nowLines = h("dl", {class: "now-lines"},
      h("dt", {}, "State"), refs.state,
      h("dt", {}, "Searching"), refs.nowTrack,
      h("dt", {}, "Query"), refs.nowQuery,
      h("dt", {}, "Last finished"), refs.lastTrack);
    return h("section", {class: "panel", "aria-label": "Progress"},
      h("div", {class: "live-progress"}, refs.progress, refs.figures), refs.nowLines, refs.controls);
  }

  controls(refs) {
    const act = (action) => async () => {
      setText(refs.controlError, "");
      try {
        this.expectChange();
        await post(`/api/live/${action}`);
        refs.confirm.hidden = true;
        await this.poll();
      } catch (error) {
        setText(refs.controlError, error.message);
      }
    };
    refs.pause = h("button", {type: "button", on: {click: act("pause")}}, "Pause");
    refs.resume = h("button", {type: "button", on: {click: act("resume")}}, "Resume");
    refs.cancel = h("button", {type: "button", class: "danger", on: {click: () => {
      refs.confirm.hidden = false;
      refs.confirmYes.focus();
    }}}, "Cancel…");
    refs.confirmYes = h("button", {type: "button", class: "danger solid", on: {click: act("cancel")}},
      "Yes, cancel the session");
    refs.confirm = h("span", {class: "inline", hidden: true, role: "group", "aria-label": "Confirm cancel"},
      h("span", {class: "muted"}, "Tracks matched so far are kept."), refs.confirmYes,
      h("button", {type: "button", on: {click: () => { refs.confirm.hidden = true; refs.cancel.focus(); }}},
        "Keep going"));
    // In the page only while there is a stopped session to resume (not merely hidden).
    refs.resumeSession = h("button", {type: "button", class: "primary", id: "live-resume-session",
      on: {click: () => this.resumeSession(refs)}}, "Resume session");
    refs.controlNote = h("span", {class: "muted small"});
    refs.controlError = h("span", {class: "small", role: "alert", style: "color: var(--bad)"});
    return h("div", {class: "controls"}, refs.pause, refs.resume, refs.cancel, refs.confirm,
      refs.controlNote, refs.controlError);
  }

  /** Continue a cancelled (or interrupted, failed, paused-and-quit) session where it stopped. */
  async resumeSession(refs) {
    setText(refs.controlError, "");
    refs.resumeSession.disabled = true;
    try {
      this.expectChange();
      await post(`/api/sessions/${this.sessionId}/resume`);
      await this.poll();
    } catch (error) {
      setText(refs.controlError, error.message);
    } finally {
      refs.resumeSession.disabled = false;
    }
  }

  cards(refs) {
    const names = [["matched", "Matched", "ok"], ["review", "To review", ""],
      ["unmatched", "Unmatched", ""], ["errors", "Errors", ""], ["tpm", "Tracks per minute", ""],
      ["eta", "Time left", ""], ["requests", "Requests", ""], ["cache", "Cache hit rate", ""],
      ["retries", "Retries", ""], ["limited", "429s (rate limited)", ""]];
    refs.cards = {};
    const cards = names.map(([id, label, tone]) => {
      const element = card(label, "—", {tone, id});
      refs.cards[id] = element.querySelector("[data-value]");
      return element;
    });
    return h("div", {class: "cards", "aria-label": "Totals"}, cards);
  }

  queuePanel(refs) {
    refs.queue = h("tbody");
    refs.queuePanel = h("section", {class: "panel", hidden: true},
      h("h2", {}, "Playlists in this session"),
      h("div", {class: "table-wrap"}, h("table", {},
        h("thead", {}, h("tr", {}, ["Playlist", "Progress", "Done", "Matched", "To review",
          "Unmatched", "Errors", "State"].map((text, i) => h("th", {class: i > 1 && i < 7 ? "num" : null}, text)))),
        refs.queue)));
    return refs.queuePanel;
  }

  chartPanel(refs) {
    refs.chart = h("div", {class: "chart tall", id: "live-chart", role: "img",
      "aria-label": "Time per track, growing as tracks finish"});
    return h("section", {class: "panel chart-box"}, h("h2", {}, "Time per track"), refs.chart);
  }

  recentPanel(refs) {
    refs.recent = h("ol", {class: "recent", id: "recent-tracks", reversed: true});
    return h("section", {class: "panel"}, h("h2", {}, "Last tracks finished"), refs.recent);
  }

  // --- each poll ------------------------------------------------------------------------

  update(data) {
    const {session, status} = data;
    this.renderStart(status);
    if (!session || !this.refs.progress) return;
    const refs = this.refs;
    const now = session.now;
    const active = ["running", "paused"].includes(session.status);
    setText(refs.title, headline(session, now));
    if (!refs.sub.childNodes.length) {
      fill(refs.sub, `Session ${session.id} · `, names(session.playlists), ` · started ${f.when(session.started_at)}`);
    }
    refs.badge.className = `badge ${f.tone(f.SESSION_STATUS, session.status)}`;
    setText(refs.badge, f.label(f.SESSION_STATUS, session.status));
    this.updateProgress(session, now);
    this.updateCards(session);
    this.updateQueue(session);
    this.addTracks(session.new_tracks || []);
    this.updateControls(session, now, active, status);
  }

  updateProgress(session, now) {
    const refs = this.refs;
    const percent = Math.round((session.progress || 0) * 1000) / 10;
    refs.bar.style.width = `${percent}%`;
    refs.progress.setAttribute("aria-valuenow", String(percent));
    refs.progress.className = `progress ${session.status === "completed" ? "done" : ""} ${session.status === "paused" ? "paused" : ""}`;
    setText(refs.figures, `${f.count(session.done)} of ${f.count(session.tracks)} tracks · ${f.percent(session.progress, 0)}`);
    const phase = now ? now.phase : null;
    setText(refs.state, now ? `${phaseWords(phase)}${now.reason ? ` — ${now.reason}` : ""}`
      : `${f.label(f.SESSION_STATUS, session.status)}${session.reason ? ` — ${session.reason}` : ""}`);
    // What is in flight only while something is: after the end (or while paused) the
    // controller still remembers the last track searched, which is no longer "searching".
    const searching = Boolean(now) && SEARCHING_PHASES.includes(phase);
    setText(refs.nowTrack, searching && now.current_track ? now.current_track : "—");
    setText(refs.nowQuery, searching && now.current_query ? now.current_query : "—");
    const last = session.last_track;
    const lastKey = last ? `${last.id}` : "";
    if (refs.lastTrack.dataset.track !== lastKey) {
      refs.lastTrack.dataset.track = lastKey;
      fill(refs.lastTrack, last ? [h("span", {dir: "auto"}, f.trackName(last.rekordbox.artist, last.rekordbox.name)),
        last.beatport ? [" → ", h("span", {dir: "auto"}, f.beatportName(last.beatport.title, last.beatport.mix_name, []))] : "",
        ` (${f.label(f.TRACK_STATUS, last.status)})`] : "—");
    }
    for (const element of [refs.nowTrack, refs.nowQuery]) {
      element.hidden = !searching;
      element.previousElementSibling.hidden = !searching;
    }
  }

  updateCards(session) {
    const c = this.refs.cards;
    setText(c.matched, f.count(session.matched));
    setText(c.review, f.count(session.to_review ?? session.review));
    setText(c.unmatched, f.count(session.unmatched));
    setText(c.errors, f.count(session.errors));
    c.errors.parentElement.classList.toggle("bad", session.errors > 0);
    c.review.parentElement.classList.toggle("warn", (session.to_review ?? session.review) > 0);
    setText(c.tpm, f.decimal(session.tracks_per_minute));
    setText(c.eta, session.status === "running" ? f.eta(session.eta_s) : "—");
    setText(c.requests, f.count(session.requests));
    setText(c.cache, f.percent(session.cache_hit_rate));
    setText(c.retries, f.count(session.retries));
    setText(c.limited, f.count(session.rate_limited));
  }

  updateQueue(session) {
    const list = session.playlist_progress || [];
    this.refs.queuePanel.hidden = list.length < 2;
    if (list.length < 2) return;
    fill(this.refs.queue, list.map((item) => {
      const share = item.tracks ? item.done / item.tracks : 0;
      return h("tr", {},
        h("td", {class: "name", dir: "auto"}, item.playlist),
        h("td", {}, h("div", {class: `progress small ${item.state === "done" ? "done" : ""}`},
          h("span", {style: `width: ${(share * 100).toFixed(1)}%`}))),
        h("td", {class: "num"}, `${f.count(item.done)} / ${f.count(item.tracks)}`),
        h("td", {class: "num"}, f.count(item.matched)), h("td", {class: "num"}, f.count(item.review)),
        h("td", {class: "num"}, f.count(item.unmatched)), h("td", {class: "num"}, f.count(item.errors)),
        h("td", {}, h("span", {class: `badge ${f.tone(f.PLAYLIST_STATE, item.state)}`},
          f.label(f.PLAYLIST_STATE, item.state))));
    }));
  }

  addTracks(tracks) {
    if (!tracks.length) return;
    this.after = Math.max(this.after, ...tracks.map((t) => t.id));
    const byStatus = STATUSES.map(() => ({x: [], y: [], text: []}));
    for (const track of tracks) {
      this.points += 1;
      const index = Math.max(0, STATUSES.indexOf(track.status));
      const text = plotText(f.trackName(track.rekordbox.artist, track.rekordbox.name));
      for (const series of [byStatus[index], this.series[index]]) {
        series.x.push(this.points);
        series.y.push(track.elapsed_ms / 1000);
        series.text.push(text);
      }
    }
    const indices = byStatus.map((_, i) => i).filter((i) => byStatus[i].x.length);
    if (this.chartDrawn) extend(this.refs.chart, {x: indices.map((i) => byStatus[i].x),
      y: indices.map((i) => byStatus[i].y), text: indices.map((i) => byStatus[i].text)}, indices);
    this.recent = [...tracks.slice(-RECENT).reverse(), ...this.recent].slice(0, RECENT);
    fill(this.refs.recent, this.recent.map((track) => h("li", {"data-track": track.id},
      h("span", {class: "num muted"}, f.ms(track.elapsed_ms)),
      h("span", {class: "name", dir: "auto"}, f.trackName(track.rekordbox.artist, track.rekordbox.name)),
      h("span", {class: `badge ${f.tone(f.TRACK_STATUS, track.status)}`}, f.label(f.TRACK_STATUS, track.status)))));
  }

  updateControls(session, now, active, status) {
    const refs = this.refs;
    const controllable = Boolean(session.controllable);
    const phase = now ? now.phase : "";
    const busy = Boolean(status && status.now && status.now.busy);
    const resumable = Boolean(status && status.can_match) && !busy && !controllable
      && RESUMABLE.includes(session.status) && session.done < session.tracks;
    if (resumable && !refs.resumeSession.isConnected) refs.controls.prepend(refs.resumeSession);
    if (!resumable) refs.resumeSession.remove();
    setText(refs.resumeSession, `Resume session ${session.id}`);
    for (const button of [refs.pause, refs.resume, refs.cancel]) button.hidden = resumable;
    refs.controls.hidden = !active && !controllable && !resumable;
    refs.pause.disabled = !(controllable && phase === "running");
    refs.resume.disabled = !(controllable && phase === "paused");
    refs.cancel.disabled = !(controllable && ["running", "paused", "starting"].includes(phase));
    if (refs.cancel.disabled) refs.confirm.hidden = true;
    setText(refs.controlNote, controllable ? "" : active
      ? "This session runs in another CuePoint window or command: control it there." : "");
  }

  // --- starting a match -----------------------------------------------------------------

  renderStart(status) {
    const box = this.refs.startBox;
    const busy = status.now && status.now.busy;
    this.showLastFailure(status.now && status.now.last);
    if (busy) {
      this.start = null;
      const starting = status.now.phase === "starting";
      fill(box, starting ? message("info", "Starting the session…") : null);
      return;
    }
    if (this.start) return;
    this.start = new StartPanel(status, () => this.expectChange(), () => this.poll());
    fill(box, this.start.element);
  }

  /** A session that could not start leaves no trace in the history: say why here. */
  showLastFailure(last) {
    const refs = this.refs;
    if (!refs.failure) {
      refs.failure = h("div", {id: "last-failure"});
      refs.startBox.before(refs.failure);
    }
    const reason = last && last.status === "failed" ? last.reason : "";
    if (refs.failure.dataset.reason === reason) return;
    refs.failure.dataset.reason = reason;
    fill(refs.failure, reason ? message("error", `The last session stopped: ${reason}`) : null);
  }
}

/** Whether something changes by the second: a session starting, running or stopping here,
 * or one running elsewhere (another window or command writing the history). A paused one
 * waits for the DJ. */
function isActive(data) {
  const now = data.status && data.status.now;
  if (now && now.busy && now.phase !== "paused") return true;
  return Boolean(data.session && data.session.status === "running" && !(now && now.busy));
}

/** The page's heading: what the session is doing, in a word the DJ would use. */
function headline(session, now) {
  const phase = now ? now.phase : "";
  if (phase === "paused" || (!now && session.status === "paused")) return "Paused";
  if (phase === "stopping") return "Stopping";
  if (["starting", "running"].includes(phase) || session.status === "running") return "Matching now";
  return "Latest session";
}

function phaseWords(phase) {
  return {idle: "Idle", starting: "Starting", running: "Running", paused: "Paused",
    stopping: "Stopping"}[phase] || phase || "—";
}

/** Choose playlists from the Rekordbox XML's tree (several make a queue) and start. */
class StartPanel {
  constructor(status, onStarting, onStarted) {
    this.status = status;
    this.onStarting = onStarting;
    this.onStarted = onStarted;
    this.selected = [];
    this.element = h("section", {class: "panel", id: "start-panel"}, h("h2", {}, "Start a match"));
    this.body = h("div");
    this.element.appendChild(this.body);
    this.load();
  }

  async load() {
    const status = this.status;
    if (!status.can_match) {
      fill(this.body, h("p", {class: "muted"}, "This dashboard only shows the history: start CuePoint's tray app (or ",
        h("code", {}, "cuepoint dashboard"), ") to match playlists."));
      return;
    }
    if (!status.xml_set) {
      fill(this.body, message("info", status.setup_hint),
        h("p", {}, h("a", {class: "button primary", href: "#/settings"}, "Open Settings")));
      return;
    }
    fill(this.body, h("p", {class: "muted"}, "Reading your Rekordbox playlists…"));
    let data;
    try {
      data = await api("/api/playlists");
    } catch (error) {
      fill(this.body, message("error", error.message));
      return;
    }
    if (!data.tree) {
      fill(this.body, message("error", data.error), h("p", {}, h("a", {href: "#/settings"}, "Check the settings")));
      return;
    }
    this.draw(data);
  }

  draw(data) {
    const boxes = [];
    this.folders = [];
    const tree = h("ul", {class: "tree", "data-filter": ""},
      (data.tree.children || [data.tree]).map((node) => this.node(node, boxes, 0, "")));
    const preset = this.status.default_playlist;
    for (const box of boxes) {
      if (preset && box.value === preset) {
        box.checked = true;
        this.selected.push(box.value);
        openAncestors(box);
      }
    }
    this.boxes = boxes;
    this.found = h("span", {class: "muted small", id: "playlist-found", "aria-live": "polite"});
    const filter = h("input", {type: "search", id: "playlist-search", placeholder: "Find a playlist or folder",
      "aria-label": "Find a playlist or folder", autocomplete: "off", spellcheck: "false"});
    filter.addEventListener("input", () => this.filter(tree, filter.value));
    this.queue = h("ol", {class: "queue", "aria-label": "Queue"});
    this.error = h("div");
    this.button = h("button", {type: "button", class: "primary", id: "start-match",
      on: {click: () => this.submit()}}, "Start matching");
    const from = h("p", {class: "muted small"}, "From ", h("span", {dir: "auto", class: "mono"}, data.xml),
      ` · ${f.plural(boxes.length, "playlist")}`);
    fill(this.body, from,
      h("div", {class: "grid-2"},
        h("div", {}, h("div", {class: "toolbar"}, filter, this.found),
          h("div", {class: "tree-box", "data-picker-ready": ""}, tree)),
        h("div", {}, h("h3", {}, "Queue"),
          h("p", {class: "muted small"}, "Playlists are matched one after another, in the order you tick them, as one session."),
          this.queue, h("div", {class: "controls"}, this.button), this.error)));
    this.showQueue();
  }

  /** One node of the tree; each keeps its path folded (lower case, no accents) for the search,
   * so "cafe berlin" finds "Sets/Clubs/Berlin/Café Sets 12" and a folder's name finds
   * everything in it. */
  node(node, boxes, depth, parent) {
    const path = parent ? `${parent}/${node.name}` : node.name;
    if (node.type === "playlist") {
      const box = h("input", {type: "checkbox", value: node.path, on: {change: () => this.toggle(box)}});
      boxes.push(box);
      return h("li", {"data-name": folded(path)}, h("label", {}, box,
        h("span", {dir: "auto"}, node.name), h("span", {class: "count"}, `${f.count(node.tracks)} tracks`)));
    }
    const details = h("details", {open: depth < 1, "data-open": depth < 1 ? "1" : "0"},
      h("summary", {dir: "auto"}, node.name),
      h("ul", {class: "tree"}, (node.children || []).map((child) => this.node(child, boxes, depth + 1, path))));
    this.folders.push(details);
    return h("li", {"data-folder": folded(path)}, details);
  }

  /** Show the playlists whose path holds every word typed, with the folders leading to them
   * opened; with nothing typed, the tree as it was (and the ticked playlists in view). */
  filter(tree, text) {
    const words = folded(text).split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const item of tree.querySelectorAll("li[data-name]")) {
      const hit = words.every((word) => item.dataset.name.includes(word));
      item.hidden = !hit;
      if (hit) shown += 1;
    }
    // Folders inside out (a folder is listed after what it holds): it shows when something
    // in it does.
    for (const details of this.folders) {
      const item = details.parentElement;
      if (!words.length) {
        item.hidden = false;
        details.open = details.dataset.open === "1";
        continue;
      }
      const visible = Boolean(details.querySelector(":scope > ul > li:not([hidden])"));
      item.hidden = !visible;
      details.open = visible;
    }
    if (!words.length) this.boxes.filter((box) => box.checked).forEach(openAncestors);
    setText(this.found, words.length ? (shown ? `${f.plural(shown, "playlist")} found` : "No playlist or folder has that name") : "");
    tree.dataset.filter = text;
  }

  toggle(box) {
    this.selected = this.selected.filter((path) => path !== box.value);
    if (box.checked) this.selected.push(box.value);
    this.showQueue();
  }

  showQueue() {
    fill(this.queue, this.selected.length ? this.selected.map((path) => h("li", {dir: "auto"}, path))
      : h("li", {class: "muted"}, this.status.default_playlist ? "None ticked" : "Tick one or more playlists"));
    this.button.disabled = !this.selected.length;
    setText(this.button, this.selected.length > 1 ? `Start matching ${this.selected.length} playlists` : "Start matching");
  }

  async submit() {
    fill(this.error);
    this.button.disabled = true;
    this.onStarting();
    try {
      await post("/api/match", {playlists: this.selected});
      append(this.error, message("ok", "Starting…"));
      await this.onStarted();
    } catch (error) {
      fill(this.error, message("error", error.message));
      this.button.disabled = false;
    }
  }
}

/** Text as the search compares it: lower case, accents dropped ("Café" → "cafe"). */
function folded(text) {
  return String(text || "").normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase().trim();
}

function openAncestors(element) {
  for (let details = element.closest("details"); details; details = details.parentElement.closest("details")) {
    details.open = true;
  }
}
