import pytest

from phone_numbers import NumberRefused, last_digits, normalise, spoken_number

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


def test_spoken_and_last_digits():
    assert spoken_number("+12125550142", "US") == "2 1 2, 5 5 5, 0 1 4 2"
    assert last_digits("+12125550142") == "0142"
