// Numbers, times and states as the DJ reads them.

const DASH = "—";
const integer = new Intl.NumberFormat(undefined, {maximumFractionDigits: 0});
const oneDecimal = new Intl.NumberFormat(undefined, {minimumFractionDigits: 1, maximumFractionDigits: 1});
const twoDecimals = new Intl.NumberFormat(undefined, {minimumFractionDigits: 2, maximumFractionDigits: 2});
const dateTime = new Intl.DateTimeFormat(undefined, {dateStyle: "medium", timeStyle: "short"});
const timeOnly = new Intl.DateTimeFormat(undefined, {timeStyle: "medium"});

const missing = (value) => value === null || value === undefined || Number.isNaN(value);

/** 1234 → "1,234". */
export function count(value) {
  return missing(value) ? DASH : integer.format(value);
}

/** A number with one or two decimals. */
export function decimal(value, digits = 1) {
  if (missing(value)) return DASH;
  return (digits === 2 ? twoDecimals : oneDecimal).format(value);
}

/** 0.8833 → "88.3%". */
export function percent(ratio, digits = 1) {
  if (missing(ratio)) return DASH;
  return `${(ratio * 100).toFixed(digits)}%`;
}

/** A short time in milliseconds: "12 ms", "296 ms", "1.24 s", "2 min 05 s". */
export function ms(value) {
  if (missing(value)) return DASH;
  if (value < 9.95) return `${value.toFixed(1)} ms`;
  if (value < 999.5) return `${Math.round(value)} ms`;
  if (value < 10000) return `${(value / 1000).toFixed(2)} s`;
  return duration(value);
}

/** A longer time in milliseconds: "17.8 s", "4 min 12 s", "1 h 02 min". */
export function duration(value) {
  if (missing(value)) return DASH;
  const seconds = value / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(Math.round(seconds % 60)).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** Seconds left, for an ETA. */
export function eta(seconds) {
  if (missing(seconds)) return DASH;
  if (seconds < 1) return "under 1 s";
  return duration(seconds * 1000);
}

/** Seconds since the epoch → "21 Nov 2026, 21:32". */
export function when(epochSeconds) {
  if (missing(epochSeconds) || !epochSeconds) return DASH;
  return dateTime.format(new Date(epochSeconds * 1000));
}

const shortDate = new Intl.DateTimeFormat(undefined, {day: "numeric", month: "short", hour: "2-digit", minute: "2-digit"});

/** A compact date for tables: "21 Nov, 21:32" (with the year when it is not this one). */
export function shortWhen(epochSeconds) {
  if (missing(epochSeconds) || !epochSeconds) return DASH;
  const date = new Date(epochSeconds * 1000);
  return date.getFullYear() === new Date().getFullYear() ? shortDate.format(date) : dateTime.format(date);
}

export function clock(epochSeconds) {
  return missing(epochSeconds) ? DASH : timeOnly.format(new Date(epochSeconds * 1000));
}

/** A Beatport track length in ms → "6:01"; a Rekordbox one in s with `seconds`. */
export function length(value, {seconds = false} = {}) {
  if (missing(value) || !value) return DASH;
  const total = Math.round(seconds ? value : value / 1000);
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
}

/** "1 track", "2 tracks". */
export function plural(n, one, many = `${one}s`) {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** "Artist - Title", or whichever exists. */
export function trackName(artist, title) {
  if (artist && title) return `${artist} – ${title}`;
  return title || artist || "(no name)";
}

/** A Beatport track's "Artists – Title (Mix)". */
export function beatportName(title, mix, artists) {
  const names = Array.isArray(artists) ? artists.join(", ") : (artists || "");
  const full = mix ? `${title} (${mix})` : (title || "");
  return trackName(names, full);
}

export function playlists(list) {
  return (list || []).join(", ") || DASH;
}

// The DJ's words for the states the history stores, and the tone each is shown in.
export const TRACK_STATUS = {
  matched: ["Matched", "ok"], review: ["To review", "warn"],
  unmatched: ["Unmatched", "neutral"], error: ["Error", "bad"],
};
export const SESSION_STATUS = {
  running: ["Running", "accent"], paused: ["Paused", "warn"], completed: ["Completed", "ok"],
  cancelled: ["Cancelled", "neutral"], interrupted: ["Interrupted", "warn"], failed: ["Failed", "bad"],
};
export const CONFIDENCE = {
  strong: ["Strong", "ok"], medium: ["Medium", "accent"], low: ["Low", "warn"], none: ["None", "neutral"],
};
export const REVIEW_STATE = {
  auto: ["Not reviewed", "neutral"], accepted: ["Accepted", "ok"], rejected: ["Rejected", "bad"],
  changed: ["Changed", "accent"],
};
export const PLAYLIST_STATE = {
  waiting: ["Waiting", "neutral"], running: ["Running", "accent"], done: ["Done", "ok"],
  paused: ["Paused", "warn"], cancelled: ["Cancelled", "neutral"], interrupted: ["Interrupted", "warn"],
  failed: ["Failed", "bad"], completed: ["Done", "ok"],
};

export function label(table, key) {
  return (table[key] || [key || DASH])[0];
}

export function tone(table, key) {
  return (table[key] || [null, ""])[1];
}

// How sure the app is, in a DJ's words (the confidence it stores: strong, medium, low, none).
export const SURENESS = {
  strong: ["Sure match", "ok"], medium: ["Likely match", "accent"], low: ["Doubtful", "warn"],
  none: ["No match", "neutral"],
};

/** The app's reason for a match ("score 1.00, lead 0.06 over 'X (Mix)'", or a doubt with
 * "score 0.95" in it) in the DJ's words: how close the best candidate came, and how far
 * ahead of the next one it is. The figures stay for who wants them (`detail`). */
export function matchWords(reason, confidence = "") {
  const text = String(reason || "");
  const led = /^score ([\d.]+), lead ([\d.]+) over (.*)$/.exec(text);
  if (led) {
    const [score, lead, rival] = [Number(led[1]), Number(led[2]), led[3]];
    const closeness = confidence === "strong" ? "Sure match" : score >= 0.88 ? "Very close match"
      : score >= 0.8 ? "Close match" : score >= 0.6 ? "Partial match" : "Weak match";
    const next = rival === "no other recording" ? "no other recording came close"
      : lead >= 0.1 ? `clear lead over the next candidate, ${rival}`
        : lead >= 0.06 ? `ahead of the next candidate, ${rival}`
          : `almost tied with the next candidate, ${rival}`;
    return {words: `${closeness} — ${next}`, detail: text};
  }
  const proposed = /^(.*): yours to check \(proposed (.*), score ([\d.]+)\)$/.exec(text);
  if (proposed) {
    return {words: `${capital(proposed[1])}: yours to check. Proposed: ${proposed[2]} (${percent(Number(proposed[3]), 0)} alike)`,
      detail: text};
  }
  return {words: capital(text), detail: ""};
}

function capital(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

/** A tempo: "126", "124.5" (Rekordbox's 126.00 reads as 126). */
export function bpm(value) {
  if (missing(value) || !value) return DASH;
  const rounded = Math.round(value * 10) / 10;
  return Number.isInteger(rounded) ? integer.format(rounded) : oneDecimal.format(rounded);
}
