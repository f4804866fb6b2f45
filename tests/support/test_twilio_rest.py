"""The fake Twilio REST API refuses what Twilio would refuse and answers consistently."""
import re
from datetime import timedelta

import pytest
from twilio.base.exceptions import TwilioRestException

from tests.support.twilio_rest import SpecViolation


def test_created_calls_can_be_fetched_listed_and_updated(runtime, twilio_rest, clock):
    client = runtime.twilio
    call = client.calls.create(to="+14155550100", from_="+15005550006", url="https://ivr.example.com/a",
                               status_callback_event=["initiated", "completed"], machine_detection="DetectMessageEnd",
                               async_amd="true", async_amd_status_callback="https://ivr.example.com/amd")
    assert call.sid.startswith("CA") and call.status == "queued"
    twilio_rest.set_status(call.sid, "in-progress")
    assert client.calls(call.sid).fetch().status == "in-progress"
    listed = client.calls.list(to="+14155550100", start_time_after=clock.now() - timedelta(seconds=1))
    assert [c.sid for c in listed] == [call.sid]
    # Twilio filters StartTime by UTC day ("on or after this date"): later the same day still lists it.
    assert [c.sid for c in client.calls.list(to="+14155550100", start_time_after=clock.now() + timedelta(minutes=1))] \
        == [call.sid]
    assert client.calls.list(to="+14155550100", start_time_after=clock.now() + timedelta(days=1)) == []
    client.calls(call.sid).update(twiml="<Response><Hangup/></Response>")
    client.calls(call.sid).update(status="completed")
    with pytest.raises(TwilioRestException) as ended:
        client.calls(call.sid).update(twiml="<Response><Hangup/></Response>")  # ended calls cannot be steered
    assert (ended.value.status, ended.value.code) == (400, 21220), ended.value.msg
    assert twilio_rest.call(call.sid)["updates"][0] == {"Twiml": "<Response><Hangup/></Response>"}


@pytest.mark.parametrize("bad, why", [({"to": "555"}, "'555' is not a 'endpoint'"),
                                      ({"url": "not a url"}, "'not a url' is not a 'uri'"),
                                      ({"twiml": "<Response><Say>x</Response>"}, "</Response>' is not a 'twiml'")])
def test_requests_off_the_spec_are_refused(runtime, bad, why):
    args = {"to": "+14155550100", "from_": "+15005550006", "url": "https://ivr.example.com/a"} | bad
    with pytest.raises(SpecViolation, match=re.escape(why)):
        runtime.twilio.calls.create(**args)


def test_unknown_parameters_are_refused(twilio_rest):
    with pytest.raises(SpecViolation, match="does not define"):
        twilio_rest.request("POST", "https://api.twilio.com/2010-04-01/Accounts/" + twilio_rest.account_sid
                            + "/Calls.json", data={"To": "+14155550100", "From": "+15005550006",
                                                   "Url": "https://ivr.example.com/a", "Colour": "blue"},
                            auth=(twilio_rest.account_sid, "x"))


def test_injected_failures_and_messages(runtime, twilio_rest):
    twilio_rest.fail_next("Calls.json", status=503)
    with pytest.raises(TwilioRestException) as failed:
        runtime.twilio.calls.create(to="+14155550100", from_="+15005550006", url="https://ivr.example.com/a")
    assert failed.value.status == 503
    runtime.twilio.messages.create(to="+14155550100", from_="+15005550007", body="hello")
    assert twilio_rest.messages[0]["body"] == "hello"


def test_the_call_list_pages_newest_first_as_twilio_documents(runtime, twilio_rest):
    """PageSize, then next_page_uri (Page and a PageToken) to the last page, whose next_page_uri is null; a
    call created between two pages does not shift the next one (the token names where the last page ended)."""
    client = runtime.twilio
    sids = [client.calls.create(to=f"+1415555010{i}", from_="+15005550006", url="https://ivr.example.com/a").sid
            for i in range(5)]
    first = client.calls.page(page_size=2)
    assert [c.sid for c in first] == [sids[4], sids[3]]
    late = client.calls.create(to="+14155550109", from_="+15005550006", url="https://ivr.example.com/a").sid
    second = first.next_page()
    assert [c.sid for c in second] == [sids[2], sids[1]]
    assert twilio_rest.requests[-1]["query"] == {"PageSize": "2", "Page": "1", "PageToken": "PA" + sids[3]}
    third = second.next_page()
    assert [c.sid for c in third] == [sids[0]] and third.next_page() is None
    assert [c.sid for c in third.previous_page()] == [sids[2], sids[1]]
    assert [c.sid for c in client.calls.list(page_size=4)] == [late] + sids[::-1]
