// The address: "#/session/12?track=3" → {name, args, params}.

/** The route in the address now (or in `hash`). */
export function parseRoute(hash = location.hash) {
  const [path, query = ""] = hash.replace(/^#\/?/, "").split("?");
  const [name = "", ...args] = path.split("/").filter(Boolean).map(decodeURIComponent);
  return {name: name || "live", args, params: new URLSearchParams(query)};
}

/** Change the route's query without adding a history entry or re-rendering the page. */
export function replaceQuery(params) {
  const [path] = location.hash.split("?");
  const query = params.toString();
  history.replaceState(null, "", `${location.pathname}${location.search}${path}${query ? `?${query}` : ""}`);
}

/** Go to another page of the dashboard. */
export function go(hash) {
  location.hash = hash;
}
