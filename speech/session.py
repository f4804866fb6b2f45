"""One media stream's recognition, from the first frame to a result.

The session decides when the caller has finished, the same way for every engine:
trailing silence after speech (a simple loudness detector; shorter once the
engine has words that make a whole answer, longer while they do not), no speech
at all for a while, a maximum length, a DTMF key, or the caller hanging up. An
engine with an endpointer of its own (Vosk: Kaldi ends an utterance after about
0.5-1 s of silence) does not end the answer: its finals are joined, with the
words after the last of them, into one hypothesis for the whole answer
(`joined`). Audio time is counted from the samples received, so tests are
deterministic; the wall clock (injectable) only guards against frames that stop
arriving.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

from instruments import recognition_seconds
from speech.abc import Hypothesis, Recognizer
from speech.audio import rms_dbfs
from speech.twilio_media import Dtmf, Media, Stop, mulaw_to_pcm16

# Why a session ended; stored with the result so the IVR can pick its prompt.
SPEECH = "speech"  # the caller said something and stopped
DTMF = "dtmf"  # a key was pressed
NO_SPEECH = "no_speech"  # nothing heard before the no-speech timeout
MAX_DURATION = "max_duration"  # kept talking past the limit; whatever was heard is used
HANGUP = "hangup"  # Twilio sent stop (caller hung up, or the call moved on)
STALLED = "stalled"  # frames stopped arriving (network); wall-clock guard


@dataclass(frozen=True)
class SessionLimits:
    # s of audio with no speech before giving up; None on a forked stream, where the caller is
    # listening to the prompt and the Gather's own timeout decides when nothing was said.
    no_speech_timeout: float | None = 5.0
    end_silence: float = 0.6  # s of quiet after speech that ends the utterance
    # Shorter when the engine already holds words: after a grammar phrase, 0.3 s of quiet
    # is enough, and the IVR answers sooner (a pause mid-phrase has no words yet).
    end_silence_after_words: float = 0.3
    # With a test of whether the words make a whole answer (SpeechSession's `complete`: a phone number of
    # the country's length), a pause after words that do not is the caller between groups of digits
    # ("four one five ... five five five ..."): it ends the answer only after this long.
    end_silence_incomplete: float = 1.2
    max_duration: float = 15.0  # s of one answer at most, from its first voice
    preroll: float = 0.5  # s of audio before the voice started that the recognizer still gets
    barge_in: float = 0.25  # s of voice before the caller counts as speaking over the prompt
    # Louder than this counts as voice on a quiet line (a clean line's hiss is ~-60..-70 dBFS); on a noisy
    # one, louder than the line's own noise floor by noise_margin (see VoiceDetector).
    speech_dbfs: float = -45.0
    noise_margin: float = 6.0  # dB above the line's noise floor a frame must be to count as voice
    noise_window: float = 2.0  # s over which the floor is the quietest frame (minimum statistics)
    # Voice counts only in runs of at least this many frames (60 ms): a syllable is longer, a noise's stray
    # loud frame is not (it would set off a barge-in, or keep an answer from ending).
    voice_run: int = 3
    min_speech: float = 0.1  # s of voice needed before speech "started" (clicks are shorter)
    stall_timeout: float = 3.0  # wall-clock s without any frame before giving up


@dataclass(frozen=True)
class SpeechOutcome:
    reason: str
    transcript: str = ""
    confidence: float = 0.0
    engine: str | None = None
    digit: str | None = None
    audio_seconds: float = 0.0

    @property
    def heard_speech(self) -> bool:
        return bool(self.transcript)


class VoiceDetector:
    """Which frames of one line are voice: louder than speech_dbfs and than the line's noise floor by
    noise_margin. The floor is the quietest frame of the last noise_window seconds (minimum statistics):
    it follows a quieter line at once and a noise that starts mid-call within noise_window, and speech,
    which dips between syllables and words, does not lift it. It needs no learning time: from the first
    frame it is the quietest frame so far, so a line noisy from the first frame is never voice, and a
    caller who speaks at once is voice from the first frame margin louder than the quietest so far (a
    word rises); when the floor falls in the first noise_window seconds, SpeechSession judges those
    frames again (opening_voice). A noise that begins mid-call is voice until its start leaves the window
    (SpeechSession then takes back the speech it seemed to be). On a quiet line (a frame at or below
    speech_dbfs - noise_margin within the window: clean lines have hiss at ~-60 dBFS, or digital silence)
    the threshold is speech_dbfs, as before. Per frame: one comparison per dropped entry of a monotonic
    queue (amortised O(1))."""

    def __init__(self, limits: SessionLimits = SessionLimits()):
        self.speech_dbfs, self.margin = limits.speech_dbfs, limits.noise_margin
        self.window, self.run = limits.noise_window, limits.voice_run
        self._silent = 0  # digital-silence frames in a row
        self._seconds = 0.0
        self._quietest: deque[tuple[float, float]] = deque()  # (audio time, level), levels increasing
        # The stream's first `window` seconds, (start, end, level) per frame: judged again when the floor
        # falls there (a caller who spoke at the first frame set a floor that the quiet after showed wrong).
        self._opening: list[tuple[float, float, float]] | None = []
        self.floor_fell = False  # the last frame lowered the floor

    @property
    def floor(self) -> float:
        """The line's noise floor in dBFS (the quietest frame in the window; -inf before any frame)."""
        return self._quietest[0][1] if self._quietest else float("-inf")

    @property
    def threshold(self) -> float:
        return max(self.speech_dbfs, self.floor + self.margin)

    def is_voice(self, level: float, seconds: float) -> bool:
        """Count one frame of `seconds` at `level` dBFS (rms_dbfs) and say whether it is voice."""
        before = self.floor if self._quietest else None
        if self._opening is not None:
            if self._seconds < self.window:
                self._opening.append((self._seconds, self._seconds + seconds, level))
            else:
                self._opening = None
        self._seconds += seconds
        quietest = self._quietest
        # Digital silence sets the floor only as a run (a silent line): one dropped frame or two on a noisy
        # line would pin it for the whole window.
        self._silent = self._silent + 1 if level == float("-inf") else 0
        if level != float("-inf") or self._silent >= self.run:
            while quietest and quietest[-1][1] >= level:
                quietest.pop()
            quietest.append((self._seconds, level))
        while quietest and quietest[0][0] <= self._seconds - self.window:
            quietest.popleft()
        self.floor_fell = before is not None and self.floor < before
        return level >= self.threshold

    def opening_voice(self) -> list[tuple[float, float, float]]:
        """The frames of the stream's first `window` seconds that are voice by today's floor (start, end,
        level); none once the stream is older than that."""
        threshold = self.threshold
        return [frame for frame in self._opening or () if frame[2] >= threshold]


