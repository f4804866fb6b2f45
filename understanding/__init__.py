"""Language understanding for every channel (speech, SMS, chat, web): what a caller's words mean.

Flask-free, and below speech, routing and ivr in the layers: it imports only clock and config.

    u = Understanding.from_config(config)       # trains one skill model per language
    u.skill("my router isn't working", "en-US")  # SkillGuess(skill="support", confidence=..., ranked=..., ...)
    u.yes_no("ja graag", "nl-NL")                # True
    u.digits("oh six double one", "en-US")       # "0611"
    u.callback_time("tomorrow at three", "en-US", now, zone, hours, horizon)
    u.wants_asap(...), u.wants_agent(...)

Modules: words (tokens and word tables), numbers (spoken digits), times (callback times),
answers (yes/no, as soon as possible, a person), skills (the classifier), decision (the JSON
decision the CLIs print).
"""
from __future__ import annotations

import threading
from datetime import datetime, time, timedelta
from typing import Mapping, Sequence
from zoneinfo import ZoneInfo

from config import validate_examples
from understanding import answers
from understanding.numbers import spoken_digits
from understanding.skills import NOTHING, CONFIRM_BELOW, SkillGuess, SkillModel
from understanding.times import CallbackTime, parse_callback_time
from understanding.words import DIGIT_WORDS, KEY_WORDS, base_language, words

__all__ = ["CallbackTime", "SkillGuess", "Understanding"]


class Understanding:
    """Everything the IVR and the other channels need to read callers' words, for each language."""

    def __init__(self, examples: Mapping[str, Mapping[str, Sequence[str]]],
                 digit_by_skill: Mapping[str, str] | None = None):
        """`examples` is {language: {skill: [utterance, ...]}}; `digit_by_skill` lets a caller say
        the menu digit ("two", "druk twee"). Use from_config() for the operator's configuration."""
        self._examples = {lang: {s: list(texts) for s, texts in by_skill.items()}
                          for lang, by_skill in examples.items()}
        self._models = {lang: SkillModel(by_skill, lang) for lang, by_skill in self._examples.items()
                        if any(by_skill.values())}
        self._digits = dict(digit_by_skill or {})

    @classmethod
    def from_config(cls, config) -> "Understanding":
        """Train from config.IvrConfig: each skill's examples, phrases and menu label, per language.

        Raises ConfigError naming the problem when examples are missing, too few, in a language the
        IVR does not offer, or shared by two skills."""
        validate_examples(config.skills.values(), config.languages)
        examples = {lang: {s.name: training_texts(s, lang) for s in config.skills.values()}
                    for lang in config.languages}
        return cls(examples, {s.name: s.digit for s in config.skills.values()})

    @classmethod
    def for_config(cls, config) -> "Understanding":
        """from_config(), trained once per process for the same examples: every app built on the same
        IVR file (each test, each worker thread) shares one trained model instead of training again."""
        key = _fingerprint(config)
        with _lock:
            understanding = _trained.get(key)
            if understanding is None:
                understanding = _trained[key] = cls.from_config(config)
                while len(_trained) > 8:  # operators reload configs rarely; keep the few in use
                    _trained.pop(next(iter(_trained)))
            return understanding

    def languages(self) -> list[str]:
        return list(self._models)

    def examples(self, lang: str) -> dict[str, list[str]]:
        """{skill: texts} the model for `lang` learnt from (speech grammars and language models use them)."""
        found = self._language(lang, self._examples)
        return {s: list(texts) for s, texts in self._examples[found].items()} if found else {}

    def skill(self, text: str, lang: str, asr_confidence: float = 1.0) -> SkillGuess:
        """The skill the words ask for. `asr_confidence` (0..1, from the speech engine) scales the result."""
        asr_confidence = 1.0 if asr_confidence is None else asr_confidence
        digit_skill = self._spoken_menu_digit(text, lang)
        if digit_skill is not None:
            confidence = round(max(0.0, min(1.0, asr_confidence)), 3)
            return SkillGuess(digit_skill, confidence, ((digit_skill, 1.0),), confidence < CONFIRM_BELOW)
        found = self._language(lang, self._models)
        if found is None:
            return NOTHING
        return self._models[found].guess(text, asr_confidence)

    def yes_no(self, text: str, lang: str) -> bool | None:
        return answers.yes_no(text, lang)

    def digits(self, text: str, lang: str) -> str:
        """Digits said or typed ("oh six one two", "zes twaalf", "+31 6 12"); "" when none heard."""
        return spoken_digits(text, lang)

    def callback_time(self, text: str, lang: str, now: datetime, zone: ZoneInfo,
                      hours: Mapping[int, tuple[time, time]], horizon: timedelta = timedelta(days=14),
                      day_offset: int = 0, hours_zone: ZoneInfo | None = None) -> CallbackTime:
        return parse_callback_time(text, lang, now, zone, hours, horizon, day_offset, hours_zone)

    def wants_asap(self, text: str, lang: str) -> bool:
        return answers.wants_asap(text, lang)

    def wants_agent(self, text: str, lang: str) -> bool:
        return answers.wants_agent(text, lang)

    @staticmethod
    def spoken_key(text: str, lang: str) -> str | None:
        """A key said as a word, and nothing else: "two", "press three", "druk twee" -> the digit.
        None for anything more ("two at possible" is not a key)."""
        base = base_language(lang)
        said = words(text)
        if not said or len(said) > 3:
            return None
        digit_words, fillers = DIGIT_WORDS.get(base, {}), KEY_WORDS.get(base, set())
        keys = [str(digit_words[w]) if w in digit_words else w for w in said if w not in fillers]
        return keys[0] if len(keys) == 1 and keys[0].isdigit() and len(keys[0]) == 1 else None

    def _spoken_menu_digit(self, text: str, lang: str) -> str | None:
        """The skill whose menu digit is said as a word: "two", "press three", "druk twee"."""
        key = self.spoken_key(text, lang) if self._digits else None
        return next((s for s, d in self._digits.items() if d == key), None) if key else None

    @staticmethod
    def _language(lang: str, table: Mapping[str, object]) -> str | None:
        """The configured language for `lang`: exact, else the same base language ("nl" -> "nl-NL")."""
        if lang in table:
            return lang
        return next((known for known in table if base_language(known) == base_language(lang)), None)


def training_texts(skill, lang: str) -> list[str]:
    """What a config.Skill teaches the model for `lang`: its examples, its phrases and its menu label
    (callers often repeat the menu's own words)."""
    texts = list(skill.examples.get(lang, [])) + list(skill.phrases.get(lang, []))
    label = skill.label.get(lang)
    return texts + ([label] if label and label not in texts else [])


_lock = threading.Lock()
_trained: dict[str, Understanding] = {}


def _fingerprint(config) -> str:
    """What a model is trained from: languages, and each skill's name, digit, label, phrases and examples."""
    import hashlib
    import json

    skills = [(s.name, s.digit, s.label, s.phrases, s.examples) for s in config.skills.values()]
    return hashlib.sha256(json.dumps([config.languages, skills], sort_keys=True, default=str).encode()).hexdigest()
