"""Dispatcher fixtures: a dispatcher on the test app with settings a test can change, agents, callbacks
booked through the public API as the web button books them, and Twilio's part for the calls it places."""
from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from sqlalchemy import select

from callbacks import services as callbacks
from callbacks.dialing import Dialer, OutboundLinks
from callbacks.dispatcher import Dispatcher
from config import DispatchSettings
from storage.models import Agent, QueueEntry
from tests.conftest import PUBLIC_BASE_URL
from tests.support import agents_api
from tests.support.outbound_legs import Outbound
from tests.support.web_button import book_on_the_web

FROM = "+15005550006"


@pytest.fixture
def make_dispatcher(runtime):
    def make(config=None, **overrides) -> Dispatcher:
        settings = replace(DispatchSettings(calls_per_second=0, retry_delay_seconds=600, max_attempts=3,
                                            early_window_seconds=60), **overrides)
        dialer = Dialer(runtime.twilio, runtime.settings.twilio_number, OutboundLinks(PUBLIC_BASE_URL),
                        runtime.clock, messaging_number=runtime.settings.twilio_messaging_number)
        d = Dispatcher(runtime.sessions, runtime.clock, config or runtime.ivr_config, dialer, settings)
        runtime.extras["dispatcher"] = d  # the webhooks use the same one
        return d

    return make


@pytest.fixture
def dispatcher(make_dispatcher):
    return make_dispatcher()


@pytest.fixture
def outbound(twilio, twilio_rest):
    return Outbound(twilio, twilio_rest)


@pytest.fixture
def add_agent(app, runtime, monkeypatch, request):
    def add(name: str, address: str, skills=("billing",), state="available", wrap_up=0):
        """A new agent through /api/agents with the bearer token (tests/support/agents_api.py), set
        available, or left offline; state "on_call": then on a call, a callback for another customer
        (agents_api.BUSY_CUSTOMER) that the dispatcher offered them and they answered."""
        monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)
        client = app.test_client()
        agent_id = agents_api.add(client, name, address, list(skills), wrap_up_seconds=wrap_up,
                                  state="available" if state == "on_call" else state)
        if state == "on_call":
            agents_api.put_on_a_call(client, request.getfixturevalue("twilio"), runtime, agent_id, address,
                                     skills[0])
        return agent_id

    return add


@pytest.fixture
def book(app, runtime):
    """book(number, ...): a callback asked for on the web button (tests/support/web_button.py), each visitor
    from their own address. Booked now (the clock's now); to book one earlier than another, book it and
    then `clock.advance(...)`. Returns the callback's public id."""
    client = app.test_client()
    visitors = itertools.count(1)

    def book(number: str, skill="billing", **fields) -> str:
        address = f"203.0.113.{next(visitors)}"
        return book_on_the_web(client, runtime.ivr_config, number, skill, address=address, **fields)["id"]

    return book


@pytest.fixture
def entry_of(runtime):
    def get(public_id: str) -> QueueEntry:
        with runtime.sessions() as s:
            entry = callbacks.get_entry(s, public_id)
            entry.events  # load the trail before the session closes
            s.expunge_all()
            return entry

    return get


@pytest.fixture
def agent_of(runtime):
    def get(agent_id: int):
        with runtime.sessions() as s:
            agent = s.get(Agent, agent_id)
            s.expunge_all()
            return agent

    return get


@pytest.fixture
def hold_while_busy(dispatcher, twilio, add_agent, book, runtime):
    """A caller who chooses to hold for billing while its only agent (Bob) is being offered a callback:
    staffed, not free, so the IVR offers the wait. Returns the caller and their entry's public id."""
    def hold(number: str = "+12125550143", bob: str = "+14155550102", *, has_callback: bool = False):
        add_agent("Bob", bob)
        book("+12125550199")
        assert len(dispatcher.run_once().claimed) == 1
        caller = twilio.call(from_number=number)
        if has_callback:  # a number with a callback still waiting hears it first: "0" asks for its team instead
            assert "You already have a callback booked" in caller.last_heard, caller.heard_text()
            caller.press("0")
        else:
            caller.press("1")  # billing
        assert "Press 2 to hold" in caller.last_heard  # nobody free: the wait is offered first
        caller.press("2")
        with runtime.sessions() as s:
            return caller, s.scalar(select(QueueEntry.public_id).where(QueueEntry.call_sid == caller.call_sid))

    return hold
