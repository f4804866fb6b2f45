/*
 * "Call me back" button. Add to any page:
 *   <script src="https://YOUR-IVR/static/widget/callback-button.js" defer
 *           data-lang="nl-NL" data-skill="billing" data-country="NL" data-reference="ACME-123"></script>
 * data-lang (en-US | nl-NL; default: the page's <html lang>), data-skill (fix the team; default: the visitor
 * picks a topic), data-country (preselected country code), data-reference (your customer reference),
 * data-refresh-seconds (how often the position is refreshed; default 15).
 * No framework, no cookies. Lives in a shadow root so the host page's CSS cannot break it.
 * Every text from the server or the visitor is shown with textContent, never as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__callMeBackLoaded) { return; }
  window.__callMeBackLoaded = true;
  var BASE = new URL(script.src, location.href).origin;
  var opts = script.dataset || {};
  var LANG = /^nl/i.test(opts.lang || document.documentElement.lang || "") ? "nl-NL" : "en-US";
  var STORE = "callMeBack:" + BASE;
  // How often the position is refreshed while the panel shows a booked callback (data-refresh-seconds).
  var POLL_MS = Math.max(2, parseInt(opts.refreshSeconds, 10) || 15) * 1000;
  // Shown until the server says which countries it calls (ALLOWED_COUNTRIES in GET /api/callback-form).
  var COUNTRIES = [["US", "+1"], ["CA", "+1"], ["NL", "+31"], ["BE", "+32"], ["DE", "+49"], ["GB", "+44"]];
  var T = {};  // every word shown: GET /api/callback-button/words (the operator's IVR file), before the button appears

  function fmt(s, v) { return s.replace(/\{(\w+)\}/g, function (_, k) { return v[k] == null ? "" : String(v[k]); }); }
  function el(tag, attrs, kids) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else if (attrs[k] !== null && attrs[k] !== false) {
        node.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
      }
    });
    (kids || []).forEach(function (kid) { if (kid) { node.appendChild(kid); } });
    return node;
  }
  function sentence(text) { return text ? text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".") : ""; }
  function dayLabel(isoDate) {
    return new Intl.DateTimeFormat(LANG, {weekday: "short", day: "numeric", month: "short", timeZone: "UTC"})
      .format(new Date(isoDate + "T00:00:00Z"));
  }
  function visitorZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return ""; }
  }
  function api(method, url, body) {
    var init = {method: method, headers: {"Accept": "application/json"}, credentials: "omit"};
    if (body) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(url, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return {status: r.status, data: data}; });
    });
  }
  function remember(v) { try { localStorage.setItem(STORE, JSON.stringify(v)); } catch (e) { /* private mode */ } }
  function recall() { try { return JSON.parse(localStorage.getItem(STORE) || "null"); } catch (e) { return null; } }
  function forget() { try { localStorage.removeItem(STORE); } catch (e) { /* private mode */ } }

  // Everything below shows words, so it is built once they have arrived.
  function build() {
    var host = el("div", {"class": "cmb-host"});
    var root = host.attachShadow ? host.attachShadow({mode: "open"}) : host;
    root.appendChild(el("link", {rel: "stylesheet", href: BASE + "/static/widget/callback-button.css"}));

    var launch = el("button", {type: "button", "class": "cmb-launch", "aria-haspopup": "dialog",
      "aria-expanded": "false", "aria-controls": "cmb-panel", text: T.launch});
    var panel = el("div", {id: "cmb-panel", "class": "cmb-panel", role: "dialog", "aria-labelledby": "cmb-title",
      hidden: true, lang: LANG});
    var closeBtn = el("button", {type: "button", "class": "cmb-close", "aria-label": T.close, text: "×"});
    var alertBox = el("div", {"class": "cmb-alert", role: "alert", hidden: true});
    var formView = el("div", {"class": "cmb-form-view"});
    var resultView = el("div", {"class": "cmb-result", "aria-live": "polite", hidden: true});
    panel.appendChild(el("div", {"class": "cmb-head"}, [el("h2", {id: "cmb-title", text: T.title}), closeBtn]));
    panel.appendChild(alertBox);
    panel.appendChild(formView);
    panel.appendChild(resultView);
    root.appendChild(launch);
    root.appendChild(panel);

    // ---- the form -------------------------------------------------------------------------------------
    function field(id, labelText, control, hint) {
      var err = el("p", {"class": "cmb-error", id: id + "-error", hidden: true});
      control.id = id;
      control.setAttribute("aria-describedby", id + "-error" + (hint ? " " + id + "-hint" : ""));
      return {wrap: el("div", {"class": "cmb-field"}, [el("label", {"for": id, text: labelText}),
        hint ? el("p", {"class": "cmb-hint", id: id + "-hint", text: hint}) : null, control, err]), control: control, err: err};
    }
    var country = el("select", {name: "country", autocomplete: "tel-country-code"});
    var defaultCountry = (opts.country || (LANG === "nl-NL" ? "NL" : "US")).toUpperCase();
    function countryName(code) {  // the browser's own name for the country, in the visitor's language
      try { return new Intl.DisplayNames([LANG], {type: "region"}).of(code) || code; } catch (e) { return code; }
    }
    function fillCountries(list) {
      var chosen = country.value || defaultCountry;
      while (country.firstChild) { country.removeChild(country.firstChild); }
      list.forEach(function (c) {
        country.appendChild(el("option", {value: c[0], "data-dial": c[1], selected: c[0] === chosen,
          text: c[1] + " " + countryName(c[0])}));
      });
    }
    fillCountries(COUNTRIES);
    // The country on a line of its own: its names are long ("+44 Verenigd Koninkrijk") and are read in full.
    var countryField = field("cmb-country", T.country, country);
    var phone = field("cmb-phone", T.phone, el("input", {type: "tel", name: "phone", autocomplete: "tel-national",
      inputmode: "tel", required: true, maxlength: "20"}));
    var name = field("cmb-name", T.name, el("input", {type: "text", name: "name", autocomplete: "name", maxlength: "120"}));
    var topic = field("cmb-topic", T.topic, el("select", {name: "skill"}));
    var reason = field("cmb-reason", T.reason, el("textarea", {name: "reason", rows: "2", maxlength: "500"}));
    var asap = el("input", {type: "radio", name: "when", value: "asap", id: "cmb-when-asap", checked: true});
    var later = el("input", {type: "radio", name: "when", value: "scheduled", id: "cmb-when-later"});
    var slot = field("cmb-slot", T.slot, el("select", {name: "slot"}));
    var tzNote = el("p", {"class": "cmb-hint"});
    slot.wrap.appendChild(tzNote);
    slot.wrap.hidden = true;
    var asapNote = el("p", {"class": "cmb-hint cmb-asap-when"});  // when "as soon as possible" would be
    var when = el("fieldset", {"class": "cmb-when"}, [el("legend", {text: T.when}),
      el("div", {"class": "cmb-radio"}, [asap, el("label", {"for": "cmb-when-asap", text: T.asap})]), asapNote,
      el("div", {"class": "cmb-radio"}, [later, el("label", {"for": "cmb-when-later", text: T.later})])]);
    var honeypot = el("input", {type: "text", name: "website", tabindex: "-1", autocomplete: "off"});
    var trap = el("div", {"class": "cmb-hp", "aria-hidden": "true"}, [el("label", {text: "Website"}, [honeypot])]);
    var submit = el("button", {type: "submit", "class": "cmb-submit", text: T.submit});
    var form = el("form", {novalidate: true}, [el("p", {"class": "cmb-intro", text: T.intro}), countryField.wrap,
      phone.wrap, name.wrap,
      opts.skill ? null : topic.wrap, reason.wrap, when, slot.wrap, trap, submit]);
    formView.appendChild(form);

    var formData = null;  // the last GET /api/callback-form answer
    var fetchedAt = 0;
    var current = null;   // {status_url, waiting_url} of the booked callback
    var pollTimer = null;

    function chosenSkill() { return opts.skill || topic.control.value || ""; }
    function loadForm() {
      var q = new URLSearchParams({language: LANG});
      var zone = visitorZone();
      if (zone) { q.set("timezone", zone); }
      if (chosenSkill()) { q.set("skill", chosenSkill()); }
      return api("GET", BASE + "/api/callback-form?" + q.toString()).then(function (res) {
        if (res.status === 422 && zone) {  // a zone the server does not know: fall back to the team's own
          q.delete("timezone");
          return api("GET", BASE + "/api/callback-form?" + q.toString());
        }
        return res;
      }).then(function (res) {
        if (res.status !== 200) { throw res; }
        formData = res.data;
        fetchedAt = Date.now();
        if (formData.countries && formData.countries.length) {
          fillCountries(formData.countries.map(function (c) { return [c.code, c.dial]; }));
        }
        if (!opts.skill && !topic.control.options.length) {
          formData.skills.forEach(function (s) { topic.control.appendChild(el("option", {value: s.name, text: s.label})); });
          topic.control.appendChild(el("option", {value: "", text: T.other}));
          topic.control.value = "";
        }
        fillSlots();
        return formData;
      });
    }
    function fillSlots() {
      var select = slot.control;
      while (select.firstChild) { select.removeChild(select.firstChild); }
      var groups = {};
      formData.slots.forEach(function (s) {
        if (!groups[s.date]) { groups[s.date] = el("optgroup", {label: dayLabel(s.date)}); select.appendChild(groups[s.date]); }
        groups[s.date].appendChild(el("option", {value: s.value, text: dayLabel(s.date) + " " + s.time}));
      });
      if (!formData.slots.length) { select.appendChild(el("option", {value: "", text: T.no_slots})); }
      tzNote.textContent = fmt(T.tz, {z: formData.timezone});
      // Closed now: that we are and when we open (as the phone says it), then when we would call.
      var would = formData.asap_window ? fmt(formData.asap_now || formData.closed_text ? T.asap_when : T.asap_later,
                                             {w: formData.asap_window}) : "";
      asapNote.textContent = [formData.closed_text, would].filter(Boolean).join(" ");
    }

    function clearErrors() {
      alertBox.hidden = true;
      alertBox.textContent = "";
      [phone, name, topic, reason, slot].forEach(function (f) {
        f.err.hidden = true; f.err.textContent = ""; f.control.removeAttribute("aria-invalid");
      });
    }
    function showError(f, message) {
      f.err.textContent = message;
      f.err.hidden = false;
      f.control.setAttribute("aria-invalid", "true");
    }
    function checkLocally() {
      var typed = phone.control.value.replace(/[\s().\-\/]/g, "");
      if (!typed) { showError(phone, T.required); return phone; }
      if (!/^(\+|00)?\d+$/.test(typed)) { showError(phone, T.bad_chars); return phone; }
      var digits = typed.replace(/^(\+|00)/, "").length;
      // The server says whether a number exists; here only what is plainly too short or too long.
      if (digits < 6) { showError(phone, T.too_short); return phone; }
      if (digits > 15) { showError(phone, T.too_long); return phone; }
      if (later.checked && !slot.control.value) { showError(slot, T.pick_slot); return slot; }
      return null;
    }
    function e164() {
      var digits = phone.control.value.replace(/\D/g, "");
      if (/^\s*(\+|00)/.test(phone.control.value)) { return "+" + digits.replace(/^00/, ""); }
      var code = country.options[country.selectedIndex].getAttribute("data-dial");
      return code + digits.replace(/^0+/, "");  // a national trunk 0 is not dialled after the country code
    }
    var FIELDS = {"/phone": phone, "/name": name, "/skill": topic, "/reason": reason, "/preferred_time": slot,
      "/timezone": slot};

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors();
      var bad = checkLocally();
      if (bad) { bad.control.focus(); return; }
      submit.disabled = true;
      submit.textContent = T.sending;
      var fresh = formData && Date.now() - fetchedAt < (formData.expires_in - 300) * 1000;
      (fresh ? Promise.resolve(formData) : loadForm()).then(function () {
        var body = {phone: e164(), language: LANG, channel: "web", form_token: formData.form_token,
          website: honeypot.value, context: {page_url: location.href.slice(0, 2000)}};
        if (opts.reference) { body.context.customer_reference = opts.reference; }
        if (name.control.value.trim()) { body.name = name.control.value.trim(); }
        if (chosenSkill()) { body.skill = chosenSkill(); }
        if (reason.control.value.trim()) { body.reason = reason.control.value.trim(); }
        // The visitor's zone always: an ASAP window is told in it too, like a chosen slot.
        if (formData.timezone) { body.timezone = formData.timezone; }
        if (later.checked) { body.when = "scheduled"; body.preferred_time = slot.control.value; }
        return api("POST", BASE + "/api/callbacks", body);
      }).then(function (res) {
        if (res.status === 201 || res.status === 200) {
          if (res.data.status_url) {
            // Reach the status link through the origin this script came from (PUBLIC_BASE_URL may differ locally).
            var link = new URL(res.data.status_url), page = new URL(res.data.waiting_url);
            current = {status_url: BASE + link.pathname + link.search, waiting_url: BASE + page.pathname + page.search};
            remember(current);
          }
          showResult(res.data, name.control.value.trim());
          return;
        }
        var f = FIELDS[res.data.field];
        var message = T["code_" + res.data.code] || sentence(res.data.detail) || T.failed;
        if (res.status === 429) { alertBox.textContent = T.too_many; alertBox.hidden = false; }
        else if (f) { showError(f, message); f.control.focus(); }
        else { alertBox.textContent = message; alertBox.hidden = false; }
        if (res.data.code === "form_token_expired") { formData = null; }
      }).catch(function () {
        alertBox.textContent = T.failed; alertBox.hidden = false;
      }).then(function () { submit.disabled = false; submit.textContent = T.submit; });
    });

    later.addEventListener("change", function () { slot.wrap.hidden = !later.checked; });
    asap.addEventListener("change", function () { slot.wrap.hidden = !later.checked; });
    topic.control.addEventListener("change", function () { if (formData) { loadForm().catch(function () {}); } });

    // ---- the booked callback ---------------------------------------------------------------------------
    function describe(data) {
      if (data.state === "cancelled") { return [T.cancelled]; }
      if (["connected", "completed", "failed"].indexOf(data.state) >= 0) { return [T.done]; }
      // Only the agent's phone rings during dialing_agent: the customer is not being called yet.
      if (data.state === "dialing_agent") { return [T.connecting]; }
      if (data.state === "dialing_customer") { return [T.calling]; }
      // The window the customer was told, in the words and zone the phone, chat and SMS use (from the server).
      if (data.window && data.window.text) {
        var told = fmt(T.window, {w: data.window.text});
        return data.position != null ? [fmt(T.position, {n: data.position}), told] : [told];
      }
      if (data.position != null) { return [fmt(T.position, {n: data.position})]; }
      return [T.existing];
    }
    // The launcher says a callback is booked, and when, for as long as it is (also after a reload).
    function launcherText(data) {
      if (!data || ["queued", "scheduled", "retry_wait", "dialing_agent", "dialing_customer"].indexOf(data.state) < 0) {
        return T.launch;
      }
      if (data.state === "dialing_agent") { return T.launch_connecting; }
      if (data.state === "dialing_customer") { return T.launch_calling; }
      if (data.window && data.window.from_local) {  // with its date and zone: it may well not be today
        var zone = data.window.timezone.split("/").pop().replace(/_/g, " ");
        var from = data.window.from_local.split("T");
        return fmt(T.launch_window, {d: dayLabel(from[0]), f: from[1], b: data.window.by_local.split("T")[1], z: zone});
      }
      return T.launch;
    }
    function showLauncher(data) {
      launch.textContent = launcherText(data);
      launch.classList.toggle("cmb-booked", launch.textContent !== T.launch);
    }
    function showResult(data, who) {
      showLauncher(current || data.created ? data : null);
      formView.hidden = true;
      resultView.hidden = false;
      while (resultView.firstChild) { resultView.removeChild(resultView.firstChild); }
      if (who) { resultView.appendChild(el("p", {"class": "cmb-thanks", text: fmt(T.thanks, {name: who})})); }
      var open = ["queued", "scheduled", "retry_wait", "dialing_agent", "dialing_customer"].indexOf(data.state) >= 0;
      // "Already booked" only for an open callback found again, never next to "cancelled" or "ended".
      if (open && !data.created && !current) { resultView.appendChild(el("p", {"class": "cmb-status", text: T.existing})); }
      describe(data).forEach(function (line, i) {
        if (!data.created && !current && line === T.existing) { return; }
        resultView.appendChild(el("p", {"class": i === 0 ? "cmb-status" : "cmb-wait", text: line}));
      });
      if (open && current) {
        if (current.waiting_url) {  // the waiting page: place, window, move or cancel, from any device
          resultView.appendChild(el("p", {"class": "cmb-follow"}, [el("a", {href: current.waiting_url, target: "_blank",
            rel: "noopener", text: T.follow})]));
        }
        var cancel = el("button", {type: "button", "class": "cmb-cancel", text: T.cancel});
        cancel.addEventListener("click", function () {
          cancel.disabled = true;
          api("DELETE", current.status_url).then(function (res) {
            if (res.status === 200 || res.status === 404) {
              forget(); current = null; stopPolling();
              showResult(res.status === 200 ? res.data : {state: "cancelled"}, "");
            } else {
              cancel.disabled = false; alertBox.textContent = refusal(res); alertBox.hidden = false;
              if (res.data && res.data.code === "transition_refused") { refresh(); }  // show what is happening now
            }
          });
        });
        resultView.appendChild(cancel);
        startPolling();
      } else {
        stopPolling();
        if (!open) {
          forget(); current = null;
          // Cancelled or ended: the form is offered again, no reload needed.
          var again = el("button", {type: "button", "class": "cmb-again", text: T.again});
          again.addEventListener("click", function () {
            resultView.hidden = true; formView.hidden = false; showLauncher(null);
            // Read afresh: whether we are open, and the window, may have changed since the form was loaded.
            loadForm().then(function () { phone.control.focus(); }).catch(function () {});
          });
          resultView.appendChild(again);
        }
      }
    }
    // A refusal in the operator's words: too many requests, the code's own words, or the generic ones.
    function refusal(res) {
      if (res && res.status === 429) { return T.too_many; }
      return (res && res.data && T["code_" + res.data.code]) || T.failed;
    }
    function refresh() {
      if (!current) { return Promise.resolve(); }
      return api("GET", current.status_url).then(function (res) {
        if (res.status === 200) { showResult(res.data, ""); }
        else if (res.status === 404) { forget(); current = null; stopPolling(); }
      }).catch(function () { /* offline for a moment: try again at the next tick */ });
    }
    function startPolling() { if (!pollTimer) { pollTimer = setInterval(refresh, POLL_MS); } }
    function stopPolling() { if (pollTimer) { clearInterval(pollTimer); pollTimer = null; } }

    // ---- open and close --------------------------------------------------------------------------------
    function openPanel() {
      panel.hidden = false;
      launch.setAttribute("aria-expanded", "true");
      if (current) { refresh(); closeBtn.focus(); return; }
      (formData ? Promise.resolve() : loadForm()).then(function () { phone.control.focus(); })
        .catch(function (res) {
          alertBox.textContent = refusal(res); alertBox.hidden = false;
        });
    }
    function closePanel() {
      panel.hidden = true;
      launch.setAttribute("aria-expanded", "false");
      launch.focus();
    }
    launch.addEventListener("click", function () { if (panel.hidden) { openPanel(); } else { closePanel(); } });
    closeBtn.addEventListener("click", closePanel);
    panel.addEventListener("keydown", function (event) { if (event.key === "Escape") { closePanel(); } });

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && current) { refresh(); }
    });

    document.body.appendChild(host);
    current = recall();
    if (current && current.status_url && current.status_url.indexOf(BASE + "/") === 0) {
      refresh();
    } else { current = null; forget(); }
  }
  api("GET", BASE + "/api/callback-button/words?language=" + encodeURIComponent(LANG)).then(function (res) {
    if (res.status !== 200 || !res.data.words) { return; }  // no words, no button: it could not book either
    T = res.data.words;
    if (document.body) { build(); } else { document.addEventListener("DOMContentLoaded", build); }
  }).catch(function () { /* the server cannot be reached: no button */ });
})();
