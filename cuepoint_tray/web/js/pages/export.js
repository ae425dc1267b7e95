// Export: a session's reports, and the Rekordbox XML enriched with what Beatport knows.
// Files come through fetch with the token in a header, never through a bare link.

import {ApiError, api, download} from "../api.js";
import {fill, h, message, names} from "../dom.js";
import * as f from "../format.js";

export async function render(main, route) {
  const id = Number(route.args[0]);
  if (!Number.isInteger(id) || id < 1) throw new ApiError("This export address has no valid session number.", 404);
  const [{overview}, {report_formats: formats}] = await Promise.all([api(`/api/sessions/${id}`), api("/api/settings/schema")]);
  const status = h("div", {id: "export-status", "aria-live": "polite"});
  const bpm = h("input", {type: "checkbox", id: "write-bpm"});
  const fetchFile = (path) => async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    fill(status, message("info", "Preparing the file…"));
    try {
      const file = await download(path());
      if (file.cancelled) fill(status, message("info", "Not saved: you cancelled."));
      else if (file.saved) fill(status, message("ok", "Saved to ", h("span", {class: "mono", dir: "auto", id: "saved-path"}, file.saved), "."));
      else fill(status, message("ok", "Saved ", h("span", {class: "mono", dir: "auto"}, file.name), " to your downloads."));
    } catch (error) {
      fill(status, message("error", error.message));
    } finally {
      button.disabled = false;
    }
  };
  const bpmQuery = () => (bpm.checked ? "?bpm=1" : "");
  const reviewed = Object.entries(overview.by_review_state || {}).filter(([state]) => state !== "auto")
    .reduce((sum, [, n]) => sum + n, 0);
  fill(main,
    h("div", {class: "page-head"},
      h("div", {class: "titles"}, h("h1", {}, `Export session ${overview.id}`),
        h("p", {class: "sub"}, names(overview.playlists), ` · ${f.when(overview.started_at)} · `,
          `${f.count(overview.matched)} matched, ${f.count(overview.review)} to review, ${f.count(reviewed)} reviewed by you`)),
      h("div", {class: "actions"}, h("a", {class: "button", href: `#/session/${overview.id}`}, "Back to the session"))),
    status,
    overview.review > reviewed ? message("info", `${f.plural(overview.review - reviewed, "track")} still ${overview.review - reviewed === 1 ? "waits" : "wait"} for your review: `,
      "until you accept or change them they are exported without Beatport data. ",
      h("a", {href: `#/session/${overview.id}?status=review&review_state=auto`}, "Review them")) : null,
    h("section", {class: "panel", id: "export-reports"}, h("h2", {}, "Report"),
      h("p", {class: "muted"}, "Every track with its match, confidence, your review and why; the same figures as the session page."),
      h("div", {class: "downloads"}, formats.map(({value: format, label}) => h("button", {type: "button", "data-format": format,
        on: {click: fetchFile(() => `/api/sessions/${id}/report.${format}`)}}, `⤓ ${label}`)))),
    h("section", {class: "panel", id: "export-rekordbox"}, h("h2", {}, "Rekordbox XML with Beatport's data"),
      h("p", {}, "A copy of your collection's XML (", h("span", {class: "mono", dir: "auto"}, overview.xml_path),
        ") in which each matched track, and each you accepted or changed, gets Beatport's key, label, genre, year, mix and remixer, ",
        "with a “CuePoint: Beatport <id>” note in its comments. Your original file is not touched."),
      h("p", {}, h("label", {class: "inline"}, bpm, "Also write Beatport's BPM (leave it off if your beat grids are set by hand)")),
      h("div", {class: "downloads"},
        h("button", {type: "button", class: "primary", id: "download-xml",
          on: {click: fetchFile(() => `/api/sessions/${id}/rekordbox.xml${bpmQuery()}`)}}, "⤓ Enriched Rekordbox XML"),
        h("button", {type: "button", id: "download-changes",
          on: {click: fetchFile(() => `/api/sessions/${id}/rekordbox-changes.csv${bpmQuery()}`)}}, "⤓ Changes (CSV: old → new)"))),
    h("section", {class: "panel", id: "reimport"}, h("h2", {}, "Bringing the changes into Rekordbox"),
      h("ol", {class: "steps"},
        h("li", {}, "Back up first: ", h("strong", {}, "File > Library > Backup Library"), "."),
        h("li", {}, "Open ", h("strong", {}, "Preferences > Advanced > Database"), " and, under ", h("strong", {}, "rekordbox xml"),
          ", set ", h("strong", {}, "Imported Library"), " to the downloaded XML file."),
        h("li", {}, "In ", h("strong", {}, "Preferences > View > Layout"), ", tick ", h("strong", {}, "rekordbox xml"),
          " so it shows in the tree on the left."),
        h("li", {}, "Open ", h("strong", {}, "rekordbox xml > All Tracks"), " (or a playlist there), select the tracks, right-click and choose ",
          h("strong", {}, "Import To Collection"), ": the tracks already in your collection take the new tags."),
        h("li", {}, "The changes CSV lists every value replaced (old → new), so anything can be set back by hand."))));
}
