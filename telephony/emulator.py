"""Twilio's voice side, emulated: an account with phones, calls that follow TwiML, queues, conferences.

One event-driven core, two drivers:

- STEPPED (tests, `flask devphone call`): synchronous and deterministic, on virtual time. A caller
  action (`press`, `wait`, `say`, `hang_up`, `answer`) is applied, then the emulator runs until every
  call waits for a person again: a `<Gather>` (its prompts listed in `heard`), a `<Connect><Stream>`,
  a queue, a ringing phone, a conversation. Prompts nobody can interrupt play at once. REST requests
  that arrive meanwhile (from the app's threads too) are applied in order; after speech the driver waits
  a bounded real time for the app's reaction.
- LIVE (people): `start_live()` runs a worker thread with real timers (prompt lengths from the text or
  reported by a client, Gather timeouts, Pause, ring timeouts, answering-machine detection), and takes
  actions from other threads (`live_press`, `live_answer`, ...); `subscribe` reports what happens.

Rules followed (Twilio's documentation; docs/dev-phone.md lists what is simplified):
- Every webhook is signed with twilio's RequestValidator over the full public URL (+ sorted POST
  parameters), with Twilio's parameter names; a URL fragment (#rc=2...) is never sent or signed.
- Keys count only inside `<Gather>`: a key during a `<Say>`/`<Play>` outside one is lost; a key during
  a prompt nested in `<Gather input="dtmf">` ends that prompt (and the Gather's remaining prompts) and
  counts. finishOnKey (default #) is not part of Digits; numDigits ends the Gather; `timeout` seconds
  after the prompts and between keys submit the digits so far, or with none the Gather falls through.
- `<Start><Stream>` forks the caller's audio and does not block; it runs across documents until
  `<Stop><Stream name>` or the end of the call. `<Connect><Stream>` blocks until the app closes the
  socket, then requests the Connect action (or goes on with the next verb). Keys travel as `dtmf`
  messages only on `<Connect><Stream>`.
- `calls(sid).update(url=...|twiml=...)` stops whatever the live call is doing and runs the new
  document; `status=completed|canceled` ends it. The end of a document hangs up.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import math
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from twilio.request_validator import RequestValidator

from telephony import audio
from telephony.media import MediaStream
from telephony.rest import ENDED, RestApi, rfc2822
from telephony.transport import Transport
from telephony.twiml import TwiMLError, check

log = logging.getLogger("telephony")

ACCOUNT_SID = "AC" + "0" * 32
API_VERSION = "2010-04-01"
DEFAULT_NUMBER = "+15005550006"
MACHINE = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax", "unknown")
ANSWERS = ("manual", "human") + MACHINE + ("busy", "no-answer", "failed")
WAIT_VERBS = ("Play", "Say", "Pause", "Gather", "Redirect", "Leave", "Hangup")  # allowed in a waitUrl document
WHISPER_VERBS = ("Play", "Say", "Pause", "Redirect")  # <Queue url> and <Number url> documents
AMD_SECONDS = {"human": 2.1, "machine_start": 3.5}  # how long detection takes before the verdict
SPEECH_SETTLE_SECONDS = 0.4  # after the app reacted to speech, how long to watch for a follow-up


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def prompt_seconds(text: str) -> float:
    """How long a <Say> takes: about 2.7 words a second, as Twilio's voices speak."""
    return 0.3 + len((text or "").split()) / 2.7


class WebhookError(AssertionError):
    """The app answered a webhook with an error, or with TwiML that Twilio would refuse (strict mode)."""


# ---- what is thrown into a call's program ---------------------------------------------------------

class Interrupt(Exception):
    pass


class HungUp(Interrupt):
    def __init__(self, status: str = "completed"):
        super().__init__(status)
        self.status = status


@dataclass
class Target:
    """The next document: a URL to fetch (with extra parameters) or TwiML given inline."""

    url: str | None = None
    method: str = "POST"
    params: dict = field(default_factory=dict)
    twiml: str | None = None


class Redirected(Interrupt):
    def __init__(self, target: Target):
        super().__init__(target.url or "twiml")
        self.target = target


class Dequeued(Interrupt):
    def __init__(self, by: "Call", url: str | None, method: str):
        super().__init__(by.sid)
        self.by, self.url, self.method = by, url, method


class RemovedFromQueue(Interrupt):
    def __init__(self, url: str, method: str):
        super().__init__(url)
        self.url, self.method = url, method


class _Leave(Exception):
    pass


# ---- what a call waits for --------------------------------------------------------------------------

@dataclass(eq=False)
class Prompt:
    kind: str  # say | play | pause
    text: str
    seconds: float
    in_gather: bool
    voice: str | None = None
    language: str | None = None


@dataclass(eq=False)
class GatherSpec:
    action: str
    method: str
    num_digits: int | None
    finish_on_key: str
    timeout: float
    dtmf: bool
    action_on_empty: bool
    prompted: bool


@dataclass(eq=False)
class Segment:
    """Prompts that play one after the other, maybe ending in a Gather's input window."""

    items: list[Prompt]
    gather: GatherSpec | None
    pos: int = 0
    announced: list[int] = field(default_factory=list)  # indexes into call.heard, per say item
    logged: list[int] = field(default_factory=list)  # and into call.log

    @property
    def listening(self) -> bool:
        return self.gather is not None and self.gather.dtmf

    @property
    def finite(self) -> bool:
        return all(math.isfinite(p.seconds) for p in self.items)

    @property
    def silent(self) -> bool:
        return all(p.kind == "pause" for p in self.items)


@dataclass(eq=False)
class GatherInput:
    gather: GatherSpec
    digits: str


@dataclass(eq=False)
class StreamBlock:
    stream: MediaStream


@dataclass(eq=False)
class QueueRefetch:
    queue: "Queue"


@dataclass(eq=False)
class Ringing:
    child: "Call"
    timeout: float


@dataclass(eq=False)
class QueueDial:
    queue: "Queue"
    timeout: float


@dataclass(eq=False)
class Talking:
    peer: "Call | None" = None
    conference: "Conference | None" = None


@dataclass
class Phone:
    """Who answers calls to an address (a number, client:name, sip:...)."""

    address: str
    answer: str = "manual"  # manual: rings until a person (the test, the browser) decides
    ring_seconds: float = 2.0  # live mode: rings before an automatic answer


class Queue:
    def __init__(self, name: str, emulator: "Emulator"):
        self.name = name
        self.sid = new_sid("QU")
        self.emulator = emulator
        self.members: list[Call] = []
        self.joined: dict[str, float] = {}
        self.waited: list[float] = []

    def join(self, call: "Call") -> None:
        self.members.append(call)
        self.joined[call.sid] = self.emulator.now()

    def remove(self, call: "Call") -> bool:
        if call in self.members:
            self.members.remove(call)
            self.waited.append(self.emulator.now() - self.joined.get(call.sid, self.emulator.now()))
            return True
        return False

    def time_of(self, call: "Call") -> int:
        return int(self.emulator.now() - self.joined.get(call.sid, self.emulator.now()))

    def params_for(self, call: "Call") -> dict:
        average = int(sum(self.waited) / len(self.waited)) if self.waited else 0
        return {"QueueSid": self.sid, "QueuePosition": str(self.members.index(call) + 1 if call in self.members else 0),
                "QueueTime": str(self.time_of(call)), "AvgQueueTime": str(average),
                "CurrentQueueSize": str(len(self.members))}


class Conference:
    def __init__(self, name: str):
        self.name = name
        self.sid = new_sid("CF")
        self.participants: list[Call] = []
        self.started = False
        self.ended = False
        self.enders: set[str] = set()

    def connected(self, call: "Call") -> list["Call"]:
        return [c for c in self.participants if c is not call] if self.started else []


# ---- a call -------------------------------------------------------------------------------------------

