"""One Twilio account, the emulator's front door: what tests, the dev phone and the app's REST client
use, each job done by a collaborator with one job:

- `directory` (directory.py): the numbers and where they point at the app, the phones that answer;
- `exchange` (exchange.py): calls placed and rung; `events` (events.py) and the drivers apply what
  reaches a call: stepped.py (virtual time) or `live_driver` (live.py, real timers);
- `rooms` (queues.py): queues and conference rooms; `webhooks` (webhooks.py): the signed requests;
- `rest` (telephony/rest.py) with rest_side.py: the REST API, and the texts sent through it (`messages`);
- `time` (network_time.py): seconds on the network; `listeners` (listeners.py): who hears what happens.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from clock import Clock
from telephony.emulator import stepped
from telephony.emulator.basics import ACCOUNT_SID, DEFAULT_NUMBER
from telephony.emulator.call import Call
from telephony.emulator.directory import Directory
from telephony.emulator.events import Events
from telephony.emulator.exchange import Exchange, Phone
from telephony.emulator.listeners import Listeners
from telephony.emulator.live import LiveDriver
from telephony.emulator.network_time import NetworkTime
from telephony.emulator.program import start
from telephony.emulator.queues import Conference, Rooms
from telephony.emulator.rest_side import RestSide
from telephony.emulator.streams import stop_all
from telephony.emulator.waits import Target
from telephony.emulator.webhooks import Webhooks
from telephony.rest import RestApi
from telephony.transport import Transport


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
        self.clock = clock or Clock().now
        self.strict = strict  # a 4xx/5xx or refused TwiML raises WebhookError (tests); else Twilio's behaviour
        self.default_answer = default_answer
        self.media_paced = media_paced  # the caller's speech at 20 ms a frame, as on a phone line
        self.media_keepalive = True  # silence between utterances, as on a phone line
        self.play_seconds = 3.0
        self.calls: dict[str, Call] = {}
        self.messages: list[dict] = []
        self.depth = 0  # > 0 while a call's program runs (no settling from inside it)
        self._lock = threading.RLock()
        self.time = NetworkTime()
        self.directory = Directory(self.public_base, voice_path, status_path)
        self.phones: dict[str, Phone] = self.directory.phones
        self.numbers: dict[str, dict] = self.directory.numbers
        self.rooms = Rooms(self.now)
        self.listeners = Listeners(self)
        self.webhooks = Webhooks(self)
        self.events = Events()
        self.exchange = Exchange(self)
        self.live_driver = LiveDriver(self)
        self.rest = RestApi(account_sid, clock=self.clock, state_path=state_path, network=RestSide(self))

    @property
    def live(self) -> bool:
        """True once the live driver runs (real time, a worker thread); else the stepped driver."""
        return self.time.live

    def now(self) -> float:
        """Seconds on the network: virtual in the stepped driver, real in the live one."""
        return self.time.now()

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
        return self.directory.phone(address, answer, ring_seconds)

    def subscribe(self, listener: Callable[[dict], None]) -> None:
        self.listeners.subscribe(listener)

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

    @property
    def conferences(self) -> dict[str, Conference]:
        return self.rooms.conferences

    @property
    def queues(self) -> dict[str, list[str]]:
        """Who waits in each queue (call SIDs, front first)."""
        return self.rooms.members()

    @property
    def queue_sids(self) -> dict[str, str]:
        return self.rooms.sids()

    def drop_queue_member(self, name: str, call_sid: str) -> None:
        """Fault injection: Twilio's queue no longer holds this caller, though the call goes on."""
        with self.driving():
            self.rooms.drop_member(name, call_sid)

    # ---- calls (exchange.py; the stepped driver: stepped.py) ------------------------------------------

    def call(self, from_number: str = "+12125550142", to_number: str | None = None) -> Call:
        """A caller dials one of the account's numbers; Twilio requests its voice URL."""
        to_number = to_number or self.number
        with self.driving():
            stepped.settle(self)
            call = self.exchange.call_in(from_number, to_number)
            start(call, Target(self.directory.voice_url_for(to_number), "POST"))
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
