"""The dev phone's Twilio: an emulator in this process that the running app talks to, and the browser
phones' lines on it.

On when DEV_PHONE=on, or when DEV_PHONE is unset and PUBLIC_BASE_URL is not (development). Then:
- without Twilio credentials the app's REST client is the emulator's (the dispatcher dials emulated
  phones, barge-in's calls(sid).update reaches the emulator), its webhook token is one made up at
  start (the emulator signs with it) and its number is the emulator's;
- the emulator requests the app over real HTTP at the address it serves (http://127.0.0.1:PORT),
  signing that URL, or PUBLIC_BASE_URL when it is set (sent to the local port all the same).

A browser session (its cookie) has one `Line`: the customer's number, the agent it stands in for,
the calls it sees and may act on, and a numbered list of events for its event stream. Calls it
places are its own; calls the app places ring the line whose customer number or agent address they
are to. While a line has no event stream for ABANDONED_SECONDS its calls are hung up (nobody is
there to hear the prompts it paces).
"""
from __future__ import annotations

import itertools
import logging
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from config import ConfigError, Settings
from refusals import Refusal

log = logging.getLogger("ivr.devphone")

ON = ("on", "1", "true", "yes")
OFF = ("off", "0", "false", "no")
ABANDONED_SECONDS = 20.0
EVENTS_KEPT = 1000
KEYS = "0123456789*#"
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
ANSWERS = {"human": "human", "voicemail": "machine_end_beep"}  # how the page's Answer buttons pick up
MAX_SAY_CHARS = 300


