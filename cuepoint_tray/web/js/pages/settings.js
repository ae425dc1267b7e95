// Settings: signing in to Beatport, then the form over /api/settings. Labels, help, limits,
// choices and which settings are advanced all come from the app's one declaration of each
// setting (with its value); the app checks what is sent, and a refused value comes back as
// one sentence naming the setting, shown under its field. Secrets are write-only: the page
// only knows whether one is set; a blank field keeps it, Clear removes it. The Beatport
// password goes to /api/beatport/sign-in and is dropped from the form.

import {api, post} from "../api.js";
import {fill, h, link, message, setText} from "../dom.js";
import {forgetKeyNotation} from "../keys.js";
import {go} from "../route.js";

export async function render(main) {
  const [data, playlists, account] = await Promise.all([api("/api/settings"),
    api("/api/playlists").catch(() => null), api("/api/beatport/account")]);
  const form = new SettingsForm(data, playlists);
  const beatport = new BeatportSignIn(account, (isSet) => {
    form.markSecret("beatport_token", isSet);
    form.markSecret("beatport_refresh_token", isSet);
  });
  fill(main,
    h("div", {class: "page-head"}, h("div", {class: "titles"}, h("h1", {}, "Settings"),
      h("p", {class: "sub"}, "Saved in ", h("span", {class: "mono", dir: "auto"}, data.file),
        ". New values apply to the next session."))),
    form.firstRun, beatport.element, form.element);
}

/** "Sign in to Beatport": username and password while signed out, the account and Sign out
 * once signed in. Errors come back from CuePoint as one plain sentence. */
class BeatportSignIn {
  constructor(account, onTokenChange) {
    this.onTokenChange = onTokenChange;
    this.banner = h("div", {"aria-live": "polite", id: "beatport-banner"});
    this.body = h("div");
    this.element = h("section", {class: "panel", id: "beatport-account", "aria-labelledby": "beatport-title"},
      h("h2", {id: "beatport-title"}, "Sign in to Beatport"), this.banner, this.body);
    this.show(account);
  }

  show(account, note = null) {
    this.account = account;
    fill(this.banner, note);
    if (account.signed_in) this.showSignedIn(account);
    else this.showForm(account);
  }

  showSignedIn(account) {
    const signOut = h("button", {type: "button", class: "danger", id: "beatport-sign-out"}, "Sign out");
    signOut.addEventListener("click", () => this.signOut(signOut));
    fill(this.body,
      h("p", {class: "inline", id: "beatport-signed-in"}, h("span", {class: "badge ok"}, "signed in"),
        h("span", {}, "Beatport account: ", h("strong", {dir: "auto", id: "beatport-account-name"}, account.account))),
      h("p", {class: "help"}, "Sessions search Beatport's API with your account. CuePoint keeps its sign-in as a secret and renews it as sessions run; your password is not kept."),
      this.resumeHint(account),
      h("div", {class: "controls"}, signOut));
  }

