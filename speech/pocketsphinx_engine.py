"""PocketSphinx engine: US English out of the box (the model ships in the wheel).

What a step listens for is either a domain language model (an ARPA trigram built
from the step's example answers, speech/ngram.py) or a JSGF grammar (digit
strings, hand-written grammars). Decoders are built once per process with a
one-word dictionary and get the pronunciations their searches need added (a
decoder with the full dictionary and general language model took 0.44 s and
91 MB); each search is added once per decoder.

The front end, and why (docs/speech.md, "Why short answers were misheard"):
- the acoustic model is 16 kHz: 8 kHz phone audio is upsampled per stream;
- a low noise floor (about -50 dBFS) is mixed in: the model was trained on wide-band
  recordings, and the empty band above 3.4 kHz and digitally silent gaps otherwise
  give the log filter bank extreme values that swamp the speech;
- the cepstral mean is measured on each answer's own first 0.8 s of voice before
  decoding starts. PocketSphinx's live mean only moves after about 4 s, so a short
  answer was normalised with a fixed starting value, and any caller whose line
  sounded different from it was misheard.

PocketSphinx holds Python's GIL while it decodes, so with `workers` > 0 the
decoding runs in that many worker processes (speech/pool.py) behind the same
Recognizer interface.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
import weakref
from typing import Sequence

import numpy as np

from speech.abc import EngineUnavailable, Hypothesis
from speech import denoise
from speech.audio import Upsampler, rms_dbfs
from speech.grammar import jsgf, normalise_phrase
from speech.ngram import arpa_from_sentences

log = logging.getLogger(__name__)

ENGINE_NAME = "pocketsphinx"
MODEL_RATE = 16000
FREE_FORM = "_default"  # the search PocketSphinx builds from its bundled language model
CMN_SEARCH = "_cmn"  # a one-word search every decoder has, for measuring cepstral means
SEED_DICTIONARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pocketsphinx_seed.dict")

# Front end (measured on espeak-ng voices through the phone band, docs/benchmarks.md).
NOISE_FLOOR = 100.0  # RMS of the added noise, in 16-bit sample units (about -50 dBFS)
CMN_SECONDS = 0.8  # seconds of voice the cepstral mean is measured on before decoding starts
VOICE_DBFS = -45.0  # what counts as voice for that (the session's own threshold)
# What every stream started from before (a mean measured on the pocketsphinx-testdata "cards"
# recordings): bench/speech_accuracy.py --front-end old uses it when CMN_SECONDS is 0.
OLD_PHONE_CMN = "47.29,29.28,-50.93,23.41,-27.11,-24.28,9.90,-34.94,-10.48,-2.45,-23.28,4.44,-9.18"
# Language weight for domain language models: higher than the default 6.5, since the
# model is small and built for the step (10 measured best with eight voices of three synthesisers;
# 13 with espeak-ng alone; docs/benchmarks.md).
LM_WEIGHT = 10.0
# Whether an answer kind's structure (speech.grammar.number_structure: a phone number's counted digits) is
# searched instead of its language model (bench/speech_cascade.py --unstructured sets it False).
STRUCTURED = True

_noise_lock = threading.Lock()
_noise_table: np.ndarray | None = None


def _noise() -> np.ndarray:
    """Ten seconds of fixed white noise, shared by every stream (results do not depend on chance)."""
    global _noise_table
    with _noise_lock:
        if _noise_table is None:
            _noise_table = np.random.default_rng(20261130).normal(0.0, NOISE_FLOOR, MODEL_RATE * 10)
        return _noise_table


def _pronunciations() -> dict[str, list[str]]:
    """word -> its pronunciations, from the bundled CMU dictionary, read once per process."""
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


def fsg_transitions(fsg: str) -> tuple[int, int, list[tuple]]:
    """(start state, final state, [(from, to, probability[, word])]) of a grammar in Sphinx's FSG text."""
    start = final = 0
    transitions: list[tuple] = []
    for line in fsg.splitlines():
        parts = line.split()
        if parts[:1] == ["START_STATE"]:
            start = int(parts[1])
        elif parts[:1] == ["FINAL_STATE"]:
            final = int(parts[1])
        elif parts[:1] == ["TRANSITION"]:
            transitions.append((int(parts[1]), int(parts[2]), float(parts[3]), *parts[4:5]))
    return start, final, transitions


