"""Twilio's webhook parameters, checked in one place: a bad one is a 400 that names it."""
from __future__ import annotations

import re

from flask import Response, abort, request

from storage.text import has_control

CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-fA-F]{32}$")
DIGITS = re.compile(r"^[0-9*#]{0,32}$")
# Twilio's call statuses, plus "initiated" which status callbacks of the calls we place report.
CALL_STATUSES = {"queued", "initiated", "ringing", "in-progress", "completed", "busy", "failed", "no-answer",
                 "canceled"}


def call_sid(name: str = "CallSid", required: bool = True) -> str | None:
    sid = request.form.get(name, "")
    if not sid and not required:
        return None
    if not CALL_SID.match(sid):
        abort(400, description=f"{name} is missing or is not a Twilio call SID (CA followed by 32 hex digits).")
    return sid


def message_sid() -> str:
    sid = request.form.get("MessageSid", "")
    if not MESSAGE_SID.match(sid):
        abort(400, description="MessageSid is missing or is not a Twilio message SID (SM or MM and 32 hex digits).")
    return sid


# Who called whom: E.164, or a SIP URI / Client identity (sip:alice@..., client:bob). They are
# stored as sent, in columns of this width.
ADDRESS_FIELDS = ("From", "To", "Caller", "Called")
MAX_ADDRESS = 255


def check_addresses() -> None:
    """400 for an address no phone network sends (too long for its column, or control characters)."""
    form = request.form
    given = {name: value for name in ADDRESS_FIELDS if (value := form.get(name)) is not None}
    if max(map(len, given.values()), default=0) <= MAX_ADDRESS and not has_control("".join(given.values()), one_line=True):
        return  # (the usual request: its addresses searched as one text, named only when one is refused)
    for name, value in given.items():
        if len(value) > MAX_ADDRESS or has_control(value, one_line=True):
            abort(400, description=f"{name} is longer than {MAX_ADDRESS} characters or holds control characters.")


def digits() -> str | None:
    keyed = request.form.get("Digits")
    if keyed is not None and not DIGITS.match(keyed):
        abort(400, description="Digits may only contain 0-9, * and #.")
    return keyed or None


def call_status() -> str:
    status = request.form.get("CallStatus", "")
    if status not in CALL_STATUSES:
        abort(400, description="CallStatus is missing or not one of Twilio's call statuses.")
    return status


def twiml(body: str) -> Response:
    return Response(body, mimetype="text/xml")
