"""Vosk (Kaldi) engine: one model per language per process, one recognizer per stream.

Loading a model takes seconds and hundreds of MB, so models are cached by path
for the life of the process and shared by every call; KaldiRecognizer objects
are cheap (grammar mode) and made per stream.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from typing import Mapping, Sequence

from speech.abc import EngineUnavailable, Hypothesis
from speech.grammar import normalise_phrase

log = logging.getLogger(__name__)

ENGINE_NAME = "vosk"
# Models differ: most have "[unk]", the small Korean one has "<UNK>".
UNKNOWN_TOKEN_CANDIDATES = ("[unk]", "<UNK>", "<unk>")

_models: dict[str, object] = {}
_models_lock = threading.Lock()


def env_key(language: str) -> str:
    """VOSK_MODEL_PATH_<LANG>, e.g. en-US -> VOSK_MODEL_PATH_EN_US."""
    return "VOSK_MODEL_PATH_" + language.upper().replace("-", "_")


def model_path_for(language: str, env: Mapping[str, str] | None = None,
                   default_language: str = "en-US") -> str | None:
    """The configured model folder for a language, or None.

    VOSK_MODEL_PATH_<LANG> wins; plain VOSK_MODEL_PATH is the model for the
    default language only (an English model cannot serve Dutch callers).
    """
    env = os.environ if env is None else env
    path = env.get(env_key(language))
    if not path and language.lower() == default_language.lower():
        path = env.get("VOSK_MODEL_PATH")
    return path or None


def load_model(path: str):
    """The vosk.Model for `path`, loaded on first use and then shared."""
    key = os.path.realpath(path)
    model = _models.get(key)
    if model is not None:
        return model
    with _models_lock:
        model = _models.get(key)
        if model is None:
            if not os.path.isdir(key):
                raise EngineUnavailable(f"Vosk model folder not found: {path}")
            import vosk

            vosk.SetLogLevel(-1)  # Kaldi's own chatter; we log what matters ourselves
            try:
                model = vosk.Model(key)
            except Exception as exc:  # vosk raises a bare Exception on a bad folder
                raise EngineUnavailable(f"cannot load Vosk model from {path}: {exc}") from exc
            _models[key] = model
            log.info("loaded Vosk model %s", key)
    return model


def loaded_model_count() -> int:
    return len(_models)


_NOTHING_YET = Hypothesis("", 0.0, ENGINE_NAME, final=False)


class VoskRecognizer:
    def __init__(self, kaldi, sample_rate: int, unknown_token: str | None):
        self._kaldi = kaldi
        self.sample_rate = sample_rate
        self._unknown = unknown_token

    def _words(self, text: str) -> str:
        return " ".join(w for w in text.split() if w != self._unknown)

    def _final(self, raw: str) -> Hypothesis:
        result = json.loads(raw)
        words = [w for w in result.get("result", []) if w.get("word") != self._unknown]
        transcript = self._words(result.get("text", ""))
        if words:
            confidence = sum(float(w.get("conf", 0.0)) for w in words) / len(words)
        else:
            confidence = 0.0 if not transcript else 1.0
        return Hypothesis(transcript, round(confidence, 3), ENGINE_NAME, final=True)

    def accept(self, pcm16: bytes) -> Hypothesis:
        if self._kaldi.AcceptWaveform(pcm16):
            return self._final(self._kaldi.Result())
        return _NOTHING_YET

    def partial(self) -> Hypothesis:
        partial = json.loads(self._kaldi.PartialResult()).get("partial", "")
        return Hypothesis(self._words(partial), 0.0, ENGINE_NAME, final=False)

    def finish(self) -> Hypothesis:
        return self._final(self._kaldi.FinalResult())

    def close(self) -> None:
        self._kaldi = None


class VoskEngine:
    name = ENGINE_NAME

    def __init__(self, model_path: str, language: str):
        self.language = language
        self.model_path = model_path
        self.model = load_model(model_path)
        self._grammars: dict[tuple, list[str]] = {}
        self.unknown_token = next(
            (t for t in UNKNOWN_TOKEN_CANDIDATES if self.model.vosk_model_find_word(t) >= 0), None
        )
        if self.unknown_token is None:
            log.warning("Vosk model %s has no unknown-word token; grammar steps will force "
                        "out-of-grammar speech onto the nearest phrase", model_path)

    def has_word(self, word: str) -> bool:
        return self.model.vosk_model_find_word(word) >= 0

    def missing_words(self, phrases: Sequence[str]) -> list[str]:
        words = {w for p in phrases for w in normalise_phrase(p).split()}
        return sorted(w for w in words if not self.has_word(w))

    def grammar_phrases(self, phrases: Sequence[str]) -> list[str]:
        """The phrases the model can say in full; warns about the others (once per grammar:
        the same step's grammar is built for every call)."""
        key = tuple(phrases)
        cached = self._grammars.get(key)
        if cached is None:
            cached = self._grammars[key] = self._sayable(phrases)
        return list(cached)

    def _sayable(self, phrases: Sequence[str]) -> list[str]:
        missing = set(self.missing_words(phrases))
        if missing:
            log.warning("Vosk model %s lacks grammar words %s; phrases using them are left out",
                        self.model_path, ", ".join(sorted(missing)))
        kept = []
        for p in phrases:
            n = normalise_phrase(p)
            if n and not set(n.split()) & missing and n not in kept:
                kept.append(n)
        return kept

    def recognizer(self, sample_rate: int, phrases: Sequence[str] | None = None) -> VoskRecognizer:
        import vosk

        # The true rate matters: Kaldi resamples to the model's rate itself.
        if phrases is None:
            kaldi = vosk.KaldiRecognizer(self.model, float(sample_rate))
        else:
            # The example sentences whole (a caller who says one gets it as said) and each of their
            # words on its own (callers use them in their own order), plus the unknown-word token.
            sentences = list(getattr(phrases, "sentences", ()) or ())
            grammar = self.grammar_phrases(sentences + [p for p in phrases if p not in sentences])
            if self.unknown_token:
                grammar.append(self.unknown_token)
            kaldi = vosk.KaldiRecognizer(self.model, float(sample_rate), json.dumps(grammar, ensure_ascii=False))
        kaldi.SetWords(True)
        return VoskRecognizer(kaldi, sample_rate, self.unknown_token)
