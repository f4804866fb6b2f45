"""<Pause length>: silence (default 1 second); a key during it is lost outside a Gather."""
from __future__ import annotations

from telephony.emulator.verbs.segment import follow  # noqa: F401 - prompts in a row play as one Segment
from telephony.emulator.waits import Prompt


def prompts(call, verb, in_gather: bool) -> list[Prompt]:
    return [Prompt("pause", "", float(verb.attrib.get("length", "1")), in_gather)]
