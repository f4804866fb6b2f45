"""The wording in one place: config/ivr.toml, reviewed as a whole. Every prompt exists in both languages,
the two say the same things ({placeholders} match), every prompt the code asks for is there, and the
text keywords are not words Twilio keeps for itself."""
from __future__ import annotations

import re
import string
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = tomllib.loads((ROOT / "config" / "ivr.toml").read_text(encoding="utf-8"))["prompts"]
LANGUAGES = ("en-US", "nl-NL")
# Prompt keys the code names literally: p.text("key"), p.fragment("key"), table["key"], table.get("key").
CODE_KEY = re.compile(r"""(?:\.text\(|\.fragment\(|table\[|table\.get\()\s*["']([a-z][a-z0-9_]+)["']""")
TWILIO_KEPT = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "START", "YES", "UNSTOP", "HELP", "INFO"}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_every_prompt():
    assert set(LANGUAGES) <= set(PROMPTS)
    en, nl = set(PROMPTS["en-US"]), set(PROMPTS["nl-NL"])
    assert sorted(en - nl) == [] and sorted(nl - en) == []


def test_placeholders_match_between_languages():
    differ = {key: (placeholders(PROMPTS["en-US"][key]), placeholders(PROMPTS["nl-NL"][key]))
              for key in PROMPTS["en-US"] if isinstance(PROMPTS["en-US"][key], str)
              and placeholders(PROMPTS["en-US"][key]) != placeholders(PROMPTS["nl-NL"].get(key, ""))}
    assert differ == {}


def test_no_prompt_is_empty_or_left_untranslated():
    for language in LANGUAGES:
        empty = [k for k, v in PROMPTS[language].items() if isinstance(v, str) and not v.strip()]
        assert empty == [], language
    # A sentence left in English in the Dutch table (names, keywords and short words may be the same).
    same = [k for k, v in PROMPTS["en-US"].items() if isinstance(v, str) and len(v.split()) > 3
            and v == PROMPTS["nl-NL"].get(k)]
    assert same == []


def test_every_prompt_the_code_asks_for_exists():
    asked = set()
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] in ("tests", "bench", "migrations"):
            continue
        asked |= set(CODE_KEY.findall(path.read_text(encoding="utf-8")))
    assert len(asked) > 10  # the pattern still finds what the code asks for
    assert sorted(asked - set(PROMPTS["en-US"])) == []


def test_text_keywords_are_ours_not_twilios():
    for language in LANGUAGES:
        for key in ("text_keyword_cancel", "text_keyword_status"):
            word = PROMPTS[language][key].strip().upper()
            assert word and word not in TWILIO_KEPT, (language, key, word)


def test_every_refusal_reason_is_declared_once_and_worded():
    """refusals.REASONS is the one list: each has its wording, and no code raises an undeclared one."""
    from refusals import REASONS

    assert sorted(k.removeprefix("reason_") for k in PROMPTS["en-US"] if k.startswith("reason_")) == sorted(REASONS)
    raised = set()
    for path in ROOT.rglob("*.py"):
        if path.parts[len(ROOT.parts)] in ("tests", "bench", "migrations", ".git"):
            continue
        raised |= set(re.findall(r"""(?:Number|Time)Refused\(\s*["']([a-z_]+)["']""", path.read_text(encoding="utf-8")))
    assert len(raised) >= 8 and sorted(raised - set(REASONS)) == []