class Call:
    def __init__(self, emulator: "Emulator", sid: str, from_number: str, to_number: str, direction: str,
                 record: dict | None = None, parent: "Call | None" = None):
        self.emulator = emulator
        self.twilio = emulator  # the name the tests used for the account
        self.sid = sid
        self.call_sid = sid
        self.from_number = from_number
        self.to_number = to_number
        self.direction = direction
        self.parent = parent
        self.record = record or {}
        self.status = "queued" if direction != "inbound" else "ringing"
        self.answered_by: str | None = None
        self.heard: list[str] = []
        self.played: list[str] = []
        self.documents: list[str] = []
        self.lost_keys: list[str] = []
        self.log: list[tuple[str, str]] = []  # (what, detail) in order, for people reading a call
        self.reactions: list[tuple[float, str]] = []  # when the app moved this call on (update, stream closed)
        self.updates_applied = 0
        self.steers_seen = 0
        self.actions = 0  # caller actions applied (stepped driver)
        # Stepped: halt at every prompt, not only where keys count, so a test can act while one plays
        # (hang up during a greeting); wait() or press() lets it play out.
        self.stops_at_prompts = False
        self.client_paces_prompts = False  # live: a client (a browser speaking them) says when a prompt ends
        self._dialled: str | None = None  # the party a running <Dial> connected
        self._wait = None
        self.queue: str | None = None
        self.conference: str | None = None
        self.peer: Call | None = None
        self.connect_stream: MediaStream | None = None
        self.forked: dict[str, MediaStream] = {}
        self.amd_pending: str | None = None
        self.started_at = emulator.now()
        self.answered_at: float | None = None
        self.ended_at: float | None = None
        self.ring_deadline: float | None = None
        self._program = None
        self._cause = "start"
        self._status_seq = 0

    def __repr__(self) -> str:
        return f"<Call {self.sid[:10]} {self.direction} {self.from_number}->{self.to_number} {self.status}>"

    # ---- what a caller or called party does (stepped driver) ---------------------------------------

    def press(self, digits: str, barge_in: bool = False) -> "Call":
        """Key `digits`, one after the other. After the prompts finished (default), or while the current
        prompt plays (`barge_in=True`: lost outside a Gather, ends the prompt inside one)."""
        with self.emulator._driving():
            self._require_live()
            self.actions += 1
            if not barge_in:
                self._finish_prompts()
            for digit in digits:
                if self.status in ENDED:
                    self.lost_keys.append(digit)
                    continue
                self._key(digit)
                self.emulator._settle()
        self._await_stream_reaction()
        return self

    def wait(self) -> "Call":
        """The caller does nothing: the prompts play out and the current timeout runs (a Gather falls
        through or submits the digits so far, a queue's wait document is fetched again, a dialled
        phone rings out, a <Connect><Stream> hears silence until the app closes it)."""
        with self.emulator._driving():
            self._require_live()
            self.actions += 1
            state = self.wait_state
            if isinstance(state, Segment):
                if state.finite:
                    self._finish_prompts()
                else:
                    self._resume(state, None)  # an endless prompt (hold music) ends only here
                    self.emulator._settle()
                if not isinstance(self.wait_state, GatherInput):
                    return self
            state = self.wait_state
            if isinstance(state, GatherInput):
                self.emulator._advance_time(state.gather.timeout)
                self._resume(state, ("timeout",))
            elif isinstance(state, QueueRefetch):
                self._resume(state, ("go",))
            elif isinstance(state, Ringing):
                self.emulator._advance_time(state.timeout)
                state.child._ring_out("no-answer")
            elif isinstance(state, QueueDial):
                self.emulator._advance_time(state.timeout)
                self._resume(state, ("timeout",))
            elif isinstance(state, StreamBlock):
                pass  # silence below, outside the driver
            elif self.status == "ringing" and self.direction != "inbound":
                self._ring_out("no-answer")
            else:
                raise AssertionError(f"nothing to wait for: {self!r} is {self.describe_wait()}")
            self.emulator._settle()
        if isinstance(self.wait_state, StreamBlock):
            self._silence_until_closed()
        return self

    def say(self, wav: str | None = None, pcm: bytes | None = None, rate: int = 8000, text: str | None = None,
            mulaw: bytes | None = None, barge_in: bool = False, timeout: float = 30.0, language: str = "en-US") -> bool:
        """Speak over the running media stream(s), then wait (bounded) for the app's reaction: its REST
        update(s) of this call and/or closing the stream. False when no stream carried the speech."""
        if wav is not None:
            line = audio.wav_to_mulaw(wav)
        elif pcm is not None:
            line = audio.pcm_to_mulaw(pcm, rate)
        elif text is not None:
            line = audio.speak(text, language)
        else:
            line = mulaw or b""
        with self.emulator._driving():
            self._require_live()
            self.actions += 1
            if not barge_in:
                self._finish_prompts()
            streams = self._caller_streams()
            if not streams:
                self.log.append(("said, nobody listening", text or (wav or "audio")))
                return False
            self.log.append(("said", text or (wav.rsplit("/", 1)[-1] if wav else f"{len(line) / 8000:.1f} s of audio")))
            started = time.monotonic()
            paced = self.emulator.media_paced
            for stream in streams:
                stream.spoken_to = True
                stream.send_audio(line + audio.SILENCE_FRAME * 50, paced=paced)
        # A reaction after the voice ended is the app's answer; one before it is the app noticing speech.
        voice_end = started + audio.voice_end_seconds(line) if paced else started
        self._await_reaction(started, voice_end, timeout)
        return True

    def hang_up(self) -> "Call":
        with self.emulator._driving():
            if self.status in ENDED:
                raise AssertionError(f"{self!r} has already ended")
            if self.status in ("queued", "ringing") and self.direction != "inbound":
                self._ring_out("busy")  # the called party declines
            else:
                if isinstance(self._wait, Segment):
                    self._cut(self._wait)  # the prompt playing stops; the rest is never heard
                self._hang_up("completed")
            self.emulator._settle()
        return self

    # outbound calls: the called party

    def ring(self) -> "Call":
        """The phone rings (initiated and ringing were reported when Twilio placed the call)."""
        self.emulator.run()
        return self

    def answer(self, answered_by: str | None = None) -> "Call":
        """Pick up. With answering-machine detection, `answered_by` is the verdict it will reach
        (asynchronous detection: sent at once when given, else when `amd()` is called)."""
        with self.emulator._driving():
            self.emulator._settle()
            self._answer(answered_by, verdict_now=answered_by is not None)
            self.emulator._settle()
        return self

    def ring_out(self, status: str = "no-answer") -> "Call":
        """busy, no-answer, failed, canceled: the call ends without being answered."""
        with self.emulator._driving():
            self.emulator._settle()
            self._ring_out(status)
            self.emulator._settle()
        return self

    def amd(self, answered_by: str = "human") -> "Call":
        """Asynchronous answering-machine detection reaches its verdict now (sent even if late: Twilio's
        callbacks can arrive after the call ended)."""
        with self.emulator._driving():
            self.emulator._settle()
            self._send_amd(answered_by)
            self.emulator._settle()
        return self

    def resend_status(self, status: str | None = None, **extra) -> None:
        """Twilio sends a status callback again (late or repeated)."""
        with self.emulator._driving():
            self._status_callback(status or self.status, force=True, **extra)

    def follow_steering(self) -> bool:
        """Whether the app steered this call (calls(sid).update) since the last look; updates are
        applied as they arrive, this only catches up and reports."""
        self.emulator.run()
        seen, self.steers_seen = self.steers_seen, self.updates_applied
        return self.updates_applied > seen

    # ---- what the caller has heard -------------------------------------------------------------------

    @property
    def last_heard(self) -> str:
        return self.heard[-1] if self.heard else ""

    def heard_text(self) -> str:
        return "\n".join(self.heard)

    def take_heard(self) -> str:
        text = self.heard_text()
        self.heard.clear()
        if isinstance(self._wait, Segment):
            self._wait.announced = []
        return text

    @property
    def ended(self) -> bool:
        """Whether the call is over, once what already reached Twilio (REST requests) is applied."""
        self.emulator.run()
        return self.status in ENDED

    @property
    def wait_state(self):
        return self._wait

    @property
    def pending(self) -> GatherSpec | None:
        """The Gather the caller is at (its prompts playing or its input window open), if any."""
        state = self._wait
        if isinstance(state, Segment):
            return state.gather
        if isinstance(state, GatherInput):
            return state.gather
        return None

    @property
    def stream(self) -> MediaStream | None:
        """The <Connect><Stream> the call is blocked on, if any."""
        return self.connect_stream if isinstance(self._wait, StreamBlock) else None

    def describe_wait(self) -> str:
        state = self._wait
        if self.status in ENDED:
            return f"ended ({self.status})"
        if self.status in ("queued", "ringing") and self.direction != "inbound":
            return "ringing"
        return type(state).__name__ if state is not None else "running"

    def params(self) -> dict:
        params = {"AccountSid": self.emulator.account_sid, "ApiVersion": API_VERSION, "CallSid": self.sid,
                  "CallStatus": self.status, "Direction": self.direction, "From": self.from_number,
                  "To": self.to_number, "Caller": self.from_number, "Called": self.to_number}
        if self.parent is not None:
            params["ParentCallSid"] = self.parent.sid
        return params

    _params = params  # the name older tests used

    # ---- inside the driver ---------------------------------------------------------------------------

    def _require_live(self) -> None:
        self.emulator._settle()
        if self.status in ENDED:
            raise AssertionError(f"{self!r} has ended; last heard: {self.last_heard!r}")

    def _finish_prompts(self) -> None:
        """Let the current prompts play to their end."""
        state = self._wait
        if isinstance(state, Segment) and state.finite:
            self.emulator._advance_time(sum(p.seconds for p in state.items[state.pos:]))
            self._resume(state, None)
            self.emulator._settle()

    def _key(self, digit: str) -> None:
        state = self._wait
        if isinstance(state, Segment):
            item = state.items[state.pos] if state.pos < len(state.items) else None
            if item is not None and item.in_gather and state.gather.dtmf:
                self._cut(state)
                self.log.append(("keyed", digit))
                self._resume(state, digit)
                return
        elif isinstance(state, GatherInput) and state.gather.dtmf:
            self.log.append(("keyed", digit))
            self._resume(state, ("key", digit))
            return
        elif isinstance(state, StreamBlock):
            self.log.append(("keyed", digit))
            self._open_stream(state.stream)
            state.stream.send_dtmf(digit)
            return
        self.lost_keys.append(digit)
        self.log.append(("keyed, lost", digit))
        self.emulator._notify("key_lost", self, digit=digit)

    def _cut(self, segment: Segment) -> None:
        """The prompt playing now stops; the ones after it never play."""
        keep = self._said_before(segment, segment.pos) + 1
        for index in sorted(segment.announced[keep:], reverse=True):
            if index < len(self.heard):
                del self.heard[index]
        for index in sorted(segment.logged[keep:], reverse=True):
            if index < len(self.log):
                del self.log[index]
        segment.announced, segment.logged = segment.announced[:keep], segment.logged[:keep]
        if segment.pos < len(segment.items) and segment.items[segment.pos].kind != "pause":
            self.log.append(("prompt cut", segment.items[segment.pos].text))
            self.emulator._notify("prompt_cut", self, text=segment.items[segment.pos].text, index=segment.pos)

    @staticmethod
    def _said_before(segment: Segment, pos: int) -> int:
        """Index (in `announced`) of the say item at `pos`, counting says only."""
        return sum(1 for p in segment.items[:pos + 1] if p.kind == "say") - 1

    def _caller_streams(self) -> list[MediaStream]:
        streams = [s for s in self.forked.values() if s.carries_caller]
        if self.connect_stream is not None and not self.connect_stream.closed:
            self._open_stream(self.connect_stream)
            streams.append(self.connect_stream)
        return [s for s in streams if s.opened and not s.closed]

    def _open_stream(self, stream: MediaStream) -> None:
        if not stream.opened:
            stream.open(keepalive=self.emulator.media_keepalive)

    def _await_stream_reaction(self) -> None:
        """After keys on a <Connect><Stream>: wait (bounded) for the app to close it."""
        if isinstance(self._wait, StreamBlock) and self._wait.stream.opened:
            started = time.monotonic()
            self._await_reaction(started, started, 10.0)

    def _silence_until_closed(self, max_audio_seconds: float = 30.0) -> None:
        state = self._wait
        with self.emulator._driving():
            self._open_stream(state.stream)
        started = time.monotonic()
        sent = 0.0
        while sent < max_audio_seconds and self._wait is state and not state.stream.closed:
            sent += state.stream.send_audio(audio.SILENCE_FRAME * 50, paced=False)
            self.emulator._wait_for_event(0.05)
            self.emulator.run()
        self._await_reaction(started, started, 5.0)

    def _await_reaction(self, started: float, audio_end: float, timeout: float) -> None:
        """Run the emulator while the app reacts to what the caller did: return once it moved the call
        on after the audio ended (REST update, stream closed) and nothing followed for a moment; keep
        waiting while the call sits in a silent wait the app put it in (it is still listening)."""
        em = self.emulator
        deadline = max(audio_end, time.monotonic()) + timeout
        settled_at = None
        seen = len(self.reactions)
        while time.monotonic() < deadline:
            em._wait_for_event(0.05)
            em.run()
            if self.status in ENDED:
                return
            new = self.reactions[seen:]
            if new:
                seen = len(self.reactions)
                if time.monotonic() >= audio_end or any(kind == "closed" for _, kind in new):
                    settled_at = time.monotonic()
            if settled_at is not None and time.monotonic() - settled_at >= SPEECH_SETTLE_SECONDS:
                if self._listening_silently():
                    settled_at = None
                    continue
                return

    def _listening_silently(self) -> bool:
        """Put by the app's update into a wait with nothing to hear (a Pause, a prompt-less Gather) while
        a stream still carries the caller: the app is still working on the speech."""
        if self._cause != "update" or not any(s.carries_caller for s in self.forked.values()):
            return False
        state = self._wait
        if isinstance(state, Segment):
            return state.silent
        if isinstance(state, GatherInput):
            return not state.gather.prompted
        return False

    def _resume(self, expected, value) -> None:
        """Send `value` into the program if it still waits for `expected`."""
        if self._program is None or self._wait is not expected:
            return
        self._step(lambda: self._program.send(value))

    def _throw(self, exc: Exception) -> None:
        if self._program is None:
            return
        self._step(lambda: self._program.throw(exc))

    def _step(self, action) -> None:
        self.emulator._depth += 1
        try:
            state = action()
        except StopIteration:
            self._program, self._wait = None, None
            return
        finally:
            self.emulator._depth -= 1
        self._set_wait(state)

    def _set_wait(self, state) -> None:
        self._wait = state
        em = self.emulator
        if isinstance(state, Segment):
            if not em.live:
                # Stepped: the caller will hear all of it unless they interrupt (then it is taken back).
                for item in state.items:
                    self._announce(state, item)
            elif state.items:
                self._announce(state, state.items[0])
        em._changed(self)

    def _announce(self, segment: Segment, item: Prompt) -> None:
        if item.kind == "say":
            segment.announced.append(len(self.heard))
            segment.logged.append(len(self.log))
            self.heard.append(item.text)
            self.log.append(("heard", item.text))
            self.emulator._notify("prompt", self, text=item.text, voice=item.voice, language=item.language,
                                  seconds=item.seconds, in_gather=item.in_gather)
        elif item.kind == "play":
            self.played.append(item.text)
            self.log.append(("played", item.text))
            self.emulator._notify("play", self, url=item.text)

    def _start(self, target: Target) -> None:
        self._program = self._main(target)
        self._step(lambda: next(self._program))

    # ---- the program: TwiML, verb by verb --------------------------------------------------------

    def _main(self, target: Target | None):
        try:
            while target is not None:
                try:
                    root = self._load(target)
                    target = yield from self._run(list(root), target.url)
                except Redirected as redirected:
                    self._cause = "update"
                    target = redirected.target
                    continue
                self._cause = "document"
            self.log.append(("end of document", "Twilio hangs up"))
            self._finish("completed")
        except HungUp as hung_up:
            self._finish(hung_up.status)

    def _load(self, target: Target) -> ET.Element:
        if target.twiml is not None:
            body = target.twiml
        else:
            params = {**self.params(), **target.params}
            reply = self.emulator._request(target.url, params, target.method)
            if self.status == "ringing" and self.direction == "inbound":
                self.status, self.answered_at = "in-progress", self.emulator.now()
                self.emulator.rest.update_record(self.sid, status="in-progress", start_time=rfc2822(self.emulator.clock()))
            if reply is None:
                self.heard.append("We are sorry, an application error has occurred. Goodbye.")
                raise HungUp("completed")
            body = reply
        self.documents.append(body)
        try:
            return check(body)
        except TwiMLError as exc:
            if self.emulator.strict:
                raise WebhookError(f"{target.url}: {exc}") from exc
            self.log.append(("invalid TwiML", str(exc)))
            self.heard.append("We are sorry, an application error has occurred. Goodbye.")
            raise HungUp("completed") from exc

    def _run(self, verbs: list[ET.Element], doc_url: str | None, queue: Queue | None = None,
             allowed: tuple[str, ...] | None = None):
        """Follow one document's verbs. Returns the next Target (Redirect, an action), or None when
        the document ran out."""
        i = 0
        while i < len(verbs):
            verb = verbs[i]
            tag = verb.tag
            if allowed is not None and tag not in allowed:
                message = f"<{tag}> is not allowed in this document (only {', '.join(allowed)})"
                if self.emulator.strict:
                    raise WebhookError(message)
                self.log.append(("ignored", message))
                i += 1
                continue
            if tag in ("Say", "Play", "Pause", "Gather"):
                items: list[Prompt] = []
                while i < len(verbs) and verbs[i].tag in ("Say", "Play", "Pause"):
                    items += self._prompts(verbs[i], in_gather=False)
                    i += 1
                gather = None
                if i < len(verbs) and verbs[i].tag == "Gather" and (allowed is None or "Gather" in allowed):
                    gather_el = verbs[i]
                    nested: list[Prompt] = []
                    for child in gather_el:
                        nested += self._prompts(child, in_gather=True)
                    gather = self._gather_spec(gather_el, doc_url, prompted=bool(nested))
                    items += nested
                    i += 1
                first_key = None
                if items:
                    first_key = yield Segment(items, gather)
                if gather is not None:
                    target = yield from self._gather(gather, first_key, queue)
                    if target is not None:
                        return target
                continue
            i += 1
            if tag == "Redirect":
                return Target(urljoin(doc_url or "", (verb.text or "").strip()),
                              verb.attrib.get("method", "POST").upper(), self._queue_params(queue))
            if tag == "Hangup":
                raise HungUp("completed")
            if tag == "Reject":
                raise HungUp("busy" if verb.attrib.get("reason") == "busy" else "failed")
            if tag == "Leave":
                if queue is None:
                    self.log.append(("ignored", "<Leave> outside a queue"))
                    continue
                raise _Leave()
            if tag == "Enqueue":
                target = yield from self._enqueue(verb, doc_url)
            elif tag == "Dial":
                target = yield from self._dial(verb, doc_url)
            elif tag == "Connect":
                target = yield from self._connect(verb, doc_url)
            elif tag == "Start":
                self._start_streams(verb, doc_url)
                target = None
            elif tag == "Stop":
                self._stop_streams(verb)
                target = None
            else:
                message = f"the emulator does not follow <{tag}>"
                if self.emulator.strict:
                    raise WebhookError(message)
                self.log.append(("ignored", message))
                target = None
            if target is not None:
                return target
        return None

    def _queue_params(self, queue: Queue | None) -> dict:
        return queue.params_for(self) if queue is not None else {}

    def _prompts(self, verb: ET.Element, in_gather: bool) -> list[Prompt]:
        loop = int(verb.attrib.get("loop", "1") or 1)
        if verb.tag == "Pause":
            return [Prompt("pause", "", float(verb.attrib.get("length", "1")), in_gather)]
        if verb.tag == "Play" and verb.attrib.get("digits"):
            return [Prompt("play", f"digits {verb.attrib['digits']}", 0.1 * len(verb.attrib["digits"]), in_gather)]
        text = (verb.text or "").strip()
        kind = "say" if verb.tag == "Say" else "play"
        seconds = prompt_seconds(text) if kind == "say" else self.emulator.play_seconds
        if loop == 0:
            return [Prompt(kind, text, math.inf, in_gather, verb.attrib.get("voice"), verb.attrib.get("language"))]
        return [Prompt(kind, text, seconds, in_gather, verb.attrib.get("voice"), verb.attrib.get("language"))
                for _ in range(loop)]

    @staticmethod
    def _gather_spec(verb: ET.Element, doc_url: str | None, prompted: bool) -> GatherSpec:
        inputs = verb.attrib.get("input", "dtmf").split()
        num = verb.attrib.get("numDigits")
        timeout = verb.attrib.get("timeout", "5")
        return GatherSpec(
            action=urljoin(doc_url or "", verb.attrib["action"]) if verb.attrib.get("action") else doc_url,
            method=verb.attrib.get("method", "POST").upper(),
            num_digits=int(num) if num else None,
            finish_on_key=verb.attrib.get("finishOnKey", "#"),
            timeout=5.0 if timeout == "auto" else float(timeout),
            dtmf="dtmf" in inputs,
            action_on_empty=verb.attrib.get("actionOnEmptyResult", "false") == "true",
            prompted=prompted,
        )

    def _gather(self, gather: GatherSpec, first_key: str | None, queue: Queue | None):
        digits = ""
        key = first_key
        while True:
            if key is not None:
                if gather.finish_on_key and key == gather.finish_on_key:
                    if digits or gather.action_on_empty:
                        return self._gather_target(gather, digits, key, queue)
                    return None
                digits += key
                if gather.num_digits and len(digits) >= gather.num_digits:
                    return self._gather_target(gather, digits, "", queue)
            event = yield GatherInput(gather, digits)
            if event[0] == "timeout":
                if digits or gather.action_on_empty:
                    return self._gather_target(gather, digits, "", queue)
                self.log.append(("no input", "the Gather falls through"))
                return None
            key = event[1]

    def _gather_target(self, gather: GatherSpec, digits: str, finished_on: str, queue: Queue | None) -> Target:
        self.log.append(("gathered", digits + (f" (ended with {finished_on})" if finished_on else "")))
        return Target(gather.action, gather.method,
                      {**self._queue_params(queue), "Digits": digits, "FinishedOnKey": finished_on})

    # Enqueue ----------------------------------------------------------------------------------------

    def _enqueue(self, verb: ET.Element, doc_url: str | None):
        em = self.emulator
        name = (verb.text or "").strip()
        action = urljoin(doc_url or "", verb.attrib["action"]) if verb.attrib.get("action") else None
        method = verb.attrib.get("method", "POST").upper()
        wait_url = urljoin(doc_url or "", verb.attrib["waitUrl"]) if verb.attrib.get("waitUrl") else None
        wait_method = verb.attrib.get("waitUrlMethod", "POST").upper()
        queue = em.queue(name)
        queue.join(self)
        self.queue = name
        self.log.append(("enqueued", name))
        em._changed(self)
        for waiting in list(em.calls.values()):
            if isinstance(waiting._wait, QueueDial) and waiting._wait.queue is queue:
                em._post(("wake", waiting, waiting._wait, ("member", self)))
                break
        result = None
        follow: Target | None = None
        try:
            try:
                yield from self._hold(queue, wait_url, wait_method)
            except _Leave:
                result = "leave"
            except Dequeued as dequeued:
                result = "bridged"
                queue_time = queue.time_of(self)
                queue.remove(self)
                self.queue = None
                self.log.append(("dequeued by", dequeued.by.sid))
                if dequeued.url:
                    whisper = Target(dequeued.url, dequeued.method, {
                        "QueueSid": queue.sid, "QueueTime": str(queue_time), "DequeingCallSid": dequeued.by.sid})
                    root = self._load(whisper)
                    yield from self._run(list(root), dequeued.url, allowed=WHISPER_VERBS)
                self.peer = dequeued.by
                em._post(("wake", dequeued.by, None, ("bridged", self)))
                yield Talking(peer=dequeued.by)
                self.peer = None
            except RemovedFromQueue as removed:
                result = "redirected"
                follow = Target(removed.url, removed.method)
        except HungUp:
            self._queue_result(queue, action, "hangup" if self.queue else "bridged", ignore_answer=True)
            raise
        except Redirected:
            self._queue_result(queue, action, "redirected", ignore_answer=True)
            raise
        finally:
            if queue.remove(self) or self.queue:
                self.queue = None
                em._changed(self)
        if follow is not None:
            self._queue_result(queue, action, result, ignore_answer=True)
            return follow
        self.log.append(("left queue", f"{name}: {result}"))
        if action:
            return Target(action, method, {"QueueResult": result, "QueueSid": queue.sid,
                                           "QueueTime": str(queue.time_of(self))})
        return None

    def _queue_result(self, queue: Queue, action: str | None, result: str, ignore_answer: bool) -> None:
        self.log.append(("left queue", f"{queue.name}: {result}"))
        if action:
            self.emulator._request(action, {**self.params(), "QueueResult": result, "QueueSid": queue.sid,
                                            "QueueTime": str(queue.time_of(self))}, "POST", twiml=not ignore_answer)

    def _hold(self, queue: Queue, wait_url: str | None, wait_method: str):
        em = self.emulator
        while True:
            if wait_url is None:
                # Twilio's default hold music, until something takes the caller out of the queue.
                yield Segment([Prompt("play", "hold music", math.inf, False)], None)
                continue
            target: Target | None = Target(wait_url, wait_method, queue.params_for(self))
            heard = len(self.heard) + len(self.played)
            acted = self.actions
            while target is not None:
                root = self._load(target)
                target = yield from self._run(list(root), target.url, queue=queue, allowed=WAIT_VERBS)
                if target is not None:
                    target.params = {**queue.params_for(self), **target.params}
            if not em.live and self.actions == acted:
                # Stepped, and nothing in this wait document waited for the caller: halt here, or the
                # loop would never give the test back control (wait() lets time pass).
                yield QueueRefetch(queue)
            elif len(self.heard) + len(self.played) == heard:
                yield Segment([Prompt("pause", "", 1.0, False)], None)  # an empty wait document

    # Dial ---------------------------------------------------------------------------------------------

    def _dial(self, verb: ET.Element, doc_url: str | None):
        action = urljoin(doc_url or "", verb.attrib["action"]) if verb.attrib.get("action") else None
        method = verb.attrib.get("method", "POST").upper()
        timeout = float(verb.attrib.get("timeout", "30"))
        nouns = [n for n in verb if n.tag in ("Number", "Client", "Sip", "Queue", "Conference")]
        noun = nouns[0] if nouns else None
        started = self.emulator.now()
        result: dict = {}
        self._dialled = None
        try:
            if noun is None or noun.tag in ("Number", "Client", "Sip"):
                result = yield from self._dial_party(verb, noun, timeout, doc_url)
            elif noun.tag == "Queue":
                result = yield from self._dial_queue(noun, timeout, doc_url)
            else:
                result = yield from self._join_conference(noun)
        except HungUp:
            if action:  # the caller is gone: Twilio still tells the action URL; nothing it answers plays
                bridged = self._dialled is not None
                self.emulator._request(action, {
                    **self.params(), "DialCallStatus": "completed" if bridged else "canceled",
                    **({"DialCallSid": self._dialled} if bridged and self._dialled.startswith("CA") else {}),
                    "DialBridged": str(bridged).lower(),
                    "DialCallDuration": str(int(self.emulator.now() - started))}, "POST", twiml=False)
            raise
        params = {"DialCallStatus": result.pop("status"), "DialCallDuration": str(int(self.emulator.now() - started)),
                  **result}
        self.log.append(("dial ended", params["DialCallStatus"]))
        if action:
            return Target(action, method, params)
        return None

    def _dial_party(self, verb: ET.Element, noun: ET.Element | None, timeout: float, doc_url: str | None):
        em = self.emulator
        if noun is None:
            address = (verb.text or "").strip()
        elif noun.tag == "Client":
            identity = (noun.text or "").strip() or (noun.findtext("Identity") or "").strip()
            address = identity if identity.startswith("client:") else f"client:{identity}"
        else:
            address = (noun.text or "").strip()
        caller_id = verb.attrib.get("callerId") or (self.from_number if self.direction == "inbound" else self.to_number)
        url = urljoin(doc_url or "", noun.attrib["url"]) if noun is not None and noun.attrib.get("url") else None
        child = em._place(address, caller_id, "outbound-dial", parent=self, url=url,
                          method=(noun.attrib.get("method", "POST") if noun is not None else "POST"),
                          timeout=timeout,
                          status_callback=noun.attrib.get("statusCallback") if noun is not None else None,
                          events=(noun.attrib.get("statusCallbackEvent", "").split() if noun is not None else []))
        self.log.append(("dialling", address))
        try:
            event = yield Ringing(child, timeout)
            if event[0] != "answered":
                return {"status": event[1], "DialCallSid": child.sid, "DialBridged": "false"}
            self.peer, self._dialled = child, child.sid
            yield Talking(peer=child)
            return {"status": "completed", "DialCallSid": child.sid, "DialBridged": "true"}
        except Interrupt:
            if child.status not in ENDED:
                child._hang_up("completed" if child.status == "in-progress" else "canceled")
            raise
        finally:
            self.peer = None

    def _dial_queue(self, noun: ET.Element, timeout: float, doc_url: str | None):
        em = self.emulator
        queue = em.queue((noun.text or "").strip())
        url = urljoin(doc_url or "", noun.attrib["url"]) if noun.attrib.get("url") else None
        method = noun.attrib.get("method", "POST").upper()
        holder = queue.members[0] if queue.members else None
        if holder is None:
            self.log.append(("dialling queue, empty", queue.name))
            event = yield QueueDial(queue, timeout)
            if event[0] != "member":
                return {"status": "no-answer", "DialBridged": "false"}
            holder = event[1]
        self.log.append(("bridging from queue", f"{queue.name}: {holder.sid}"))
        queue.remove(holder)
        self._dialled = holder.sid
        em._post(("dequeue", holder, Dequeued(self, url, method)))
        try:
            event = yield Talking(peer=holder)
            if event and event[0] == "bridged":
                self.peer = holder
                yield Talking(peer=holder)
        except Interrupt:
            if holder.status not in ENDED and holder.peer is self:
                em._post(("wake", holder, None, ("ended",)))
            raise
        finally:
            self.peer = None
        return {"status": "completed", "DialCallSid": holder.sid, "DialBridged": "true", "QueueSid": queue.sid}

    def _join_conference(self, noun: ET.Element):
        em = self.emulator
        conference = em.conference((noun.text or "").strip())
        start = noun.attrib.get("startConferenceOnEnter", "true") == "true"
        ends = noun.attrib.get("endConferenceOnExit", "false") == "true"
        conference.participants.append(self)
        self._dialled = conference.sid
        if ends:
            conference.enders.add(self.sid)
        self.conference = conference.name
        self.log.append(("joined conference", conference.name))
        if start and not conference.started:
            conference.started = True
        em._changed(self)
        try:
            yield Talking(conference=conference)
        finally:
            if self in conference.participants:
                conference.participants.remove(self)
            self.conference = None
            if (self.sid in conference.enders and conference.started) or not conference.participants:
                conference.ended = True
                for other in list(conference.participants):
                    em._post(("wake", other, None, ("ended",)))
                em.conferences.pop(conference.name, None)
            em._changed(self)
        return {"status": "completed"}

    # Connect / Start / Stop -----------------------------------------------------------------------------

    def _stream_from(self, element: ET.Element, doc_url: str | None, bidirectional: bool) -> MediaStream:
        em = self.emulator
        url = urljoin(doc_url or "", element.attrib["url"])
        parameters = {p.attrib.get("name"): p.attrib.get("value") for p in element.findall("Parameter")}
        stream = MediaStream(account_sid=em.account_sid, call_sid=self.sid, url=url,
                             local_url=em.transport.websocket_url(url) if em.transport else url,
                             auth_token=em.auth_token, name=element.attrib.get("name"),
                             track=element.attrib.get("track", "inbound_track"), parameters=parameters,
                             bidirectional=bidirectional,
                             on_closed=lambda s: em._post(("stream_closed", self, s)))
        stream.status_callback = element.attrib.get("statusCallback")
        return stream

    def _connect(self, verb: ET.Element, doc_url: str | None):
        action = urljoin(doc_url or "", verb.attrib["action"]) if verb.attrib.get("action") else None
        element = verb.find("Stream")
        if element is None:
            message = f"the emulator does not follow <Connect><{verb[0].tag if len(verb) else ''}>"
            if self.emulator.strict:
                raise WebhookError(message)
            self.log.append(("ignored", message))
            return None
        stream = self._stream_from(element, doc_url, bidirectional=True)
        self.connect_stream = stream
        self.log.append(("stream connected", stream.url.split("?", 1)[0]))
        if self.emulator.live:
            stream.open(keepalive=True)
        try:
            yield StreamBlock(stream)
        finally:
            stream.stop()
            self.connect_stream = None
        self.log.append(("stream closed by the app", ""))
        if action:
            return Target(action, verb.attrib.get("method", "POST").upper())
        return None

    def _start_streams(self, verb: ET.Element, doc_url: str | None) -> None:
        for element in verb.findall("Stream"):
            stream = self._stream_from(element, doc_url, bidirectional=False)
            key = stream.name or stream.sid
            old = self.forked.pop(key, None)
            if old is not None:
                old.stop()
            self.forked[key] = stream
            self.log.append(("stream started", stream.name or stream.url.split("?", 1)[0]))
            stream.open(keepalive=self.emulator.media_keepalive)
            self._stream_status(stream, "stream-started")
        for other in verb:
            if other.tag != "Stream":
                self.log.append(("ignored", f"<Start><{other.tag}>"))

    def _stop_streams(self, verb: ET.Element) -> None:
        for element in verb.findall("Stream"):
            name = element.attrib.get("name")
            keys = [name] if name else list(self.forked)
            for key in keys:
                stream = self.forked.pop(key, None)
                if stream is not None:
                    stream.stop()
                    self.log.append(("stream stopped", key))
                    self._stream_status(stream, "stream-stopped")

    def _stream_status(self, stream: MediaStream, event: str) -> None:
        url = stream.status_callback
        if url:
            self.emulator._request(url, {"AccountSid": self.emulator.account_sid, "CallSid": self.sid,
                                         "StreamSid": stream.sid, "StreamName": stream.name or stream.sid,
                                         "StreamEvent": event, "Timestamp": rfc2822(self.emulator.clock())},
                                   "POST", twiml=False)

    # ---- the call's life ----------------------------------------------------------------------------

    def _answer(self, answered_by: str | None = None, verdict_now: bool = False) -> None:
        em = self.emulator
        if self.status not in ("queued", "ringing"):
            raise AssertionError(f"{self!r} cannot be answered: it is {self.status}")
        if self.status == "queued":
            self._ringing()
        self.status = "in-progress"
        self.answered_at = em.now()
        detection = self.record.get("machine_detection")
        sync_amd = detection and str(self.record.get("async_amd", "false")).lower() != "true"
        params = {}
        if sync_amd:
            self.answered_by = answered_by or "human"
            params["AnsweredBy"] = self.answered_by
        em.rest.update_record(self.sid, status="in-progress", start_time=rfc2822(em.clock()),
                              **({"answered_by": self.answered_by} if self.answered_by else {}))
        self.log.append(("answered", self.answered_by or ""))
        em._notify("answered", self)
        self._status_callback("in-progress", event="answered")
        if detection and not sync_amd:
            self.amd_pending = answered_by or "human"
            if verdict_now:
                em._post(("amd", self, self.amd_pending))
        if self.direction == "outbound-dial":
            self._start_child()
            return
        url, twiml = self.record.get("url"), self.record.get("twiml")
        self._start(Target(url, (self.record.get("method") or "POST").upper(), params) if url else Target(twiml=twiml))

    def _start_child(self) -> None:
        """A <Dial>led party picked up: its <Number url> document first, then the conversation."""
        url = self.record.get("url")

        def program():
            try:
                if url:
                    root = self._load(Target(url, self.record.get("method", "POST")))
                    yield from self._run(list(root), url, allowed=WHISPER_VERBS)
                self.peer = self.parent
                self.emulator._post(("wake", self.parent, Ringing, ("answered",)))
                yield Talking(peer=self.parent)
                self._finish("completed")
            except HungUp as hung_up:
                self._finish(hung_up.status)

        self._program = program()
        self._step(lambda: next(self._program))

    def _ringing(self) -> None:
        em = self.emulator
        self._status_callback("initiated", event="initiated")
        self.status = "ringing"
        em.rest.update_record(self.sid, status="ringing")
        self._status_callback("ringing", event="ringing")
        self.log.append(("ringing", self.to_number))
        em._notify("ringing", self)

    def _ring_out(self, status: str) -> None:
        if self.status in ENDED:
            return
        if self.status == "in-progress":
            raise AssertionError(f"{self!r} was answered; hang it up instead")
        self._finish(status)

    def _send_amd(self, answered_by: str) -> None:
        self.amd_pending = None
        url = self.record.get("amd_callback")
        if not url:
            raise AssertionError(f"{self!r} was placed without async_amd_status_callback")
        self.log.append(("answering machine detection", answered_by))
        self.emulator._request(url, {"AccountSid": self.emulator.account_sid, "CallSid": self.sid,
                                     "AnsweredBy": answered_by,
                                     "MachineDetectionDuration": str(int(AMD_SECONDS.get(answered_by, 4.0) * 1000))},
                               (self.record.get("amd_callback_method") or "POST").upper(), twiml=False)

    def _hang_up(self, status: str = "completed") -> None:
        """This party hangs up (or Twilio ends the call)."""
        if self.status in ENDED:
            return
        if self._program is not None:
            self._throw(HungUp(status))
            if self.status not in ENDED:
                self._finish(status)
        else:
            self._finish(status if self.status == "in-progress" else ("canceled" if status == "completed" else status))

    def _finish(self, status: str) -> None:
        em = self.emulator
        if self.status in ENDED:
            return
        program, self._program = self._program, None
        if program is not None and program.gi_running is False:
            try:
                program.close()
            except Exception:  # noqa: BLE001 - a program closed mid-verb
                pass
        self.status = status
        self._wait = None
        self.ended_at = em.now()
        for stream in list(self.forked.values()):
            stream.stop()
            self._stream_status(stream, "stream-stopped")
        self.forked.clear()
        if self.connect_stream is not None:
            self.connect_stream.stop()
        for queue in em._queues.values():
            queue.remove(self)
        self.queue = None
        duration = int(self.ended_at - self.answered_at) if self.answered_at is not None else 0
        em.rest.update_record(self.sid, status=status, duration=str(duration))
        self.log.append(("call ended", status))
        em._notify("ended", self, status=status)
        for other in em.calls.values():
            if other is self or other.status in ENDED:
                continue
            state = other._wait
            if isinstance(state, Talking) and state.peer is self:
                em._post(("wake", other, state, ("ended",)))
            elif isinstance(state, Ringing) and state.child is self:
                outcome = ("unanswered", status) if self.answered_at is None else ("ended",)
                em._post(("wake", other, state, outcome))
        self._status_callback(status, event="completed", CallDuration=str(duration))
        em._changed(self)

    def _status_callback(self, status: str, event: str | None = None, force: bool = False, **extra) -> None:
        em = self.emulator
        if self.direction == "inbound":
            url = em.status_url_for(self.to_number)
            if not url or (event not in ("completed", None) and not force):
                return
            method = "POST"
        else:
            url = self.record.get("status_callback")
            method = (self.record.get("status_callback_method") or "POST").upper()
            wanted = self.record.get("status_callback_event") or ["completed"]
            if not url or (not force and event is not None and event not in wanted and event != "completed"):
                return
        self._status_seq += 1
        params = {**self.params(), "CallStatus": status, "Timestamp": rfc2822(em.clock()),
                  "CallbackSource": "call-progress-events", "SequenceNumber": str(self._status_seq - 1), **extra}
        if self.answered_by:
            params["AnsweredBy"] = self.answered_by
        em._request(url, params, method, twiml=False)


