"""After a crash: reconcile in-flight claims and held agents with Twilio's call records.

A claim whose call was placed is adopted (found by SID, or by listing calls to that number since the
claim), a claim whose call never went out is released, and calls that ended while we were down are
applied through the legs' own status handlers (which are idempotent).

Twilio is asked once for the calls this number placed since the oldest claim's day (one list request,
callbacks.dialing.Dialer.placed_since); only a call that list does not show is asked about on its own (its
status fetched, or the calls to its number listed), as before. A status read from the list is Twilio's
record of that moment, as a fetch would be: an ended call's status is final, and a call still going on
reports its own end through its status callback.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, or_, select

from agents import services as agents
from callbacks import services as callbacks
from callbacks.dialing import ENDED, CallRecord, Dialer, PlacedCall, first_placed
from callbacks.dispatch.agent_leg import AgentLeg
from callbacks.dispatch.customer_leg import CustomerLeg
from callbacks.dispatch.legs import leg_of, store_sid
from callbacks.dispatch.talk import Talk
from callbacks.dispatch.work import Units, Work
from clock import Clock
from config import DispatchSettings
from storage.db import transaction
from storage.models import CALLBACK, HOLDING, Agent, QueueEntry

log = logging.getLogger("ivr.dispatcher")

IN_FLIGHT = ("dialing_agent", "dialing_customer", "connected")


@dataclass
class InFlight:
    """What recovery needs to know of one claimed entry, read in one transaction."""

    entry_id: int
    public_id: str
    leg: int
    state: str
    kind: str
    agent_call_sid: str | None
    dial_call_sid: str | None
    phone_number: str | None
    agent_address: str | None
    claimed_at: datetime
    updated_at: datetime

    @classmethod
    def read(cls, s, entry: QueueEntry) -> "InFlight":
        context = entry.context or {}
        claimed_at = datetime.fromisoformat(context["claimed_at"]) if context.get("claimed_at") else entry.updated_at
        agent = s.get(Agent, entry.agent_id) if entry.agent_id else None
        return cls(entry.id, entry.public_id, leg_of(entry), entry.state, entry.kind, entry.agent_call_sid,
                   entry.dial_call_sid, entry.phone_number, agent.address if agent else None, claimed_at,
                   entry.updated_at)


class Recovery:
    def __init__(self, units: Units, clock: Clock, settings: DispatchSettings, dialer: Dialer, talk: Talk,
                 agent_leg: AgentLeg, customer_leg: CustomerLeg, name: str):
        self.units = units
        self.clock = clock
        self.settings = settings
        self.dialer = dialer
        self.talk = talk
        self.agent_leg = agent_leg
        self.customer_leg = customer_leg
        self.name = name

    @property
    def grace(self) -> timedelta:
        return timedelta(seconds=self.settings.reconcile_after_seconds)

    def recover(self) -> int:
        """Reconcile in-flight claims with Twilio's records. Returns how many entries were touched."""
        now = self.clock.now()
        with transaction(self.units.sessions) as s:
            # Claims whose call was never recorded first (a customer waits on each), then the others: after a
            # crash in a burst those are many, their statuses read from one list of Twilio's.
            unplaced = case((and_(QueueEntry.state == "dialing_agent", QueueEntry.agent_call_sid.is_(None)), 0),
                            (and_(QueueEntry.state == "dialing_customer", QueueEntry.dial_call_sid.is_(None)), 0),
                            else_=1)
            claims = [InFlight.read(s, entry) for entry in s.scalars(select(QueueEntry).where(or_(
                QueueEntry.state.in_(IN_FLIGHT),
                (QueueEntry.state == "holding") & QueueEntry.agent_id.is_not(None),
            )).order_by(unplaced, QueueEntry.id))]
            held = self._held_agents(s, now)
        ids = [claim.entry_id for claim in claims]
        records = self._records(claims, held)
        touched = 0
        for entry_id in ids:
            with transaction(self.units.sessions) as s:
                entry = s.get(QueueEntry, entry_id)
                claim = InFlight.read(s, entry) if entry is not None else None
            if claim is None:
                continue
            try:
                touched += self._reconcile(claim, now, records)
            except Exception:  # noqa: BLE001 - one bad record must not stop the others
                log.exception("could not reconcile entry %s", claim.public_id)
        return touched + self.recover_agents(records)

    def _records(self, claims: list[InFlight], held: list[tuple]) -> dict[str, CallRecord]:
        """Twilio's records of the calls placed since the oldest claim, read with one list request; none when
        there is nothing to ask about, or when the list cannot be read (each call is then asked about alone)."""
        wanted = {sid for c in claims for sid in (c.agent_call_sid, c.dial_call_sid) if sid}
        wanted |= {call_sid for _agent, call_sid, _since, _entry in held if call_sid}
        if not claims and not wanted:
            return {}
        since = min([c.claimed_at for c in claims] + [since for _a, _c, since, _e in held])
        try:
            return self.dialer.placed_since(since, wanted)
        except Exception:  # noqa: BLE001 - the list is a shortcut: without it, each call is asked about alone
            log.warning("could not list the calls placed since %s; asking call by call", since.isoformat())
            return {}

    def _status(self, records: dict[str, CallRecord], sid: str) -> str | None:
        """The call's status: from the list when it showed the call, else fetched (None: Twilio has no such call)."""
        found = records.get(sid)
        return found.status if found is not None else self.dialer.fetch_status(sid)

    def _find(self, records: dict[str, CallRecord], address: str, since: datetime) -> PlacedCall | None:
        return first_placed(records.values(), address, since) or self.dialer.find_call(address, since)

    def _reconcile(self, claim: InFlight, now: datetime, records: dict[str, CallRecord]) -> int:
        agent_sid, dial_sid = claim.agent_call_sid, claim.dial_call_sid
        # 1. A leg we expect but whose SID was never stored: find it in Twilio's records, or release.
        if (claim.state == "dialing_agent" or claim.kind == HOLDING) and not agent_sid and claim.agent_address:
            agent_sid = self._find_or_release(claim, now, claim.agent_address, claim.claimed_at, "agent_call_sid",
                                              "the agent was never called (recovered after a restart)", records)
            if agent_sid is None:
                return 1
        if claim.state == "dialing_customer" and not dial_sid and claim.phone_number:
            dial_sid = self._find_or_release(claim, now, claim.phone_number, claim.updated_at, "dial_call_sid",
                                             "the customer was never called (recovered after a restart)", records)
            if dial_sid is None:
                return 1
        # 2. Legs that ended while nobody listened: apply their last status (handlers are idempotent).
        touched = 0
        for sid, handler in ((agent_sid, self.agent_leg.status),
                             (dial_sid if claim.kind == CALLBACK else None, self.customer_leg.status)):
            if not sid:
                continue
            status = self._status(records, sid)
            if status is None or status in ENDED:
                handler(claim.public_id, claim.leg, sid, status or "failed")
                touched = 1
        return touched

    def _find_or_release(self, claim: InFlight, now: datetime, address: str, since: datetime, column: str,
                         reason: str, records: dict[str, CallRecord]) -> str | None:
        """The SID of the call placed to ``address`` since the claim, stored on the entry; or, once the grace
        has passed with no such call, the claim released (None). Within the grace: "" (not found yet)."""
        found = self._find(records, address, claim.claimed_at)
        if found is not None:
            store_sid(self.units, claim.entry_id, claim.leg, **{column: found.sid})
            return found.sid
        if now - since >= self.grace:
            self._release_unplaced(claim, reason)
            return None
        return ""

    def _release_unplaced(self, claim: InFlight, reason: str) -> None:
        def release(work: Work, entry: QueueEntry):
            s, now = work.session, work.now
            if leg_of(entry) != claim.leg:
                return
            agent = s.get(Agent, entry.agent_id) if entry.agent_id else None
            if agent is not None and agent.entry_id == entry.id and agent.state in ("reserved", "on_call"):
                agents.set_state(s, agent, "available", now, actor="dispatcher", reason=reason)
            entry.agent_id = None
            if entry.state == "dialing_customer":
                self.talk.tell_and_end(work, entry.agent_call_sid, "agent_customer_back_in_line", entry)
            if entry.kind == HOLDING:
                callbacks.record(s, entry, "recovered", now=now, actor=self.name, reason=reason)
            elif entry.state in ("dialing_agent", "dialing_customer"):
                if entry.state == "dialing_customer":
                    entry.attempts = max(0, entry.attempts - 1)  # the customer was never rung
                callbacks.change_state(s, entry, "queued", now=now, event="recovered", actor=self.name,
                                       reason=reason)

        self.units.on_entry(claim.entry_id, release)

    def _held_agents(self, s, now: datetime) -> list[tuple]:
        """(agent id, call SID, since, entry id) of agents held by a call for longer than the grace."""
        return [(a.id, a.call_sid, a.state_changed_at, a.entry_id) for a in
                s.scalars(select(Agent).where(Agent.state.in_(("reserved", "on_call"))))
                if now - a.state_changed_at >= self.grace]

    def recover_agents(self, records: dict[str, CallRecord] | None = None) -> int:
        """Agents held by a call whose end we never heard of: ask Twilio (`records`: what recover() listed),
        apply the last status."""
        now = self.clock.now()
        with transaction(self.units.sessions) as s:
            held = self._held_agents(s, now)
        touched = 0
        for agent_id, call_sid, since, entry_id in held:
            status = self._status(records or {}, call_sid) if call_sid else None
            if call_sid and status is not None and status not in ENDED:
                continue
            with transaction(self.units.sessions) as s:
                agent = s.get(Agent, agent_id)
                entry = s.get(QueueEntry, entry_id) if entry_id else None
                in_flight = entry is not None and entry.agent_id == agent_id and (
                    entry.state in IN_FLIGHT or entry.state == "holding")
                if agent is None or agent.state not in ("reserved", "on_call") or (in_flight and not call_sid):
                    continue  # an in-flight claim without a call is recover()'s to settle
                if call_sid:
                    agents.on_call_status(s, agent, call_sid, status or "failed", now)
                else:
                    agents.set_state(s, agent, "available", now, actor="dispatcher",
                                     reason="held by a call that no longer exists")
                touched += 1
        return touched
