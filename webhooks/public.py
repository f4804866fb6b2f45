"""/demo: a page showing the "Call me back" button in place (webhooks/plugin.py registers it)."""
from __future__ import annotations

from flask import Blueprint, render_template

from web.runtime import runtime

demo = Blueprint("callback_demo", __name__)


@demo.get("/demo")
def demo_page():
    config = runtime().ivr_config
    return render_template("demo.html", company=config.company_name)
