from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from config import parse_hours
from understanding.answers import yes_no
from understanding.numbers import spoken_digits
from understanding.times import parse_callback_time

NY = ZoneInfo("America/New_York")
AMS = ZoneInfo("Europe/Amsterdam")
WEEKDAYS_8_TO_18 = parse_hours({d: "08:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")})
# Wednesday 18 November 2026, 10:00 in New York
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=timezone.utc)


def local(text, lang="en-US", now=NOW, zone=NY, hours=WEEKDAYS_8_TO_18):
    result = parse_callback_time(text, lang, now, zone, hours)
    assert result.ok, f"{text!r}: {result.reason}"
    assert result.when.tzinfo == timezone.utc
    return result.when.astimezone(zone).replace(tzinfo=None)


def reason(text, lang="en-US", now=NOW, zone=NY, hours=WEEKDAYS_8_TO_18):
    result = parse_callback_time(text, lang, now, zone, hours)
    assert not result.ok
    return result.reason


@pytest.mark.parametrize("text, expected", [
    ("yes", True), ("yeah that's right", True), ("Yes, please.", True), ("no", False), ("nope", False),
    ("no that's not right", False), ("that is not right", False), ("hmm", None), ("", None),
    # Common assents that were neither until the seventh round of hearing (a caller was asked again).
    ("yeah go ahead", True), ("sure that's fine", True), ("alright", True), ("certainly", True),
    ("sounds good", True), ("I'm not fine", False), ("that's all ahead", None),
    # ... but not where they decline or answer nothing: at an offer "I'm fine, I'll hold" keeps holding.
    ("I'm fine thanks", None), ("it's fine as it is", None), ("I'm fine, I'll hold", False), ("I'll wait", False),
    ("don't go ahead", False), ("do not go ahead", False), ("certainly not", False), ("of course not", False),
])
def test_yes_no_english(text, expected):
    assert yes_no(text, "en-US") is expected


@pytest.mark.parametrize("text, expected", [
    ("ja", True), ("ja hoor dat klopt", True), ("nee", False), ("klopt niet", False), ("misschien", None),
    ("nee, dat klopt niet", False), ("dat klopt niet", False), ("ja dat klopt", True),
    ("akkoord", True), ("natuurlijk", True), ("in orde", True), ("natuurlijk niet", False), ("zeker niet", False),
    ("ik wacht wel", False), ("nee, ik blijf aan de lijn", False),
])
def test_yes_no_dutch(text, expected):
    assert yes_no(text, "nl-NL") is expected


def test_spoken_phone_numbers():
    assert spoken_digits("plus three one six one two three four five six seven eight", "en-US") == "+31612345678"
    assert spoken_digits("my number is two one two five double five oh one four two", "en-US") == "2125550142"
    assert spoken_digits("triple seven", "en-US") == "777"
    assert spoken_digits("nul zes een twee drie vier", "nl-NL") == "061234"
    assert spoken_digits("plus 31 6 12", "en-US") == "+31612"
    assert spoken_digits("no idea", "en-US") == ""


