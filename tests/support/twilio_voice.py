"""Plays Twilio's part on the webhook side of a call.

It sends Twilio's parameter names, signs every request as Twilio does (RequestValidator over the
full URL plus the sorted POST parameters), checks every TwiML answer against twilio's own verb
definitions, and follows it: Say/Play are "heard", Gather waits for the test to press keys or let
it time out (then falls through to the next verb), Redirect is fetched, Enqueue puts the caller in a
Twilio queue whose waitUrl is fetched and followed, Leave/hang-up request the Enqueue action with
the right QueueResult, Hangup ends the call and sends the status callback. A test says what the
caller does: `call.press("1")`, `call.wait()`, `call.hang_up()`.
"""
from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator

from tests.support.twiml_check import check

ACCOUNT_SID = "AC" + "0" * 32
MAX_HOPS = 40


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


class TwilioDouble:
    """Twilio as seen from our webhooks: one account, its queues, and a signing key."""

    def __init__(self, client, auth_token: str, base_url: str, number: str = "+15005550006"):
        self.client = client
        self.auth_token = auth_token
        self.base_url = base_url.rstrip("/")
        self.number = number
        self.queues: dict[str, list[str]] = {}
        self.queue_sids: dict[str, str] = {}
        self.requests: list[tuple[str, dict, int]] = []

    def sign(self, url: str, params: dict) -> str:
        return RequestValidator(self.auth_token).compute_signature(url, params)

    def post(self, url: str, params: dict, *, signature: str | None = None, expect_ok: bool = True):
        if not url.startswith("http"):
            url = self.base_url + url
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        base = f"{parts.scheme}://{parts.netloc}"
        headers = {"X-Twilio-Signature": signature if signature is not None else self.sign(url, params)}
        response = self.client.post(path, data=params, headers=headers, base_url=base)
        self.requests.append((url, params, response.status_code))
        if expect_ok and response.status_code >= 400:
            raise AssertionError(f"POST {url} -> {response.status_code}: {response.get_data(as_text=True)}")
        return response

    def call(self, from_number: str = "+12125550142", to_number: str | None = None) -> "PhoneCall":
        call = PhoneCall(self, new_sid("CA"), from_number, to_number or self.number)
        call.dial()
        return call


@dataclass
class Pending:
    """Where the caller is waiting for input: a Gather, with what comes after it."""

    action: str
    finish_on_key: str | None
    num_digits: int | None
    rest: list[ET.Element]
    in_queue: bool


