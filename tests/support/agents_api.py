"""Agents as an operator adds them: /api/agents with the bearer token, then set available (the way a
workforce tool or a softphone's presence does; people use the supervisor pages, which call the same
service). An agent "on a call" is one who answered a callback the dispatcher offered them."""
from __future__ import annotations

TOKEN = "agents-api-token-for-the-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BUSY_CUSTOMER = "+12125550166"  # the customer an agent "on a call" is talking to
BUSY_VISITOR = "198.51.100.66"  # where that customer booked on the web from


def add(client, name: str, address: str, skills: list[str] | dict[str, int], wrap_up_seconds: int = 30,
        state: str = "available") -> int:
    """POST /api/agents (a new agent starts offline), then PUT its state unless it stays offline; the
    caller set AGENTS_API_TOKEN=TOKEN."""
    made = client.post("/api/agents", headers=AUTH, json={"name": name, "address": address, "skills": skills,
                                                          "wrap_up_seconds": wrap_up_seconds})
    assert made.status_code == 201, made.get_data(as_text=True)
    agent_id = made.get_json()["id"]
    assert made.get_json()["state"] == "offline"
    if state != "offline":
        put_state(client, agent_id, state)
    return agent_id


def put_state(client, agent_id: int, state: str) -> None:
    """PUT /api/agents/<id>/state, as a softphone's presence or a workforce tool sets it."""
    put = client.put(f"/api/agents/{agent_id}/state", headers=AUTH, json={"state": state})
    assert put.status_code == 200 and put.get_json()["state"] == state, put.get_data(as_text=True)


def add_available(client, name: str, address: str, skills: list[str], wrap_up_seconds: int = 30) -> int:
    """POST /api/agents, then PUT its state to available; the caller set AGENTS_API_TOKEN=TOKEN."""
    return add(client, name, address, skills, wrap_up_seconds)


def state_of(client, agent_id: int) -> str:
    got = client.get(f"/api/agents/{agent_id}", headers=AUTH)
    assert got.status_code == 200, got.get_data(as_text=True)
    return got.get_json()["state"]


def put_on_a_call(client, emulator, runtime, agent_id: int, address: str, skill: str,
                  customer: str = BUSY_CUSTOMER) -> None:
    """The available agent `agent_id` (at `address`) on a call, the way it happens: a callback booked on the
    web button for `customer`, which the app's dispatcher offers them; they answer and press 1, the customer
    answers (a person). Nothing else may be waiting for the dispatcher to claim."""
    from tests.support.outbound_legs import Outbound
    from tests.support.web_button import book_on_the_web

    book_on_the_web(client, runtime.ivr_config, customer, skill, address=BUSY_VISITOR)
    assert len(runtime.extras["dispatcher"].run_once().claimed) == 1
    legs = Outbound(emulator)
    legs.to(address).answer().press("1")
    legs.to(customer).answer().amd("human")
    assert state_of(client, agent_id) == "on_call"


def put_on_a_call_live(client, emulator, runtime, agent_id: int, address: str, skill: str, *,
                       customer: str = BUSY_CUSTOMER, origin: str = "http://localhost") -> None:
    """put_on_a_call on a live emulator (the dev phone's: real time, its worker thread rings what the app
    creates and posts the signed webhooks to the app over HTTP, so the app must be served): the callback is
    booked on the web button, the dispatcher offers it; the agent answers and presses 1 once the whisper
    listens for keys, the customer answers (a person). Each step waits on what the emulator did, not a sleep."""
    from tests.support.waiting import wait_for
    from tests.support.web_button import book_on_the_web

    book_on_the_web(client, runtime.ivr_config, customer, skill, address=BUSY_VISITOR, origin=origin)
    assert len(runtime.extras["dispatcher"].run_once().claimed) == 1
    agent_leg = _ringing_leg(emulator, address)
    emulator.live_answer(agent_leg)
    wait_for(lambda: _listens_for_keys(emulator, agent_leg), "the agent's whisper to listen for keys")
    emulator.live_press(agent_leg, "1")
    emulator.live_answer(_ringing_leg(emulator, customer), "human")
    wait_for(lambda: state_of(client, agent_id) == "on_call", "the agent to be on the call")


def _ringing_leg(emulator, address: str) -> str:
    """The SID of the call the app placed to `address`, once the emulator's worker rings it."""
    from tests.support.waiting import wait_for

    def ringing() -> str | None:
        with emulator.driving():
            return next((c.sid for c in emulator.calls.values() if c.to_number == address
                         and c.direction != "inbound" and c.status == "ringing"), None)

    wait_for(lambda: ringing() is not None, f"a call to {address} to ring")
    return ringing()


def _listens_for_keys(emulator, sid: str) -> bool:
    from telephony.emulator.waits import GatherInput, Segment

    with emulator.driving():
        state = emulator.calls[sid].wait_state
        return isinstance(state, GatherInput) or (isinstance(state, Segment) and state.listening)


def sign_off(client, emulator, agent_id: int, address: str) -> None:
    """The agent on a call (put_on_a_call) at `address` hangs up (the leg's signed status callback reaches the
    app) and signs off for the day through PUT /api/agents/<id>/state."""
    from tests.support.outbound_legs import Outbound

    Outbound(emulator).to(address).hang_up()
    assert state_of(client, agent_id) != "on_call"
    put_state(client, agent_id, "offline")