@pytest.mark.parametrize("lang, text, expected", [
    ("en-US", "tomorrow at three", datetime(2026, 11, 19, 15, 0)),  # 3 am is closed: afternoon
    ("en-US", "tomorrow at nine", datetime(2026, 11, 19, 9, 0)),  # 9 pm is closed: morning
    ("en-US", "tomorrow at 3 pm", datetime(2026, 11, 19, 15, 0)),
    ("en-US", "tomorrow at half past two", datetime(2026, 11, 19, 14, 30)),
    ("en-US", "tomorrow at quarter to five", datetime(2026, 11, 19, 16, 45)),
    ("en-US", "Friday at three thirty", datetime(2026, 11, 20, 15, 30)),
    ("en-US", "in an hour", datetime(2026, 11, 18, 11, 0)),
    ("en-US", "in half an hour", datetime(2026, 11, 18, 10, 30)),
    ("en-US", "in twenty minutes", datetime(2026, 11, 18, 10, 20)),
    ("en-US", "in two hours", datetime(2026, 11, 18, 12, 0)),
    ("en-US", "Monday morning", datetime(2026, 11, 23, 8, 0)),
    ("en-US", "day after tomorrow in the afternoon", datetime(2026, 11, 20, 12, 0)),
    ("en-US", "this afternoon", datetime(2026, 11, 18, 12, 0)),
    ("en-US", "at four", datetime(2026, 11, 18, 16, 0)),
    ("nl-NL", "morgen om drie uur", datetime(2026, 11, 19, 15, 0)),
    ("nl-NL", "morgen om half vier", datetime(2026, 11, 19, 15, 30)),  # half vier is 3:30
    ("nl-NL", "vrijdag om kwart over drie", datetime(2026, 11, 20, 15, 15)),
    ("nl-NL", "donderdag om kwart voor tien", datetime(2026, 11, 19, 9, 45)),
    ("nl-NL", "over een uur", datetime(2026, 11, 18, 11, 0)),
    ("nl-NL", "over een half uur", datetime(2026, 11, 18, 10, 30)),
    ("nl-NL", "over een kwartier", datetime(2026, 11, 18, 10, 15)),
    ("nl-NL", "maandagochtend", datetime(2026, 11, 23, 8, 0)),
    ("nl-NL", "maandag 's middags", datetime(2026, 11, 23, 12, 0)),
    ("nl-NL", "morgen om 14:30", datetime(2026, 11, 19, 14, 30)),
    ("nl-NL", "overmorgen om tien uur", datetime(2026, 11, 20, 10, 0)),
])
def test_callback_times(lang, text, expected):
    assert local(text, lang) == expected


def test_times_are_resolved_in_the_skills_time_zone():
    # 10:00 in New York is 16:00 in Amsterdam: "in an hour" is the same instant, "tomorrow at nine" is not.
    hours = parse_hours({d: "08:00-20:00" for d in ("mon", "tue", "wed", "thu", "fri")})
    ny = parse_callback_time("tomorrow at nine", "en-US", NOW, NY, hours).when
    ams = parse_callback_time("tomorrow at nine", "en-US", NOW, AMS, hours).when
    assert ny - ams == timedelta(hours=6)


def test_a_time_is_read_in_the_callers_zone_and_checked_against_the_teams_hours():
    """A Dutch caller of a New York team (open 08:00-18:00 New York, 14:00-24:00 Amsterdam) says times
    as they read a clock in Amsterdam; the team's hours are checked in New York."""
    def heard(text):
        return parse_callback_time(text, "nl-NL", NOW, AMS, WEEKDAYS_8_TO_18, hours_zone=NY)

    assert heard("morgen om half negen 's avonds").when.astimezone(AMS).replace(tzinfo=None) == \
        datetime(2026, 11, 19, 20, 30)  # 14:30 in New York: open
    assert heard("morgen om negen uur 's ochtends").reason == "closed"  # 03:00 in New York
    # A part of the day: its first minute the team is open (08:00 New York is 14:00 Amsterdam).
    assert heard("morgenmiddag").when.astimezone(AMS).replace(tzinfo=None) == datetime(2026, 11, 19, 14, 0)
    assert heard("morgen").reason == "day_only" and heard("zaterdag").reason == "closed"


@pytest.mark.parametrize("text, why", [
    ("at nine pm", "closed"),
    ("Saturday morning", "closed"),
    ("tomorrow at seven am", "closed"),
    ("today at eight am", "past"),
    ("in three weeks", "format"),
    ("purple", "format"),
])
def test_unbookable_times_say_why(text, why):
    assert reason(text) == why


def test_too_far_ahead_is_refused():
    hours = parse_hours({"mon": "08:00-18:00"})
    result = parse_callback_time("Monday at ten", "en-US", NOW, NY, hours, horizon=timedelta(days=2))
    assert result.reason == "horizon"


def test_a_time_in_the_spring_forward_gap_is_refused():
    # Sunday 8 March 2026, New York: clocks jump from 02:00 to 03:00.
    hours = {6: (time(0), time(23, 59))}
    saturday = datetime(2026, 3, 7, 15, 0, tzinfo=timezone.utc)
    result = parse_callback_time("tomorrow at half past two am", "en-US", saturday, NY, hours)
    assert result.reason == "dst_gap"


