"""/metrics after real traffic: callbacks promised, kept and late, the dispatcher's pass duration and
Twilio's REST errors by code. The caller books by phone (signed webhooks), the dispatcher dials through
the Twilio REST fake (which refuses one request when told to), legs answered in the emulator."""
from __future__ import annotations

from tests.callbacks.test_slips import AGENT, CALLER, book_by_phone, busy_agent
from tests.ops.test_metrics import LOCAL, samples


def scrape(app) -> dict:
    return samples(app.test_client().get("/metrics", environ_base=LOCAL))


def test_a_kept_promise_a_refused_dial_and_the_passes_show_on_metrics(
        app, dispatcher, outbound, twilio, twilio_rest, add_agent, entry_of, runtime):
    before = scrape(app)
    errors = ("ivr_twilio_errors_total", (("code", "20500"),))
    passes = ("ivr_dispatch_pass_seconds_count", ())
    add_agent("Bob", AGENT)
    pid, _ = book_by_phone(twilio, entry_of, runtime)
    twilio_rest.fail_next("Calls.json", status=500)  # Twilio answers the first dial with its 20500
    dispatcher.run_once()
    dispatcher.run_once()
    outbound.to(AGENT).answer().press("1")
    outbound.to(CALLER).answer().amd("human")
    entry = entry_of(pid)
    assert entry.promised_from <= entry.connected_at <= entry.promised_by

    got = scrape(app)
    assert got[errors] - before.get(errors, 0) == 1
    assert got[passes] - before.get(passes, 0) == 2
    assert got[("ivr_callbacks_promised", ())] == 1
    assert got[("ivr_callbacks_kept", ())] == 1
    assert got[("ivr_callbacks_late", ())] == 0


def test_a_callback_still_waiting_past_its_window_is_late(
        app, dispatcher, outbound, twilio, add_agent, book, entry_of, runtime, clock):
    busy_agent(dispatcher, outbound, add_agent, book, clock)  # Bob talks to someone else the whole time
    pid, _ = book_by_phone(twilio, entry_of, runtime)
    promised_by = entry_of(pid).promised_by
    assert scrape(app)[("ivr_callbacks_late", ())] == 0
    clock.advance((promised_by - clock.now()).total_seconds() + 1)
    got = scrape(app)
    # Two windows told: the web callback Bob is talking to (connected inside its window: kept) and this one.
    assert got[("ivr_callbacks_promised", ())] == 2
    assert got[("ivr_callbacks_kept", ())] == 1
    assert got[("ivr_callbacks_late", ())] == 1
