import base64
import json

import numpy as np

from speech import session as s
from speech.abc import Hypothesis
from speech.audio import read_wav
from speech.twilio_media import parse_event, pcm16_to_mulaw

FRAME = 320  # 20 ms of 8 kHz 16-bit PCM
SILENCE = b"\0\0" * 160
LOUD = (np.sin(np.arange(160) / 8000 * 2 * np.pi * 300) * 8000).astype("<i2").tobytes()
DIP = (np.sin(np.arange(160) / 8000 * 2 * np.pi * 300) * 100).astype("<i2").tobytes()  # -53 dBFS


def talk(frames: int) -> list[bytes]:
    """A caller talking: LOUD syllables of 0.5 s, each from a dip (a word rises from the line's quiet, and
    speech dips between syllables; an unbroken steady tone is what a line's noise looks like)."""
    return [DIP if i % 25 == 0 else LOUD for i in range(frames)]


class ScriptedRecognizer:
    """Says `words` once it has been fed `after` frames; counts what it was given."""

    sample_rate = 8000

    def __init__(self, words="", final_after=None, partial_words=""):
        self.words, self.final_after, self.partial_words = words, final_after, partial_words
        self.frames = 0
        self.partials_asked = 0
        self.finished = self.closed = False

    def partial(self):
        self.partials_asked += 1
        return Hypothesis(self.partial_words, 0.0, "scripted")

    def accept(self, pcm16):
        self.frames += 1
        if self.final_after is not None and self.frames == self.final_after:
            return Hypothesis(self.words, 0.9, "scripted", final=True)
        return Hypothesis("", 0.0, "scripted")

    def finish(self):
        self.finished = True
        return Hypothesis(self.words, 0.8, "scripted", final=True)

    def close(self):
        self.closed = True


def feed(session, frames):
    for frame in frames:
        outcome = session.feed_audio(frame)
        if outcome:
            return outcome
    return None


def test_trailing_silence_after_speech_ends_the_utterance():
    rec = ScriptedRecognizer("billing")
    session = s.SpeechSession(rec, s.SessionLimits(end_silence=0.6))
    assert feed(session, [SILENCE] * 10 + talk(25)) is None
    outcome = feed(session, [SILENCE] * 100)
    assert outcome.reason == s.SPEECH and outcome.transcript == "billing" and outcome.confidence == 0.8
    # ended 0.6 s after the last loud frame, not at the end of the audio
    assert abs(outcome.audio_seconds - (0.2 + 0.5 + 0.6)) < 0.021
    assert rec.finished and rec.closed


def test_a_shorter_pause_ends_it_once_the_engine_has_words():
    rec = ScriptedRecognizer("billing", partial_words="billing")
    session = s.SpeechSession(rec, s.SessionLimits(end_silence=0.6, end_silence_after_words=0.3))
    feed(session, talk(25))
    outcome = feed(session, [SILENCE] * 100)
    assert outcome.reason == s.SPEECH and outcome.transcript == "billing"
    assert abs(outcome.audio_seconds - (0.5 + 0.3)) < 0.021
    assert rec.partials_asked == 1


def test_a_pause_before_any_words_waits_for_the_full_silence():
    rec = ScriptedRecognizer("I want billing", partial_words="")
    session = s.SpeechSession(rec, s.SessionLimits(end_silence=0.6, end_silence_after_words=0.3))
    # speak, pause 0.4 s (engine has no words yet), speak again, then stop
    assert feed(session, talk(25) + [SILENCE] * 20 + talk(25)) is None
    outcome = feed(session, [SILENCE] * 100)
    assert abs(outcome.audio_seconds - (0.5 + 0.4 + 0.5 + 0.6)) < 0.021
    assert rec.partials_asked == 2  # once per pause


def test_a_pause_between_groups_of_digits_does_not_end_a_phone_number():
    # "four one five ... five five five zero one four two": after the first group the words make no whole
    # number (understanding.answers.completeness), so a 0.6 s pause there is the caller between groups.
    from understanding.answers import completeness

    class Growing(ScriptedRecognizer):
        def partial(self):
            self.partials_asked += 1
            return Hypothesis("four one five" if self.frames <= 60 else self.words, 0.0, "scripted")

    rec = Growing("four one five five five five zero one four two")
    limits = s.SessionLimits(end_silence=0.6, end_silence_after_words=0.3, end_silence_incomplete=1.2)
    session = s.SpeechSession(rec, limits, complete=completeness("digits", "en-US"))
    assert feed(session, talk(30) + [SILENCE] * 30 + talk(50)) is None  # 0.6 s pause: still listening
    outcome = feed(session, [SILENCE] * 100)
    assert outcome.transcript == "four one five five five five zero one four two"
    assert abs(outcome.audio_seconds - (0.6 + 0.6 + 1.0 + 0.3)) < 0.021  # a whole number: the short pause ends it