def test_a_time_that_happens_twice_means_the_first():
    # Sunday 1 November 2026, New York: 01:30 happens twice; the first is 05:30 UTC.
    hours = {6: (time(0), time(23, 59))}
    saturday = datetime(2026, 10, 31, 15, 0, tzinfo=timezone.utc)
    result = parse_callback_time("tomorrow at one thirty am", "en-US", saturday, NY, hours)
    assert result.when == datetime(2026, 11, 1, 5, 30, tzinfo=timezone.utc)


def test_now_must_be_aware():
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        parse_callback_time("in an hour", "en-US", datetime(2026, 1, 1), NY, WEEKDAYS_8_TO_18)


def test_as_soon_as_possible_is_recognised():
    from understanding.answers import wants_asap

    assert wants_asap("as soon as possible please", "en-US")
    assert wants_asap("when it is my turn", "en-US")
    assert wants_asap("zo snel mogelijk", "nl-NL")
    assert not wants_asap("tomorrow at three", "en-US")
    assert not wants_asap("snowball", "en-US")
    # Holding an asap phrase but asking for the opposite.
    for text, lang in (("as late as possible", "en-US"), ("tomorrow as late as you can", "en-US"),
                       ("not now, tomorrow at three", "en-US"), ("zo laat mogelijk", "nl-NL"),
                       ("niet nu, morgen om drie", "nl-NL")):
        assert not wants_asap(text, lang), text


@pytest.mark.parametrize("text", ["what was that", "can you say that again", "sorry what", "right affirmative no",
                                  "yes no", "no that's right yes"])
def test_words_that_are_neither_or_both_are_neither(text):
    # Asked again, never taken as yes or no: "no" at an offer ends the call.
    assert yes_no(text, "en-US") is None


@pytest.mark.parametrize("text, expected", [
    ("no problem", True), ("no please", False), ("please", True), ("not correct", False),
    ("That's it.", True), ("no that's not it", False),
    ("wat zei u", None), ("geen probleem", True), ("nee graag", False), ("ja nee", None),
])
def test_yes_no_edges(text, expected):
    lang = "nl-NL" if text in ("wat zei u", "geen probleem", "nee graag", "ja nee") else "en-US"
    assert yes_no(text, lang) is expected


@pytest.mark.parametrize("text, lang, day", [
    ("tomorrow", "en-US", datetime(2026, 11, 19).date()),
    ("Wednesday", "en-US", datetime(2026, 11, 25).date()),  # said on a Wednesday: next week's
    ("tomorrow am real", "en-US", datetime(2026, 11, 19).date()),  # what "tomorrow at three" was once heard as
    ("morgen", "nl-NL", datetime(2026, 11, 19).date()),
])
def test_a_day_alone_is_not_a_time(text, lang, day):
    result = parse_callback_time(text, lang, NOW, NY, WEEKDAYS_8_TO_18)
    assert (result.when, result.reason, result.day) == (None, "day_only", day)


def test_a_day_alone_we_cannot_call_on_is_refused_at_once():
    assert reason("Saturday") == "closed"
    late = datetime(2026, 11, 18, 23, 30, tzinfo=timezone.utc)  # 18:30 in New York, closed since 18:00
    assert reason("today", now=late) == "past"


@pytest.mark.parametrize("text", ["tomorrow morning at nine p m", "three a m in the afternoon",
                                  "today at three tomorrow", "tomorrow morning at fifteen", "morgen vandaag om drie"])
def test_contradictory_times_are_asked_again(text):
    assert reason(text, "nl-NL" if "morgen" in text else "en-US") == "contradictory"


def test_a_time_without_a_day_is_on_the_day_picked_before():
    result = parse_callback_time("at three", "en-US", NOW, NY, WEEKDAYS_8_TO_18, day_offset=1)
    assert result.when.astimezone(NY).replace(tzinfo=None) == datetime(2026, 11, 19, 15, 0)
    # A day said with it still wins.
    result = parse_callback_time("friday at three", "en-US", NOW, NY, WEEKDAYS_8_TO_18, day_offset=1)
    assert result.when.astimezone(NY).replace(tzinfo=None) == datetime(2026, 11, 20, 15, 0)


