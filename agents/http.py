"""/api/agents: list, add, change, remove agents and set their state (JSON, problem+json errors).

For machines (a workforce tool, a softphone's presence): every request carries
`Authorization: Bearer <AGENTS_API_TOKEN>`. Without that variable set the API is off (503), so it is
never open by accident. People use the supervisor pages, which call the same agents.services.
"""
from __future__ import annotations

import hmac
import os

from flask import Blueprint, abort, jsonify, request
from sqlalchemy.orm.exc import StaleDataError

from agents import services as agents
from agents.exceptions import AgentError
from refusals import RequestRefused
from storage.db import transaction
from storage.models import AGENT_STATES, Agent
from web.bodies import parse_json_object
from web.runtime import runtime

agents_api = Blueprint("agents_api", __name__, url_prefix="/api/agents")


@agents_api.before_request
def check_token():
    expected = os.environ.get("AGENTS_API_TOKEN", "")
    if not expected:
        abort(503, description="The agents API is off: set AGENTS_API_TOKEN and send it as a Bearer token.")
    given = request.headers.get("Authorization", "")
    if not given.startswith("Bearer ") or not hmac.compare_digest(given[7:].encode(), expected.encode()):
        abort(401, description="Send Authorization: Bearer <AGENTS_API_TOKEN>.")


def as_json(agent: Agent) -> dict:
    return {
        "id": agent.id, "name": agent.name, "address": agent.address, "skills": agent.skills,
        "state": agent.state, "state_changed_at": agent.state_changed_at.isoformat(),
        "wrap_up_seconds": agent.wrap_up_seconds, "entry_id": agent.entry_id, "version": agent.version,
    }


def body() -> dict:
    try:  # bounded and checked like every JSON body (deep nesting, huge numbers, lone surrogates)
        return parse_json_object(request.get_data(cache=True))
    except RequestRefused as refused:
        abort(400, description=f"Send a JSON object (Content-Type: application/json): {refused}")


def _known_skills() -> set[str]:
    return set(runtime().ivr_config.skills)


@agents_api.get("")
def list_all():
    state = request.args.get("state")
    if state is not None and state not in AGENT_STATES:
        abort(400, description=f"state must be one of {', '.join(AGENT_STATES)}")
    with transaction(runtime().sessions) as s:
        return jsonify({"agents": [as_json(a) for a in agents.list_agents(s, request.args.get("skill"), state)]})


@agents_api.post("")
def add():
    data = body()
    rt = runtime()
    with transaction(rt.sessions) as s:
        agent = agents.add_agent(s, name=data.get("name", ""), address=data.get("address", ""),
                                 skills=data.get("skills"), now=rt.clock.now(),
                                 wrap_up_seconds=data.get("wrap_up_seconds", 30),
                                 state=data.get("state", "offline"), known_skills=_known_skills())
        response = jsonify(as_json(agent))
    response.status_code = 201
    return response


@agents_api.get("/<agent_ref>")
def get(agent_ref: str):
    with transaction(runtime().sessions) as s:
        return jsonify(as_json(agents.get_agent(s, agent_ref)))


@agents_api.patch("/<agent_ref>")
def change(agent_ref: str):
    data = body()
    unknown = set(data) - {"name", "address", "skills", "wrap_up_seconds"}
    if unknown:
        raise AgentError(f"cannot change {', '.join(sorted(unknown))} here (state: PUT /api/agents/<id>/state)")
    rt = runtime()
    try:
        with transaction(rt.sessions) as s:
            agent = agents.update_agent(s, agents.get_agent(s, agent_ref), now=rt.clock.now(), name=data.get("name"),
                                        address=data.get("address"), skills=data.get("skills"),
                                        wrap_up_seconds=data.get("wrap_up_seconds"), known_skills=_known_skills())
            return jsonify(as_json(agent))
    except StaleDataError:
        abort(409, description="The agent changed at the same moment; read it again and retry.")


@agents_api.put("/<agent_ref>/state")
def set_state(agent_ref: str):
    data = body()
    rt = runtime()
    actor = str(data.get("actor") or "api")[:120]
    if actor in agents.SYSTEM_ACTORS:
        actor = f"api:{actor}"  # the API is a person's hand, never the call machinery
    try:
        with transaction(rt.sessions) as s:
            agent = agents.set_state(s, agents.get_agent(s, agent_ref), str(data.get("state", "")), rt.clock.now(),
                                     actor=actor, reason=data.get("reason"))
            result = as_json(agent)
    except StaleDataError:
        abort(409, description="The agent changed at the same moment; read it again and retry.")
    if result["state"] == "available":
        rt.wake_dispatcher()
    return jsonify(result)


@agents_api.delete("/<agent_ref>")
def remove(agent_ref: str):
    with transaction(runtime().sessions) as s:
        agents.remove_agent(s, agents.get_agent(s, agent_ref))
    return "", 204