def test_a_number_left_unfinished_ends_after_the_longer_pause():
    from understanding.answers import completeness

    rec = ScriptedRecognizer("four one five", partial_words="four one five")
    limits = s.SessionLimits(end_silence=0.6, end_silence_after_words=0.3, end_silence_incomplete=1.2)
    session = s.SpeechSession(rec, limits, complete=completeness("digits", "en-US"))
    feed(session, talk(25))
    outcome = feed(session, [SILENCE] * 100)
    assert outcome.transcript == "four one five" and abs(outcome.audio_seconds - (0.5 + 1.2)) < 0.021
    # Its deadline for the second pass runs from the usual short pause, not from the caller's last voice.
    assert abs(session.counted_pause - 0.3) < 0.021 and abs(session.quiet_seconds - 1.2) < 0.021
    # Other answers end as before: any words and a short pause.
    assert completeness("yes_no", "en-US") is None


class Segmenting(ScriptedRecognizer):
    """An engine with an endpointer of its own, as Vosk (Kaldi) is: at the frames in `finals` it ends an
    utterance and returns its words; its partial and finish() hold only the words since its last final."""

    def __init__(self, finals, last_words="", last_confidence=0.8):
        super().__init__(last_words)
        self.finals, self.last_confidence = finals, last_confidence

    def accept(self, pcm16):
        self.frames += 1
        if self.frames in self.finals:
            words, confidence = self.finals[self.frames]
            return Hypothesis(words, confidence, "segmenting", final=True)
        return Hypothesis("", 0.0, "segmenting")

    def partial(self):
        self.partials_asked += 1
        after_last_final = self.frames > max(self.finals)
        return Hypothesis(self.words if after_last_final else "", 0.0, "segmenting")

    def finish(self):
        self.finished = True
        return Hypothesis(self.words, self.last_confidence, "segmenting", final=True)


def test_an_engine_final_in_a_pause_between_groups_of_digits_does_not_end_the_number():
    # "five five five ... one two three four five six seven": the engine ends an utterance 0.5 s into the
    # caller's 0.6 s pause (Kaldi's endpointer), but three digits make no whole number: the answer goes on,
    # and is the whole number, ended by the session's own short pause once the words make one.
    from understanding.answers import completeness

    rec = Segmenting({50: ("five five five", 0.9)}, "one two three four five six seven", last_confidence=0.5)
    limits = s.SessionLimits(end_silence=0.6, end_silence_after_words=0.3, end_silence_incomplete=1.2)
    session = s.SpeechSession(rec, limits, complete=completeness("digits", "en-US"))
    assert feed(session, talk(25) + [SILENCE] * 30 + talk(35)) is None
    outcome = feed(session, [SILENCE] * 100)
    assert outcome.reason == s.SPEECH
    assert outcome.transcript == "five five five one two three four five six seven"
    assert abs(outcome.audio_seconds - (0.5 + 0.6 + 0.7 + 0.3)) < 0.021
    # The confidence of the words, each word weighing the same: (3 * 0.9 + 7 * 0.5) / 10.
    assert outcome.confidence == 0.62 and outcome.engine == "segmenting"


def test_a_number_left_unfinished_after_an_engine_final_ends_after_the_longer_pause():
    from understanding.answers import completeness

    rec = Segmenting({40: ("four one five", 0.9)})
    limits = s.SessionLimits(end_silence=0.6, end_silence_after_words=0.3, end_silence_incomplete=1.2)
    session = s.SpeechSession(rec, limits, complete=completeness("digits", "en-US"))
    outcome = feed(session, talk(25) + [SILENCE] * 100)
    assert outcome.transcript == "four one five" and outcome.confidence == 0.9
    assert abs(outcome.audio_seconds - (0.5 + 1.2)) < 0.021


