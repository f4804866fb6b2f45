"""The supervisor pages name every IVR step the call flow declares (ivr/steps.py STEPS is the one list of
steps; each one's label is asked_<step> in config/ivr.toml, both languages): a step added without a label
fails this test instead of showing a raw name."""
from ivr.steps import STEPS


def test_every_step_has_a_label_on_the_supervisor_pages(app, runtime):
    for language, table in runtime.ivr_config.prompts.items():
        labels = {key.removeprefix("asked_") for key in table if key.startswith("asked_")}
        assert sorted(set(STEPS) - labels) == [], language
        assert sorted(labels - set(STEPS)) == [], language  # no label for a step that no longer exists
    with app.test_request_context():
        label = app.jinja_env.filters["asked_label"]
        assert label("callback_time_confirm") == "Time right?"
        assert label("a_step_of_an_old_call") == "A step of an old call"
