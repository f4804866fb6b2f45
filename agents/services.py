"""Agents: who they are, how to reach them, which skills they have, and their state.

States: offline -> available -> reserved (an offer is ringing) -> on_call -> wrap_up -> available.
Call events (status callbacks of the agent's leg) move agents through reserved/on_call/wrap_up;
people move them only between offline, available and wrap_up (an agent on a call or being
offered one changes state when that call's events arrive, not by hand).

Every write goes through the ORM with the row's version column, so a change made from a stale
read fails (StaleDataError) instead of overwriting someone else's: two dispatchers can never
reserve the same agent.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

import phonenumbers

from agents.exceptions import AgentError, AgentExists, AgentNotFound, AgentStateRefused
from phone_numbers import NumberRefused, dial_policy, normalise
from storage.models import AGENT_STATES, MAX_ROW_ID, Agent

log = logging.getLogger("ivr.agents")

# Which state may follow which (system actors: dispatcher, call events).
ALLOWED = {
    "offline": {"available"},
    "available": {"offline", "reserved", "on_call"},
    "reserved": {"on_call", "available", "offline"},
    "on_call": {"wrap_up", "available", "offline"},
    "wrap_up": {"available", "offline"},
}
# What a person (API, CLI, supervisor page) may set by hand.
MANUAL = {
    "offline": {"available"},
    "available": {"offline"},
    "wrap_up": {"available", "offline"},
    "reserved": set(),
    "on_call": set(),
}
SYSTEM_ACTORS = ("system", "dispatcher", "twilio")

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
SIP = re.compile(r"^sip:[A-Za-z0-9._~%+-]+@[A-Za-z0-9.-]+(:[0-9]{1,5})?(;[A-Za-z0-9=;._-]*)?$")
CLIENT = re.compile(r"^client:[A-Za-z0-9_.-]{1,120}$")
NAME = re.compile(r"^[^\x00-\x1f]{1,120}$")
MAX_WRAP_UP = 3600
ROW_ID = re.compile(r"^[0-9]{1,12}$")


MAX_ADDRESS = 200  # the agents.address column


def check_address(address: str) -> str:
    """An E.164 number, a SIP URI (sip:user@host) or a Twilio Client identity (client:name).

    Agents are dialled like customers, so the same rules keep toll fraud out: a number must be of a
    kind we dial (no premium, personal, pager, VoIP... ranges) in a country of ALLOWED_COUNTRIES, and a
    SIP address must point at a domain the operator lists in AGENT_SIP_DOMAINS."""
    address = (address or "").strip()
    if len(address) > MAX_ADDRESS:
        raise AgentError(f"an agent's address has at most {MAX_ADDRESS} characters")
    if E164.match(address):
        try:
            return normalise(address, dial_policy().countries or tuple(phonenumbers.SUPPORTED_REGIONS))
        except NumberRefused as refused:
            raise AgentError(f"{address} cannot be an agent's number: {refused}") from None
    if SIP.match(address):
        domain = address.split("@", 1)[1].split(";", 1)[0].split(":", 1)[0].lower().rstrip(".")
        if domain not in dial_policy().sip_domains:
            raise AgentError(f"SIP addresses at {domain} are not allowed: list the domain in AGENT_SIP_DOMAINS "
                             f"(now: {', '.join(dial_policy().sip_domains) or 'none'})")
        return address
    if CLIENT.match(address):
        return address
    raise AgentError(
        f"{address!r} is not a way to reach an agent: use an E.164 number (+14155550100), "
        "a SIP URI (sip:alice@pbx.example.com) or a Twilio Client identity (client:alice)"
    )


def check_skills(skills, known: set[str] | None = None) -> dict[str, int]:
    """{skill: level 1..10}; a plain list of names gets level 5."""
    if isinstance(skills, (list, tuple)):
        skills = {name: 5 for name in skills}
    if not isinstance(skills, dict) or not skills:
        raise AgentError("an agent needs at least one skill, e.g. {\"billing\": 7} or [\"billing\"]")
    checked: dict[str, int] = {}
    for name, level in skills.items():
        if known is not None and name not in known:
            raise AgentError(f"unknown skill {name!r}; known skills: {', '.join(sorted(known))}")
        if level is None:
            level = 5
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 10:
            raise AgentError(f"skill level for {name!r} must be a whole number from 1 to 10, not {level!r}")
        checked[str(name)] = level
    return checked


def check_wrap_up(seconds) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= MAX_WRAP_UP:
        raise AgentError(f"wrap-up must be a whole number of seconds from 0 to {MAX_WRAP_UP}, not {seconds!r}")
    return seconds


def list_agents(session: Session, skill: str | None = None, state: str | None = None) -> list[Agent]:
    agents = session.scalars(select(Agent).order_by(Agent.name)).all()
    return [a for a in agents if (skill is None or skill in (a.skills or {})) and (state is None or a.state == state)]


def get_agent(session: Session, agent_id_or_name: int | str) -> Agent:
    agent = None
    if isinstance(agent_id_or_name, int) or ROW_ID.match(str(agent_id_or_name)):
        if 0 < int(agent_id_or_name) <= MAX_ROW_ID:  # a larger number is no agent's id
            agent = session.get(Agent, int(agent_id_or_name))
    if agent is None:
        agent = session.scalar(select(Agent).where(Agent.name == str(agent_id_or_name)))
    if agent is None:
        raise AgentNotFound(f"no agent {agent_id_or_name!r}")
    return agent


def find_by_call(session: Session, call_sid: str) -> Agent | None:
    return session.scalar(select(Agent).where(Agent.call_sid == call_sid))


def add_agent(session: Session, *, name: str, address: str, skills, now: datetime, wrap_up_seconds: int = 30,
              state: str = "offline", known_skills: set[str] | None = None) -> Agent:
    name = (name or "").strip()
    if not NAME.match(name):
        raise AgentError("an agent needs a name of 1 to 120 characters")
    if session.scalar(select(Agent.id).where(Agent.name == name)) is not None:
        raise AgentExists(f"an agent named {name!r} already exists")
    if state not in ("offline", "available"):
        raise AgentError("a new agent starts offline or available")
    agent = Agent(name=name, address=check_address(address), skills=check_skills(skills, known_skills),
                  state=state, state_changed_at=now, wrap_up_seconds=check_wrap_up(wrap_up_seconds))
    session.add(agent)
    session.flush()
    log.info("agent %s added (%s)", name, state)
    return agent


def update_agent(session: Session, agent: Agent, *, now: datetime, name: str | None = None,
                 address: str | None = None, skills=None, wrap_up_seconds: int | None = None,
                 known_skills: set[str] | None = None) -> Agent:
    if name is not None and name.strip() != agent.name:
        name = name.strip()
        if not NAME.match(name):
            raise AgentError("an agent needs a name of 1 to 120 characters")
        if session.scalar(select(Agent.id).where(Agent.name == name)) is not None:
            raise AgentExists(f"an agent named {name!r} already exists")
        agent.name = name
    if address is not None:
        agent.address = check_address(address)
    if skills is not None:
        agent.skills = check_skills(skills, known_skills)
    if wrap_up_seconds is not None:
        agent.wrap_up_seconds = check_wrap_up(wrap_up_seconds)
    session.flush()
    return agent


def remove_agent(session: Session, agent: Agent) -> None:
    if agent.state in ("reserved", "on_call"):
        raise AgentStateRefused(f"{agent.name} is {agent.state.replace('_', ' ')}; remove them after the call")
    session.delete(agent)
    session.flush()


def set_state(session: Session, agent: Agent, state: str, now: datetime, actor: str = "system",
              reason: str | None = None, *, entry_id: int | None = None, call_sid: str | None = None) -> Agent:
    """Move `agent` to `state`. People (any actor not in SYSTEM_ACTORS) may only use MANUAL moves.

    Raises AgentStateRefused for a move the state machine does not allow, and lets SQLAlchemy's
    StaleDataError through when the row changed since it was read (the caller lost a race).
    """
    if state not in AGENT_STATES:
        raise AgentError(f"unknown agent state {state!r}; use one of {', '.join(AGENT_STATES)}")
    if state == agent.state and actor not in SYSTEM_ACTORS:
        return agent  # setting what already is: nothing to do
    rules = ALLOWED if actor in SYSTEM_ACTORS else MANUAL
    if state not in rules.get(agent.state, set()):
        if actor not in SYSTEM_ACTORS and agent.state in ("reserved", "on_call"):
            raise AgentStateRefused(f"{agent.name} is {agent.state.replace('_', ' ')}; their state changes "
                                    "when that call ends")
        raise AgentStateRefused(f"{agent.name} cannot go from {agent.state.replace('_', ' ')} to "
                                f"{state.replace('_', ' ')}")
    previous = agent.state
    agent.state = state
    agent.state_changed_at = now
    if state in ("reserved", "on_call"):
        if entry_id is not None:
            agent.entry_id = entry_id
        if call_sid is not None:
            agent.call_sid = call_sid
    else:
        # Wrap-up keeps no call; the entry id stays for the record until the next offer.
        agent.call_sid = None
        if state in ("available", "offline"):
            agent.entry_id = None
    session.flush()
    log.info("agent %s: %s -> %s by %s (%s)", agent.name, previous, state, actor, reason or "")
    return agent


def available_for(session: Session, skill: str) -> list[Agent]:
    """Available agents with `skill`, best first: highest level, then longest idle (the dispatcher's order)."""
    return available_for_among(session.scalars(select(Agent).where(Agent.state == "available")).all(), skill)


def available_for_among(free: list[Agent], skill: str) -> list[Agent]:
    with_skill = [a for a in free if a.state == "available" and skill in (a.skills or {})]
    return sorted(with_skill, key=lambda a: (-int(a.skills.get(skill) or 0), a.state_changed_at, a.id))


def end_wrap_ups(session: Session, now: datetime) -> list[Agent]:
    """Agents whose wrap-up time is over become available again."""
    done = []
    for agent in session.scalars(select(Agent).where(Agent.state == "wrap_up")):
        if agent.state_changed_at + timedelta(seconds=agent.wrap_up_seconds) <= now:
            set_state(session, agent, "available", now, actor="system", reason="wrap-up over")
            done.append(agent)
    return done


def next_wrap_up_end(session: Session) -> datetime | None:
    ends = [a.state_changed_at + timedelta(seconds=a.wrap_up_seconds)
            for a in session.scalars(select(Agent).where(Agent.state == "wrap_up"))]
    return min(ends) if ends else None


# Agent-leg call status -> what it means for the agent.
def on_call_status(session: Session, agent: Agent, call_sid: str, status: str, now: datetime,
                   answered_by_agent: bool = False) -> Agent:
    """Apply a status callback of the agent's own call leg. Late or repeated callbacks change nothing.

    The agent is on_call once they accept the whisper (see accept_offer), not merely when their phone
    picks up (a voicemail box answers too). completed after accepting: wrap_up. busy/no-answer/failed/
    canceled, or completed without accepting: the offer was missed, so the agent goes offline (set
    available again when back) rather than being offered call after call.
    """
    if agent.call_sid != call_sid:
        return agent  # an old leg: its news is stale
    if status == "completed" and agent.state == "on_call":
        target = "wrap_up" if agent.wrap_up_seconds > 0 else "available"
        return set_state(session, agent, target, now, actor="twilio", reason="call ended")
    if status in ("busy", "no-answer", "failed", "canceled", "completed") and agent.state == "reserved":
        return set_state(session, agent, "offline", now, actor="twilio", reason=f"missed the offer ({status})")
    return agent


def accept_offer(session: Session, agent: Agent, call_sid: str, now: datetime) -> bool:
    """The agent pressed 1 at the whisper. False when this leg is no longer the agent's offer."""
    if agent.call_sid != call_sid or agent.state != "reserved":
        return agent.state == "on_call" and agent.call_sid == call_sid  # a repeated press
    set_state(session, agent, "on_call", now, actor="twilio", reason="accepted the offer")
    return True
