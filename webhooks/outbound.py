"""Twilio webhooks of the calls we place: the agent's leg (whisper, accept, status) and the customer's
leg (greeting, answering-machine verdict, status), plus the live holder's side of a bridge.

Thin: verify the signature, parse, hand to the dispatcher (callbacks/dispatcher.py), render.
Every URL names the entry and the claim ("leg"), so Twilio's retries, late and repeated callbacks
reach code that recognises them; status callbacks always answer 204.
"""
from __future__ import annotations

import re

from flask import Blueprint, Response, abort, request

from callbacks.dispatcher import ENDED, HUMAN, MACHINE
from webhooks import twilio_params
from web.limits import unlimited
from web.runtime import runtime
from webhooks.security import twilio_signed

outbound = unlimited(Blueprint("outbound", __name__, url_prefix="/outbound"))

PUBLIC_ID = re.compile(r"^[0-9a-f]{32}$")


def dispatcher():
    found = runtime().extras.get("dispatcher")
    if found is None:
        abort(503, description="The callback dispatcher is not configured in this process.")
    return found


def _checked(public_id: str) -> str:
    if not PUBLIC_ID.match(public_id):
        abort(404, description="No such callback.")
    return twilio_params.call_sid()


@outbound.post("/agent/<public_id>/<int:leg>/answer")
@twilio_signed
def agent_answer(public_id: str, leg: int):
    sid = _checked(public_id)
    d = dispatcher()
    return twilio_params.twiml(d.agent_answer(public_id, leg, sid, d.dialer.links.agent(public_id, leg, "accept")))


@outbound.post("/agent/<public_id>/<int:leg>/accept")
@twilio_signed
def agent_accept(public_id: str, leg: int):
    sid = _checked(public_id)
    digits = twilio_params.digits()
    d = dispatcher()
    return twilio_params.twiml(d.agent_accept(public_id, leg, sid, digits, d.dialer.links))


@outbound.post("/agent/<public_id>/<int:leg>/done")
@twilio_signed
def agent_done(public_id: str, leg: int):
    sid = _checked(public_id)
    return twilio_params.twiml(dispatcher().holder_dial_done(public_id, leg, sid, request.form.get("DialCallStatus")))


@outbound.post("/customer/<public_id>/<int:leg>/answer")
@twilio_signed
def customer_answer(public_id: str, leg: int):
    sid = _checked(public_id)
    return twilio_params.twiml(dispatcher().customer_answer(public_id, leg, sid))


@outbound.post("/customer/<public_id>/<int:leg>/amd")
@twilio_signed
def customer_amd(public_id: str, leg: int):
    sid = _checked(public_id)
    answered_by = request.form.get("AnsweredBy", "")
    if answered_by not in HUMAN + MACHINE:
        abort(400, description="AnsweredBy is missing or not one of Twilio's answering-machine results.")
    dispatcher().customer_amd(public_id, leg, sid, answered_by)
    return Response("", status=204)


@outbound.post("/<any(agent, customer):side>/<public_id>/<int:leg>/status")
@twilio_signed
def leg_status(side: str, public_id: str, leg: int):
    """Twilio's status callback for the agent's or the customer's leg."""
    sid = _checked(public_id)
    d = dispatcher()
    (d.agent_status if side == "agent" else d.customer_status)(public_id, leg, sid, twilio_params.call_status())
    return Response("", status=204)


@outbound.post("/customer/<public_id>/<int:leg>/bridge")
@twilio_signed
def holder_bridge(public_id: str, leg: int):
    sid = _checked(public_id)
    dequeuer = twilio_params.call_sid("DequeingCallSid", required=False)
    return twilio_params.twiml(dispatcher().holder_bridged(public_id, leg, sid, dequeuer))


__all__ = ["outbound", "ENDED"]
