"""The agents page: their states by hand, and (admins) adding, changing and removing agents."""
from __future__ import annotations

from flask import g, render_template, request
from sqlalchemy.orm.exc import StaleDataError

from agents import services as agents
from agents.exceptions import AgentError
from storage.db import transaction
from storage.models import AGENT_STATES
from supervisor.http import answer, bp, login_required, role_required, wording
from web.runtime import runtime


@bp.get("/agents")
@login_required
def agents_page():
    rt = runtime()
    with rt.sessions() as db:
        agent_list = agents.list_agents(db)
        db.expunge_all()
    return render_template("supervisor/agents.html", agents=agent_list, skills=list(rt.ivr_config.skills),
                           agent_states=AGENT_STATES)


@bp.post("/agents/<int:agent_id>/state")
@login_required
def agent_state(agent_id: int):
    rt = runtime()
    state = request.form.get("state", "")
    try:
        with transaction(rt.sessions) as db:
            agent = agents.get_agent(db, agent_id)
            try:
                shown = int(request.form.get("version", ""))
            except ValueError:
                shown = None
            if shown is not None and shown != agent.version and agent.state != request.form.get("shown_state"):
                return answer(409, wording().text("supervisor_agent_changed_since", name=agent.name,
                                                  state=agent.state.replace("_", " ")))
            agents.set_state(db, agent, state, rt.clock.now(), actor=g.user.username, reason="supervisor page")
            name = agent.name
    except StaleDataError:
        return answer(409, wording().text("supervisor_agent_raced"))
    if state == "available":
        rt.wake_dispatcher()
    return answer(200, wording().text("supervisor_agent_state", name=name, state=state.replace("_", " ")))


@bp.post("/agents")
@role_required("admin")
def agent_add():
    rt = runtime()
    form = request.form
    with transaction(rt.sessions) as db:
        agent = agents.add_agent(db, name=form.get("name", ""), address=form.get("address", ""),
                                 skills=_parse_skills(form.get("skills", "")), now=rt.clock.now(),
                                 wrap_up_seconds=_int(form.get("wrap_up_seconds"), 30),
                                 known_skills=set(rt.ivr_config.skills))
        name = agent.name
    return answer(200, wording().text("supervisor_agent_added", name=name))


@bp.post("/agents/<int:agent_id>")
@role_required("admin")
def agent_update(agent_id: int):
    rt = runtime()
    form = request.form
    try:
        with transaction(rt.sessions) as db:
            agent = agents.get_agent(db, agent_id)
            if form.get("remove"):
                name = agent.name
                agents.remove_agent(db, agent)
                message = wording().text("supervisor_agent_removed", name=name)
            else:
                agents.update_agent(db, agent, now=rt.clock.now(), name=form.get("name") or None,
                                    address=form.get("address") or None,
                                    skills=_parse_skills(form["skills"]) if form.get("skills") else None,
                                    wrap_up_seconds=_int(form.get("wrap_up_seconds"), None),
                                    known_skills=set(rt.ivr_config.skills))
                message = wording().text("supervisor_agent_saved", name=agent.name)
    except StaleDataError:
        return answer(409, wording().text("supervisor_agent_raced_reload"))
    return answer(200, message)


def _parse_skills(raw: str) -> dict[str, int]:
    """'billing:7, sales' -> {'billing': 7, 'sales': 5}"""
    skills: dict[str, int] = {}
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        name, _, level = part.partition(":")
        try:
            skills[name.strip()] = int(level) if level.strip() else 5
        except ValueError:
            raise AgentError(f"skill level in {part!r} must be a whole number from 1 to 10") from None
    return skills


def _int(raw: str | None, default):
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise AgentError(f"{raw!r} is not a whole number") from None
