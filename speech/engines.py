"""Which engine serves a language: Vosk if a model is configured, else the
bundled PocketSphinx model for US English, else none (the IVR falls back to
keypad-only prompts and says so in the log, once per language)."""
from __future__ import annotations

import importlib.util
import logging
import os
import threading
from typing import Mapping

from speech.abc import Engine, EngineUnavailable
from speech.vosk_engine import env_key, model_path_for

log = logging.getLogger(__name__)

_engines: dict[tuple, Engine | None] = {}
_lock = threading.Lock()


def _build(language: str, env: Mapping[str, str], default_language: str) -> Engine | None:
    path = model_path_for(language, env, default_language)
    if path:
        from speech.vosk_engine import VoskEngine

        try:
            return VoskEngine(path, language)
        except EngineUnavailable as exc:
            log.warning("speech for %s: %s", language, exc)
    if language.lower() == "en-us" and env.get("SPEECH_DISABLE_POCKETSPHINX", "") != "1":
        from speech.pocketsphinx_engine import PocketSphinxEngine

        workers = env.get("SPEECH_WORKERS", "").strip()
        try:
            return PocketSphinxEngine(language, workers=int(workers) if workers.isdigit() else None)
        except EngineUnavailable as exc:
            log.warning("speech for %s: %s", language, exc)
    log.warning(
        "No speech model for %s: speech steps will take keypad (DTMF) input only. "
        "To understand callers in %s, run `ivr speech download-model %s` and set %s "
        "to the model folder it prints.", language, language, language, env_key(language))
    return None


def engine_for(language: str, env: Mapping[str, str] | None = None,
               default_language: str = "en-US") -> Engine | None:
    """The shared engine for `language` (built once per process), or None for DTMF only."""
    env = os.environ if env is None else env
    key = (language.lower(), model_path_for(language, env, default_language),
           env.get("SPEECH_DISABLE_POCKETSPHINX", ""), env.get("SPEECH_WORKERS", ""))
    if key in _engines:
        return _engines[key]
    with _lock:
        if key not in _engines:
            _engines[key] = _build(language, env, default_language)
        return _engines[key]


_second: dict[tuple, object] = {}


def second_pass_for(language: str, env: Mapping[str, str] | None = None):
    """The shared Whisper engine for a second pass over `language`'s held answers (speech/cascade.py),
    or None: faster-whisper or a model missing, WHISPER_MODEL=off, or an English-only model (".en",
    the packaged tiny.en) for another language. Its worker starts on first use, in the background.
    One engine per language: its workers decode in that language (a multilingual model asked for
    en-US and nl-NL gets two engines, never the English one for a Dutch call)."""
    from speech import whisper_engine

    env = os.environ if env is None else env
    path = whisper_engine.model_path(env)
    if path is None or (whisper_engine.english_only(path) and not language.lower().startswith("en")):
        return None
    workers = env.get("WHISPER_WORKERS", "").strip()
    key = (path, workers, language.lower())
    with _lock:
        if key not in _second:
            try:
                _second[key] = whisper_engine.WhisperEngine(path, language,
                                                            workers=int(workers) if workers.isdigit() else 1)
            except EngineUnavailable as exc:
                log.warning("no second pass: %s", exc)
                _second[key] = None
        return _second[key]


def speech_configured(language: str, env: Mapping[str, str] | None = None,
                      default_language: str = "en-US") -> bool:
    """Whether an engine is set up for `language`, without loading it: a Vosk model folder, or the
    bundled US English model. Commands that never listen start without waiting for a model."""
    env = os.environ if env is None else env
    path = model_path_for(language, env, default_language)
    if path and os.path.isdir(path):
        return True
    return (language.lower() == "en-us" and env.get("SPEECH_DISABLE_POCKETSPHINX", "") != "1"
            and importlib.util.find_spec("pocketsphinx") is not None)


def speech_available(language: str, env: Mapping[str, str] | None = None,
                     default_language: str = "en-US") -> bool:
    """For the IVR: offer "say a few words" only when this is True."""
    return engine_for(language, env, default_language) is not None


def prepare_for_calls(config, streams: int = 32, env: Mapping[str, str] | None = None) -> None:
    """Before the first call: for each of the IVR's languages with an engine, build what every
    kind of answer listens for (PocketSphinx: decoders with each search, in every worker), so
    callers arriving together do not wait while it is built. Call once when the server starts."""
    from speech.grammar import ANSWER_KINDS, grammar_for_config

    for language in config.languages:
        engine = engine_for(language, env, config.default_language)
        prepare = getattr(engine, "prepare", None)
        if prepare is not None:
            prepare([grammar_for_config(kind, language, config) for kind in ANSWER_KINDS], streams)
        if engine is not None:
            second_pass_for(language, env)  # its worker loads the model meanwhile
