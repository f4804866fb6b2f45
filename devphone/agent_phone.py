"""The agent phone: agents through agents.services, as the supervisor pages and the API do (a demo
agent per skill whose phone is this page, available or offline by hand), the skills the page shows
as open or not, and the page's "open every team for this demo" switch (routing.hours.DemoHours)."""
from __future__ import annotations

from devphone.refused import Refused

DEMO_AGENT_ADDRESS = "client:devphone-{skill}"  # a Twilio Client identity: rings only the dev phone
AGENT_STATES_BY_HAND = ("available", "offline")


def agent_json(agent) -> dict:
    return {"id": agent.id, "name": agent.name, "address": agent.address, "skills": agent.skills,
            "state": agent.state, "version": agent.version}


def list_agents(runtime) -> list[dict]:
    from agents import services as agents
    from storage.db import transaction

    with transaction(runtime.sessions) as session:
        return [agent_json(a) for a in agents.list_agents(session)]


def add_demo_agent(runtime, skill: str) -> dict:
    """An agent for `skill` whose phone is this page (created once, then reused)."""
    from agents import services as agents
    from agents.exceptions import AgentExists
    from storage.db import transaction

    found = runtime.ivr_config.skills.get(skill) if isinstance(skill, str) else None
    if found is None:
        raise Refused(f"Pick one of the skills: {', '.join(runtime.ivr_config.skills)}.")
    name = f"Dev phone agent, {found.label_in(runtime.ivr_config.default_language)}"
    try:
        with transaction(runtime.sessions) as session:
            agent = agents.add_agent(session, name=name, address=DEMO_AGENT_ADDRESS.format(skill=skill),
                                     skills={skill: 5}, now=runtime.clock.now(), wrap_up_seconds=10,
                                     state="offline", known_skills=set(runtime.ivr_config.skills))
            return agent_json(agent)
    except AgentExists:
        with transaction(runtime.sessions) as session:
            return agent_json(agents.get_agent(session, name))


def get_agent(runtime, agent_id) -> dict:
    from agents import services as agents
    from agents.exceptions import AgentNotFound
    from storage.db import transaction

    if isinstance(agent_id, bool) or not isinstance(agent_id, int):
        raise Refused("agent must be an agent's id (a whole number).")
    try:
        with transaction(runtime.sessions) as session:
            return agent_json(agents.get_agent(session, agent_id))
    except AgentNotFound:
        raise Refused(f"No agent {agent_id}.", 404) from None


def set_agent_state(runtime, agent_id, state: str) -> dict:
    """Available or offline, by hand (the dispatcher and call events move the rest)."""
    from sqlalchemy.orm.exc import StaleDataError

    from agents import services as agents
    from agents.exceptions import AgentError, AgentNotFound
    from storage.db import transaction

    if state not in AGENT_STATES_BY_HAND:
        raise Refused("state must be available or offline.")
    if isinstance(agent_id, bool) or not isinstance(agent_id, int):
        raise Refused("agent must be an agent's id (a whole number).")
    try:
        with transaction(runtime.sessions) as session:
            agent = agents.set_state(session, agents.get_agent(session, agent_id), state, runtime.clock.now(),
                                     actor="dev phone", reason="set on the dev phone")
            result = agent_json(agent)
    except AgentNotFound:
        raise Refused(f"No agent {agent_id}.", 404) from None
    except StaleDataError:
        raise Refused("The agent changed at the same moment; try again.", 409) from None
    except AgentError as refused:
        raise Refused(str(refused), 409) from None
    if result["state"] == "available":
        runtime.wake_dispatcher()
    return result


def skills_view(runtime) -> list[dict]:
    """Each skill, its label, and whether it is open now (else when it opens), for the page to show."""
    from routing import hours

    now = runtime.clock.now()
    language = runtime.ivr_config.default_language
    out = []
    for skill in runtime.ivr_config.skills.values():
        opening = None if hours.is_open(skill, now) else hours.next_opening(skill, now)
        out.append({"name": skill.name, "label": skill.label_in(language), "digit": skill.digit,
                    "open": hours.is_open(skill, now), "timezone": skill.timezone.key,
                    "opens_at": opening.isoformat() if opening else None})
    return out


def set_demo_hours(runtime, demo_hours, on) -> list[dict]:
    """Open every team for this demo (or back to their hours); the dispatcher looks at once."""
    if not isinstance(on, bool):
        raise Refused("open_every_team must be true or false.")
    demo_hours.set(on)
    if on:
        runtime.wake_dispatcher()
    return skills_view(runtime)
