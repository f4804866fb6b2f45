import json

from click.testing import CliRunner

from ivr.cli import ivr_cli


def classify(*args):
    result = CliRunner().invoke(ivr_cli, ["classify", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_classify_menu_text():
    out = classify("my internet is not working", "--lang", "en-US")
    assert (out["skill"], out["intent"], out["confidence"], out["engine"]) == ("support", "support", 1.0, "text")
    assert out["transcript"] == "my internet is not working"


def test_classify_dutch_and_other_steps():
    assert classify("ik heb een vraag over mijn factuur", "--lang", "nl-NL")["skill"] == "billing"
    assert classify("ja graag", "--lang", "nl-NL", "--step", "confirm_skill")["answer"] == "yes"
    assert classify("oh six one two", "--step", "callback_number_enter")["digits"] == "0612"
    out = classify("tomorrow at three", "--step", "callback_pick_time", "--skill", "billing",
                   "--now", "2026-11-18T10:00:00-05:00")
    assert out["callback_at"] == "2026-11-19T20:00:00+00:00" and out["reason"] is None


def test_classify_needs_an_aware_now():
    result = CliRunner().invoke(ivr_cli, ["classify", "at three", "--step", "callback_pick_time",
                                          "--now", "2026-11-18T10:00:00"])
    assert result.exit_code != 0 and "UTC offset" in result.output


def test_classify_as_soon_as_possible_at_the_when_step():
    out = classify("as soon as possible", "--step", "callback_when", "--now", "2026-11-18T10:00:00-05:00")
    assert out["asap"] is True and out["callback_at"] is None and out["reason"] is None
    out = classify("morgen om tien uur", "--lang", "nl-NL", "--step", "callback_when", "--skill", "billing",
                   "--now", "2026-11-18T10:00:00-05:00")
    assert out["asap"] is False and out["callback_at"] == "2026-11-19T15:00:00+00:00"