  showForm(account) {
    const username = h("input", {type: "text", id: "beatport-username", name: "username", autocomplete: "username",
      spellcheck: "false", required: true, placeholder: "Username or email"});
    const password = h("input", {type: "password", id: "beatport-password", name: "password",
      autocomplete: "current-password", required: true});
    const submit = h("button", {type: "submit", class: "primary", id: "beatport-sign-in"}, "Sign in");
    const form = h("form", {id: "beatport-sign-in-form", novalidate: true, "aria-describedby": "beatport-why"},
      h("p", {class: "help", id: "beatport-why"},
        "Beatport's website no longer lists search results for programs, so CuePoint searches Beatport's API with your own Beatport account. ",
        "Your password goes to Beatport once and is never kept.",
        account.pasted_token ? " You are using a pasted API token now; signing in replaces it." : ""),
      h("div", {class: "form-grid"},
        h("label", {for: "beatport-username"}, "Beatport username"), h("div", {class: "field"}, username),
        h("label", {for: "beatport-password"}, "Password"), h("div", {class: "field"}, password)),
      h("div", {class: "controls"}, submit));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.signIn(form, username, password, submit);
    });
    fill(this.body, form);
  }

  async signIn(form, username, password, submit) {
    if (!username.value.trim() || !password.value) {
      fill(this.banner, message("error", "Enter both your Beatport username (or email) and your password."));
      (username.value.trim() ? password : username).focus();
      return;
    }
    const fields = [username, password, submit];
    fields.forEach((field) => { field.disabled = true; });
    form.setAttribute("aria-busy", "true");
    setText(submit, "Signing in…");
    fill(this.banner, message("info", "Signing in to Beatport…"));
    try {
      const account = await post("/api/beatport/sign-in", {username: username.value.trim(), password: password.value});
      password.value = "";
      this.onTokenChange(true);
      this.show(account, message("ok", `Signed in to Beatport as ${account.account}.`));
    } catch (error) {
      password.value = "";
      fields.forEach((field) => { field.disabled = false; });
      form.removeAttribute("aria-busy");
      setText(submit, "Sign in");
      fill(this.banner, message("error", error.message));
      password.focus();
    }
  }

  async signOut(button) {
    button.disabled = true;
    try {
      const account = await post("/api/beatport/sign-out");
      this.onTokenChange(false);
      this.show(account, message("ok", "Signed out of Beatport."));
    } catch (error) {
      button.disabled = false;
      fill(this.banner, message("error", error.message));
    }
  }

  resumeHint(account) {
    if (!account.paused_session) return null;
    const resume = h("button", {type: "button", id: "beatport-resume"}, `Resume session ${account.paused_session}`);
    resume.addEventListener("click", async () => {
      resume.disabled = true;
      try {
        await post(`/api/sessions/${account.paused_session}/resume`);
        go("#/live");
      } catch (error) {
        resume.disabled = false;
        fill(this.banner, message("error", error.message));
      }
    });
    return h("div", {class: "inline", id: "beatport-paused"},
      h("span", {}, "The last session (", link(`#/session/${account.paused_session}`, `session ${account.paused_session}`), ") is paused."), resume);
  }
}

/** A setting's value as its field shows it. */
function shownValue(setting) {
  if (setting.secret) return "";
  return setting.value === null || setting.value === undefined ? "" : String(setting.value);
}

class SettingsForm {
  constructor(data, playlists) {
    this.fields = {};
    this.banner = h("div", {"aria-live": "polite"});
    this.firstRun = h("div");
    this.xmlCheck = h("div", {class: "help", id: "xml-check"});
    this.playlists = playlists;
    const byName = Object.fromEntries(data.settings.map((s) => [s.name, s]));
    const main = data.settings.filter((s) => !s.advanced).map((s) => this.field(s));
    const advanced = data.settings.filter((s) => s.advanced).map((s) => this.field(s));
    this.save = h("button", {type: "submit", class: "primary", id: "save-settings"}, "Save settings");
    this.element = h("form", {class: "panel", id: "settings-form", novalidate: true},
      this.banner,
      h("div", {class: "form-grid"}, main),
      h("details", {class: "advanced"}, h("summary", {}, "Advanced"), h("div", {class: "form-grid"}, advanced)),
      h("div", {class: "controls"}, this.save));
    this.element.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.showFirstRun(byName.rekordbox_library);
    this.showXmlCheck();
  }

