"""Twilio's REST side of callbacks: placing the agent and customer legs, steering live calls, SMS.

Flask-free. Every URL handed to Twilio names the entry and the claim ("leg") it belongs to, so a
status callback that arrives late, twice or for an old attempt is recognised and ignored, and a
call whose SID we never stored (the process died right after calls.create) can still be matched.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from twilio.base.exceptions import TwilioException, TwilioRestException

from clock import Clock
from instruments import twilio_error

log = logging.getLogger("ivr.dialing")

ENDED = ("completed", "busy", "failed", "no-answer", "canceled")
# One page of Twilio's call list (its maximum), and how many pages a reconciliation reads at most.
LIST_PAGE = 1000
LIST_PAGES = 3


class DialFailed(RuntimeError):
    """Twilio refused or could not be reached; `permanent` when retrying the same request cannot help.
    `outage` names a failure of the account rather than of this call ("credentials": Twilio refused our
    account SID or token; "unreachable": no answer from Twilio at all): callbacks/dispatch/outage.py."""

    def __init__(self, message: str, permanent: bool = False, outage: str | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.outage = outage


def _refused_credentials(exc: TwilioRestException) -> bool:
    return exc.status in (401, 403) or exc.code == 20003


class OutboundLinks:
    """Absolute URLs of webhooks/outbound.py, built on PUBLIC_BASE_URL."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")

    def _leg(self, side: str, public_id: str, leg: int, what: str) -> str:
        return f"{self.base}/outbound/{side}/{public_id}/{leg}/{what}"

    def agent(self, public_id: str, leg: int, what: str) -> str:
        return self._leg("agent", public_id, leg, what)

    def customer(self, public_id: str, leg: int, what: str) -> str:
        return self._leg("customer", public_id, leg, what)


@dataclass
class PlacedCall:
    sid: str
    status: str


@dataclass
class CallRecord:
    """One call as Twilio's call list shows it."""

    sid: str
    status: str
    to: str | None
    direction: str | None
    created: datetime | None

    @classmethod
    def of(cls, call) -> "CallRecord":
        return cls(call.sid, call.status, call.to, call.direction, call.date_created)


def first_placed(calls, to: str, since: datetime) -> PlacedCall | None:
    """Of Twilio's records, the first call we placed through the API to `to` at or after `since` (a second's
    slack: Twilio's times are whole seconds)."""
    mine = [c for c in calls if c.to == to and (c.direction or "").startswith("outbound-api")
            and (c.created is None or c.created >= since - timedelta(seconds=1))]
    if not mine:
        return None
    first = sorted(mine, key=lambda c: c.created or since)[0]
    return PlacedCall(first.sid, first.status)