def test_words_of_an_engine_final_count_as_words_in_the_pause_that_follows():
    # The engine ended its utterance while the loudness detector still heard voice (a noisy line): its
    # partial then holds nothing, but the answer has words, so the short pause ends it, not end_silence.
    rec = Segmenting({20: ("support", 0.7)})
    session = s.SpeechSession(rec, s.SessionLimits(end_silence=0.6, end_silence_after_words=0.3))
    assert feed(session, talk(25)) is None
    outcome = feed(session, [SILENCE] * 100)
    assert outcome.reason == s.SPEECH and outcome.transcript == "support" and outcome.confidence == 0.7
    assert abs(outcome.audio_seconds - (0.5 + 0.3)) < 0.021
    assert rec.finished and rec.closed


def test_an_empty_engine_final_loses_no_words_and_ends_nothing():
    # Kaldi ends an utterance of unknown words only (its <UNK>, left out) or of silence: nothing to keep.
    rec = Segmenting({20: ("", 0.0), 60: ("billing", 0.6)}, "for my account", last_confidence=0.9)
    session = s.SpeechSession(rec, s.SessionLimits(end_silence=0.6, end_silence_after_words=0.3))
    assert feed(session, talk(40) + talk(40)) is None
    outcome = feed(session, [SILENCE] * 100)
    assert outcome.transcript == "billing for my account" and outcome.confidence == 0.825


def test_endless_talk_with_engine_finals_stops_at_max_duration_with_all_of_it():
    rec = Segmenting({50: ("sales", 0.9), 100: ("new contract", 0.6)}, "please")
    outcome = feed(s.SpeechSession(rec, s.SessionLimits(max_duration=3.0)), talk(1000))
    assert outcome.reason == s.MAX_DURATION and outcome.transcript == "sales new contract please"
    assert abs(outcome.audio_seconds - 3.0) < 0.021


def test_barge_in_still_fires_when_the_engine_ends_an_utterance_first():
    spoken = []
    rec = Segmenting({10: ("no", 0.9)})
    session = s.SpeechSession(rec, s.SessionLimits(barge_in=0.25), on_speaking=lambda: spoken.append(rec.frames))
    assert feed(session, talk(20)) is None  # the final at 0.2 s of voice does not end the answer
    assert spoken == [13]  # once, after 0.25 s of voice (the dip first; the frame counted before it is decoded)
    assert feed(session, [SILENCE] * 100).transcript == "no"


def test_an_empty_engine_final_in_silence_leaves_the_no_speech_timeout_alone():
    rec = Segmenting({50: ("", 0.0)})
    outcome = feed(s.SpeechSession(rec, s.SessionLimits(no_speech_timeout=2.0)), [SILENCE] * 500)
    assert outcome.reason == s.NO_SPEECH and outcome.transcript == "" and outcome.engine == "segmenting"
    assert abs(outcome.audio_seconds - 2.0) < 0.021 and rec.closed


def test_joined_parts_are_one_hypothesis_weighted_by_words():
    parts = [Hypothesis("four one five", 1.0, "vosk", final=True), Hypothesis("", 0.0, "vosk", final=True),
             Hypothesis("five five five zero", 0.3, "vosk", final=True)]
    assert s.joined(parts) == Hypothesis("four one five five five five zero", 0.6, "vosk", final=True)
    assert s.joined(parts[:1]) is parts[0]  # one part: as the engine gave it
    assert s.joined(parts[1:2]) is None and s.joined([]) is None


def test_silence_ends_with_no_speech_after_the_timeout():
    rec = ScriptedRecognizer("")
    outcome = feed(s.SpeechSession(rec, s.SessionLimits(no_speech_timeout=2.0)), [SILENCE] * 500)
    assert outcome.reason == s.NO_SPEECH and outcome.transcript == ""
    assert abs(outcome.audio_seconds - 2.0) < 0.021 and rec.closed


def test_a_click_is_not_speech():
    rec = ScriptedRecognizer("")
    outcome = feed(s.SpeechSession(rec, s.SessionLimits(no_speech_timeout=1.0)), [SILENCE, LOUD] + [SILENCE] * 100)
    assert outcome.reason == s.NO_SPEECH


def test_endless_talk_stops_at_max_duration_with_what_was_heard():
    rec = ScriptedRecognizer("sales")
    outcome = feed(s.SpeechSession(rec, s.SessionLimits(max_duration=3.0)), talk(1000))
    assert outcome.reason == s.MAX_DURATION and outcome.transcript == "sales"
    assert abs(outcome.audio_seconds - 3.0) < 0.021


