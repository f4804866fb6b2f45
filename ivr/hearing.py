"""Reading an answer: what the caller keyed or said at a step (`Heard`), what it means there
(`ivr.answers`), and the caller's path that records both."""
from __future__ import annotations

from dataclasses import dataclass

from ivr import answers, spoken, steps
from ivr.answers import Meaning
from phone_numbers import home_region
from storage.models import Call


@dataclass(frozen=True)
class Heard:
    """What the caller gave at a step: keyed digits, or what the recogniser heard."""

    digits: str | None = None
    transcript: str | None = None
    confidence: float | None = None


def heard(flow, call_sid: str, step: str, turn: int, digits: str | None, listened: bool) -> Heard | None:
    """Keys pressed on the Gather, or what the media stream stored for this step and turn (None while
    the caller is still saying it)."""
    if digits:
        return Heard(digits=digits)
    result = spoken.result(flow.session, call_sid, step, turn, flow.clock.now(), claim=listened)
    if result is None or result == spoken.SPEAKING:
        return None if result else Heard()
    return Heard(digits=result.digit, transcript=result.transcript, confidence=result.confidence)


def meaning(flow, call: Call, step: steps.Step, given: Heard) -> Meaning:
    ctx = answers.AnswerContext(
        config=flow.config, understanding=flow.understanding, language=call.language,
        skill=flow.config.skills.get(call.skill) if call.skill else None, now=flow.clock.now(),
        home_region=home_region(call.from_number, call.to_number),
        allowed_countries=flow.settings.allowed_countries, day_offset=call.scratch.get("day_offset", 0),
        earlier=answers.earlier_answer(call.scratch.get("path", []), step.name))
    if given.digits:
        return answers.from_keys(step, given.digits, ctx)
    if given.transcript and flow.understanding is not None:
        return answers.from_words(step, given.transcript, given.confidence, ctx)
    return answers.NOTHING


def remember(call: Call, step: steps.Step, given: Heard, meant: Meaning) -> None:
    """The caller's path: each question, what they keyed or said (with confidence), what it meant."""
    if given.digits:
        said = {"keys": given.digits}
    elif given.transcript:
        said = {"said": given.transcript, "confidence": given.confidence}
    else:
        said = {}
    record = {"step": step.name, "asked": step.prompt, **said}
    if step.expects.kind == steps.SKILL:
        record["need"] = True  # what they called about: the whisper repeats these words
    if meant.describe():
        record["meaning"] = meant.describe()
    call.scratch = {**call.scratch, "path": call.scratch.get("path", []) + [record]}
    if given.transcript and step.expects.kind == steps.SKILL:
        call.transcript, call.confidence = given.transcript, given.confidence
