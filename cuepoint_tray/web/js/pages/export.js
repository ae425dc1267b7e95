// Export: a session's reports, and the Rekordbox XML enriched with what Beatport knows.
// Files come through fetch with the token in a header, never through a bare link.

import {ApiError, api, download} from "../api.js";
import {fill, h, message, names} from "../dom.js";
import * as f from "../format.js";
import {NOTATIONS, loadKeyNotation} from "../keys.js";

const FIELDS = [["key", "Key"], ["bpm", "BPM"], ["genre", "Genre"], ["label", "Label"], ["year", "Year"], ["mix", "Mix"]];

export async function render(main, route) {
  const id = Number(route.args[0]);
  if (!Number.isInteger(id) || id < 1) throw new ApiError("This export address has no valid session number.", 404);
  const [{overview}, {report_formats: formats}, notation] = await Promise.all([api(`/api/sessions/${id}`),
    api("/api/settings/schema"), loadKeyNotation()]);
  const status = h("div", {id: "export-status", "aria-live": "polite"});
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
  const options = new ExportOptions(id);
  const toReview = overview.to_review ?? overview.review;
  fill(main,
    h("div", {class: "page-head"},
      h("div", {class: "titles"}, h("h1", {}, `Export session ${overview.id}`),
        h("p", {class: "sub"}, names(overview.playlists), ` · ${f.when(overview.started_at)} · `,
          `${f.count(overview.matched)} matched, ${f.count(toReview)} to review, ${f.count(overview.decided)} decided by you`)),
      h("div", {class: "actions"}, h("a", {class: "button", href: `#/session/${overview.id}`}, "Back to the session"))),
    status,
    toReview ? message("info", `${f.plural(toReview, "track")} still ${toReview === 1 ? "waits" : "wait"} for your decision: `,
      "until you accept them (or pick another candidate) nothing is written for them. ",
      h("a", {href: `#/session/${overview.id}`, id: "review-them"}, "Review them")) : null,
    h("section", {class: "panel", id: "export-rekordbox"}, h("h2", {}, "Rekordbox XML with Beatport's data"),
      h("p", {}, "A copy of your collection's XML (", h("span", {class: "mono", dir: "auto"}, overview.xml_path),
        ") in which each matched track, and each you accepted or picked, gets Beatport's data in the fields you choose. ",
        "Your original file is not touched."),
      options.element,
      h("p", {class: "muted small"}, `Keys are written in ${NOTATIONS[notation] || notation} notation: `,
        h("a", {href: "#/settings"}, "change it in Settings"), "."),
      h("div", {class: "downloads"},
        h("button", {type: "button", class: "primary", id: "download-xml",
          on: {click: fetchFile(() => `/api/sessions/${id}/rekordbox.xml?${options.query()}`)}}, "⤓ Enriched Rekordbox XML"),
        h("button", {type: "button", id: "download-changes",
          on: {click: fetchFile(() => `/api/sessions/${id}/rekordbox-changes.csv?${options.query()}`)}}, "⤓ Changes (CSV: old → new)"))),
    h("section", {class: "panel", id: "export-reports"}, h("h2", {}, "Report"),
      h("p", {class: "muted"}, "Every track with its match, how sure the app was, your decision and why; the same figures as the session page."),
      h("div", {class: "downloads"}, formats.map(({value: format, label}) => h("button", {type: "button", "data-format": format,
        on: {click: fetchFile(() => `/api/sessions/${id}/report.${format}`)}}, `⤓ ${label}`)))),
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
  await options.preview();
}

/** What the export writes: which fields, into empty fields only or over what is there, and
 * whether Comments get a "CuePoint: Beatport <id>" note. The safe choices are the defaults;
 * a line says how many fields of how many tracks the choice changes. */
class ExportOptions {
  constructor(sessionId) {
    this.sessionId = sessionId;
    this.boxes = FIELDS.map(([name, label]) => h("label", {class: "inline"},
      h("input", {type: "checkbox", name: "field", value: name, id: `field-${name}`, props: {checked: true},
        on: {change: () => this.preview()}}), label));
    const mode = (value, label, checked) => h("label", {class: "inline"},
      h("input", {type: "radio", name: "mode", value, id: `mode-${value}`, props: {checked}, on: {change: () => this.preview()}}), label);
    this.comments = h("input", {type: "checkbox", id: "write-comments", on: {change: () => this.preview()}});
    this.effect = h("p", {class: "small", id: "export-effect", "aria-live": "polite"});
    this.element = h("div", {class: "export-options-box"},
      h("div", {class: "export-options", role: "group", "aria-label": "What to write"},
        h("span", {class: "label"}, "Fields to write"), h("div", {class: "choices", id: "export-fields"}, this.boxes),
        h("span", {class: "label"}, "Where"), h("div", {class: "choices", id: "export-mode"},
          mode("fill", "Fill empty fields only (safe: nothing you entered is replaced)", true),
          mode("overwrite", "Overwrite what is there", false)),
        h("span", {class: "label"}, "Comments"), h("div", {class: "choices"},
          h("label", {class: "inline"}, this.comments, "Add “CuePoint: Beatport <id>” to each track's comments"))),
      this.effect);
  }

  fields() {
    return this.boxes.map((label) => label.querySelector("input")).filter((box) => box.checked).map((box) => box.value);
  }

  mode() {
    return this.element.querySelector("input[name=mode]:checked").value;
  }

  query() {
    return new URLSearchParams({fields: this.fields().join(","), mode: this.mode(),
      comments: this.comments.checked ? "1" : "0"}).toString();
  }

  async preview() {
    const fields = this.fields();
    const buttons = document.querySelectorAll("#download-xml, #download-changes");
    buttons.forEach((button) => { button.disabled = !fields.length; });
    if (!fields.length) {
      fill(this.effect, message("info", "Choose at least one field to write."));
      return;
    }
    const asked = this.query();
    this.asked = asked;
    try {
      const params = new URLSearchParams({only_changing: "1", limit: "1", fields: fields.join(","), mode: this.mode()});
      const data = await api(`/api/sessions/${this.sessionId}/changes?${params}`);
      if (this.asked !== asked) return;
      fill(this.effect, data.tracks_changing
        ? `This writes ${f.plural(data.fields_changing, "field")} in ${f.plural(data.tracks_changing, "track")}.`
        : h("span", {class: "muted"}, "With these choices nothing changes in your tracks."),
      " ", h("a", {href: `#/session/${this.sessionId}`}, "See them track by track"), ".");
    } catch (error) {
      fill(this.effect, message("error", error.message));
    }
  }
}
