"""The agent's leg: the whisper (who, for what, what they told us), press 1 to take the call, and the
leg's Twilio status callbacks (which may be late, repeated, or for an old leg)."""
from __future__ import annotations

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from agents import services as agents
from callbacks import services as callbacks
from callbacks.dialing import ENDED, Dialer
from callbacks.dispatch.legs import agent_of, customer_on_line, join, leg_of
from callbacks.dispatch.placing import Placer
from callbacks.dispatch.retry import RetryPolicy
from callbacks.dispatch.talk import Talk
from callbacks.dispatch.work import Units, Work
from storage.models import CALLBACK, HOLDING, QueueEntry


def waiting_for_agent(entry: QueueEntry, leg: int) -> bool:
    """Whether this entry still waits for the agent of this leg to take it."""
    return leg_of(entry) == leg and (
        (entry.kind == HOLDING and entry.state == "holding" and entry.agent_id is not None)
        or entry.state == "dialing_agent"
        or (entry.state == "dialing_customer" and customer_on_line(entry)))


class AgentLeg:
    def __init__(self, units: Units, dialer: Dialer, talk: Talk, retry: RetryPolicy, placer: Placer, name: str):
        self.units = units
        self.dialer = dialer
        self.talk = talk
        self.retry = retry
        self.placer = placer
        self.name = name

    def answer(self, public_id: str, leg: int, call_sid: str, accept_url: str) -> str:
        """The agent picked up: the whisper, and press 1."""
        def answer(work: Work, entry: QueueEntry) -> str:
            if not waiting_for_agent(entry, leg):
                return self.talk.saying(entry, "agent_no_longer_waiting")
            if not entry.agent_call_sid:
                entry.agent_call_sid = call_sid
            agent_of(work.session, entry, call_sid)
            response = VoiceResponse()
            gather = Gather(input="dtmf", num_digits=1, timeout=8, action=accept_url, method="POST")
            self.talk.say(gather, entry, self.talk.whisper(entry))
            response.append(gather)
            self.talk.say(response, entry, self.talk.text(entry, "agent_no_key"))
            response.hangup()
            return str(response)

        return self.units.on_public_id(public_id, answer) or self.talk.gone()

    def accept(self, public_id: str, leg: int, call_sid: str, digits: str | None, links) -> str:
        """The agent's key at the whisper. 1 takes the call; anything else declines it."""
        def accept(work: Work, entry: QueueEntry) -> str:
            s, now = work.session, work.now
            agent = agent_of(s, entry, call_sid)
            if leg_of(entry) != leg or agent is None or agent.entry_id != entry.id:
                return self.talk.gone()
            if digits != "1":
                if agent.state == "reserved":
                    agents.set_state(s, agent, "offline", now, actor="twilio", reason="declined the offer")
                self.retry.offer_lost(work, entry, "agent_declined", f"{agent.name} declined")
                return self.talk.saying(entry, "agent_declined")
            if not agents.accept_offer(s, agent, call_sid, now):
                return self.talk.gone()
            response = VoiceResponse()
            if entry.kind == HOLDING:
                if entry.state != "holding":
                    return self.talk.saying(entry, "agent_caller_gone")
                callbacks.record(s, entry, "agent_accepted", now=now, actor=agent.name, leg=leg)
                dial = Dial(timeout=15, action=links.agent(public_id, leg, "done"), method="POST")
                dial.queue(entry.skill, url=links.customer(public_id, leg, "bridge"), method="POST")
                response.append(dial)
                return str(response)
            if entry.state == "dialing_agent":
                entry.attempts += 1
                callbacks.change_state(s, entry, "dialing_customer", now=now, actor=agent.name,
                                       reason="agent accepted", leg=leg, attempt=entry.attempts)
                number, pid, entry_id = entry.phone_number, entry.public_id, entry.id
                work.after_commit(lambda: self.placer.dial_customer(entry_id, pid, number, leg))
                self.talk.say(response, entry, self.talk.text(entry, "agent_calling_customer"))
                join(response, entry, leg, agent_side=True)
                return str(response)
            if entry.state == "dialing_customer" and customer_on_line(entry):
                callbacks.change_state(s, entry, "connected", now=now, actor=agent.name,
                                       reason="agent accepted; customer waiting", leg=leg)
                join(response, entry, leg, agent_side=True)
                return str(response)
            return self.talk.saying(entry, "agent_customer_gone")

        return self.units.on_public_id(public_id, accept) or self.talk.gone()

    def status(self, public_id: str, leg: int, call_sid: str, status: str) -> None:
        """A status callback of the agent's leg."""
        def apply(work: Work, entry: QueueEntry):
            s, now = work.session, work.now
            agent = agent_of(s, entry, call_sid)
            accepted = agent is not None and agent.state == "on_call" and agent.call_sid == call_sid
            offered = agent is not None and agent.state == "reserved" and agent.call_sid == call_sid
            if offered and entry.state == "cancelled" and status in ENDED:
                # We ended the offer ourselves (the callback was cancelled): the agent missed nothing.
                agents.set_state(s, agent, "available", now, actor="twilio",
                                 reason="the callback was cancelled during the offer")
            elif offered and status == "completed" and not waiting_for_agent(entry, leg):
                # The agent answered, but the caller had left (a holder hung up while the agent's phone
                # rang): they heard so and the call ended. They missed nothing: available, not offline.
                agents.set_state(s, agent, "available", now, actor="twilio",
                                 reason="the caller left before the agent answered")
            elif agent is not None:
                agents.on_call_status(s, agent, call_sid, status, now)
            if status not in ENDED or leg_of(entry) != leg:
                return
            if not accepted or (entry.kind == HOLDING and entry.state == "holding"):
                # Missed, or accepted but the <Dial><Queue> found nobody to bridge: the holder (still
                # in Twilio's queue) goes back to being offered.
                self.retry.offer_lost(work, entry, "agent_missed", f"agent leg {status}")
                return
            if entry.state == "connected":
                callbacks.change_state(s, entry, "completed", now=now, actor=self.name, reason="agent hung up")
            elif entry.state == "dialing_customer" and entry.kind == CALLBACK and not customer_on_line(entry):
                # The agent left before the customer was connected: stop ringing them, try again later.
                if entry.dial_call_sid:
                    sid = entry.dial_call_sid
                    work.after_commit(lambda: self.dialer.end(sid, ringing=True))
                self.retry.retry(work, entry, "agent hung up before the customer was connected", event="agent_left")

        self.units.on_public_id(public_id, apply)
