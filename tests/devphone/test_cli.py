"""`flask devphone call`: a call through the IVR in-process, printed; a keyed path and a spoken path."""
from __future__ import annotations

import re
from dataclasses import replace

import click
import pytest
from sqlalchemy import select

from app import create_app
from storage.models import Call
from telephony.cli import parse_steps


def test_a_keyed_call_prints_the_prompts_the_keys_the_decisions_and_the_end(app, runtime, busy_agent):
    busy_agent("billing")  # nobody free: the wait is offered, the caller holds
    result = app.test_cli_runner().invoke(args=["devphone", "call", "--from", "+31612345678", "--press", "1",
                                                "--press", "2"])
    out = result.output
    assert result.exit_code == 0, out
    greeting = runtime.ivr_config.prompts["en-US"]["greeting"].format(company=runtime.ivr_config.company_name)
    assert out.index(f"IVR says: {greeting}") < out.index("caller keys: 1") < out.index("caller keys: 2")
    assert "waiting in queue: billing" in out
    assert "after the last step the call is waiting in queue billing" in out
    assert re.search(r"^  menu: keyed 1 -> billing$", out, re.M), out
    assert "queue entry: holding for billing, abandoned" in out  # the dev phone hung up while holding
    assert out.rstrip().endswith("Call ended: completed")
    assert runtime.twilio is not None and "dispatcher" in runtime.extras  # the app's own client is back


def test_a_recording_where_the_ivr_takes_keys_only_is_reported_unheard(app):
    wav = "tests/fixtures/audio/en/tts_en_yes.wav"
    result = app.test_cli_runner().invoke(args=["devphone", "call", "--audio", wav, "--press", "9"])
    assert result.exit_code == 0, result.output
    assert "no media stream was open" in result.output  # speech is off in this app: keys only
    assert result.output.index("no media stream was open") < result.output.index("caller keys: 9")


def test_steps_run_in_the_order_given():
    assert parse_steps(["--barge-in", "--press", "12#", "--wait", "--say", "hello there", "--hang-up"]) == [
        ("press", "12#", True), ("wait", None, False), ("say", "hello there", False), ("hang-up", None, False)]
    with pytest.raises(click.UsageError, match=r"--press takes keys 0-9, \* and #, not .one."):
        parse_steps(["--press", "one"])


def test_a_spoken_call_prints_what_was_said_and_what_the_ivr_heard(speech_app):
    result = speech_app.test_cli_runner().invoke(args=["devphone", "call", "--say", "I have a question about my bill"])
    out = result.output
    assert result.exit_code == 0, out
    assert 'caller says: "I have a question about my bill"' in out
    assert "the IVR moved the call on" in out  # the media handler stopped the prompt and sent the answer on
    # What the recogniser made of espeak-ng's voice varies (tests/speech holds its accuracy); that it was
    # heard, stored and decided does not, and the report is what the IVR stored for this call.
    with speech_app.extensions["ivr"].sessions() as session:
        [call] = session.scalars(select(Call)).all()
        [step] = call.scratch["path"]
        skill = call.skill
    assert step["step"] == "menu" and step["said"] and step["meaning"]
    assert f'  menu: heard "{step["said"]}" (confidence {step["confidence"]:.2f}) -> {step["meaning"]}\n' in out, out
    assert skill == step["meaning"] and f"  skill: {skill}\n" in out, out
    assert out.rstrip().endswith("Call ended: completed")


def test_in_development_without_a_public_url_or_twilio_token(settings, clock):
    # As after a plain clone: no PUBLIC_BASE_URL and no Twilio account, speech on.
    dev = replace(settings, public_base_url=None, twilio_auth_token=None, twilio_account_sid=None,
                  speech_enabled=True)
    app = create_app(dev, clock=clock)
    try:
        result = app.test_cli_runner().invoke(args=["devphone", "call", "--from", "+31612345678",
                                                    "--say", "I have a question about my bill"])
        out = result.output
        assert result.exit_code == 0, out
        assert "answered 403" not in out and "menu: heard" in out, out
        assert app.config.get("PUBLIC_BASE_URL") is None  # as it was before the call
    finally:
        app.extensions["ivr"].engine.dispose()


def test_the_loopback_server_writes_no_access_log_lines(caplog):
    """`ivr devphone call` serves /media on a loopback server: its output is not mixed with werkzeug's
    `"GET /media HTTP/1.1" 101` lines. Errors would still be logged."""
    import logging
    import urllib.request

    from telephony.transport import serve

    def hello(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hi"]

    caplog.set_level(logging.INFO, logger="werkzeug")
    with serve(hello, access_log=False) as base:  # as WsgiTransport serves the media streams
        assert urllib.request.urlopen(f"{base}/media?x=1", timeout=10).read() == b"hi"
    assert not [r for r in caplog.records if r.name == "werkzeug" and "/media" in r.getMessage()], caplog.text
