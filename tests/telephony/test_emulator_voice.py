"""The emulator against Twilio's documented voice behaviour, with TwiML fixtures (not our IVR):
signatures and parameter names, keys and Gather, Redirect, queues, Dial, conferences, status
callbacks, answering-machine detection, REST updates of live calls, retries."""
from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from telephony.emulator import WebhookError
from tests.telephony.conftest import BASE, TOKEN

STANDARD = {"AccountSid", "ApiVersion", "CallSid", "CallStatus", "Direction", "From", "To", "Caller", "Called"}


def test_every_webhook_is_signed_and_carries_twilios_parameter_names(emulator, fx):
    fx.docs["/incoming"] = '<Response><Redirect method="GET">/next?x=1</Redirect></Response>'
    fx.docs["/next"] = '<Response><Say>Hi</Say></Response>'
    call = emulator.call("+31612345678")
    assert fx.paths() == ["/incoming", "/next", "/status"]
    assert fx.bad_signatures == []  # the fixture app checks each with RequestValidator over the public URL
    first = fx.form_of("/incoming")
    assert STANDARD <= set(first) and first["CallStatus"] == "ringing" and first["Direction"] == "inbound"
    assert first["From"] == first["Caller"] == "+31612345678" and first["To"] == first["Called"] == "+15005550006"
    redirected = fx.form_of("/next")  # GET: the parameters ride in the query string, signed with the URL
    assert redirected["x"] == "1" and redirected["CallStatus"] == "in-progress" and redirected["CallSid"] == call.sid
    status = fx.form_of("/status")
    assert status["CallStatus"] == "completed" and status["CallbackSource"] == "call-progress-events"
    assert "CallDuration" in status and call.ended


