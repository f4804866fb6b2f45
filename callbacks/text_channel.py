"""Texts, whatever carries them: one interface for "a text came in" and "the text we answer".

SMS (webhooks/sms.py, Twilio's form and TwiML) and chat (webhooks/chat.py, a signed JSON message) are
adapters: each turns its request into a `TextIn` and renders the reply string `answer` returns. A new
channel (WhatsApp, ...) adds an adapter and a `Channel` in callbacks/channels.py; what a text means stays here.

What a text can ask (keywords from the operator's IVR file, per language, case and spacing ignored):
    CALL ME ... / BEL MIJ ...     book a callback to the sender's number (callbacks/texts.py reads the words)
    text_keyword_cancel           cancel the sender's open callback(s)
    text_keyword_status           where the sender's open callback stands (its window and place in line)
Anything else is answered with texts.help_text. A booking's and a status's reply carry the waiting page's link (with a
`base` URL), and say first that the team is closed now and when it opens, as the phone does.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from callbacks import channels, promises
from callbacks import requests as callback_requests
from callbacks import texts, waiting
from callbacks.services import change_state
from config import IvrConfig, Prompts
from phone_numbers import NumberRefused, last_digits, normalise
from refusals import RequestRefused
from storage.models import CALLBACK, QueueEntry

# Channels a text can come in by (callbacks/channels.py declares them and their default integration).
TEXT_CHANNELS = channels.TEXTS
# A texter's callback that can still be cancelled or asked about by text.
WAITING = ("queued", "scheduled")
KEYWORDS = ("text_keyword_cancel", "text_keyword_status")


@dataclass(frozen=True)
class TextIn:
    """One text as any channel hands it over."""

    channel: str             # a name in TEXT_CHANNELS
    sender: str              # the sender's phone number, as the channel gives it
    body: str
    integration: str | None = None  # the chat bot's name; SMS uses TEXT_CHANNELS' default

    def caller(self) -> callback_requests.Caller:
        return callback_requests.Caller(channel=self.channel,
                                        integration=self.integration or TEXT_CHANNELS[self.channel].integration)


def _plain(words: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", (words or "").upper()))


def keyword(config: IvrConfig, body: str) -> tuple[str, list[str]] | None:
    """(which keyword, the languages whose keyword it is) if the whole text is one of the IVR file's
    keywords, else None. A word shared by languages (STATUS) names them all."""
    said = _plain(body)
    for key in KEYWORDS:
        languages = [language for language, table in config.prompts.items()
                     if said and said == _plain(table.get(key, ""))]
        if languages:
            return key, languages
    return None


def language_of(config: IvrConfig, body: str) -> str:
    """The language a text is written in, as far as its keyword tells; else the IVR file's default."""
    found = keyword(config, body)
    if found:
        return found[1][0]
    try:
        wanted = texts.parse_text(body)
    except RequestRefused:
        wanted = None
    return wanted.language if wanted else config.default_language


def answer(session: Session, config: IvrConfig, text: TextIn, *, now: datetime,
           allowed_countries: tuple[str, ...], base: str | None = None) -> str:
    """Do what the text asks in `session` and return the reply to send back. Raises RequestRefused for a
    request that cannot be booked (the adapter answers with `texts.refusal`). `base`: the app's public URL,
    for the waiting page's link."""
    found = keyword(config, text.body)
    if found is not None:
        key, languages = found
        open_ones = _waiting(session, text.sender, allowed_countries)
        # A word several languages share is answered in the language the texter booked in.
        language = open_ones[0].language if open_ones and open_ones[0].language in languages else languages[0]
        if key == "text_keyword_cancel":
            return _cancel(session, config, open_ones, language, text.channel, now)
        return _status(session, config, open_ones, language, now, base)
    wanted = texts.parse_text(text.body)
    if wanted is None:
        return texts.help_text(config)
    body = texts.request_body(wanted, text.sender, config, now)
    outcome = callback_requests.request_callback(session, config, body, now=now,
                                                 allowed_countries=allowed_countries, caller=text.caller())
    link = base.rstrip("/") + waiting.waiting_path(outcome.entry.public_id, outcome.status_token) \
        if base and outcome.status_token else None
    return booked(config, outcome, now, link)


def booked(config: IvrConfig, outcome: callback_requests.Outcome, now: datetime, link: str | None) -> str:
    """The reply to a booking by text or chat: closed now and when we open (while the team is), what was
    booked (its window, date and zone), and the waiting page's link."""
    entry = outcome.entry
    said = callback_requests.confirmation(config, outcome, now)
    return _with_hours_and_link(config, entry, entry.language, said, now, link)


def _with_hours_and_link(config: IvrConfig, entry: QueueEntry, language: str, said: str, now: datetime,
                         link: str | None) -> str:
    closed = waiting.closed_for(config, entry, language, now=now)
    parts = [closed, said, Prompts(config, language).text("text_waiting_link", url=link) if link else None]
    return " ".join(part for part in parts if part)


def _waiting(session: Session, sender: str, allowed_countries: tuple[str, ...]) -> list[QueueEntry]:
    """The sender's callbacks still waiting to be called (any channel booked them), oldest first."""
    try:
        number = normalise(sender, allowed_countries)
    except NumberRefused:
        return []
    return list(session.scalars(select(QueueEntry).where(
        QueueEntry.phone_number == number, QueueEntry.kind == CALLBACK,
        QueueEntry.state.in_(WAITING)).order_by(QueueEntry.id)))


def _cancel(session: Session, config: IvrConfig, waiting: list[QueueEntry], language: str, channel: str,
            now: datetime) -> str:
    p = Prompts(config, language)
    if not waiting:
        return p.text("text_nothing_to_cancel")
    for entry in waiting:
        change_state(session, entry, "cancelled", now=now, reason="cancelled by the customer by text",
                     actor="customer", channel=channel)
    return p.text("text_cancelled")


def _status(session: Session, config: IvrConfig, waiting_now: list[QueueEntry], language: str, now: datetime,
            base: str | None) -> str:
    p = Prompts(config, language)
    if not waiting_now:
        return p.text("text_nothing_waiting")
    entry = waiting_now[0]
    window = callback_requests.ensure_window(session, config, entry, now)
    last4 = last_digits(entry.phone_number or "")
    told = promises.window_words(p, window, now) if window is not None else None
    position, _wait = callback_requests.place_in_line(session, config, entry, now)
    cancel = p.table["text_keyword_cancel"]
    if told is None:
        said = p.text("text_existing", last4=last4)
    elif position is not None:
        said = p.text("text_status_in_line", last4=last4, window=told, position=position, cancel=cancel)
    else:
        said = p.text("text_status_later", last4=last4, window=told, cancel=cancel)
    # The number that texted is the customer's: it gets its own link to the waiting page.
    link = waiting.link_for_texter(entry, base) if base else None
    return _with_hours_and_link(config, entry, language, said, now, link)
