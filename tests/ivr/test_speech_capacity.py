"""When speech capacity runs out, callers keep their keys and hear no error.

Whole calls through the signed webhooks, speech streamed over /media as Twilio streams it (the product's
emulator), with the decoding side made to block the way a saturated or stuck pool does:
- the second recogniser (Whisper) never answers in time: the yes/no answer keeps PocketSphinx's words but
  is doubtful, so it is asked again instead of being acted on ("no" here would say goodbye and hang up);
- the first recogniser (the PocketSphinx pool) hangs: nothing is heard, and the caller's keys still work.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from callbacks.promises import window_words
from config import Prompts, load_ivr_config
from phone_numbers import last_digits
from routing.promise import Window
from speech.abc import Hypothesis
from storage.models import SpeechResult
from telephony.audio import speak
from tests.ivr.test_phone_flow import US_CALLER, entries, rt  # noqa: F401 - fixtures
from tests.support.waiting import wait_for
from understanding.answers import confirm_below

NIGHT = datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc)  # 03:00 in New York: every skill is closed
P = Prompts(load_ivr_config(), "en-US")
OPENING_WINDOW = Window(datetime(2026, 11, 25, 13, 0, tzinfo=timezone.utc),
                        datetime(2026, 11, 25, 13, 10, tzinfo=timezone.utc), "America/New_York")
AFTER_HOURS_OFFER = P.text("after_hours_offer", window=window_words(P, OPENING_WINDOW, NIGHT))
NUMBER_CONFIRM = P.text("callback_number_confirm", last_digits=last_digits(US_CALLER))


class SaturatedWhisper:
    """A second pass whose queue never drains: each request is refused at once, as WhisperEngine.transcribe
    does when its worker's queue cannot be through by the answer's deadline (tests/speech/test_capacity.py)."""

    name = "whisper"

    def __init__(self):
        self.asked = 0

    def transcribe(self, pcm16, sample_rate, prompt="", timeout=10.0, deadline=None, kind=None):
        self.asked += 1
        assert deadline is not None and deadline > time.monotonic(), "a live answer has a deadline"
        return None


class StuckRecognizer:
    """A first pass whose worker took the frames and never answers (until the test ends)."""

    sample_rate = 8000

    def __init__(self, released: threading.Event):
        self.released = released

    def accept(self, pcm16):
        return Hypothesis("", 0.0, "pocketsphinx")

    def partial(self):
        self.released.wait()
        return Hypothesis("", 0.0, "pocketsphinx")

    def finish(self):
        self.released.wait()
        return Hypothesis("", 0.0, "pocketsphinx", final=True)

    def close(self):
        pass


class StuckEngine:
    name = "pocketsphinx"

    def __init__(self):
        self.released = threading.Event()
        self.streams = 0

    def recognizer(self, sample_rate, phrases=None):
        self.streams += 1
        return StuckRecognizer(self.released)


def moved_to_listen(rest, call_sid: str) -> bool:
    """Whether the app asked Twilio's REST API to move this call to its step's `listen` URL."""
    return any(r["method"] == "POST" and r["path"].endswith(f"/Calls/{call_sid}.json")
               and "/listen" in r["form"].get("Url", "") for r in rest.requests)


def results(rt):
    with rt.sessions() as s:
        return [(r.step, r.transcript, r.confidence, r.engine) for r in s.scalars(select(SpeechResult))]


@pytest.fixture
def saturated_whisper(monkeypatch):
    whisper = SaturatedWhisper()
    monkeypatch.setattr("webhooks.media.second_pass_for", lambda language: whisper)
    return whisper


@pytest.fixture
def stuck_pool(monkeypatch):
    engine = StuckEngine()
    monkeypatch.setattr("webhooks.media.engine_for", lambda language, default_language=None: engine)
    yield engine
    engine.released.set()  # the stream threads end with the test


@pytest.mark.parametrize("said", ["no", "yes"])
def test_a_yes_or_no_the_second_recogniser_had_no_time_for_is_asked_again(phone, rt, clock, saturated_whisper,
                                                                           said):
    clock.set(NIGHT)
    call = phone.call(US_CALLER)
    call.press("1")
    assert AFTER_HOURS_OFFER in call.last_heard
    assert call.say(mulaw=speak(said, voice="flite:slt")), call.heard_text()
    assert saturated_whisper.asked == 1  # yes/no always wants the second pass: it was asked, and gave none
    [(step, transcript, confidence, engine)] = results(rt)
    assert step == "after_hours_offer" and engine == "pocketsphinx" and transcript, results(rt)
    assert confidence < confirm_below("yes_no")  # doubtful: one recogniser's words where two were wanted
    assert not call.ended, call.heard_text()  # "no" acted on would have said goodbye and hung up
    assert P.text("not_understood") in call.heard_text()
    assert AFTER_HOURS_OFFER in call.last_heard  # the question goes on, no error played
    call.press("1")  # keys answer it as always
    assert NUMBER_CONFIRM in call.last_heard


def test_a_stuck_speech_pool_leaves_the_keys_working(phone, rt, clock, stuck_pool):
    clock.set(NIGHT)
    call = phone.call(US_CALLER)
    call.press("1")
    assert AFTER_HOURS_OFFER in call.last_heard
    call.say(mulaw=speak("yes please", voice="flite:slt"), timeout=3.0)  # heard by nobody: the pool hangs
    # The app noticed the voice (by its loudness, not its words): it marked the answer as being spoken, then
    # moved the call to wait in silence for the words. The mark comes first, on the same thread as the move.
    # (The menu's stream may also have opened a recognizer before its key arrived: at least the offer's.)
    wait_for(lambda: moved_to_listen(phone.rest, call.call_sid), "the call moved to wait for the words")
    assert stuck_pool.streams >= 1 and results(rt) == [("after_hours_offer", None, None, None)], results(rt)
    assert not call.ended and "error" not in call.heard_text().lower(), call.heard_text()
    call.press("1")  # the caller gives up on speaking and keys the answer
    assert NUMBER_CONFIRM in call.last_heard
    call.press("1")  # and books the callback: the call goes on to its end as with speech off
    assert P.text("callback_agreed_scheduled", window=window_words(P, OPENING_WINDOW, NIGHT),
                  last_digits=last_digits(US_CALLER)) in call.last_heard
    [entry] = entries(rt)
    assert entry.kind == "callback" and entry.phone_number == US_CALLER