@dataclass(eq=False)
class Dialer:
    """The Twilio REST calls the dispatcher makes. `client` is a twilio.rest.Client."""

    client: object
    from_number: str | None
    links: OutboundLinks
    clock: Clock
    messaging_number: str | None = None
    ring_seconds: int = 20

    @property
    def ready(self) -> bool:
        return self.client is not None and bool(self.from_number)

    def _create(self, **kwargs) -> PlacedCall:
        try:
            call = self.client.calls.create(from_=self.from_number, **kwargs)
        except TwilioRestException as exc:
            twilio_error(exc)
            if _refused_credentials(exc):
                raise DialFailed(f"Twilio refused our credentials: {exc.msg}", outage="credentials") from exc
            # 4xx: the request itself is wrong (bad number, unverified caller id); 5xx/429: try later.
            permanent = 400 <= (exc.status or 500) < 500 and exc.status != 429
            raise DialFailed(f"Twilio refused the call to {kwargs.get('to')}: {exc.msg}", permanent) from exc
        except (TwilioException, OSError) as exc:
            twilio_error(exc)
            raise DialFailed(f"Twilio could not be reached: {exc}", outage="unreachable") from exc
        return PlacedCall(call.sid, call.status)

    def probe(self) -> None:
        """Ask Twilio something harmless (the latest call of the account): raises DialFailed with
        `outage` while Twilio is unreachable or refuses our credentials."""
        try:
            self.client.calls.list(limit=1)
        except TwilioException as exc:
            # A list page that is not 200 comes as TwilioException("Unable to fetch page", response).
            response = exc.args[1] if len(exc.args) > 1 else None
            if getattr(response, "status_code", None) in (401, 403):
                raise DialFailed("Twilio refused our credentials", outage="credentials") from exc
            raise DialFailed(f"Twilio could not be reached: {exc.args[0]}", outage="unreachable") from exc
        except OSError as exc:
            raise DialFailed(f"Twilio could not be reached: {exc}", outage="unreachable") from exc

    def call_agent(self, address: str, public_id: str, leg: int) -> PlacedCall:
        """Ring the agent; when they answer, Twilio fetches the whisper."""
        return self._create(
            to=address, url=self.links.agent(public_id, leg, "answer"), method="POST",
            status_callback=self.links.agent(public_id, leg, "status"), status_callback_method="POST",
            status_callback_event=["initiated", "ringing", "answered", "completed"], timeout=self.ring_seconds,
        )

    def call_customer(self, number: str, public_id: str, leg: int) -> PlacedCall:
        """Ring the customer with asynchronous answering-machine detection (they hear us at once)."""
        return self._create(
            to=number, url=self.links.customer(public_id, leg, "answer"), method="POST",
            status_callback=self.links.customer(public_id, leg, "status"), status_callback_method="POST",
            status_callback_event=["initiated", "ringing", "answered", "completed"], timeout=30,
            machine_detection="DetectMessageEnd", async_amd="true",
            async_amd_status_callback=self.links.customer(public_id, leg, "amd"),
            async_amd_status_callback_method="POST",
        )

    def steer(self, call_sid: str, twiml: str) -> bool:
        """Replace what a live call is doing with `twiml`. False when the call has already ended."""
        try:
            self.client.calls(call_sid).update(twiml=twiml)
            return True
        except TwilioRestException as exc:
            twilio_error(exc)
            log.info("could not steer call %s: %s", call_sid, exc.msg)
            return False

    def end(self, call_sid: str, ringing: bool = False) -> bool:
        try:
            self.client.calls(call_sid).update(status="canceled" if ringing else "completed")
            return True
        except TwilioRestException as exc:
            twilio_error(exc)
            log.info("could not end call %s: %s", call_sid, exc.msg)
            return False

    def fetch_status(self, call_sid: str) -> str | None:
        try:
            return self.client.calls(call_sid).fetch().status
        except TwilioRestException as exc:
            if exc.status == 404:
                return None
            raise

    def find_call(self, to: str, since: datetime) -> PlacedCall | None:
        """The call we placed to `to` at or after `since` (reconciling a claim whose SID was never stored)."""
        calls = self.client.calls.list(to=to, start_time_after=since - timedelta(seconds=1), limit=20)
        # Only calls we placed through the API since the claim (filtered here too: Twilio's StartTime filter
        # is by day); the agent is reserved for this entry.
        return first_placed([CallRecord.of(c) for c in calls], to, since)

    def placed_since(self, since: datetime, wanted: set[str]) -> dict[str, CallRecord]:
        """Twilio's records of the calls this number placed since `since`'s day (Twilio filters StartTime by
        UTC day), by SID: one list request of up to LIST_PAGE calls, a further page (at most LIST_PAGES) only
        while a SID in `wanted` is still missing. What is not in it is asked about call by call."""
        if not self.from_number:
            return {}
        day = datetime.combine(since.astimezone(timezone.utc).date(), time(), tzinfo=timezone.utc)
        found: dict[str, CallRecord] = {}
        page = self.client.calls.page(from_=self.from_number, start_time_after=day, page_size=LIST_PAGE)
        for _ in range(LIST_PAGES):
            found.update((call.sid, CallRecord.of(call)) for call in page)
            if wanted <= found.keys():
                break
            page = page.next_page()
            if page is None:
                break
        return found

    def text(self, to: str, body: str) -> bool:
        """An SMS, when a messaging number is configured. Never fails the callback itself."""
        if not self.messaging_number or self.client is None:
            return False
        try:
            self.client.messages.create(to=to, from_=self.messaging_number, body=body)
            return True
        except (TwilioException, OSError) as exc:
            twilio_error(exc)
            log.warning("SMS to %s failed: %s", to, exc)
            return False
