// Building the page from data. Text always goes in as text nodes, never as markup: names
// come from the DJ's files and from Beatport, and must show literally.

/**
 * An element: h("td", {class: "num", dir: "auto"}, "text", otherNode, [more, children]).
 * Attributes are set with setAttribute (values are strings, never parsed as markup);
 * `on: {click: fn}` adds listeners; `props: {checked: true}` sets properties.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "on") {
      for (const [event, handler] of Object.entries(value)) element.addEventListener(event, handler);
    } else if (name === "props") {
      Object.assign(element, value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

/** Append children: nodes as they are, strings and numbers as text, arrays flattened. */
export function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace everything inside `parent` with `children`. */
export function fill(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/** Set an element's text (a no-op when unchanged, so screen readers are not re-told). */
export function setText(element, text) {
  const value = text === null || text === undefined ? "" : String(text);
  if (element.textContent !== value) element.textContent = value;
}

/** A link inside the app: "#/session/12". */
export function link(href, ...children) {
  return h("a", {href}, ...children);
}

/** A message box: kind is "error", "ok" or "info". Errors are announced. */
export function message(kind, ...children) {
  return h("p", {class: `message ${kind}`, role: kind === "error" ? "alert" : "status"}, ...children);
}

/** A metric card. */
export function card(label, value, {note = "", tone = "", id = null} = {}) {
  return h("div", {class: `card ${tone}`, "data-card": id},
    h("span", {class: "label"}, label),
    h("span", {class: "value", "data-value": ""}, value),
    note ? h("span", {class: "note"}, note) : null);
}

/** A table: columns [{label, class, sort}] and rows of <tr> elements. */
export function table(columns, rows, {caption = null, empty = "Nothing to show."} = {}) {
  const head = h("tr", {}, columns.map((column) => h("th", {class: column.class || null, scope: "col"},
    column.node || column.label)));
  const body = h("tbody", {}, rows);
  if (!rows.length) {
    body.appendChild(h("tr", {}, h("td", {class: "empty", colspan: columns.length}, empty)));
  }
  return h("div", {class: "table-wrap"},
    h("table", {}, caption ? h("caption", {class: "muted"}, caption) : null, h("thead", {}, head), body));
}

/** A <tr> that opens something on click and on Enter (focusable, like a link). */
export function clickableRow(onOpen, label, ...cells) {
  const row = h("tr", {class: "clickable", tabindex: "0", "aria-label": label}, ...cells);
  row.addEventListener("click", (event) => {
    if (event.target.closest("a, button, input, select, label")) return;
    onOpen(event);
  });
  row.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target === row) {
      event.preventDefault();
      onOpen(event);
    }
  });
  return row;
}

/** A name cell: text from the DJ's files, each part's direction decided by its own
 * characters (and isolated, so a right-to-left name cannot reorder its neighbours). */
export function nameCell(main, sub = "") {
  const parts = (Array.isArray(sub) ? sub : [sub]).filter(Boolean);
  return h("td", {class: "name"},
    h("span", {dir: "auto", class: "main"}, main || "—"),
    parts.length ? h("span", {class: "sub"}, parts.map((part, i) =>
      [i ? " · " : "", h("span", {dir: "auto"}, part)])) : null);
}

/** Several names (playlists) in a line, each isolated with its own direction. */
export function names(list, separator = ", ") {
  if (!list || !list.length) return ["—"];
  return list.map((name, i) => [i ? separator : "", h("span", {dir: "auto"}, name)]);
}

/** A `<select>` of [value, label] pairs with `current` chosen. */
export function select(options, current, attributes = {}) {
  return h("select", attributes, options.map(([value, label]) =>
    h("option", {value, props: {selected: String(value) === String(current ?? "")}}, label)));
}
