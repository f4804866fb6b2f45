from datetime import timedelta

import pytest
from sqlalchemy.orm.exc import StaleDataError

from agents import services as agents
from agents.exceptions import AgentError, AgentExists, AgentNotFound, AgentStateRefused
from routing import queue
from storage.db import transaction


def test_add_list_get_update_remove(runtime, clock):
    now = clock.now()
    with transaction(runtime.sessions) as s:
        agents.add_agent(s, name="Alice", address="+14155550100", skills={"billing": 7}, now=now)
        agents.add_agent(s, name="Bob", address="sip:bob@pbx.example.com", skills=["support", "billing"], now=now,
                         state="available", known_skills={"billing", "support"})
    with transaction(runtime.sessions) as s:
        listed = agents.list_agents(s)
        assert [(a.name, a.state) for a in listed] == [("Alice", "offline"), ("Bob", "available")]
        assert agents.get_agent(s, "Bob").skills == {"support": 5, "billing": 5}
        assert [a.name for a in agents.list_agents(s, skill="support")] == ["Bob"]
        alice = agents.get_agent(s, listed[0].id)
        agents.update_agent(s, alice, now=now, address="client:alice", skills={"sales": 3}, wrap_up_seconds=10)
    with transaction(runtime.sessions) as s:
        alice = agents.get_agent(s, "Alice")
        assert (alice.address, alice.skills, alice.wrap_up_seconds) == ("client:alice", {"sales": 3}, 10)
        agents.remove_agent(s, alice)
    with transaction(runtime.sessions) as s:
        with pytest.raises(AgentNotFound):
            agents.get_agent(s, "Alice")


@pytest.mark.parametrize("kwargs, message", [
    ({"address": "555-0100"}, "not a way to reach"),
    ({"address": "sip:nohost"}, "not a way to reach"),
    ({"skills": {}}, "at least one skill"),
    ({"skills": {"billing": 11}}, "1 to 10"),
    ({"skills": {"cooking": 3}}, "unknown skill"),
    ({"name": ""}, "name"),
    ({"wrap_up_seconds": -1}, "wrap-up"),
])
def test_bad_input_is_refused_with_a_reason(runtime, clock, kwargs, message):
    args = {"name": "Carol", "address": "+14155550101", "skills": {"billing": 5}, "now": clock.now(),
            "known_skills": {"billing", "support"}} | kwargs
    with transaction(runtime.sessions) as s:
        with pytest.raises(AgentError, match=message):
            agents.add_agent(s, **args)


def test_names_are_unique(runtime, clock):
    with transaction(runtime.sessions) as s:
        agents.add_agent(s, name="Dan", address="+14155550102", skills=["billing"], now=clock.now())
        with pytest.raises(AgentExists):
            agents.add_agent(s, name="Dan", address="+14155550103", skills=["billing"], now=clock.now())


def test_people_cannot_move_an_agent_who_is_on_a_call(runtime, clock):
    now = clock.now()
    with transaction(runtime.sessions) as s:
        a = agents.add_agent(s, name="Eve", address="+14155550104", skills=["billing"], now=now, state="available")
        agents.set_state(s, a, "reserved", now, actor="dispatcher", entry_id=1, call_sid="CA" + "1" * 32)
        with pytest.raises(AgentStateRefused, match="when that call ends"):
            agents.set_state(s, a, "offline", now, actor="supervisor:sam")
        with pytest.raises(AgentStateRefused):
            agents.set_state(s, a, "wrap_up", now, actor="dispatcher")  # reserved never goes to wrap-up


def test_call_events_drive_the_state_machine(runtime, clock):
    sid = "CA" + "2" * 32
    with transaction(runtime.sessions) as s:
        a = agents.add_agent(s, name="Fay", address="+14155550105", skills=["billing"], now=clock.now(),
                             state="available", wrap_up_seconds=30)
        agents.set_state(s, a, "reserved", clock.now(), actor="dispatcher", entry_id=7, call_sid=sid)
        agents.on_call_status(s, a, sid, "ringing", clock.now())
        assert a.state == "reserved"
        assert agents.accept_offer(s, a, sid, clock.now())
        assert a.state == "on_call"
        assert agents.accept_offer(s, a, sid, clock.now())  # pressed twice: still fine
        agents.on_call_status(s, a, "CA" + "9" * 32, "completed", clock.now())  # another leg: ignored
        assert a.state == "on_call"
        clock.advance(120)
        agents.on_call_status(s, a, sid, "completed", clock.now())
        assert a.state == "wrap_up" and a.call_sid is None
        agents.on_call_status(s, a, sid, "completed", clock.now())  # repeated: nothing
        clock.advance(29)
        assert agents.end_wrap_ups(s, clock.now()) == []
        assert agents.next_wrap_up_end(s) == clock.now() + timedelta(seconds=1)
        clock.advance(1)
        assert agents.end_wrap_ups(s, clock.now()) == [a]
        assert a.state == "available" and a.entry_id is None


def test_a_missed_offer_takes_the_agent_offline(runtime, clock):
    sid = "CA" + "3" * 32
    with transaction(runtime.sessions) as s:
        a = agents.add_agent(s, name="Gus", address="+14155550106", skills=["billing"], now=clock.now(),
                             state="available")
        agents.set_state(s, a, "reserved", clock.now(), actor="dispatcher", entry_id=7, call_sid=sid)
        agents.on_call_status(s, a, sid, "no-answer", clock.now())
        assert a.state == "offline"
        assert queue.staffing(s, "billing").free == 0


def test_best_available_agent_first(runtime, clock):
    now = clock.now()
    with transaction(runtime.sessions) as s:
        agents.add_agent(s, name="Low", address="+14155550107", skills={"billing": 2}, now=now, state="available")
        agents.add_agent(s, name="High", address="+14155550108", skills={"billing": 9}, now=now, state="available")
        agents.add_agent(s, name="Off", address="+14155550109", skills={"billing": 10}, now=now)
        assert [a.name for a in agents.available_for(s, "billing")] == ["High", "Low"]
        assert queue.staffing(s, "billing") == queue.Staffing(staffed=2, free=2)


def test_two_writers_cannot_both_reserve_one_agent(runtime, clock):
    with transaction(runtime.sessions) as s:
        agent_id = agents.add_agent(s, name="Hal", address="+14155550110", skills=["billing"], now=clock.now(),
                                    state="available").id
    first, second = runtime.sessions(), runtime.sessions()
    try:
        a1, a2 = first.get(agents.Agent, agent_id), second.get(agents.Agent, agent_id)
        agents.set_state(first, a1, "reserved", clock.now(), actor="dispatcher", entry_id=1, call_sid="CA" + "4" * 32)
        first.commit()
        with pytest.raises(StaleDataError):
            agents.set_state(second, a2, "reserved", clock.now(), actor="dispatcher", entry_id=2,
                             call_sid="CA" + "5" * 32)
        second.rollback()
    finally:
        first.close()
        second.close()
