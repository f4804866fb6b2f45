"""The web button's words come from the operator's IVR file, in both languages, through
GET /api/callback-button/words; the script itself carries none."""
from __future__ import annotations

import re
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "static" / "widget" / "callback-button.js"
# Strings the script may hold that are not words a person reads: code, keys, class names, the honeypot's
# hidden label (a trap for bots, never shown).
NOT_WORDING = {"use strict", "cmb-hint cmb-asap-when", "Website"}


def test_words_in_both_languages_from_the_ivr_file(app, runtime):
    client = app.test_client()
    en = client.get("/api/callback-button/words?language=en-US")
    nl = client.get("/api/callback-button/words?language=nl-NL")
    assert en.status_code == nl.status_code == 200
    assert en.headers["Access-Control-Allow-Origin"] == "*"
    en, nl = en.get_json()["words"], nl.get_json()["words"]
    assert (en["launch"], nl["launch"]) == ("Call me back", "Bel mij terug")
    assert (en["follow"], nl["follow"]) == ("Follow your callback: your place, the time, move or cancel",
                                            "Volg uw terugbelverzoek: uw plaats, het tijdstip, verzetten of annuleren")
    assert set(en) == set(nl)
    assert en == {key[len("button_"):]: value for key, value in runtime.ivr_config.prompts["en-US"].items()
                  if key.startswith("button_")}
    # Every word the script asks for is served.
    asked = set(re.findall(r"\bT\.(\w+)", SCRIPT.read_text(encoding="utf-8")))
    assert asked and asked <= set(en), asked - set(en)


def test_an_unknown_language_is_refused(app):
    answer = app.test_client().get("/api/callback-button/words?language=de-DE")
    assert answer.status_code == 422
    assert answer.get_json()["field"] == "language"


def test_the_script_holds_no_wording():
    code = re.sub(r"//[^\n]*|/\*.*?\*/", "", SCRIPT.read_text(encoding="utf-8"), flags=re.S)
    literals = re.findall(r'"((?:[^"\\]|\\.)*)"', code)
    sentences = {text for text in literals if re.search(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}", text)
                 or re.fullmatch(r"[A-Z][a-z]+", text)} - NOT_WORDING - {"Accept", "Escape"}
    assert len(literals) > 50  # the pattern still finds the script's strings
    assert sentences == set()
