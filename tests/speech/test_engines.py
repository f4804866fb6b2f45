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