def test_the_signature_is_twilios_published_vector():
    # twilio-python's own test vector, through the emulator's signing.
    from telephony.emulator import Emulator

    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
              "From": "+14158675309", "To": "+18005551212"}
    assert Emulator("12345", "https://mycompany.com").sign("https://mycompany.com/myapp.php?foo=1&bar=2", params) \
        == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert RequestValidator("12345").validate("https://mycompany.com/myapp.php?foo=1&bar=2", params,
                                              "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


MENU = ('<Response><Say>Welcome</Say>'
        '<Gather action="/menu" numDigits="1"><Say>Press 1 for sales</Say><Say>Press 2 for support</Say></Gather>'
        '<Say>We did not get that</Say><Redirect>/incoming</Redirect></Response>')


def test_a_key_during_a_say_outside_a_gather_is_lost(emulator, fx):
    fx.docs["/incoming"] = MENU
    fx.docs["/menu"] = lambda f: f'<Response><Say>You chose {f["Digits"]}</Say></Response>'
    call = emulator.call()
    call.press("1", barge_in=True)  # during "Welcome", before the Gather
    assert call.lost_keys == ["1"] and "/menu" not in fx.paths()
    call.press("2")  # after the prompts: counts
    assert fx.form_of("/menu")["Digits"] == "2" and call.last_heard == "You chose 2"


def test_a_key_during_a_gather_prompt_ends_it_and_counts(emulator, fx):
    fx.docs["/incoming"] = ('<Response><Gather action="/menu" numDigits="1"><Say>Press 1 for sales</Say>'
                            '<Say>Press 2 for support</Say></Gather></Response>')
    fx.docs["/menu"] = lambda f: f'<Response><Say>You chose {f["Digits"]}</Say></Response>'
    call = emulator.call()
    assert call.heard == ["Press 1 for sales", "Press 2 for support"]  # what plays if nobody interrupts
    call.press("1", barge_in=True)
    # The first prompt was cut; the second never played.
    assert call.heard == ["Press 1 for sales", "You chose 1"]
    assert ("prompt cut", "Press 1 for sales") in call.log and call.lost_keys == []


def test_finish_on_key_ends_the_gather_and_is_not_in_digits(emulator, fx):
    fx.docs["/incoming"] = '<Response><Gather action="/number" numDigits="15"><Say>Your number</Say></Gather></Response>'
    fx.docs["/number"] = "<Response><Hangup/></Response>"
    emulator.call().press("3125550199#")
    form = fx.form_of("/number")
    assert form["Digits"] == "3125550199" and form["FinishedOnKey"] == "#"


def test_num_digits_ends_the_gather_and_later_keys_reach_the_next_document(emulator, fx):
    fx.docs["/incoming"] = '<Response><Gather action="/one" numDigits="1"><Say>One key</Say></Gather></Response>'
    fx.docs["/one"] = ('<Response><Say>Not listening</Say>'
                       '<Gather action="/two" numDigits="1"><Say>Another</Say></Gather></Response>')
    fx.docs["/two"] = "<Response><Hangup/></Response>"
    call = emulator.call()
    call.press("12")  # "2" arrives while "Not listening" plays, outside a Gather
    assert fx.form_of("/one")["Digits"] == "1" and call.lost_keys == ["2"]
    call.press("3")
    assert fx.form_of("/two")["Digits"] == "3"


def test_the_gather_timeout_between_keys_submits_the_digits_so_far(emulator, fx):
    fx.docs["/incoming"] = '<Response><Gather action="/time" timeout="3"><Say>Time</Say></Gather></Response>'
    fx.docs["/time"] = "<Response><Hangup/></Response>"
    call = emulator.call()
    call.press("14")
    assert "/time" not in fx.paths() and call.pending is not None  # still collecting
    call.wait()
    assert fx.form_of("/time")["Digits"] == "14" and fx.form_of("/time")["FinishedOnKey"] == ""


def test_no_key_falls_through_to_the_next_verb_unless_action_on_empty_result(emulator, fx):
    fx.docs["/incoming"] = MENU
    call = emulator.call()
    call.wait()
    assert "/menu" not in fx.paths()
    assert call.heard[3:] == ["We did not get that", "Welcome", "Press 1 for sales", "Press 2 for support"]
    assert fx.paths() == ["/incoming", "/incoming"]  # the Redirect after the Gather
    fx.docs["/incoming"] = '<Response><Gather action="/menu" actionOnEmptyResult="true"><Say>x</Say></Gather></Response>'
    fx.docs["/menu"] = "<Response/>"
    emulator.call().wait()
    assert fx.form_of("/menu")["Digits"] == ""


def test_end_of_document_hangs_up_and_the_number_gets_only_completed(emulator, fx):
    fx.docs["/incoming"] = "<Response><Say>Bye</Say></Response>"
    call = emulator.call()
    assert call.ended and call.status == "completed"
    assert [f["CallStatus"] for p, f in fx.requests if p == "/status"] == ["completed"]


def test_a_caller_hanging_up_ends_the_call_and_reports_it(emulator, fx):
    fx.docs["/incoming"] = MENU
    call = emulator.call()
    call.hang_up()
    assert call.ended and fx.form_of("/status")["CallStatus"] == "completed"
    with pytest.raises(AssertionError, match=r"completed> has ended; last heard: 'Welcome'"):
        call.press("1")


# ---- queues -------------------------------------------------------------------------------------

HOLD = ('<Response><Enqueue waitUrl="/wait" action="/left">support</Enqueue><Say>after the queue</Say></Response>')


def test_enqueue_fetches_the_wait_url_with_queue_parameters_refetches_and_leaves(emulator, fx):
    fx.docs["/incoming"] = HOLD
    fx.docs["/wait"] = lambda f: (f'<Response><Gather action="/press" numDigits="1" timeout="30">'
                                  f'<Say>You are number {f["QueuePosition"]}</Say></Gather></Response>')
    fx.docs["/press"] = lambda f: "<Response><Leave/></Response>" if f["Digits"] == "1" else \
        "<Response><Redirect>/wait</Redirect></Response>"
    fx.docs["/left"] = lambda f: f'<Response><Say>Left with {f["QueueResult"]}</Say></Response>'
    first = emulator.call("+12125550101")
    second = emulator.call("+12125550102")
    assert emulator.queues["support"] == [first.sid, second.sid]
    assert second.last_heard == "You are number 2"
    wait = fx.form_of("/wait")
    assert {"QueueSid", "QueuePosition", "QueueTime", "AvgQueueTime", "CurrentQueueSize"} <= set(wait)
    assert wait["CurrentQueueSize"] == "2" and wait["QueueSid"].startswith("QU")
    first.press("1")  # Leave: the Enqueue action, then its document
    assert fx.form_of("/left")["QueueResult"] == "leave" and first.last_heard == "Left with leave"
    assert emulator.queues["support"] == [second.sid]
    second.wait()  # the wait document's Gather times out: it ran out, Twilio requests waitUrl again
    assert second.last_heard == "You are number 1"


def test_a_caller_hanging_up_in_the_queue_is_reported_to_the_enqueue_action(emulator, fx):
    fx.docs["/incoming"] = HOLD
    fx.docs["/wait"] = '<Response><Play loop="0">https://fixtures.example.com/music.mp3</Play></Response>'
    fx.docs["/left"] = "<Response><Say>never played</Say></Response>"
    call = emulator.call()
    assert call.queue == "support" and call.played == ["https://fixtures.example.com/music.mp3"]
    call.hang_up()
    assert fx.form_of("/left")["QueueResult"] == "hangup" and call.queue is None
    assert "never played" not in call.heard


def test_dial_queue_bridges_the_first_holder_to_an_agent_leg(emulator, fx):
    fx.docs["/incoming"] = HOLD
    fx.docs["/wait"] = '<Response><Say>Please hold</Say><Pause length="20"/></Response>'
    fx.docs["/agent"] = ('<Response><Dial action="/dialled" timeout="10">'
                         '<Queue url="/whisper">support</Queue></Dial></Response>')
    fx.docs["/whisper"] = '<Response><Say>Connecting you now</Say></Response>'
    fx.docs["/left"] = "<Response><Say>Thanks</Say></Response>"
    fx.docs["/dialled"] = "<Response><Hangup/></Response>"
    holder = emulator.call("+12125550101")
    created = emulator.client().calls.create(to="+14155550100", from_="+15005550006", url=BASE + "/agent")
    agent = emulator.leg(created.sid)
    agent.answer()
    whisper = fx.form_of("/whisper")
    assert whisper["CallSid"] == holder.sid and whisper["DequeingCallSid"] == agent.sid
    assert whisper["QueueSid"] == emulator.queue_sids["support"] and "QueueTime" in whisper
    assert holder.last_heard == "Connecting you now" and holder.peer is agent and agent.peer is holder
    assert emulator.queues["support"] == []
    agent.hang_up()  # the conversation ends: the holder's Enqueue action says bridged, the agent's Dial its status
    assert fx.form_of("/left")["QueueResult"] == "bridged" and holder.last_heard == "Thanks"
    dialled = fx.form_of("/dialled")
    assert dialled["DialCallStatus"] == "completed" and dialled["DialCallSid"] == holder.sid


def test_dial_queue_on_an_empty_queue_waits_for_the_timeout(emulator, fx):
    fx.docs["/agent"] = '<Response><Dial action="/dialled" timeout="5"><Queue>empty</Queue></Dial></Response>'
    fx.docs["/dialled"] = "<Response><Hangup/></Response>"
    agent = emulator.leg(emulator.client().calls.create(to="+14155550100", from_="+15005550006",
                                                        url=BASE + "/agent").sid).answer()
    assert agent.describe_wait() == "QueueDial"
    agent.wait()
    assert fx.form_of("/dialled")["DialCallStatus"] == "no-answer" and agent.ended


def test_a_rest_member_update_takes_that_caller_out_of_the_queue(emulator, fx):
    fx.docs["/incoming"] = HOLD
    fx.docs["/wait"] = '<Response><Play loop="0">https://fixtures.example.com/music.mp3</Play></Response>'
    fx.docs["/left"] = "<Response/>"
    fx.docs["/elsewhere"] = "<Response><Say>Moved</Say></Response>"
    first, second = emulator.call("+12125550101"), emulator.call("+12125550102")
    client = emulator.client()
    queue_sid = emulator.queue_sids["support"]
    assert [m.call_sid for m in client.queues(queue_sid).members.list()] == [first.sid, second.sid]
    client.queues(queue_sid).members(second.sid).update(url=BASE + "/elsewhere", method="POST")
    emulator.run()
    assert second.last_heard == "Moved" and emulator.queues["support"] == [first.sid]
    assert fx.form_of("/left")["QueueResult"] == "redirected"


def test_queues_and_their_members_are_listed_a_page_at_a_time_as_twilio_pages_them(emulator, fx):
    """Twilio's lists page: PageSize, then next_page_uri (Page and a PageToken) until it is null. Members stay
    front first, each with its place in the whole queue; the token names where the last page ended, so the
    front caller leaving and another joining at the back between two pages skip nobody."""
    fx.docs["/incoming"] = HOLD
    fx.docs["/wait"] = '<Response><Play loop="0">https://fixtures.example.com/music.mp3</Play></Response>'
    fx.docs["/left"] = "<Response/>"
    fx.docs["/elsewhere"] = "<Response><Say>Moved</Say></Response>"
    holders = [emulator.call(f"+1212555010{n}") for n in range(3)]
    fx.docs["/incoming"] = HOLD.replace(">support<", ">sales<")
    emulator.call("+12125550109")
    client = emulator.client()
    support, sales = emulator.queue_sids["support"], emulator.queue_sids["sales"]

    first = client.queues(support).members.page(page_size=2)
    assert [(m.call_sid, m.position) for m in first] == [(holders[0].sid, 1), (holders[1].sid, 2)]
    client.queues(support).members(holders[0].sid).update(url=BASE + "/elsewhere", method="POST")
    emulator.run()
    fx.docs["/incoming"] = HOLD
    late = emulator.call("+12125550108")
    second = first.next_page()
    assert [(m.call_sid, m.position) for m in second] == [(holders[2].sid, 2), (late.sid, 3)]
    assert second.next_page() is None
    assert [m.call_sid for m in client.queues(support).members.list(page_size=2)] == \
        [holders[1].sid, holders[2].sid, late.sid]

    queues = client.queues.page(page_size=1)
    assert [(q.sid, q.current_size) for q in queues] == [(support, 3)]
    assert [(q.sid, q.friendly_name, q.current_size) for q in queues.next_page()] == [(sales, "sales", 1)]
    assert queues.next_page().next_page() is None


# ---- Dial and conferences ---------------------------------------------------------------------------

@pytest.mark.parametrize("answer,status", [("busy", "busy"), ("no-answer", "no-answer"), ("failed", "failed")])
def test_dial_number_reports_why_nobody_answered(emulator, fx, answer, status):
    emulator.phone("+14155550177", answer=answer)
    fx.docs["/incoming"] = '<Response><Dial action="/dialled" timeout="15"><Number>+14155550177</Number></Dial></Response>'
    fx.docs["/dialled"] = lambda f: f'<Response><Say>{f["DialCallStatus"]}</Say></Response>'
    call = emulator.call()
    assert call.last_heard == status and fx.form_of("/dialled")["DialBridged"] == "false"


def test_dial_number_connects_a_phone_that_answers_and_ends_when_it_hangs_up(emulator, fx):
    fx.docs["/incoming"] = ('<Response><Dial action="/dialled"><Number url="/whisper">+14155550177</Number></Dial>'
                            '</Response>')
    fx.docs["/whisper"] = "<Response><Say>A call for you</Say></Response>"
    fx.docs["/dialled"] = "<Response><Say>The other side hung up</Say></Response>"
    caller = emulator.call()
    [callee] = emulator.legs_to("+14155550177")
    assert callee.direction == "outbound-dial" and callee.params()["ParentCallSid"] == caller.sid
    callee.answer()
    assert callee.heard == ["A call for you"] and caller.peer is callee
    callee.hang_up()
    dialled = fx.form_of("/dialled")
    assert dialled["DialCallStatus"] == "completed" and dialled["DialCallSid"] == callee.sid
    assert caller.last_heard == "The other side hung up"


def test_a_conference_starts_when_a_starter_joins_and_ends_when_an_ender_leaves(emulator, fx):
    fx.docs["/first"] = ('<Response><Dial><Conference startConferenceOnEnter="false">room</Conference></Dial>'
                         '<Say>Conference over</Say></Response>')
    fx.docs["/second"] = ('<Response><Dial action="/out"><Conference endConferenceOnExit="true">room</Conference>'
                          '</Dial></Response>')
    fx.docs["/out"] = "<Response/>"
    client = emulator.client()
    waiting = emulator.leg(client.calls.create(to="+14155550101", from_="+15005550006", url=BASE + "/first").sid)
    waiting.answer()
    room = emulator.conferences["room"]
    assert not room.started and waiting.conference == "room"
    host = emulator.leg(client.calls.create(to="+14155550102", from_="+15005550006", url=BASE + "/second").sid)
    host.answer()
    assert room.started and room.connected(waiting) == [host]
    host.hang_up()
    assert waiting.last_heard == "Conference over" and waiting.ended
    assert fx.form_of("/out")["DialCallStatus"] == "completed"


# ---- outbound calls: status callbacks, answering-machine detection --------------------------------

def _create(emulator, **extra):
    args = {"to": "+14155550100", "from_": "+15005550006", "url": BASE + "/answered"} | extra
    return emulator.leg(emulator.client().calls.create(**args).sid)


def test_status_callbacks_are_sent_for_the_events_asked_for(emulator, fx):
    fx.docs["/answered"] = "<Response><Say>Hello</Say></Response>"
    leg = _create(emulator, status_callback=BASE + "/events",
                  status_callback_event=["initiated", "ringing", "answered", "completed"])
    leg.answer()
    assert [f["CallStatus"] for p, f in fx.requests if p == "/events"] == \
        ["initiated", "ringing", "in-progress", "completed"]
    assert [f["SequenceNumber"] for p, f in fx.requests if p == "/events"] == ["0", "1", "2", "3"]
    assert fx.form_of("/answered")["Direction"] == "outbound-api"
    only_completed = _create(emulator, status_callback=BASE + "/quiet")
    only_completed.ring_out("busy")
    assert [f["CallStatus"] for p, f in fx.requests if p == "/quiet"] == ["busy"]
    assert emulator.client().calls(only_completed.sid).fetch().status == "busy"


def test_a_phone_answers_by_itself_as_it_was_set(emulator, fx):
    fx.docs["/answered"] = '<Response><Gather action="/key"><Say>Hello</Say></Gather></Response>'
    emulator.phone("+14155550100", answer="human")
    leg = _create(emulator, status_callback=BASE + "/events", status_callback_event=["answered", "completed"])
    assert leg.heard == ["Hello"] and [f["CallStatus"] for p, f in fx.requests if p == "/events"] == ["in-progress"]


def test_synchronous_amd_puts_answered_by_on_the_url_request(emulator, fx):
    fx.docs["/answered"] = "<Response><Hangup/></Response>"
    emulator.phone("+14155550100", answer="machine_start")
    _create(emulator, machine_detection="Enable")
    assert fx.form_of("/answered")["AnsweredBy"] == "machine_start"


def test_asynchronous_amd_sends_its_verdict_to_the_amd_callback(emulator, fx):
    fx.docs["/answered"] = "<Response><Say>Hello</Say><Pause length='30'/></Response>"
    leg = _create(emulator, machine_detection="DetectMessageEnd", async_amd="true",
                  async_amd_status_callback=BASE + "/amd")
    leg.answer()
    assert "AnsweredBy" not in fx.form_of("/answered") and "/amd" not in fx.paths()  # still listening
    leg.amd("machine_end_beep")
    verdict = fx.form_of("/amd")
    assert verdict["AnsweredBy"] == "machine_end_beep" and verdict["CallSid"] == leg.sid
    assert int(verdict["MachineDetectionDuration"]) > 0
    emulator.phone("+14155550100", answer="human")  # a phone set to answer reaches the verdict itself
    _create(emulator, machine_detection="DetectMessageEnd", async_amd="true", async_amd_status_callback=BASE + "/amd")
    assert fx.form_of("/amd")["AnsweredBy"] == "human"


# ---- REST updates of live calls ----------------------------------------------------------------------

def test_a_rest_update_moves_the_call_on_from_a_gather(emulator, fx):
    fx.docs["/incoming"] = '<Response><Gather action="/menu"><Say>Press something</Say></Gather></Response>'
    fx.docs["/moved"] = '<Response><Gather action="/menu" timeout="30"><Say>Moved on</Say></Gather></Response>'
    call = emulator.call()
    emulator.client().calls(call.sid).update(url=BASE + "/moved", method="POST")
    emulator.run()
    assert call.last_heard == "Moved on" and "/menu" not in fx.paths()
    assert fx.form_of("/moved")["CallSid"] == call.sid
    emulator.client().calls(call.sid).update(twiml="<Response><Say>Inline</Say><Hangup/></Response>")
    assert call.follow_steering() and call.last_heard == "Inline" and call.ended
    with pytest.raises(TwilioRestException) as refused:
        emulator.client().calls(call.sid).update(url=BASE + "/moved")  # an ended call cannot be moved
    assert refused.value.status == 400 and "not in-progress" in refused.value.msg


def test_a_rest_update_ending_the_call_hangs_up_a_queued_caller(emulator, fx):
    fx.docs["/incoming"] = HOLD
    fx.docs["/wait"] = '<Response><Play loop="0">https://fixtures.example.com/music.mp3</Play></Response>'
    fx.docs["/left"] = "<Response/>"
    call = emulator.call()
    emulator.client().calls(call.sid).update(status="completed")
    emulator.run()
    assert call.ended and fx.form_of("/left")["QueueResult"] == "hangup"


# ---- retries, errors ----------------------------------------------------------------------------------

def test_a_retried_webhook_is_delivered_twice_and_the_fragment_is_never_sent(emulator, fx):
    fx.docs["/incoming"] = '<Response><Redirect>/again#rc=3&amp;rp=all</Redirect></Response>'
    fx.docs["/again"] = "<Response><Hangup/></Response>"
    emulator.deliver_twice("/again")
    emulator.call()
    assert fx.paths().count("/again") == 2 and fx.bad_signatures == []
    assert all("#" not in url for url, _, _ in emulator.requests)


def test_an_app_error_or_refused_twiml_is_loud_in_strict_mode(emulator, fx):
    fx.docs["/incoming"] = "<Response><Say>unclosed</Response>"
    with pytest.raises(WebhookError, match="/incoming: not XML: mismatched tag"):
        emulator.call()
    emulator.strict = False  # as Twilio: "an application error has occurred", and the call ends
    call = emulator.call()
    assert call.ended and "application error" in call.last_heard


def test_the_rest_api_refuses_what_twilios_spec_refuses(emulator):
    from telephony.rest import SpecViolation

    client = emulator.client()
    with pytest.raises(SpecViolation, match="violates Twilio's spec: .*'555' is not a 'endpoint'"):
        client.calls.create(to="555", from_="+15005550006", url=BASE + "/x")
    with pytest.raises(SpecViolation, match="does not define"):
        emulator.rest.request("POST", f"https://api.twilio.com/2010-04-01/Accounts/{emulator.account_sid}/Calls.json",
                              data={"To": "+14155550100", "From": "+15005550006", "Url": BASE + "/x",
                                    "Colour": "blue"}, auth=(emulator.account_sid, TOKEN))


def test_the_spec_checks_stay_as_strict_once_their_validators_are_built(emulator):
    """The spec's lookups and validators are built once and kept: requests and responses checked after
    many good ones are refused as the first would be."""
    from telephony.rest import SpecViolation

    client = emulator.client()
    for _ in range(3):
        sid = client.calls.create(to="+14155550100", from_="+15005550006", url=BASE + "/x", timeout=20,
                                  status_callback_method="POST").sid
        client.calls(sid).fetch()
    for wrong in ({"to": "555"}, {"status_callback_method": "PUT"}, {"timeout": "soon"}):
        with pytest.raises(SpecViolation):
            client.calls.create(**{"to": "+14155550100", "from_": "+15005550006", "url": BASE + "/x", **wrong})
    emulator.rest.set_status(sid, "exploded")  # a status Twilio never gives: the emulator's answer is off-spec
    with pytest.raises(SpecViolation, match="off-spec"):
        client.calls(sid).fetch()


def test_dial_client_rings_the_client_address_and_calls_create_takes_inline_twiml(emulator, fx):
    fx.docs["/incoming"] = '<Response><Dial action="/dialled" timeout="10"><Client>agent7</Client></Dial></Response>'
    fx.docs["/dialled"] = lambda f: f'<Response><Say>{f["DialCallStatus"]}</Say></Response>'
    emulator.phone("client:agent7", answer="busy")
    call = emulator.call()
    [leg] = emulator.legs_to("client:agent7")
    assert leg.direction == "outbound-dial" and call.last_heard == "busy"
    inline = emulator.leg(emulator.client().calls.create(
        to="+14155550100", from_="+15005550006",
        twiml='<Response><Gather action="/k" timeout="9"><Say>Inline hello</Say></Gather></Response>').sid)
    inline.answer()
    assert inline.heard == ["Inline hello"] and inline.documents[0].startswith("<Response>")
