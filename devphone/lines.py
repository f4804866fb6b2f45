"""The browser phones' lines. A browser session (its cookie) has one `Line`: the customer's number, the
agent it stands in for, the calls it sees and may act on, and a numbered list of events for its event
stream. Calls it places are its own; calls the app places ring the line whose customer number or agent
address they are to."""
from __future__ import annotations

import itertools
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from devphone.refused import Refused

EVENTS_KEPT = 1000
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


@dataclass
class CallView:
    """What a line knows about one of its calls."""

    sid: str
    phone: str  # customer | agent
    direction: str  # inbound: the customer rang the IVR; outbound: the app rang this phone
    status: str = "ringing"
    language: str | None = None
    prompts: dict = field(default_factory=dict)  # prompt id -> (segment, index in it)
    playing: dict | None = None  # the prompt event now playing (the page speaks it)
    state: dict = field(default_factory=dict)
    linked: list = field(default_factory=list)
    hung_up_for_nobody: bool = False
    to: str | None = None  # the number or address it rings (calls the app placed)

    @property
    def ended(self) -> bool:
        return self.status in ("completed", "busy", "failed", "no-answer", "canceled")

    def summary(self) -> dict:
        return {"call_sid": self.sid, "phone": self.phone, "direction": self.direction, "status": self.status,
                "language": self.language, "playing": self.playing, "state": self.state, "with": self.linked,
                "to": self.to}


class Line:
    def __init__(self, key: str):
        self.key = key
        self.customer: str | None = None
        self.agent_id: int | None = None
        self.agent_address: str | None = None
        self.calls: dict[str, CallView] = {}
        self.events: deque = deque(maxlen=EVENTS_KEPT)
        self.streams = 0
        self.tab: str | None = None
        self.last_seen = time.monotonic()
        self.placing: tuple[str, str] | None = None  # (from, to) of the call being placed just now
        self.last_called = 0.0  # when its customer phone last called the IVR (monotonic; 0: never)


class Lines:
    """Every browser session's line, behind one lock (the emulator's listener takes it on its worker
    thread); `changed` wakes the event streams waiting for a line's next event."""

    def __init__(self):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._lines: dict[str, Line] = {}
        self._ids = itertools.count(1)
        self.epoch = secrets.token_hex(4)  # names this process's event numbering

    def line(self, key: str) -> Line:
        with self.lock:
            if key not in self._lines:
                self._lines[key] = Line(key)
            return self._lines[key]

    def all(self) -> list[Line]:
        return list(self._lines.values())

    def set_customer(self, line: Line, number: str) -> None:
        number = (number or "").strip()
        if not E164.match(number):
            raise Refused("The caller's number must be in international format: + and 7 to 15 digits.")
        with self.lock:
            line.customer = number

    def set_agent(self, line: Line, agent_id: int | None, address: str | None) -> None:
        with self.lock:
            line.agent_id, line.agent_address = agent_id, address

    def tune_in(self, line: Line, tab: str) -> None:
        """An event stream opened for `tab`: it becomes the page that plays this line."""
        with self.lock:
            line.streams += 1
            line.last_seen = time.monotonic()
            if line.tab != tab:
                line.tab = tab
                self.push(line, {"type": "tab", "tab": tab})

    def tune_out(self, line: Line) -> None:
        with self.lock:
            line.streams -= 1
            line.last_seen = time.monotonic()

    def events_after(self, line: Line, last_id: int, timeout: float) -> list[dict]:
        with self.changed:
            if not line.events or line.events[-1]["id"] <= last_id:
                self.changed.wait(timeout)
            return [e for e in line.events if e["id"] > last_id]

    def snapshot(self, line: Line) -> dict:
        with self.lock:
            return {"id": line.events[-1]["id"] if line.events else 0, "customer": line.customer,
                    "agent_id": line.agent_id, "tab": line.tab,
                    "calls": [v.summary() for v in line.calls.values() if not v.ended]}

    def push(self, line: Line, event: dict) -> None:
        event["id"] = next(self._ids)
        line.events.append(event)
        self.changed.notify_all()

    def register_placed(self, line: Line, sid: str, from_number: str, to_number: str) -> CallView:
        view = line.calls[sid] = CallView(sid, "customer", "inbound", status="ringing")
        self.push(line, {"type": "placed", "call_sid": sid, "phone": "customer", "to": to_number,
                         "from": from_number})
        return view

    def owner(self, sid: str | None, event: dict):
        """The line and view of call `sid`; a call the app placed ringing a line's phone becomes its."""
        for line in self._lines.values():
            if sid in line.calls:
                return line, line.calls[sid]
        for line in self._lines.values():
            if line.placing and event["type"] != "ringing" and (event.get("from"), event.get("to")) == line.placing:
                return line, self.register_placed(line, sid, *line.placing)
        if event["type"] != "ringing":
            return None, None
        # A call the app placed: the phone whose number (customer) or address (agent) it rings.
        candidates = sorted(self._lines.values(), key=lambda l: -l.last_seen)
        for line in candidates:
            if line.customer and event["to"] == line.customer:
                phone = "customer"
            elif line.agent_address and event["to"] == line.agent_address:
                phone = "agent"
            else:
                continue
            view = line.calls[sid] = CallView(sid, phone, "outbound", to=event["to"])
            return line, view
        # Any other number (a callback to the number a caller gave): the customer phone that last called
        # the IVR answers for it, and says which number is ringing.
        callers = [line for line in self._lines.values() if line.last_called]
        if callers and E164.match(event.get("to") or ""):
            line = max(callers, key=lambda l: l.last_called)
            view = line.calls[sid] = CallView(sid, "customer", "outbound", to=event["to"])
            return line, view
        return None, None
