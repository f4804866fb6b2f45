"""The TwiML checker the emulator reads every document with (telephony/twiml.py, used by
telephony/emulator/program.py) held to twilio-python's own TwiML classes: every attribute and child those
classes emit for a verb the emulator follows is accepted, and what they cannot emit is refused."""
from __future__ import annotations

import inspect

import pytest
from twilio.twiml import voice_response as vr

from telephony.emulator.verbs.table import VERBS
from telephony.twiml import TwiMLError, check


def parameters(method) -> list[str]:
    return [n for n in inspect.signature(method).parameters if n not in {"self", "kwargs"}]


def builders(cls) -> list:
    """The methods of a twilio-python TwiML class that nest a child element (Gather.say, Dial.number, ...)."""
    return [m for name, m in vars(cls).items()  # its own, not TwiML's generic add_child
            if inspect.isfunction(m) and not name.startswith("_") and "self.nest(" in inspect.getsource(m)]


def emit_everything(parent, method):
    """Call a twilio-python builder with a value for every parameter it names; the element it made."""
    return method(parent, **{name: "x" for name in parameters(method)})


def builder_of(verb: str):
    [method] = [m for m in builders(vr.VoiceResponse) if m.__name__ == verb.lower()]
    return method


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_attribute_and_child_twilio_python_emits_for_a_followed_verb_is_accepted(verb):
    response = vr.VoiceResponse()
    method = builder_of(verb)
    element = emit_everything(response, method)
    for child in builders(type(element)):
        emit_everything(element, child)
    root = check(response.to_xml(xml_declaration=False))  # TwiMLError if the checker refuses any of it
    [written] = list(root)
    # Every parameter became an attribute, except the one that became the body (Say's message, ...).
    assert len(written.attrib) >= len(parameters(method)) - 1, (verb, written.attrib)
    assert len(written) == len(builders(type(element)))


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_an_attribute_twilio_python_cannot_emit_is_refused(verb):
    response = vr.VoiceResponse()
    emit_everything(response, builder_of(verb))
    xml = response.to_xml(xml_declaration=False)
    forged = xml.replace(f"<{verb} ", f'<{verb} madeUpAttribute="1" ', 1).replace(
        f"<{verb}>", f'<{verb} madeUpAttribute="1">', 1).replace(f"<{verb} />", f'<{verb} madeUpAttribute="1" />', 1)
    assert "madeUpAttribute" in forged
    with pytest.raises(TwiMLError, match="madeUpAttribute"):
        check(forged)


def test_a_child_twilio_python_has_no_builder_for_is_refused():
    assert "dial" not in [m.__name__ for m in builders(vr.Gather)]
    with pytest.raises(TwiMLError, match="not allowed inside <Gather>"):
        check("<Response><Gather><Dial>+15005550006</Dial></Gather></Response>")
    assert "say" not in [m.__name__ for m in builders(vr.Start)]
    with pytest.raises(TwiMLError, match="not allowed inside <Start>"):
        check("<Response><Start><Say>hi</Say></Start></Response>")
