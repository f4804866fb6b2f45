import json

from click.testing import CliRunner

from ivr.cli import understand_cli


def run(*args):
    result = CliRunner().invoke(understand_cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def classify(*args):
    return json.loads(run("classify", *args, "--json"))


def test_classify_prints_the_top_three_with_scores():
    out = run("classify", "my internet is not working", "--lang", "en-US").splitlines()
    assert len(out) == 4
    scores = [float(line.split()[0]) for line in out[:3]]
    assert out[0].split()[1] == "support" and scores == sorted(scores, reverse=True)
    assert out[3].startswith("-> support (confidence")


def test_classify_says_when_it_is_none_of_these_or_doubtful():
    assert "none of these" in run("classify", "mumble grumble")
    # Two skills named about equally: the IVR would ask "billing, is that right?".
    doubtful = run("classify", "bill or internet", "--lang", "en-US").splitlines()[-1]
    assert doubtful.startswith("-> billing, doubtful (confidence 0.") and "asks the caller to confirm" in doubtful
    # One skill named plainly: no doubt, no confirmation.
    sure = run("classify", "refund", "--lang", "en-US").splitlines()[-1]
    assert sure.startswith("-> billing (confidence") and "doubtful" not in sure


def test_classify_menu_text_as_json():
    out = classify("my internet is not working", "--lang", "en-US")
    assert (out["skill"], out["intent"], out["engine"]) == ("support", "support", "text")
    assert out["confidence"] > 0.7 and out["ranked"][0][0] == "support" and len(out["ranked"]) == 3
    assert out["transcript"] == "my internet is not working"


def test_classify_dutch_and_other_steps():
    assert classify("ik heb een vraag over mijn factuur", "--lang", "nl-NL")["skill"] == "billing"
    assert classify("ja graag", "--lang", "nl-NL", "--step", "confirm_skill")["answer"] == "yes"
    assert classify("oh six one two", "--step", "callback_number_enter")["digits"] == "0612"
    out = classify("tomorrow at three", "--step", "callback_pick_time", "--skill", "billing",
                   "--now", "2026-11-18T10:00:00-05:00")
    assert out["callback_at"] == "2026-11-19T20:00:00+00:00" and out["reason"] is None


def test_classify_refuses_an_unknown_language_or_skill():
    result = CliRunner().invoke(understand_cli, ["classify", "hello", "--lang", "fr-FR"])
    assert result.exit_code == 2 and "not one of the IVR's languages" in result.output
    result = CliRunner().invoke(understand_cli, ["classify", "at three", "--step", "callback_when", "--skill", "nope"])
    assert result.exit_code == 2 and "no skill named" in result.output


def test_classify_needs_an_aware_now():
    result = CliRunner().invoke(understand_cli, ["classify", "at three", "--step", "callback_pick_time",
                                          "--now", "2026-11-18T10:00:00"])
    assert result.exit_code != 0 and "UTC offset" in result.output


def test_classify_as_soon_as_possible_at_the_when_step():
    out = classify("as soon as possible", "--step", "callback_when", "--now", "2026-11-18T10:00:00-05:00")
    assert out["asap"] is True and out["callback_at"] is None and out["reason"] is None
    out = classify("morgen om tien uur", "--lang", "nl-NL", "--step", "callback_when", "--skill", "billing",
                   "--now", "2026-11-18T10:00:00-05:00")
    assert out["asap"] is False and out["callback_at"] == "2026-11-19T15:00:00+00:00"


def test_evaluate_prints_accuracy_confusion_and_misses(tmp_path):
    tsv = tmp_path / "mine.tsv"
    tsv.write_text("# our own phrases\n"
                   "my invoice is too high\tbilling\n"
                   "the tv box shows no picture\tsupport\n"
                   "mumble grumble\tgeneral\n"
                   "my invoice is too high again\tsales\n", encoding="utf-8")
    out = run("evaluate", str(tsv), "--lang", "en-US")
    assert "4 phrases in en-US" in out and "accuracy: 75.0% (3/4)" in out
    assert "confusion (rows: labelled, columns: guessed):" in out and "(none)" in out
    assert "sales -> billing" in out and "my invoice is too high again" in out
    assert "misses" not in run("evaluate", str(tsv), "--lang", "en-US", "--no-misses")


def test_evaluate_refuses_a_bad_file_with_one_line(tmp_path):
    tsv = tmp_path / "bad.tsv"
    tsv.write_text("my bill\tbilling\nno tab here\n", encoding="utf-8")
    result = CliRunner().invoke(understand_cli, ["evaluate", str(tsv)])
    assert result.exit_code == 1 and "line 2: expected text<TAB>skill" in result.output
    tsv.write_text("my bill\tinvoices\n", encoding="utf-8")
    result = CliRunner().invoke(understand_cli, ["evaluate", str(tsv)])
    assert result.exit_code == 1 and "unknown skill 'invoices'" in result.output
    assert "Traceback" not in result.output


def test_step_is_one_of_the_flows_step_names_and_a_bogus_one_is_refused():
    """`--step bogus` is refused (it was read as the menu), and the help lists the step names the docs use."""
    from ivr.steps import STEPS

    result = CliRunner().invoke(understand_cli, ["classify", "my bill", "--step", "bogus"])
    assert result.exit_code == 2 and "'bogus' is not one of" in result.output
    helped = CliRunner().invoke(understand_cli, ["classify", "--help"], terminal_width=400)
    assert all(name in helped.output for name in STEPS), helped.output
    import re

    for stale in (r"\bcallback_number\b", r"\bcallback_time\b", r"flask speech"):
        assert not re.search(stale, helped.output), stale
    assert understand_cli.name == "understand"
