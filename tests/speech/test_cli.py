import json

import click
import pytest
from click.testing import CliRunner

from speech.cli import pick_model, speech_cli

from .conftest import korean_model_path

MODELS = [  # the shape of the official model-list.json
    {"lang": "en-us", "name": "vosk-model-small-en-us-0.15", "type": "small", "obsolete": "false", "version": "0.15",
     "url": "https://example.invalid/a.zip"},
    {"lang": "en-us", "name": "vosk-model-en-us-0.22", "type": "big", "obsolete": "false", "version": "0.22",
     "url": "https://example.invalid/b.zip"},
    {"lang": "en-us", "name": "vosk-model-small-en-us-0.3", "type": "small", "obsolete": "true", "version": "0.3",
     "url": "https://example.invalid/c.zip"},
    {"lang": "nl", "name": "vosk-model-small-nl-0.22", "type": "small", "obsolete": "false", "version": "0.22",
     "url": "https://example.invalid/d.zip"},
]


def test_pick_model_takes_the_current_small_one():
    assert pick_model(MODELS, "en-us")["name"] == "vosk-model-small-en-us-0.15"
    assert pick_model(MODELS, "en-US")["name"] == "vosk-model-small-en-us-0.15"
    assert pick_model(MODELS, "nl-NL")["name"] == "vosk-model-small-nl-0.22"
    with pytest.raises(click.ClickException, match="en-us, nl"):
        pick_model(MODELS, "xx")


def test_download_model_offline_is_a_clear_error(monkeypatch, tmp_path):
    # Nothing listens on port 9 of the loopback: the same failure as having no internet.
    monkeypatch.setenv("VOSK_MODEL_LIST_URL", "http://127.0.0.1:9/model-list.json")
    result = CliRunner().invoke(speech_cli, ["download-model", "en-us", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "cannot reach" in result.output and "VOSK_MODEL_PATH_<LANG>" in result.output
    assert list(tmp_path.iterdir()) == []


def run(args, env=None):
    result = CliRunner().invoke(speech_cli, args, env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_recognize_english_menu_answer_with_pocketsphinx(audio_path):
    out = run(["recognize", audio_path("en", "tts_en_agent.wav"), "--step", "menu", "--lang", "en-US"],
              env={"VOSK_MODEL_PATH_EN_US": "", "VOSK_MODEL_PATH": ""})
    assert out["engine"] == "pocketsphinx" and out["grammar"] is True
    assert out["transcript"] == "operator" and out["skill"] == "general" and out["confidence"] == 1.0


def test_recognize_english_yes(audio_path):
    out = run(["recognize", audio_path("en", "tts_en_no.wav"), "--step", "confirm_skill", "--lang", "en-US"])
    assert out["answer"] == "no" and out["engine"] == "pocketsphinx"


def test_recognize_korean_with_vosk(audio_path):
    out = run(["recognize", audio_path("ko", "ko_gisul_jiwon.wav"), "--step", "menu", "--lang", "ko-KR",
               "--phrase", "support=기술 지원", "--phrase", "general=상담원"],
              env={"VOSK_MODEL_PATH_KO_KR": korean_model_path()})
    assert out["engine"] == "vosk" and out["skill"] == "support" and "기술 지원" in out["transcript"]
    assert 0 < out["confidence"] <= 1 and out["end"] == "speech"
