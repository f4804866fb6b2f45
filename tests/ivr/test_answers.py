"""Keys read by the step's answer kind, and numbers read the way people give them."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from phone_numbers import spoken_number
from config import load_ivr_config
from ivr import answers, steps

CONFIG = load_ivr_config()
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)
ALLOWED = ("US", "CA", "NL", "BE", "DE", "GB")


def ctx(home="US", **kw):
    return answers.AnswerContext(config=CONFIG, understanding=None, language="en-US",
                                 skill=CONFIG.skills["billing"], now=NOW, home_region=home,
                                 allowed_countries=ALLOWED, **kw)


def keys(step, digits, **kw):
    return answers.from_keys(steps.STEPS[step], digits, ctx(**kw))


@pytest.mark.parametrize("digits,home,number", [
    ("0612345678", "NL", "+31612345678"),  # Dutch mobile, national
    ("4155550123", "US", "+14155550123"),  # US, national
    ("31612345678", "NL", "+31612345678"),  # international without the +
    ("31612345678", "US", "+31612345678"),
    ("0031612345678", "NL", "+31612345678"),  # with the Dutch international prefix
    ("02079460958", "GB", "+442079460958"),
    ("14155550123", None, "+14155550123"),  # no home country (a SIP caller): read as international
])
def test_keyed_numbers_national_or_international(digits, home, number):
    assert keys("callback_number_enter", digits, home=home) == answers.Meaning("number", number)


def test_a_lone_zero_is_a_person_at_every_question_but_not_inside_a_number():
    for name, step in steps.STEPS.items():
        meaning = answers.from_keys(step, "0", ctx())
        assert meaning.kind == ("skill" if step.expects.kind == steps.SKILL else "agent"), name
    assert keys("callback_number_enter", "0612345678", home="NL").kind == "number"


def test_refused_numbers_say_why():
    assert keys("callback_number_enter", "12345") == answers.Meaning("refused", "invalid")
    assert keys("callback_number_enter", "19005550123") .kind == "refused"
    assert keys("callback_number_enter", "911") == answers.Meaning("refused", "emergency")


def test_keyed_times_and_choices():
    assert keys("callback_pick_day", "2") == answers.Meaning("day", 1)
    assert keys("callback_pick_day", "7").kind == "unclear"
    at = keys("callback_pick_time", "1430", day_offset=1)
    assert at.kind == "time" and at.value == datetime(2026, 11, 25, 19, 30, tzinfo=timezone.utc)
    assert keys("callback_pick_time", "2561") == answers.Meaning("refused", "format")
    assert keys("callback_when", "1") == answers.Meaning("asap")
    assert keys("confirm_skill", "2") == answers.Meaning("no")
    assert keys("menu", "9").kind == "language" and keys("menu", "2") == answers.Meaning("skill", "support")
    assert keys("menu", "7").kind == "unclear"


@pytest.mark.parametrize("number,home,spoken", [
    ("+31612345678", "NL", "0 6, 1 2 3, 4 5 6, 7 8"),
    ("+31612345678", "US", "plus 3 1, 6, 1 2 3, 4 5 6, 7 8"),
    ("+14155550123", "US", "4 1 5, 5 5 5, 0 1 2 3"),
    ("+442079460958", "GB", "0 2 0, 7 9 4 6, 0 9 5 8"),
])
def test_read_back_groups_digits_as_people_say_them(number, home, spoken):
    assert spoken_number(number, home) == spoken


# ---- words, through the same understanding the IVR uses ------------------------------------------

from understanding import Understanding  # noqa: E402

WORDS = Understanding.from_config(CONFIG)


def words(step, said, lang="en-US", confidence=0.9):
    context = answers.AnswerContext(config=CONFIG, understanding=WORDS, language=lang,
                                    skill=CONFIG.skills["billing"], now=NOW,
                                    home_region="NL" if lang == "nl-NL" else "US",
                                    allowed_countries=ALLOWED)
    return answers.from_words(steps.STEPS[step], said, confidence, context)


@pytest.mark.parametrize("step,said,lang,kind,value", [
    ("menu", "my invoice is wrong", "en-US", "skill", "billing"),
    ("menu", "the internet is not working", "en-US", "skill", "support"),
    ("menu", "ik wil een nieuw abonnement", "nl-NL", "skill", "sales"),
    ("confirm_skill", "yes please", "en-US", "yes", None),
    ("confirm_skill", "yeah go ahead", "en-US", "yes", None),
    ("confirm_skill", "natuurlijk niet", "nl-NL", "no", None),
    ("callback_number_confirm", "akkoord", "nl-NL", "yes", None),
    ("callback_number_confirm", "nee", "nl-NL", "no", None),
    ("callback_number_confirm", "one", "en-US", "yes", None),  # "press 1 for yes", said
    ("callback_number_enter", "two one two five five five zero one four two", "en-US", "number", "+12125550142"),
    ("callback_number_enter", "four one five double five five oh one two three", "en-US", "number", "+14155550123"),
    ("callback_number_enter", "nul zes een twee drie vier vijf zes zeven acht", "nl-NL", "number", "+31612345678"),
    # Whisper writes a repeat word before the digits it repeats and the rest of the group: "triple 50142".
    ("callback_number_enter", "212, triple 50142", "en-US", "number", "+12125550142"),
    ("callback_when", "as soon as possible", "en-US", "asap", None),
    # The end of "as early as possible" heard, its start misheard (Whisper: "And, as possible."): asap.
    ("callback_when", "and, as possible", "en-US", "asap", None),
    ("callback_when", "as quick as you can", "en-US", "asap", None),
    ("callback_when", "zo vroeg mogelijk", "nl-NL", "asap", None),
    # "If possible" is no "as possible": the time said stands (read back).
    ("callback_when", "tomorrow at three in the afternoon if possible", "en-US", "unsure",
     datetime(2026, 11, 25, 20, 0, tzinfo=timezone.utc)),
    ("callback_when", "tomorrow at three in the afternoon", "en-US", "unsure",  # a spoken time is read back
     datetime(2026, 11, 25, 20, 0, tzinfo=timezone.utc)),
    # A time or a day said beats the asap words around it; words asking for the opposite are no asap.
    ("callback_when", "not now, tomorrow at three in the afternoon", "en-US", "unsure",
     datetime(2026, 11, 25, 20, 0, tzinfo=timezone.utc)),
    ("callback_when", "as late as possible", "en-US", "unclear", None),
    ("wait_offer", "I'm fine, I'll hold", "en-US", "no", None),
    ("wait_offer", "ik wacht wel", "nl-NL", "no", None),
    ("confirm_skill", "don't go ahead", "en-US", "no", None),
    ("callback_when", "sunday at ten", "en-US", "refused", "closed"),
    ("callback_when", "banana", "en-US", "unclear", None),
    ("wait_offer", "call me back as soon as you can", "en-US", "yes", None),
    ("callback_pick_time", "I want to talk to an operator", "en-US", "agent", None),
    ("callback_number_enter", "een medewerker alstublieft", "nl-NL", "agent", None),
])
def test_spoken_answers_have_the_meaning_a_key_would(step, said, lang, kind, value):
    meaning = words(step, said, lang)
    assert (meaning.kind, meaning.value) == (kind, value), meaning


def test_a_doubtful_or_unknown_need_is_confirmed_or_goes_to_a_person():
    assert words("menu", "mumble grumble") == answers.Meaning("none", None)  # heard clearly, means nothing
    assert words("menu", "none of those") == answers.Meaning("skill", "general")  # none of the teams: a person


# ---- answers mean what was said -------------------------------------------------------------------

@pytest.mark.parametrize("step", ["after_hours_offer", "confirm_skill", "wait_offer", "callback_number_confirm",
                                  "callback_number_readback", "callback_time_confirm"])
@pytest.mark.parametrize("said", ["what was that", "can you say that again", "right affirmative no"])
def test_words_that_are_neither_yes_nor_no_are_asked_again(step, said):
    # Never "no" (after hours, "no" ends the call with goodbye), never "yes".
    assert words(step, said).kind == "unclear"
    assert "unclear" not in steps.STEPS[step].leads  # unclear is always asked again (then a person)


@pytest.mark.parametrize("step", ["callback_when", "callback_pick_day", "callback_pick_time"])
def test_a_day_alone_asks_for_the_time(step):
    meaning = words(step, "tomorrow")
    assert meaning == answers.Meaning("day", 1)
    assert steps.STEPS[step].leads["day"] == "ask_time"
    assert words(step, "friday") == answers.Meaning("day", 3)  # NOW is a Tuesday


@pytest.mark.parametrize("said", ["tomorrow morning at nine p m", "today at three tomorrow"])
def test_a_contradictory_time_is_asked_again(said):
    assert words("callback_when", said).kind == "unclear"


def test_a_time_said_after_picking_a_day_is_on_that_day():
    context = answers.AnswerContext(config=CONFIG, understanding=WORDS, language="en-US",
                                    skill=CONFIG.skills["billing"], now=NOW, home_region="US",
                                    allowed_countries=ALLOWED, day_offset=1)
    meaning = answers.from_words(steps.STEPS["callback_pick_time"], "at three p m", 0.95, context)
    assert meaning == answers.Meaning("unsure", datetime(2026, 11, 25, 20, 0, tzinfo=timezone.utc))


@pytest.mark.parametrize("said,value", [
    ("as soon as possible", "asap"),
    ("tomorrow at three p m", datetime(2026, 11, 25, 20, 0, tzinfo=timezone.utc)),
])
def test_a_time_heard_with_low_confidence_is_confirmed_not_booked(said, value):
    assert words("callback_when", said, confidence=0.3) == answers.Meaning("unsure", value)
    assert steps.STEPS["callback_when"].leads["unsure"] == "confirm_time"
    sure = words("callback_when", said, confidence=0.95)
    # A sure "as soon as possible" is booked; a spoken time, however sure, is read back first.
    assert sure == (answers.Meaning("asap") if value == "asap" else answers.Meaning("unsure", value))
    # Keys are never doubtful.
    assert keys("callback_when", "1") == answers.Meaning("asap")


def test_the_read_back_takes_yes_and_no_and_no_corrects_the_time():
    confirm = steps.STEPS["callback_time_confirm"]
    assert words("callback_time_confirm", "yes that's right").kind == "yes"
    assert words("callback_time_confirm", "no").kind == "no"
    assert confirm.leads["no"] == "correct_time" and confirm.leads["yes"] == "book_confirmed_time"
    assert keys("callback_time_confirm", "2") == answers.Meaning("no")


def test_only_a_key_said_alone_counts_as_that_key():
    assert words("callback_when", "two").kind == "later"  # "press 2 for a later time", said
    assert words("callback_when", "press one") == answers.Meaning("asap")
    # What PocketSphinx once heard for "as soon as possible": not the key 2.
    assert words("callback_when", "two at possible").kind == "unclear"


def asked_again(step, said, earlier_said, earlier_meaning, confidence=0.5):
    context = answers.AnswerContext(config=CONFIG, understanding=WORDS, language="en-US",
                                    skill=CONFIG.skills["billing"], now=NOW, home_region="US",
                                    allowed_countries=ALLOWED,
                                    earlier={"step": step, "said": earlier_said, "meaning": earlier_meaning})
    return answers.from_words(steps.STEPS[step], said, confidence, context)


def test_the_same_plain_doubtful_yes_or_no_said_again_is_acted_on():
    step = "after_hours_offer"
    doubtful = words(step, "yes", confidence=0.5)
    assert doubtful == answers.Meaning("unclear", "yes") and doubtful.describe() == "doubtful: yes"  # asked again
    assert asked_again(step, "yes please", "yes", "doubtful: yes") == answers.Meaning("yes")
    assert asked_again(step, "no", "no", "doubtful: no") == answers.Meaning("no")
    # Not the same answer, not plain words, or not doubtful before: asked again.
    assert asked_again(step, "yes", "no", "doubtful: no") == answers.Meaning("unclear", "yes")
    heard = "sorry one live yeah"
    assert asked_again(step, heard, heard, "doubtful: yes") == answers.Meaning("unclear", "yes")
    assert asked_again(step, "yes", "sorry one live yeah", "doubtful: yes") == answers.Meaning("unclear", "yes")
    assert asked_again(step, "why wrong", "why wrong", "doubtful: no") == answers.Meaning("unclear", "no")
    assert asked_again(step, "not right", "not right", "doubtful: no") == answers.Meaning("no")
    assert asked_again(step, "what was that", "what was that", None).kind == "unclear"
    assert answers.earlier_answer([{"step": "menu"}, {"step": step}], step) == {"step": step}
    assert answers.earlier_answer([{"step": step}, {"step": "menu"}], step) is None


@pytest.mark.parametrize("said,local", [
    ("tomorrow, nine in the morning", "09:00"),  # was the morning's first bookable minute, 08:00
    ("tomorrow at 3pm", "15:00"),  # Whisper writes "3pm"
    ("ten thirty this morning", "10:30"),
    ("Wednesday, 10.30.", "10:30")])  # Whisper writes "10.30" for half past ten
def test_a_clock_time_said_with_a_part_of_the_day_or_glued_to_pm(said, local):
    meaning = words("callback_when", said)
    zone = CONFIG.skills["billing"].timezone
    assert meaning.kind == "unsure" and meaning.value.astimezone(zone).strftime("%H:%M") == local, meaning