def test_dtmf_ends_the_session_and_discards_speech():
    rec = ScriptedRecognizer("billing")
    session = s.SpeechSession(rec)
    feed(session, talk(10))
    outcome = session.handle(parse_event('{"event":"dtmf","dtmf":{"track":"inbound_track","digit":"2"}}'))
    assert outcome.reason == s.DTMF and outcome.digit == "2" and outcome.transcript == ""
    assert rec.closed
    assert session.feed_audio(LOUD) is outcome  # later frames change nothing


def test_stop_is_a_hangup_and_releases_the_recognizer():
    rec = ScriptedRecognizer("")
    session = s.SpeechSession(rec)
    feed(session, talk(5))
    outcome = session.handle(parse_event('{"event":"stop","stop":{"callSid":"CA1"},"streamSid":"MZ1"}'))
    assert outcome.reason == s.HANGUP and rec.closed


def test_stalled_stream_ends_by_wall_clock():
    now = [100.0]
    rec = ScriptedRecognizer("")
    session = s.SpeechSession(rec, s.SessionLimits(stall_timeout=3.0), clock=lambda: now[0])
    feed(session, [SILENCE] * 5)
    now[0] += 2.9
    assert session.tick() is None
    now[0] += 0.2
    assert session.tick().reason == s.STALLED and rec.closed


def test_without_a_recognizer_only_keys_and_silence_count():
    session = s.SpeechSession(None, s.SessionLimits(no_speech_timeout=1.0))
    assert feed(session, talk(20) + [SILENCE] * 29) is None
    assert feed(session, [SILENCE]).reason == s.SPEECH  # speech detected but nothing understood
    assert session.outcome.transcript == "" and not session.outcome.heard_speech


def test_outbound_track_audio_is_ignored():
    rec = ScriptedRecognizer("")
    session = s.SpeechSession(rec)
    event = parse_event(json.dumps({"event": "media", "media": {"track": "outbound", "payload":
                                                                base64.b64encode(b"\x00" * 160).decode()}}))
    session.handle(event)
    assert rec.frames == 0


def test_real_vosk_session_over_twilio_media_events(ko_engine, audio_path):
    audio = read_wav(audio_path("ko", "ko_gisul_jiwon.wav"))
    mulaw = pcm16_to_mulaw(audio.pcm16)
    session = s.SpeechSession(ko_engine.recognizer(8000, ["기술 지원", "상담원", "요금"]))
    outcome = None
    for chunk, i in enumerate(range(0, len(mulaw), 160)):
        event = parse_event(json.dumps({"event": "media", "streamSid": "MZ1", "media": {
            "track": "inbound", "chunk": str(chunk + 1), "timestamp": str(chunk * 20),
            "payload": base64.b64encode(mulaw[i:i + 160]).decode()}}))
        outcome = session.handle(event)
        if outcome:
            break
    assert outcome is not None and outcome.reason == s.SPEECH
    assert "기술 지원" in outcome.transcript and outcome.engine == "vosk"
    assert outcome.audio_seconds < audio.seconds  # ended inside the trailing silence


# --- the line's noise floor (issue 19) ------------------------------------------------------------------

def pcm_frames(pcm16: bytes) -> list[bytes]:
    return [pcm16[i:i + FRAME] for i in range(0, len(pcm16) - FRAME + 1, FRAME)]


def noisy(frames: list[bytes], dbfs: float = -38.0, seed: int = 19) -> list[bytes]:
    from tests.support.media_stream import on_a_noisy_line

    return pcm_frames(on_a_noisy_line(b"".join(frames), dbfs, seed))


def levels(frames):
    from speech.audio import rms_dbfs

    return [rms_dbfs(f) for f in frames]


def test_a_lines_steady_noise_is_its_floor_not_voice():
    line = noisy([SILENCE] * 250)  # 5 s of a line at -38 dBFS
    detector = s.VoiceDetector()
    assert not any(detector.is_voice(level, 0.02) for level in levels(line))
    # the floor is the quietest frame of the last noise_window seconds: a little under the noise's mean
    assert -41.0 < detector.floor < -38.0 and detector.threshold == detector.floor + s.SessionLimits().noise_margin