# ---- the account ---------------------------------------------------------------------------------------

class Emulator:
    """One Twilio account: numbers that point at the app, phones, calls, queues, conferences, the REST API."""

    def __init__(self, auth_token: str, public_base: str, *, transport: Transport | None = None,
                 account_sid: str = ACCOUNT_SID, number: str = DEFAULT_NUMBER,
                 voice_path: str = "/voice/incoming", status_path: str = "/voice/status",
                 clock: Callable[[], datetime] | None = None, state_path=None, strict: bool = True,
                 default_answer: str = "manual", media_paced: bool = True):
        self.auth_token = auth_token
        self.public_base = public_base.rstrip("/")
        self.base_url = self.public_base
        self.transport = transport
        self.account_sid = account_sid
        self.number = number
        self.voice_path = voice_path
        self.status_path = status_path
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.strict = strict  # a 4xx/5xx or refused TwiML raises WebhookError (tests); else Twilio's behaviour
        self.default_answer = default_answer
        self.media_paced = media_paced  # the caller's speech at 20 ms a frame, as on a phone line
        self.media_keepalive = True  # silence between utterances, as on a phone line
        self.play_seconds = 3.0
        self.live = False
        self.calls: dict[str, Call] = {}
        self.phones: dict[str, Phone] = {}
        self.numbers: dict[str, dict] = {}
        self._queues: dict[str, Queue] = {}
        self.conferences: dict[str, Conference] = {}
        self.requests: list[tuple[str, dict, int]] = []
        self.messages: list[dict] = []
        self._retry: list[tuple[str, int]] = []
        self._events: deque = deque()
        self._cond = threading.Condition()
        self._lock = threading.RLock()
        self._virtual = 0.0
        self._depth = 0  # > 0 while a call's program runs (no settling from inside it)
        self._t0 = time.monotonic()
        self._listeners: list[Callable[[dict], None]] = []
        self._timers: list = []
        self._timer_seq = itertools.count()
        self._worker: threading.Thread | None = None
        self._stopping = False
        self.rest = RestApi(account_sid, clock=self.clock, state_path=state_path, emulator=self)

    # ---- set-up ---------------------------------------------------------------------------------------

    def attach(self, transport: Transport) -> "Emulator":
        self.transport = transport
        return self

    def client(self):
        """A twilio.rest.Client whose requests this emulator answers."""
        return self.rest.client(self.auth_token)

    def share_state(self, path) -> RestApi:
        """Keep the REST API's records in a file other processes' RestApi(state_path=...) share."""
        from pathlib import Path

        self.rest.state_path = Path(path)
        return self.rest

    def phone(self, address: str, answer: str = "manual", ring_seconds: float = 2.0) -> Phone:
        if answer not in ANSWERS:
            raise ValueError(f"answer must be one of {ANSWERS}")
        self.phones[address] = Phone(address, answer, ring_seconds)
        return self.phones[address]

    def voice_url_for(self, number: str) -> str:
        return self.numbers.get(number, {}).get("voice_url") or self.public_base + self.voice_path

    def status_url_for(self, number: str) -> str | None:
        found = self.numbers.get(number, {})
        return found.get("status_url", self.public_base + self.status_path if self.status_path else None)

    def deliver_twice(self, url_contains: str = "", times: int = 1) -> None:
        """The next matching webhook is delivered twice (Twilio retries when it got no answer in time);
        the answer to the second delivery is the one followed."""
        self._retry.append((url_contains, times))

    def close(self) -> None:
        self.stop_live()
        for call in list(self.calls.values()):
            for stream in list(call.forked.values()) + ([call.connect_stream] if call.connect_stream else []):
                stream.stop()
        if self.transport is not None:
            self.transport.close()

    # ---- queues and conferences -------------------------------------------------------------------

    def queue(self, name: str) -> Queue:
        if name not in self._queues:
            self._queues[name] = Queue(name, self)
        return self._queues[name]

    @property
    def queues(self) -> dict[str, list[str]]:
        """Who waits in each queue (call SIDs, front first)."""
        return {name: [c.sid for c in q.members] for name, q in self._queues.items()}

    @property
    def queue_sids(self) -> dict[str, str]:
        return {name: q.sid for name, q in self._queues.items()}

    def conference(self, name: str) -> Conference:
        if name not in self.conferences:
            self.conferences[name] = Conference(name)
        return self.conferences[name]

    def drop_queue_member(self, name: str, call_sid: str) -> None:
        """Fault injection: Twilio's queue no longer holds this caller, though the call goes on."""
        with self._driving():
            queue = self._queues[name]
            queue.members = [c for c in queue.members if c.sid != call_sid]

    # ---- calls ------------------------------------------------------------------------------------------

    def call(self, from_number: str = "+12125550142", to_number: str | None = None) -> Call:
        """A caller dials one of the account's numbers; Twilio requests its voice URL."""
        to_number = to_number or self.number
        with self._driving():
            self._settle()
            call = self._new_call(new_sid("CA"), from_number, to_number, "inbound")
            call._start(Target(self.voice_url_for(to_number), "POST"))
            self._settle()
        return call

    def legs_to(self, address: str) -> list[Call]:
        self.run()
        return [c for c in self.calls.values() if c.to_number == address and c.direction != "inbound"]

    def leg(self, sid: str) -> Call:
        """The call with this SID; a call another process created through the shared REST records is
        taken on here (it rings)."""
        self.run()
        if sid not in self.calls:
            with self._driving():
                self._dial_out(self.rest.call(sid), adopt=True)
                self._settle()
        return self.calls[sid]

    def _new_call(self, sid: str, from_number: str, to_number: str, direction: str, record: dict | None = None,
                  parent: Call | None = None) -> Call:
        call = Call(self, sid, from_number, to_number, direction, record, parent)
        self.calls[sid] = call
        if record is None or not record.get("api"):
            self.rest.add_call({"sid": sid, "to": to_number, "from": from_number, "direction": direction,
                                "status": call.status, "date_created": rfc2822(self.clock()),
                                "created_at": self.clock().isoformat(),
                                "parent_call_sid": parent.sid if parent else None, **(record or {})})
        return call

    def _place(self, to: str, from_number: str, direction: str, parent: Call | None = None, url: str | None = None,
               method: str = "POST", timeout: float = 30, status_callback: str | None = None,
               events: list[str] | None = None) -> Call:
        record = {"url": url, "method": method, "timeout": str(int(timeout)), "status_callback": status_callback,
                  "status_callback_event": events or None, "api": False}
        call = self._new_call(new_sid("CA"), from_number, to, direction, record, parent)
        call._ringing()
        self._ring(call)
        return call

    def _dial_out(self, record: dict, adopt: bool = False) -> None:
        if record["sid"] in self.calls:
            return
        call = Call(self, record["sid"], record.get("from") or self.number, record["to"], "outbound-api", record)
        self.calls[call.sid] = call
        if adopt and record.get("status") not in ("queued", None):
            call.status = record["status"]
            if call.status in ENDED:
                return
        else:
            call._ringing()
        self._ring(call)

    def _ring(self, call: Call) -> None:
        phone = self.phones.get(call.to_number) or Phone(call.to_number, self.default_answer)
        timeout = float(call.record.get("timeout") or 60)
        call.ring_deadline = self.now() + timeout
        if self.live:
            self._schedule(timeout, call, None, ("ring_timeout",))
        if phone.answer == "manual":
            return
        if self.live:
            self._schedule(min(phone.ring_seconds, timeout) if phone.answer != "no-answer" else timeout,
                           call, call._wait, ("auto_answer", phone.answer))
            return
        self._post(("auto_answer", call, phone.answer))  # after whoever placed the call waits for it

    def _auto_answer(self, call: Call, how: str) -> None:
        if call.status not in ("queued", "ringing"):
            return
        if how in ("busy", "failed", "no-answer"):
            if how == "no-answer":
                self._advance_time(float(call.record.get("timeout") or 60))
            call._ring_out(how)
            return
        call._answer(how if how != "human" or call.record.get("machine_detection") else None,
                     verdict_now=not self.live)
        if self.live and call.amd_pending:
            self._schedule(AMD_SECONDS.get(how, 4.0), call, None, ("amd_verdict", how))

    # ---- REST (called from the app's threads: only queue events) ---------------------------------

    def _rest_call_created(self, record: dict) -> None:
        self._post(("dial_out", record))

    def _rest_call_updated(self, sid: str, form: dict) -> None:
        self._post(("update", sid, dict(form)))

    def _rest_dequeue(self, queue_name: str, call_sid: str, url: str, method: str) -> None:
        self._post(("member_update", queue_name, call_sid, url, method))

    def _rest_message(self, message: dict) -> None:
        self.messages.append(message)
        self._notify("message", None, **message)

    def _rest_queues(self) -> list[dict]:
        return [{"sid": q.sid, "name": q.name, "members": [
            {"call_sid": c.sid, "wait_time": q.time_of(c), "date_enqueued": rfc2822(self.clock())} for c in q.members],
            "average_wait": int(sum(q.waited) / len(q.waited)) if q.waited else 0} for q in self._queues.values()]

    # ---- webhooks ------------------------------------------------------------------------------------

    def sign(self, url: str, params: dict) -> str:
        return RequestValidator(self.auth_token).compute_signature(url, params)

    def post(self, url: str, params: dict, *, signature: str | None = None, expect_ok: bool = True):
        """Send one signed webhook as Twilio would (tests use this for requests no call makes)."""
        if not url.startswith("http"):
            url = self.public_base + url
        headers = {"X-Twilio-Signature": signature if signature is not None else self.sign(url, params),
                   "I-Twilio-Idempotency-Token": str(uuid.uuid4())}
        reply = self.transport.request("POST", url, params, headers)
        self.requests.append((url, params, reply.status))
        if expect_ok and reply.status >= 400:
            raise WebhookError(f"POST {url} -> {reply.status}: {reply.body}")
        return reply.raw if reply.raw is not None else _ReplyView(reply)

    def _request(self, url: str, params: dict, method: str = "POST", twiml: bool = True) -> str | None:
        """One webhook (with Twilio's retries when asked for); the body of the answer followed, or None
        when the app failed (4xx/5xx)."""
        if self.transport is None:
            raise RuntimeError("the emulator has no transport to reach the app (Emulator.attach)")
        parts = urlsplit(url)
        fragment = dict(parse_qsl(parts.fragment))
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
        if method == "GET":
            query = parts.query + ("&" if parts.query and params else "") + urlencode(params)
            url = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
            signature, body_params = self.sign(url, {}), {}
        else:
            signature, body_params = self.sign(url, params), params
        headers = {"X-Twilio-Signature": signature, "I-Twilio-Idempotency-Token": str(uuid.uuid4())}
        deliveries = 1
        for index, (needle, times) in enumerate(self._retry):
            if needle in url:
                deliveries += times
                del self._retry[index]
                break
        retries = int(fragment.get("rc", "0") or 0) if fragment.get("rp") == "all" else 0
        reply = None
        attempt = 0
        while True:
            reply = self.transport.request(method, url, body_params, headers)
            self.requests.append((url, params, reply.status))
            attempt += 1
            if attempt < deliveries or (reply.status >= 500 and attempt <= retries):
                continue
            break
        if reply.status >= 400:
            if self.strict:
                raise WebhookError(f"{method} {url} -> {reply.status}: {reply.body}")
            log.warning("webhook %s answered %s", url, reply.status)
            return None
        if twiml and not reply.body.strip():
            if self.strict:
                raise WebhookError(f"{method} {url} answered {reply.status} with no TwiML")
            return None
        return reply.body

    # ---- the drivers ---------------------------------------------------------------------------------

    def now(self) -> float:
        return time.monotonic() - self._t0 if self.live else self._virtual

    def _advance_time(self, seconds: float) -> None:
        if not self.live and math.isfinite(seconds):
            self._virtual += seconds

    @contextmanager
    def _driving(self):
        with self._lock:
            yield

    def _post(self, event) -> None:
        with self._cond:
            self._events.append(event)
            self._cond.notify_all()

    def _wait_for_event(self, timeout: float) -> None:
        with self._cond:
            if not self._events:
                self._cond.wait(timeout)

    def run(self) -> None:
        """Apply whatever arrived (REST requests, streams closed) and run until every call waits again."""
        if self.live or self._depth:
            return  # the live worker applies events itself; inside a step, the step's caller settles
        with self._driving():
            self._settle()

    def _settle(self, limit: int = 10000) -> None:
        for _ in range(limit):
            if not (self._process_events() or (not self.live and self._auto_step())):
                return
        raise RuntimeError("the emulator keeps running: a loop in the TwiML?")

    def _process_events(self) -> bool:
        did = False
        while True:
            with self._cond:
                if not self._events:
                    return did
                event = self._events.popleft()
            did = True
            self._apply(event)

    def _apply(self, event) -> None:
        kind = event[0]
        if kind == "dial_out":
            self._dial_out(event[1])
        elif kind == "update":
            _, sid, form = event
            call = self.calls.get(sid)
            if call is None or call.status in ENDED:
                return
            call.updates_applied += 1
            call.reactions.append((time.monotonic(), "update"))
            if form.get("Status") in ("completed", "canceled"):
                if form["Status"] == "canceled" and call.status == "in-progress":
                    return
                call.log.append(("ended by the app", form["Status"]))
                call._hang_up(form["Status"] if call.status != "in-progress" else "completed")
                return
            target = Target(form["Url"], (form.get("Method") or "POST").upper()) if form.get("Url") else \
                Target(twiml=form.get("Twiml"))
            call.log.append(("moved on by the app", form.get("Url") or "twiml"))
            if isinstance(call._wait, Segment):
                call._cut(call._wait)  # Twilio stops the prompt playing now; the rest never plays
            if call._program is not None:
                call._throw(Redirected(target))
            elif call.status == "in-progress":
                call._cause = "update"
                call._start(target)
            else:
                call.record = {**call.record, "url": target.url, "twiml": target.twiml}
        elif kind == "member_update":
            _, name, sid, url, method = event
            call = self.calls.get(sid)
            if call is not None and call.queue == name:
                call._throw(RemovedFromQueue(url, method))
        elif kind == "dequeue":
            _, holder, dequeued = event
            if holder.status in ENDED:
                self._post(("wake", dequeued.by, dequeued.by._wait, ("ended",)))
                return
            holder._throw(dequeued)
        elif kind == "stream_closed":
            _, call, stream = event
            # Only a stream that carried what the caller just said closing is the app's reaction to it;
            # an earlier question's stream closing meanwhile is not.
            if stream.spoken_to or isinstance(call._wait, StreamBlock):
                call.reactions.append((time.monotonic(), "closed"))
            if isinstance(call._wait, StreamBlock) and call._wait.stream is stream:
                call._resume(call._wait, ("closed",))
            else:
                for key, forked in list(call.forked.items()):
                    if forked is stream:
                        del call.forked[key]
                        call.log.append(("stream closed by the app", key))
        elif kind == "wake":
            _, call, expected, value = event
            if call.status in ENDED:
                return
            if expected is None or (isinstance(expected, type) and isinstance(call._wait, expected)):
                expected = call._wait
            if value[0] == "bridged" and isinstance(call._wait, Talking):
                call._resume(call._wait, value)
            else:
                call._resume(expected, value)
        elif kind == "amd":
            _, call, answered_by = event
            if call.amd_pending:
                call._send_amd(answered_by)
        elif kind == "key":
            _, call, digit = event
            if call.status not in ENDED:
                call._key(digit)
        elif kind == "hang_up":
            call = event[1]
            if call.status in ("queued", "ringing") and call.direction != "inbound":
                call._ring_out("busy")  # the called party declines, as with the stepped hang_up()
            else:
                call._hang_up("completed" if call.status == "in-progress" else "canceled")
        elif kind == "answer":
            call = event[1]
            if call.status in ("queued", "ringing"):
                call._answer(event[2])
                if self.live and call.amd_pending:
                    self._schedule(AMD_SECONDS.get(call.amd_pending, 4.0), call, None, ("amd_verdict", call.amd_pending))
        elif kind == "run":
            event[1]()
        elif kind == "auto_answer":
            self._auto_answer(event[1], event[2])
        elif kind == "timer":
            self._fire(event[1])
        elif kind == "prompt_done":
            _, call, segment, index = event
            if call._wait is segment and segment.pos == index:
                self._next_item(call, segment)

    def _auto_step(self) -> bool:
        """Stepped driver: play what nobody can interrupt; answer what a phone answers by itself."""
        for call in list(self.calls.values()):
            state = call._wait
            if call.status in ENDED or state is None:
                continue
            if call.stops_at_prompts:
                continue
            if isinstance(state, Segment) and not state.listening and state.finite \
                    and not any(s.carries_caller for s in call.forked.values()):
                self._advance_time(sum(p.seconds for p in state.items))
                call._resume(state, None)
                return True
        return False

    def _changed(self, call: Call) -> None:
        if self.live:
            self._arm(call)
        self._notify("state", call, wait=call.describe_wait(), queue=call.queue, conference=call.conference)

    # live mode ------------------------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[dict], None]) -> None:
        self._listeners.append(listener)

    def _notify(self, kind: str, call: Call | None, **details) -> None:
        if not self._listeners:
            return
        event = {"type": kind, "call_sid": call.sid if call else None, "to": call.to_number if call else None,
                 "from": call.from_number if call else None, **details}
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a listener must not break the telephone network
                log.exception("emulator listener failed")

    def start_live(self) -> "Emulator":
        """Run a worker thread with real timers; caller actions come through live_* methods."""
        if self._worker is not None:
            return self
        self.live = True
        self._t0 = time.monotonic()
        self._stopping = False
        self._worker = threading.Thread(target=self._live_loop, name="twilio-emulator", daemon=True)
        self._worker.start()
        return self

    def stop_live(self) -> None:
        if self._worker is None:
            return
        self._stopping = True
        self._post(("noop",))
        self._worker.join(5)
        self._worker = None

    def live_call(self, from_number: str, to_number: str | None = None, client_paces_prompts: bool = False) -> str:
        """A caller dials in; returns the CallSid at once (the worker requests the voice URL). With
        `client_paces_prompts` a prompt lasts until `live_prompt_done` (a browser speaking it)."""
        to_number = to_number or self.number
        with self._driving():
            call = self._new_call(new_sid("CA"), from_number, to_number, "inbound")
            call.client_paces_prompts = client_paces_prompts
        self._post(("run", lambda: call._start(Target(self.voice_url_for(to_number), "POST"))))
        return call.sid

    def _live(self, sid: str) -> Call:
        call = self.calls.get(sid)
        if call is None:
            raise KeyError(f"no call {sid} in this emulator")
        return call

    def live_press(self, sid: str, digit: str) -> None:
        """A key, now: it lands on whatever plays or waits at this moment (barge-in as on Twilio)."""
        if digit not in "0123456789*#" or len(digit) != 1:
            raise ValueError("one key: 0-9, * or #")
        self._post(("key", self._live(sid), digit))

    def live_hang_up(self, sid: str) -> None:
        self._post(("hang_up", self._live(sid)))

    def live_answer(self, sid: str, answered_by: str | None = None) -> None:
        self._post(("answer", self._live(sid), answered_by))

    def live_audio(self, sid: str, mulaw: bytes) -> None:
        """The caller's microphone (8 kHz mu-law): onto every stream that carries the caller."""
        call = self._live(sid)
        for stream in call._caller_streams():
            stream.send_audio(mulaw, paced=True)

    def live_prompt_done(self, sid: str, index: int | None = None) -> None:
        """A client that speaks prompts itself says when one ended."""
        call = self._live(sid)
        state = call._wait
        if isinstance(state, Segment):
            self._post(("prompt_done", call, state, state.pos if index is None else index))

    def _live_loop(self) -> None:
        while not self._stopping:
            with self._cond:
                delay = (self._timers[0][0] - time.monotonic()) if self._timers else 0.5
                if not self._events and delay > 0:
                    self._cond.wait(min(delay, 0.5))
            now = time.monotonic()
            due = []
            with self._cond:
                while self._timers and self._timers[0][0] <= now:
                    due.append(heapq.heappop(self._timers))
            try:
                with self._driving():
                    for entry in due:
                        self._fire(entry)
                    while True:
                        with self._cond:
                            if not self._events:
                                break
                            event = self._events.popleft()
                        if event[0] == "run":
                            event[1]()
                        elif event[0] != "noop":
                            self._apply(event)
            except Exception:  # noqa: BLE001 - keep the network up for the other calls
                log.exception("emulator worker")

    def _schedule(self, seconds: float, call: Call, expected, what) -> None:
        with self._cond:
            heapq.heappush(self._timers, (time.monotonic() + seconds, next(self._timer_seq), call, expected, what))
            self._cond.notify_all()

    def _fire(self, entry) -> None:
        _, _, call, expected, what = entry
        if call.status in ENDED:
            return
        if what[0] == "auto_answer":
            self._auto_answer(call, what[1])
        elif what[0] == "amd_verdict":
            if call.amd_pending:
                call._send_amd(what[1])
        elif what[0] == "ring_timeout":
            if call.status in ("queued", "ringing"):
                call._ring_out("no-answer")
        elif expected is not None and call._wait is not expected:
            return
        elif what[0] == "item":
            segment, index = expected, what[1]
            if segment.pos == index:
                self._next_item(call, segment)
        else:
            call._resume(expected, what)

    def _next_item(self, call: Call, segment: Segment) -> None:
        segment.pos += 1
        if segment.pos >= len(segment.items):
            call._resume(segment, None)
            return
        call._announce(segment, segment.items[segment.pos])
        self._arm(call)

    def _arm(self, call: Call) -> None:
        """Live driver: the timer of what the call waits for now."""
        state = call._wait
        if call.status in ENDED:
            return
        if call.status in ("queued", "ringing") and call.direction != "inbound" and call.ring_deadline is not None:
            self._schedule(max(0.0, call.ring_deadline - self.now()), call, None, ("ring_timeout",))
        if isinstance(state, Segment) and state.pos < len(state.items):
            item = state.items[state.pos]
            if math.isfinite(item.seconds) and not (item.kind == "say" and call.client_paces_prompts):
                self._schedule(item.seconds, call, state, ("item", state.pos))
        elif isinstance(state, GatherInput):
            self._schedule(state.gather.timeout, call, state, ("timeout",))
        elif isinstance(state, QueueDial):
            self._schedule(state.timeout, call, state, ("timeout",))


class _ReplyView:
    """What `Emulator.post` returns: the app's answer, read like a Flask test response."""

    def __init__(self, reply):
        self.status_code = reply.status
        self.data = reply.body.encode()
        self.content_type = reply.content_type

    def get_data(self, as_text: bool = False):
        return self.data.decode() if as_text else self.data


__all__ = ["Emulator", "Call", "Phone", "Queue", "Conference", "WebhookError", "ACCOUNT_SID", "new_sid",
           "prompt_seconds"]
