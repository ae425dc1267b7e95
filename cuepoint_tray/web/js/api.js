// Talking to the dashboard's JSON API: every call carries the per-launch token.

const TOKEN_KEY = "cuepoint.token";

export class ApiError extends Error {
  /** `details`: what else the answer said, e.g. a refused setting's name and sentence. */
  constructor(message, status, details = {}) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

/** The token from the address (moved to sessionStorage and out of the address bar), or the
 * one kept from earlier in this tab; "" when there is none. */
export function takeToken() {
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  const given = params.get("token");
  if (given) {
    sessionStorage.setItem(TOKEN_KEY, given);
    params.delete("token");
    const rest = params.toString();
    const hash = `#${path || "/live"}${rest ? `?${rest}` : ""}`;
    history.replaceState(null, "", `${location.pathname}${location.search}${hash}`);
  }
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

async function send(path, {method = "GET", body = undefined, signal = undefined} = {}) {
  const headers = {Authorization: `Bearer ${token()}`};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {method, headers, signal, cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body)});
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError("CuePoint is not answering: is the app (or `cuepoint dashboard`) still running?", 0);
  }
  if (!response.ok) throw await refusal(response);
  return response;
}

async function refusal(response) {
  try {
    const data = await response.json();
    if (data && data.error) return new ApiError(data.error, response.status, data);
  } catch {
    // not JSON: fall through to the status line
  }
  return new ApiError(`The dashboard answered ${response.status} ${response.statusText}.`, response.status);
}

/** GET (or POST with `body`) a JSON endpoint; throws ApiError with the DJ-readable message. */
export async function api(path, options = {}) {
  const response = await send(path, options);
  return response.json();
}

export function post(path, body = {}) {
  return api(path, {method: "POST", body});
}

/** Save a file the dashboard serves. In CuePoint's own window, the window asks where (a Save
 * dialog) and writes it: returns {name, saved: full path} or {cancelled: true}. In a browser,
 * fetch it (the token rides in a header, never in a link) and let the browser save it under
 * the name the server gives: returns {name}. */
export async function download(path) {
  const window_ = globalThis.pywebview;
  if (window_ && window_.api && typeof window_.api.save_download === "function") {
    const answer = await window_.api.save_download(path, token());
    if (answer && answer.error) throw new ApiError(answer.error, 0);
    if (!answer || !answer.saved) return {cancelled: true};
    return {name: answer.saved.split(/[\\/]/).pop(), saved: answer.saved};
  }
  const response = await send(path);
  const blob = await response.blob();
  const name = filenameOf(response.headers.get("Content-Disposition")) || path.split("/").pop();
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement("a");
  anchor.href = url;
  anchor.download = name;
  anchor.hidden = true;
  document.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
  return {name};
}

function filenameOf(disposition) {
  if (!disposition) return "";
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  if (encoded) return decodeURIComponent(encoded[1]);
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  return plain ? plain[1] : "";
}
