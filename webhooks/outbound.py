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
from webhooks.runtime import runtime
from webhooks.security import twilio_signed

outbound = Blueprint("outbound", __name__, url_prefix="/outbound")

CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
PUBLIC_ID = re.compile(r"^[0-9a-f]{32}$")
STATUSES = {"queued", "initiated", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled"}


def dispatcher():
    found = runtime().extras.get("dispatcher")
    if found is None:
        abort(503, description="The callback dispatcher is not configured in this process.")
    return found


def twiml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


def _checked(public_id: str) -> str:
    if not PUBLIC_ID.match(public_id):
        abort(404, description="No such callback.")
    sid = request.form.get("CallSid", "")
    if not CALL_SID.match(sid):
        abort(400, description="CallSid is missing or is not a Twilio call SID (CA followed by 32 hex digits).")
    return sid


def _status() -> str:
    status = request.form.get("CallStatus", "")
    if status not in STATUSES:
        abort(400, description="CallStatus is missing or not one of Twilio's call statuses.")
    return status


@outbound.post("/agent/<public_id>/<int:leg>/answer")
@twilio_signed
def agent_answer(public_id: str, leg: int):
    sid = _checked(public_id)
    d = dispatcher()
    return twiml(d.agent_answer(public_id, leg, sid, d.dialer.links.agent(public_id, leg, "accept")))


@outbound.post("/agent/<public_id>/<int:leg>/accept")
@twilio_signed
def agent_accept(public_id: str, leg: int):
    sid = _checked(public_id)
    digits = request.form.get("Digits")
    if digits is not None and not re.fullmatch(r"[0-9*#]{0,8}", digits):
        abort(400, description="Digits may only contain 0-9, * and #.")
    d = dispatcher()
    return twiml(d.agent_accept(public_id, leg, sid, digits, d.dialer.links))


@outbound.post("/agent/<public_id>/<int:leg>/status")
@twilio_signed
def agent_status(public_id: str, leg: int):
    sid = _checked(public_id)
    dispatcher().agent_status(public_id, leg, sid, _status())
    return Response("", status=204)


@outbound.post("/agent/<public_id>/<int:leg>/done")
@twilio_signed
def agent_done(public_id: str, leg: int):
    sid = _checked(public_id)
    return twiml(dispatcher().holder_dial_done(public_id, leg, sid, request.form.get("DialCallStatus")))


@outbound.post("/customer/<public_id>/<int:leg>/answer")
@twilio_signed
def customer_answer(public_id: str, leg: int):
    sid = _checked(public_id)
    return twiml(dispatcher().customer_answer(public_id, leg, sid))


@outbound.post("/customer/<public_id>/<int:leg>/amd")
@twilio_signed
def customer_amd(public_id: str, leg: int):
    sid = _checked(public_id)
    answered_by = request.form.get("AnsweredBy", "")
    if answered_by not in HUMAN + MACHINE:
        abort(400, description="AnsweredBy is missing or not one of Twilio's answering-machine results.")
    dispatcher().customer_amd(public_id, leg, sid, answered_by)
    return Response("", status=204)


@outbound.post("/customer/<public_id>/<int:leg>/status")
@twilio_signed
def customer_status(public_id: str, leg: int):
    sid = _checked(public_id)
    dispatcher().customer_status(public_id, leg, sid, _status())
    return Response("", status=204)


@outbound.post("/customer/<public_id>/<int:leg>/bridge")
@twilio_signed
def holder_bridge(public_id: str, leg: int):
    sid = _checked(public_id)
    dequeuer = request.form.get("DequeingCallSid") or None
    if dequeuer is not None and not CALL_SID.match(dequeuer):
        abort(400, description="DequeingCallSid is not a Twilio call SID.")
    return twiml(dispatcher().holder_bridged(public_id, leg, sid, dequeuer))


__all__ = ["outbound", "ENDED"]
