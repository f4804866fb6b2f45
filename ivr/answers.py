"""What an answer means at a step: keys or words in, one `Meaning` out (see ivr.steps for the meanings).

Keys are read by the step's answer kind; words go through `understanding` (the one module that
understands callers, for every channel). A spoken single digit ("two") at a key question counts
as that key, so callers can answer "press 1 for yes" by saying "one".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping
from datetime import datetime, timedelta

from phone_numbers import NumberRefused, normalise
from config import IvrConfig, Skill
from ivr import steps
from routing import hours
from understanding.answers import confirm_below, plain_yes_no


@dataclass(frozen=True)
class Meaning:
    kind: str
    value: object = None

    def describe(self) -> str | None:
        """A short, JSON-safe form for the caller's path (skill name, yes, an ISO time, a number...)."""
        if self.kind == "unclear" and self.value is not None:
            return f"doubtful: {self.value}"  # a doubtful yes or no, asked again (_doubted)
        if self.kind in ("nothing", "unclear"):
            return None
        if isinstance(self.value, datetime):
            return self.value.isoformat()
        if self.value is None or self.kind in ("day",):
            return self.kind
        return str(self.value) if self.kind in ("skill", "unsure", "number", "language") else \
            f"{self.kind}: {self.value}"


NOTHING = Meaning("nothing")
UNCLEAR = Meaning("unclear")


@dataclass(frozen=True)
class AnswerContext:
    """What reading an answer needs to know about the call."""

    config: IvrConfig
    understanding: object  # understanding.Understanding
    language: str
    skill: Skill | None  # the caller's skill once known: its zone and hours read times
    now: datetime
    home_region: str | None  # where the caller's own number is from: keyed national numbers are read there
    allowed_countries: tuple[str, ...]
    day_offset: int = 0  # the day picked at callback_pick_day (0 = today)
    # The caller's previous answer when it was to this same question (it was asked again): a record of
    # the call's path (ivr.hearing.remember), or None.
    earlier: Mapping | None = None


def earlier_answer(path: list, step_name: str) -> Mapping | None:
    """The last answer on the caller's path if it was to `step_name`: what they said when asked before."""
    return path[-1] if path and path[-1].get("step") == step_name else None


def from_keys(step: steps.Step, digits: str, ctx: AnswerContext) -> Meaning:
    expects = step.expects
    if not digits:
        return NOTHING
    if digits == steps.AGENT_KEY and expects.kind != steps.SKILL:
        return Meaning("agent")
    if expects.kind == steps.SKILL:
        for language, key in ctx.config.language_digits.items():
            if digits == key and language in ctx.config.prompts:
                return Meaning("language", language) if language != ctx.language else UNCLEAR
        skill = ctx.config.skill_for_digit(digits[:1]) if len(digits) == 1 else None
        return Meaning("skill", skill.name) if skill else UNCLEAR
    if expects.kind in (steps.YES_NO, steps.CHOICE):
        meaning = expects.keys.get(digits)
        if meaning is None:
            return UNCLEAR
        return Meaning(meaning, int(digits) - 1) if meaning == "day" else Meaning(meaning)
    if expects.kind == steps.NUMBER:
        return _number(digits, ctx)
    if expects.kind == steps.TIME:
        return _keyed_time(digits, ctx)
    return UNCLEAR


def from_words(step: steps.Step, text: str, confidence: float | None, ctx: AnswerContext) -> Meaning:
    u = ctx.understanding
    lang = ctx.language
    if not (text or "").strip():
        return NOTHING
    kind = step.expects.kind
    if kind != steps.SKILL and u.wants_agent(text, lang):
        return Meaning("agent")
    if kind == steps.SKILL:
        guess = u.skill(text, lang, asr_confidence=confidence if confidence is not None else 1.0)
        if guess.skill is None:
            return Meaning("none")
        return Meaning("unsure" if guess.needs_confirmation else "skill", guess.skill)
    spoken_key = u.spoken_key(text, lang)  # "one", "press two": only a key said alone counts as that key
    if kind == steps.YES_NO:
        return _doubted(_yes_no(step, text, spoken_key, ctx), text, confidence, ctx)
    if kind == steps.CHOICE and spoken_key in step.expects.keys:
        return from_keys(step, spoken_key, ctx)
    if kind == steps.NUMBER:
        digits = u.digits(text, lang)
        return _number(digits, ctx) if digits else UNCLEAR
    if kind in (steps.CHOICE, steps.TIME):
        return _spoken_time(step, text, confidence, ctx)
    return UNCLEAR


