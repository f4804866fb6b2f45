"""`ivr agents add|list|set-state|remove`: manage agents from a shell (same rules as the API)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from agents import services as agents
from agents.exceptions import AgentError
from storage.db import transaction
from storage.models import AGENT_STATES

agents_cli = AppGroup("agents", help="Manage agents: who they are, their skills and their state.")


def _rt():
    return current_app.extensions["ivr"]


def _skills(raw: str) -> dict[str, int]:
    """'billing:7,sales' -> {'billing': 7, 'sales': 5}"""
    skills: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, _, level = part.partition(":")
        if level and not level.strip().isdigit():
            raise click.BadParameter(f"level of {name!r} must be a number from 1 to 10", param_hint="--skills")
        skills[name.strip()] = int(level) if level else 5
    return skills


@agents_cli.command("add")
@click.argument("name")
@click.option("--address", required=True, help="Where the agent is rung: +E.164 number, sip:user@host or client:identity.")
@click.option("--skills", required=True, help="Skills with levels 1-10 (5 when left out), e.g. billing:7,support.")
@click.option("--wrap-up", "wrap_up", default=30, show_default=True, help="Seconds after each call before the next offer.")
@click.option("--available", is_flag=True, help="Start available instead of offline.")
def add(name, address, skills, wrap_up, available):
    """Add agent NAME (offline until set available)."""
    rt = _rt()
    try:
        with transaction(rt.sessions) as s:
            agent = agents.add_agent(s, name=name, address=address, skills=_skills(skills), now=rt.clock.now(),
                                     wrap_up_seconds=wrap_up, state="available" if available else "offline",
                                     known_skills=set(rt.ivr_config.skills))
            click.echo(f"added {agent.name} (id {agent.id}, {agent.state})")
    except AgentError as exc:
        raise click.ClickException(str(exc))


@agents_cli.command("list")
@click.option("--skill", default=None, help="Only agents with this skill.")
@click.option("--state", type=click.Choice(AGENT_STATES), default=None, help="Only agents in this state.")
def list_(skill, state):
    """Id, name, state, skills and address, one agent a line."""
    rt = _rt()
    with transaction(rt.sessions) as s:
        for a in agents.list_agents(s, skill, state):
            skills = ",".join(f"{k}:{v}" for k, v in a.skills.items())
            click.echo(f"{a.id}\t{a.name}\t{a.state}\t{skills}\t{a.address}")


@agents_cli.command("set-state")
@click.argument("agent")
@click.argument("state", type=click.Choice(AGENT_STATES))
@click.option("--reason", default=None, help="Why, for the agent's history.")
def set_state(agent, state, reason):
    """Set AGENT (name or id) to STATE; refused when the move is impossible (say, mid-call)."""
    rt = _rt()
    try:
        with transaction(rt.sessions) as s:
            found = agents.set_state(s, agents.get_agent(s, agent), state, rt.clock.now(), actor="cli", reason=reason)
            click.echo(f"{found.name} is {found.state}")
    except AgentError as exc:
        raise click.ClickException(str(exc))


@agents_cli.command("remove")
@click.argument("agent")
def remove(agent):
    """Remove AGENT (name or id)."""
    rt = _rt()
    try:
        with transaction(rt.sessions) as s:
            found = agents.get_agent(s, agent)
            agents.remove_agent(s, found)
            click.echo(f"removed {found.name}")
    except AgentError as exc:
        raise click.ClickException(str(exc))
