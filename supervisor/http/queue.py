"""The live queue: the page, its board fragment and event stream, and one entry's page."""
from __future__ import annotations

from flask import Response, render_template, request, stream_with_context

from agents import services as agents
from callbacks.dispatch import outage as dial_outage
from callbacks.services import get_entry
from config import Prompts
from storage.models import AGENT_STATES
from supervisor import board, live
from supervisor.http import bp, local_filter, login_required, skill_param
from web.runtime import runtime


def _dialling_notice(outage: dial_outage.Outage | None, config) -> str | None:
    """In words, why nothing is dialled (the operator's wording, config/ivr.toml), or None."""
    if outage is None:
        return None
    zone = (config.zones.get(config.default_language) or config.fallback_skill.timezone).key
    return Prompts(config, config.default_language).text(
        f"supervisor_dialling_{outage.reason}", since=local_filter(outage.since, zone),
        next_try=local_filter(outage.next_try, zone))


def _board_context(skill: str | None) -> dict:
    rt = runtime()
    now = rt.clock.now()
    with rt.sessions() as db:
        boards = board.build(db, rt.ivr_config, now, skill=skill)
        agent_list = agents.list_agents(db)
        mark = live.marker(db)
        outage = dial_outage.read(db)
        db.expunge_all()
    return {"boards": boards, "agents": agent_list, "marker": mark, "skill": skill,
            "dialling_notice": _dialling_notice(outage, rt.ivr_config),
            "skills": list(rt.ivr_config.skills), "agent_states": AGENT_STATES, "now": now,
            "row_limit": board.ROWS_PER_SECTION,
            "server_now_ms": int(now.timestamp() * 1000)}


@bp.get("/")
@login_required
def queue_page():
    return render_template("supervisor/queue.html", **_board_context(skill_param()))


@bp.get("/board")
@login_required
def board_fragment():
    """The live part of the queue page, fetched by the page's script when the stream says 'change'."""
    return render_template("supervisor/_board.html", **_board_context(skill_param()))


@bp.get("/stream")
@login_required
def stream():
    since = request.headers.get("Last-Event-ID") or request.args.get("since")
    sessions = runtime().sessions
    response = Response(stream_with_context(live.stream(sessions, since)), mimetype="text/event-stream")
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass events through at once
    return response


@bp.get("/entries/<public_id>")
@login_required
def entry_page(public_id: str):
    rt = runtime()
    with rt.sessions() as db:
        entry = get_entry(db, public_id)
        events = list(entry.events)
        rows = [r for b in board.build(db, rt.ivr_config, rt.clock.now(), skill=entry.skill) for r in b.rows
                if r.entry.id == entry.id]
        context = board.customer_context(entry, rt.ivr_config)
        db.expunge_all()
    return render_template("supervisor/entry.html", entry=entry, events=events, row=rows[0] if rows else None,
                           skills=list(rt.ivr_config.skills), context=context, trail_details=board.trail_details)
