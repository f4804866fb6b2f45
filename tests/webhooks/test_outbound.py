"""The outbound webhooks refuse what Twilio would not send, and never answer a 500."""
import uuid

from tests.conftest import PUBLIC_BASE_URL

SID = "CA" + "a" * 32


def test_unsigned_requests_are_refused(app):
    response = app.test_client().post(f"/outbound/agent/{uuid.uuid4().hex}/1/status",
                                      data={"CallSid": SID, "CallStatus": "completed"},
                                      base_url=PUBLIC_BASE_URL)
    assert response.status_code == 403


def test_bad_parameters_get_a_4xx(twilio):
    pid = uuid.uuid4().hex
    assert twilio.post(f"/outbound/customer/{pid}/1/amd", {"CallSid": SID, "AnsweredBy": "robot"},
                       expect_ok=False).status_code == 400
    assert twilio.post(f"/outbound/agent/{pid}/1/status", {"CallSid": "nope", "CallStatus": "completed"},
                       expect_ok=False).status_code == 400
    assert twilio.post(f"/outbound/agent/{pid}/1/status", {"CallSid": SID, "CallStatus": "exploded"},
                       expect_ok=False).status_code == 400
    assert twilio.post("/outbound/agent/NOT-AN-ID/1/status", {"CallSid": SID, "CallStatus": "completed"},
                       expect_ok=False).status_code == 404


def test_unknown_callbacks_are_answered_calmly(twilio):
    pid = uuid.uuid4().hex
    whisper = twilio.post(f"/outbound/agent/{pid}/1/answer", {"CallSid": SID})
    assert "no longer waiting" in whisper.get_data(as_text=True)
    assert twilio.post(f"/outbound/customer/{pid}/1/status", {"CallSid": SID, "CallStatus": "busy"}).status_code == 204
    answer = twilio.post(f"/outbound/customer/{pid}/1/answer", {"CallSid": SID}).get_data(as_text=True)
    assert answer.endswith("<Response><Hangup /></Response>")
