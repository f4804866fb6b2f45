"""What a call's program waits for (yielded by the verbs), and what is thrown into it from outside
(a hang-up, an update of the live call, a dequeue)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field, make_dataclass

from telephony.emulator.queues import Conference, Queue
from telephony.media import MediaStream

# "Call" below is telephony.emulator.call.Call (not imported: call.py builds on this module).

# ---- what is thrown into a call's program ---------------------------------------------------------


class Interrupt(Exception):
    pass


class HungUp(Interrupt):
    def __init__(self, status: str = "completed"):
        super().__init__(status)
        self.status = status


@dataclass
class Target:
    """The next document: a URL to fetch (with extra parameters) or TwiML given inline."""

    url: str | None = None
    method: str = "POST"
    params: dict = field(default_factory=dict)
    twiml: str | None = None


class Redirected(Interrupt):
    def __init__(self, target: Target):
        super().__init__(target.url or "twiml")
        self.target = target


class Dequeued(Interrupt):
    def __init__(self, by: "Call", url: str | None, method: str):
        super().__init__(by.sid)
        self.by, self.url, self.method = by, url, method


class RemovedFromQueue(Interrupt):
    def __init__(self, url: str, method: str):
        super().__init__(url)
        self.url, self.method = url, method


class LeaveQueue(Exception):
    """<Leave> in a queue's wait document."""


# ---- what a call waits for --------------------------------------------------------------------------

@dataclass(eq=False)
class Prompt:
    kind: str  # say | play | pause
    text: str
    seconds: float
    in_gather: bool
    voice: str | None = None
    language: str | None = None

    @classmethod
    def looped(cls, kind: str, text: str, seconds: float, in_gather: bool, verb) -> list["Prompt"]:
        """A <Say> or <Play> with its `loop` (0: until something else happens)."""
        loop = int(verb.attrib.get("loop", "1") or 1)
        voice, language = verb.attrib.get("voice"), verb.attrib.get("language")
        if loop == 0:
            return [cls(kind, text, math.inf, in_gather, voice, language)]
        return [cls(kind, text, seconds, in_gather, voice, language) for _ in range(loop)]


@dataclass(eq=False)
class GatherSpec:
    action: str
    method: str
    num_digits: int | None
    finish_on_key: str
    timeout: float
    dtmf: bool
    action_on_empty: bool
    prompted: bool


@dataclass(eq=False)
class Segment:
    """Prompts that play one after the other, maybe ending in a Gather's input window."""

    items: list[Prompt]
    gather: GatherSpec | None
    pos: int = 0
    announced: list[int] = field(default_factory=list)  # indexes into call.heard, per say item
    logged: list[int] = field(default_factory=list)  # and into call.log

    @property
    def listening(self) -> bool:
        return self.gather is not None and self.gather.dtmf

    @property
    def finite(self) -> bool:
        return all(math.isfinite(p.seconds) for p in self.items)

    @property
    def silent(self) -> bool:
        return all(p.kind == "pause" for p in self.items)


def _wait(name: str, doc: str, *fields) -> type:
    """One kind of wait: a plain record of what the call waits on (compared by identity, as the verbs
    yield each one once)."""
    kind = make_dataclass(name, fields, eq=False)
    kind.__doc__, kind.__module__ = doc, __name__
    return kind


GatherInput = _wait("GatherInput", "A Gather's input window is open (its prompts are over): keys, or its timeout.",
                    ("gather", GatherSpec), ("digits", str))
StreamBlock = _wait("StreamBlock", "A <Connect><Stream> until the app closes the socket.", ("stream", MediaStream))
QueueRefetch = _wait("QueueRefetch", "Stepped driver: a queue's wait document ran out; `wait()` fetches it again.",
                     ("queue", Queue))
Ringing = _wait("Ringing", "A <Dial>led party's phone rings, up to the Dial's timeout.",
                ("child", "Call"), ("timeout", float))
QueueDial = _wait("QueueDial", "<Dial><Queue> on an empty queue: until someone joins it, up to the Dial's timeout.",
                  ("queue", Queue), ("timeout", float))
Talking = _wait("Talking", "A conversation: with a bridged peer, or in a conference room.",
                ("peer", "Call | None", None), ("conference", Conference | None, None))
