"""One Twilio account, the emulator's front door: its numbers (and where they point at the app), the
phones that answer calls, the calls, queues and conferences, the REST API; the time on the network,
who listens to what happens, and both drivers behind one lock."""
from __future__ import annotations

import logging
import math
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from clock import Clock
from telephony.emulator import stepped
from telephony.emulator.basics import ACCOUNT_SID, ANSWERS, DEFAULT_NUMBER
from telephony.emulator.call import Call
from telephony.emulator.events import Events
from telephony.emulator.exchange import Exchange, Phone
from telephony.emulator.live import LiveDriver
from telephony.emulator.program import start
from telephony.emulator.queues import Conference, Queue
from telephony.emulator.rest_side import RestSide
from telephony.emulator.streams import stop_all
from telephony.emulator.waits import Target
from telephony.emulator.webhooks import Webhooks
from telephony.rest import RestApi
from telephony.transport import Transport

log = logging.getLogger("telephony")


class Emulator:
    def __init__(self, auth_token: str, public_base: str, *, transport: Transport | None = None,
                 account_sid: str = ACCOUNT_SID, number: str = DEFAULT_NUMBER,
                 voice_path: str = "/voice/incoming", status_path: str = "/voice/status",
                 clock: Callable | None = None, state_path=None, strict: bool = True,
                 default_answer: str = "manual", media_paced: bool = True):
        self.auth_token = auth_token
        self.public_base = public_base.rstrip("/")
        self.base_url = self.public_base
        self.transport = transport
        self.account_sid = account_sid
        self.number = number
        self.voice_path = voice_path
        self.status_path = status_path
        self.clock = clock or Clock().now
        self.strict = strict  # a 4xx/5xx or refused TwiML raises WebhookError (tests); else Twilio's behaviour
        self.default_answer = default_answer
        self.media_paced = media_paced  # the caller's speech at 20 ms a frame, as on a phone line
        self.media_keepalive = True  # silence between utterances, as on a phone line
        self.play_seconds = 3.0
        self.live = False
        self.calls: dict[str, Call] = {}
        self.phones: dict[str, Phone] = {}
        self.numbers: dict[str, dict] = {}
        self.queue_map: dict[str, Queue] = {}
        self.conferences: dict[str, Conference] = {}
        self.messages: list[dict] = []
        self.depth = 0  # > 0 while a call's program runs (no settling from inside it)
        self._lock = threading.RLock()
        self._virtual = 0.0
        self._t0 = time.monotonic()
        self._listeners: list[Callable[[dict], None]] = []
        self.webhooks = Webhooks(self)
        self.events = Events()
        self.exchange = Exchange(self)
        self.live_driver = LiveDriver(self)
        self.rest = RestApi(account_sid, clock=self.clock, state_path=state_path, network=RestSide(self))

    # ---- set-up ---------------------------------------------------------------------------------------

    def attach(self, transport: Transport) -> "Emulator":
        self.transport = transport
        return self

    def client(self):
        """A twilio.rest.Client whose requests this emulator answers."""
        return self.rest.client(self.auth_token)

    def share_state(self, path) -> RestApi:
        """Keep the REST API's records in a file other processes' RestApi(state_path=...) share."""
        self.rest.state_path = Path(path)
        return self.rest

    def phone(self, address: str, answer: str = "manual", ring_seconds: float = 2.0) -> Phone:
        if answer not in ANSWERS:
            raise ValueError(f"answer must be one of {ANSWERS}")
        self.phones[address] = Phone(address, answer, ring_seconds)
        return self.phones[address]

    def voice_url_for(self, number: str) -> str:
        return self.numbers.get(number, {}).get("voice_url") or self.public_base + self.voice_path

    def status_url_for(self, number: str) -> str | None:
        found = self.numbers.get(number, {})
        return found.get("status_url", self.public_base + self.status_path if self.status_path else None)

    def close(self) -> None:
        self.stop_live()
        for call in list(self.calls.values()):
            stop_all(call, report_stopped=False)
        if self.transport is not None:
            self.transport.close()

    # ---- webhooks (webhooks.py) -----------------------------------------------------------------------

    def sign(self, url: str, params: dict) -> str:
        return self.webhooks.sign(url, params)

    def post(self, url: str, params: dict, *, signature: str | None = None, expect_ok: bool = True):
        """Send one signed webhook as Twilio would (tests use this for requests no call makes)."""
        return self.webhooks.post(url, params, signature=signature, expect_ok=expect_ok)

    @property
    def requests(self) -> list[tuple[str, dict, int]]:
        return self.webhooks.requests

    def deliver_twice(self, url_contains: str = "", times: int = 1) -> None:
        """The next matching webhook is delivered twice (Twilio retries when it got no answer in time);
        the answer to the second delivery is the one followed."""
        self.webhooks.deliver_twice(url_contains, times)

    # ---- queues and conferences (queues.py) -----------------------------------------------------------

    def queue(self, name: str) -> Queue:
        if name not in self.queue_map:
            self.queue_map[name] = Queue(name, self.now)
        return self.queue_map[name]

    @property
    def queues(self) -> dict[str, list[str]]:
        """Who waits in each queue (call SIDs, front first)."""
        return {name: [c.sid for c in q.members] for name, q in self.queue_map.items()}

    @property
    def queue_sids(self) -> dict[str, str]:
        return {name: q.sid for name, q in self.queue_map.items()}

    def conference(self, name: str) -> Conference:
        if name not in self.conferences:
            self.conferences[name] = Conference(name)
        return self.conferences[name]

    def drop_queue_member(self, name: str, call_sid: str) -> None:
        """Fault injection: Twilio's queue no longer holds this caller, though the call goes on."""
        with self.driving():
            queue = self.queue_map[name]
            queue.members = [c for c in queue.members if c.sid != call_sid]

    # ---- calls (exchange.py; the stepped driver: stepped.py) ------------------------------------------

    def call(self, from_number: str = "+12125550142", to_number: str | None = None) -> Call:
        """A caller dials one of the account's numbers; Twilio requests its voice URL."""
        to_number = to_number or self.number
        with self.driving():
            stepped.settle(self)
            call = self.exchange.call_in(from_number, to_number)
            start(call, Target(self.voice_url_for(to_number), "POST"))
            stepped.settle(self)
        return call

    def legs_to(self, address: str) -> list[Call]:
        self.run()
        return [c for c in self.calls.values() if c.to_number == address and c.direction != "inbound"]

    def leg(self, sid: str) -> Call:
        """The call with this SID; a call another process created through the shared REST records is
        taken on here (it rings)."""
        self.run()
        if sid not in self.calls:
            with self.driving():
                self.exchange.dial_out(self.rest.call(sid), adopt=True)
                stepped.settle(self)
        return self.calls[sid]

    def run(self) -> None:
        """Apply whatever arrived (REST requests, streams closed) and run until every call waits again."""
        stepped.run(self)

    @contextmanager
    def driving(self):
        with self._lock:
            yield

    # ---- time -------------------------------------------------------------------------------------------

    def now(self) -> float:
        """Seconds on the network: virtual in the stepped driver, real in the live one."""
        return time.monotonic() - self._t0 if self.live else self._virtual

    def advance_time(self, seconds: float) -> None:
        if not self.live and math.isfinite(seconds):
            self._virtual += seconds

    def start_real_time(self) -> None:
        self._t0 = time.monotonic()

    # ---- who hears what happens -------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[dict], None]) -> None:
        self._listeners.append(listener)

    def notify(self, kind: str, call: Call | None, **details) -> None:
        if not self._listeners:
            return
        event = {"type": kind, "call_sid": call.sid if call else None, "to": call.to_number if call else None,
                 "from": call.from_number if call else None, **details}
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a listener must not break the telephone network
                log.exception("emulator listener failed")

    def changed(self, call: Call) -> None:
        """What `call` waits for changed: the live driver arms its timer; listeners hear its state."""
        if self.live:
            self.live_driver.arm(call)
        self.notify("state", call, wait=call.describe_wait(), queue=call.queue, conference=call.conference)

    # ---- the live driver (live.py) ----------------------------------------------------------------------

    def start_live(self) -> "Emulator":
        """Run a worker thread with real timers; caller actions come through live_* methods."""
        self.live_driver.start()
        return self

    def stop_live(self) -> None:
        self.live_driver.stop()

    def live_call(self, from_number: str, to_number: str | None = None, client_paces_prompts: bool = False) -> str:
        """A caller dials in; returns the CallSid at once (the worker requests the voice URL). With
        `client_paces_prompts` a prompt lasts until `live_prompt_done` (a browser speaking it)."""
        return self.live_driver.call(from_number, to_number or self.number, client_paces_prompts)

    def live_press(self, sid: str, digit: str) -> None:
        """A key, now: it lands on whatever plays or waits at this moment (barge-in as on Twilio)."""
        self.live_driver.press(sid, digit)

    def live_hang_up(self, sid: str) -> None:
        self.live_driver.hang_up(sid)

    def live_answer(self, sid: str, answered_by: str | None = None) -> None:
        self.live_driver.answer(sid, answered_by)

    def live_audio(self, sid: str, mulaw: bytes) -> None:
        """The caller's microphone (8 kHz mu-law): onto every stream that carries the caller."""
        self.live_driver.audio(sid, mulaw)

    def live_prompt_done(self, sid: str, index: int | None = None) -> None:
        """A client that speaks prompts itself says when one ended."""
        self.live_driver.prompt_done(sid, index)
