"""Twilio Messaging webhook: a texter sends CALL ME / BEL MIJ and is called back on that number, or cancels
or asks after that callback with a keyword.

This is the SMS adapter of callbacks/text_channel.py, which decides what a text means. Point the
number's "A message comes in" webhook at POST /webhooks/sms (signed by Twilio, checked like the voice webhooks).

Every text is answered with TwiML (Twilio only delivers a reply to a 2xx), refusals and "too many"
included. Each MessageSid is answered once: its row is claimed first and holds the reply, stored in
the same transaction as what the text booked; a repeated delivery (a retry, or a replayed signed
request) gets that stored reply and books nothing. The reply is stored with its waiting-page link's token
sealed with a key made of SECRET_KEY and the MessageSid (callbacks.waiting.seal_links): a reader of the
database gets no working link, and the repeat gets the same link as the first delivery.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from callbacks import text_channel, texts, waiting
from refusals import RequestRefused
from storage.db import retry_on_conflict, transaction
from storage.models import ReceivedText
from webhooks import twilio_params
from web.limits import number_in_form, per_number, spend, within
from web.runtime import runtime
from webhooks.security import public_base, twilio_signed

sms = Blueprint("sms_webhooks", __name__, url_prefix="/webhooks")


def reply(text: str) -> str:
    response = MessagingResponse()
    response.message(text)
    return str(response)


# No per-IP limit: every text arrives from Twilio's addresses. Counted per texter instead (only texts
# Twilio signed and we had not seen), and the texter over the limit is told so in a reply.
@sms.post("/sms")
@twilio_signed
def incoming_sms():
    sid = twilio_params.message_sid()
    return Response(answer_text(sid), mimetype="text/xml")


@retry_on_conflict
def answer_text(sid: str) -> str:
    """The TwiML reply to text `sid`: the stored one if it was answered before, else a new one."""
    rt = runtime()
    with rt.sessions() as session:
        seen = session.get(ReceivedText, sid)
        if seen is not None:
            return waiting.unseal_links(seen.reply, _reply_key(sid))
    now = rt.clock.now()
    key = "sms:" + number_in_form()
    counted = within(per_number(), key)
    with transaction(rt.sessions) as session:
        # The MessageSid is claimed first: a copy arriving meanwhile waits on this key, loses, and is
        # answered (retry_on_conflict) with the reply stored here.
        received = ReceivedText(message_sid=sid, reply="", received_at=now)
        session.add(received)
        session.flush()
        try:
            text = _booked(session, now) if counted else _too_many()
        except RequestRefused as refused:
            session.rollback()  # nothing of a refused request is kept but its reply
            text = texts.refusal(rt.ivr_config, _language(), refused)
            received = ReceivedText(message_sid=sid, reply="", received_at=now)
            session.add(received)
        answered = reply(text)
        received.reply = waiting.seal_links(answered, _reply_key(sid))
    if counted:
        spend(per_number(), key)
    return answered


def _reply_key(sid: str) -> str:
    """What seals the stored reply's links: the app's SECRET_KEY (not in the database) and the text's SID."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret if isinstance(secret, bytes) else secret.encode()
    return hmac.new(secret, ("sms-reply:" + sid).encode(), hashlib.sha256).hexdigest()


def _text_in() -> text_channel.TextIn:
    """The SMS adapter: Twilio's form as the text channel's one shape."""
    return text_channel.TextIn(channel="sms", sender=request.form.get("From", ""), body=request.form.get("Body", ""))


def _language() -> str:
    return text_channel.language_of(runtime().ivr_config, request.form.get("Body", ""))


def _too_many() -> str:
    config = runtime().ivr_config
    return (config.prompts.get(_language()) or config.prompts[config.default_language])["text_too_many"]


def _booked(session, now) -> str:
    """Do what the text asks in `session` (book, cancel, status); the reply, or the help text for any other text."""
    rt = runtime()
    return text_channel.answer(session, rt.ivr_config, _text_in(), now=now,
                               allowed_countries=rt.settings.allowed_countries, base=public_base())