class Refused(Refusal, ValueError):
    """What a browser asked cannot be done; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message, status=status)


def wanted(settings: Settings) -> bool:
    value = (settings.dev_phone or "").strip().lower()
    if value in ON:
        return True
    if value in OFF:
        return False
    if value:
        raise ConfigError(f"DEV_PHONE must be on or off, not {settings.dev_phone!r}")
    return not settings.public_base_url


def local_base(settings: Settings) -> str:
    """Where this process serves HTTP, as seen from itself."""
    host = settings.host if settings.host not in ("", "0.0.0.0", "::", "[::]") else "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


@dataclass
class CallView:
    """What a line knows about one of its calls."""

    sid: str
    phone: str  # customer | agent
    direction: str  # inbound: the customer rang the IVR; outbound: the app rang this phone
    status: str = "ringing"
    language: str | None = None
    prompts: dict = field(default_factory=dict)  # prompt id -> (segment, index in it)
    playing: dict | None = None  # the prompt event now playing (the page speaks it)
    state: dict = field(default_factory=dict)
    linked: list = field(default_factory=list)
    hung_up_for_nobody: bool = False

    @property
    def ended(self) -> bool:
        return self.status in ("completed", "busy", "failed", "no-answer", "canceled")

    def summary(self) -> dict:
        return {"call_sid": self.sid, "phone": self.phone, "direction": self.direction, "status": self.status,
                "language": self.language, "playing": self.playing, "state": self.state, "with": self.linked}


class Line:
    def __init__(self, key: str):
        self.key = key
        self.customer: str | None = None
        self.agent_id: int | None = None
        self.agent_address: str | None = None
        self.calls: dict[str, CallView] = {}
        self.events: deque = deque(maxlen=EVENTS_KEPT)
        self.streams = 0
        self.tab: str | None = None
        self.last_seen = time.monotonic()
        self.placing: tuple[str, str] | None = None  # (from, to) of the call being placed just now


class LazyClient:
    """A twilio.rest.Client made on first use (`client.calls.create(...)`, `client.calls(sid)...`)."""

    def __init__(self, build):
        self._build = build
        self._client = None

    def __getattr__(self, name: str):
        if self._client is None:
            self._client = self._build()
        return getattr(self._client, name)


class DevPhone:
    def __init__(self, settings: Settings, *, emulate_rest: bool):
        from telephony.emulator import ACCOUNT_SID, DEFAULT_NUMBER, Emulator
        from telephony.transport import HttpTransport

        self.local_base = local_base(settings)
        self.public_base = (settings.public_base_url or self.local_base).rstrip("/")
        self.emulates_rest = emulate_rest
        token = settings.twilio_auth_token or secrets.token_hex(20)  # this process only; never logged
        number = settings.twilio_number or DEFAULT_NUMBER
        changes = {"twilio_auth_token": token}
        if emulate_rest:
            changes["twilio_number"] = number
        self.settings = replace(settings, **changes)
        self.clock = None  # the app's clock, once the app is built (install)
        # Built on first use (the page, or the app's first REST request): commands start without it.
        self._make_emulator = lambda: Emulator(
            token, self.public_base, transport=HttpTransport(self.public_base, self.local_base),
            account_sid=settings.twilio_account_sid or ACCOUNT_SID, number=number, clock=self._now, strict=False)
        self._emulator = None
        # The app's first REST request (the dispatcher dialling, say) starts the live emulator too.
        self.client = LazyClient(self._started_client) if emulate_rest else None
        self.runtime = None
        self._lock = threading.RLock()  # the lines; the emulator's listener takes it on its worker thread
        self._changed = threading.Condition(self._lock)
        self._lines: dict[str, Line] = {}
        self._ids = itertools.count(1)
        self.epoch = secrets.token_hex(4)  # names this process's event numbering
        self._prompt_ids = itertools.count(1)
        self._started = False
        self._stopping = threading.Event()

    def _started_client(self):
        self.start()
        return self.emulator.client()

    @property
    def emulator(self):
        with self._lock:
            if self._emulator is None:
                self._emulator = self._make_emulator()
            return self._emulator

    @classmethod
    def for_app(cls, settings: Settings, twilio_client) -> "DevPhone | None":
        """The dev phone for an app being built, or None when it is off."""
        if not wanted(settings):
            return None
        credentials = bool(settings.twilio_account_sid and settings.twilio_auth_token)
        return cls(settings, emulate_rest=twilio_client is None and not credentials)

    def _now(self) -> datetime:
        return self.clock.now() if self.clock is not None else datetime.now(timezone.utc)

    def describe(self) -> str:
        what = ("Twilio is emulated in this process: webhooks are signed with a token made up at start and "
                "callbacks ring the dev phone" if self.emulates_rest else
                "it calls the IVR through an emulated Twilio; callbacks still go through your Twilio account")
        return f"Dev phone: {self.local_base}/dev-phone ({what})"

    # ---- running ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the emulator's live driver (on first use of the page's API)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        self.emulator.subscribe(self._on_event)
        self.emulator.start_live()
        threading.Thread(target=self._janitor, name="devphone-janitor", daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()
        if self._emulator is not None:
            self._emulator.close()

    def _janitor(self) -> None:
        while not self._stopping.wait(2.0):
            try:
                self.hang_up_abandoned()
            except Exception:  # noqa: BLE001 - keep watching
                log.exception("dev phone janitor")

    def hang_up_abandoned(self, now: float | None = None) -> int:
        """Hang up the calls of lines nobody has watched for ABANDONED_SECONDS."""
        now = time.monotonic() if now is None else now
        ended = 0
        with self._lock:
            for line in self._lines.values():
                if line.streams or now - line.last_seen < ABANDONED_SECONDS:
                    continue
                for view in line.calls.values():
                    if view.ended or view.hung_up_for_nobody or view.sid not in self.emulator.calls:
                        continue
                    view.hung_up_for_nobody = True
                    self.emulator.live_hang_up(view.sid)
                    ended += 1
        return ended

    # ---- lines ------------------------------------------------------------------------------------

    def line(self, key: str) -> Line:
        with self._lock:
            if key not in self._lines:
                self._lines[key] = Line(key)
            return self._lines[key]

    def set_customer(self, line: Line, number: str) -> None:
        number = (number or "").strip()
        if not E164.match(number):
            raise Refused("The caller's number must be in international format: + and 7 to 15 digits.")
        with self._lock:
            line.customer = number

    def set_agent(self, line: Line, agent_id: int | None, address: str | None) -> None:
        with self._lock:
            line.agent_id, line.agent_address = agent_id, address

    def tune_in(self, line: Line, tab: str) -> None:
        """An event stream opened for `tab`: it becomes the page that plays this line."""
        with self._lock:
            line.streams += 1
            line.last_seen = time.monotonic()
            if line.tab != tab:
                line.tab = tab
                self._push(line, {"type": "tab", "tab": tab})

    def tune_out(self, line: Line) -> None:
        with self._lock:
            line.streams -= 1
            line.last_seen = time.monotonic()

    def events_after(self, line: Line, last_id: int, timeout: float) -> list[dict]:
        with self._changed:
            if not line.events or line.events[-1]["id"] <= last_id:
                self._changed.wait(timeout)
            return [e for e in line.events if e["id"] > last_id]

    def snapshot(self, line: Line) -> dict:
        with self._lock:
            return {"id": line.events[-1]["id"] if line.events else 0, "customer": line.customer,
                    "agent_id": line.agent_id, "tab": line.tab,
                    "calls": [v.summary() for v in line.calls.values() if not v.ended]}

    # ---- what the phones do ---------------------------------------------------------------------

    def call(self, line: Line, from_number: str, to_number: str) -> str:
        """The customer phone rings the IVR: Twilio requests the number's voice URL."""
        self.set_customer(line, from_number)
        if not E164.match(to_number or ""):
            raise Refused("The number to call must be in international format: + and 7 to 15 digits.")
        self.start()
        with self._lock:
            if line.placing or any(v.phone == "customer" and not v.ended for v in line.calls.values()):
                raise Refused("The customer phone is already on a call; hang up first.", 409)
            # What the emulator reports about this call before live_call returns is this line's.
            line.placing = (from_number, to_number)
        try:
            sid = self.emulator.live_call(from_number, to_number, client_paces_prompts=True)
        finally:
            with self._lock:
                line.placing = None
        with self._lock:
            if sid not in line.calls:
                self._register_placed(line, sid, from_number, to_number)
        return sid

    def _register_placed(self, line: Line, sid: str, from_number: str, to_number: str) -> CallView:
        view = line.calls[sid] = CallView(sid, "customer", "inbound", status="ringing")
        self._push(line, {"type": "placed", "call_sid": sid, "phone": "customer", "to": to_number,
                          "from": from_number})
        return view

    def _mine(self, line: Line, sid: str, *, live: bool = True):
        with self._lock:
            view = line.calls.get(sid)
        if view is None:
            raise Refused("No such call on this dev phone.", 404)
        call = self.emulator.calls.get(sid)
        if call is None:
            raise Refused("The call is still being set up; try again in a moment.", 409)
        if live and view.ended:
            raise Refused("That call has ended.", 409)
        return view, call

    def press(self, line: Line, sid: str, digit: str) -> None:
        if not isinstance(digit, str) or len(digit) != 1 or digit not in KEYS:
            raise Refused("A key is one of 0-9, * and #.")
        view, call = self._mine(line, sid)
        if call.status != "in-progress":
            raise Refused("Keys reach a call once it is answered.", 409)
        self.emulator.live_press(sid, digit)

    def prompt_done(self, line: Line, sid: str, prompt_id) -> bool:
        """The page finished speaking a prompt: the call goes on (Gather timeouts start now)."""
        if isinstance(prompt_id, bool) or not isinstance(prompt_id, int):
            raise Refused("prompt must be the id of a prompt the page was sent.")
        view, call = self._mine(line, sid, live=False)
        with self._lock:
            found = view.prompts.pop(prompt_id, None)
        if found is None:
            return False  # already done, cut, or not this call's
        segment, index = found
        # Only while that very prompt still plays: a late report must not end the next one.
        if call.wait_state is not segment or segment.pos != index:
            return False
        self.emulator.live_prompt_done(sid, index)
        return True

    def answer(self, line: Line, sid: str, how: str) -> None:
        if how not in ANSWERS:
            raise Refused(f"answer as one of: {', '.join(ANSWERS)}")
        view, call = self._mine(line, sid)
        if view.direction != "outbound" or call.status not in ("queued", "ringing"):
            raise Refused("Only a ringing phone can be answered.", 409)
        self.emulator.live_answer(sid, ANSWERS[how])

    def hang_up(self, line: Line, sid: str) -> None:
        """Hang up; a ringing phone declines (Twilio reports busy to the caller)."""
        self._mine(line, sid)
        self.emulator.live_hang_up(sid)

    def audio(self, line: Line, sid: str, mulaw: bytes) -> None:
        """The microphone, 8 kHz mu-law: onto the call's media streams, as Twilio forwards it."""
        view, call = self._mine(line, sid)
        if call.status == "in-progress":
            self.emulator.live_audio(sid, mulaw)

    def say(self, line: Line, sid: str, text: str) -> None:
        """Typed words, spoken by espeak-ng in the call's language and sent as the caller's voice."""
        from telephony.audio import speak

        if not isinstance(text, str) or not text.strip() or len(text) > MAX_SAY_CHARS:
            raise Refused(f"Type 1 to {MAX_SAY_CHARS} characters to say.")
        if any(ord(c) < 32 for c in text):
            raise Refused("Words to say may not hold control characters.")
        view, call = self._mine(line, sid)
        if call.status != "in-progress":
            raise Refused("Words reach a call once it is answered.", 409)
        language = view.language or (self.runtime.ivr_config.default_language if self.runtime else "en-US")
        self.emulator.live_audio(sid, speak(text.strip(), language))

    # ---- the emulator's events (its worker thread, holding its lock) --------------------------------

    def _push(self, line: Line, event: dict) -> None:
        event["id"] = next(self._ids)
        line.events.append(event)
        self._changed.notify_all()

    def _owner(self, sid: str | None, event: dict):
        for line in self._lines.values():
            if sid in line.calls:
                return line, line.calls[sid]
        for line in self._lines.values():
            if line.placing and event["type"] != "ringing" and (event.get("from"), event.get("to")) == line.placing:
                return line, self._register_placed(line, sid, *line.placing)
        if event["type"] != "ringing":
            return None, None
        # A call the app placed: the phone whose number (customer) or address (agent) it rings.
        candidates = sorted(self._lines.values(), key=lambda l: -l.last_seen)
        for line in candidates:
            if line.customer and event["to"] == line.customer:
                phone = "customer"
            elif line.agent_address and event["to"] == line.agent_address:
                phone = "agent"
            else:
                continue
            view = line.calls[sid] = CallView(sid, phone, "outbound")
            return line, view
        return None, None

    def _on_event(self, event: dict) -> None:
        from telephony.emulator import Segment

        kind, sid = event["type"], event.get("call_sid")
        if self._stopping.is_set():
            return  # calls being torn down (the app is stopping): nobody is listening
        with self._lock:
            if kind == "message":
                for line in self._lines.values():
                    if line.customer and event.get("to") == line.customer:
                        self._push(line, {"type": "message", "phone": "customer", "body": event.get("body")})
                return
            line, view = self._owner(sid, event)
            if view is None or view.ended:
                return  # not a dev phone's call, or over (its last state change comes after `ended`)
            call = self.emulator.calls.get(sid)
            if call is not None:
                # The page speaks this call's prompts and says when each ended (live_prompt_done).
                call.client_paces_prompts = True
            base = {"call_sid": sid, "phone": view.phone}
            if kind == "ringing":
                view.status = "ringing"
                if any(v.phone == view.phone and v.sid != sid and not v.ended for v in line.calls.values()):
                    # This phone is on a call already: a second one gets busy (no call waiting here).
                    self.emulator.live_hang_up(sid)
                    self._push(line, {**base, "type": "busy", "from": event.get("from")})
                    return
                self._push(line, {**base, "type": "ringing", "from": event.get("from"), "to": event.get("to")})
            elif kind == "answered":
                view.status = "in-progress"
                self._push(line, {**base, "type": "answered"})
            elif kind == "prompt":
                segment = call.wait_state if call is not None else None
                prompt = {**base, "type": "prompt", "prompt": next(self._prompt_ids), "text": event.get("text"),
                          "voice": event.get("voice"), "language": event.get("language"),
                          "seconds": event.get("seconds"), "in_gather": bool(event.get("in_gather"))}
                if isinstance(segment, Segment):
                    view.prompts[prompt["prompt"]] = (segment, segment.pos)
                view.status = "in-progress"
                view.playing = prompt
                view.language = event.get("language") or view.language
                self._push(line, prompt)
            elif kind == "play":
                self._push(line, {**base, "type": "play", "url": event.get("url")})
            elif kind == "prompt_cut":
                self._stop_playing(line, view, "cut")
            elif kind == "key_lost":
                self._push(line, {**base, "type": "key_lost", "digit": event.get("digit")})
            elif kind == "state":
                if not self._still_playing(view, call):
                    self._stop_playing(line, view, "over")
                view.state = {"wait": event.get("wait"), "queue": event.get("queue"),
                              "conference": event.get("conference")}
                self._push(line, {**base, "type": "state", **view.state})
                self._links(call)
            elif kind == "ended":
                self._stop_playing(line, view, "over")
                view.status = event.get("status") or "completed"
                view.prompts.clear()
                view.linked = []
                self._push(line, {**base, "type": "ended", "status": view.status})
                self._links(call)

    def _still_playing(self, view: CallView, call) -> bool:
        from telephony.emulator import Segment

        if view.playing is None or call is None:
            return False
        found = view.prompts.get(view.playing["prompt"])
        segment = call.wait_state
        return found is not None and isinstance(segment, Segment) and found == (segment, segment.pos)

    def _stop_playing(self, line: Line, view: CallView, why: str) -> None:
        if view.playing is not None:
            self._push(line, {"type": "stop", "call_sid": view.sid, "phone": view.phone,
                              "prompt": view.playing["prompt"], "why": why})
            view.prompts.pop(view.playing["prompt"], None)
            view.playing = None

    def _connected(self, call) -> list:
        """The calls this one can talk to now: its bridged peer, or the others in its started conference."""
        from telephony.emulator import Talking

        state = call.wait_state if call is not None else None
        if not isinstance(state, Talking) or call.status != "in-progress":
            return []
        if state.conference is not None:
            return [c for c in state.conference.connected(call) if c.status == "in-progress"]
        return [state.peer] if state.peer is not None and state.peer.status == "in-progress" else []

    def _links(self, call) -> None:
        """Tell every phone in a conversation with this call who it is connected to now."""
        if call is None:
            return
        from telephony.emulator import Talking

        touched = {call.sid: call}
        touched.update((c.sid, c) for c in self._connected(call))
        state = call.wait_state
        if isinstance(state, Talking) and state.conference is not None:
            touched.update((c.sid, c) for c in state.conference.participants)
        for line in self._lines.values():  # whoever was connected to this call hears it moved on too
            for view in line.calls.values():
                if any(item["call_sid"] == call.sid for item in view.linked) and view.sid in self.emulator.calls:
                    touched[view.sid] = self.emulator.calls[view.sid]
        for each in touched.values():
            line, view = self._owner(each.sid, {"type": "link"})
            if view is None:
                continue
            linked = [] if view.ended else [self._describe(c) for c in self._connected(each)]
            if linked != view.linked:
                view.linked = linked
                self._push(line, {"type": "link", "call_sid": each.sid, "phone": view.phone, "with": linked})

    def _describe(self, call) -> dict:
        _, view = self._owner(call.sid, {"type": "link"})
        address = call.to_number if call.direction != "inbound" else call.from_number
        return {"call_sid": call.sid, "phone": view.phone if view else None, "address": address}


