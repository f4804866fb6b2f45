"""The channels a contact comes in by, declared once: the request schema, the API, the supervisor's
labels, the text channel and the dispatcher's notices all read this list.

A new channel (WhatsApp) is one `Channel` here, plus its adapter (for texts: callbacks/text_channel.py).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Channel:
    name: str                       # stored on QueueEntry.channel; shown as channel_<name> in config/ivr.toml
    requested: bool                 # a callback request may name it (POST /api/callbacks "channel")
    texts: bool = False             # texts come in by it and are answered in kind (text_channel.answer)
    integration: str | None = None  # recorded on the callbacks it books when no integration is named


ALL = (
    Channel("phone", requested=False),
    Channel("web", requested=True),
    Channel("chat", requested=True, texts=True),
    Channel("sms", requested=True, texts=True, integration="twilio-sms"),
    Channel("api", requested=True),
)
BY_NAME = {c.name: c for c in ALL}
REQUESTED = tuple(c.name for c in ALL if c.requested)
TEXTS = {c.name: c for c in ALL if c.texts}
SMS = BY_NAME["sms"].name