@dataclass
class PhoneCall:
    twilio: TwilioDouble
    call_sid: str
    from_number: str
    to_number: str
    heard: list[str] = field(default_factory=list)
    played: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    pending: Pending | None = None
    stream: ET.Element | None = None  # a <Connect><Stream> awaiting the media side
    queue: str | None = None
    queue_action: str | None = None
    wait_url: str | None = None
    ended: bool = False
    status: str = "in-progress"

    # ---- what a caller does -----------------------------------------------------------------

    def dial(self) -> None:
        self._fetch(self.twilio.base_url + "/voice/incoming", {})

    def press(self, digits: str) -> None:
        """Key digits at the current Gather. With finishOnKey '#', include the '#' to end early."""
        pending = self._take_pending()
        params = {"Digits": digits.rstrip(pending.finish_on_key or "") if pending.finish_on_key else digits}
        if pending.finish_on_key and digits.endswith(pending.finish_on_key):
            params["FinishedOnKey"] = pending.finish_on_key
        self._fetch(pending.action, params, in_queue=pending.in_queue)

    def wait(self) -> None:
        """Say and press nothing: the Gather times out and Twilio goes on with the next verb."""
        pending = self._take_pending()
        self._run(pending.rest, in_queue=pending.in_queue)

    def stream_ended(self) -> None:
        """The media stream closed (our server hung it up): Twilio requests <Connect action>."""
        connect = self.stream
        assert connect is not None, "no <Connect><Stream> is running"
        self.stream = None
        self._fetch(connect.attrib["action"], {})

    def hang_up(self) -> None:
        assert not self.ended, "the call has already ended"
        if self.queue is not None:
            self._leave_queue("hangup")
        self._end("completed")

    # ---- what the caller has heard --------------------------------------------------------------

    @property
    def last_heard(self) -> str:
        return self.heard[-1] if self.heard else ""

    def heard_text(self) -> str:
        return "\n".join(self.heard)

    def take_heard(self) -> str:
        text = self.heard_text()
        self.heard.clear()
        return text

    # ---- following TwiML ------------------------------------------------------------------------

    def _params(self) -> dict:
        return {
            "AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": self.call_sid,
            "CallStatus": self.status, "Direction": "inbound", "From": self.from_number, "To": self.to_number,
            "Caller": self.from_number, "Called": self.to_number,
        }

    def _fetch(self, url: str, extra: dict, in_queue: bool = False) -> None:
        response = self.twilio.post(url, {**self._params(), **extra})
        if response.status_code == 204 or not response.data:
            return
        document = response.get_data(as_text=True)
        self.documents.append(document)
        root = check(document)
        self._run(list(root), in_queue=in_queue, source_url=url)

    def _run(self, verbs: list[ET.Element], in_queue: bool, source_url: str | None = None) -> None:
        for index, verb in enumerate(verbs):
            if self.ended:
                return
            tag = verb.tag
            if tag == "Say":
                self.heard.append(verb.text or "")
            elif tag == "Play":
                self.played.append(verb.text or "")
            elif tag == "Pause":
                continue
            elif tag == "Gather":
                for child in verb:
                    if child.tag == "Say":
                        self.heard.append(child.text or "")
                self.pending = Pending(
                    action=verb.attrib.get("action") or source_url,
                    finish_on_key=verb.attrib.get("finishOnKey", "#"),
                    num_digits=int(verb.attrib["numDigits"]) if "numDigits" in verb.attrib else None,
                    rest=verbs[index + 1:],
                    in_queue=in_queue,
                )
                return
            elif tag == "Redirect":
                self._fetch(verb.text.strip(), {}, in_queue=in_queue)
                return
            elif tag == "Enqueue":
                assert not in_queue, "<Enqueue> inside a waitUrl document"
                self._enqueue(verb)
                return
            elif tag == "Leave":
                assert in_queue, "<Leave> outside a queue"
                self._leave_queue("leave")
                return
            elif tag == "Hangup":
                if self.queue is not None:
                    self._leave_queue("hangup")
                self._end("completed")
                return
            elif tag == "Connect":
                self.stream = verb
                return
            elif tag == "Dial":
                self.heard.append(f"[dial {ET.tostring(verb, encoding='unicode')}]")
                return
            else:
                raise AssertionError(f"the test double does not follow <{tag}>")
        if in_queue and self.queue is not None and not self.ended:
            # The waitUrl document ran out: Twilio requests the waitUrl again.
            self._fetch_wait()
        elif not in_queue and not self.ended and self.pending is None and self.stream is None:
            # End of the document: Twilio hangs up.
            self._end("completed")

    def _enqueue(self, verb: ET.Element) -> None:
        name = verb.text.strip()
        self.queue = name
        self.queue_action = verb.attrib.get("action")
        self.wait_url = verb.attrib.get("waitUrl")
        self.twilio.queues.setdefault(name, []).append(self.call_sid)
        self.twilio.queue_sids.setdefault(name, new_sid("QU"))
        self._fetch_wait()

    def _fetch_wait(self) -> None:
        members = self.twilio.queues[self.queue]
        extra = {
            "QueueSid": self.twilio.queue_sids[self.queue], "QueuePosition": str(members.index(self.call_sid) + 1),
            "QueueTime": "0", "AvgQueueTime": "0", "CurrentQueueSize": str(len(members)),
        }
        self._fetch(self.wait_url, extra, in_queue=True)

    def _leave_queue(self, result: str) -> None:
        name, action = self.queue, self.queue_action
        self.twilio.queues[name].remove(self.call_sid)
        self.queue = None
        self.pending = None
        if result == "hangup":
            # The caller is gone: Twilio tells the action URL, and nothing it answers is played.
            self.status = "completed"
            if action:
                self.twilio.post(action, {**self._params(), "QueueResult": result,
                                          "QueueSid": self.twilio.queue_sids[name], "QueueTime": "30"})
            return
        if action:
            self._fetch(action, {"QueueResult": result, "QueueSid": self.twilio.queue_sids[name], "QueueTime": "30"})

    def _end(self, status: str) -> None:
        if self.ended:
            return
        self.ended = True
        self.pending = None
        self.status = status
        self.twilio.post("/voice/status", {**self._params(), "CallStatus": status, "CallDuration": "60"})

    def _take_pending(self) -> Pending:
        assert not self.ended, "the call has ended"
        pending = self.pending
        assert pending is not None, f"the caller is not at a Gather; last heard: {self.last_heard!r}"
        self.pending = None
        return pending
