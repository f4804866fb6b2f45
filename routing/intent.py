"""Which skill a caller asked for, from their words, with a confidence.

Scoring per skill is the best of its phrases: a phrase said word for word
scores 1.0, a close misspelling or mis-recognition (difflib ratio) scores
less, longer phrases win ties. When two skills match about equally well the
confidence drops, so the IVR asks the caller to confirm instead of guessing.
"""
from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Mapping, Sequence

from ivr.understanding import DIGIT_WORDS, base_language, words

# Below CONFIRM_THRESHOLD the IVR asks "billing, is that right?"; below
# MATCH_THRESHOLD it treats the words as not understood.
CONFIRM_THRESHOLD = 0.75
MATCH_THRESHOLD = 0.4
# Word similarity needed to count a fuzzy hit; short words must match exactly
# ("pay" must not match "play", "bill" not "will").
FUZZY_WORD_RATIO = 0.8
FUZZY_MIN_LENGTH = 5
FUZZY_PENALTY = 0.85


@dataclass(frozen=True)
class IntentMatch:
    skill: str | None
    confidence: float
    matched: str | None = None  # the phrase that decided it, or the digit

    @property
    def needs_confirmation(self) -> bool:
        return self.skill is not None and self.confidence < CONFIRM_THRESHOLD


def _word_similarity(said: str, phrase_word: str) -> float:
    if said == phrase_word:
        return 1.0
    if min(len(said), len(phrase_word)) < FUZZY_MIN_LENGTH:
        return 0.0
    ratio = SequenceMatcher(None, said, phrase_word).ratio()
    return ratio if ratio >= FUZZY_WORD_RATIO else 0.0


def phrase_score(said: Sequence[str], phrase: Sequence[str]) -> float:
    """1.0 if `phrase` occurs word for word in `said`; a fuzzy score if every word of
    it occurs in order approximately; 0 otherwise."""
    n = len(phrase)
    if not n or n > len(said):
        return 0.0
    best = 0.0
    for start in range(len(said) - n + 1):
        window = said[start:start + n]
        sims = [_word_similarity(s, p) for s, p in zip(window, phrase)]
        if all(sims):
            score = sum(sims) / n
            best = max(best, score if score == 1.0 else score * FUZZY_PENALTY)
    return best


def classify_intent(text: str, phrases_by_skill: Mapping[str, Sequence[str]], lang: str,
                    digit_by_skill: Mapping[str, str] | None = None,
                    asr_confidence: float = 1.0) -> IntentMatch:
    """The skill the words ask for. `phrases_by_skill` holds the phrases for `lang`;
    `digit_by_skill` lets a caller say the menu digit ("two"); `asr_confidence`
    (0..1, from the speech engine) scales the result."""
    said = words(text)
    if not said:
        return IntentMatch(None, 0.0)

    if digit_by_skill and len(said) <= 3:
        digit_words = DIGIT_WORDS.get(base_language(lang), {})
        spoken = [str(digit_words[w]) if w in digit_words else w for w in said]
        for skill, digit in digit_by_skill.items():
            if digit in spoken and not any(s.isalpha() and s not in ("press", "druk", "number", "nummer")
                                           for s in spoken):
                return IntentMatch(skill, round(asr_confidence, 3), digit)

    scores: list[tuple[float, int, str, str]] = []
    for skill, phrases in phrases_by_skill.items():
        best: tuple[float, int, str] = (0.0, 0, "")
        for phrase in phrases:
            tokens = words(phrase)
            score = phrase_score(said, tokens)
            if (score, len(tokens)) > best[:2]:
                best = (score, len(tokens), phrase)
        if best[0] > 0:
            scores.append((best[0], best[1], skill, best[2]))
    if not scores:
        return IntentMatch(None, 0.0)
    scores.sort(reverse=True)
    top, length, skill, phrase = scores[0]
    # A rival skill lowers the confidence, unless its phrase is just part of the
    # winning one ("technical" inside "technical support").
    rivals = [r for r in scores[1:] if not set(words(r[3])) <= set(words(phrase))]
    if rivals:
        second, second_length = rivals[0][0], rivals[0][1]
        if second >= top and second_length >= length:
            top *= 0.6  # equally good: let the caller confirm
        else:
            top *= 1 - 0.3 * (second / top)
    confidence = round(top * asr_confidence, 3)
    if confidence < MATCH_THRESHOLD:
        return IntentMatch(None, confidence, phrase)
    return IntentMatch(skill, confidence, phrase)


def phrases_from_config(skills: Sequence[Mapping], lang: str) -> dict[str, list[str]]:
    """{skill: phrases + label} for `lang` from ivr.toml's [[skills]] tables (plain dicts)."""
    out = {}
    for skill in skills:
        phrases = list(skill.get("phrases", {}).get(lang, []))
        label = skill.get("label", {}).get(lang)
        if label and label not in phrases:
            phrases.append(label)
        out[skill["name"]] = phrases
    return out
