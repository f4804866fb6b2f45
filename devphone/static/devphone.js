// The dev phone page: a customer's phone and an agent's phone on the Twilio emulator inside the app.
// What the phones hear comes from the server's event stream (/dev-phone/api/events); what they do
// goes to its JSON API. Prompts are spoken here (speechSynthesis, or the server's espeak-ng voice when
// the browser has none) and the server is told when each one finished, so Gather timeouts start at
// the right moment. Whether a key interrupts a prompt is the emulator's call, as it is Twilio's.
"use strict";

(function () {
  const API = document.body.dataset.api;
  const WORKLET = document.body.dataset.worklet;
  const CSRF = document.querySelector('meta[name="csrf-token"]').content;
  const TAB = randomId();
  const KEYS = [["1", ""], ["2", "ABC"], ["3", "DEF"], ["4", "GHI"], ["5", "JKL"], ["6", "MNO"],
    ["7", "PQRS"], ["8", "TUV"], ["9", "WXYZ"], ["*", ""], ["0", "+"], ["#", ""]];
  const E164 = /^\+[1-9][0-9]{6,14}$/;

  function randomId() {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function $(selector, root) { return (root || document).querySelector(selector); }

  function element(tag, props, text) {
    const el = document.createElement(tag);
    Object.assign(el, props || {});
    if (text !== undefined) el.textContent = text;
    return el;
  }

  async function api(method, path, data) {
    const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET") {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = CSRF;
      options.body = JSON.stringify(data || {});
    }
    const response = await fetch(API + path, options);
    if (!response.ok) {
      let detail = response.statusText;
      try {
        const problem = await response.json();
        detail = problem.detail || problem.title || detail;
      } catch (ignored) { /* not JSON */ }
      const error = new Error(detail);
      error.status = response.status;
      throw error;
    }
    if (response.status === 204) return null;
    const type = response.headers.get("Content-Type") || "";
    return type.includes("json") ? response.json() : response.blob();
  }

  function trouble(message) {
    const el = $("#trouble");
    el.textContent = message || "";
    el.hidden = !message;
  }

  // ---- sound: the ringer, and prompts ----------------------------------------------------------

  let audioContext = null;
  function sound() {
    if (!audioContext) {
      try { audioContext = new AudioContext(); } catch (ignored) { return null; }
    }
    if (audioContext.state === "suspended") audioContext.resume().catch(() => {});
    return audioContext;
  }

  class Ringer {
    // A North American ring: 440 + 480 Hz, two seconds on, four off.
    start() {
      if (this.timer) return;
      const ring = () => {
        const ctx = sound();
        if (!ctx) return;
        const gain = ctx.createGain();
        gain.gain.value = 0.04;
        gain.connect(ctx.destination);
        for (const f of [440, 480]) {
          const osc = ctx.createOscillator();
          osc.frequency.value = f;
          osc.connect(gain);
          osc.start();
          osc.stop(ctx.currentTime + 2);
        }
      };
      ring();
      this.timer = setInterval(ring, 6000);
    }
    stop() {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  const synth = "speechSynthesis" in window ? window.speechSynthesis : null;
  let synthUser = null; // the Speaker whose utterance speechSynthesis is playing (it has one queue)

  function pickVoice(voices, lang) {
    const want = (lang || "en-US").toLowerCase();
    const norm = (v) => (v.lang || "").replace("_", "-").toLowerCase();
    return voices.find((v) => norm(v) === want) ||
      voices.find((v) => norm(v).split("-")[0] === want.split("-")[0]) || null;
  }

  class Speaker {
    // Plays one phone's prompts; `done` runs when a prompt played to its end (never when stopped).
    constructor() { this.current = null; }

    get playing() { return this.current ? this.current.prompt : null; }

    play(prompt, done) {
      this.stop();
      const token = { prompt: prompt.prompt, over: false, cancel: null, watch: null, limit: null };
      this.current = token;
      const finish = () => {
        if (this.current !== token || token.over) return;
        token.over = true;
        this.current = null;
        clearTimeout(token.watch);
        clearTimeout(token.limit);
        done();
      };
      // Whatever the voice does, a prompt ends in the end (some engines never say "end" for long texts).
      token.limit = setTimeout(() => { if (token.cancel) token.cancel(); finish(); },
        (3 * (prompt.seconds || 5) + 10) * 1000);
      const voices = synth ? synth.getVoices() : [];
      const voice = pickVoice(voices, prompt.language);
      if (synth && voice && (synthUser === null || synthUser === this)) {
        this.playSynth(prompt, voice, token, finish);
      } else {
        this.playServer(prompt, token, finish);
      }
    }

    playSynth(prompt, voice, token, finish) {
      const utterance = new SpeechSynthesisUtterance(prompt.text);
      utterance.lang = prompt.language || "en-US";
      utterance.voice = voice;
      let started = false;
      const release = () => { if (synthUser === this) synthUser = null; };
      utterance.onstart = () => { started = true; };
      utterance.onend = () => { release(); finish(); };
      utterance.onerror = (event) => {
        release();
        if (event.error !== "interrupted" && event.error !== "canceled" && this.current === token) {
          this.playServer(prompt, token, finish);
        }
      };
      token.cancel = () => { if (synthUser === this) { synthUser = null; synth.cancel(); } };
      synthUser = this;
      synth.speak(utterance);
      // A voice that never starts (no audio device, a broken engine): the server's voice instead.
      token.watch = setTimeout(() => {
        if (!started && this.current === token) {
          token.cancel();
          this.playServer(prompt, token, finish);
        }
      }, 2500);
    }

    async playServer(prompt, token, finish) {
      // Decoded and played through Web Audio, not an <audio> element on a blob URL: nothing is fetched
      // while it plays, so a prompt stopped half-way cannot leave a failed load behind.
      try {
        const blob = await api("POST", "/speech", { text: prompt.text, language: prompt.language });
        if (this.current !== token) return;
        const ctx = sound();
        if (!ctx || ctx.state !== "running") throw new Error("no sound allowed yet");
        const buffer = await ctx.decodeAudioData(await blob.arrayBuffer());
        if (this.current !== token) return;
        const source = ctx.createBufferSource();
        source.buffer = buffer;
        source.connect(ctx.destination);
        let stopped = false;
        token.cancel = () => { stopped = true; try { source.stop(); } catch (ignored) { /* not started */ } };
        source.onended = () => { if (!stopped) finish(); };
        source.start();
      } catch (ignored) {
        if (this.current === token) this.playTimed(prompt, token, finish);
      }
    }

    playTimed(prompt, token, finish) {
      // No voice at all: as long as the emulator reckons the prompt takes.
      const timer = setTimeout(finish, Math.max(0.5, prompt.seconds || 2) * 1000);
      token.cancel = () => clearTimeout(timer);
    }

    stop() {
      const token = this.current;
      this.current = null;
      if (!token) return;
      clearTimeout(token.watch);
      clearTimeout(token.limit);
      if (token.cancel) token.cancel();
    }
  }

  // ---- the microphone: 8 kHz mu-law frames to the server, which hands them to the emulator ---------

  class Microphone {
    constructor(phone, button) {
      this.phone = phone;
      this.button = button;
      this.level = $(".level > span", phone.root);
      this.on = false;
      this.socket = null;
      this.sid = null;
    }

    async toggle() {
      if (this.on) this.off(); else await this.start();
    }

    async start() {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        this.phone.note("This browser gives no microphone here (it needs http://127.0.0.1 or https): type the words instead.");
        return;
      }
      try {
        this.stream = await navigator.mediaDevices.getUserMedia(
          { audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } });
      } catch (error) {
        this.phone.note(`No microphone (${error.name}): type the words instead.`);
        return;
      }
      try {
        try {
          this.context = new AudioContext({ sampleRate: 8000 }); // the browser resamples to the line's rate
        } catch (ignored) {
          this.context = new AudioContext(); // the worklet resamples instead
        }
        await this.context.audioWorklet.addModule(WORKLET);
        const source = this.context.createMediaStreamSource(this.stream);
        this.node = new AudioWorkletNode(this.context, "phone-line");
        this.node.port.onmessage = (event) => this.frame(event.data);
        source.connect(this.node);
        this.node.connect(this.context.destination); // silent, but keeps the node running
      } catch (error) {
        this.phone.note(`The microphone could not be set up (${error.message}): type the words instead.`);
        this.off();
        return;
      }
      this.on = true;
      this.button.setAttribute("aria-pressed", "true");
      this.button.textContent = "Microphone on";
      this.phone.note("Microphone on: the IVR hears you during a call, as a phone line carries it.");
      this.attach(this.phone.liveSid());
    }

    off() {
      if (this.on) this.phone.note("Microphone off");
      this.on = false;
      this.button.setAttribute("aria-pressed", "false");
      this.button.textContent = "Microphone off";
      this.detach();
      if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
      if (this.context) this.context.close().catch(() => {});
      this.stream = this.context = this.node = null;
      this.level.style.width = "0";
    }

    attach(sid) {
      if (!this.on || !sid || (this.socket && this.sid === sid)) return;
      this.detach();
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      this.sid = sid;
      this.socket = new WebSocket(`${scheme}://${location.host}${API}/calls/${sid}/audio`);
      this.socket.binaryType = "arraybuffer";
      this.socket.onclose = () => { if (this.sid === sid) { this.socket = null; this.sid = null; } };
    }

    detach() {
      if (this.socket) this.socket.close();
      this.socket = null;
      this.sid = null;
    }

    frame(data) {
      this.level.style.width = `${Math.min(100, Math.round(data.level * 400))}%`;
      if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(data.frame);
    }
  }

  // ---- a phone ------------------------------------------------------------------------------------

  const WAITS = {
    GatherInput: "Waiting for keys",
    Segment: "IVR speaking",
    StreamBlock: "IVR listening",
    Ringing: "Dialling",
  };

  class Phone {
    constructor(root) {
      this.root = root;
      this.kind = root.dataset.phone;
      this.status = $(".status", root);
      this.list = $(".log", root);
      this.ringPanel = $(".ringing", root);
      this.hangupButton = $(".hangup", root);
      this.callButton = $(".call", root);
      this.speaker = new Speaker();
      this.ringer = new Ringer();
      this.sid = null;
      this.live = false; // answered and not ended
      this.keypad();
      this.hangupButton.addEventListener("click", () => this.hangUp());
      for (const button of this.ringPanel.querySelectorAll(".answer")) {
        button.addEventListener("click", () => this.answer(button.dataset.as));
      }
      $(".decline", this.ringPanel).addEventListener("click", () => this.hangUp());
    }

    keypad() {
      const pad = $(".keypad", this.root);
      for (const [key, letters] of KEYS) {
        const button = element("button", { type: "button", className: "key" });
        button.dataset.key = key;
        button.setAttribute("aria-label", `${this.kind} key ${key}`);
        button.append(element("span", { className: "digit" }, key), element("small", {}, letters || "\u00a0"));
        button.addEventListener("click", () => this.press(key));
        pad.append(button);
      }
    }

    liveSid() { return this.live ? this.sid : null; }

    log(who, text, kind) {
      const item = element("li", { className: kind || "" });
      if (who) item.append(element("span", { className: "who" }, who));
      item.append(document.createTextNode(text));
      this.list.append(item);
      while (this.list.children.length > 200) this.list.firstElementChild.remove();
      this.list.scrollTop = this.list.scrollHeight;
    }

    note(text) { this.log("", text, "note"); }

    async post(path, body) {
      // A POST to the dev phone's API whose refusal shows as a note: the answer, or undefined if refused.
      try {
        return await api("POST", path, body);
      } catch (error) {
        this.note(error.message);
        return undefined;
      }
    }

    show(text, state) {
      this.status.textContent = text;
      this.root.dataset.state = state || "";
    }

    async press(key) {
      if (!this.liveSid()) return;
      this.log("Keyed", key, "you");
      await this.post(`/calls/${this.sid}/keys`, { key });
    }

    async hangUp() {
      if (!this.sid) return;
      await this.post(`/calls/${this.sid}/hang-up`, {});
    }

    async answer(how) {
      if (!this.sid) return;
      sound(); // a click: audio may start now
      await this.post(`/calls/${this.sid}/answer`, { as: how });
    }

    begin(sid) {
      if (this.sid !== sid) {
        this.sid = sid;
        this.live = false;
        this.root.dataset.connected = "false";
      }
      this.hangupButton.disabled = false;
      if (this.callButton) this.callButton.disabled = true;
    }

    goLive() {
      if (this.live) return;
      this.live = true;
      this.ringer.stop();
      this.ringPanel.hidden = true;
      if (this.microphone) this.microphone.attach(this.sid);
    }

    end(status) {
      this.speaker.stop();
      this.ringer.stop();
      this.ringPanel.hidden = true;
      this.live = false;
      this.sid = null;
      this.root.dataset.connected = "false";
      this.hangupButton.disabled = true;
      if (this.callButton) this.callButton.disabled = false;
      if (this.microphone && this.microphone.on) this.microphone.off();
      this.show(`Call ended (${status})`, "ended");
      this.log("", `Call ended: ${status}`, "note");
    }

    describeWait(event) {
      if (event.queue) return [`Holding in line (${event.queue})`, "holding"];
      if (event.conference) return ["In a conference, waiting for the other side", "conference"];
      if (event.wait === "Talking") return ["Connected", "connected"];
      return [WAITS[event.wait] || "On the call", "in-call"];
    }

    onEvent(event) {
      switch (event.type) {
        case "placed":
          this.begin(event.call_sid);
          this.show(`Calling ${event.to}…`, "calling");
          this.log("", `Calling ${event.to}`, "note");
          break;
        case "ringing":
          this.begin(event.call_sid);
          this.ringPanel.hidden = false;
          // Which number rings: this phone's own, or another one it answers for (a callback to the
          // number the caller gave).
          $(".who", this.ringPanel).textContent = event.own_number === false
            ? `Incoming call from ${event.from} to ${event.to}: not this phone's number; it answers for it`
            : `Incoming call from ${event.from} to ${event.to || "this phone"}`;
          this.show(`Ringing: ${event.to || "this phone"}`, "ringing");
          this.log("", `Ringing ${event.to || "this phone"}: ${event.from} is calling`, "note");
          this.ringer.start();
          break;
        case "busy":
          this.note(`A call from ${event.from} got a busy line: this phone is on a call already.`);
          break;
        case "answered":
          this.begin(event.call_sid);
          this.goLive();
          this.show("On the call", "in-call");
          break;
        case "prompt":
          this.begin(event.call_sid);
          this.goLive();
          this.log("IVR", event.text, "ivr");
          this.speaker.play(event, () => {
            api("POST", `/calls/${event.call_sid}/prompt-done`, { prompt: event.prompt }).catch(() => {});
          });
          break;
        case "play":
          this.log("IVR plays", event.url, "ivr");
          break;
        case "stop":
          if (this.speaker.playing === event.prompt) {
            this.speaker.stop();
            if (event.why === "cut") this.log("", "(the prompt stops)", "note");
          }
          break;
        case "key_lost":
          this.log("", `Key ${event.digit} lost: it came while a prompt outside a <Gather> played, and Twilio drops such keys`, "lost");
          break;
        case "state": {
          this.begin(event.call_sid);
          this.goLive();
          if (this.root.dataset.connected !== "true") {
            const [text, state] = this.describeWait(event);
            this.show(text, state);
          }
          break;
        }
        case "link":
          if (event.with && event.with.length) {
            const other = event.with[0];
            const who = other.phone === "agent" ? "the agent" : other.phone === "customer" ? "the customer" : other.address;
            this.root.dataset.connected = "true";
            this.show(`Connected with ${who}`, "connected");
            this.log("", `Connected with ${who} (${other.address})`, "note");
          } else if (this.root.dataset.connected === "true") {
            this.root.dataset.connected = "false";
            this.show("On the call", "in-call");
          }
          break;
        case "ended":
          if (event.call_sid === this.sid) this.end(event.status);
          break;
        case "message":
          this.log(event.channel === "chat" ? "Chat bot" : "Text message", event.body || "", "ivr");
          break;
        default:
          break;
      }
    }

    restore(call) {
      this.begin(call.call_sid);
      if (call.status === "ringing" && call.direction === "outbound") {
        this.onEvent({ type: "ringing", call_sid: call.call_sid, from: "the IVR", to: call.to });
        return;
      }
      if (call.status === "in-progress") this.goLive();
      if (call.state && call.state.wait) this.onEvent({ type: "state", call_sid: call.call_sid, ...call.state });
      if (call.with && call.with.length) this.onEvent({ type: "link", call_sid: call.call_sid, with: call.with });
      if (call.playing) this.onEvent(call.playing);
    }
  }

  // ---- the customer -------------------------------------------------------------------------------

  class Customer extends Phone {
    constructor(root) {
      super(root);
      this.number = $("#caller-number");
      this.dialled = $("#dialled");
      this.microphone = new Microphone(this, $(".mic", root));
      $(".mic", root).addEventListener("click", () => this.microphone.toggle());
      this.callButton.addEventListener("click", () => this.call());
      this.number.addEventListener("change", () => this.saveNumber());
      $(".say", root).addEventListener("submit", (event) => { event.preventDefault(); this.say(); });
      $("form.text:not(.chat)", root).addEventListener("submit", (event) => { event.preventDefault(); this.text(); });
      $("form.chat", root).addEventListener("submit", (event) => { event.preventDefault(); this.chat(); });
    }

    chat() {
      // The chat hand-over: the bot asks the chat API for a callback; its message comes on the event stream.
      return this.send("form.chat input", "Chatted", "/chat", "text");
    }

    text() {
      // A text message from the caller's number: the reply comes back on the event stream ("message").
      return this.send("form.text:not(.chat) input", "Texted", "/texts", "body");
    }

    async send(selector, label, path, field) {
      // What the caller typed in a form, from their number: logged, the field cleared, then posted as `field`.
      const input = $(selector, this.root);
      const value = input.value.trim();
      if (!value) return;
      await this.saveNumber();
      this.log(label, value, "you");
      input.value = "";
      await this.post(path, { [field]: value });
    }

    callerNumber() {
      // The caller's number as typed, or null (with a note saying why) when it is not E.164.
      const number = this.number.value.trim();
      if (E164.test(number)) return number;
      this.note("The caller's number needs + and the country code, e.g. +12125550142.");
      return null;
    }

    async saveNumber() {
      const number = this.callerNumber();
      if (number) await this.post("/line", { customer: number });
    }

    async call() {
      const number = this.callerNumber();
      if (!number) {
        this.number.focus();
        return;
      }
      sound(); // a click: audio may start now
      this.list.replaceChildren();
      const placed = await this.post("/calls", { from: number, to: this.dialled.value });
      if (placed) this.begin(placed.call_sid);
    }

    async say() {
      const input = $(".say input", this.root);
      const text = input.value.trim();
      if (!text) return;
      if (!this.liveSid()) {
        this.note("Words reach the IVR during a call.");
        return;
      }
      this.log("Said", `“${text}”`, "you");
      input.value = "";
      await this.post(`/calls/${this.sid}/say`, { text });
    }
  }

  // ---- the agent ----------------------------------------------------------------------------------

  const STATES = { offline: "offline", available: "available", reserved: "being offered a call",
    on_call: "on a call", wrap_up: "in wrap-up" };

  class Agent extends Phone {
    constructor(root) {
      super(root);
      this.select = $("#agent-select");
      this.stateLabel = $('[data-testid="agent-state"]');
      this.available = $("#set-available");
      this.offline = $("#set-offline");
      this.agent = null;
      this.select.addEventListener("change", () => this.pick(this.select.value ? Number(this.select.value) : null));
      $("#add-demo").addEventListener("click", () => this.addDemo());
      this.available.addEventListener("click", () => this.setState("available"));
      this.offline.addEventListener("click", () => this.setState("offline"));
    }

    fill(agents, chosen) {
      const keep = chosen !== undefined ? chosen : (this.agent && this.agent.id);
      this.select.replaceChildren(element("option", { value: "" }, "Pick an agent…"));
      for (const agent of agents) {
        // Demo agents say their skill in their name; others show it.
        const demo = agent.address.startsWith("client:devphone-");
        const skills = Object.keys(agent.skills || {}).join(", ");
        this.select.append(element("option", { value: String(agent.id) }, demo ? agent.name : `${agent.name} (${skills})`));
      }
      this.agents = agents;
      this.select.value = keep ? String(keep) : "";
      this.agent = agents.find((a) => a.id === keep) || null;
      this.showAgent();
    }

    showAgent() {
      const agent = this.agent;
      this.stateLabel.textContent = agent ? STATES[agent.state] || agent.state : "–";
      this.available.disabled = !agent || !["offline", "wrap_up"].includes(agent.state);
      this.offline.disabled = !agent || !["available", "wrap_up"].includes(agent.state);
      if (!this.sid) {
        this.show(agent ? (agent.state === "available" ? "Available: waiting for a call" : `${agent.name}: ${STATES[agent.state] || agent.state}`)
          : "Pick an agent, then set them available", "idle");
      }
    }

    async pick(id) {
      try {
        await api("POST", "/line", { agent: id });
        this.agent = (this.agents || []).find((a) => a.id === id) || null;
        this.showAgent();
      } catch (error) {
        this.note(error.message);
      }
    }

    async addDemo() {
      try {
        const agent = await api("POST", "/agents", { skill: $("#demo-skill").value });
        const { agents } = await api("GET", "/agents");
        this.fill(agents, agent.id);
        await this.pick(agent.id);
        this.note(`${agent.name} rings this phone (${agent.address}).`);
      } catch (error) {
        this.note(error.message);
      }
    }

    async setState(state) {
      if (!this.agent) return;
      sound(); // a click: the ringer may sound later
      try {
        this.agent = await api("PUT", `/agents/${this.agent.id}/state`, { state });
        this.showAgent();
      } catch (error) {
        this.note(error.message);
      }
    }

    changed(agent) {
      // The server's word on this phone's agent (the dispatcher and call events move it too).
      if (!agent || !this.agent || agent.id !== this.agent.id) return;
      const before = this.agent.state;
      this.agent = agent;
      this.showAgent();
      if (before !== agent.state) this.log("", `Agent: ${STATES[agent.state] || agent.state}`, "note");
    }
  }

  // ---- the page -------------------------------------------------------------------------------------

  function showSkills(skills) {
    const list = $("#skills");
    list.replaceChildren();
    for (const skill of skills) {
      let when = "open now";
      if (!skill.open) {
        when = "closed";
        if (skill.opens_at) {
          const opens = new Intl.DateTimeFormat(undefined, {
            timeZone: skill.timezone, weekday: "short", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
          }).format(new Date(skill.opens_at));
          when = `closed, opens ${opens}`;
        }
      }
      const item = element("li", { className: skill.open ? "open" : "closed" });
      item.append(element("strong", {}, skill.label), document.createTextNode(` (key ${skill.digit}): ${when}`));
      list.append(item);
    }
  }

  // "Open every team for this demo": the page keeps the choice and sends it again after a restart.
  const demoHours = $("#open-every-team");
  async function sendDemoHours() {
    try {
      const answer = await api("PUT", "/demo-hours", { open_every_team: demoHours.checked });
      showSkills(answer.skills);
    } catch (error) {
      trouble(`Could not change the teams' hours: ${error.message}`);
    }
  }
  demoHours.addEventListener("change", sendDemoHours);

  function fillSetup(setup, customer, agent) {
    const presets = $("#caller-presets");
    for (const number of setup.callers) presets.append(element("option", { value: number }));
    if (setup.customer) customer.number.value = setup.customer;
    const dialled = $("#dialled");
    for (const line of setup.numbers) {
      dialled.append(element("option", { value: line.number }, `${line.number} (${line.language})`));
    }
    const demo = $("#demo-skill");
    for (const skill of setup.skills) demo.append(element("option", { value: skill.name }, skill.label));
    const open = setup.skills.find((s) => s.open);
    if (open) demo.value = open.name;
    showSkills(setup.skills);
    demoHours.checked = Boolean(setup.open_every_team);
    agent.fill(setup.agents, setup.agent_id);
    if (setup.supervisor) $("#supervisor-link").href = setup.supervisor;
  }

  // The event stream. A beat comes every 5 s; with none for SILENT_MS, or a stream the browser gave up
  // on, the page opens a new one. A snapshot after the first one means the app restarted: its phones'
  // settings (caller's number, agent, teams' hours) are sent again and the page says so.
  const SILENT_MS = 15000;
  let snapshots = 0;

  async function resend(phones, snapshot) {
    const customer = phones.customer.number.value.trim();
    const agent = phones.agent.agent ? phones.agent.agent.id : null;
    for (const phone of Object.values(phones)) {
      if (phone.sid && !snapshot.calls.some((c) => c.call_sid === phone.sid)) phone.end("lost: the app restarted");
    }
    try {
      const line = {};
      if (E164.test(customer) && customer !== snapshot.customer) line.customer = customer;
      if (agent !== null && agent !== snapshot.agent_id) line.agent = agent;
      if (Object.keys(line).length) await api("POST", "/line", line);
      if (demoHours.checked) await sendDemoHours();
      const { agents } = await api("GET", "/agents");
      phones.agent.fill(agents, agent);
      trouble("Reconnected: the app restarted, so this page sent its phones' settings again.");
    } catch (error) {
      trouble(`Reconnected, but could not set the phones up again: ${error.message}`);
    }
  }

  function listen(phones) {
    const source = new EventSource(`${API}/events?tab=${TAB}`);
    let heard = Date.now();
    let lost = false;
    const reopen = (why) => {
      clearInterval(watchdog);
      source.close();
      trouble(why);
      setTimeout(() => listen(phones), 1000);
    };
    const watchdog = setInterval(() => {
      if (Date.now() - heard > SILENT_MS) reopen("No word from the app for 15 s; reconnecting…");
    }, 1000);
    const alive = () => {
      heard = Date.now();
      if (lost) {
        lost = false;
        trouble("Reconnected to the app.");
        setTimeout(() => { if ($("#trouble").textContent === "Reconnected to the app.") trouble(""); }, 4000);
      }
    };
    source.addEventListener("beat", alive);
    source.addEventListener("agent", (message) => { alive(); phones.agent.changed(JSON.parse(message.data)); });
    source.addEventListener("snapshot", (message) => {
      heard = Date.now();
      lost = false;
      const snapshot = JSON.parse(message.data);
      snapshots += 1;
      if (snapshots > 1) resend(phones, snapshot);
      for (const call of snapshot.calls) phones[call.phone].restore(call);
    });
    source.onopen = () => { heard = Date.now(); };
    source.onerror = () => {
      lost = true;
      if (source.readyState === EventSource.CLOSED) reopen("Lost the connection to the app; reconnecting…");
      else trouble("Lost the connection to the app; reconnecting…");
    };
    source.onmessage = (message) => {
      alive();
      const event = JSON.parse(message.data);
      if (event.type === "tab") {
        if (event.tab !== TAB) {
          clearInterval(watchdog);
          source.close();
          for (const phone of Object.values(phones)) phone.speaker.stop();
          trouble("This dev phone is now open in another tab or window; reload here to use it here.");
          document.body.classList.add("replaced");
        }
        return;
      }
      const phone = phones[event.phone];
      if (phone) phone.onEvent(event);
    };
  }

  async function start() {
    const customer = new Customer($("#customer"));
    const agent = new Agent($("#agent"));
    const phones = { customer, agent };
    try {
      fillSetup(await api("GET", "/setup"), customer, agent);
    } catch (error) {
      trouble(`The dev phone could not start: ${error.message}`);
      return;
    }
    if (synth && synth.getVoices().length === 0 && "onvoiceschanged" in synth) {
      synth.onvoiceschanged = () => {}; // some browsers load their voices only once asked
    }
    listen(phones);
    document.body.dataset.ready = "true";
  }

  start();
})();