# ---- the agent phone: agents through agents.services, as the supervisor pages and the API do ----------

DEMO_AGENT_ADDRESS = "client:devphone-{skill}"  # a Twilio Client identity: rings only the dev phone
AGENT_STATES_BY_HAND = ("available", "offline")


def agent_json(agent) -> dict:
    return {"id": agent.id, "name": agent.name, "address": agent.address, "skills": agent.skills,
            "state": agent.state, "version": agent.version}


def list_agents(runtime) -> list[dict]:
    from agents import services as agents
    from storage.db import transaction

    with transaction(runtime.sessions) as session:
        return [agent_json(a) for a in agents.list_agents(session)]


def add_demo_agent(runtime, skill: str) -> dict:
    """An agent for `skill` whose phone is this page (created once, then reused)."""
    from agents import services as agents
    from agents.exceptions import AgentExists
    from storage.db import transaction

    found = runtime.ivr_config.skills.get(skill) if isinstance(skill, str) else None
    if found is None:
        raise Refused(f"Pick one of the skills: {', '.join(runtime.ivr_config.skills)}.")
    name = f"Dev phone agent, {found.label_in(runtime.ivr_config.default_language)}"
    try:
        with transaction(runtime.sessions) as session:
            agent = agents.add_agent(session, name=name, address=DEMO_AGENT_ADDRESS.format(skill=skill),
                                     skills={skill: 5}, now=runtime.clock.now(), wrap_up_seconds=10,
                                     state="offline", known_skills=set(runtime.ivr_config.skills))
            return agent_json(agent)
    except AgentExists:
        with transaction(runtime.sessions) as session:
            return agent_json(agents.get_agent(session, name))


