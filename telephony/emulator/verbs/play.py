"""<Play>: an audio URL (its length is the account's `play_seconds`), `loop` times (0: until something
else happens), or `digits` played as tones."""
from __future__ import annotations

from telephony.emulator.verbs.segment import follow  # noqa: F401 - prompts in a row play as one Segment
from telephony.emulator.waits import Prompt


def prompts(call, verb, in_gather: bool) -> list[Prompt]:
    digits = verb.attrib.get("digits")
    if digits:
        return [Prompt("play", f"digits {digits}", 0.1 * len(digits), in_gather)]
    return Prompt.looped("play", (verb.text or "").strip(), call.emulator.play_seconds, in_gather, verb)
