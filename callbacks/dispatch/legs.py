"""What every call leg shares. A claim numbers its calls ("leg"): every URL given to Twilio names the
entry and the leg, so events of an old leg, late or repeated events change nothing."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Dial, VoiceResponse

from agents import services as agents
from callbacks.dispatch.work import Units, Work
from storage.models import Agent, QueueEntry

HUMAN = ("human", "unknown")
MACHINE = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax")


def leg_of(entry: QueueEntry) -> int:
    return int((entry.context or {}).get("leg", 0))


def customer_on_line(entry: QueueEntry) -> bool:
    """Customer-first: the customer answered and waits for the agent."""
    return bool((entry.context or {}).get("customer_on_line"))


def join(response: VoiceResponse, entry: QueueEntry, leg: int, agent_side: bool) -> None:
    """Into the claim's conference; the agent's side starts it, either side leaving ends it."""
    dial = Dial()
    dial.conference(f"callback-{entry.public_id}-{leg}", start_conference_on_enter=agent_side,
                    end_conference_on_exit=True, beep=False)
    response.append(dial)


def agent_of(s: Session, entry: QueueEntry, call_sid: str | None = None) -> Agent | None:
    """The agent on this entry's claim: by the call, else the claimed agent who still holds the entry."""
    agent = agents.find_by_call(s, call_sid) if call_sid else None
    if agent is None and entry.agent_id:
        candidate = s.get(Agent, entry.agent_id)
        if candidate is not None and candidate.entry_id == entry.id:
            if call_sid and candidate.call_sid is None and candidate.state in ("reserved", "on_call"):
                candidate.call_sid = call_sid  # the status callback beat store_sid
            agent = candidate
    return agent


def release_agent(work: Work, entry: QueueEntry, target: str, reason: str) -> None:
    """The reserved agent of this entry goes to `target` (available, offline)."""
    agent = work.session.get(Agent, entry.agent_id) if entry.agent_id else None
    if agent is not None and agent.entry_id == entry.id and agent.state == "reserved":
        agents.set_state(work.session, agent, target, work.now, actor="dispatcher", reason=reason)


def store_sid(units: Units, entry_id: int, leg: int, *, agent_call_sid: str | None = None,
              dial_call_sid: str | None = None, agent_id: int | None = None) -> None:
    """Remember a placed call's SID on the entry (and on the agent it rings), unless the leg moved on."""
    def store(work: Work, entry: QueueEntry):
        if leg_of(entry) != leg:
            return
        if agent_call_sid and not entry.agent_call_sid:
            entry.agent_call_sid = agent_call_sid
        if dial_call_sid and not entry.dial_call_sid:
            entry.dial_call_sid = dial_call_sid
        if agent_call_sid and agent_id:
            agent = work.session.get(Agent, agent_id)
            if agent is not None and agent.entry_id == entry.id and agent.call_sid is None \
                    and agent.state in ("reserved", "on_call"):
                agent.call_sid = agent_call_sid
        work.session.flush()

    units.on_entry(entry_id, store)


def iso(when: datetime) -> str:
    return when.isoformat()
