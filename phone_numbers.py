"""Which numbers we agree to call back. Web callback forms are a known toll-fraud and harassment path,
so a number must be a real, valid subscriber number in an allowed country, of a kind we dial
(DIAL_NUMBER_KINDS: landlines, mobiles and toll-free by default; never premium, shared-cost, UAN,
personal, pager or VoIP ranges unless the operator lists them), never an emergency service or a short
code, and without an extension (we would not dial it, so we refuse rather than drop it)."""
from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType, shortnumberinfo

from config import ConfigError
from refusals import ReasonedRefusal

# phonenumbers' number types by the names operators write in DIAL_NUMBER_KINDS.
KINDS = {name.lower(): value for name, value in vars(PhoneNumberType).items() if name.isupper()}
DEFAULT_KINDS = ("fixed_line", "mobile", "fixed_line_or_mobile", "toll_free")
# How a kind we do not dial is explained (the reason_<code> prompts); any other kind is "kind".
REFUSAL_REASONS = {
    PhoneNumberType.PREMIUM_RATE: "premium",
    PhoneNumberType.SHARED_COST: "premium",
    PhoneNumberType.UAN: "premium",
    PhoneNumberType.VOICEMAIL: "invalid",
}


# Ranges phonenumbers reads as mobile that only machines answer (SIMs in meters, cars, alarms): never
# dialled, whatever DIAL_NUMBER_KINDS says. NL: 097 (ACM's numbering plan, 12-digit M2M numbers).
MACHINE_TO_MACHINE = ("+3197",)


@dataclass(frozen=True)
class DialPolicy:
    """What we agree to dial, set once per process from the operator's settings (app.create_app)."""

    kinds: frozenset[int]
    sip_domains: tuple[str, ...] = ()
    # ALLOWED_COUNTRIES: agents' numbers too (empty: any country, only before the app sets the policy).
    countries: tuple[str, ...] = ()

    @classmethod
    def from_names(cls, kinds, sip_domains=(), countries=()) -> "DialPolicy":
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown:
            raise ConfigError(f"DIAL_NUMBER_KINDS: unknown kind {', '.join(unknown)}; use {', '.join(sorted(KINDS))}")
        return cls(frozenset(KINDS[k] for k in kinds), tuple(d.lower().rstrip(".") for d in sip_domains),
                   tuple(countries))


_policy = DialPolicy.from_names(DEFAULT_KINDS)


def set_dial_policy(policy: DialPolicy) -> None:
    global _policy
    _policy = policy


def dial_policy() -> DialPolicy:
    return _policy


class NumberRefused(ReasonedRefusal):
    """`reason` is one of: emergency, premium, kind, extension, invalid, country."""


