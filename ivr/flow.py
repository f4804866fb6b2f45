"""The call flow: what a caller hears at each step and where their answer leads.

Independent of Flask: the webhooks hand in what Twilio sent and render the TwiML this returns.
The questions are the table in `ivr.steps`; an answer, keyed or spoken, becomes one `Meaning`
(`ivr.answers`) and the step's `leads` pick the move below (`MOVES`).

Every question is asked the same way, so callers can interrupt any prompt:
`<Gather input="dtmf">` around the `<Say>`s takes keys (a key stops the prompt), and, where the
caller's language has a speech engine, `<Start><Stream>` first forks the caller's audio to /media.
When the caller starts to speak, the media handler moves the live call to `listen` (the prompt
stops); when their answer is recognised, to the step's action URL, which reads the stored result.

Idempotency: every URL the flow hands Twilio carries the call's turn number. A request for a turn
that was already answered (Twilio retries webhooks) gets the stored answer back and changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Gather, Start, Stop, VoiceResponse

from callbacks import promises
from callbacks import services as callbacks
from phone_numbers import home_region, last_digits, normalise, NumberRefused, spoken_number
from clock import Clock
from config import IvrConfig, Prompts, Skill
from ivr import after_hours, answers, call_records, callback_number, callback_times, menu_moves, returning, spoken, steps
from ivr.answers import Meaning
from routing import hours, queue
from refusals import Refusal
from storage.models import Call, CallTurn, QueueEntry



def stream_name(turn: int) -> str:
    """The name of the audio fork that listens for the answer of `turn` (so it can be stopped)."""
    return f"answer-{turn}"


class Links(Protocol):
    """Absolute URLs the flow gives Twilio; the web layer knows the host and routes."""

    def step(self, step: str, turn: int) -> str: ...
    def listen(self, step: str, turn: int) -> str: ...
    def hold_wait(self, entry_id: str) -> str: ...
    def hold_press(self, entry_id: str) -> str: ...
    def hold_done(self, turn: int) -> str: ...
    def stream(self) -> str: ...
    def stream_token(self, call_sid: str, step: str, turn: int) -> str: ...


class UnknownCall(Refusal, LookupError):
    status = 404
    code = "unknown_call"


class TurnMismatch(Refusal, ValueError):
    """A request for a turn this call has not reached: not something Twilio would send."""

    status = 409
    code = "out_of_turn"


@dataclass(frozen=True)
class Heard:
    """What the caller gave at a step: keyed digits, or what the recogniser heard."""

    digits: str | None = None
    transcript: str | None = None
    confidence: float | None = None


@dataclass
class FlowSettings:
    allowed_countries: tuple[str, ...]
    # Which languages have a speech engine (and a way to move the live call on); others are keys only.
    speech_languages: frozenset[str] = frozenset()


class CallFlow:
    def __init__(self, session: Session, config: IvrConfig, clock: Clock, links: Links, settings: FlowSettings,
                 understanding=None):
        self.session = session
        self.config = config
        self.clock = clock
        self.links = links
        self.settings = settings
        self.understanding = understanding

    # ---- entry points (one per webhook) ---------------------------------------------------------

    def incoming(self, call_sid: str, from_number: str | None, to_number: str | None) -> str:
        call = self.session.get(Call, call_sid)
        if call is not None:
            # A retried first request: the greeting already went out as turn 0.
            return self._replay(call, 0)
        now = self.clock.now()
        call = Call(call_sid=call_sid, from_number=from_number, to_number=to_number,
                    language=self.config.language_for_number(to_number), step="menu", turn=0, retries=0,
                    scratch={"path": []}, status="in-progress", started_at=now)
        self.session.add(call)  # written with its first turn, in one flush (_answer)
        p = self._prompts(call)
        # The greeting is inside the first Gather: a caller who knows what they want need not wait. A caller
        # whose callback is still waiting hears it first (ivr/returning.py).
        lead = [p.text("greeting")]
        return self._answer(call, 0, returning.greet(self, call, lead) or self._ask(call, "menu", lead=lead))

    def step(self, call_sid: str, step_name: str, turn: int, digits: str | None) -> str:
        """The answer to a question: Gather's keys, its time-out fall-through, or a recognised answer."""
        call = self._call(call_sid)
        if turn < call.turn:
            return self._replay(call, turn)
        if turn > call.turn or step_name != call.step:
            raise TurnMismatch(f"call {call_sid} is at turn {call.turn} ({call.step}), not {turn} ({step_name})")
        step = steps.step(step_name)
        if step is None:
            raise TurnMismatch(f"unknown step {step_name!r}")
        listened = self._speech_on(call) and step.expects.listen is not None
        heard = self._heard(call_sid, step_name, turn, digits, listened)
        if heard is None:  # the caller began to answer as the question timed out: wait for it (ivr/spoken.py)
            return self.listen(call_sid, step_name, turn)
        meaning = self._meaning(call, step, heard)
        self._remember(call, step, heard, meaning)
        move = step.leads.get(meaning.kind)
        response = self._retry(call, step, meaning) if move is None else MOVES[move](self, call, meaning)
        if listened and not heard.transcript:
            # Answered by keys or timed out: the question's audio fork is still running; stop it.
            stop = Stop()
            stop.stream(name=stream_name(turn))
            response.verbs.insert(0, stop)
        return self._answer(call, turn, response)

    def listen(self, call_sid: str, step_name: str, turn: int) -> str:
        """The caller began to speak over a prompt: stop it and wait, keys still counting, for the answer.

        Changes nothing and is not a turn: the recognised answer arrives at the step's action URL."""
        call = self._call(call_sid)
        step = steps.step(step_name)
        if turn != call.turn or step_name != call.step or step is None:
            # The call moved on meanwhile (a key won the race): carry on with where it is now.
            return self._replay(call, call.turn - 1)
        response = VoiceResponse()
        action = self.links.step(step_name, turn)
        gather = steps.gather(step, action, timeout=1)
        gather.pause(length=spoken.LISTEN_SECONDS)
        response.append(gather)
        response.redirect(action, method="POST")
        return str(response)

    def hold_wait(self, entry_public_id: str, queue_sid: str | None, twilio_position: str | None) -> str:
        """Twilio's waitUrl: position and wait, refreshed every `hold_announce_every_seconds`."""
        entry = callbacks.get_entry(self.session, entry_public_id)
        call = self._call(entry.call_sid)
        p = self._prompts(call)
        response = VoiceResponse()
        if queue_sid and entry.context.get("queue_sid") != queue_sid:
            entry.context = {**entry.context, "queue_sid": queue_sid}
        if entry.state != "holding":
            # Taken out of line meanwhile (e.g. a supervisor cancelled): leave the Twilio queue too.
            response.leave()
            return str(response)
        now = self.clock.now()
        pos = queue.position(self.session, entry, now)
        est = promises.estimate_for(self.session, self.config, entry, now)
        gather = Gather(input="dtmf", num_digits=1, timeout=self.config.hold_announce_every_seconds,
                        action=self.links.hold_press(entry.public_id), method="POST")
        if est.announceable:
            # Every update told is recorded: the wait error counts them all.
            promises.announce(self.session, entry, est, now, position=pos)
            texts = [p.text("hold_position", position=pos, wait=promises.wait_words(p, est.seconds)),
                     p.text("hold_offer")]
        else:  # nobody staffed can reach this caller before closing: no wait, but when we would call back
            texts = [p.text("hold_closing", window=promises.window_words(p, est.window(now, self._zone(call).key), now))]
        for text in texts:
            gather.say(text, voice=p.voice, language=p.language)
        response.append(gather)
        response.redirect(self.links.hold_wait(entry.public_id), method="POST")
        return str(response)

    def hold_press(self, entry_public_id: str, digits: str | None) -> str:
        """A key pressed while holding. 1 = call me back instead: leave Twilio's queue, keep our place."""
        entry = callbacks.get_entry(self.session, entry_public_id)
        call = self._call(entry.call_sid)
        response = VoiceResponse()
        if digits == "1" and entry.state == "holding":
            call.scratch = {**call.scratch, "wants_callback": True}
            response.leave()
        else:
            response.redirect(self.links.hold_wait(entry.public_id), method="POST")
        return str(response)

    def hold_done(self, call_sid: str, turn: int, queue_result: str | None, queue_time: str | None) -> str:
        """Twilio's Enqueue action: the caller left the queue (bridged, pressed 1, hung up, error)."""
        call = self._call(call_sid)
        if turn < call.turn:
            return self._replay(call, turn)
        if turn > call.turn or call.step != "holding":
            raise TurnMismatch(f"call {call_sid} is not holding at turn {turn}")
        entry = self._entry(call)
        now = self.clock.now()
        holding = entry is not None and entry.state == "holding"
        if queue_result == "leave" and call.scratch.get("wants_callback") and holding:
            return self._answer(call, turn, self._start_callback(call, mode="asap"))
        if queue_result in {"error", "system-error", "queue-full"} and holding:
            # Twilio could not keep the caller in its queue: keep the promise with a callback instead.
            return self._answer(call, turn, self._start_callback(call, mode="asap"))
        if queue_result == "leave":
            # Taken out of line by someone else (e.g. a supervisor cancelled the entry): a polite goodbye.
            return self._answer(call, turn, self._goodbye(call))
        if queue_result == "bridged" and holding:
            callbacks.change_state(self.session, entry, "connected", now=now, reason="bridged from Twilio's queue",
                                   queue_time=queue_time)
        elif queue_result == "hangup" and holding:
            callbacks.change_state(self.session, entry, "abandoned", now=now, reason="caller hung up while holding",
                                   actor="caller", queue_time=queue_time)
        response = VoiceResponse()
        response.hangup()
        call.step = "done"
        return self._answer(call, turn, response)

    def status(self, call_sid: str, call_status: str, duration: str | None = None) -> bool:
        """Twilio's status callback for the inbound call (one UPDATE: ivr.call_records). Returns False
        when no call took it: one we never saw, or one already closed (the first closing status counts)."""
        return call_records.status(self, call_sid, call_status)

    # ---- reading an answer ---------------------------------------------------------------------

    def _meaning(self, call: Call, step: steps.Step, heard: Heard) -> Meaning:
        ctx = answers.AnswerContext(
            config=self.config, understanding=self.understanding, language=call.language,
            skill=self.config.skills.get(call.skill) if call.skill else None, now=self.clock.now(),
            home_region=home_region(call.from_number, call.to_number),
            allowed_countries=self.settings.allowed_countries, day_offset=call.scratch.get("day_offset", 0),
            earlier=answers.earlier_answer(call.scratch.get("path", []), step.name))
        if heard.digits:
            return answers.from_keys(step, heard.digits, ctx)
        if heard.transcript and self.understanding is not None:
            return answers.from_words(step, heard.transcript, heard.confidence, ctx)
        return answers.NOTHING

    def _remember(self, call: Call, step: steps.Step, heard: Heard, meaning: Meaning) -> None:
        """The caller's path: each question, what they keyed or said (with confidence), what it meant."""
        if heard.digits:
            said = {"keys": heard.digits}
        elif heard.transcript:
            said = {"said": heard.transcript, "confidence": heard.confidence}
        else:
            said = {}
        record = {"step": step.name, "asked": step.prompt, **said}
        if step.expects.kind == steps.SKILL:
            record["need"] = True  # what they called about: the whisper repeats these words
        if meaning.describe():
            record["meaning"] = meaning.describe()
        call.scratch = {**call.scratch, "path": call.scratch.get("path", []) + [record]}
        if heard.transcript and step.expects.kind == steps.SKILL:
            call.transcript, call.confidence = heard.transcript, heard.confidence

    def _heard(self, call_sid: str, step: str, turn: int, digits: str | None, listened: bool) -> Heard | None:
        """Keys pressed on the Gather, or what the media stream stored for this step and turn (None while
        the caller is still saying it)."""
        if digits:
            return Heard(digits=digits)
        result = spoken.result(self.session, call_sid, step, turn, self.clock.now(), claim=listened)
        if result is None or result == spoken.SPEAKING:
            return None if result else Heard()
        return Heard(digits=result.digit, transcript=result.transcript, confidence=result.confidence)

    # ---- moves (the `leads` of ivr.steps) ------------------------------------------------------

    def _to_person(self, call: Call, meaning: Meaning | None = None) -> VoiceResponse:
        """The caller asked for a person, or could not be understood: a person, never a dead end.

        A caller already in a line holds there, keeping their place; one whose need is known holds for
        that skill; anyone else goes to the fallback skill. A closed line offers a callback at opening."""
        p = self._prompts(call)
        entry = self._entry(call)
        if entry is not None and entry.state == "holding":
            return self._hold(call, lead=[p.text("routing_to_general")])
        skill = self.config.skills.get(call.skill) if call.skill else None
        if skill is None or not hours.is_open(skill, self.clock.now()):
            skill = self.config.fallback_skill
        return self._route(call, skill, lead=[p.text("routing_to_general")])

    # ---- shared moves --------------------------------------------------------------------------

    def _route(self, call: Call, skill: Skill, lead: list[str] | None = None) -> VoiceResponse:
        """The caller's need is known: join the skill's line, or hear that it is closed."""
        p = self._prompts(call)
        now = self.clock.now()
        call.skill = skill.name
        call.retries = 0
        lead = list(lead or [])
        if not hours.is_open(skill, now):
            opening = hours.next_opening(skill, now)
            if opening is None:
                return self._goodbye(call, lead=lead)
            call.scratch = {**call.scratch, "opening": opening.isoformat()}
            lead.append(p.text("after_hours", skill=skill.label_in(call.language),
                               opening=promises.moment_words(p, opening, self._zone(call), now)))
            return self._ask(call, "after_hours_offer", lead=lead)
        entry = callbacks.enter_line(self.session, skill=skill.name, call_sid=call.call_sid,
                                     phone_number=call.from_number, language=call.language,
                                     arrived_at=call.started_at, now=now, transcript=call.transcript,
                                     confidence=call.confidence, context=self._entry_context(call))
        call.entry_id = entry.id
        est = promises.estimate_for(self.session, self.config, entry, now)
        if not est.announceable:
            # Nobody staffed can meet a wait today: say so, and offer a callback (at the next opening or shift).
            key = "no_wait_today" if est.status == "after_closing" else "unstaffed"
            lead.append(p.text(key, skill=skill.label_in(call.language)))
            return self._ask(call, "after_hours_offer", lead=lead)
        if est.seconds > skill.callback_offer_threshold_seconds:
            promises.announce(self.session, entry, est, now)
            call.scratch = {**call.scratch, "told_wait": est.seconds}
            return self._ask(call, "wait_offer", lead=lead)
        return self._hold(call, lead=lead)

    def _hold(self, call: Call, lead: list[str] | None = None) -> VoiceResponse:
        p = self._prompts(call)
        entry = self._entry(call)
        skill = self.config.skills[entry.skill]
        entry.context = {**(entry.context or {}), **self._entry_context(call)}
        response = VoiceResponse()
        for text in (lead or []) + [p.text("hold_intro", skill=skill.label_in(call.language))]:
            response.say(text, voice=p.voice, language=p.language)
        call.step = "holding"
        call.retries = 0
        response.enqueue(entry.skill, wait_url=self.links.hold_wait(entry.public_id), wait_url_method="POST",
                         action=self.links.hold_done(call.turn + 1), method="POST")
        return response

    def _start_callback(self, call: Call, mode: str) -> VoiceResponse:
        call.scratch = {**call.scratch, "callback_mode": mode, "wants_callback": False}
        call.retries = 0
        try:
            caller = normalise(call.from_number or "", self.settings.allowed_countries)
        except NumberRefused:
            return self._ask(call, "callback_number_enter")
        call.scratch = {**call.scratch, "caller_number": caller}
        return self._ask(call, "callback_number_confirm")

    def _after_number(self, call: Call) -> VoiceResponse:
        call.retries = 0
        if callbacks.find_open_callback(self.session, call.scratch["callback_number"], call.skill):
            # Already booked for this number and skill: say so now rather than ask when.
            return self._book(call, scheduled_for=None)
        if call.scratch.get("callback_mode") == "opening" and call.scratch.get("opening"):
            return self._book(call, scheduled_for=after_hours.opening_slot(self, call))
        if call.scratch.get("callback_mode") == "opening":  # open, but nobody can reach them today: in line
            return self._book(call, scheduled_for=None)
        return self._ask(call, "callback_when")

    def _book(self, call: Call, scheduled_for: datetime | None) -> VoiceResponse:
        """Store the callback (same place in line) and tell the caller what was agreed."""
        p = self._prompts(call)
        now = self.clock.now()
        number = call.scratch["callback_number"]
        request = callbacks.CallbackRequest(
            skill=call.skill, phone_number=number, channel="phone", language=call.language,
            arrived_at=call.started_at, scheduled_for=scheduled_for, customer_timezone=self._zone(call).key,
            transcript=call.transcript, confidence=call.confidence, call_sid=call.call_sid, actor="caller",
            context=self._entry_context(call),
        )
        entry = self._entry(call)
        if entry is not None and entry.state == "holding":
            booking = callbacks.convert_to_callback(self.session, entry, request, now)
        else:
            booking = callbacks.book_callback(self.session, request, now)
        response = VoiceResponse()
        call.step = "done"
        call.entry_id = booking.entry.id
        if not booking.created:
            text = p.text("callback_existing", last_digits=last_digits(booking.entry.phone_number))
        else:
            chosen = scheduled_for is not None and call.scratch.get("callback_mode") != "opening"
            told = promises.promise_callback(self.session, self.config, booking.entry, now,
                                             zone=self._zone(call).key, chosen_slot=chosen)
            key = "callback_agreed_asap" if scheduled_for is None else "callback_agreed_scheduled"
            text = p.text(key, window=promises.window_words(p, told.window, now), last_digits=last_digits(number))
        response.say(text, voice=p.voice, language=p.language)
        response.hangup()
        return response

    def _goodbye(self, call: Call, lead: list[str] | None = None) -> VoiceResponse:
        p = self._prompts(call)
        response = VoiceResponse()
        for text in (lead or []) + [p.text("goodbye")]:
            response.say(text, voice=p.voice, language=p.language)
        response.hangup()
        call.step = "done"
        return response

    def _retry(self, call: Call, step: steps.Step, meaning: Meaning, lead: list[str] | None = None) -> VoiceResponse:
        """Ask again (at most MAX_RETRIES times), then the step's `give_up` move."""
        call.retries += 1
        if call.retries > steps.MAX_RETRIES:
            call.retries = 0
            return MOVES[step.give_up](self, call, meaning)
        p = self._prompts(call)
        sorry = lead or [p.text("no_input" if meaning.kind == "nothing" else "not_understood")]
        return self._ask(call, step.name, lead=sorry, keep_retries=True)

    def _ask(self, call: Call, step_name: str, *, lead: list[str] | None = None,
             keep_retries: bool = False) -> VoiceResponse:
        """Ask a question from the table: the prompt inside a Gather (keys interrupt it), and, with
        speech, the caller's audio forked to /media first (speaking interrupts it too)."""
        step = steps.STEPS[step_name]
        p = self._prompts(call)
        response = VoiceResponse()
        if not keep_retries:
            call.retries = 0
        call.step = step_name
        next_turn = call.turn + 1
        action = self.links.step(step_name, next_turn)
        if self._speech_on(call) and step.expects.listen:
            start = Start()
            stream = start.stream(name=stream_name(next_turn), url=self.links.stream())
            stream.parameter(name="token", value=self.links.stream_token(call.call_sid, step_name, next_turn))
            response.append(start)
        gather = steps.gather(step, action)
        for text in (lead or []) + [self._question_text(call, step)]:
            gather.say(text, voice=p.voice, language=p.language)
        response.append(gather)
        # No key and no recognised answer: Gather falls through to here, and the same action hears "nothing".
        response.redirect(action, method="POST")
        return response

    def _question_text(self, call: Call, step: steps.Step) -> str:
        p = self._prompts(call)
        if step.name == "menu" and not self._speech_on(call):
            return p.text("menu_dtmf_only")
        values: dict = {}
        if step.name == "confirm_skill":
            values["skill"] = self.config.skills[call.scratch["candidate_skill"]].label_in(call.language)
        elif step.name == "wait_offer":
            values["wait"] = promises.wait_words(p, call.scratch["told_wait"])
        elif step.name == "after_hours_offer":
            values["window"] = after_hours.offer_window_words(self, call, p)
        elif step.name == "callback_number_confirm":
            values["last_digits"] = last_digits(call.scratch["caller_number"])
        elif step.name == "callback_time_confirm":
            return callback_times.read_back(self, call, p)
        elif step.name == "open_callback":
            return returning.question(self, call, p)
        elif step.name == "callback_number_readback":
            values["digits"] = spoken_number(call.scratch["entered_number"],
                                             home_region(call.from_number, call.to_number))
        return p.text(step.prompt, **values)

    # ---- bookkeeping ---------------------------------------------------------------------------

    def _entry_context(self, call: Call) -> dict:
        return {"caller_number": call.from_number, "called_number": call.to_number,
                "ivr_path": call.scratch.get("path", [])}

    def _answer(self, call: Call, turn: int, response: VoiceResponse) -> str:
        twiml = str(response)
        self.session.add(CallTurn(call_sid=call.call_sid, turn=turn, twiml=twiml))
        call.turn = turn + 1
        self.session.flush()
        return twiml

    def _replay(self, call: Call, turn: int) -> str:
        stored = self.session.get(CallTurn, (call.call_sid, turn))
        if stored is None:
            raise TurnMismatch(f"turn {turn} of {call.call_sid} was never answered")
        return stored.twiml

    def _call(self, call_sid: str | None) -> Call:
        call = self.session.get(Call, call_sid) if call_sid else None
        if call is None:
            raise UnknownCall(f"no call {call_sid!r}")
        return call

    def _entry(self, call: Call) -> QueueEntry | None:
        return self.session.get(QueueEntry, call.entry_id) if call.entry_id else None

    def _speech_on(self, call: Call) -> bool:
        return self.speech_in(call.language)

    def speech_in(self, language: str) -> bool:
        return language in self.settings.speech_languages and self.understanding is not None

    def _prompts(self, call: Call) -> Prompts:
        return Prompts(self.config, call.language)

    def _zone(self, call: Call):  # the zone this caller hears times in (their language's, else the skill's)
        return self.config.zone_for(call.language, self.config.skills[call.skill])


# Where each answer leads: the move names used in ivr.steps' `leads` and `give_up`.
MOVES: dict[str, Callable[[CallFlow, Call, Meaning], VoiceResponse]] = {
    "to_person": CallFlow._to_person,
    **menu_moves.MOVES,
    **callback_number.MOVES,
    **callback_times.MOVES,
    **after_hours.MOVES,
    **returning.MOVES,
}


def open_entry_for_call(session: Session, call_sid: str) -> QueueEntry | None:
    return session.scalar(select(QueueEntry).where(QueueEntry.call_sid == call_sid, QueueEntry.state == "holding"))