  field(setting) {
    const id = `setting-${setting.name}`;
    const errorText = h("div", {class: "error-text", id: `${id}-error`, role: "alert", hidden: true});
    const input = this.input(setting, id);
    input.setAttribute("aria-describedby", `${id}-help ${id}-error`);
    const extra = [];
    if (setting.name === "default_playlist" && this.playlistNames().length) {
      extra.push(h("datalist", {id: "playlist-names"}, this.playlistNames().map((path) => h("option", {value: path}))));
    }
    if (setting.name === "rekordbox_library") extra.push(this.xmlCheck);
    this.fields[setting.name] = {setting, input, errorText, shown: shownValue(setting)};
    return [
      h("label", {for: id}, setting.label,
        h("span", {class: "muted small mono", style: "display:block; font-weight:400"}, setting.name)),
      h("div", {class: "field"},
        setting.secret ? h("div", {class: "inline"}, input, this.secretControls(setting, input)) : input,
        extra,
        h("div", {class: "help", id: `${id}-help`}, setting.help,
          !setting.secret && setting.default !== "" && setting.default !== null ? ` Default: ${setting.default}.` : ""),
        errorText),
    ];
  }

  input(setting, id) {
    const name = setting.name;
    if (setting.choices.length) {
      return h("select", {id, name}, setting.choices.map(({value, label}) =>
        h("option", {value, props: {selected: value === setting.value}}, label)));
    }
    if (setting.secret) {
      return h("input", {type: "password", id, name, autocomplete: "off", spellcheck: "false",
        placeholder: setting.is_set ? "Set — leave blank to keep it" : "Not set"});
    }
    const numeric = setting.kind === "int" || setting.kind === "float";
    const limits = setting.limits || {};
    const input = h("input", {type: numeric ? "number" : "text", id, name, spellcheck: "false",
      step: setting.kind === "float" ? "any" : numeric ? "1" : null, inputmode: setting.kind === "float" ? "decimal" : null,
      min: numeric ? limits.low : null, max: numeric ? limits.high : null,
      list: name === "default_playlist" && this.playlistNames().length ? "playlist-names" : null,
      placeholder: setting.example || null});
    input.value = setting.value === null || setting.value === undefined ? "" : String(setting.value);
    return input;
  }

  playlistNames() {
    const names = [];
    const walk = (node) => {
      if (!node) return;
      if (node.type === "playlist") names.push(node.path);
      (node.children || []).forEach(walk);
    };
    walk(this.playlists && this.playlists.tree);
    return names;
  }

  secretControls(setting, input) {
    const state = h("span", {class: `badge ${setting.is_set ? "ok" : ""}`, "data-secret-state": setting.name},
      setting.is_set ? "set" : "not set");
    const clear = h("button", {type: "button", class: "danger", id: `clear-${setting.name}`, disabled: !setting.is_set,
      on: {click: async () => {
        try {
          const data = await post("/api/settings", {values: {[setting.name]: null}});
          const now = data.settings.find((s) => s.name === setting.name);
          this.markSecret(setting.name, now.is_set);
          input.value = "";
          fill(this.banner, message("ok", `${setting.label} cleared.`));
        } catch (error) {
          fill(this.banner, message("error", error.message));
        }
      }}}, "Clear");
    this.secretParts = {...(this.secretParts || {}), [setting.name]: {state, clear, input}};
    return [state, clear];
  }

  markSecret(name, isSet) {
    const parts = (this.secretParts || {})[name];
    if (!parts) return;
    parts.state.className = `badge ${isSet ? "ok" : ""}`;
    setText(parts.state, isSet ? "set" : "not set");
    parts.clear.disabled = !isSet;
    parts.input.placeholder = isSet ? "Set — leave blank to keep it" : "Not set";
  }

