"""One decision from one answer: what the caller's words mean at an IVR step, as JSON.

Shared by `ivr speech recognize` (words from audio) and `ivr understand classify` (words typed),
so both print the same decision for the same words.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Mapping, Sequence
from zoneinfo import ZoneInfo

from understanding import Understanding

# The kinds of answer a question listens for, declared once: ivr/steps.py gives each step one
# (`Expects.listen`, looked up with ivr.steps.listen_kind), speech/grammar.py builds a grammar per kind,
# and `decide` reads words per kind. Step names live only in ivr/steps.py.
ANSWER_KINDS = ("skill", "yes_no", "digits", "time")


@dataclass(frozen=True)
class StepContext:
    """What a step needs: the trained understanding, the menu's phrases (for speech grammars),
    and the skill's time zone and hours (for times)."""

    understanding: Understanding | None = None
    phrases_by_skill: Mapping[str, Sequence[str]] = field(default_factory=dict)
    zone: ZoneInfo = ZoneInfo("UTC")
    hours: Mapping[int, tuple[time, time]] = field(default_factory=dict)
    horizon: timedelta = timedelta(days=14)

    def with_phrases(self, phrases_by_skill: Mapping[str, Sequence[str]], lang: str) -> "StepContext":
        """This context with the menu replaced by these phrases, the classifier trained on them alone
        (a quick try-out of other wording, or a language the IVR file does not hold)."""
        return replace(self, phrases_by_skill=phrases_by_skill,
                       understanding=Understanding({lang: phrases_by_skill}))


def decide(listen: str | None, text: str, lang: str, context: StepContext, asr_confidence: float = 1.0,
           now: datetime | None = None, *, step: str | None = None) -> dict:
    """A JSON-ready decision on words heard for an answer of kind `listen` (one of ANSWER_KINDS; None, a
    question that takes keys only, is read as the menu's). Always has transcript, step (`step`, the
    question's name, for the record), lang, kind, confidence; plus skill/ranked/needs_confirmation (menu),
    answer (yes_no), digits, or callback_at/reason/asap (time).
    A time step reads the time against `now`, which the caller takes from its clock (clock.py)."""
    if listen is not None and listen not in ANSWER_KINDS:
        raise ValueError(f"unknown answer kind {listen!r}; one of {', '.join(ANSWER_KINDS)}")
    kind = "menu" if listen in (None, "skill") else listen
    out: dict = {"transcript": text, "step": step, "lang": lang, "kind": kind}
    u = context.understanding or Understanding({})
    if kind == "menu":
        guess = u.skill(text, lang, asr_confidence)
        out.update(skill=guess.skill, intent=guess.skill, confidence=guess.confidence,
                   ranked=[[skill, score] for skill, score in guess.ranked],
                   needs_confirmation=guess.needs_confirmation)
    elif kind == "yes_no":
        answer = u.yes_no(text, lang)
        out.update(answer=None if answer is None else ("yes" if answer else "no"),
                   confidence=round(asr_confidence if answer is not None else 0.0, 3))
    elif kind == "digits":
        digits = u.digits(text, lang)
        out.update(digits=digits, confidence=round(asr_confidence if digits else 0.0, 3))
    elif kind == "time":
        if now is None:
            raise ValueError(f"deciding on a time at step {step} needs now (from the clock)")
        result = u.callback_time(text, lang, now, context.zone, context.hours, context.horizon)
        # "As soon as possible" is an answer too (the caller keeps their turn), not a bad time.
        asap = not result.ok and u.wants_asap(text, lang)
        out.update(callback_at=result.when.isoformat() if result.when else None,
                   reason=None if asap else result.reason, asap=asap,
                   day=result.day.isoformat() if result.day else None,  # a day alone: the time is asked next
                   confidence=round(asr_confidence if result.ok or asap else 0.0, 3))
    if kind != "menu":
        out["wants_agent"] = u.wants_agent(text, lang)
    return out


def context_from_config(config, skill: str | None = None, lang: str | None = None) -> StepContext:
    """A StepContext for config.IvrConfig (the operator's ivr.toml) in `lang`, with `skill`'s
    time zone and hours (the fallback skill's when none is named)."""
    lang = lang or config.default_language
    chosen = config.skills.get(skill) if skill else config.fallback_skill
    if chosen is None:
        raise ValueError(f"no skill named {skill!r}")
    return StepContext(
        understanding=Understanding.for_config(config),
        phrases_by_skill={s.name: grammar_phrases(s, lang) for s in config.skills.values()},
        zone=chosen.timezone,
        hours=chosen.hours,
        horizon=timedelta(days=config.booking_horizon_days),
    )


def grammar_phrases(skill, lang: str) -> list[str]:
    """A skill's short phrases and menu label in `lang` (what today's speech grammars listen for)."""
    phrases = list(skill.phrases.get(lang, []))
    label = skill.label.get(lang)
    return phrases + ([label] if label and label not in phrases else [])


__all__ = ["ANSWER_KINDS", "StepContext", "context_from_config", "decide", "grammar_phrases"]
