// Plotly charts in the page's colours, with every label from data escaped.
//
// plotly.js turns some HTML-like tags in text (<b>, <br>, <a href>...) into SVG and decodes
// entities; names from the DJ's files must show literally, so each one goes through
// `plotText`. plotly.js itself is loaded on first use, while the page fetches its data; a
// chart that is not the page's point (Live's) is drawn once the page is shown (`whenIdle`).

const AFTER_PAINT_MS = 500;  // a chart drawn late waits this long after the page's paint
let loading = null;
const drawn = new Set();

/** Load /plotly.min.js once; resolves to window.Plotly. */
export function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "/plotly.min.js";
      script.async = true;
      script.addEventListener("load", () => resolve(window.Plotly));
      script.addEventListener("error", () => {
        loading = null;
        reject(new Error("The charts library could not be loaded."));
      });
      document.head.appendChild(script);
    });
  }
  return loading;
}

/** Call `draw` (async) once the page has painted what it shows and a moment has passed, so
 * that loading plotly.js (3.5 MB) and drawing stay off the path to showing the page (its
 * parsing holds the page's thread for a second on a slow machine). <element data-chart>
 * says "waiting", then "drawn" once `draw` resolves. Returns a function that calls it off
 * (the page calls it when it goes). */
export function whenIdle(element, draw) {
  element.dataset.chart = "waiting";
  let cancelled = false;
  let timer = null;
  const run = () => {
    if (cancelled || !element.isConnected) return;
    draw().then(() => { element.dataset.chart = "drawn"; }, (error) => {
      element.dataset.chart = "failed";
      console.warn(error);
    });
  };
  // Two frames: the page's content is painted; then the moment, for the rest of the page.
  requestAnimationFrame(() => requestAnimationFrame(() => {
    if (!cancelled) timer = setTimeout(run, AFTER_PAINT_MS);
  }));
  return () => { cancelled = true; clearTimeout(timer); };
}

/** Text for plotly with its markup characters as entities, so it shows as written. */
export function plotText(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function colour(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** The colours of the current theme, read from the stylesheet. */
export function palette() {
  return {
    fg: colour("--fg"), muted: colour("--muted"), border: colour("--border"),
    surface: colour("--surface"), accent: colour("--accent"), ok: colour("--ok"),
    warn: colour("--warn"), bad: colour("--bad"), neutral: colour("--neutral"),
  };
}

function themedLayout(layout) {
  const p = palette();
  const axis = (extra = {}) => ({
    gridcolor: p.border, linecolor: p.border, zerolinecolor: p.border,
    tickfont: {color: p.muted, size: 11}, automargin: true, ...extra,
    title: extra.title ? {text: extra.title, font: {color: p.muted, size: 12}} : undefined,
  });
  return {
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    font: {family: getComputedStyle(document.body).fontFamily, color: p.fg, size: 12},
    margin: {l: 48, r: 12, t: 10, b: 36},
    hoverlabel: {bgcolor: p.surface, bordercolor: p.border, font: {color: p.fg}},
    legend: {orientation: "h", x: 0, y: 1.12, font: {color: p.muted}},
    showlegend: false,
    ...layout,
    xaxis: axis(layout.xaxis), yaxis: axis(layout.yaxis),
  };
}

const CONFIG = {displayModeBar: false, responsive: true, displaylogo: false};

/** Draw (or redraw) a chart; `build(palette)` returns {data, layout}, called again when the
 * theme changes. Resolves once plotly has drawn it. */
export async function chart(element, build) {
  const Plotly = await loadPlotly();
  if (!element.isConnected) return null;
  element.chartBuild = build;
  const {data, layout} = build(palette());
  await Plotly.react(element, data, themedLayout(layout), CONFIG);
  drawn.add(element);
  return element;
}

/** Add points to a drawn chart's traces: {x: [[...], ...], y: [[...], ...]} per trace index. */
export function extend(element, update, traces) {
  if (!window.Plotly || !drawn.has(element)) return;
  window.Plotly.extendTraces(element, update, traces);
}

/** Forget charts no longer on the page (the page calls it when it goes). */
export function release(container) {
  for (const element of [...drawn]) {
    if (!element.isConnected || container.contains(element)) {
      if (window.Plotly) window.Plotly.purge(element);
      drawn.delete(element);
    }
  }
}

const darkScheme = window.matchMedia("(prefers-color-scheme: dark)");

/** Redraw every chart in the colours of the scheme now in force; <html data-charts-theme>
 * says which one they show (tests wait for it before taking screenshots). */
async function redrawAll() {
  const redrawn = [];
  for (const element of [...drawn]) {
    if (!element.isConnected) {
      drawn.delete(element);
      continue;
    }
    const {data, layout} = element.chartBuild(palette());
    // keep points added since by extendTraces
    const current = element.data || [];
    data.forEach((trace, index) => {
      if (current[index]) Object.assign(trace, {x: current[index].x, y: current[index].y,
        text: current[index].text, customdata: current[index].customdata});
    });
    redrawn.push(window.Plotly.react(element, data, themedLayout(layout), CONFIG));
  }
  await Promise.all(redrawn);
  markTheme();
}

function markTheme() {
  document.documentElement.dataset.chartsTheme = darkScheme.matches ? "dark" : "light";
}

markTheme();
darkScheme.addEventListener("change", () => {
  if (window.Plotly) redrawAll();
  else markTheme();
});
