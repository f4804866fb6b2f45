"""<Say>: text spoken by Twilio's voice (about 2.7 words a second), `loop` times (0: until something
else happens)."""
from __future__ import annotations

from telephony.emulator.basics import prompt_seconds
from telephony.emulator.verbs.segment import follow  # noqa: F401 - prompts in a row play as one Segment
from telephony.emulator.waits import Prompt


def prompts(call, verb, in_gather: bool) -> list[Prompt]:
    text = (verb.text or "").strip()
    return Prompt.looped("say", text, prompt_seconds(text), in_gather, verb)
