"""Twilio Voice webhooks: parse, verify, call the IVR, render TwiML. Decisions live in ivr/."""
from __future__ import annotations

import re

from flask import Blueprint, Response, abort, request

from sqlalchemy.exc import IntegrityError

from ivr import call_records
from ivr.flow import CallFlow, FlowSettings
from storage.db import one_write, retry_on_conflict, transaction
from webhooks import twilio_params
from web.limits import unlimited
from web.runtime import runtime
from webhooks.security import public_base, stream_token, twilio_signed

voice = unlimited(Blueprint("voice", __name__, url_prefix="/voice"))

STEP = re.compile(r"^[a-z_]{1,32}$")
ENTRY = re.compile(r"^[0-9a-f]{32}$")  # a queue entry's public id (uuid4 hex)


def entry_param(entry_id: str) -> str:
    if not ENTRY.match(entry_id):
        abort(404, description="No such place in line.")
    return entry_id


class TwilioLinks:
    """Absolute URLs for Twilio, built on the public base URL it reaches us at."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")

    def step(self, step: str, turn: int) -> str:
        return f"{self.base}/voice/step/{step}?t={turn}"

    def listen(self, step: str, turn: int) -> str:
        return f"{self.base}/voice/step/{step}/listen?t={turn}"

    def hold_wait(self, entry_id: str) -> str:
        return f"{self.base}/voice/hold/{entry_id}/wait"

    def hold_press(self, entry_id: str) -> str:
        return f"{self.base}/voice/hold/{entry_id}/press"

    def hold_done(self, turn: int) -> str:
        return f"{self.base}/voice/hold/done?t={turn}"

    def stream(self) -> str:
        # Twilio's <Stream url> takes no query string: the token travels as a <Parameter>.
        scheme, rest = self.base.split("://", 1)
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/media"

    def stream_token(self, call_sid: str, step: str, turn: int) -> str:
        return stream_token(call_sid, step, turn)


def turn_param() -> int:
    raw = request.args.get("t", "")
    if not raw.isdigit():
        abort(400, description="The turn number (?t=) is missing or not a whole number.")
    return int(raw)


def _flow(session) -> CallFlow:
    rt = runtime()
    return CallFlow(session, rt.ivr_config, rt.clock, TwilioLinks(public_base()),
                    FlowSettings(allowed_countries=rt.settings.allowed_countries, speech_languages=rt.speech_languages),
                    understanding=rt.understanding)


def _run_flow_once(action):
    """Run one IVR action in one transaction: all of it is stored, or none of it. A duplicate delivery
    racing this one (Twilio retries slow webhooks) loses on the call's or turn's key and is run again,
    which then replays the answer the first one stored."""
    with transaction(runtime().sessions) as session:
        return action(_flow(session))


run_flow = retry_on_conflict(_run_flow_once)


@voice.post("/incoming")
@twilio_signed
def incoming():
    sid, caller, called = twilio_params.call_sid(), request.form.get("From"), request.form.get("To")
    try:  # a new call: its rows written at once (ivr.call_records), committed before we answer;
        # a returning caller or a retried request: the full flow
        with one_write(runtime().engine) as connection:
            answer = call_records.first_answer(_flow(None), connection, sid, caller, called)
    except IntegrityError:
        answer = None
    return twilio_params.twiml(answer or run_flow(lambda flow: flow.incoming(sid, caller, called)))


@voice.post("/step/<step>")
@twilio_signed
def step(step: str):
    if not STEP.match(step):
        abort(404, description="No such IVR step.")
    sid, turn, digits = twilio_params.call_sid(), turn_param(), twilio_params.digits()
    return twilio_params.twiml(run_flow(lambda flow: flow.step(sid, step, turn, digits)))


@voice.post("/step/<step>/listen")
@twilio_signed
def listen(step: str):
    """The media handler moved the call here: the caller began to speak, so the prompt stops."""
    if not STEP.match(step):
        abort(404, description="No such IVR step.")
    sid, turn = twilio_params.call_sid(), turn_param()
    return twilio_params.twiml(run_flow(lambda flow: flow.listen(sid, step, turn)))


@voice.post("/hold/<entry_id>/wait")
@twilio_signed
def hold_wait(entry_id: str):
    entry_param(entry_id)
    twilio_params.call_sid()
    return twilio_params.twiml(run_flow(lambda flow: flow.hold_wait(entry_id, request.form.get("QueueSid"),
                                                      request.form.get("QueuePosition"))))


@voice.post("/hold/<entry_id>/press")
@twilio_signed
def hold_press(entry_id: str):
    entry_param(entry_id)
    twilio_params.call_sid()
    digits = twilio_params.digits()
    return twilio_params.twiml(run_flow(lambda flow: flow.hold_press(entry_id, digits)))


@voice.post("/hold/done")
@twilio_signed
def hold_done():
    sid, turn = twilio_params.call_sid(), turn_param()
    return twilio_params.twiml(run_flow(lambda flow: flow.hold_done(sid, turn, request.form.get("QueueResult"),
                                                      request.form.get("QueueTime"))))


@voice.post("/status")
@twilio_signed
def status():
    sid = twilio_params.call_sid()
    call_status = twilio_params.call_status()
    # A call we never saw is answered the same way: outbound callback legs have their own status URL.
    run_flow(lambda flow: flow.status(sid, call_status, request.form.get("CallDuration")))
    return Response("", status=204)
