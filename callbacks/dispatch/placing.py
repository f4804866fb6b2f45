"""Placing a claim's calls through the Dialer, and what a call that could not be placed does.

agent_first and holder claims ring the agent first; customer_first claims ring the customer, and the
agent once the customer is on the line. The customer leg of an agent_first claim is placed once the
agent accepts. A failure frees the agent (offline when their address is refused for good) and puts
the entry back, retries it, or gives up.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from agents import services as agents
from callbacks import services as callbacks
from callbacks.dialing import DialFailed, Dialer
from callbacks.dispatch.legs import leg_of, store_sid
from callbacks.dispatch.outage import DialHealth
from callbacks.dispatch.retry import RetryPolicy
from callbacks.dispatch.talk import Talk
from callbacks.dispatch.work import Units, Work
from storage.models import Agent, QueueEntry

log = logging.getLogger("ivr.dispatcher")


@dataclass
class Claim:
    entry_id: int
    public_id: str
    leg: int
    mode: str  # holder | agent_first | customer_first
    agent_id: int
    agent_address: str
    phone_number: str | None


class Placer:
    def __init__(self, units: Units, dialer: Dialer, talk: Talk, retry: RetryPolicy, name: str, pacer=None,
                 health: DialHealth | None = None):
        self.units = units
        self.dialer = dialer
        self.talk = talk
        self.retry = retry
        self.name = name
        self.pacer = pacer  # callbacks/dispatch/pacing.SharedPacer: second legs spend the shared budget too
        self.health = health  # callbacks/dispatch/outage.DialHealth: Twilio away or refusing our credentials

    def _outage(self, exc: DialFailed) -> bool:
        """Record an account-wide failure (logged once, by DialHealth); True when it was one."""
        if exc.outage and self.health is not None:
            self.health.failed(exc.outage, self.units.clock.now())
            return True
        return False

    def _paced(self) -> None:
        if self.pacer is not None:
            self.pacer.reserve(self.units.clock.now())

    def place(self, claim: Claim) -> bool:
        """The first call of a claim. False when Twilio is away or refuses our credentials: the entry
        goes back to its line without spending an attempt and the agent is free again."""
        try:
            if claim.mode == "customer_first":
                placed = self.dialer.call_customer(claim.phone_number, claim.public_id, claim.leg)
                store_sid(self.units, claim.entry_id, claim.leg, dial_call_sid=placed.sid)
            else:
                placed = self.dialer.call_agent(claim.agent_address, claim.public_id, claim.leg)
                store_sid(self.units, claim.entry_id, claim.leg, agent_call_sid=placed.sid, agent_id=claim.agent_id)
        except DialFailed as exc:
            outage = self._outage(exc)
            if not outage:
                log.warning("placing %s for %s failed: %s", claim.mode, claim.public_id, exc)
            error = exc  # `exc` is unbound when the except block ends; the closure keeps `error`
            self.units.on_entry(claim.entry_id, lambda work, entry: self._placing_failed(work, entry, claim, error))
            return not outage
        return True

    def _placing_failed(self, work: Work, entry: QueueEntry, claim: Claim, exc: DialFailed) -> None:
        s, now = work.session, work.now
        agent = s.get(Agent, claim.agent_id)
        if agent is not None and agent.state == "reserved" and agent.entry_id == entry.id:
            # A permanent refusal of the agent's address means nobody can reach them: take them offline.
            target = "offline" if exc.permanent and claim.mode != "customer_first" else "available"
            agents.set_state(s, agent, target, now, actor="dispatcher", reason=str(exc))
        if leg_of(entry) != claim.leg:
            return
        if claim.mode == "holder":
            entry.agent_id = None
            callbacks.record(s, entry, "agent_offer_failed", now=now, actor=self.name, reason=str(exc))
        elif claim.mode == "agent_first" and entry.state == "dialing_agent":
            callbacks.change_state(s, entry, "queued", now=now, event="agent_dial_failed", actor=self.name,
                                   reason=str(exc))
        elif claim.mode == "customer_first" and entry.state == "dialing_customer":
            if exc.permanent:
                callbacks.change_state(s, entry, "failed", now=now, actor=self.name, reason=str(exc))
            else:
                entry.attempts -= 1  # the customer was never rung
                callbacks.change_state(s, entry, "queued", now=now, event="dial_failed", actor=self.name,
                                       reason=str(exc))

    def _second_leg(self, entry_id: int, call, failed):
        """Place a claim's second call (`call()`, paced); when it cannot be placed, record an outage and run
        `failed(work, entry, exc)` on the entry. Returns the placed call, or None."""
        self._paced()
        try:
            return call()
        except DialFailed as error:
            exc = error  # kept for the closure below: `error` is unbound when the except block ends
            self._outage(exc)
            self.units.on_entry(entry_id, lambda work, entry: failed(work, entry, exc))
            return None

    def ring_agent(self, entry_id: int, public_id: str, address: str, leg: int, agent_id: int) -> None:
        """Customer-first: the customer is on the line; ring the reserved agent."""
        def failed(work: Work, entry: QueueEntry, exc: DialFailed):
            agent = work.session.get(Agent, agent_id)
            if agent is not None and agent.state == "reserved" and agent.entry_id == entry.id:
                agents.set_state(work.session, agent, "offline" if exc.permanent else "available", work.now,
                                 actor="dispatcher", reason=str(exc))
            if leg_of(entry) == leg:
                self.retry.offer_lost(work, entry, "agent_dial_failed", str(exc))

        placed = self._second_leg(entry_id, lambda: self.dialer.call_agent(address, public_id, leg), failed)
        if placed is not None:
            store_sid(self.units, entry_id, leg, agent_call_sid=placed.sid, agent_id=agent_id)

    def dial_customer(self, entry_id: int, public_id: str, number: str, leg: int) -> None:
        """Agent-first: the agent accepted; ring the customer."""
        def failed(work: Work, entry: QueueEntry, exc: DialFailed):
            if leg_of(entry) != leg or entry.state != "dialing_customer":
                return
            self.talk.tell_and_end(work, entry.agent_call_sid, "agent_customer_not_called", entry)
            if exc.permanent:
                callbacks.change_state(work.session, entry, "failed", now=work.now, actor=self.name,
                                       reason=str(exc))
            else:
                self.retry.retry(work, entry, str(exc), event="dial_failed")

        placed = self._second_leg(entry_id, lambda: self.dialer.call_customer(number, public_id, leg), failed)
        if placed is not None:
            store_sid(self.units, entry_id, leg, dial_call_sid=placed.sid)

    def hang_up_cancelled(self, entry_id: int) -> int:
        """A callback cancelled while it was being dialled: end its calls, so neither the agent nor the
        customer is rung for nothing. Returns how many calls Twilio agreed to end. The agent is freed
        by that call's own `completed` status callback, as after any call."""
        with self.units.sessions() as s:
            entry = s.get(QueueEntry, entry_id)
            if entry is None or entry.state != "cancelled" or not entry.events:
                return 0
            if entry.events[-1].previous_state not in ("dialing_agent", "dialing_customer"):
                return 0
            legs = [sid for sid in (entry.agent_call_sid, entry.dial_call_sid) if sid]
        return sum(1 for sid in legs if self.dialer.end(sid))