def get_agent(runtime, agent_id) -> dict:
    from agents import services as agents
    from agents.exceptions import AgentNotFound
    from storage.db import transaction

    if isinstance(agent_id, bool) or not isinstance(agent_id, int):
        raise Refused("agent must be an agent's id (a whole number).")
    try:
        with transaction(runtime.sessions) as session:
            return agent_json(agents.get_agent(session, agent_id))
    except AgentNotFound:
        raise Refused(f"No agent {agent_id}.", 404) from None


def set_agent_state(runtime, agent_id, state: str) -> dict:
    """Available or offline, by hand (the dispatcher and call events move the rest)."""
    from sqlalchemy.orm.exc import StaleDataError

    from agents import services as agents
    from agents.exceptions import AgentError, AgentNotFound
    from storage.db import transaction

    if state not in AGENT_STATES_BY_HAND:
        raise Refused("state must be available or offline.")
    if isinstance(agent_id, bool) or not isinstance(agent_id, int):
        raise Refused("agent must be an agent's id (a whole number).")
    try:
        with transaction(runtime.sessions) as session:
            agent = agents.set_state(session, agents.get_agent(session, agent_id), state, runtime.clock.now(),
                                     actor="dev phone", reason="set on the dev phone")
            result = agent_json(agent)
    except AgentNotFound:
        raise Refused(f"No agent {agent_id}.", 404) from None
    except StaleDataError:
        raise Refused("The agent changed at the same moment; try again.", 409) from None
    except AgentError as refused:
        raise Refused(str(refused), 409) from None
    if result["state"] == "available":
        runtime.wake_dispatcher()
    return result


def skills_view(runtime) -> list[dict]:
    """Each skill, its label, and whether it is open now (else when it opens), for the page to show."""
    from routing import hours

    now = runtime.clock.now()
    language = runtime.ivr_config.default_language
    out = []
    for skill in runtime.ivr_config.skills.values():
        opening = None if hours.is_open(skill, now) else hours.next_opening(skill, now)
        out.append({"name": skill.name, "label": skill.label_in(language), "digit": skill.digit,
                    "open": hours.is_open(skill, now), "timezone": skill.timezone.key,
                    "opens_at": opening.isoformat() if opening else None})
    return out
