"""The supervisor pages name every IVR step the call flow declares (ivr/steps.py STEPS is the source):
a step added there without a label here fails this test instead of showing a raw name."""
from ivr.steps import STEPS


def test_every_step_has_a_label_on_the_supervisor_pages(app):
    with app.app_context():
        asked = app.jinja_env.get_template("supervisor/_macros.html").make_module({}).ASKED
    assert sorted(set(STEPS) - set(asked)) == []
    assert sorted(set(asked) - set(STEPS)) == []  # no label for a step that no longer exists
