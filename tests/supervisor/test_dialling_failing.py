"""Twilio unreachable or refusing our credentials: the dispatcher backs off exponentially up
to a cap, the agent is not flipped between reserved and available on every try, one log line marks each
change of state, and the supervisor's queue page says in words that dialling fails and why. The failure
is the emulator's REST API answering 401 (Twilio's 20003) or refusing the connection."""
from __future__ import annotations

import logging

import pytest

from storage.models import Agent
from tests.support import agents_api
from tests.supervisor.conftest import book, dispatcher_for, entry

AGENT = "+14155550101"


def _agent(runtime, agent_id):
    with runtime.sessions() as db:
        found = db.get(Agent, agent_id)
        return found.state, found.version


def _ivr_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name.startswith("ivr") and r.levelno >= logging.INFO]


@pytest.mark.parametrize("how, words", [
    ("credentials", "Dialling is failing: Twilio refused our credentials since "),
    ("unreachable", "Dialling is failing: Twilio cannot be reached since "),
])
def test_dispatcher_backs_off_and_the_page_says_why(app, runtime, clock, twilio_rest, sign_in, caplog, how, words,
                                                     monkeypatch):
    dispatcher = dispatcher_for(runtime)
    monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)
    agent_id = agents_api.add_available(app.test_client(), "Ann", AGENT, ["billing"])
    pid = book(app, "+12125550143")
    page = sign_in("sam")
    twilio_rest.fail_all(how)
    caplog.set_level(logging.INFO)
    started = clock.now()

    first = dispatcher.run_once()
    assert [c.public_id for c in first.claimed] == [pid] and first.dialling_failing
    assert entry(runtime, pid).state == "queued" and entry(runtime, pid).attempts == 0  # no attempt spent
    state, version = _agent(runtime, agent_id)
    assert state == "available"
    lines = _ivr_lines(caplog)  # one line per change of state: Ann reserved, dialling failing, Ann free
    assert len(lines) == 3 and lines[1] == f"dialling is failing ({how}); backing off"
    caplog.clear()
    requests = len(twilio_rest.requests)

    gaps = []
    for _ in range(9):
        clock.advance(1)
        report = dispatcher.run_once()  # a sweep between tries asks Twilio nothing
        assert report.claimed == [] and report.dialling_failing == how
        outage = dispatcher.health.current()
        clock.set(outage.next_try)
        report = dispatcher.run_once()  # the try: a probe, not a claim
        assert report.claimed == [] and report.next_wake == dispatcher.health.current().next_try
        gaps.append((dispatcher.health.current().next_try - clock.now()).total_seconds())
    assert gaps == [5, 10, 20, 40, 80, 160, 300, 300, 300]  # doubling, capped at five minutes
    assert len(twilio_rest.requests) == requests + 9  # one probe per try
    assert _agent(runtime, agent_id) == (state, version)  # the agent was never reserved again
    assert entry(runtime, pid).state == "queued"
    assert _ivr_lines(caplog) == []  # no line per try

    html = page.get("/supervisor/").get_data(as_text=True)
    since = started.astimezone(runtime.ivr_config.fallback_skill.timezone)
    assert words + since.strftime("%H:%M") in html  # today, in the team's zone: the time alone

    twilio_rest.fail_all(None)
    clock.set(dispatcher.health.current().next_try)
    report = dispatcher.run_once()
    assert [c.public_id for c in report.claimed] == [pid] and report.dialling_failing is None
    assert entry(runtime, pid).state == "dialing_agent" and _agent(runtime, agent_id)[0] == "reserved"
    assert _ivr_lines(caplog)[0].startswith("dialling works again after")
    assert "Dialling is failing" not in page.get("/supervisor/").get_data(as_text=True)


def test_the_wording_is_the_operators_in_both_languages(runtime):
    for language in ("en-US", "nl-NL"):
        table = runtime.ivr_config.prompts[language]
        for reason in ("credentials", "unreachable"):
            assert "{since}" in table[f"supervisor_dialling_{reason}"]
