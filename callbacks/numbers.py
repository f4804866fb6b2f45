"""Which numbers we agree to call back. Web callback forms are a known toll-fraud and harassment path,
so a number must be a real, valid subscriber number in an allowed country, and never premium,
shared-cost, an emergency service or a short code."""
from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType, shortnumberinfo

REFUSED_TYPES = {
    PhoneNumberType.PREMIUM_RATE: "premium",
    PhoneNumberType.SHARED_COST: "premium",
    PhoneNumberType.VOICEMAIL: "invalid",
    PhoneNumberType.UAN: "premium",
}


class NumberRefused(ValueError):
    """`reason` is one of: emergency, premium, invalid, country."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def normalise(raw: str, allowed_countries: tuple[str, ...], default_region: str | None = None) -> str:
    """The E.164 form of `raw`, or NumberRefused. Keyed digits without '+' are read as international."""
    text = (raw or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        raise NumberRefused("invalid", "a phone number is required")
    for region in allowed_countries:
        if shortnumberinfo.is_emergency_number(digits, region):
            raise NumberRefused("emergency", "emergency numbers cannot be booked for a callback")
    if len(digits) < 7 or len(digits) > 15:
        raise NumberRefused("invalid", "a phone number has between 7 and 15 digits, with its country code")
    if not text.startswith("+") and not default_region:
        text = "+" + digits
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise NumberRefused("invalid", f"not a phone number: {exc}") from exc
    if not phonenumbers.is_possible_number(parsed) or not phonenumbers.is_valid_number(parsed):
        raise NumberRefused("invalid", "this is not a valid phone number; include the country code, e.g. +1 212 555 0142")
    region = phonenumbers.region_code_for_number(parsed)
    if region not in allowed_countries:
        raise NumberRefused("country", f"we do not call numbers in {region}; allowed: {', '.join(allowed_countries)}")
    kind = phonenumbers.number_type(parsed)
    if kind in REFUSED_TYPES:
        raise NumberRefused(REFUSED_TYPES[kind], "premium-rate, shared-cost and service numbers cannot be called back")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def dialling_codes(allowed_countries: tuple[str, ...]) -> list[dict]:
    """The countries a form may offer, with their dialling codes: exactly the ones normalise() accepts."""
    return [{"code": region, "dial": f"+{phonenumbers.country_code_for_region(region)}"}
            for region in allowed_countries]


def last_digits(number: str, count: int = 4) -> str:
    return number[-count:] if number else ""


def spoken_digits(number: str) -> str:
    """'+15551234' -> '1 5 5 5 1 2 3 4' so text-to-speech reads digits, not a large number."""
    return " ".join(ch for ch in number if ch.isdigit())
