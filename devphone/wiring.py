"""The dev phone's Twilio: an emulator in this process that the running app talks to, on the app's
clock, and the browser phones on it (lines.py: the sessions' lines; phones.py: what the phones do;
relay.py: the emulator's events as the lines' events; agent_phone.py: the agent side).

On when DEV_PHONE=on, or when DEV_PHONE is unset and PUBLIC_BASE_URL is not (development). Then:
- without Twilio credentials the app's REST client is the emulator's (the dispatcher dials emulated
  phones, barge-in's calls(sid).update reaches the emulator), its webhook token is one made up at
  start (the emulator signs with it) and its number is the emulator's;
- the emulator requests the app over real HTTP at the address it serves (http://127.0.0.1:PORT),
  signing that URL, or PUBLIC_BASE_URL when it is set (sent to the local port all the same).

While a line has no event stream for ABANDONED_SECONDS its calls are hung up (nobody is there to hear
the prompts it paces).
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import replace

from clock import Clock
from config import ConfigError, Settings
from devphone.lines import Lines
from devphone.phones import Phones

log = logging.getLogger("ivr.devphone")

ON = ("on", "1", "true", "yes")
OFF = ("off", "0", "false", "no")
ABANDONED_SECONDS = 20.0


def wanted(settings: Settings) -> bool:
    value = (settings.dev_phone or "").strip().lower()
    if value in ON:
        return True
    if value in OFF:
        return False
    if value:
        raise ConfigError(f"DEV_PHONE must be on or off, not {settings.dev_phone!r}")
    return not settings.public_base_url


def local_base(settings: Settings) -> str:
    """Where this process serves HTTP, as seen from itself."""
    host = settings.host if settings.host not in ("", "0.0.0.0", "::", "[::]") else "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


class LazyClient:
    """A twilio.rest.Client made on first use (`client.calls.create(...)`, `client.calls(sid)...`)."""

    def __init__(self, build):
        self._build = build
        self._client = None

    def __getattr__(self, name: str):
        if self._client is None:
            self._client = self._build()
        return getattr(self._client, name)


class DevPhone:
    def __init__(self, settings: Settings, *, emulate_rest: bool, clock: Clock):
        from telephony.emulator import ACCOUNT_SID, DEFAULT_NUMBER, Emulator
        from telephony.transport import HttpTransport

        self.local_base = local_base(settings)
        self.public_base = (settings.public_base_url or self.local_base).rstrip("/")
        self.emulates_rest = emulate_rest
        self.clock = clock  # the app's: the emulator's records and callbacks carry its time
        token = settings.twilio_auth_token or secrets.token_hex(20)  # this process only; never logged
        number = settings.twilio_number or DEFAULT_NUMBER
        changes = {"twilio_auth_token": token}
        if emulate_rest:
            changes["twilio_number"] = number
        self.settings = replace(settings, **changes)
        # Built on first use (the page, or the app's first REST request): commands start without it.
        self._make_emulator = lambda: Emulator(
            token, self.public_base, transport=HttpTransport(self.public_base, self.local_base),
            account_sid=settings.twilio_account_sid or ACCOUNT_SID, number=number, clock=clock.now, strict=False)
        self._emulator = None
        # The app's first REST request (the dispatcher dialling, say) starts the live emulator too.
        self.client = LazyClient(self._started_client) if emulate_rest else None
        self.runtime = None
        self.lines = Lines()  # the emulator's listener takes their lock on its worker thread
        from routing.hours import DemoHours

        self.chat_secret = secrets.token_hex(20)  # the page's chat hand-over signs with it; never logged
        self.demo_hours = DemoHours()  # "open every team for this demo": create_app wires it into the skills
        self.phones = Phones(self)
        self._started = False
        self._stopping = threading.Event()

    @classmethod
    def for_app(cls, settings: Settings, twilio_client, clock: Clock) -> "DevPhone | None":
        """The dev phone for an app being built, or None when it is off."""
        if not wanted(settings):
            return None
        credentials = bool(settings.twilio_account_sid and settings.twilio_auth_token)
        return cls(settings, emulate_rest=twilio_client is None and not credentials, clock=clock)

    @property
    def emulator(self):
        with self.lines.lock:
            if self._emulator is None:
                self._emulator = self._make_emulator()
            return self._emulator

    def _started_client(self):
        self.start()
        return self.emulator.client()

    def describe(self) -> str:
        what = ("Twilio is emulated in this process: webhooks are signed with a token made up at start and "
                "callbacks ring the dev phone" if self.emulates_rest else
                "it calls the IVR through an emulated Twilio; callbacks still go through your Twilio account")
        return f"Dev phone: {self.local_base}/dev-phone ({what})"

    # ---- running ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the emulator's live driver (on first use of the page's API)."""
        from devphone.relay import EventRelay

        with self.lines.lock:
            if self._started:
                return
            self._started = True
        self.emulator.subscribe(EventRelay(self.lines, self.emulator, self._stopping).on_event)
        self.emulator.start_live()
        threading.Thread(target=self._janitor, name="devphone-janitor", daemon=True).start()

    @property
    def stopping(self) -> bool:
        """The app is stopping: event streams end (the page reconnects to the next process)."""
        return self._stopping.is_set()

    def stop(self) -> None:
        self._stopping.set()
        if self._emulator is not None:
            self._emulator.close()

    def _janitor(self) -> None:
        while not self._stopping.wait(2.0):
            try:
                self.hang_up_abandoned()
            except Exception:  # noqa: BLE001 - keep watching
                log.exception("dev phone janitor")

    def hang_up_abandoned(self, now: float | None = None) -> int:
        """Hang up the calls of lines nobody has watched for ABANDONED_SECONDS."""
        now = time.monotonic() if now is None else now
        ended = 0
        with self.lines.lock:
            for line in self.lines.all():
                if line.streams or now - line.last_seen < ABANDONED_SECONDS:
                    continue
                for view in line.calls.values():
                    if view.ended or view.hung_up_for_nobody or view.sid not in self.emulator.calls:
                        continue
                    view.hung_up_for_nobody = True
                    self.emulator.live_hang_up(view.sid)
                    ended += 1
        return ended
