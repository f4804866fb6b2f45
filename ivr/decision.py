"""One decision from one answer: what the caller's words mean at an IVR step.

Shared by `flask speech recognize` (words from audio) and `flask ivr classify`
(words typed), so both print the same JSON for the same words.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import Mapping, Sequence
from zoneinfo import ZoneInfo

from ivr.understanding import parse_callback_time, spoken_digits, wants_asap, yes_no
from routing.intent import classify_intent
from speech.grammar import step_kind


@dataclass(frozen=True)
class StepContext:
    """What a step needs to know about the skills (plain data, no config objects)."""

    phrases_by_skill: Mapping[str, Sequence[str]] = field(default_factory=dict)
    digit_by_skill: Mapping[str, str] = field(default_factory=dict)
    zone: ZoneInfo = ZoneInfo("UTC")
    hours: Mapping[int, tuple[time, time]] = field(default_factory=dict)
    horizon: timedelta = timedelta(days=14)


def decide(step: str, text: str, lang: str, context: StepContext, asr_confidence: float = 1.0,
           now: datetime | None = None) -> dict:
    """A JSON-ready decision. Always has transcript, step, lang, kind, confidence;
    plus skill/intent (menu), answer (yes_no), digits, or callback_at/reason/asap (time)."""
    kind = step_kind(step) or "menu"
    out: dict = {"transcript": text, "step": step, "lang": lang, "kind": kind}
    if kind == "menu":
        match = classify_intent(text, context.phrases_by_skill, lang, context.digit_by_skill, asr_confidence)
        out.update(skill=match.skill, intent=match.skill, confidence=match.confidence, matched=match.matched,
                   needs_confirmation=match.needs_confirmation)
    elif kind == "yes_no":
        answer = yes_no(text, lang)
        out.update(answer=None if answer is None else ("yes" if answer else "no"),
                   confidence=round(asr_confidence if answer is not None else 0.0, 3))
    elif kind == "digits":
        digits = spoken_digits(text, lang)
        out.update(digits=digits, confidence=round(asr_confidence if digits else 0.0, 3))
    elif kind == "time":
        now = now or datetime.now(timezone.utc)
        result = parse_callback_time(text, lang, now, context.zone, context.hours, context.horizon)
        # "As soon as possible" is an answer too (the caller keeps their turn), not a bad time.
        asap = not result.ok and wants_asap(text, lang)
        out.update(callback_at=result.when.isoformat() if result.when else None,
                   reason=None if asap else result.reason, asap=asap,
                   confidence=round(asr_confidence if result.ok or asap else 0.0, 3))
    return out


def context_from_config(config, skill: str | None = None, lang: str | None = None) -> StepContext:
    """Adapt config.IvrConfig (the operator's ivr.toml) to a StepContext for `lang`."""
    lang = lang or config.default_language
    chosen = config.skills.get(skill) if skill else config.fallback_skill
    if chosen is None:
        raise ValueError(f"no skill named {skill!r}")
    phrases = {}
    for s in config.skills.values():
        ps = list(s.phrases.get(lang, []))
        if s.label.get(lang) and s.label[lang] not in ps:
            ps.append(s.label[lang])  # callers often repeat the menu's own words
        phrases[s.name] = ps
    return StepContext(
        phrases_by_skill=phrases,
        digit_by_skill={s.name: s.digit for s in config.skills.values()},
        zone=chosen.timezone,
        hours=chosen.hours,
        horizon=timedelta(days=config.booking_horizon_days),
    )
