"""Two recognisers, combined by measurement: PocketSphinx streams, Whisper decodes the held answer.

PocketSphinx listens to every call as it happens (barge-in, end of speech, cheap answers). When the
answer has ended, the cascade decides per answer kind whether Whisper decodes the held utterance:
`always`, only when the first pass is `unsure` (its words make no decisive answer of the kind), or
`never`. With both transcripts, the answer's state (understanding.confidence: agree, disagree,
single, first_only, weak) gives its calibrated confidence; a decisive answer wins over one that is not, and PICK
says whose words stand when both are decisive and differ.
POLICY and PICK were chosen on the dev recordings (bench/speech_cascade.py; docs/benchmarks.md has
every combination's accuracy and CPU per answer).

Fallbacks: without Whisper (not installed, no model, WHISPER_MODEL=off) the first pass stands, with
the confidence of its own state. Capacity: a live answer must be stored within ANSWER_DEADLINE of
the caller's last voice. Whisper is not asked when its queue would not be through by then (at its
recent pace), its worker drops a request whose turn comes too late, and the cascade does not wait
past the deadline. An answer that wanted Whisper and did not get it (that, or a dead worker) keeps
the first pass's words but is doubtful: its confidence is held below the kind's confirmation
threshold (understanding.answers.confirm_below), so the IVR confirms it (a time is read back, a yes
or no is asked again) instead of acting on one recogniser's words. The caller never waits for an error.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import replace
from typing import Mapping

from instruments import recognition_seconds
from speech.session import SPEECH, SpeechOutcome
from understanding.answers import confirm_below
from understanding.confidence import choose, confidence, state
from understanding.words import ANSWER_HINTS, base_language

log = logging.getLogger(__name__)

# When Whisper decodes the held answer, per kind (measured: docs/benchmarks.md, "Two recognisers").
# Skills: always since the seventh round of hearing. Asked only when PocketSphinx's words named no skill surely,
# Whisper never heard the requests PocketSphinx was sure of and wrong ("my credit online" for "I can't get
# online" went to billing): 14 of 128 dev skill requests acted on wrong, 4 with Whisper always and its
# words weighed (understanding.confidence: `first_only`), for about 0.1 CPU-s more per skill request in its
# short window (speech.whisper_engine.SHORT_WINDOW) and menu answers waiting for it within ANSWER_DEADLINE.
# When the admission below leaves Whisper out (busy, off, not yet warm), the skill stands as PocketSphinx
# heard it with the confidence of `alone`, measured at 0.6 since that round (below CONFIRM_BELOW: such a skill
# is confirmed, and one the classifier is unsure of as well falls under the none-of-these floor and the
# menu is asked again). Under load this costs callers a question; it is the price of not acting on a skill
# PocketSphinx alone gets wrong two times in five.
POLICY = {"skill": "always", "yes_no": "always", "digits": "always", "time": "always"}
# Whose words stand when both engines give decisive answers that differ ("merge": digit by digit).
PICK = {"skill": "second", "yes_no": "heard", "digits": "merge", "time": "second"}
SECOND_PASS_TIMEOUT = 4.0  # seconds a recording's answer waits for Whisper (a live one: its deadline)
# A live answer (/media) is stored at most this long after the caller's last voice (the end-of-speech
# pause included): 0.8 s end of speech -> next prompt, less what storing it and moving the call take.
ANSWER_DEADLINE = 0.75  # SPEECH_ANSWER_DEADLINE overrides it: more waits for Whisper, asks again less
DOUBT_MARGIN = 0.01  # how far below the confirmation threshold a doubtful answer's confidence is held
ENDINGS = (SPEECH, "max_duration", "stalled", "max_stream_time")


def answer_deadline(env: Mapping[str, str] | None = None) -> float:
    """Seconds from the caller's last voice to a live answer's deadline: SPEECH_ANSWER_DEADLINE, else
    ANSWER_DEADLINE."""
    value = (os.environ if env is None else env).get("SPEECH_ANSWER_DEADLINE", "").strip()
    try:
        seconds = float(value) if value else ANSWER_DEADLINE
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 60:
        log.warning("SPEECH_ANSWER_DEADLINE must be seconds between 0 and 60; using %s", ANSWER_DEADLINE)
        return ANSWER_DEADLINE
    return seconds


def hint(kind: str | None, language: str, labels: str = "") -> str:
    """The one-line prompt that tells Whisper what kind of answer to expect."""
    text = ANSWER_HINTS.get(base_language(language), {}).get(kind or "", "")
    return text.format(labels=labels) if "{labels}" in text else text


def menu_labels(config, language: str) -> str:
    return ", ".join(s.label_in(language) for s in config.skills.values()) if config is not None else ""


class Cascade:
    """Decides, for one finished answer, whether Whisper hears it too, and what the answer is."""

    def __init__(self, second, understanding=None, config=None, policy: Mapping[str, str] | None = None,
                 pick: Mapping[str, str] | None = None, timeout: float = SECOND_PASS_TIMEOUT):
        self.second = second  # a WhisperEngine, or None
        self.understanding = understanding
        self.config = config
        self.policy = dict(POLICY if policy is None else policy)
        self.pick = dict(PICK if pick is None else pick)
        self.timeout = timeout

    def wants_second_pass(self, kind: str, first_text: str, language: str) -> bool:
        mode = self.policy.get(kind, "never")
        if self.second is None or mode == "never":
            return False
        if mode == "always":
            return True
        return state(kind, first_text, None, language, self.understanding) != "alone"

    def decide(self, outcome: SpeechOutcome, audio: bytes, kind: str | None, language: str,
               sample_rate: int = 8000, deadline: float | None = None) -> SpeechOutcome:
        """The answer to store: `outcome` (the first pass) with the cascade's words and confidence.
        `deadline` (time.monotonic()): when a live answer must be ready (admission, see above; `timeout`
        does not apply); without one (a recording: `ivr speech recognize`, the benches) Whisper is waited
        for up to `timeout`."""
        if kind is None or outcome.reason not in ENDINGS or not audio:
            return outcome
        first = outcome.transcript or ""
        second = None
        wanted = self.wants_second_pass(kind, first, language)
        prompt = hint(kind, language, menu_labels(self.config, language))
        if wanted:
            wait = self.timeout if deadline is None else deadline - time.monotonic()
            began = time.perf_counter()
            heard = self.second.transcribe(audio, sample_rate, prompt, timeout=wait, deadline=deadline, kind=kind)
            if heard is None:
                log.info("no second pass in time (busy, slow or dead worker): the first pass stands, doubtful")
            else:
                second = heard.transcript
                recognition_seconds.labels(self.second.name).observe(time.perf_counter() - began)
        if not first and not second:
            return outcome
        words, which, answer_state = choose(kind, first, second, language, self.understanding,
                                            self.pick.get(kind, "second"), prompt)
        engine = self.second.name if which == 1 else outcome.engine
        sure = confidence(kind, answer_state)
        if wanted and second is None and confirm_below(kind) > 0:
            sure = min(sure, round(confirm_below(kind) - DOUBT_MARGIN, 2))  # confirmed, not acted on
        return replace(outcome, transcript=words, confidence=sure, engine=engine)
