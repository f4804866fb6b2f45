"""Twilio Messaging webhook: a texter sends CALL ME / BEL MIJ and is called back on that number.

What a text means is decided in callbacks/texts.py. Point the number's "A message comes in" webhook
at POST /webhooks/sms (signed by Twilio, checked like the voice webhooks).
"""
from __future__ import annotations

from flask import Blueprint, Response, request
from twilio.twiml.messaging_response import MessagingResponse

from callbacks import requests as callback_requests
from callbacks import texts
from callbacks.schemas import RequestRefused
from storage.db import transaction
from webhooks.limits import TOO_MANY_FOR_NUMBER, limiter, number_in_form, per_number
from webhooks.runtime import runtime
from webhooks.security import twilio_signed

sms = Blueprint("sms_webhooks", __name__, url_prefix="/webhooks")


def reply(text: str) -> Response:
    response = MessagingResponse()
    response.message(text)
    return Response(str(response), mimetype="text/xml")


# No per-IP limit: every text arrives from Twilio's addresses. Counted per texter instead.
@sms.post("/sms")
@twilio_signed
@limiter.limit(per_number, key_func=number_in_form, error_message=TOO_MANY_FOR_NUMBER)
def incoming_sms():
    rt = runtime()
    config = rt.ivr_config
    language = config.default_language
    try:
        wanted = texts.parse_text(request.form.get("Body", ""))
        if wanted is None:
            return reply(texts.HELP)
        language = wanted.language
        now = rt.clock.now()
        body = texts.request_body(wanted, request.form.get("From", ""), config, now)
        with transaction(rt.sessions) as session:
            outcome = callback_requests.request_callback(
                session, config, body, now=now, allowed_countries=rt.settings.allowed_countries,
                caller=callback_requests.Caller(channel="sms", integration="twilio-sms"))
            text = callback_requests.confirmation(config, outcome, now)
    except RequestRefused as refused:
        # Twilio only delivers a reply to a 2xx answer: refusals are told to the texter, not as an HTTP error.
        return reply(texts.refusal(config, language, refused))
    return reply(text)