  showFirstRun(xml) {
    if (xml && xml.value) {
      fill(this.firstRun);
      return;
    }
    fill(this.firstRun, h("section", {class: "panel", id: "first-run"},
      h("h2", {}, "First time here? Give CuePoint your Rekordbox collection"),
      h("p", {}, "With Rekordbox 6 or 7 on this computer, CuePoint reads its library (",
        h("code", {}, "master.db"), ") where Rekordbox keeps it, without changing it: nothing to do. Otherwise, or with an older Rekordbox:"),
      h("ol", {class: "steps"},
        h("li", {}, "In Rekordbox, choose ", h("strong", {}, "File > Export Collection in xml format"), "."),
        h("li", {}, "Save the file somewhere you will find again, for example your Music folder. Export it again whenever your collection or playlists change."),
        h("li", {}, "Paste the file's full path (or the path of a ", h("code", {}, "master.db"), ") into ", h("strong", {}, "Rekordbox library"), " below, for example ",
          h("code", {}, "/Users/you/Music/rekordbox.xml"), " or ", h("code", {}, "C:\\Users\\you\\Music\\rekordbox.xml"), ", and save."),
        h("li", {}, "Optionally name a default playlist (its path, like ", h("code", {}, "Sets/Friday"), ") to match from the tray in one click."))));
  }

  showXmlCheck() {
    const data = this.playlists;
    if (!data || !data.xml && !data.error) {
      fill(this.xmlCheck);
      return;
    }
    if (data.tree) {
      fill(this.xmlCheck, h("span", {style: "color: var(--ok)"}, `✓ Read ${this.playlistNames().length} playlists from ${data.found ? "Rekordbox's library found at " + data.xml : "this file"}.`));
    } else if (data.xml) {
      fill(this.xmlCheck, h("span", {style: "color: var(--bad)", dir: "auto"}, data.error));
    } else {
      fill(this.xmlCheck);
    }
  }

  /** The values the DJ changed since the form was shown (or last saved), and only those:
   * a setting changed elsewhere meanwhile (the playlist chosen from the tray) is kept.
   * Numbers go as numbers; what is not one is sent as typed, for the app to refuse with
   * its sentence. A blank secret keeps the stored one, so it is not sent. */
  values() {
    const values = {};
    for (const [name, {setting, input, shown}] of Object.entries(this.fields)) {
      this.setError(name, "");
      const raw = input.value.trim();
      if (setting.secret ? raw === "" : raw === shown) continue;
      const numeric = setting.kind === "int" || setting.kind === "float";
      values[name] = numeric && raw !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    }
    return values;
  }

  /** After a save: every field the DJ did not change shows the stored value (which may
   * have changed elsewhere meanwhile), and becomes the new starting point. */
  showStored(settings) {
    for (const setting of settings) {
      const field = this.fields[setting.name];
      if (!field || setting.secret) continue;
      field.setting = setting;
      field.shown = shownValue(setting);
      field.input.value = field.shown;
    }
  }

  setError(name, text) {
    const field = this.fields[name];
    field.errorText.hidden = !text;
    setText(field.errorText, text);
    if (text) field.input.setAttribute("aria-invalid", "true");
    else field.input.removeAttribute("aria-invalid");
    return false;
  }

  async submit() {
    fill(this.banner);
    const values = this.values();
    this.save.disabled = true;
    try {
      const data = await post("/api/settings", {values});
      forgetKeyNotation();  // keys show in the notation saved, on every page from now
      this.showStored(data.settings);
      for (const setting of data.settings) {
        if (setting.secret) {
          this.markSecret(setting.name, setting.is_set);
          this.fields[setting.name].input.value = "";
        }
      }
      this.playlists = await api("/api/playlists").catch(() => null);
      this.showFirstRun(data.settings.find((s) => s.name === "rekordbox_library"));
      this.showXmlCheck();
      fill(this.banner, message("ok", "Settings saved."));
    } catch (error) {
      this.showRefusal(error);
    } finally {
      this.save.disabled = false;
    }
  }

  /** A refused value's sentence under its field (the Advanced part opened if it is there),
   * nothing saved; any other error in the banner. */
  showRefusal(error) {
    const field = this.fields[(error.details || {}).setting];
    if (!field) {
      fill(this.banner, message("error", `Not saved: ${error.message}`));
      return;
    }
    this.setError(error.details.setting, error.details.sentence);
    field.input.closest("details")?.setAttribute("open", "");
    fill(this.banner, message("error", "Not saved: see the message below the setting."));
    field.input.focus();
  }
}