@pytest.mark.parametrize("text, digits", [
    ("four one five five five five oh one two three", "4155550123"),
    ("four one five double five five oh one two three", "4155550123"),
    ("four one five triple five oh one two three", "4155550123"),
    ("four one five, five-five-five, zero one two three", "4155550123"),
    ("415-555-0123", "4155550123"),
    ("double 5 5", "555"),
])
def test_spoken_numbers_keep_repeated_digits(text, digits):
    assert spoken_digits(text, "en-US") == digits


@pytest.mark.parametrize("kind, policy, streamed, held, expected", [
    # Digits. Whisper drops one digit of a run ("5 5 0" for "five five five zero"): its digits make no
    # whole number, PocketSphinx's count stands.
    ("digits", "merge", "two one two five five five zero one four two", "212 550 142", "2125550142"),
    # Both make a whole number and differ: Whisper's digits (it hears digits better; PocketSphinx swaps
    # similar-sounding ones: "eight" for "two").
    ("digits", "merge", "two one eight five five five zero one four two", "212-555-0142", "2125550142"),
    # Whisper dropped one "five" of the run and PocketSphinx swapped the third digit: the digits are aligned
    # one by one, so the dropped "five" is a digit only PocketSphinx heard (kept) and the "eight" a digit heard
    # differently (Whisper's). The longest common blocks (difflib) aligned Whisper's "2" with PocketSphinx's
    # "5" and lost a digit: 212550142, no number, and PocketSphinx's 2185550142 stood (dev recordings).
    ("digits", "merge", "two one eight five five five zero one four two", "Two, one, two, five, five, zero, one, four, two.",
     "2125550142"),
    ("digits", "merge", "two one three five five five eight eight two eight", "Two, one, three, five, five, eight, seven, six.",
     "2135558876"),
    # Neither's digits nor the merge make a number of the caller's country: Whisper's stand (here an
    # international number said without "plus", which the IVR reads as one).
    ("digits", "merge", "one one three one two five five two two three three", "31612345678", "31612345678"),
    # Times. One heard the day alone, the other a time on that day: the time (before: the day, and the
    # time was asked again).
    ("time", "second", "tomorrow a three pm", "Tomorrow, let's repeat it.", "2026-01-06T15:00:00+00:00"),
    ("time", "second", "tomorrow", "Tomorrow at 3 p.m.", "2026-01-06T15:00:00+00:00"),
    # A time on another day is no refinement: Whisper's reading stands, as for any two times that differ.
    ("time", "second", "friday at three pm", "Tomorrow.", "day 2026-01-06"),
])
def test_two_recognisers_answers_make_one(kind, policy, streamed, held, expected):
    from understanding.confidence import answer_key, choose

    words, _, state = choose(kind, streamed, held, "en-US", None, policy)
    assert state == "disagree" and answer_key(kind, words, "en-US") == expected


@pytest.mark.parametrize("streamed, held, expected, state", [
    # Whisper, prompted "Question: is that right? The caller answers yes or no.", wrote its prompt back for
    # "of course" ("The caller's"): words of the prompt alone that make no answer are not heard, and
    # PocketSphinx's words stand, doubtful (only one recogniser heard an answer).
    ("of course", "The caller's", True, "first_only"),
    ("hold", "The caller.", None, "weak"),
    # An answer made of the prompt's words is an answer: Whisper's yes or no stands.
    ("that", "Yes.", True, "single"),
    ("no", "No.", False, "agree"),
])
def test_whisper_writing_its_prompt_back_is_not_heard(streamed, held, expected, state):
    from speech.cascade import hint
    from understanding.confidence import choose

    words, _, answer_state = choose("yes_no", streamed, held, "en-US", None, "heard", hint("yes_no", "en-US"))
    assert (yes_no(words, "en-US"), answer_state) == (expected, state), words