def test_a_quiet_line_keeps_the_fixed_threshold():
    detector = s.VoiceDetector()
    from tests.support.media_stream import line_noise

    hiss = pcm_frames(line_noise(3, -65.0))
    for level in levels(hiss):
        detector.is_voice(level, 0.02)
    assert detector.threshold == s.SessionLimits().speech_dbfs
    assert detector.is_voice(-44.0, 0.02) and not detector.is_voice(-46.0, 0.02)  # as the -45 dBFS rule did
    digital = s.VoiceDetector()  # a silent line: digital silence in a run is its floor
    assert [digital.is_voice(x, 0.02) for x in levels([SILENCE] * 3 + [LOUD, DIP, LOUD])] == [
        False, False, False, True, False, True]


def test_the_floor_follows_a_quieter_line_at_once_and_a_louder_one_within_its_window():
    limits = s.SessionLimits()
    detector = s.VoiceDetector(limits)
    for level in levels(noisy([SILENCE] * 150, dbfs=-32.0)):
        detector.is_voice(level, 0.02)
    assert detector.floor > -35.0
    detector.is_voice(-60.0, 0.02)  # the line went quiet
    assert detector.threshold == limits.speech_dbfs
    # a noise that begins mid-call: voice until the quiet before it leaves the window, then the floor
    said = [detector.is_voice(level, 0.02) for level in levels(noisy([SILENCE] * 200, dbfs=-36.0, seed=7))]
    first_quiet = said.index(False)
    assert any(said) and not any(said[first_quiet:])
    assert abs(first_quiet * 0.02 - limits.noise_window) <= 0.021


def test_a_caller_who_speaks_at_the_first_frame_is_heard():
    # No floor learnt yet: the first frames of a word set it, and the word's rise is voice.
    rec = ScriptedRecognizer("billing", partial_words="billing")
    spoken = []
    session = s.SpeechSession(rec, s.SessionLimits(end_silence_after_words=0.3),
                              on_speaking=lambda: spoken.append(session.audio_seconds))
    outcome = feed(session, talk(50) + [SILENCE] * 100)
    assert outcome.reason == s.SPEECH and outcome.transcript == "billing"
    assert abs(outcome.audio_seconds - (1.0 + 0.3)) < 0.021
    assert abs(spoken[0] - 0.28) < 0.001  # the dip, then 0.25 s of voice: as on the fixed threshold


def test_on_a_noisy_line_noise_alone_neither_barges_in_nor_keeps_the_answer_going():
    # The stream listens through a 3 s prompt on a line at -38 dBFS, the caller talks 1 s, the line goes on.
    limits = s.SessionLimits(no_speech_timeout=None, end_silence=0.6, end_silence_after_words=0.3)
    rec = ScriptedRecognizer("billing", partial_words="billing")
    spoken = []
    session = s.SpeechSession(rec, limits, on_speaking=lambda: spoken.append(session.audio_seconds))
    line = noisy([SILENCE] * 150 + talk(50) + [SILENCE] * 500)
    assert feed(session, line[:150]) is None and spoken == [] and rec.frames == 0  # nothing held but preroll
    outcome = feed(session, line[150:])
    assert spoken and 3.0 < spoken[0] < 3.0 + 0.35  # the caller's voice barged in, within a frame or so
    assert outcome.reason == s.SPEECH and outcome.transcript == "billing"
    assert 4.0 + 0.3 - 0.021 < outcome.audio_seconds < 4.0 + 0.3 + 0.1  # ended by the short pause after the words


def test_a_noise_that_begins_mid_call_is_taken_back_once_learnt():
    # A quiet line; a fan starts at 1 s (voice to the fixed rule, and here until the floor learns it); the
    # caller answers at 5 s. The answer is theirs: it starts with their words and ends after them.
    limits = s.SessionLimits(no_speech_timeout=None, end_silence=0.6, end_silence_after_words=0.3)
    rec = ScriptedRecognizer("billing", partial_words="")
    session = s.SpeechSession(rec, limits)
    fan = noisy([SILENCE] * 200 + talk(50) + [SILENCE] * 500, dbfs=-36.0)
    outcome = feed(session, [SILENCE] * 50 + fan)
    assert outcome.reason == s.SPEECH
    assert abs(outcome.audio_seconds - (1.0 + 4.0 + 1.0 + 0.6)) < 0.1  # end_silence after the words, not before


def at_dbfs(dbfs: float) -> bytes:
    amplitude = 32768 * np.sqrt(2) * 10 ** (dbfs / 20)  # a sine's RMS is its amplitude over sqrt(2)
    return (np.sin(np.arange(160) / 8000 * 2 * np.pi * 300) * amplitude).astype("<i2").tobytes()


