"""How sure we are of a spoken answer, per kind of answer: a number that means what it says.

A recogniser's own score says little about whether the IVR will act right (PocketSphinx reported 1.0
for every non-empty result). What does: whether the words make a decisive answer of the kind asked
(a yes or a no, a bookable time or "as soon as possible", a phone number's worth of digits, a skill
the classifier is sure of), and whether two different recognisers heard the same answer. Each answer
falls in one of these states:

| state | meaning |
| --- | --- |
| `agree` | both engines heard the same decisive answer |
| `disagree` | both heard decisive answers, not the same (the engine measured better for the kind wins) |
| `single` | both engines ran, and only the second (Whisper) heard a decisive answer |
| `first_only` | both engines ran, and only the first (PocketSphinx) heard a decisive answer: the second heard words that make none, which speaks against it |
| `alone` | one engine ran (no second pass, or it failed) and heard a decisive answer |
| `weak`, `alone_weak` | the words are no decisive answer of the kind (asked again anyway), with two passes or one |

The confidence of a state is the share of answers in it that were right on the dev recordings
(bench/speech_cascade.py, several synthesisers' voices; docs/speech.md, "Confidence"): a histogram
calibration, so "0.9" means about nine in ten such answers were right.
"""
from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

from understanding import answers
from understanding.numbers import likeliest_number, merge_digit_readings, spoken_digits
from understanding.times import parse_callback_time
from understanding.words import words

KINDS = ("skill", "yes_no", "digits", "time")
STATES = ("agree", "disagree", "single", "first_only", "alone", "weak", "alone_weak")

# Share right per state on the dev recordings, smoothed: (right + 1) / (answers + 2) (bench/speech_cascade.py
# --set dev: all 592 dev answers, four voices, clean and noisy, with the seventh round's decoding: Whisper for
# every skill request, the new yes/no words; docs/speech.md, "Confidence", has the counts and the check on the
# held-out set). "alone" is PocketSphinx without a second pass. A state never seen on the dev set is 0.5.
# (Before, a partial run of 135 answers had PocketSphinx alone naming a skill right 18 of 19 times, 0.9; on
# all dev answers it is 63 of 85. A skill PocketSphinx names that Whisper's words do not: 22 of 42, 0.52.)
# Skill states: all 256 dev skill requests (the seventh round added 16 phrasings, 128 recordings).
CALIBRATION = {
    "skill": {"agree": 0.93, "disagree": 0.81, "single": 0.81, "first_only": 0.52, "alone": 0.6, "weak": 0.03,
              "alone_weak": 0.01},
    "yes_no": {"agree": 0.99, "disagree": 0.71, "single": 0.83, "first_only": 0.5, "alone": 0.83, "weak": 0.77,
               "alone_weak": 0.5},
    "digits": {"agree": 0.92, "disagree": 0.55, "single": 0.43, "first_only": 0.5, "alone": 0.29, "weak": 0.25, "alone_weak": 0.14},
    "time": {"agree": 0.81, "disagree": 0.72, "single": 0.7, "first_only": 0.33, "alone": 0.44, "weak": 0.04, "alone_weak": 0.05},
}

# A fixed frame for comparing times heard by two engines: open every day, all day, in UTC.
_FRAME_NOW = datetime(2026, 1, 5, 6, 0, tzinfo=timezone.utc)  # a Monday morning
_FRAME_HOURS = {d: (time(0), time(23, 59)) for d in range(7)}
_UTC = ZoneInfo("UTC")


def answer_key(kind: str, text: str, lang: str, understanding=None):
    """What the words answer, in a form two transcripts can be compared by; None when they make no
    decisive answer of the kind."""
    if not (text or "").strip():
        return None
    if kind == "yes_no":
        return answers.yes_no(text, lang)
    if kind == "digits":
        digits = spoken_digits(text, lang)
        return digits if len(digits.lstrip("+")) >= 7 else None
    if kind == "time":
        if answers.wants_asap(text, lang):
            return "asap"
        result = parse_callback_time(text, lang, _FRAME_NOW, _UTC, _FRAME_HOURS)
        if result.when is not None:
            return result.when.isoformat()
        return f"day {result.day.isoformat()}" if result.reason == "day_only" else None
    if kind == "skill" and understanding is not None:
        guess = understanding.skill(text, lang)
        return guess.skill if guess.skill and not guess.needs_confirmation else None
    return None


