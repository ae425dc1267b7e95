// Musical keys in the notation the DJ chose in Settings (key_notation): musical (Am, F#),
// Camelot (8A, 2B) or Open Key (1m, 7d). Any spelling read from Rekordbox or Beatport
// ("A Minor", "G♯ Major", "8A", "1m", "F#m") is shown in that one notation everywhere.

import {api} from "./api.js";

const PITCH = {C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11};
const MINOR_NAMES = ["Cm", "Dbm", "Dm", "Ebm", "Em", "Fm", "F#m", "Gm", "Abm", "Am", "Bbm", "Bm"];
const MAJOR_NAMES = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"];
export const NOTATIONS = {musical: "Musical (Am, F#)", camelot: "Camelot (8A, 2B)", open_key: "Open Key (1m, 7d)"};

let notation = "musical";
let loaded = null;

/** Read the key notation setting once per page load (again after `forget`). */
export function loadKeyNotation() {
  if (!loaded) {
    loaded = api("/api/settings").then((data) => {
      const setting = data.settings.find((s) => s.name === "key_notation");
      if (setting && NOTATIONS[setting.value]) notation = setting.value;
      return notation;
    }).catch(() => notation);
  }
  return loaded;
}

/** The Settings page saved: read the notation again next time. */
export function forgetKeyNotation() {
  loaded = null;
}

export function keyNotation() {
  return notation;
}

/** {minor: bool, camelot: 1..12} for a key in any spelling, or null. */
export function parseKey(text) {
  const value = String(text || "").trim();
  if (!value) return null;
  let match = /^(\d{1,2})\s*([AB])$/i.exec(value);
  if (match && +match[1] >= 1 && +match[1] <= 12) return {camelot: +match[1], minor: match[2].toUpperCase() === "A"};
  match = /^(\d{1,2})\s*([MD])$/i.exec(value);
  if (match && +match[1] >= 1 && +match[1] <= 12) {
    return {camelot: ((+match[1] + 6) % 12) + 1, minor: match[2].toLowerCase() === "m"};
  }
  match = /^([A-G])\s*([#♯b♭]?)\s*(m|min|minor|maj|major)?$/i.exec(value.replace(/\s+/g, " "));
  if (!match) return null;
  let pitch = PITCH[match[1].toUpperCase()];
  if (match[2] === "#" || match[2] === "♯") pitch += 1;
  if (match[2] === "b" || match[2] === "♭") pitch -= 1;
  pitch = (pitch + 12) % 12;
  const quality = (match[3] || "").toLowerCase();
  const minor = quality === "m" || quality.startsWith("min");
  const steps = (((7 * (pitch - (minor ? 9 : 0))) % 12) + 12) % 12;  // fifths from Am / C
  return {camelot: ((steps + 7) % 12) + 1, minor};
}

/** A key as the DJ wants to read it; text that is no key comes back as it is. */
export function keyText(text, chosen = notation) {
  const key = parseKey(text);
  if (!key) return text || "";
  if (chosen === "camelot") return `${key.camelot}${key.minor ? "A" : "B"}`;
  if (chosen === "open_key") return `${((key.camelot + 4) % 12) + 1}${key.minor ? "m" : "d"}`;
  const fifths = (key.camelot - 8 + 12) % 12;  // from Am (minor) or C (major)
  const pitch = (((key.minor ? 9 : 0) + 7 * fifths) % 12 + 12) % 12;
  return key.minor ? MINOR_NAMES[pitch] : MAJOR_NAMES[pitch];
}

/** A Beatport track's key: its name, else its Camelot code, in the chosen notation. */
export function beatportKey(bp) {
  if (!bp) return "";
  return keyText(bp.key_name || bp.camelot || "");
}