class SpeechSession:
    def __init__(self, recognizer: Recognizer | None, limits: SessionLimits = SessionLimits(),
                 clock: Callable[[], float] = time.monotonic, on_speaking: Callable[[], None] | None = None,
                 keep_audio: bool = False, complete: Callable[[str], bool] | None = None):
        # recognizer None: a DTMF-only stream (no model for this language).
        self._recognizer = recognizer
        # Whether the words heard so far make a whole answer (None: any words do). A pause after words
        # that do not ends the answer only after limits.end_silence_incomplete.
        self._complete = complete
        self.limits = limits
        self._clock = clock
        self.sample_rate = recognizer.sample_rate if recognizer else 8000
        self.audio_seconds = 0.0
        self._voiced = 0.0
        self._voice_peak = float("-inf")  # the loudest frame counted as voice (dBFS)
        self._run: list[tuple[float, float, float]] = []  # voice frames not yet a run (seconds, until, level)
        self._in_run = False  # the frames since the last non-voice one made a run
        self._speech_started = False
        self._last_voice = 0.0
        self._finals: list[Hypothesis] = []  # the engine's finals heard mid-stream, with words, in order
        self._asked_for_words = False  # asked the engine for words during this pause
        self._last_frame_at = clock()
        self._speech_start = 0.0
        # Audio before the first voice is held back (only the last `preroll` seconds of it), so a
        # stream that listens through a whole prompt does not spend the recognizer on silence.
        self._held: list[bytes] = []
        self._held_seconds = 0.0
        self._on_speaking = on_speaking  # called once, when the caller has spoken for `barge_in` s
        self.outcome: SpeechOutcome | None = None
        # What the recognizer was fed (the answer, from `preroll` before the voice), for a second pass
        # over the held utterance (speech/cascade.py); kept only when asked for.
        self._kept: list[bytes] | None = [] if keep_audio else None
        # The line's voice detector: its floor is learnt while the stream listens through the prompt (/media
        # opens one stream, and so one session, per question: a new question's stream learns it again there).
        self.voice = VoiceDetector(limits)

    @property
    def utterance(self) -> bytes:
        """The audio the recognizer heard (empty unless made with keep_audio=True)."""
        return b"".join(self._kept or [])

    @property
    def quiet_seconds(self) -> float:
        """Seconds of audio since the caller's voice was last heard (all of it before any voice)."""
        return self.audio_seconds - self._last_voice

    @property
    def counted_pause(self) -> float:
        """Seconds of the final quiet that count against the answer's deadline (speech.cascade): all of it,
        except that a pause waited out because the words made no whole answer (`complete`) counts as the
        usual short one. Else a number whose end was waited for would leave the second pass no time."""
        quiet = self.quiet_seconds
        return quiet if self._complete is None else min(quiet, self.limits.end_silence_after_words)

    @property
    def done(self) -> bool:
        return self.outcome is not None

    # --- input ---------------------------------------------------------------

    def handle(self, event) -> SpeechOutcome | None:
        """Feed one parsed Twilio event (Media, Dtmf, Stop; others are ignored)."""
        if isinstance(event, Media):
            if event.track not in ("inbound", "inbound_track"):
                return self.outcome
            return self.feed_audio(mulaw_to_pcm16(event.payload))
        if isinstance(event, Dtmf):
            return self.feed_dtmf(event.digit)
        if isinstance(event, Stop):
            return self.hangup()
        return self.outcome

    def feed_audio(self, pcm16: bytes) -> SpeechOutcome | None:
        if self.done:
            return self.outcome
        self._last_frame_at = self._clock()
        seconds = len(pcm16) / 2 / self.sample_rate
        self.audio_seconds += seconds
        level = rms_dbfs(pcm16)
        voice = self.voice.is_voice(level, seconds)
        if not voice:
            self._run, self._in_run = [], False
        if voice and not self._in_run:
            self._run.append((seconds, self.audio_seconds, level))
            if len(self._run) >= self.limits.voice_run:
                if self._voiced == 0.0:
                    self._speech_start = self._run[0][1] - self._run[0][0]
                run, self._run, self._in_run = self._run, [], True
                for frame in run:
                    self._heard(*frame)
        elif voice:
            self._heard(seconds, self.audio_seconds, level)
        elif not self._speech_started and self.voice.floor_fell:
            # The floor fell in the stream's first seconds: a caller who spoke from its first frames set it
            # (a word's first frame was the quietest so far), and their word is voice by the floor now known.
            heard = self.voice.opening_voice()
            if heard:
                self._voiced, self._voice_peak, self._speech_start = 0.0, float("-inf"), heard[0][0]
            for start, end, loud in heard:
                self._heard(end - start, end, loud)
        elif self._voiced and self.voice.threshold > self._voice_peak and not self._finals:
            # The line's floor has risen above everything that counted as voice: that was a noise that began
            # (a fan, a street), learnt now, not the caller. It is no longer their speech (a barge-in it
            # set off is not undone), and its audio is not the answer's. (Words the engine already ended an
            # utterance on are kept: then it was a caller, quiet against the noise.)
            self._voiced, self._speech_started, self._last_voice = 0.0, False, 0.0
            self._voice_peak = float("-inf")
            if self._kept:
                del self._kept[:-max(1, int(self.limits.preroll / seconds))]
        elif not self._speech_started and self._voiced \
                and self.audio_seconds - self._last_voice >= self.limits.end_silence:
            # Runs of voice too short to be speech, far apart: a noisy line's louder moments, not a caller.
            self._voiced, self._voice_peak = 0.0, float("-inf")
        if self._voiced == 0.0 and self.limits.no_speech_timeout is None:
            self._hold_back(pcm16, seconds)
        elif self._recognizer is not None:
            for held in self._take_held():
                self._feed(held)
            hyp = self._feed(pcm16)
            if hyp.final and not hyp.empty:
                # The engine ended an utterance of its own (Kaldi, about 0.5-1 s into a pause): not the end
                # of the answer (a caller between groups of digits has not finished). Keep its words; the rules
                # below end the answer, asking again whether the words so far make a whole one.
                self._finals.append(hyp)
                self._asked_for_words = False
                if not self._speech_started and self.limits.no_speech_timeout is not None:
                    # Words from a caller the loudness never counted as voice (quieter than the line's floor),
                    # where the engine hears the stream from its start (a no-speech time-out: not /media's
                    # forked streams, which feed it only from the first voice): the engine's end of utterance
                    # is the only end of speech there is; the pause runs from it.
                    self._speech_started = True
                    self._last_voice = self.audio_seconds
        quiet = self.audio_seconds - self._last_voice
        end_silence = self.limits.end_silence if self._complete is None else self.limits.end_silence_incomplete
        if self._speech_started and quiet >= end_silence:
            return self._end(SPEECH)
        if self._speech_started and quiet >= self.limits.end_silence_after_words and not self._asked_for_words:
            self._asked_for_words = True  # once per pause: asking costs more than decoding a frame
            partial = getattr(self._recognizer, "partial", None)
            heard = joined(self._finals + ([partial()] if partial is not None else []))
            if heard is not None and (self._complete is None or self._complete(heard.transcript)):
                return self._end(SPEECH)
        if not self._speech_started and self.limits.no_speech_timeout is not None \
                and self.audio_seconds >= self.limits.no_speech_timeout:
            return self._end(NO_SPEECH)
        if self._voiced > 0 and self.audio_seconds - self._speech_start >= self.limits.max_duration:
            return self._end(MAX_DURATION)
        return None

    def _heard(self, seconds: float, until: float, level: float) -> None:
        """Voice for `seconds`, ending at `until` (audio s), at `level` dBFS."""
        self._voice_peak = max(self._voice_peak, level)
        self._voiced += seconds
        self._last_voice = until
        self._asked_for_words = False
        if self._voiced >= self.limits.min_speech:
            self._speech_started = True
        if self._on_speaking is not None and self._voiced >= self.limits.barge_in:
            on_speaking, self._on_speaking = self._on_speaking, None
            on_speaking()

    def _feed(self, pcm16: bytes) -> Hypothesis:
        if self._kept is not None:
            self._kept.append(pcm16)
        return self._recognizer.accept(pcm16)

    def _hold_back(self, pcm16: bytes, seconds: float) -> None:
        self._held.append(pcm16)
        self._held_seconds += seconds
        # The preroll before the voice, and the voice frames of a run not yet long enough to count.
        keep = self.limits.preroll + sum(frame[0] for frame in self._run)
        while self._held and self._held_seconds - len(self._held[0]) / 2 / self.sample_rate >= keep:
            self._held_seconds -= len(self._held.pop(0)) / 2 / self.sample_rate

    def _take_held(self) -> list[bytes]:
        held, self._held, self._held_seconds = self._held, [], 0.0
        return held

    def feed_dtmf(self, digit: str) -> SpeechOutcome:
        if not self.done:
            self._discard()
            self.outcome = SpeechOutcome(DTMF, digit=digit, audio_seconds=self.audio_seconds)
        return self.outcome

    def hangup(self) -> SpeechOutcome:
        if not self.done:
            self._end(HANGUP)
        return self.outcome

    def tick(self) -> SpeechOutcome | None:
        """Call when no frame arrived for a while: ends a stalled stream."""
        if not self.done and self._clock() - self._last_frame_at >= self.limits.stall_timeout:
            return self._end(STALLED)
        return self.outcome

    def end(self, reason: str) -> SpeechOutcome:
        """End from outside (the stream's wall-clock cap, or the call moved on): keeps any words heard."""
        if not self.done:
            self._end(reason)
        return self.outcome

    def close(self) -> None:
        """Release the recognizer if the stream ended without an outcome (socket dropped)."""
        if not self.done:
            self._end(HANGUP)

    # --- ending --------------------------------------------------------------

    def _discard(self) -> None:
        if self._recognizer is not None:
            close = getattr(self._recognizer, "close", None)
            (close or self._recognizer.finish)()
            self._recognizer = None

    def _end(self, reason: str) -> SpeechOutcome:
        last = None
        if self._recognizer is not None:
            began = time.perf_counter()
            last = self._recognizer.finish()
            if last is not None:
                recognition_seconds.labels(last.engine or "unknown").observe(time.perf_counter() - began)
            self._discard()
        hyp = joined(self._finals + ([last] if last is not None else []))
        if hyp is not None:
            if reason == NO_SPEECH:
                reason = SPEECH  # quiet, but the engine heard words: trust it
            self.outcome = SpeechOutcome(reason, hyp.transcript, hyp.confidence, hyp.engine,
                                         audio_seconds=self.audio_seconds)
        else:
            self.outcome = SpeechOutcome(reason, engine=last.engine if last is not None else None,
                                         audio_seconds=self.audio_seconds)
        return self.outcome


def joined(parts: list[Hypothesis]) -> Hypothesis | None:
    """One hypothesis for the whole answer from the engine's parts in order (its finals, then the words
    after the last one), or None when none has words. Its confidence is the mean over all the words, each
    word weighing the same (a part's confidence is already its words' mean, Vosk's `conf`): what the engine
    would report had it heard the answer as one utterance, so a pause in itself neither lowers nor raises
    it, and a part heard badly lowers it by its share of the words. (The weakest part would make every
    answer said in two breaths look doubtful; a mean per part would let a one-word part weigh as much as a
    ten-digit one.)"""
    spoken = [p for p in parts if not p.empty]
    if len(spoken) <= 1:
        return spoken[0] if spoken else None
    counts = [len(p.transcript.split()) for p in spoken]
    confidence = sum(p.confidence * n for p, n in zip(spoken, counts)) / sum(counts)
    return Hypothesis(" ".join(p.transcript.strip() for p in spoken), round(confidence, 3), spoken[-1].engine,
                      final=True)
