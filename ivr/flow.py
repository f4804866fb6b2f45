"""The call flow: what a caller hears at each step and what their answer leads to.

Independent of Flask: the webhooks hand in what Twilio sent and render the VoiceResponse this returns.
A keyed digit and a recognised phrase enter the same decision (see `Heard`).

Idempotency: every URL the flow hands Twilio carries the call's turn number. A request for a turn
that was already answered (Twilio retries webhooks) gets the stored answer back and changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Connect, Gather, VoiceResponse

from callbacks import services as callbacks
from callbacks.numbers import NumberRefused, last_digits, normalise, spoken_digits
from clock import Clock
from config import IvrConfig, Skill
from ivr.prompts import Prompts
from routing import hours, queue
from storage.models import Call, CallTurn, QueueEntry, SpeechResult

MAX_RETRIES = 2
CLOSED_CALL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}


class Links(Protocol):
    """Absolute URLs the flow gives Twilio; the web layer knows the host and routes."""

    def step(self, step: str, turn: int) -> str: ...
    def hold_wait(self, entry_id: str) -> str: ...
    def hold_press(self, entry_id: str) -> str: ...
    def hold_done(self, turn: int) -> str: ...
    def stream(self, call_sid: str, step: str, turn: int) -> str: ...


class UnknownCall(LookupError):
    pass


class TurnMismatch(ValueError):
    """A request for a turn this call has not reached: not something Twilio would send."""


@dataclass(frozen=True)
class Heard:
    """What the caller gave at a step: keyed digits, and/or what the recogniser heard."""

    digits: str | None = None
    transcript: str | None = None
    confidence: float | None = None

    @property
    def nothing(self) -> bool:
        return not self.digits and not (self.transcript or "").strip()


@dataclass
class FlowSettings:
    allowed_countries: tuple[str, ...]
    # Which languages have a speech engine; others are DTMF-only.
    speech_languages: frozenset[str] = frozenset()


# Speech understanding plugs in here (ivr.speech_answers.interpret):
# (step, transcript, confidence, language, skill, config, now) -> the key(s) it stands for, or None.
SpeechInterpreter = Callable[[str, str, float | None, str, str | None, IvrConfig, datetime], str | None]


class CallFlow:
    def __init__(self, session: Session, config: IvrConfig, clock: Clock, links: Links, settings: FlowSettings,
                 interpret_speech: SpeechInterpreter | None = None):
        self.session = session
        self.config = config
        self.clock = clock
        self.links = links
        self.settings = settings
        self.interpret_speech = interpret_speech

    # ---- entry points (one per webhook) ---------------------------------------------------------

    def incoming(self, call_sid: str, from_number: str | None, to_number: str | None) -> str:
        call = self.session.get(Call, call_sid)
        if call is not None:
            # A retried first request: the greeting already went out as turn 0.
            return self._replay(call, 0)
        now = self.clock.now()
        call = Call(call_sid=call_sid, from_number=from_number, to_number=to_number,
                    language=self.config.language_for_number(to_number), step="menu", turn=0, retries=0,
                    scratch={}, status="in-progress", started_at=now)
        self.session.add(call)
        self.session.flush()
        p = self._prompts(call)
        response = VoiceResponse()
        response.say(p.text("greeting"), voice=p.voice, language=p.language)
        return self._answer(call, 0, self._ask(call, "menu", [self._menu_prompt(call)], response=response))

    def step(self, call_sid: str, step: str, turn: int, digits: str | None) -> str:
        call = self._call(call_sid)
        if turn < call.turn:
            return self._replay(call, turn)
        if turn > call.turn or step != call.step:
            raise TurnMismatch(f"call {call_sid} is at turn {call.turn} ({call.step}), not {turn} ({step})")
        handler = getattr(self, f"_on_{step}", None)
        if handler is None:
            raise TurnMismatch(f"unknown step {step!r}")
        heard = self._heard(call_sid, step, turn, digits)
        if heard.nothing and self._speech_on(call):
            # Nothing came through the stream (noise, a quiet line): keys only from here on.
            call.scratch = {**call.scratch, "keypad_only": True}
        if heard.transcript and not heard.digits and self.interpret_speech:
            if step == "menu":
                call.transcript, call.confidence = heard.transcript, heard.confidence
            call.scratch = {**call.scratch, "heard": call.scratch.get("heard", []) + [
                {"step": step, "transcript": heard.transcript, "confidence": heard.confidence}]}
            meaning = self.interpret_speech(step, heard.transcript, heard.confidence, call.language, call.skill,
                                            self.config, self.clock.now())
            heard = Heard(digits=meaning, transcript=heard.transcript, confidence=heard.confidence)
        return self._answer(call, turn, handler(call, heard))

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
        wait = self._estimate(entry)
        if entry.announced_wait_seconds is None:
            entry.announced_wait_seconds = wait
            callbacks.record(self.session, entry, "wait_announced", now=now, seconds=wait, position=pos)
        gather = Gather(input="dtmf", num_digits=1, timeout=self.config.hold_announce_every_seconds,
                        action=self.links.hold_press(entry.public_id), method="POST")
        gather.say(p.text("hold_position", position=pos, wait=p.wait(wait)), voice=p.voice, language=p.language)
        gather.say(p.text("hold_offer"), voice=p.voice, language=p.language)
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
        entry = self.session.get(QueueEntry, call.entry_id) if call.entry_id else None
        now = self.clock.now()
        response = VoiceResponse()
        if queue_result == "leave" and call.scratch.get("wants_callback") and entry and entry.state == "holding":
            return self._answer(call, turn, self._start_callback(call, mode="asap"))
        if queue_result == "bridged" and entry and entry.state == "holding":
            callbacks.change_state(self.session, entry, "connected", now=now, reason="bridged from Twilio's queue",
                                   queue_time=queue_time)
        elif queue_result == "hangup" and entry and entry.state == "holding":
            callbacks.change_state(self.session, entry, "abandoned", now=now, reason="caller hung up while holding",
                                   actor="caller", queue_time=queue_time)
        elif queue_result in {"error", "system-error", "queue-full"} and entry and entry.state == "holding":
            # Twilio could not keep the caller in its queue: keep the promise with a callback instead.
            return self._answer(call, turn, self._start_callback(call, mode="asap"))
        elif queue_result == "leave":
            # Taken out of line by someone else (e.g. a supervisor cancelled the entry): a polite goodbye.
            return self._answer(call, turn, self._goodbye(call))
        response.hangup()
        call.step = "done"
        return self._answer(call, turn, response)

    def status(self, call_sid: str, call_status: str, duration: str | None = None) -> bool:
        """Twilio's status callback for the inbound call. Returns False for a call we never saw."""
        call = self.session.get(Call, call_sid)
        if call is None:
            return False
        if call.status in CLOSED_CALL_STATUSES:
            return True  # late or repeated callback: the first one counted
        call.status = call_status
        if call_status in CLOSED_CALL_STATUSES:
            now = self.clock.now()
            call.ended_at = now
            entry = self.session.get(QueueEntry, call.entry_id) if call.entry_id else None
            if entry is not None and entry.state == "holding":
                callbacks.change_state(self.session, entry, "abandoned", now=now,
                                       reason=f"call ended ({call_status}) while holding", actor="caller")
        return True

    # ---- steps ---------------------------------------------------------------------------------

    def _on_menu(self, call: Call, heard: Heard) -> VoiceResponse:
        p = self._prompts(call)
        digit = (heard.digits or "")[:1]
        for language, key in self.config.language_digits.items():
            if digit == key and language != call.language and language in self.config.prompts:
                call.language = language
                call.retries = 0
                p = self._prompts(call)
                return self._ask(call, "menu", [self._menu_prompt(call)])
        candidate = (heard.digits or "")[1:] if (heard.digits or "").startswith("?") else None
        if candidate in self.config.skills:
            # Speech heard a skill, but not surely enough: ask before routing.
            call.scratch = {**call.scratch, "candidate_skill": candidate}
            label = self.config.skills[candidate].label_in(call.language)
            return self._ask(call, "confirm_skill", [p.text("confirm_skill", skill=label)])
        skill = self.config.skill_for_digit(digit) if digit else None
        if skill is not None:
            return self._route(call, skill)
        return self._retry(call, "menu", heard, [self._menu_prompt(call)],
                           give_up=lambda: self._route(call, self.config.fallback_skill,
                                                       intro=p.text("routing_to_general")))

    def _on_confirm_skill(self, call: Call, heard: Heard) -> VoiceResponse:
        skill = self.config.skills[call.scratch["candidate_skill"]]
        if heard.digits == "1":
            return self._route(call, skill)
        p = self._prompts(call)
        if heard.digits == "2":
            call.retries = 0
            return self._ask(call, "menu", [self._menu_prompt(call)])
        return self._retry(call, "confirm_skill", heard, [p.text("confirm_skill", skill=skill.label_in(call.language))],
                           give_up=lambda: self._route(call, skill))

    def _on_after_hours_offer(self, call: Call, heard: Heard) -> VoiceResponse:
        if heard.digits == "1":
            return self._start_callback(call, mode="opening")
        if heard.digits == "2":
            return self._goodbye(call)
        p = self._prompts(call)
        return self._retry(call, "after_hours_offer", heard, [p.text("after_hours_offer")], give_up=lambda: self._goodbye(call))

    def _on_wait_offer(self, call: Call, heard: Heard) -> VoiceResponse:
        if heard.digits == "1":
            return self._start_callback(call, mode="asap")
        if heard.digits == "2" or heard.nothing:
            return self._hold(call)
        p = self._prompts(call)
        entry = self._entry(call)
        wait = self._estimate(entry)
        return self._retry(call, "wait_offer", heard, [p.text("wait_offer", wait=p.wait(wait))],
                           give_up=lambda: self._hold(call))

    def _on_callback_number_confirm(self, call: Call, heard: Heard) -> VoiceResponse:
        p = self._prompts(call)
        if heard.digits == "1":
            call.scratch = {**call.scratch, "callback_number": call.scratch["caller_number"]}
            return self._after_number(call)
        if heard.digits == "2":
            call.retries = 0
            return self._ask_number(call)
        return self._retry(call, "callback_number_confirm", heard,
                           [p.text("callback_number_confirm", last_digits=last_digits(call.scratch["caller_number"]))],
                           give_up=lambda: self._goodbye(call))

    def _on_callback_number_enter(self, call: Call, heard: Heard) -> VoiceResponse:
        p = self._prompts(call)
        if heard.nothing:
            return self._ask_number(call, retry=True)
        try:
            number = normalise("+" + heard.digits.lstrip("+"), self.settings.allowed_countries)
        except NumberRefused as refused:
            return self._ask_number(call, [p.text("callback_number_invalid", reason=p.reason(refused.reason))],
                                    retry=True)
        call.scratch = {**call.scratch, "entered_number": number}
        call.retries = 0
        return self._ask(call, "callback_number_readback", [p.text("callback_number_readback", digits=spoken_digits(number))])

    def _on_callback_number_readback(self, call: Call, heard: Heard) -> VoiceResponse:
        p = self._prompts(call)
        if heard.digits == "1":
            call.scratch = {**call.scratch, "callback_number": call.scratch["entered_number"]}
            return self._after_number(call)
        if heard.digits == "2":
            call.retries = 0
            return self._ask_number(call)
        return self._retry(call, "callback_number_readback", heard,
                           [p.text("callback_number_readback", digits=spoken_digits(call.scratch["entered_number"]))],
                           give_up=lambda: self._goodbye(call))

    def _on_callback_when(self, call: Call, heard: Heard) -> VoiceResponse:
        p = self._prompts(call)
        if heard.digits == "1":
            return self._book(call, scheduled_for=None)
        if heard.digits == "2":
            call.retries = 0
            return self._ask(call, "callback_pick_day", [p.text("callback_pick_day")])
        spoken = self._spoken_time(call, heard)
        if spoken is not None:
            return spoken
        return self._retry(call, "callback_when", heard, [p.text("callback_when")], give_up=lambda: self._book(call, None))

    def _on_callback_pick_day(self, call: Call, heard: Heard) -> VoiceResponse:
        p = self._prompts(call)
        spoken = self._spoken_time(call, heard)
        if spoken is not None:
            return spoken
        if heard.digits in {"1", "2", "3"}:
            call.scratch = {**call.scratch, "day_offset": int(heard.digits) - 1}
            call.retries = 0
            return self._ask(call, "callback_pick_time", [p.text("callback_pick_time")], num_digits=4, timeout=10)
        return self._retry(call, "callback_pick_day", heard, [p.text("callback_pick_day")], give_up=lambda: self._goodbye(call))

    def _on_callback_pick_time(self, call: Call, heard: Heard) -> VoiceResponse:
        p = self._prompts(call)
        skill = self.config.skills[call.skill]
        digits = heard.digits or ""
        spoken = self._spoken_time(call, heard)
        if spoken is not None:
            return spoken
        if heard.nothing:
            return self._retry(call, "callback_pick_time", heard, [p.text("callback_pick_time")],
                               give_up=lambda: self._goodbye(call), num_digits=4, timeout=10)
        try:
            if len(digits) != 4 or not digits.isdigit() or int(digits[:2]) > 23 or int(digits[2:]) > 59:
                raise hours.TimeRefused("format", "not a time of day")
            local_today = self.clock.now().astimezone(skill.timezone).date()
            day = local_today + timedelta(days=call.scratch.get("day_offset", 0))
            when = hours.local_to_utc(day, datetime.strptime(digits, "%H%M").time(), skill.timezone)
        except hours.TimeRefused as refused:
            return self._time_refused(call, refused)
        return self._check_and_book(call, when)

    # ---- shared moves --------------------------------------------------------------------------

    def _route(self, call: Call, skill: Skill, intro: str | None = None) -> VoiceResponse:
        """The caller's need is known: join the skill's line, or hear that it is closed."""
        p = self._prompts(call)
        now = self.clock.now()
        call.skill = skill.name
        call.retries = 0
        response = VoiceResponse()
        if intro:
            response.say(intro, voice=p.voice, language=p.language)
        if not hours.is_open(skill, now):
            opening = hours.next_opening(skill, now)
            if opening is None:
                response.say(p.text("goodbye"), voice=p.voice, language=p.language)
                response.hangup()
                call.step = "done"
                return response
            call.scratch = {**call.scratch, "opening": opening.isoformat()}
            response.say(p.text("after_hours", skill=skill.label_in(call.language),
                                opening=hours.describe_local(opening, skill.timezone, now, call.language)),
                         voice=p.voice, language=p.language)
            return self._ask(call, "after_hours_offer", [p.text("after_hours_offer")], response=response)
        entry = callbacks.enter_line(self.session, skill=skill.name, call_sid=call.call_sid,
                                     phone_number=call.from_number, language=call.language,
                                     arrived_at=call.started_at, now=now, transcript=call.transcript,
                                     confidence=call.confidence)
        call.entry_id = entry.id
        wait = self._estimate(entry)
        if wait > skill.callback_offer_threshold_seconds:
            self._announce(entry, wait, now)
            return self._ask(call, "wait_offer", [p.text("wait_offer", wait=p.wait(wait))], response=response)
        return self._hold(call, response=response)

    def _hold(self, call: Call, response: VoiceResponse | None = None) -> VoiceResponse:
        p = self._prompts(call)
        entry = self._entry(call)
        skill = self.config.skills[entry.skill]
        response = response or VoiceResponse()
        response.say(p.text("hold_intro", skill=skill.label_in(call.language)), voice=p.voice, language=p.language)
        call.step = "holding"
        call.retries = 0
        response.enqueue(entry.skill, wait_url=self.links.hold_wait(entry.public_id), wait_url_method="POST",
                         action=self.links.hold_done(call.turn + 1), method="POST")
        return response

    def _start_callback(self, call: Call, mode: str) -> VoiceResponse:
        p = self._prompts(call)
        call.scratch = {**call.scratch, "callback_mode": mode, "wants_callback": False}
        call.retries = 0
        try:
            caller = normalise(call.from_number or "", self.settings.allowed_countries)
        except NumberRefused:
            caller = None
        if caller is None:
            return self._ask_number(call)
        call.scratch = {**call.scratch, "caller_number": caller}
        return self._ask(call, "callback_number_confirm", [p.text("callback_number_confirm", last_digits=last_digits(caller))])

    def _after_number(self, call: Call) -> VoiceResponse:
        call.retries = 0
        if callbacks.find_open_callback(self.session, call.scratch["callback_number"], call.skill):
            # Already booked for this number and skill: say so now rather than ask when.
            return self._book(call, scheduled_for=None)
        if call.scratch.get("callback_mode") == "opening":
            return self._book(call, scheduled_for=datetime.fromisoformat(call.scratch["opening"]))
        p = self._prompts(call)
        return self._ask(call, "callback_when", [p.text("callback_when")])

    def _spoken_time(self, call: Call, heard: Heard) -> VoiceResponse | None:
        """A time understood from speech ("tomorrow at three"): '@<iso utc>', or '!<reason>' it can't be."""
        said = heard.digits or ""
        if said.startswith("@"):
            return self._check_and_book(call, datetime.fromisoformat(said[1:]))
        if said.startswith("!"):
            return self._time_refused(call, hours.TimeRefused(said[1:], "spoken time refused"))
        return None

    def _check_and_book(self, call: Call, when: datetime) -> VoiceResponse:
        skill = self.config.skills[call.skill]
        rules = hours.BookingRules(horizon=timedelta(days=self.config.booking_horizon_days))
        try:
            when = hours.check_callback_time(skill, when, self.clock.now(), rules)
        except hours.TimeRefused as refused:
            return self._time_refused(call, refused)
        return self._book(call, scheduled_for=when)

    def _time_refused(self, call: Call, refused: hours.TimeRefused) -> VoiceResponse:
        p = self._prompts(call)
        sorry = p.text("callback_time_invalid", reason=p.reason(refused.reason))
        return self._retry(call, "callback_pick_day", Heard(digits="?"), [sorry, p.text("callback_pick_day")],
                           give_up=lambda: self._book(call, None), lead=None)

    def _book(self, call: Call, scheduled_for: datetime | None) -> VoiceResponse:
        """Store the callback (same place in line) and tell the caller what was agreed."""
        p = self._prompts(call)
        now = self.clock.now()
        skill = self.config.skills[call.skill]
        number = call.scratch["callback_number"]
        request = callbacks.CallbackRequest(
            skill=skill.name, phone_number=number, channel="phone", language=call.language,
            arrived_at=call.started_at, scheduled_for=scheduled_for, customer_timezone=skill.timezone.key,
            transcript=call.transcript, confidence=call.confidence, call_sid=call.call_sid, actor="caller",
            context={"caller_number": call.from_number, "called_number": call.to_number,
                     "ivr_heard": call.scratch.get("heard", [])},
        )
        entry = self.session.get(QueueEntry, call.entry_id) if call.entry_id else None
        if entry is not None and entry.state == "holding":
            booking = callbacks.convert_to_callback(self.session, entry, request, now)
        else:
            booking = callbacks.book_callback(self.session, request, now)
        response = VoiceResponse()
        call.step = "done"
        call.entry_id = booking.entry.id
        if not booking.created:
            response.say(p.text("callback_existing", last_digits=last_digits(booking.entry.phone_number)),
                         voice=p.voice, language=p.language)
        elif scheduled_for is None:
            wait = self._estimate(booking.entry)
            self._announce(booking.entry, wait, now, force=True)
            response.say(p.text("callback_agreed_asap", wait=p.wait(wait), last_digits=last_digits(number)),
                         voice=p.voice, language=p.language)
        else:
            when = hours.describe_local(scheduled_for, skill.timezone, now, call.language)
            response.say(p.text("callback_agreed_scheduled", when=when, last_digits=last_digits(number)),
                         voice=p.voice, language=p.language)
        response.hangup()
        return response

    def _goodbye(self, call: Call) -> VoiceResponse:
        p = self._prompts(call)
        response = VoiceResponse()
        response.say(p.text("goodbye"), voice=p.voice, language=p.language)
        response.hangup()
        call.step = "done"
        entry = self.session.get(QueueEntry, call.entry_id) if call.entry_id else None
        if entry is not None and entry.state == "holding":
            callbacks.change_state(self.session, entry, "abandoned", now=self.clock.now(),
                                   reason="caller ended the call in the menu", actor="caller")
        return response

    def _ask_number(self, call: Call, lead: list[str] | None = None, retry: bool = False) -> VoiceResponse:
        p = self._prompts(call)
        prompts = (lead or []) + [p.text("callback_number_enter")]
        ask = {"num_digits": 15, "finish_on_key": "#", "timeout": 10}
        if retry:
            return self._retry(call, "callback_number_enter", Heard(digits="?") if lead else Heard(), prompts,
                               give_up=lambda: self._goodbye(call), lead=not lead, **ask)
        call.retries = 0
        return self._ask(call, "callback_number_enter", prompts, **ask)

    def _retry(self, call: Call, step: str, heard: Heard, prompts: list[str], give_up: Callable[[], VoiceResponse],
               lead: str | None | bool = True, **ask) -> VoiceResponse:
        """Reprompt at most MAX_RETRIES times, then `give_up`."""
        call.retries += 1
        if call.retries > MAX_RETRIES:
            call.retries = 0
            return give_up()
        p = self._prompts(call)
        sorry = [p.text("no_input" if heard.nothing else "not_understood")] if lead else []
        return self._ask(call, step, sorry + prompts, keep_retries=True, **ask)

    def _ask(self, call: Call, step: str, prompts: list[str], *, response: VoiceResponse | None = None,
             num_digits: int = 1, finish_on_key: str | None = None, timeout: int = 6,
             keep_retries: bool = False) -> VoiceResponse:
        """Say the prompts and take the answer: speech over a media stream where we can, else keys."""
        p = self._prompts(call)
        response = response or VoiceResponse()
        if not keep_retries and step != call.step:
            call.retries = 0
        call.step = step
        next_turn = call.turn + 1
        action = self.links.step(step, next_turn)
        if self._speech_on(call):
            for text in prompts:
                response.say(text, voice=p.voice, language=p.language)
            connect = Connect(action=action, method="POST")
            stream = connect.stream(url=self.links.stream(call.call_sid, step, next_turn))
            stream.parameter(name="call_sid", value=call.call_sid)
            stream.parameter(name="step", value=step)
            stream.parameter(name="turn", value=str(next_turn))
            response.append(connect)
            return response
        gather_args = {"input": "dtmf", "num_digits": num_digits, "timeout": timeout, "action": action,
                       "method": "POST"}
        if finish_on_key:
            gather_args["finish_on_key"] = finish_on_key
        gather = Gather(**gather_args)
        for text in prompts:
            gather.say(text, voice=p.voice, language=p.language)
        response.append(gather)
        # No key pressed: Gather falls through to here, and the same action hears "nothing".
        response.redirect(action, method="POST")
        return response

    # ---- bookkeeping ---------------------------------------------------------------------------

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

    def _heard(self, call_sid: str, step: str, turn: int, digits: str | None) -> Heard:
        """Keys pressed on a Gather, or what the media stream stored for this step and turn."""
        if digits:
            return Heard(digits=digits)
        result = self.session.scalar(select(SpeechResult).where(
            SpeechResult.call_sid == call_sid, SpeechResult.step == step, SpeechResult.turn == turn))
        if result is None:
            return Heard()
        return Heard(digits=result.digit, transcript=result.transcript, confidence=result.confidence)

    def _call(self, call_sid: str | None) -> Call:
        call = self.session.get(Call, call_sid) if call_sid else None
        if call is None:
            raise UnknownCall(f"no call {call_sid!r}")
        return call

    def _entry(self, call: Call) -> QueueEntry:
        return self.session.get(QueueEntry, call.entry_id)

    def _speech_on(self, call: Call) -> bool:
        return call.language in self.settings.speech_languages and not call.scratch.get("keypad_only")

    def _menu_prompt(self, call: Call) -> str:
        return self._prompts(call).text("menu" if self._speech_on(call) else "menu_dtmf_only")

    def _prompts(self, call: Call) -> Prompts:
        return Prompts(self.config, call.language)

    def _estimate(self, entry: QueueEntry) -> int:
        return queue.estimated_wait(self.session, entry, self.clock.now(), self.config.assumed_handle_seconds)

    def _announce(self, entry: QueueEntry, wait: int, now: datetime, force: bool = False) -> None:
        """Remember the first wait we told this person: announced-vs-actual is a published metric."""
        if entry.announced_wait_seconds is None or force:
            entry.announced_wait_seconds = wait
            callbacks.record(self.session, entry, "wait_announced", now=now, seconds=wait)


def open_entry_for_call(session: Session, call_sid: str) -> QueueEntry | None:
    return session.scalar(select(QueueEntry).where(QueueEntry.call_sid == call_sid, QueueEntry.state == "holding"))
