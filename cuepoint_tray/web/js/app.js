// The dashboard's single page: the token, the hash routes, and the page shown now.
//
// Routes: #/live, #/history, #/session/<id>, #/compare?ids=a,b, #/settings, #/export/<id>.
// Each page module exports `render(main, route)`; it resolves when the page's data is on
// screen and its charts are drawn (Live's just after the page is shown: its data-chart says when),
// and may return a function that stops it (polling). The
// body's data-ready is "1" from then until the next navigation: tests and the benchmark
// wait for it. Performance marks "cuepoint-route" and "cuepoint-ready" time each page.

import {ApiError, takeToken} from "./api.js";
import {release} from "./charts.js";
import {fill, h, message} from "./dom.js";
import * as compare from "./pages/compare.js";
import * as exportPage from "./pages/export.js";
import * as historyPage from "./pages/history.js";
import * as live from "./pages/live.js";
import * as session from "./pages/session.js";
import * as settings from "./pages/settings.js";
import {parseRoute} from "./route.js";

const PAGES = {live, history: historyPage, session, compare, settings, export: exportPage};
const TITLES = {live: "Live", history: "History", session: "Session", compare: "Compare",
  settings: "Settings", export: "Export"};
const NAV_OF = {live: "live", history: "history", session: "history", compare: "history",
  export: "history", settings: "settings"};

const main = document.getElementById("main");
let stopPage = null;
let generation = 0;

async function show() {
  const mine = ++generation;
  if (stopPage) {
    try { stopPage(); } catch { /* a page failing to stop must not block the next one */ }
    stopPage = null;
  }
  release(main);
  const route = parseRoute();
  const page = PAGES[route.name];
  performance.mark("cuepoint-route", {detail: route.name});
  document.body.dataset.ready = "0";
  document.body.dataset.page = route.name;
  markNav(route.name);
  if (!page) {
    fill(main, h("div", {class: "notice"}, h("h1", {}, "Page not found"),
      h("p", {}, "There is no page at this address. ", h("a", {href: "#/live"}, "Go to Live"), ".")));
    document.title = "CuePoint dashboard";
    ready(route.name);
    return;
  }
  document.title = `${TITLES[route.name]} · CuePoint`;
  fill(main, h("p", {class: "muted", "aria-busy": "true"}, "Loading…"));
  try {
    const stop = await page.render(main, route);
    if (mine !== generation) {
      if (typeof stop === "function") stop();
      return;
    }
    stopPage = typeof stop === "function" ? stop : null;
  } catch (error) {
    if (mine !== generation) return;
    fill(main, failure(error));
  }
  ready(route.name);
}

function ready(name) {
  document.body.dataset.ready = "1";
  performance.mark("cuepoint-ready", {detail: name});
}

/** What to show when a page cannot load. */
function failure(error) {
  if (error instanceof ApiError && error.status === 401) return noToken();
  const text = error instanceof ApiError ? error.message : `Something went wrong: ${error.message}`;
  if (!(error instanceof ApiError)) console.warn(error);
  return h("div", {class: "stack"}, message("error", text),
    h("p", {}, h("button", {type: "button", on: {click: () => show()}}, "Try again")));
}

function markNav(name) {
  for (const anchor of document.querySelectorAll("[data-nav]")) {
    if (anchor.dataset.nav === NAV_OF[name]) anchor.setAttribute("aria-current", "page");
    else anchor.removeAttribute("aria-current");
  }
}

function noToken() {
  return h("div", {class: "notice", role: "alert"},
    h("h1", {}, "Open the dashboard from CuePoint"),
    h("p", {}, "This page needs the access token CuePoint gives each time it starts, and it has none ",
      "(or an old one). Open the dashboard from the tray menu (", h("strong", {}, "Open dashboard"),
      "), or use the address that ", h("code", {}, "cuepoint dashboard"), " prints: it ends with ",
      h("code", {}, "#/live?token=…"), "."),
    h("p", {class: "muted"}, "The token keeps other web pages from reading your history; it stays in this tab only."));
}

function boot() {
  if (!takeToken()) {
    fill(main, noToken());
    document.body.dataset.ready = "1";
    document.body.dataset.page = "no-token";
    return;
  }
  document.getElementById("mainnav").hidden = false;
  window.addEventListener("hashchange", () => {
    if (location.hash.includes("token=")) takeToken();
    show();
  });
  if (!location.hash.startsWith("#/")) history.replaceState(null, "", "#/live");
  show();
}

boot();
