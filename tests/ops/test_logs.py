"""LOG_FORMAT=json: each line a JSON object naming the request's call SID and callback id, and no
phone number or token."""
import io
import json
import logging

from ops.logs import JsonFormatter


def test_json_lines_name_the_call_and_the_callback(app, twilio, monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "json")
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    requests_log = logging.getLogger("ivr.requests")
    requests_log.addHandler(handler)
    level, disabled = requests_log.level, requests_log.disabled
    requests_log.setLevel(logging.DEBUG)  # as use_json_logs() does (setLevel also clears the level cache)
    requests_log.disabled = False  # another test's logging.config may have disabled existing loggers
    try:
        call = twilio.call(from_number="+12125550142")
        assert call.heard
        client = app.test_client()
        booked = client.post("/api/callbacks", json={"phone": "+12125550100", "skill": "billing", "channel": "api"})
        public_id = booked.get_json()["id"]
        token = booked.get_json().get("status_token", "")
        client.get(f"/api/callbacks/{public_id}", headers={"Authorization": f"Bearer {token}"})
    finally:
        requests_log.removeHandler(handler)
        requests_log.setLevel(level)
        requests_log.disabled = disabled
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert any(line.get("call_sid") == call.sid and "/voice/" in line["message"] for line in lines), lines
    assert any(line.get("callback_id") == public_id for line in lines), lines
    assert "+1212555" not in out.getvalue()