def normalise(raw: str, allowed_countries: tuple[str, ...], default_region: str | None = None) -> str:
    """The E.164 form of `raw`, or NumberRefused. Keyed digits without '+' are read as international."""
    text = (raw or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        raise NumberRefused("invalid", "a phone number is required")
    for region in allowed_countries:
        if shortnumberinfo.is_emergency_number(digits, region):
            raise NumberRefused("emergency", "emergency numbers cannot be booked for a callback; dial them directly")
    if _extension(text):
        raise NumberRefused("extension", "numbers with an extension cannot be dialled; give a direct number")
    if len(digits) < 7 or len(digits) > 15:
        raise NumberRefused("invalid", "a phone number has between 7 and 15 digits, with its country code")
    parsed = _parse(text, digits, default_region)
    if parsed is None:
        raise NumberRefused("invalid", "this is not a valid phone number; include the country code, e.g. +1 212 555 0142")
    region = phonenumbers.region_code_for_number(parsed)
    if region not in allowed_countries:
        raise NumberRefused("country", f"we do not call numbers in {region}; allowed: {', '.join(allowed_countries)}")
    kind = phonenumbers.number_type(parsed)
    if kind not in _policy.kinds:
        name = next((n for n, v in KINDS.items() if v == kind), "unknown")
        name = {"personal_number": "personal", "voip": "VoIP", "uan": "UAN"}.get(name, name.replace("_", " "))
        raise NumberRefused(REFUSAL_REASONS.get(kind, "kind"),
                            f"this is a {name} number, which we do not call; give a landline or mobile number")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if e164.startswith(MACHINE_TO_MACHINE):
        raise NumberRefused("kind", "this is a machine-to-machine number, which no person answers; give a "
                                    "landline or mobile number")
    return e164


def _readings(text: str, digits: str, default_region: str | None) -> list[str]:
    """Keyed digits without '+' are read as a national number of `default_region` first (how people
    key their own country's numbers: 0612345678 in NL, 4155550123 in the US), else as international."""
    return [text] if text.startswith("+") else ([text] if default_region else []) + ["+" + digits]


def _parse(text: str, digits: str, default_region: str | None) -> phonenumbers.PhoneNumber | None:
    for reading in _readings(text, digits, default_region):
        try:
            parsed = phonenumbers.parse(reading, None if reading.startswith("+") else default_region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(parsed) and phonenumbers.is_valid_number(parsed):
            return parsed
    return None


def e164_reading(raw: str | None) -> str | None:
    """The E.164 form normalise(raw, ...) gives whenever it accepts `raw` (no default region), read with
    one parse and none of its checks: a cheap key to look a stored number up by, before paying for
    normalise() on a hit. None when no number can be read (normalise refuses those too)."""
    text = (raw or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        return None
    try:
        parsed = phonenumbers.parse(_readings(text, digits, None)[0], None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def home_region(*numbers: str | None) -> str | None:
    """The country of the first of `numbers` that is a phone number (the caller's, then the dialled one)."""
    for number in numbers:
        if number and number.startswith("+"):
            try:
                region = phonenumbers.region_code_for_number(phonenumbers.parse(number, None))
            except phonenumbers.NumberParseException:
                continue
            if region and region != "ZZ":
                return region
    return None


def _extension(text: str) -> str | None:
    """The extension written after a number (ext. 12, x12, #12, ;ext=12, ,,12), if any."""
    try:
        return phonenumbers.parse(text if text.startswith("+") else "+" + text, None).extension
    except phonenumbers.NumberParseException:
        return None


def dialling_codes(allowed_countries: tuple[str, ...]) -> list[dict]:
    """The countries a form may offer, with their dialling codes: exactly the ones normalise() accepts."""
    return [{"code": region, "dial": f"+{phonenumbers.country_code_for_region(region)}"}
            for region in allowed_countries]


def last_digits(number: str, count: int = 4) -> str:
    return number[-count:] if number else ""


def spoken_number(number: str, home: str | None = None) -> str:
    """A number read back the way people say it: in groups, digit by digit, national when it is a
    number of the caller's own country ('06, 1 2 3, 4 5, 6 7 8'), else with its country code.
    Commas make text-to-speech pause between groups; spaces make it read digits, not a large number."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return " ".join(ch for ch in number if ch.isdigit())
    national = home is not None and phonenumbers.region_code_for_number(parsed) == home
    formatted = phonenumbers.format_number(
        parsed, phonenumbers.PhoneNumberFormat.NATIONAL if national else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    groups = []
    for group in formatted.replace("+", "plus ").replace("-", " ").replace("(", " ").replace(")", " ").split():
        if group == "plus":
            groups.append(group)
            continue
        digits = "".join(ch for ch in group if ch.isdigit())
        # Long groups are said in twos and threes, as people do ("1 2 3, 4 5, 6 7 8").
        while len(digits) > 4:
            groups.append(digits[:3])
            digits = digits[3:]
        if digits:
            groups.append(digits)
    spoken = [" ".join(g) if g != "plus" else g for g in groups]
    if spoken and spoken[0] == "plus" and len(spoken) > 1:
        spoken = [f"plus {spoken[1]}"] + spoken[2:]
    return ", ".join(spoken)
