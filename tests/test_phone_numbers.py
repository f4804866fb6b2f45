import pytest

from phone_numbers import NumberRefused, e164_reading, last_digits, normalise, spoken_number

ALLOWED = ("US", "CA", "NL")


@pytest.mark.parametrize("raw,expected", [
    ("+1 (212) 555-0142", "+12125550142"),
    ("12125550142", "+12125550142"),
    ("+31 6 12345678", "+31612345678"),
    ("31612345678", "+31612345678"),
])
def test_valid_numbers_become_e164(raw, expected):
    assert normalise(raw, ALLOWED) == expected


@pytest.mark.parametrize("raw,reason", [
    ("911", "emergency"),
    ("112", "emergency"),
    ("+1 900 555 0123", "premium"),
    ("+31 900 1234567", "premium"),
    ("+1 212 555", "invalid"),
    ("+1 212 555 0142 9999", "invalid"),
    ("", "invalid"),
    ("+44 20 7946 0958", "country"),
    ("+1 212 000 0000", "invalid"),
])
def test_refused_numbers_say_why(raw, reason):
    with pytest.raises(NumberRefused) as refused:
        normalise(raw, ALLOWED)
    assert refused.value.reason == reason
    assert str(refused.value)


@pytest.mark.parametrize("raw", ["+1 (212) 555-0142", "12125550142", "+31 6 12345678", "+310201234567",
                                 "+31 020 794 0000", "sip:+12125550142@pbx.example.com"])
def test_the_one_parse_reading_is_what_normalise_gives(raw):
    # The returning-caller lookup (ivr.returning) keys on this reading and normalises only on a hit.
    assert e164_reading(raw) == normalise(raw, ALLOWED)


@pytest.mark.parametrize("raw", ["", "anonymous", "client:alice", "0031612345678"])
def test_no_reading_where_normalise_finds_no_number(raw):
    assert e164_reading(raw) is None
    with pytest.raises(NumberRefused) as refused:
        normalise(raw, ALLOWED)
    assert refused.value.reason == "invalid"


def test_spoken_and_last_digits():
    assert spoken_number("+12125550142", "US") == "2 1 2, 5 5 5, 0 1 4 2"
    assert last_digits("+12125550142") == "0142"
