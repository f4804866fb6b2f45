"""Numbers said aloud: phone numbers digit by digit or in groups, and numbers inside times.

"two one two five double five oh one four two" -> "2125550142", "triple seven" -> "777",
"twenty one" -> "21", "eight hundred" -> "800", "zes twaalf" -> "612", "eenentwintig" -> "21",
typed "06-123 456" -> "06123456", a leading "plus" -> "+", "212, triple 50142" -> "2125550142".
"""
from __future__ import annotations

import math
import re

import phonenumbers

from understanding.words import (DIGIT_WORDS, HUNDRED_WORDS, NUMBER_WORDS, PLUS_WORDS, REPEAT_WORDS, TENS_WORDS,
                                 base_language, words)

ZERO_LETTERS = {"oh", "o"}  # "oh" is a digit, never the unit of "twenty oh"


def _dutch_compound(word: str, lang: str) -> int | None:
    """Dutch writes units before tens in one word: eenentwintig (21), zesentachtig (86)."""
    if lang != "nl":
        return None
    tens = TENS_WORDS["nl"]
    m = re.fullmatch(r"(\w+?)en(%s)" % "|".join(tens), word)
    if m and 1 <= NUMBER_WORDS["nl"].get(m[1], 0) <= 9:
        return NUMBER_WORDS["nl"][m[1]] + tens[m[2]]
    return None


def spoken_digits(text: str, lang: str) -> str:
    """The digits of a phone number said or typed; other words are ignored. "" means none."""
    lang = base_language(lang)
    digit_words, numbers = DIGIT_WORDS.get(lang, {}), NUMBER_WORDS.get(lang, {})
    tens, hundreds = TENS_WORDS.get(lang, {}), HUNDRED_WORDS.get(lang, set())
    out: list[str] = []
    # A group being built ("twenty" waiting for "one", "five hundred" for "twenty five").
    value: int | None = None
    # "tens" takes a unit; "hundreds" takes tens or a teen, and a unit only after "and"
    # ("eight hundred five five five" is 800 555, "one hundred and five" is 105).
    slot: str | None = None
    repeat = 1

    def flush() -> None:
        nonlocal value, slot
        if value is not None:
            out.append(str(value))
        value, slot = None, None

    for w in words(text):
        if w in PLUS_WORDS.get(lang, set()) or w == "+":
            if not out and value is None:
                out.append("+")
            continue
        if w in REPEAT_WORDS.get(lang, {}):
            flush()
            repeat = REPEAT_WORDS[lang][w]
            continue
        if w in ("and", "en") and slot == "hundreds":
            slot = "hundreds and"
            continue
        if (compound := _dutch_compound(w, lang)) is not None:
            if slot in ("hundreds", "hundreds and"):
                value += compound
                flush()
            else:
                flush()
                out.append(str(compound))
        elif w in tens:
            if slot in ("hundreds", "hundreds and"):
                value, slot = value + tens[w], "tens"
            else:
                flush()
                value, slot = tens[w], "tens"
        elif w in hundreds:
            if value is not None and slot is None:
                value, slot = value * 100, "hundreds"
            elif value is None and out and re.fullmatch(r"[1-9]", out[-1]):
                value, slot = int(out.pop()) * 100, "hundreds"
            else:
                flush()
                value, slot = 100, "hundreds"
        elif w in digit_words and repeat > 1:
            flush()
            out.append(str(digit_words[w]) * repeat)
        elif w in digit_words and slot in ("tens", "hundreds and") and w not in ZERO_LETTERS and digit_words[w] > 0:
            value += digit_words[w]
            flush()
        elif w in numbers and numbers[w] >= 10 and slot in ("hundreds", "hundreds and"):
            value += numbers[w]
            flush()
        elif w in digit_words or w in numbers:
            flush()
            out.append(str(digit_words.get(w, numbers.get(w))))
        elif re.fullmatch(r"\+?\d+", w):
            flush()
            if w.startswith("+") and not out:
                out.append("+")
            bare = w.lstrip("+")
            out.append(bare[0] * repeat + bare[1:])  # "triple 50142" (Whisper's writing): 5550142
        else:
            flush()
        repeat = 1
    flush()
    return "".join(out)


def whole_number(text: str, lang: str) -> bool:
    """Whether the words hold as many digits as the shortest whole number of the language's country
    (said_number_forms; en-US: ten), or seven without a country: a caller who pauses before that is
    between groups of digits, not done (speech.session's `complete`)."""
    lengths, prefixes, _ = said_number_forms(lang)
    shortest = min(lengths) + min((len(p) for p in prefixes), default=0) if lengths else 7
    return len(spoken_digits(text, lang).lstrip("+")) >= shortest


def number_tokens(ws: list[str], lang: str) -> list[object]:
    """Words with number words replaced by ints ("twenty five" -> 25, "vijfentwintig" -> 25) and
    clock readings by (hour, minute) ("15:30" -> (15, 30)); other words stay as they are."""
    lang = base_language(lang)
    numbers, tens = NUMBER_WORDS.get(lang, {}), TENS_WORDS.get(lang, {})
    out: list[object] = []
    for w in ws:
        if re.fullmatch(r"\d{1,2}", w):
            out.append(int(w))
        elif m := re.fullmatch(r"(\d{1,2})[:.h](\d\d)", w):
            out.append((int(m[1]), int(m[2])))
        elif m := re.fullmatch(r"(\d{1,2})(?:[:.](\d\d))?([ap]m)", w):  # "3pm", "10:30am"
            out.extend([(int(m[1]), int(m[2])) if m[2] else int(m[1]), m[3]])
        elif w in tens:
            out.append(tens[w])
        elif w in numbers:
            if out and isinstance(out[-1], int) and out[-1] in tens.values() and numbers[w] < 10 and lang == "en":
                out[-1] += numbers[w]
            else:
                out.append(numbers[w])
        elif (compound := _dutch_compound(w, lang)) is not None:
            out.append(compound)
        else:
            out.append(w)
    return out


