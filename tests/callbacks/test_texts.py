"""What a texter's words ask for."""
from callbacks.texts import parse_text


def test_parse_text():
    assert parse_text("Call  me") .at is None
    assert parse_text("call me at 9").at.hour == 9
    assert parse_text("CALL ME 7 days a week please") .at is None  # a bare number is not a time
    assert parse_text("bel mij om 14.15").at.minute == 15
    assert parse_text("cancel") is None
