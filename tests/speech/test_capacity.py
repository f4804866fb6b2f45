"""Whisper under load: admission, deadlines and doubtful answers, with the real worker.

A live answer has a deadline (speech/cascade.py, ANSWER_DEADLINE after the caller's last voice). Whisper is
not asked when its worker's queue would not be through by then, its worker drops a request whose turn came
too late, and an answer that wanted Whisper and did not get it is held below its kind's confirmation
threshold. (Through whole calls: tests/ivr/test_speech_capacity.py.)
"""
from __future__ import annotations

import threading
import time

from speech.cascade import Cascade
from speech.whisper_engine import EXPIRED
from tests.speech.test_cascade import first_pass, whisper  # noqa: F401 - fixture
from understanding.answers import confirm_below
from understanding.confidence import CALIBRATION


def test_the_worker_drops_a_request_whose_deadline_passed(en_engine, whisper):  # noqa: F811
    _, audio = first_pass(en_engine, "yes_no", "yes", "flite:slt")
    reply = whisper.pool.ask_any(lambda request: ("w", request, audio, 8000, "", "en-US", time.monotonic() - 1), 60)
    assert reply == ("", 0.0, EXPIRED)
    heard = whisper.transcribe(audio, 8000, timeout=60, deadline=time.monotonic() + 60)
    assert heard is not None and "yes" in heard.transcript.lower()


def test_a_busy_whisper_is_not_asked_and_the_answer_is_confirmed(en_engine, whisper):  # noqa: F811
    outcome, audio = first_pass(en_engine, "yes_no", "no", "flite:slt")
    assert whisper.transcribe(audio, 8000, timeout=60) is not None  # the worker's pace is known
    answered = []
    busy = [threading.Thread(target=lambda: answered.append(whisper.transcribe(audio, 8000, timeout=60)))
            for _ in range(3)]
    for t in busy:
        t.start()
    while whisper.busy() < 3:
        time.sleep(0.01)
    decided = Cascade(whisper).decide(outcome, audio, "yes_no", "en-US", deadline=time.monotonic() + 0.3)
    for t in busy:
        t.join()
    assert decided.engine == "pocketsphinx" and decided.transcript == outcome.transcript
    assert decided.confidence < confirm_below("yes_no")  # doubtful: asked again, never acted on
    assert len(answered) == 3 and all(a is not None for a in answered)  # the queue it was kept out of ran


def test_with_time_to_spare_whisper_is_asked(en_engine, whisper):  # noqa: F811
    outcome, audio = first_pass(en_engine, "yes_no", "yes", "flite:slt")
    decided = Cascade(whisper, timeout=60).decide(outcome, audio, "yes_no", "en-US", deadline=time.monotonic() + 60)
    # Whisper's words, with the calibrated confidence of their state (not held down as doubtful). (In Flite's
    # voice PocketSphinx hears "that": the state is "single", below CONFIRM_BELOW, so the yes is asked again.)
    assert decided.engine == "whisper" and decided.transcript, decided
    assert decided.confidence in CALIBRATION["yes_no"].values(), decided


def test_the_deadline_is_the_operators_to_choose():
    from speech.cascade import ANSWER_DEADLINE, answer_deadline

    assert answer_deadline({}) == ANSWER_DEADLINE
    assert answer_deadline({"SPEECH_ANSWER_DEADLINE": "1.5"}) == 1.5
    assert answer_deadline({"SPEECH_ANSWER_DEADLINE": "soon"}) == ANSWER_DEADLINE
    assert answer_deadline({"SPEECH_ANSWER_DEADLINE": "-1"}) == ANSWER_DEADLINE
