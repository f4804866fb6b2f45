"""Decoding in worker processes: same answers as in this process, and a dead worker is survived."""
import os
import signal
import time

import pytest

from speech.audio import read_wav
from speech.grammar import grammar_for
from speech.pocketsphinx_engine import PocketSphinxEngine

from .conftest import CARD_WORDS


@pytest.fixture(scope="module")
def local_engine():
    return PocketSphinxEngine("en-US", workers=0)


def feed(rec, pcm):
    for i in range(0, len(pcm), 320):
        rec.accept(pcm[i:i + 320])
    return rec.finish()


def test_workers_hear_what_this_process_hears(en_engine, local_engine, audio_path):
    assert en_engine.workers >= 1  # the engine the app uses decodes in worker processes
    for name, grammar in [("cards_004.wav", CARD_WORDS), ("tidigits_2934z.wav", grammar_for("digits", "en-US")),
                          ("tts_en_yes.wav", grammar_for("yes_no", "en-US"))]:
        pcm = read_wav(audio_path("en", name)).pcm16
        pooled, local = feed(en_engine.recognizer(8000, grammar), pcm), feed(local_engine.recognizer(8000, grammar), pcm)
        assert pooled.transcript == local.transcript and pooled.final and pooled.engine == "pocketsphinx"


def test_a_partial_then_the_final(en_engine, audio_path):
    pcm = read_wav(audio_path("en", "tts_en_yes.wav")).pcm16
    rec = en_engine.recognizer(8000, grammar_for("yes_no", "en-US"))
    for i in range(0, len(pcm), 320):
        rec.accept(pcm[i:i + 320])
    partial = rec.partial().transcript
    assert partial == rec.finish().transcript and partial in ("yes", "yeah", "yep", "yup")
    rec.close()  # after finish: nothing more to release


def test_a_worker_that_dies_is_replaced(audio_path):
    engine = PocketSphinxEngine("en-US", workers=1)
    try:
        pcm = read_wav(audio_path("en", "tts_en_no.wav")).pcm16
        rec = engine.recognizer(8000, grammar_for("yes_no", "en-US"))
        rec.accept(pcm[:3200])
        os.kill(engine._pool.pids()[0], signal.SIGKILL)
        assert rec.finish().transcript == ""  # that stream's words are gone: like silence
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if feed(engine.recognizer(8000, grammar_for("yes_no", "en-US")), pcm).transcript == "no":
                    break
            except RuntimeError:  # no worker yet
                time.sleep(0.2)
        else:
            pytest.fail("no replacement worker answered")
    finally:
        engine.close()
