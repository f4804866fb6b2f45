"""The emulator's verb table (telephony/emulator/verbs/table.py): every verb it names is a TwiML verb
with a module that follows it, and a verb it has no module for is handled as Twilio does."""
from __future__ import annotations

import pytest

from telephony.emulator import WebhookError
from telephony.emulator.verbs import unsupported
from telephony.emulator.verbs.table import VERBS, handler_for
from telephony.twiml import is_verb

FOLLOWED = {"Say", "Play", "Pause", "Gather", "Redirect", "Hangup", "Reject", "Enqueue", "Leave", "Dial", "Connect",
            "Start", "Stop"}


def test_every_verb_in_the_table_is_a_twiml_verb_with_a_module_that_follows_it():
    assert set(VERBS) == FOLLOWED
    for name, module in VERBS.items():
        assert is_verb(name), name
        assert module is not unsupported and handler_for(name) is module
        assert callable(getattr(module, "follow", None)), f"verbs/{module.__name__} has no follow()"
    for name in ("Say", "Play", "Pause"):  # prompts in a row (and a Gather's) play as one Segment
        assert callable(VERBS[name].prompts), name
    assert callable(VERBS["Gather"].spec) and callable(VERBS["Gather"].collect)
    assert handler_for("Sya") is unsupported and handler_for("Record") is unsupported


def test_a_misspelled_verb_is_skipped_as_twilio_does_and_loud_in_strict_mode(emulator, fx):
    fx.docs["/incoming"] = '<Response><Sya>typo</Sya><Say>Still here</Say>' \
                           '<Gather action="/keys"><Say>Press 1</Say></Gather></Response>'
    with pytest.raises(WebhookError, match="<Sya>"):
        emulator.call()  # strict (the tests' mode): the app's mistake is loud
    # Twilio: warning 12200 (schema validation, "misspelled verbs"), not a failed document; the rest plays.
    emulator.strict = False
    call = emulator.call()
    assert call.heard == ["Still here", "Press 1"] and call.pending is not None and not call.ended
    assert ("ignored", "<Sya> is not a TwiML verb (Twilio: warning 12200, the verb is skipped)") in call.log


def test_a_twiml_verb_the_emulator_does_not_follow_is_skipped_unless_strict(emulator, fx):
    fx.docs["/incoming"] = '<Response><Record maxLength="10"/><Say>After the beep</Say></Response>'
    with pytest.raises(WebhookError, match="does not follow <Record>"):
        emulator.call()
    emulator.strict = False
    call = emulator.call()
    assert call.ended and call.heard == ["After the beep"]
    assert ("ignored", "the emulator does not follow <Record>") in call.log
