"""An agent offered a holder who hangs up while the agent's phone rings: the agent answers, hears that the
call is no longer waiting, and stays available (they missed nothing). Through the production paths:
the caller holds through signed webhooks, the dispatcher rings the agent through the emulator."""
from __future__ import annotations

AGENT = "+14155550101"


def test_an_agent_whose_holder_left_during_the_ring_stays_available(
        dispatcher, outbound, add_agent, entry_of, agent_of, hold_while_busy):
    caller, pid = hold_while_busy()
    ann = add_agent("Ann", AGENT)
    assert len(dispatcher.run_once().claimed) == 1  # Ann's phone rings for the holder
    assert agent_of(ann).state == "reserved"
    caller.hang_up()  # the holder gives up while it rings
    assert entry_of(pid).state == "abandoned"
    agent = outbound.to(AGENT).answer()
    assert "no longer waiting" in agent.heard_text() and agent.ended
    assert agent_of(ann).state == "available"  # before: offline, "missed the offer (completed)"


def test_an_agent_who_answers_an_offer_without_taking_it_goes_offline(
        dispatcher, outbound, add_agent, entry_of, agent_of, hold_while_busy):
    """The same offer with the holder still there, answered and hung up without a key (a voicemail box
    picks up, or someone walks away): missed, offline until they set themselves available."""
    caller, pid = hold_while_busy()
    ann = add_agent("Ann", AGENT)
    dispatcher.run_once()
    agent = outbound.to(AGENT).answer()
    agent.hang_up()
    assert agent_of(ann).state == "offline"
    assert entry_of(pid).state == "holding"
