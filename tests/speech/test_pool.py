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
    # (The TIDIGITS recording is five digits, no US phone number: "en" hears digits in a row of any length.)
    for name, grammar in [("cards_004.wav", CARD_WORDS), ("tidigits_2934z.wav", grammar_for("digits", "en")),
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
    assert partial == rec.finish().transcript == "yeah"  # a yes-word of the grammar, heard before the end
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


def test_streams_sharing_a_worker_each_hear_their_own_words(local_engine, audio_path):
    # A worker queues frames per stream and answers a finished stream ahead of the others' backlog
    # (speech/pool.py): interleaved streams, one finished while the others still send, must each
    # hear exactly what they would hear alone.
    engine = PocketSphinxEngine("en-US", workers=1)
    try:
        answers = [("tts_en_yes.wav", grammar_for("yes_no", "en-US")), ("cards_004.wav", CARD_WORDS),
                   ("tts_en_no.wav", grammar_for("yes_no", "en-US")),
                   ("tidigits_2934z.wav", grammar_for("digits", "en"))]
        audio = [read_wav(audio_path("en", name)).pcm16 for name, _ in answers]
        alone = [feed(local_engine.recognizer(8000, grammar), pcm).transcript
                 for (_, grammar), pcm in zip(answers, audio)]
        streams = [engine.recognizer(8000, grammar) for _, grammar in answers]
        heard: dict[int, str] = {}
        for offset in range(0, max(len(pcm) for pcm in audio), 320):
            for index, (rec, pcm) in enumerate(zip(streams, audio)):
                if index in heard:
                    continue
                if offset < len(pcm):
                    rec.accept(pcm[offset:offset + 320])
                else:
                    heard[index] = rec.finish().transcript  # the others still have frames queued
        for index, rec in enumerate(streams):
            heard.setdefault(index, rec.finish().transcript)
        assert [heard[i] for i in range(len(streams))] == alone
        assert all(alone)
    finally:
        engine.close()


def test_a_worker_that_dies_before_it_is_ready_is_started_again_with_growing_waits(monkeypatch):
    """A worker that cannot start (its model will not load, its warm-up crashes) is not respawned in a
    tight loop: at once the first time, then after 1, 2, 4 ... s."""
    import threading

    from speech import pool as pool_module

    waits, enough = [], threading.Event()

    class Timer:  # starts the next worker at once, noting how long the pool would have waited
        def __init__(self, delay, function, args=()):
            self.delay, self.function, self.args, self.daemon = delay, function, args, True

        def start(self):
            waits.append(self.delay)
            if len(waits) >= 3:
                enough.set()
                return
            self.function(*self.args)

    monkeypatch.setattr(pool_module.threading, "Timer", Timer)
    pool = pool_module.DecoderPool(1, worker_module="tests.support.crashing_worker")
    try:
        assert enough.wait(60), "the worker was not restarted"
        assert waits == [1, 2, 4]
        assert not pool.ready()
    finally:
        pool.close()