def fsg_words(fsg: str) -> set[str]:
    return {t[3] for t in fsg_transitions(fsg)[2] if len(t) > 3}


def arpa_words(arpa: str) -> set[str]:
    """The words of an ARPA language model's unigram section."""
    section = arpa.split("\\1-grams:", 1)[1].split("\\2-grams:", 1)[0]
    return {line.split()[1] for line in section.splitlines() if len(line.split()) >= 2} - {"<s>", "</s>"}


class SearchSpec(tuple):
    """What a stream listens for, as plain data a worker process can be sent:
    ("lm", arpa_text), ("jsgf", jsgf_text), ("fsg", Sphinx FSG text) or ("free", "")."""

    def __new__(cls, kind: str, text: str = ""):
        return super().__new__(cls, (kind, text))

    @property
    def name(self) -> str:
        if self[0] == "free":
            return FREE_FORM
        return self[0] + hashlib.sha1(self[1].encode()).hexdigest()[:12]


class _Decoder:
    def __init__(self, decoder, grammar: bool):
        self.decoder = decoder
        self.grammar = grammar  # built without the general language model
        self.searches: set[str] = set()
        self.language_models: dict[str, str] = {}  # search name -> ARPA text, to rebuild them
        self.words: set[str] = set()  # pronunciations added to this decoder's dictionary


_NOTHING_YET = Hypothesis("", 0.0, ENGINE_NAME, final=False)


