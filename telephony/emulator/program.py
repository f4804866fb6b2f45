"""TwiML on a call: each document requested from the app (or given inline), checked, and followed verb
by verb, each verb by its module from verbs/table.py. The end of a document hangs up; an update of the
live call (calls(sid).update) stops whatever it was doing and runs the new document."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from types import GeneratorType
from urllib.parse import urljoin

from telephony.emulator.basics import APPLICATION_ERROR, WHISPER_VERBS, WebhookError
from telephony.emulator.ending import finish
from telephony.emulator.stepping import begin
from telephony.emulator.verbs.table import handler_for
from telephony.emulator.waits import HungUp, Redirected, Ringing, Talking, Target
from telephony.rest import rfc2822
from telephony.twiml import TwiMLError, check


def start(call, target: Target) -> None:
    """The call's program: this document, then whatever it leads to, until the call ends."""
    begin(call, _main(call, target))


def start_dialled(call) -> None:
    """A <Dial>led party picked up: its <Number url> document first, then the conversation."""
    begin(call, _dialled(call))


def _main(call, target: Target | None):
    try:
        while target is not None:
            try:
                target = yield from follow_document(call, target)
            except Redirected as redirected:
                call.cause = "update"
                target = redirected.target
                continue
            call.cause = "document"
        call.log.append(("end of document", "Twilio hangs up"))
        finish(call, "completed")
    except HungUp as hung_up:
        finish(call, hung_up.status)


def _dialled(call):
    url = call.record.get("url")
    try:
        if url:
            yield from follow_document(call, Target(url, call.record.get("method", "POST")), WHISPER_VERBS)
        call.peer = call.parent
        call.emulator.events.post(("wake", call.parent, Ringing, ("answered",)))
        yield Talking(peer=call.parent)
        finish(call, "completed")
    except HungUp as hung_up:
        finish(call, hung_up.status)


def follow_document(call, target: Target, allowed: tuple[str, ...] | None = None, queue=None):
    """Load one document and follow it; its next Target (a Redirect, an action) or None."""
    root = load(call, target)
    return (yield from Run(call, list(root), target.url, queue, allowed).follow())


def load(call, target: Target) -> ET.Element:
    em = call.emulator
    if target.twiml is not None:
        body = target.twiml
    else:
        reply = em.webhooks.request(target.url, {**call.params(), **target.params}, target.method)
        if call.status == "ringing" and call.direction == "inbound":
            call.status, call.answered_at = "in-progress", em.now()
            em.rest.update_record(call.sid, status="in-progress", start_time=rfc2822(em.clock()))
        if reply is None:
            call.heard.append(APPLICATION_ERROR)
            raise HungUp("completed")
        body = reply
    call.documents.append(body)
    try:
        return check(body, skip_unknown_verbs=not em.strict)
    except TwiMLError as exc:
        if em.strict:
            raise WebhookError(f"{target.url}: {exc}") from exc
        call.log.append(("invalid TwiML", str(exc)))
        call.heard.append(APPLICATION_ERROR)
        raise HungUp("completed") from exc


class Run:
    """One document being followed on a call: its verbs in order, where it came from (relative URLs),
    the queue whose wait document it is, and which verbs it may use."""

    def __init__(self, call, verbs: list[ET.Element], doc_url: str | None, queue=None,
                 allowed: tuple[str, ...] | None = None):
        self.call, self.verbs, self.doc_url, self.queue, self.allowed = call, verbs, doc_url, queue, allowed
        self.pos = 0

    def follow(self):
        """Returns the next Target (Redirect, an action), or None when the document ran out."""
        while self.pos < len(self.verbs):
            tag = self.verbs[self.pos].tag
            if not self.allows(tag):
                self.not_followed(f"<{tag}> is not allowed in this document (only {', '.join(self.allowed)})")
                self.pos += 1
                continue
            target = handler_for(tag).follow(self)
            if isinstance(target, GeneratorType):  # a verb that waits
                target = yield from target
            if target is not None:
                return target
        return None

    def next_verb(self) -> ET.Element:
        verb = self.verbs[self.pos]
        self.pos += 1
        return verb

    def allows(self, tag: str) -> bool:
        return self.allowed is None or tag in self.allowed

    handler = staticmethod(handler_for)

    def nested(self, target: Target, allowed: tuple[str, ...], queue=None):
        """Another document on this call (a queue's wait document, a whisper)."""
        return follow_document(self.call, target, allowed, queue)

    def url_attribute(self, element: ET.Element, name: str) -> str | None:
        value = element.attrib.get(name)
        return urljoin(self.doc_url or "", value) if value else None

    def queue_params(self) -> dict:
        return self.queue.params_for(self.call) if self.queue is not None else {}

    def not_followed(self, message: str) -> None:
        """Strict (tests): the app sent what the emulator cannot follow. Otherwise skipped, and logged."""
        if self.call.emulator.strict:
            raise WebhookError(message)
        self.call.log.append(("ignored", message))
