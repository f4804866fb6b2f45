"""PocketSphinx engine: US English out of the box (the model ships in the wheel).

The acoustic model is 16 kHz, so 8 kHz phone audio is upsampled per stream.
Decoders are pooled per process and reused across streams; each grammar is
added once per decoder as a search. Grammar decoders start from a one-word
dictionary and get the pronunciations of their grammar's words added: built
with the full dictionary and language model a decoder took 0.44 s and 91 MB
(32 callers arriving together stalled every stream for seconds); this way it
takes under 10 ms and about 5 MB.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from typing import Sequence

from speech.abc import EngineUnavailable, Hypothesis
from speech.audio import Upsampler
from speech.grammar import jsgf, normalise_phrase

log = logging.getLogger(__name__)

ENGINE_NAME = "pocketsphinx"
MODEL_RATE = 16000
FREE_FORM = "_default"  # the search PocketSphinx builds from its bundled language model
# Starting cepstral mean for 8 kHz phone audio. The model's own starting value is
# for wide-band microphones; on band-limited audio the first second or two then
# decode badly (grammar answers came out empty). This is the mean over the five
# pocketsphinx-testdata "cards" recordings converted to the phone band. Every
# stream starts from it, so a pooled decoder does not carry one caller's channel
# into the next call (and results do not depend on which decoder a call gets).
PHONE_CMN_INIT = "47.29,29.28,-50.93,23.41,-27.11,-24.28,9.90,-34.94,-10.48,-2.45,-23.28,4.44,-9.18"


SEED_DICTIONARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pocketsphinx_seed.dict")


def _pronunciations() -> dict[str, list[str]]:
    """word -> its pronunciations, from the bundled CMU dictionary, read once per process
    (about 30 MB; a decoder in use by another stream must not be asked)."""
    from pocketsphinx import get_model_path

    prons: dict[str, list[str]] = {}
    with open(os.path.join(get_model_path(), "en-us", "cmudict-en-us.dict"), encoding="utf-8") as f:
        for line in f:
            word, _, phones = line.rstrip("\n").partition(" ")
            prons.setdefault(word.split("(", 1)[0], []).append(phones.strip())
    return prons


def jsgf_words(grammar: str) -> set[str]:
    """The words a JSGF grammar can produce (rule names, header and keywords left out)."""
    body = "\n".join(line for line in grammar.splitlines()
                     if not line.lstrip().startswith(("#", "grammar", "import", "//")))
    body = re.sub(r"<[^>]*>|/\*.*?\*/|\bpublic\b", " ", body, flags=re.S)
    return set(re.findall(r"[a-z][a-z']*", body.lower()))


class _PooledDecoder:
    def __init__(self, decoder):
        self.decoder = decoder
        self.searches: set[str] = set()
        self.words: set[str] = set()  # pronunciations added to this decoder's dictionary
        self.initial_cmn = decoder.get_cmn(False)
        self.grammar = True


_NOTHING_YET = Hypothesis("", 0.0, ENGINE_NAME, final=False)


class PocketSphinxRecognizer:
    def __init__(self, engine: "PocketSphinxEngine", pooled: _PooledDecoder, search: str, sample_rate: int):
        self._engine = engine
        self._pooled = pooled
        self.sample_rate = sample_rate
        self._upsampler = Upsampler(MODEL_RATE // sample_rate)
        d = pooled.decoder
        d.activate_search(search)
        d.set_cmn(PHONE_CMN_INIT if sample_rate == 8000 else pooled.initial_cmn)
        d.start_utt()
        self._finished: Hypothesis | None = None

    def _hypothesis(self, final: bool) -> Hypothesis:
        hyp = self._pooled.decoder.hyp()
        text = hyp.hypstr if hyp is not None else ""
        # With bestpath off there is no posterior; a non-empty grammar match is all we know.
        return Hypothesis(text, 1.0 if text else 0.0, ENGINE_NAME, final=final)

    def accept(self, pcm16: bytes) -> Hypothesis:
        if self._finished is not None:
            return self._finished
        self._pooled.decoder.process_raw(self._upsampler.process(pcm16))
        return _NOTHING_YET  # PocketSphinx has no endpointer of its own: the session decides

    def partial(self) -> Hypothesis:
        return self._finished or self._hypothesis(final=False)

    def finish(self) -> Hypothesis:
        if self._finished is None:
            self._pooled.decoder.end_utt()
            self._finished = self._hypothesis(final=True)
            self._engine._release(self._pooled)
        return self._finished

    def close(self) -> None:
        """Give the decoder back even when the stream ended without a result."""
        self.finish()


class PocketSphinxEngine:
    name = ENGINE_NAME

    def __init__(self, language: str = "en-US", pool_size: int = 16):
        if language.lower() != "en-us":
            raise EngineUnavailable("the bundled PocketSphinx model is US English only")
        try:
            import pocketsphinx  # noqa: F401
        except ImportError as exc:
            raise EngineUnavailable("pocketsphinx is not installed") from exc
        self.language = language
        # Two pools: grammar decoders are built without the language model
        # (27 MB and 0.14 s each instead of 91 MB and 0.44 s); free-form needs it.
        self._idle: dict[bool, list[_PooledDecoder]] = {True: [], False: []}
        self._lock = threading.Lock()
        self._pool_size = pool_size
        self._idle[True].append(_PooledDecoder(self._new_decoder(grammar=True)))  # proves the model loads
        self._prons = _pronunciations()
        self._grammars: dict[tuple, str] = {}

    def idle_decoders(self) -> int:
        with self._lock:
            return sum(len(pool) for pool in self._idle.values())

    @staticmethod
    def _new_decoder(grammar: bool):
        from pocketsphinx import Decoder

        # bestpath=False: with looping grammars the default took 50-100 s per utterance.
        options = {"lm": None, "dict": SEED_DICTIONARY} if grammar else {}
        return Decoder(bestpath=False, loglevel="FATAL", samprate=MODEL_RATE, **options)

    def _take(self, grammar: bool) -> _PooledDecoder:
        with self._lock:
            if self._idle[grammar]:
                return self._idle[grammar].pop()
        pooled = _PooledDecoder(self._new_decoder(grammar))
        pooled.grammar = grammar
        return pooled

    def _release(self, pooled: _PooledDecoder) -> None:
        with self._lock:
            pool = self._idle[pooled.grammar]
            if len(pool) < self._pool_size:
                pool.append(pooled)

    def has_word(self, word: str) -> bool:
        return word in self._prons

    def _add_words(self, pooled: _PooledDecoder, words: set[str]) -> None:
        new = sorted(w for w in words - pooled.words if w in self._prons)
        for index, word in enumerate(new):
            for variant, phones in enumerate(self._prons[word]):
                name = word if variant == 0 else f"{word}({variant + 1})"
                last = index == len(new) - 1 and variant == len(self._prons[word]) - 1
                pooled.decoder.add_word(name, phones, last)
        pooled.words.update(new)

    def missing_words(self, phrases: Sequence[str]) -> list[str]:
        words = {w for p in phrases for w in normalise_phrase(p).split()}
        return sorted(w for w in words if not self.has_word(w))

    def _grammar(self, phrases: Sequence[str]) -> str:
        """The JSGF for a phrase list, built (and its missing words warned about) once."""
        missing = set(self.missing_words(phrases))
        if missing:
            log.warning("PocketSphinx dictionary lacks grammar words %s; phrases using them are left out",
                        ", ".join(sorted(missing)))
        kept = [normalise_phrase(p) for p in phrases
                if normalise_phrase(p) and not set(normalise_phrase(p).split()) & missing]
        if not kept:
            raise ValueError("no grammar phrase can be recognised")
        self._grammars[tuple(phrases)] = grammar = jsgf(kept, max_phrases=getattr(phrases, "max_phrases", 3))
        return grammar

    def recognizer(self, sample_rate: int, phrases: Sequence[str] | None = None,
                   jsgf_text: str | None = None) -> PocketSphinxRecognizer:
        """As Engine.recognizer; `jsgf_text` (PocketSphinx only) uses a hand-written
        JSGF grammar instead of a phrase list."""
        if MODEL_RATE % sample_rate:
            raise ValueError(f"cannot upsample {sample_rate} Hz to {MODEL_RATE} Hz by a whole factor")
        search = FREE_FORM
        grammar = jsgf_text
        if jsgf_text is not None:
            search = "g" + hashlib.sha1(jsgf_text.encode()).hexdigest()[:12]
        elif phrases is not None:
            grammar = self._grammars.get(tuple(phrases)) or self._grammar(phrases)
            search = "g" + hashlib.sha1(grammar.encode()).hexdigest()[:12]
        pooled = self._take(grammar is not None)
        try:
            if grammar is not None and search not in pooled.searches:
                self._add_words(pooled, jsgf_words(grammar))
                pooled.decoder.add_jsgf_string(search, grammar)
                pooled.searches.add(search)
            return PocketSphinxRecognizer(self, pooled, search, sample_rate)
        except Exception:
            self._release(pooled)
            raise