class PocketSphinxRecognizer:
    """One stream, decoded in this process."""

    def __init__(self, engine: "LocalDecoders", pooled: _Decoder, search: str, sample_rate: int):
        measure_cmn = CMN_SECONDS > 0
        self._engine = engine
        self._pooled = pooled
        self.sample_rate = sample_rate
        self._upsampler = Upsampler(MODEL_RATE // sample_rate)
        self._suppressor = denoise.NoiseSuppressor(sample_rate) if "first" in denoise.APPLY else None
        self._noise_at = 0
        pooled.decoder.activate_search(search)
        self._search = search
        self._held: list[bytes] | None = [] if measure_cmn else None  # audio until the mean is measured
        self._voice = 0.0  # seconds of voice held so far
        if not measure_cmn:
            pooled.decoder.set_cmn(OLD_PHONE_CMN)
            pooled.decoder.start_utt()
        self._finished: Hypothesis | None = None

    def _front_end(self, pcm16: bytes) -> bytes:
        if self._suppressor is not None:
            pcm16 = self._suppressor.process(pcm16)
        x = np.frombuffer(self._upsampler.process(pcm16), "<i2").astype(np.float64)
        noise = _noise()
        idx = (self._noise_at + np.arange(len(x))) % len(noise)
        self._noise_at = (self._noise_at + len(x)) % len(noise)
        return np.clip(np.round(x + noise[idx]), -32768, 32767).astype("<i2").tobytes()

    def _start(self) -> None:
        """Measure the cepstral mean on what is held (features only), then decode it from the start."""
        d = self._pooled.decoder
        audio = b"".join(self._held or [])
        self._held = None
        # A fresh front end for every answer: its noise and silence estimates would otherwise carry
        # over from the previous caller on this pooled decoder, and results would depend on which
        # decoder a call gets. The measuring pass also primes them on this answer's own audio
        # (measured: without it, fewer answers were right). It runs under a one-word search, so
        # ending it costs ~20 ms instead of a second full decode of the held audio.
        d.reinit_feat()
        if audio:
            d.activate_search(CMN_SEARCH)
            d.start_utt()
            d.process_raw(audio, no_search=True, full_utt=True)
            d.end_utt()
            d.activate_search(self._search)
        d.start_utt()
        if audio:
            d.process_raw(audio)

    def _hypothesis(self, final: bool) -> Hypothesis:
        hyp = self._pooled.decoder.hyp()
        text = hyp.hypstr if hyp is not None else ""
        # No posterior without a lattice pass (too slow live): a non-empty result is all we know;
        # the skill classifier's calibrated confidence decides whether to confirm.
        return Hypothesis(text, 1.0 if text else 0.0, ENGINE_NAME, final=final)

    def accept(self, pcm16: bytes) -> Hypothesis:
        if self._finished is not None:
            return self._finished
        audio = self._front_end(pcm16)
        if self._held is None:
            self._pooled.decoder.process_raw(audio)
            return _NOTHING_YET  # PocketSphinx has no endpointer of its own: the session decides
        self._held.append(audio)
        if self._voice or rms_dbfs(pcm16) >= VOICE_DBFS:
            self._voice += len(pcm16) / 2 / self.sample_rate
            if self._voice >= CMN_SECONDS:
                self._start()
        return _NOTHING_YET

    def partial(self) -> Hypothesis:
        if self._finished is not None:
            return self._finished
        if self._held is not None:
            if not self._voice:
                return _NOTHING_YET
            self._start()  # a short answer and a pause: measure on what there is
        return self._hypothesis(final=False)

    def finish(self) -> Hypothesis:
        if self._finished is None:
            if self._held is not None:
                self._start()
            self._pooled.decoder.end_utt()
            self._finished = self._hypothesis(final=True)
            self._engine.release(self._pooled)
        return self._finished

    def close(self) -> None:
        """Give the decoder back even when the stream ended without a result."""
        self.finish()


class LocalDecoders:
    """The decoders of one process, pooled and reused across streams."""

    def __init__(self, pool_size: int = 16):
        try:
            import pocketsphinx  # noqa: F401
        except ImportError as exc:
            raise EngineUnavailable("pocketsphinx is not installed") from exc
        self._idle: dict[bool, list[_Decoder]] = {True: [], False: []}
        self._lock = threading.Lock()
        self._pool_size = pool_size
        self._idle[True].append(_Decoder(self._new_decoder(grammar=True), True))  # proves the model loads
        self.prons = _pronunciations()


    def idle_decoders(self) -> int:
        with self._lock:
            return sum(len(pool) for pool in self._idle.values())

    @staticmethod
    def _new_decoder(grammar: bool):
        from pocketsphinx import Decoder

        # bestpath=False: with looping grammars the default took 50-100 s per utterance, and
        # the lattice pass is the slowest part of a language-model search too. fwdflat=False:
        # the second pass cost a quarter more CPU, ran when the caller had finished (latency),
        # and heard no better on the spoken-request recordings (33 vs 32 of 48).
        options = {"lm": None, "dict": SEED_DICTIONARY} if grammar else {}
        decoder = Decoder(bestpath=False, fwdflat=False, loglevel="FATAL", samprate=MODEL_RATE,
                          lw=LM_WEIGHT if grammar else 6.5, **options)
        decoder.add_jsgf_string(CMN_SEARCH, "#JSGF V1.0;\ngrammar cmn;\npublic <u> = a;\n")
        return decoder

    def _take(self, grammar: bool) -> _Decoder:
        with self._lock:
            if self._idle[grammar]:
                return self._idle[grammar].pop()
        return _Decoder(self._new_decoder(grammar), grammar)

    def release(self, pooled: _Decoder) -> None:
        with self._lock:
            pool = self._idle[pooled.grammar]
            if len(pool) < self._pool_size:
                pool.append(pooled)

    def _add_words(self, pooled: _Decoder, words: set[str]) -> None:
        """Add pronunciations for `words` to the decoder's dictionary.

        PocketSphinx also adds every new dictionary word, as a unigram, to every language-model
        search the decoder already holds (ps_add_word): after the time question's words were added,
        the phone-number model could hear "tomorrow" between two digits. So the language models
        built before are rebuilt from their own text afterwards."""
        new = sorted(w for w in words - pooled.words if w in self.prons and w != "a")  # "a" is the seed word
        if not new:
            return
        for index, word in enumerate(new):
            for variant, phones in enumerate(self.prons[word]):
                name = word if variant == 0 else f"{word}({variant + 1})"
                last = index == len(new) - 1 and variant == len(self.prons[word]) - 1
                pooled.decoder.add_word(name, phones, last)
        pooled.words.update(new)
        for name, arpa in pooled.language_models.items():
            self._add_language_model(pooled, name, arpa)

    @staticmethod
    def _add_language_model(pooled: _Decoder, name: str, arpa: str) -> None:
        with tempfile.NamedTemporaryFile("w", suffix=".arpa", encoding="utf-8", delete=False) as f:
            f.write(arpa)
        try:
            pooled.decoder.add_lm_file(name, f.name)  # replaces a search of the same name
        finally:
            os.unlink(f.name)
        pooled.language_models[name] = arpa

    @staticmethod
    def words_of(spec: SearchSpec) -> set[str]:
        kind, text = spec
        words = {"jsgf": jsgf_words, "fsg": fsg_words, "lm": arpa_words}.get(kind)
        return words(text) if words else set()

    def _add_search(self, pooled: _Decoder, spec: SearchSpec) -> None:
        kind, text = spec
        self._add_words(pooled, self.words_of(spec))
        if kind == "jsgf":
            pooled.decoder.add_jsgf_string(spec.name, text)
        elif kind == "fsg":
            start, final, transitions = fsg_transitions(text)
            pooled.decoder.add_fsg(spec.name, pooled.decoder.create_fsg(spec.name, start, final, transitions))
        elif kind == "lm":
            self._add_language_model(pooled, spec.name, text)
        pooled.searches.add(spec.name)

    def prepare(self, specs, decoders: int) -> None:
        """Build `decoders` decoders holding every search in `specs`, so the first calls do not
        wait for a decoder or a search to be built (a language model search takes 0.2-0.4 s)."""
        specs = [SearchSpec(*spec) for spec in specs if spec[0] != "free"]
        words = set().union(*(self.words_of(spec) for spec in specs)) if specs else set()
        ready: list[_Decoder] = []
        for _ in range(decoders):
            pooled = self._take(True)
            self._add_words(pooled, words)  # every word first: no model is rebuilt for the next one's words
            for spec in specs:
                if spec.name not in pooled.searches:
                    self._add_search(pooled, spec)
            ready.append(pooled)
        with self._lock:
            self._pool_size = max(self._pool_size, decoders)
        for pooled in ready:
            self.release(pooled)

    def recognizer(self, sample_rate: int, spec: SearchSpec) -> PocketSphinxRecognizer:
        if MODEL_RATE % sample_rate:
            raise ValueError(f"cannot upsample {sample_rate} Hz to {MODEL_RATE} Hz by a whole factor")
        pooled = self._take(spec[0] != "free")
        try:
            if spec.name not in pooled.searches and spec[0] != "free":
                self._add_search(pooled, spec)
            return PocketSphinxRecognizer(self, pooled, spec.name, sample_rate)
        except Exception:
            self.release(pooled)
            raise


def default_workers() -> int:
    """SPEECH_WORKERS, else one decoding process per core (0: decode in the calling process)."""
    value = os.environ.get("SPEECH_WORKERS", "").strip()
    if value:
        return max(0, int(value))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores if cores > 1 else 0


class PocketSphinxEngine:
    name = ENGINE_NAME

    def __init__(self, language: str = "en-US", workers: int | None = None):
        if language.lower() != "en-us":
            raise EngineUnavailable("the bundled PocketSphinx model is US English only")
        self.language = language
        self._specs: dict[tuple, SearchSpec] = {}
        self.workers = default_workers() if workers is None else workers
        self._pool = None
        if self.workers:
            from speech.pool import DecoderPool

            self._pool = DecoderPool(self.workers)  # they start while this process reads the dictionary
            weakref.finalize(self, self._pool.close)  # an engine dropped (tests) stops its workers
        # Decoders in this process too: they serve while the workers are still starting (a second
        # or two; longer on a busy machine), so the first callers are not kept waiting.
        self._local = LocalDecoders()
        self._prons = self._local.prons

    def idle_decoders(self) -> int:
        return self._local.idle_decoders()

    def has_word(self, word: str) -> bool:
        return word in self._prons

    def missing_words(self, phrases: Sequence[str]) -> list[str]:
        words = {w for p in phrases for w in normalise_phrase(p).split()}
        return sorted(w for w in words if not self.has_word(w))

    def search_spec(self, phrases: Sequence[str] | None) -> SearchSpec:
        """The search for a grammar (built once per grammar): its structure (a finite-state grammar of
        the answer's form) when it has one the dictionary can say, else a language model from its
        example sentences when it has them, else a JSGF of its phrases; None is free-form."""
        if phrases is None:
            return SearchSpec("free")
        sentences = tuple(getattr(phrases, "sentences", ()) or ())
        structure = getattr(phrases, "structure", None) if STRUCTURED else None
        key = (tuple(phrases), sentences, getattr(phrases, "max_phrases", 3), structure)
        spec = self._specs.get(key)
        if spec is None:
            form = "fsg" if (structure or "").startswith("FSG_BEGIN") else "jsgf"
            if structure and not (missing := {w for w in LocalDecoders.words_of(SearchSpec(form, structure))
                                              if not self.has_word(w)}):
                spec = SearchSpec(form, structure)
            else:
                if structure:
                    log.warning("PocketSphinx dictionary lacks structure words %s; using a language model",
                                ", ".join(sorted(missing)))
                spec = self._lm(sentences) if sentences else self._jsgf(phrases)
            self._specs[key] = spec
        return spec

    def _lm(self, sentences: Sequence[str]) -> SearchSpec:
        runs: list[list[str]] = []
        missing: set[str] = set()
        for sentence in sentences:
            run: list[str] = []
            for word in normalise_phrase(sentence).split():
                if self.has_word(word):
                    run.append(word)
                else:  # a word the dictionary cannot say splits the sentence (no n-gram across it)
                    missing.add(word)
                    if run:
                        runs.append(run)
                    run = []
            if run:
                runs.append(run)
        if missing:
            log.info("PocketSphinx dictionary lacks %d example words (left out of the language model): %s",
                     len(missing), ", ".join(sorted(missing)[:20]))
        if not runs:
            raise ValueError("no example sentence can be recognised")
        return SearchSpec("lm", arpa_from_sentences(runs))

    def _jsgf(self, phrases: Sequence[str]) -> SearchSpec:
        missing = set(self.missing_words(phrases))
        if missing:
            log.warning("PocketSphinx dictionary lacks grammar words %s; phrases using them are left out",
                        ", ".join(sorted(missing)))
        kept = [normalise_phrase(p) for p in phrases
                if normalise_phrase(p) and not set(normalise_phrase(p).split()) & missing]
        if not kept:
            raise ValueError("no grammar phrase can be recognised")
        return SearchSpec("jsgf", jsgf(kept, max_phrases=getattr(phrases, "max_phrases", 3)))

    def prepare(self, grammars: Sequence[Sequence[str]], streams: int = 16) -> None:
        """Get ready for `streams` calls at once listening for any of `grammars`: decoders with
        every search built, in each worker (or here), before the first caller needs one."""
        specs = [tuple(self.search_spec(g)) for g in grammars if g is not None]
        if self._pool is not None:
            self._pool.prepare(specs, max(1, -(-streams // self._pool.size)))
        else:
            self._local.prepare([SearchSpec(*s) for s in specs], streams)

    def recognizer(self, sample_rate: int, phrases: Sequence[str] | None = None,
                   jsgf_text: str | None = None):
        """As Engine.recognizer; `jsgf_text` (PocketSphinx only) uses a hand-written
        JSGF grammar instead of a phrase list."""
        if MODEL_RATE % sample_rate:
            raise ValueError(f"cannot upsample {sample_rate} Hz to {MODEL_RATE} Hz by a whole factor")
        spec = SearchSpec("jsgf", jsgf_text) if jsgf_text is not None else self.search_spec(phrases)
        if self._pool is not None and self._pool.ready():
            return self._pool.recognizer(sample_rate, spec)
        return self._local.recognizer(sample_rate, spec)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
