"""Wires the customer-facing callback channels into the app: the JSON API, the chat and SMS
webhooks, their rate limits, and /demo (a page showing the "Call me back" button in place)."""
from __future__ import annotations

from flask import Blueprint, Flask, render_template

from web.runtime import runtime

demo = Blueprint("callback_demo", __name__)


@demo.get("/demo")
def demo_page():
    config = runtime().ivr_config
    return render_template("demo.html", company=config.company_name)


def register_public(app: Flask) -> None:
    from webhooks.api import api, init_api
    from webhooks.chat import chat, init_chat
    from web.limits import init_limits
    from webhooks.sms import sms

    init_limits(app)
    init_api(app)
    init_chat(app)
    for blueprint in (api, chat, sms, demo):
        app.register_blueprint(blueprint)