def test_a_short_word_at_the_first_frame_is_heard_once_the_quiet_after_it_shows_the_floor():
    # A "yes" from the stream's first frame that never rises 6 dB above its own first frame for 0.1 s: the
    # floor it set is shown wrong by the quiet after it, and the word counts as voice by the floor known then.
    rec = ScriptedRecognizer("yes", partial_words="yes")
    word = [at_dbfs(x) for x in (-35, -31, -30, -32, -30, -26, -25, -23, -24, -31)]
    outcome = feed(s.SpeechSession(rec, s.SessionLimits(end_silence_after_words=0.3)), word + [SILENCE] * 300)
    assert outcome.reason == s.SPEECH and outcome.transcript == "yes"
    assert abs(outcome.audio_seconds - (0.2 + 0.3)) < 0.021  # the short pause after the word, not the time-out


def test_a_caller_below_the_voice_floor_whose_words_the_engine_ends_is_answered_after_the_short_pause():
    # Speech quieter than -45 dBFS never counts as voice, but Vosk (Kaldi) hears it and ends its utterance:
    # that end is the only end of speech there is, so the answer ends the short pause after it, not at the
    # no-speech time-out five seconds in; the outcome names the engine even when nothing was heard.
    quiet_talk = [at_dbfs(-52)] * 40
    rec = Segmenting({45: ("billing", 0.7)})
    limits = s.SessionLimits(end_silence=0.6, end_silence_after_words=0.3, no_speech_timeout=5.0)
    outcome = feed(s.SpeechSession(rec, limits), quiet_talk + [SILENCE] * 300)
    assert outcome.reason == s.SPEECH and outcome.transcript == "billing"
    assert abs(outcome.audio_seconds - (0.9 + 0.3)) < 0.021
    nothing = feed(s.SpeechSession(ScriptedRecognizer(""), limits), [SILENCE] * 300)
    assert nothing.reason == s.NO_SPEECH and nothing.engine == "scripted"


def test_a_dropped_frame_on_a_noisy_line_does_not_make_its_noise_voice():
    # One or two frames of digital silence (a lost packet) on a -38 dBFS line: before, the floor fell to
    # -inf for the whole window, the threshold to -45 dBFS, and the line's noise was voice (a barge-in).
    from tests.support.media_stream import line_noise

    noise = pcm_frames(line_noise(6, -38.0))
    frames = noise[:50] + [SILENCE] + noise[50:200] + [SILENCE] * 2 + noise[200:]
    spoken = []
    session = s.SpeechSession(ScriptedRecognizer(""), s.SessionLimits(no_speech_timeout=None),
                              on_speaking=lambda: spoken.append(session.audio_seconds))
    assert feed(session, frames) is None and spoken == []


def test_noise_that_swings_from_frame_to_frame_neither_barges_in_nor_ends_an_answer():
    # Street or babble noise: each 20 ms frame 1.5 dB louder or quieter than the last at random (a steady
    # hiss swings about 0.5 dB). Its loud moments are single frames, not the runs a syllable makes.
    rng = np.random.default_rng(5)
    frames = [at_dbfs(-38.0 + 1.5 * rng.standard_normal()) for _ in range(1000)]  # 20 s of prompt
    spoken = []
    session = s.SpeechSession(ScriptedRecognizer(""), s.SessionLimits(no_speech_timeout=None),
                              on_speaking=lambda: spoken.append(session.audio_seconds))
    assert feed(session, frames) is None and spoken == []


def test_an_answer_on_a_line_whose_noise_swings_ends_after_the_words():
    # The same swinging noise before and after a spoken answer: its stray loud frames after the words do not
    # keep the answer going (before: each reset the pause, and the answer ran on to max_duration).
    rng = np.random.default_rng(7)
    swinging = [at_dbfs(-38.0 + 1.5 * rng.standard_normal()) for _ in range(600)]
    session = s.SpeechSession(ScriptedRecognizer("billing", partial_words="billing"),
                              s.SessionLimits(no_speech_timeout=None, end_silence_after_words=0.3))
    words = [swinging[100 + i] if i % 25 == 0 else LOUD for i in range(40)]  # its dips are the line's noise
    assert feed(session, swinging[:100] + words) is None
    outcome = feed(session, swinging[140:])
    assert outcome.reason == s.SPEECH and outcome.transcript == "billing"
    assert 2.8 <= outcome.audio_seconds <= 2.8 + 0.6  # after the words, within the longer pause
