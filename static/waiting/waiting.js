/* The waiting page: reads the status API every few seconds (as the web button does), and lets the customer
   cancel, move to a later slot with room, or book again after a cancel. Every word comes from the page
   (the operator's IVR file, in the customer's language). */
(function () {
  "use strict";
  var root = document.getElementById("wait");
  var POLL_MS = parseInt(root.getAttribute("data-refresh-ms"), 10) || 10000;
  var W = JSON.parse(document.getElementById("wait-words").textContent);
  var id = root.getAttribute("data-id");
  var token = root.getAttribute("data-token");
  var q = "?token=" + encodeURIComponent(token);
  var base = "/api/callbacks/" + id;
  var $ = function (name) { return document.getElementById(name); };
  var state = $("wait-state"), windowLine = $("wait-window"), alertBox = $("wait-alert"), closedLine = $("wait-closed");
  var moveBtn = $("wait-move"), cancelBtn = $("wait-cancel"), againBtn = $("wait-again"), slotList = $("wait-slots");
  var OPEN = {queued: 1, scheduled: 1, retry_wait: 1};
  var timer = null;
  var moved = false;  // after a move the window line says so (polls keep it)

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, key) { return key in values ? values[key] : all; });
  }

  function call(method, url, body) {
    var init = {method: method, headers: {"Accept": "application/json"}};
    if (body) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(url, init).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) { return {status: res.status, data: data}; });
    });
  }

  // The API's `detail` is for programs, in English: the customer reads the page's own words.
  function failed(res, text) {
    var late = res && res.data && (res.data.code === "transition_refused" || res.data.code === "not_movable");
    alertBox.textContent = text || (late ? W.waiting_too_late : W.waiting_failed);
    alertBox.hidden = false;
    if (late) { slotList.hidden = true; refresh(); }  // show what is happening now
  }

  function show(data) {
    var s = data.state;
    var line;
    if (s === "cancelled") { line = W.waiting_cancelled; }
    // Agent first: while only the agent's phone rings, the customer is not being called yet.
    else if (s === "dialing_agent") { line = W.waiting_connecting; }
    else if (s === "dialing_customer") { line = W.waiting_calling; }
    else if (s === "connected") { line = W.waiting_connected; }
    else if (!OPEN[s]) { line = W.waiting_done; }
    else if (data.position) { line = fill(W.waiting_place, {position: data.position}); }
    else { line = W.waiting_scheduled; }
    state.textContent = line;
    state.setAttribute("data-state", s);
    var told = data.window && OPEN[s];
    windowLine.hidden = !told;
    if (told) { windowLine.textContent = fill(moved ? W.waiting_moved : W.waiting_window, {window: data.window.text}); }
    // While the team is closed: that it is, and when it opens (the server's words, in the customer's zone).
    closedLine.hidden = !(data.closed_text && OPEN[s]);
    closedLine.textContent = data.closed_text || "";
    moveBtn.hidden = cancelBtn.hidden = !OPEN[s];
    againBtn.hidden = s !== "cancelled";
    if (!OPEN[s]) { slotList.hidden = true; }
    if (s === "cancelled" || s === "completed" || s === "failed") { stop(); }
  }

  function refresh() {
    return call("GET", base + q).then(function (res) {
      if (res.status === 200) { show(res.data); }
    }, function () { /* offline for a moment: the next poll tries again */ });
  }
  function stop() { if (timer) { clearInterval(timer); timer = null; } }

  cancelBtn.addEventListener("click", function () {
    cancelBtn.disabled = true;
    call("POST", base + "/cancel" + q).then(function (res) {
      cancelBtn.disabled = false;
      if (res.status === 200) { alertBox.hidden = true; show(res.data); } else { failed(res); }
    }, failed);
  });

  // The later slots with room, listed fresh (after a refused move too: the one just taken is gone).
  function listSlots() {
    moveBtn.disabled = true;
    return call("GET", base + "/slots" + q).then(function (res) {
      moveBtn.disabled = false;
      if (res.status !== 200) { failed(res); return; }
      slotList.innerHTML = "";
      if (!res.data.slots.length) {
        var none = document.createElement("li");
        none.textContent = W.waiting_move_none;
        slotList.appendChild(none);
      }
      res.data.slots.slice(0, 8).forEach(function (slot) {
        var li = document.createElement("li");
        var label = document.createElement("span");
        label.textContent = slot.label;
        var pick = document.createElement("button");
        pick.type = "button";
        pick.className = "secondary";
        pick.textContent = W.waiting_move_pick;
        pick.setAttribute("data-slot", slot.value);
        pick.addEventListener("click", function () { moveTo(slot.value, pick); });
        li.appendChild(label);
        li.appendChild(pick);
        slotList.appendChild(li);
      });
      slotList.hidden = false;
    }, failed);
  }

  moveBtn.addEventListener("click", function () { alertBox.hidden = true; listSlots(); });

  function moveTo(value, button) {
    button.disabled = true;
    call("POST", base + "/move" + q, {slot: value}).then(function (res) {
      if (res.status === 409 && res.data.code === "full") { failed(res, W.waiting_full); listSlots(); return; }
      if (res.status !== 200) { button.disabled = false; failed(res); return; }
      slotList.hidden = true;
      alertBox.hidden = true;
      moved = true;
      show(res.data);
    }, failed);
  }

  againBtn.addEventListener("click", function () {
    againBtn.disabled = true;
    call("POST", base + "/again" + q).then(function (res) {
      againBtn.disabled = false;
      if ((res.status === 201 || res.status === 200) && res.data.waiting_url) {
        window.location.assign(new URL(res.data.waiting_url).pathname + new URL(res.data.waiting_url).search);
      } else if (res.status === 200) { show(res.data); } else { failed(res); }
    }, failed);
  });

  refresh();
  timer = setInterval(refresh, POLL_MS);
})();
