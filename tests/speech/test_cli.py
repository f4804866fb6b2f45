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
    assert out["transcript"] == "operator" and out["skill"] == "general"
    assert out["confidence"] > 0.9 and not out["needs_confirmation"]  # the classifier's calibrated score


def test_recognize_english_yes(audio_path):
    out = run(["recognize", audio_path("en", "tts_en_no.wav"), "--step", "confirm_skill", "--lang", "en-US"])
    assert out["answer"] == "no" and out["engine"] == "pocketsphinx"


def test_recognize_korean_with_vosk(audio_path):
    out = run(["recognize", audio_path("ko", "ko_gisul_jiwon.wav"), "--step", "menu", "--lang", "ko-KR",
               "--phrase", "support=기술 지원", "--phrase", "general=상담원"],
              env={"VOSK_MODEL_PATH_KO_KR": korean_model_path()})
    assert out["engine"] == "vosk" and out["skill"] == "support" and "기술 지원" in out["transcript"]
    assert 0 < out["confidence"] <= 1 and out["end"] == "speech"


def test_pick_model_compares_versions_as_numbers():
    models = [dict(MODELS[3], version="0.3", name="old"), dict(MODELS[3], version="0.22", name="new")]
    assert pick_model(models, "nl")["name"] == "new"


@pytest.fixture
def model_site(tmp_path):
    """The official model list and a model zip, served over HTTP on the loopback."""
    import hashlib
    import http.server
    import threading
    import zipfile
    from functools import partial

    site = tmp_path / "site"
    site.mkdir()
    with zipfile.ZipFile(site / "vosk-model-small-nl-0.22.zip", "w") as archive:
        archive.writestr("vosk-model-small-nl-0.22/am/final.mdl", b"model bytes")
        archive.writestr("vosk-model-small-nl-0.22/README", b"Dutch")
    digest = hashlib.md5((site / "vosk-model-small-nl-0.22.zip").read_bytes()).hexdigest()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(http.server.SimpleHTTPRequestHandler, directory=str(site)))
    base = f"http://127.0.0.1:{server.server_port}"
    models = [dict(MODELS[3], url=f"{base}/vosk-model-small-nl-0.22.zip", md5=digest), MODELS[0]]
    (site / "model-list.json").write_text(json.dumps(models))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base, site
    server.shutdown()
    thread.join(5)


def test_download_model_fetches_checks_and_unpacks(model_site, tmp_path, monkeypatch):
    base, _ = model_site
    monkeypatch.setenv("VOSK_MODEL_LIST_URL", f"{base}/model-list.json")
    target = tmp_path / "models"
    result = CliRunner().invoke(speech_cli, ["download-model", "nl", "--dir", str(target)])
    assert result.exit_code == 0, result.output
    folder = target / "vosk-model-small-nl-0.22"
    assert result.stdout.strip() == str(folder)
    assert (folder / "am" / "final.mdl").read_bytes() == b"model bytes"
    assert "VOSK_MODEL_PATH_NL_NL=" in result.output  # the variable the app reads for nl-NL callers
    assert [p.name for p in target.iterdir()] == ["vosk-model-small-nl-0.22"]  # no zip left behind


def test_download_model_refuses_a_corrupt_download(model_site, tmp_path, monkeypatch):
    base, site = model_site
    models = json.loads((site / "model-list.json").read_text())
    models[0]["md5"] = "0" * 32
    (site / "model-list.json").write_text(json.dumps(models))
    monkeypatch.setenv("VOSK_MODEL_LIST_URL", f"{base}/model-list.json")
    target = tmp_path / "models"
    result = CliRunner().invoke(speech_cli, ["download-model", "nl", "--dir", str(target)])
    assert result.exit_code == 1 and "corrupt" in result.output
    assert list(target.iterdir()) == []


def wav_bytes(samples, rate, bits=16, channels=1, tag=1):
    """A WAV file with the given float samples (-1..1) in PCM of `bits` (or float32 with tag 3)."""
    import struct

    import numpy as np

    x = np.repeat(np.asarray(samples, dtype=np.float64)[:, None], channels, axis=1).reshape(-1)
    if tag == 3:
        body = x.astype("<f4").tobytes()
    elif bits == 24:
        v = np.clip(np.round(x * 8388607), -8388608, 8388607).astype("<i4")
        body = np.frombuffer(v.tobytes(), np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        body = np.clip(np.round(x * (2 ** (bits - 1) - 1)), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1) \
            .astype({16: "<i2", 32: "<i4"}[bits]).tobytes()
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    return b"RIFF" + struct.pack("<I", 36 + len(body)) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt \
        + b"data" + struct.pack("<I", len(body)) + body


@pytest.fixture(scope="module")
def espeak_operator():
    """"operator" as espeak-ng writes it by default: 22.05 kHz, 16-bit, mono."""
    import subprocess

    return subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "--stdout", "operator"],
                          check=True, capture_output=True).stdout


@pytest.mark.parametrize("form", ["espeak 22.05 kHz", "24-bit stereo", "32-bit 44.1 kHz", "float 48 kHz"])
def test_recognize_takes_any_wav(tmp_path, espeak_operator, form):
    import numpy as np

    from speech.audio import read_wav_bytes, resample

    audio = read_wav_bytes(espeak_operator)
    samples = np.frombuffer(audio.pcm16, "<i2") / 32768
    path = tmp_path / "answer.wav"
    if form == "espeak 22.05 kHz":
        path.write_bytes(espeak_operator)
    elif form == "24-bit stereo":
        path.write_bytes(wav_bytes(samples, audio.sample_rate, bits=24, channels=2))
    else:
        rate = 44100 if form.startswith("32") else 48000
        up = np.frombuffer(resample(audio.pcm16, audio.sample_rate, rate), "<i2") / 32768
        path.write_bytes(wav_bytes(up, rate, bits=32, tag=3 if form.startswith("float") else 1))
    out = run(["recognize", str(path), "--lang", "en-US"], env={"VOSK_MODEL_PATH_EN_US": "", "VOSK_MODEL_PATH": ""})
    assert out["file_rate"] == {"espeak 22.05 kHz": 22050, "24-bit stereo": 22050}.get(form, out["file_rate"])
    assert out["listen"] == "skill" and out["end"] == "speech"  # the word ended, not the file
    assert out["skill"] == "general", out  # "operator"
    assert [s for s, _ in out["ranked"]][0] == "general" and len(out["ranked"]) >= 2


@pytest.mark.parametrize("content", [b"not audio at all", b"RIFF\x10\x00\x00\x00WAVEfmt ", b""])
def test_recognize_refuses_what_is_not_a_wav_in_one_line(tmp_path, content):
    path = tmp_path / "answer.mp3"
    path.write_bytes(content)
    result = CliRunner().invoke(speech_cli, ["recognize", str(path), "--lang", "en-US"])
    assert result.exit_code == 1  # a ClickException: no traceback
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "WAV" in lines[0], result.output
    assert "Traceback" not in result.output
