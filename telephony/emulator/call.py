"""One call leg: what Twilio knows of it (status, parties, its TwiML documents, its streams, queue and
conference), what its person heard, and, in the stepped driver, what that person does (press, wait,
say, hang up; for a placed call: answer, ring out, the AMD verdict)."""
from __future__ import annotations

import time

from telephony import audio
from telephony.emulator import stepped
from telephony.emulator.answering import answer
from telephony.emulator.basics import API_VERSION
from telephony.emulator.ending import hang_up, ring_out
from telephony.emulator.playing import cut, key
from telephony.emulator.status import send_amd, status_callback
from telephony.emulator.stepping import resume
from telephony.emulator.streams import caller_streams
from telephony.emulator.waits import GatherInput, GatherSpec, QueueDial, QueueRefetch, Ringing, Segment, StreamBlock
from telephony.media import MediaStream
from telephony.rest import ENDED


class Call:
    def __init__(self, emulator, sid: str, from_number: str, to_number: str, direction: str,
                 record: dict | None = None, parent: "Call | None" = None):
        self.emulator = emulator
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
        self.program = None  # the generator following its TwiML (program.py)
        self.wait_state = None  # what the program waits for now (waits.py)
        self.cause = "start"  # why the running document runs: start, document, update (the app moved the call)
        self.dialled: str | None = None  # the party a running <Dial> connected
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
        self.status_seq = 0

    def __repr__(self) -> str:
        return f"<Call {self.sid[:10]} {self.direction} {self.from_number}->{self.to_number} {self.status}>"

    # ---- what a caller or called party does (stepped driver) ---------------------------------------

    def press(self, digits: str, barge_in: bool = False) -> "Call":
        """Key `digits`, one after the other. After the prompts finished (default), or while the current
        prompt plays (`barge_in=True`: lost outside a Gather, ends the prompt inside one)."""
        em = self.emulator
        with em.driving():
            stepped.caller_acts(self, let_prompts_play=not barge_in)
            for digit in digits:
                if self.status in ENDED:
                    self.lost_keys.append(digit)
                    continue
                key(self, digit)
                stepped.settle(em)
        stepped.await_stream_reaction(self)
        return self

    def wait(self) -> "Call":
        """The caller does nothing: the prompts play out and the current timeout runs (a Gather falls
        through or submits the digits so far, a queue's wait document is fetched again, a dialled
        phone rings out, a <Connect><Stream> hears silence until the app closes it)."""
        em = self.emulator
        with em.driving():
            stepped.caller_acts(self, let_prompts_play=False)  # finite prompts play out below
            state = self.wait_state
            if isinstance(state, Segment):
                if state.finite:
                    stepped.finish_prompts(self)
                else:
                    resume(self, state, None)  # an endless prompt (hold music) ends only here
                    stepped.settle(em)
                if not isinstance(self.wait_state, GatherInput):
                    return self
            state = self.wait_state
            if isinstance(state, GatherInput):
                em.time.advance(state.gather.timeout)
                resume(self, state, ("timeout",))
            elif isinstance(state, QueueRefetch):
                resume(self, state, ("go",))
            elif isinstance(state, Ringing):
                em.time.advance(state.timeout)
                ring_out(state.child, "no-answer")
            elif isinstance(state, QueueDial):
                em.time.advance(state.timeout)
                resume(self, state, ("timeout",))
            elif isinstance(state, StreamBlock):
                pass  # silence below, outside the driver
            elif self.status == "ringing" and self.direction != "inbound":
                ring_out(self, "no-answer")
            else:
                raise AssertionError(f"nothing to wait for: {self!r} is {self.describe_wait()}")
            stepped.settle(em)
        if isinstance(self.wait_state, StreamBlock):
            stepped.silence_until_closed(self)
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
        em = self.emulator
        with em.driving():
            stepped.caller_acts(self, let_prompts_play=not barge_in)
            streams = caller_streams(self)
            if not streams:
                self.log.append(("said, nobody listening", text or (wav or "audio")))
                return False
            self.log.append(("said", text or (wav.rsplit("/", 1)[-1] if wav else f"{len(line) / 8000:.1f} s of audio")))
            started = time.monotonic()
            paced = em.media_paced
            for stream in streams:
                stream.spoken_to = True
                stream.send_audio(line + audio.SILENCE_FRAME * 50, paced=paced)
        # A reaction after the voice ended is the app's answer; one before it is the app noticing speech.
        voice_end = started + audio.voice_end_seconds(line) if paced else started
        stepped.await_reaction(self, started, voice_end, timeout)
        return True

    def hang_up(self) -> "Call":
        em = self.emulator
        with em.driving():
            if self.status in ENDED:
                raise AssertionError(f"{self!r} has already ended")
            if self.status in ("queued", "ringing") and self.direction != "inbound":
                ring_out(self, "busy")  # the called party declines
            else:
                if isinstance(self.wait_state, Segment):
                    cut(self, self.wait_state)  # the prompt playing stops; the rest is never heard
                hang_up(self, "completed")
            stepped.settle(em)
        return self

    # outbound calls: the called party

    def ring(self) -> "Call":
        """The phone rings (initiated and ringing were reported when Twilio placed the call)."""
        self.emulator.run()
        return self

    def answer(self, answered_by: str | None = None) -> "Call":
        """Pick up. With answering-machine detection, `answered_by` is the verdict it will reach
        (asynchronous detection: sent at once when given, else when `amd()` is called)."""
        return self._settled(answer, self, answered_by, verdict_now=answered_by is not None)

    def ring_out(self, status: str = "no-answer") -> "Call":
        """busy, no-answer, failed, canceled: the call ends without being answered."""
        return self._settled(ring_out, self, status)

    def amd(self, answered_by: str = "human") -> "Call":
        """Asynchronous answering-machine detection reaches its verdict now (sent even if late: Twilio's
        callbacks can arrive after the call ended)."""
        return self._settled(send_amd, self, answered_by)

    def _settled(self, action, *args, **kwargs) -> "Call":
        em = self.emulator
        with em.driving():
            stepped.settle(em)
            action(*args, **kwargs)
            stepped.settle(em)
        return self

    def resend_status(self, status: str | None = None, **extra) -> None:
        """Twilio sends a status callback again (late or repeated)."""
        with self.emulator.driving():
            status_callback(self, status or self.status, force=True, **extra)

    def follow_steering(self) -> bool:
        """Whether the app steered this call (calls(sid).update) since the last look; updates are
        applied as they arrive, this only catches up and reports."""
        self.emulator.run()
        seen, self.steers_seen = self.steers_seen, self.updates_applied
        return self.updates_applied > seen

    # ---- what the caller has heard, where the call is -------------------------------------------------

    @property
    def last_heard(self) -> str:
        return self.heard[-1] if self.heard else ""

    def heard_text(self) -> str:
        return "\n".join(self.heard)

    def take_heard(self) -> str:
        text = self.heard_text()
        self.heard.clear()
        if isinstance(self.wait_state, Segment):
            self.wait_state.announced = []
        return text

    @property
    def ended(self) -> bool:
        """Whether the call is over, once what already reached Twilio (REST requests) is applied."""
        self.emulator.run()
        return self.status in ENDED

    @property
    def pending(self) -> GatherSpec | None:
        """The Gather the caller is at (its prompts playing or its input window open), if any."""
        state = self.wait_state
        if isinstance(state, (Segment, GatherInput)):
            return state.gather
        return None

    @property
    def stream(self) -> MediaStream | None:
        """The <Connect><Stream> the call is blocked on, if any."""
        return self.connect_stream if isinstance(self.wait_state, StreamBlock) else None

    def describe_wait(self) -> str:
        state = self.wait_state
        if self.status in ENDED:
            return f"ended ({self.status})"
        if self.status in ("queued", "ringing") and self.direction != "inbound":
            return "ringing"
        return type(state).__name__ if state is not None else "running"

    def params(self) -> dict:
        """The parameters every webhook about this call carries."""
        params = {"AccountSid": self.emulator.account_sid, "ApiVersion": API_VERSION, "CallSid": self.sid,
                  "CallStatus": self.status, "Direction": self.direction, "From": self.from_number,
                  "To": self.to_number, "Caller": self.from_number, "Called": self.to_number}
        if self.parent is not None:
            params["ParentCallSid"] = self.parent.sid
        return params
