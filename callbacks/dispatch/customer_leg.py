"""The customer's leg: the greeting, Twilio's answering-machine verdict (AMD), and the leg's status
callbacks (which may be late, repeated, or out of order)."""
from __future__ import annotations

from dataclasses import dataclass

from twilio.twiml.voice_response import VoiceResponse

from callbacks import services as callbacks
from callbacks.dialing import ENDED, Dialer
from callbacks.dispatch.legs import HUMAN, join, leg_of, release_agent
from callbacks.dispatch.placing import Placer
from callbacks.dispatch.retry import RetryPolicy
from callbacks.dispatch.talk import Talk
from callbacks.dispatch.work import Units, Work
from storage.models import Agent, QueueEntry


@dataclass(eq=False)
class CustomerLeg:
    units: Units
    dialer: Dialer
    talk: Talk
    retry: RetryPolicy
    placer: Placer

    def answer(self, public_id: str, leg: int, call_sid: str) -> str:
        """The customer picked up (AMD still listening): the greeting, then the conference."""
        def answer(work: Work, entry: QueueEntry) -> str:
            if leg_of(entry) != leg or entry.state != "dialing_customer":
                return self.talk.hang_up()
            if not entry.dial_call_sid:
                entry.dial_call_sid = call_sid
            callbacks.record(work.session, entry, "customer_answered", now=work.now, actor="twilio", leg=leg)
            response = VoiceResponse()
            self.talk.say(response, entry, self.talk.text(entry, "callback_greeting"))
            customer_first = entry.context.get("mode") == "customer_first"
            self.talk.say(response, entry, self.talk.text(
                entry, "callback_hold_for_agent" if customer_first else "callback_connecting"))
            join(response, entry, leg, agent_side=not customer_first)
            return str(response)

        return self.units.on_public_id(public_id, answer) or self.talk.hang_up()

    def amd(self, public_id: str, leg: int, call_sid: str, answered_by: str) -> None:
        """Twilio's asynchronous answering-machine verdict."""
        def apply(work: Work, entry: QueueEntry):
            s, now = work.session, work.now
            if leg_of(entry) != leg or entry.state != "dialing_customer":
                return  # late, repeated, or the call is already settled
            if not entry.dial_call_sid:
                entry.dial_call_sid = call_sid
            if answered_by in HUMAN:
                if entry.context.get("mode") != "customer_first":
                    callbacks.change_state(s, entry, "connected", now=now, actor="twilio",
                                           reason=f"customer answered ({answered_by})", leg=leg)
                    return
                # Customer-first: now ring the reserved agent.
                entry.context = {**entry.context, "customer_on_line": True}
                callbacks.record(s, entry, "customer_on_line", now=now, actor="twilio", answered_by=answered_by)
                agent = s.get(Agent, entry.agent_id) if entry.agent_id else None
                if agent is not None:
                    address, pid, entry_id, agent_id = agent.address, entry.public_id, entry.id, agent.id
                    work.after_commit(lambda: self.placer.ring_agent(entry_id, pid, address, leg, agent_id))
                return
            # A machine: end both legs, try again (soon, when the window told allows it), and leave a
            # short message that says which.
            self.talk.tell_and_end(work, entry.agent_call_sid, "agent_voicemail_left", entry)
            release_agent(work, entry, "available", "customer leg reached voicemail")
            soon = self.retry.retry(work, entry, f"answered by {answered_by}", event="voicemail",
                                    outcome="machine" if answered_by != "fax" else None)
            voicemail = self.talk.voicemail(entry, answered_by, soon=soon)
            work.after_commit(lambda: self.dialer.steer(call_sid, voicemail))

        self.units.on_public_id(public_id, apply)

    def status(self, public_id: str, leg: int, call_sid: str, status: str) -> None:
        """A status callback of the customer's leg."""
        def apply(work: Work, entry: QueueEntry):
            if leg_of(entry) != leg:
                return
            if status not in ENDED:
                if not entry.dial_call_sid and entry.state == "dialing_customer":
                    entry.dial_call_sid = call_sid
                return
            if entry.state == "connected":
                callbacks.change_state(work.session, entry, "completed", now=work.now, actor="twilio",
                                       reason="call ended")
                return
            if entry.state != "dialing_customer":
                return
            if status == "completed":
                reason, event = "customer hung up before being connected", "customer_hung_up"
            else:
                reason, event = f"customer {status}", "customer_" + status.replace("-", "_")
            self.talk.tell_and_end(work, entry.agent_call_sid, "agent_customer_unreachable", entry)
            release_agent(work, entry, "available", reason)
            self.retry.retry(work, entry, reason, event=event,
                             outcome=status if status in ("no-answer", "busy") else None)

        self.units.on_public_id(public_id, apply)