def _yes_no(step: steps.Step, text: str, spoken_key: str | None, ctx: AnswerContext) -> Meaning:
    if spoken_key in step.expects.keys:
        return from_keys(step, spoken_key, ctx)
    answer = ctx.understanding.yes_no(text, ctx.language)
    if answer is None and "asap" in step.leads.get("yes", "") and ctx.understanding.wants_asap(text, ctx.language):
        return Meaning("yes")  # "call me back as soon as you can" at the wait offer
    return UNCLEAR if answer is None else Meaning("yes" if answer else "no")


def _doubted(meaning: Meaning, text: str, confidence: float | None, ctx: AnswerContext) -> Meaning:
    """A spoken yes or no below the kind's confirmation threshold (understanding.confidence: one
    recogniser's words where two were wanted, or two that disagree) is "doubtful": asked again, never
    acted on. When asked again, the same plain yes or no (words of yes or no only, both times:
    understanding.answers.plain_yes_no) is acted on: two hearings agree, and both stay on the call's
    path. Words that hold more ("sorry one live yeah") are asked again, and words that are neither
    stay neither."""
    if confidence is None or confidence >= confirm_below("yes_no"):
        return meaning
    if meaning.kind not in ("yes", "no"):
        return UNCLEAR
    doubtful = Meaning("unclear", meaning.kind)  # asked again as unclear, kept on the path as doubtful
    said = meaning.kind == "yes"
    said_before = ctx.earlier is not None and ctx.earlier.get("meaning") == doubtful.describe() \
        and plain_yes_no(ctx.earlier.get("said", ""), ctx.language) is said \
        and plain_yes_no(text, ctx.language) is said
    return meaning if said_before else doubtful


def _spoken_time(step: steps.Step, text: str, confidence: float | None, ctx: AnswerContext) -> Meaning:
    """A time, a day or "as soon as possible", said. A spoken time is always "unsure" (read back with its
    day, date, time and zone before it is booked; "no" asks again), and so is an "as soon as possible"
    heard with low confidence; a day alone is "day" (the time is asked next); words that contradict
    each other ("morning at nine p m") or hold no time are unclear (asked again)."""
    u, lang = ctx.understanding, ctx.language
    sure = confidence is None or confidence >= confirm_below("time")
    asap = "asap" in step.leads and u.wants_asap(text, lang)
    if ctx.skill is None:
        return (Meaning("asap") if sure else Meaning("unsure", "asap")) if asap else UNCLEAR
    zone = ctx.config.zone_for(lang, ctx.skill)  # read in the zone the caller hears times in
    result = u.callback_time(text, lang, ctx.now, zone, ctx.skill.hours,
                             timedelta(days=ctx.config.booking_horizon_days), day_offset=ctx.day_offset,
                             hours_zone=ctx.skill.timezone)
    # A time or a day said is what they asked for ("tomorrow, as early as possible" is tomorrow's time,
    # asked next); "as soon as possible" only when the words hold neither.
    if asap and result.when is None and not (result.reason == "day_only" and "day" in step.leads):
        return Meaning("asap") if sure else Meaning("unsure", "asap")
    if result.when is not None:  # every spoken time is read back (day, date, time, zone) before it is booked
        return Meaning("unsure", result.when) if confidence is not None or not sure else Meaning("time", result.when)
    if result.reason == "day_only" and "day" in step.leads:
        return Meaning("day", (result.day - ctx.now.astimezone(zone).date()).days)
    # "format": no time in the words at all; ask again rather than refuse a time.
    return UNCLEAR if result.reason in (None, "format", "contradictory", "day_only") \
        else Meaning("refused", result.reason)


def _number(digits: str, ctx: AnswerContext) -> Meaning:
    try:
        return Meaning("number", normalise(digits, ctx.allowed_countries, default_region=ctx.home_region))
    except NumberRefused as refused:
        return Meaning("refused", refused.reason)


def _keyed_time(digits: str, ctx: AnswerContext) -> Meaning:
    if ctx.skill is None:
        return UNCLEAR
    if len(digits) != 4 or not digits.isdigit() or int(digits[:2]) > 23 or int(digits[2:]) > 59:
        return Meaning("refused", "format")
    zone = ctx.config.zone_for(ctx.language, ctx.skill)  # keyed as the caller reads a clock: in their zone
    day = ctx.now.astimezone(zone).date() + timedelta(days=ctx.day_offset)
    try:
        at = datetime.strptime(digits, "%H%M").time()
        return Meaning("time", hours.local_to_utc(day, at, zone))
    except hours.TimeRefused as refused:
        return Meaning("refused", refused.reason)