def state(kind: str, first: str | None, second: str | None, lang: str, understanding=None) -> str:
    """The state of an answer heard as `first` (streaming pass) and `second` (None: no second pass)."""
    return _state([answer_key(kind, t, lang, understanding) for t in (first, second) if t is not None])


def _state(keys: list) -> str:
    decisive = [k for k in keys if k is not None]
    if len(decisive) == 2:
        return "agree" if decisive[0] == decisive[1] else "disagree"
    if decisive:
        if len(keys) == 2:
            return "first_only" if keys[0] is not None else "single"
        return "alone"
    return "weak" if len(keys) == 2 else "alone_weak"


def echoes_prompt(text: str, prompt: str) -> bool:
    """Whether every word of `text` is a word of `prompt` (a plural "s" aside): Whisper writing its own
    prompt back ("The caller." for "of course", prompted "... The caller answers yes or no.")."""
    said = words(text)
    asked = {w.strip(":,.?!") for w in words(prompt)}
    return bool(said) and bool(prompt) and all(w in asked or w.endswith("s") and w[:-1] in asked for w in said)


def choose(kind: str, first: str | None, second: str | None, lang: str, understanding=None,
           pick: str = "second", prompt: str = "") -> tuple[str, int, str]:
    """(the words to act on, 0 when they are `first`'s / 1 when `second` had a hand in them, the state).

    `pick` (measured per kind): "heard" takes `second`'s words whenever it heard any, decisive or not
    (Whisper's "Sorry, what was that?" over PocketSphinx's "sorry one live yeah"). Otherwise a decisive
    answer wins over one that is not, and when both are decisive and differ: "first", "second", or
    "merge" (phone numbers: merge_digit_readings). `prompt`: what `second`'s recogniser was prompted
    with; words of it alone that make no answer are its prompt echoed, not heard (`echoes_prompt`)."""
    if second and prompt and echoes_prompt(second, prompt) and answer_key(kind, second, lang, understanding) is None:
        second = ""  # it ran, and heard nothing of its own
    keys = [answer_key(kind, t, lang, understanding) if t is not None else None for t in (first, second)]
    answer_state = _state([k for k, t in zip(keys, (first, second)) if t is not None] or [None])
    if pick == "heard" and (second or "").strip() and not answers.wants_agent(first or "", lang):
        # (Unless the streamed words ask for a person: Whisper, prompted for yes or no, missed "operator".)
        return second, 1, answer_state
    if keys[0] is not None and keys[1] is not None:
        if answer_state == "disagree" and pick == "merge" and kind == "digits":
            # Whisper's digits when they make a whole number (it hears digits best, but drops one of a run:
            # then they do not), else the merge, else PocketSphinx's (docs/speech.md, "Phone numbers and
            # times, fourth round").
            merged = merge_digit_readings(keys[0], keys[1])
            return likeliest_number([keys[1], merged, keys[0]], lang), 1, answer_state
        if answer_state == "disagree" and kind == "time":
            # One heard the day alone, the other a time on that same day: they agree on the day, and one
            # heard the time of day too ("tomorrow" and "tomorrow at three p m"). The time is said.
            for whose, key, other in ((0, keys[0], keys[1]), (1, keys[1], keys[0])):
                if _refines(key, other):
                    return (first, second)[whose] or "", whose, answer_state
        return (second, 1, answer_state) if pick != "first" else (first, 0, answer_state)
    if keys[1] is not None or (keys[0] is None and not (first or "").strip()):
        return second or "", 1, answer_state
    return first or "", 0, answer_state


def _refines(key, other) -> bool:
    """Whether time key `key` (a bookable time) is on the day that `other` names alone ("day 2026-01-06")."""
    return (isinstance(key, str) and isinstance(other, str) and other.startswith("day ")
            and key[:10] == other[4:14] and "T" in key)


def confidence(kind: str, answer_state: str) -> float:
    return CALIBRATION.get(kind, CALIBRATION["skill"])[answer_state]
