"""The call flow's front door: one entry point per webhook, and the call's context every handler shares.

Independent of Flask: the webhooks hand in what Twilio sent and render the TwiML this returns.
The questions are the table in `ivr.steps`; an answer, keyed or spoken, becomes one `Meaning`
(`ivr.hearing`, `ivr.answers`) and the step's `leads` pick the move (`ivr.moves.MOVES`). Each job has
its module: asking a question (`ivr.asking`), joining a line (`ivr.line`), holding in Twilio's queue
(`ivr.holding`), booking a callback (`ivr.booking`), storing and replaying turns (`ivr.turns`).

When the caller starts to speak over a prompt, the media handler moves the live call to `listen` (the
prompt stops); when their answer is recognised, to the step's action URL, which reads the stored result.

Idempotency: every URL the flow hands Twilio carries the call's turn number. A request for a turn
that was already answered (Twilio retries webhooks) gets the stored answer back and changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Stop, VoiceResponse

from clock import Clock
from config import IvrConfig, Prompts
from ivr import asking, call_records, hearing, holding, returning, spoken, steps, turns
from ivr.answers import Meaning
from ivr.exceptions import TurnMismatch
from ivr.moves import MOVES, QUESTIONS
from storage.models import Call, QueueEntry


class Links(Protocol):
    """Absolute URLs the flow gives Twilio; the web layer knows the host and routes."""

    def step(self, step: str, turn: int) -> str: ...
    def listen(self, step: str, turn: int) -> str: ...
    def hold_wait(self, entry_id: str) -> str: ...
    def hold_press(self, entry_id: str) -> str: ...
    def hold_done(self, turn: int) -> str: ...
    def stream(self) -> str: ...
    def stream_token(self, call_sid: str, step: str, turn: int) -> str: ...


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
            return turns.replay(self, call, 0)
        now = self.clock.now()
        call = Call(call_sid=call_sid, from_number=from_number, to_number=to_number,
                    language=self.config.language_for_number(to_number), step="menu", turn=0, retries=0,
                    scratch={"path": []}, status="in-progress", started_at=now)
        self.session.add(call)  # written with its first turn, in one flush (turns.answer)
        p = self.prompts(call)
        # The greeting is inside the first Gather: a caller who knows what they want need not wait. A caller
        # whose callback is still waiting hears it first (ivr/returning.py).
        lead = [p.text("greeting")]
        return turns.answer(self, call, 0, returning.greet(self, call, lead) or asking.ask(self, call, "menu", lead=lead))

    def step(self, call_sid: str, step_name: str, turn: int, digits: str | None) -> str:
        """The answer to a question: Gather's keys, its time-out fall-through, or a recognised answer."""
        call = turns.load(self, call_sid)
        if turn < call.turn:
            return turns.replay(self, call, turn)
        if turn > call.turn or step_name != call.step:
            raise TurnMismatch(f"call {call_sid} is at turn {call.turn} ({call.step}), not {turn} ({step_name})")
        step = steps.step(step_name)
        if step is None:
            raise TurnMismatch(f"unknown step {step_name!r}")
        listened = self.speech_on(call) and step.expects.listen is not None
        heard = hearing.heard(self, call_sid, step_name, turn, digits, listened)
        if heard is None:  # the caller began to answer as the question timed out: wait for it (ivr/spoken.py)
            return self.listen(call_sid, step_name, turn)
        meaning = hearing.meaning(self, call, step, heard)
        hearing.remember(call, step, heard, meaning)
        move = step.leads.get(meaning.kind)
        response = asking.retry(self, call, step, meaning) if move is None else self.move(move, call, meaning)
        if listened and not heard.transcript:
            # Answered by keys or timed out: the question's audio fork is still running; stop it.
            stop = Stop()
            stop.stream(name=turns.stream_name(turn))
            response.verbs.insert(0, stop)
        return turns.answer(self, call, turn, response)

    def listen(self, call_sid: str, step_name: str, turn: int) -> str:
        """The caller began to speak over a prompt: stop it and wait, keys still counting, for the answer.

        Changes nothing and is not a turn: the recognised answer arrives at the step's action URL."""
        call = turns.load(self, call_sid)
        step = steps.step(step_name)
        if turn != call.turn or step_name != call.step or step is None:
            # The call moved on meanwhile (a key won the race): carry on with where it is now.
            return turns.replay(self, call, call.turn - 1)
        response = VoiceResponse()
        action = self.links.step(step_name, turn)
        gather = steps.gather(step, action, timeout=1)
        gather.pause(length=spoken.LISTEN_SECONDS)
        response.append(gather)
        response.redirect(action, method="POST")
        return str(response)

    def hold_wait(self, entry_public_id: str, queue_sid: str | None, twilio_position: str | None) -> str:
        """Twilio's waitUrl while the caller holds (ivr/holding.py)."""
        return holding.wait(self, entry_public_id, queue_sid)

    def hold_press(self, entry_public_id: str, digits: str | None) -> str:
        """A key pressed while holding (ivr/holding.py)."""
        return holding.press(self, entry_public_id, digits)

    def hold_done(self, call_sid: str, turn: int, queue_result: str | None, queue_time: str | None) -> str:
        """Twilio's Enqueue action: the caller left the queue (ivr/holding.py)."""
        return holding.done(self, call_sid, turn, queue_result, queue_time)

    def status(self, call_sid: str, call_status: str, duration: str | None = None) -> bool:
        """Twilio's status callback for the inbound call (one UPDATE: ivr.call_records). Returns False
        when no call took it: one we never saw, or one already closed (the first closing status counts)."""
        return call_records.status(self, call_sid, call_status)

    # ---- the tables (ivr/moves.py) --------------------------------------------------------------

    def move(self, name: str, call: Call, meaning: Meaning) -> VoiceResponse:
        """Run the move `name` (a step's lead or give-up) for this answer."""
        return MOVES[name](self, call, meaning)

    def question_text(self, call: Call, step: steps.Step) -> str:
        """The words of a step's question: its module's, where they take values, else its prompt."""
        p = self.prompts(call)
        words = QUESTIONS.get(step.name)
        return words(self, call, p) if words is not None else p.text(step.prompt)

    # ---- the call's context ---------------------------------------------------------------------

    def entry(self, call: Call) -> QueueEntry | None:
        return self.session.get(QueueEntry, call.entry_id) if call.entry_id else None

    def entry_context(self, call: Call) -> dict:
        """What a queue entry carries of the call: its numbers and the caller's path."""
        return {"caller_number": call.from_number, "called_number": call.to_number,
                "ivr_path": call.scratch.get("path", [])}

    def speech_on(self, call: Call) -> bool:
        return self.speech_in(call.language)

    def speech_in(self, language: str) -> bool:
        return language in self.settings.speech_languages and self.understanding is not None

    def prompts(self, call: Call) -> Prompts:
        return Prompts(self.config, call.language)

    def zone(self, call: Call):  # the zone this caller hears times in (their language's, else the skill's)
        return self.config.zone_for(call.language, self.config.skills[call.skill])
