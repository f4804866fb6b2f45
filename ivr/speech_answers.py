"""What a spoken answer stands for at a step, in the flow's own terms (the key a caller would press).

The decision itself is understanding.decision.decide(), shared with `flask ivr classify` and
`flask speech recognize`; this only translates it for the call flow:
  menu           -> the skill's digit, or "?<skill>" to ask "billing, is that right?"
  yes/no steps   -> "1" (yes) or "2" (no)
  number entry   -> the digits
  callback time  -> "@<ISO UTC>", "!<reason>" when that time cannot be booked, "1" for as soon as possible
"""
from __future__ import annotations

from datetime import datetime

from config import IvrConfig
from understanding.decision import context_from_config, decide


def interpret(step: str, transcript: str, confidence: float | None, language: str, skill: str | None,
              config: IvrConfig, now: datetime) -> str | None:
    context = context_from_config(config, skill, language)
    decision = decide(step, transcript, language, context, asr_confidence=confidence or 1.0, now=now)
    kind = decision["kind"]
    if kind == "menu":
        chosen = decision.get("skill")
        if not chosen:
            return None
        return f"?{chosen}" if decision.get("needs_confirmation") else config.skills[chosen].digit
    if kind == "yes_no":
        return {"yes": "1", "no": "2"}.get(decision.get("answer"))
    if kind == "digits":
        return decision.get("digits") or None
    if kind == "time":
        if decision.get("asap"):
            # "As soon as possible" is key 1 where that is the question; elsewhere it is no time.
            return "1" if step == "callback_when" else None
        if decision.get("callback_at"):
            return "@" + decision["callback_at"]
        # "format" means no time was heard at all: ask again rather than refuse a time.
        reason = decision.get("reason")
        return f"!{reason}" if reason and reason != "format" else None
    return None
