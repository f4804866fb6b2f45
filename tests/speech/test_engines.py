import logging

from speech import engines
from speech.pocketsphinx_engine import PocketSphinxEngine
from speech.vosk_engine import VoskEngine

from .conftest import korean_model_path


def test_vosk_when_a_model_is_configured(ko_engine):
    engine = engines.engine_for("ko-KR", {"VOSK_MODEL_PATH_KO_KR": korean_model_path()})
    assert isinstance(engine, VoskEngine) and engine.model is ko_engine.model
    assert engines.engine_for("ko-KR", {"VOSK_MODEL_PATH_KO_KR": korean_model_path()}) is engine


def test_english_works_out_of_the_box_with_pocketsphinx():
    assert isinstance(engines.engine_for("en-US", {}), PocketSphinxEngine)


def test_no_model_means_dtmf_only_with_a_clear_warning(caplog, monkeypatch):
    monkeypatch.setattr(engines, "_engines", {})  # as in a fresh process: the warning is said once per process
    with caplog.at_level(logging.WARNING, logger="speech.engines"):
        assert engines.engine_for("nl-NL", {}) is None
        assert not engines.speech_available("nl-NL", {})
    assert "DTMF" in caplog.text and "ivr speech download-model nl-NL" in caplog.text
    assert "VOSK_MODEL_PATH_NL_NL" in caplog.text


def test_broken_model_path_falls_back_and_warns(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="speech.engines"):
        engine = engines.engine_for("en-US", {"VOSK_MODEL_PATH_EN_US": str(tmp_path / "missing")})
    assert isinstance(engine, PocketSphinxEngine)
    assert "not found" in caplog.text


def test_a_multilingual_second_pass_is_one_engine_per_language(monkeypatch, tmp_path):
    """A Dutch call must not get the English Whisper engine of a multilingual model (nor the reverse):
    the engine's workers decode in the language it was built for."""
    from speech import whisper_engine

    built = []

    class Recording:
        def __init__(self, path, language="en-US", workers=1):
            self.path, self.language, self.workers = path, language, workers
            built.append(self)

    model = tmp_path / "base"  # a multilingual model: not ".en", not the packaged tiny.en
    monkeypatch.setattr(engines, "_second", {})
    monkeypatch.setattr(whisper_engine, "model_path", lambda env=None: str(model))
    monkeypatch.setattr(whisper_engine, "WhisperEngine", Recording)
    english, dutch = engines.second_pass_for("en-US", {}), engines.second_pass_for("nl-NL", {})
    assert (english.language, dutch.language) == ("en-US", "nl-NL")
    assert engines.second_pass_for("en-us", {}) is english and engines.second_pass_for("nl-NL", {}) is dutch
    assert len(built) == 2
    monkeypatch.setattr(whisper_engine, "model_path", lambda env=None: str(tmp_path / "tiny.en"))
    assert engines.second_pass_for("nl-NL", {}) is None  # an English-only model hears no Dutch
