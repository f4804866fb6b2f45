// The queue page's small script: live refresh over server-sent events, ticking waits, and actions
// sent with fetch so the page never reloads. Without JavaScript every form still works (303 back).
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var toasts = document.getElementById("toasts");
  var board = document.getElementById("board");
  var liveStatus = document.getElementById("live-status");
  var serverOffset = 0; // server clock minus browser clock, ms

  function toast(message, kind) {
    var div = document.createElement("div");
    div.className = "toast " + (kind || "info");
    div.textContent = message;
    toasts.appendChild(div);
    // at most three at a time: the newest matter
    while (toasts.children.length > 3) toasts.removeChild(toasts.firstChild);
    setTimeout(function () { div.remove(); }, kind === "error" ? 12000 : 4000);
  }
  // flashed messages rendered by the server fade like the others
  Array.prototype.forEach.call(document.querySelectorAll("#toasts .toast"), function (t) {
    setTimeout(function () { t.remove(); }, 8000);
  });

  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return seconds + "s";
    if (seconds < 3600) return Math.floor(seconds / 60) + "m" + (seconds % 60 ? " " + String(seconds % 60).padStart(2, "0") + "s" : "");
    return Math.floor(seconds / 3600) + "h " + String(Math.floor(seconds % 3600 / 60)).padStart(2, "0") + "m";
  }

  function syncClock() {
    var body = document.getElementById("board-body");
    if (body && body.dataset.serverNow) serverOffset = Number(body.dataset.serverNow) - Date.now();
  }

  // A countdown past an hour shows whole minutes rounded up: "due in 2h 26m" until 2h 25m is left.
  function countdown(seconds) {
    return duration(seconds >= 3600 ? Math.ceil(seconds / 60) * 60 : Math.ceil(seconds));
  }

  var dueSeen = {};  // countdowns that reached zero: each asks for one refresh, so the row joins the line

  // Waits count up from the moment they started (arrival, or the agreed time of a scheduled callback:
  // before that moment data-before says so); times still to come count down to it (data-until).
  function tick() {
    var now = Date.now() + serverOffset, due = false;
    Array.prototype.forEach.call(document.querySelectorAll(".tick[data-since]"), function (el) {
      var seconds = (now - Number(el.dataset.since)) / 1000;
      el.textContent = seconds < 0 && el.dataset.before ? el.dataset.before : duration(seconds);
    });
    Array.prototype.forEach.call(document.querySelectorAll(".tick[data-until]"), function (el) {
      var seconds = (Number(el.dataset.until) - now) / 1000;
      if (seconds > 0) { el.textContent = countdown(seconds); return; }
      el.textContent = el.dataset.after || duration(0);
      var row = el.closest("[data-entry]"), key = (row ? row.dataset.entry : "") + "@" + el.dataset.until;
      if (!dueSeen[key]) { dueSeen[key] = true; due = true; }
    });
    if (due) refresh();
  }

  // ---- live refresh --------------------------------------------------------------------------
  var pending = false, loading = false;

  function busy() {
    // Someone typing in a form on the board: do not pull the form from under their fingers.
    var active = document.activeElement;
    return active && board && board.contains(active) &&
      (active.tagName === "INPUT" || active.tagName === "SELECT" || active.tagName === "TEXTAREA") &&
      active.type !== "hidden" && active.type !== "submit";
  }

  var lastRefresh = 0, timer = null, MIN_GAP = 700; // ms: a busy floor changes many times a second; one swap is enough

  function refresh() {
    if (!board) return;
    if (busy() || loading) { pending = true; return; }
    var wait = lastRefresh + MIN_GAP - Date.now();
    if (wait > 0) {
      if (!timer) timer = setTimeout(function () { timer = null; refresh(); }, wait);
      return;
    }
    loading = true; pending = false; lastRefresh = Date.now();
    fetch(board.dataset.fragment, {headers: {"X-Requested-With": "fetch"}, credentials: "same-origin"})
      .then(function (r) {
        if (r.status === 401) { location.reload(); throw new Error("signed out"); }
        return r.text();
      })
      .then(function (html) {
        if (busy()) { pending = true; return; }  // they started typing while we fetched
        // what is open and focused right now (not when the fetch started) survives the swap
        var open = Array.prototype.map.call(board.querySelectorAll("details[open][data-keep]"),
          function (d) { return d.dataset.keep; });
        var focusedKey = document.activeElement && document.activeElement.closest &&
          document.activeElement.closest("[data-entry]") ? document.activeElement.closest("[data-entry]").dataset.entry : null;
        var focusedAction = document.activeElement && document.activeElement.closest &&
          document.activeElement.closest("form[data-action]") ? document.activeElement.closest("form[data-action]").dataset.action : null;
        var focusedSummary = document.activeElement && document.activeElement.tagName === "SUMMARY" &&
          document.activeElement.parentElement.dataset.keep;
        board.innerHTML = html;
        if (focusedSummary) {
          var sum = board.querySelector('details[data-keep="' + focusedSummary + '"] > summary');
          if (sum) sum.focus({preventScroll: true});
        }
        open.forEach(function (key) {
          var d = board.querySelector('details[data-keep="' + key + '"]');
          if (d) d.open = true;
        });
        // a panel opened just before this swap replaced it is still brought on screen
        if (justOpened && Date.now() - justOpened.at < 2000) {
          var fresh = board.querySelector('details[open][data-keep="' + justOpened.key + '"] .panel');
          if (fresh) fresh.scrollIntoView({block: "nearest"});
        }
        if (focusedKey && focusedAction) {
          var f = board.querySelector('[data-entry="' + focusedKey + '"] form[data-action="' + focusedAction + '"] button');
          if (f) f.focus({preventScroll: true});
        }
        syncClock(); tick();
        board.dispatchEvent(new CustomEvent("board:updated"));
      })
      .catch(function () {})
      .then(function () { loading = false; if (pending) setTimeout(refresh, 50); });
  }

  function connect() {
    if (!board || !window.EventSource) return;
    var body = document.getElementById("board-body");
    var url = board.dataset.stream + "?since=" + encodeURIComponent(body ? body.dataset.marker : "");
    var source = new EventSource(url);
    source.addEventListener("change", function () { refresh(); });
    source.addEventListener("open", function () { setLive(true); });
    source.addEventListener("error", function () { setLive(false); });
  }

  function setLive(ok) {
    if (!liveStatus) return;
    liveStatus.hidden = false;
    liveStatus.textContent = ok ? "● live" : "● reconnecting…";
    liveStatus.className = "live " + (ok ? "ok" : "down");
  }

  document.addEventListener("focusout", function () {
    setTimeout(function () { if (pending && !busy()) refresh(); }, 0);
  });

  // A More… panel someone opens (click, or Enter/Space on its summary) is brought on screen: a row low
  // on the page would otherwise open its fields below the fold. Panels a live refresh re-opens stay put.
  var justOpened = null;
  document.addEventListener("click", function (event) {
    var summary = event.target.closest && event.target.closest("details.more > summary");
    if (!summary) return;
    var details = summary.parentElement;
    justOpened = details.open ? null : {key: details.dataset.keep, at: Date.now()};
    details.addEventListener("toggle", function () {
      var panel = details.open && details.querySelector(".panel");
      if (panel) panel.scrollIntoView({block: "nearest"});
    }, {once: true});
  });

  // ---- actions -------------------------------------------------------------------------------
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("act")) return;
    event.preventDefault();
    // one request per form at a time; buttons are not disabled, so keyboard focus stays put
    if (form.dataset.sending) return;
    form.dataset.sending = "1";
    form.setAttribute("aria-busy", "true");
    var data = new FormData(form);
    if (event.submitter && event.submitter.name) data.append(event.submitter.name, event.submitter.value);
    fetch(form.action, {method: "POST", body: data, credentials: "same-origin",
                        headers: {"X-Requested-With": "fetch", "X-CSRFToken": csrf, "Accept": "application/json"}})
      .then(function (r) { return r.json().then(function (j) { return [r.status, j]; }, function () { return [r.status, {}]; }); })
      .then(function (res) {
        var status = res[0], body = res[1];
        if (status < 400) {
          toast(body.message || "Done.", "info");
          // done: fold the panel the form was in (on a refusal it stays open to try again)
          var panel = form.closest("details[data-keep]");
          if (panel) {
            panel.open = false;
            if (panel.contains(document.activeElement)) panel.querySelector("summary").focus();
          }
        } else toast(body.detail || ("Refused (" + status + ")."), "error");
        if (board) refresh(); else if (status < 400) location.reload();
      })
      .catch(function () { toast("The server did not answer; check the connection and try again.", "error"); })
      .then(function () { delete form.dataset.sending; form.removeAttribute("aria-busy"); });
  });

  syncClock();
  tick();
  setInterval(tick, 1000);
  connect();
})();