# Costs of the alignment of two readings (`align_digits`): a digit only PocketSphinx heard costs less when it
# repeats its neighbour (Whisper drops one digit of a run: "5 5 5" -> "5 5") than elsewhere; a digit heard
# differently and a digit only Whisper heard cost 1. Measured on the dev recordings (bench/speech_cascade.py;
# docs/speech.md, "Eighth round"): every setting tried with a run's digit cheaper than another gave the same
# answers (docs/benchmarks.md, "Eighth round").
DROPPED_FROM_RUN, DROPPED, SWAPPED, ADDED = 0.5, 0.8, 1.0, 1.0


def merge_digit_readings(streamed: str, held: str) -> str:
    """One phone number from two recognisers' digits: `streamed` (PocketSphinx: keeps the count of
    repeated digits, swaps similar-sounding ones, drops words in noise) and `held` (Whisper: right
    digits, but drops some: "5 5 5 0" often comes out as "5 5", a first word now and then, and "5 5 5"
    as "5 5 5 5" once in a while). The two are aligned digit by digit (`align_digits`); where they differ,
    Whisper's digits stand; digits only PocketSphinx heard are kept (Whisper drops far more digits than
    either invents), and digits only Whisper heard are kept unless they only lengthen a run. Measured on
    the dev recordings: bench/speech_cascade.py."""
    if not streamed or not held:
        return streamed or held
    out: list[str] = []
    for i, j in align_digits(streamed, held):
        if j is None:  # only PocketSphinx heard it
            out.append(streamed[i])
        elif i is not None or not _repeats_neighbour(held, j, j + 1):  # both (Whisper's digit), or Whisper's alone
            out.append(held[j])
    return "".join(out)


def align_digits(streamed: str, held: str) -> list[tuple[int | None, int | None]]:
    """The cheapest alignment of two digit strings (edit distance with the costs above), as pairs of
    positions: (i, j) both heard a digit there, (i, None) only `streamed`, (None, j) only `held`. Unlike
    the longest common blocks (difflib, before the eighth round), a digit Whisper dropped from a run is
    aligned as dropped rather than as the digit next to it heard wrong: "2185550142" and "212550142" make
    "2125550142", not "212550142"."""
    n, m = len(streamed), len(held)

    def dropped(i: int) -> float:
        run = (i > 0 and streamed[i - 1] == streamed[i]) or (i + 1 < n and streamed[i + 1] == streamed[i])
        return DROPPED_FROM_RUN if run else DROPPED

    def step(i: int, j: int) -> float:  # both heard a digit: the same, or heard differently
        return 0.0 if streamed[i - 1] == held[j - 1] else SWAPPED

    cost = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        for j in range(m + 1):
            if i or j:
                cost[i][j] = min(cost[i - 1][j - 1] + step(i, j) if i and j else math.inf,
                                 cost[i - 1][j] + dropped(i - 1) if i else math.inf,
                                 cost[i][j - 1] + ADDED if j else math.inf)
    pairs: list[tuple[int | None, int | None]] = []
    i, j = n, m
    while i or j:  # back from the end, preferring the moves in the order they were compared above
        if i and j and cost[i][j] == cost[i - 1][j - 1] + step(i, j):
            i, j = i - 1, j - 1
            pairs.append((i, j))
        elif i and cost[i][j] == cost[i - 1][j] + dropped(i - 1):
            i -= 1
            pairs.append((i, None))
        else:
            j -= 1
            pairs.append((None, j))
    return pairs[::-1]


def likeliest_number(readings: list[str], lang: str) -> str:
    """The first of `readings` (digits, best guess first) that is a valid phone number of the language's
    country ("en-US": the US), else the first: of two recognisers' readings and their merge, the one
    that can be a phone number at all is likelier what was said (a dropped or doubled digit rarely is)."""
    region = lang.split("-")[1].upper() if "-" in lang else None
    for digits in readings:
        try:
            parsed = phonenumbers.parse(digits, None if digits.startswith("+") else region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return digits
    return readings[0]


def _repeats_neighbour(digits: str, start: int, end: int) -> bool:
    """Whether digits[start:end] are all the digit just before or just after them."""
    around = (digits[start - 1:start], digits[end:end + 1])
    return all(c in around for c in digits[start:end])


def said_number_forms(lang: str) -> tuple[list[int], list[str], str]:
    """How a whole phone number of the language's country is said, from libphonenumber's metadata:
    (national lengths, the national prefix when the country writes numbers with it, country code).
    "en-US": ([10], [], "1") (nobody says the leading 1 of "(201) 555-0123", and a grammar that let it
    be said heard an extra "one" before numbers); "nl-NL": ([9, 11], ["0"], "31") ("010 123 4567").
    ([], [], "") when the language names no country."""
    region = lang.split("-")[1].upper() if "-" in lang else None
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region) if region else None
    if meta is None:
        return [], [], ""
    national = (set(meta.fixed_line.possible_length) | set(meta.mobile.possible_length)) - {-1}
    example = phonenumbers.example_number(region)
    written = re.sub(r"\D", "", phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)) \
        if example else ""
    prefix = meta.national_prefix or ""
    said_with_prefix = bool(prefix) and written.startswith(prefix) and len(written) > len(str(example.national_number))
    return sorted(national), [prefix] if said_with_prefix else [], str(meta.country_code)
