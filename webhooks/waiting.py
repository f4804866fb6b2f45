"""The waiting page (/wait/<id>?token=...) and what it does besides reading the status API: the later
slots it may move to, the move, and booking again after a cancel. Thin: callbacks/waiting.py decides."""
from __future__ import annotations

import os

from flask import Blueprint, current_app, jsonify, render_template

from callbacks import requests as callback_requests
from callbacks import waiting
from storage.db import transaction
from web.limits import TOO_MANY, limiter, status_per_ip
from web.runtime import runtime
from webhooks.api import callback_view, read_json, token_arg

page = Blueprint("waiting_page", __name__)
REFRESH_SECONDS = 10  # how often the page reads the status API (WAITING_PAGE_REFRESH_SECONDS)


def refresh_seconds() -> float:
    value = current_app.config.get("WAITING_PAGE_REFRESH_SECONDS") or os.environ.get("WAITING_PAGE_REFRESH_SECONDS")
    return max(1.0, float(value or REFRESH_SECONDS))


def _view(session, entry, *, token=None, created=False):
    rt = runtime()
    now = rt.clock.now()
    position, wait = callback_requests.place_in_line(session, rt.ivr_config, entry, now)
    return callback_view(entry, position=position, wait=wait, token=token, created=created,
                         window=callback_requests.window_view(rt.ivr_config, entry, now))


@page.get("/wait/<public_id>")
@limiter.limit(status_per_ip, error_message=TOO_MANY)
def waiting_page(public_id: str):
    rt = runtime()
    token = token_arg()
    with rt.sessions() as session:
        entry = callback_requests.find_by_token(session, public_id, token)
        language, told = entry.language, waiting.told_us(entry)
    return render_template("waiting.html", words=waiting.page_words(rt.ivr_config, language),
                           lang=language.split("-")[0], public_id=public_id, token=token, told_us=told,
                           refresh_ms=int(refresh_seconds() * 1000))


@page.get("/api/callbacks/<public_id>/slots")
@limiter.limit(status_per_ip, error_message=TOO_MANY)
def later_slots(public_id: str):
    rt = runtime()
    now = rt.clock.now()
    with rt.sessions() as session:
        entry = callback_requests.find_by_token(session, public_id, token_arg())
        slots = waiting.later_slots(session, rt.ivr_config, entry, now)
        return jsonify({"slots": waiting.slot_view(rt.ivr_config, entry, slots, now)})


@page.post("/api/callbacks/<public_id>/move")
@limiter.limit(status_per_ip, error_message=TOO_MANY)
def move(public_id: str):
    rt = runtime()
    body = read_json()
    with transaction(rt.sessions) as session:
        entry = waiting.move(session, rt.ivr_config, public_id, token_arg(), body.get("slot"), rt.clock.now())
        view = _view(session, entry)
    return jsonify(view)


@page.post("/api/callbacks/<public_id>/again")
@limiter.limit(status_per_ip, error_message=TOO_MANY)
def again(public_id: str):
    rt = runtime()
    with transaction(rt.sessions) as session:
        outcome = waiting.again(session, rt.ivr_config, public_id, token_arg(), now=rt.clock.now(),
                                allowed_countries=rt.settings.allowed_countries)
        view = _view(session, outcome.entry, token=outcome.status_token, created=outcome.created)
    return jsonify(view), (201 if outcome.created else 200)
