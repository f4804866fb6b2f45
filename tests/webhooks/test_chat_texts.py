"""What texters and chat users are told, through the signed chat webhooks and Twilio's signed SMS webhook:
the waiting page's link in every booking's and STATUS's reply, and the truth around closing time and across
daylight-saving changes (closed now, when we open, the window with its date and zone), in both languages."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest

from sqlalchemy import select

from storage.models import ReceivedText
from tests.webhooks.test_chat import post, signed_headers
from tests.support.twilio_voice import ACCOUNT_SID, new_sid
from tests.support.waiting_links import split_link
from tests.webhooks.test_sms import TEXTER, entries, reply_of, text

UTC = timezone.utc


@pytest.fixture(autouse=True)
def setup(app):
    app.config["CHAT_SECRETS"] = {"helpbot": "s3cret-for-helpbot"}
    app.config.update(CALLBACK_LIMIT_PER_IP="1000/minute", CALLBACK_LIMIT_PER_NUMBER="1000/minute",
                      CALLBACK_LIMIT_STATUS_PER_IP="1000/minute")


def chat_text(app, clock, phone: str, words: str) -> str:
    raw = json.dumps({"phone": phone, "text": words}).encode()
    response = app.test_client().post("/webhooks/chat/message", data=raw, headers=signed_headers(raw, clock))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["reply"]


def window_at(app, path: str) -> str:
    """The window the waiting page behind `path` shows (the page reads it from the status API)."""
    assert app.test_client().get(path).status_code == 200
    public_id, token = re.fullmatch(r"/wait/(\w+)\?token=(.+)", path).groups()
    answer = app.test_client().get(f"/api/callbacks/{public_id}?token={token}")
    assert answer.status_code == 200
    return answer.get_json()["window"]["text"]


def test_sms_status_gives_the_waiting_page_and_the_booking_link_keeps_working(app, twilio, runtime, busy_agent):
    busy_agent("general")
    booked, first = split_link(reply_of(text(twilio, "call me")))
    assert booked == ("Booked: we will call you on the number ending in 0142 between 10:00 and 10:20 today, "
                      "Tuesday 24 November, New York time. You are number 1 in line.")
    status, second = split_link(reply_of(text(twilio, "STATUS")))
    assert status == ("We will call you on the number ending in 0142 between 10:00 and 10:20 today, Tuesday 24 "
                      "November, New York time. You are number 1 in line. To cancel, text CANCEL CALLBACK.")
    assert second != first
    # Both links open the same callback's page, with the window the texts told.
    assert window_at(app, first) == window_at(app, second) == \
        "between 10:00 and 10:20 today, Tuesday 24 November, New York time"
    assert [e.state for e in entries(runtime)] == ["queued"]


def test_a_stored_status_reply_holds_no_working_link_and_its_retry_gets_the_same_one(app, twilio, runtime,
                                                                                      busy_agent):
    """The reply kept for a repeated delivery is stored with its link's token sealed: whoever reads the
    database gets no working link, while Twilio's retry of the same MessageSid gets the first answer, link
    and all, and that link opens the page."""
    busy_agent("general")
    booked, booking_link = split_link(reply_of(text(twilio, "call me")))
    status = {"MessageSid": new_sid("SM"), "AccountSid": ACCOUNT_SID, "From": TEXTER, "To": "+15005550006",
              "Body": "STATUS", "NumMedia": "0"}
    first = twilio.post("/webhooks/sms", status)
    said, link = split_link(reply_of(first))
    token = link.split("token=")[1]
    with runtime.sessions() as s:
        stored = {r.message_sid: r.reply for r in s.scalars(select(ReceivedText))}
    assert len(stored) == 2 and status["MessageSid"] in stored
    for reply in stored.values():  # neither the STATUS's nor the booking's token is in the database
        assert token not in reply and booking_link.split("token=")[1] not in reply
    kept = re.search(r"/wait/\w+\?token=([^\s<]*)", stored[status["MessageSid"]]).group(1)
    assert app.test_client().get(link.split("token=")[0] + "token=" + kept).status_code == 404

    retried = twilio.post("/webhooks/sms", status)  # Twilio's retry: the same signed request
    assert retried.get_data(as_text=True) == first.get_data(as_text=True)
    assert window_at(app, link) == "between 10:00 and 10:20 today, Tuesday 24 November, New York time"
    assert window_at(app, booking_link) == "between 10:00 and 10:20 today, Tuesday 24 November, New York time"
    assert [e.state for e in entries(runtime)] == ["queued"]


def test_chat_status_in_dutch_for_a_web_booking_in_amsterdam_time(app, runtime, clock, busy_agent):
    busy_agent("billing")
    form = app.test_client().get("/api/callback-form?language=nl-NL&skill=billing&timezone=Europe/Amsterdam").get_json()
    web = app.test_client().post("/api/callbacks", json={
        "phone": "+31201234567", "skill": "billing", "language": "nl-NL", "channel": "web",
        "timezone": "Europe/Amsterdam", "form_token": form["form_token"]})
    assert web.status_code == 201, web.get_json()
    status, link = split_link(chat_text(app, clock, "+31 20 123 4567", "status"))
    assert status == ("We bellen u op het nummer dat eindigt op 4567 tussen 16:00 en 16:20 vandaag, dinsdag "
                      "24 november, tijdzone Amsterdam. U bent nummer 1 in de rij. Annuleren? Sms ANNULEER.")
    assert window_at(app, link) == "tussen 16:00 en 16:20 vandaag, dinsdag 24 november, tijdzone Amsterdam"
    # The web button's own link still works after the texter got theirs.
    assert app.test_client().get(web.get_json()["status_url"].replace("https://ivr.example.com", "")).status_code == 200


# Friday 18:30 in New York, after closing, before a weekend with a clock change: nobody calls till Monday 08:00.
DST_CASES = [
    # The US springs forward on 14 March 2027, Europe not: Monday 08:00 New York is 13:00 in Amsterdam.
    (datetime(2027, 3, 12, 23, 30, tzinfo=UTC), "en-US", "America/New_York",
     "Our billing team is closed right now. We open again on Monday 15 March at 08:00, New York time. Booked: we "
     "will call you on the number ending in 0142 between 08:00 and 08:10 on Monday 15 March, New York time."),
    (datetime(2027, 3, 12, 23, 30, tzinfo=UTC), "nl-NL", "Europe/Amsterdam",
     "Ons team facturen is nu gesloten. We zijn weer open op maandag 15 maart om 13:00, tijdzone Amsterdam. "
     "Geboekt: we bellen u op het nummer dat eindigt op 0142 tussen 13:00 en 13:10 op maandag 15 maart, tijdzone "
     "Amsterdam."),
    # Europe springs forward on 28 March 2027: 14:00 in Amsterdam again.
    (datetime(2027, 3, 26, 22, 30, tzinfo=UTC), "nl-NL", "Europe/Amsterdam",
     "Ons team facturen is nu gesloten. We zijn weer open op maandag 29 maart om 14:00, tijdzone Amsterdam. "
     "Geboekt: we bellen u op het nummer dat eindigt op 0142 tussen 14:00 en 14:10 op maandag 29 maart, tijdzone "
     "Amsterdam."),
    (datetime(2027, 3, 26, 22, 30, tzinfo=UTC), "en-US", "America/New_York",
     "Our billing team is closed right now. We open again on Monday 29 March at 08:00, New York time. Booked: we "
     "will call you on the number ending in 0142 between 08:00 and 08:10 on Monday 29 March, New York time."),
]


@pytest.mark.parametrize("now,language,zone,expected", DST_CASES,
                         ids=[f"{c[0]:%m%d}-{c[1]}" for c in DST_CASES])
def test_chat_handover_when_closed_across_a_clock_change(app, runtime, clock, now, language, zone, expected):
    clock.set(now)
    response = post(app.test_client(), clock, {"phone": "+12125550142", "skill": "billing", "language": language,
                                               "timezone": zone, "transcript": "My bill is wrong"})
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    message, link = split_link(answer["message"])
    assert message == expected
    assert answer["waiting_url"] == "https://ivr.example.com" + link
    assert answer["window"]["timezone"] == zone and answer["window"]["text"] in message
    assert window_at(app, link) == answer["window"]["text"]


@pytest.mark.parametrize("language,zone,booked,later", [
    ("en-US", "America/New_York",
     "Booked: we will call you on the number ending in 0142 between 08:00 and 08:15 tomorrow, Wednesday 25 November, "
     "New York time. You are number 1 in line.",
     "Our billing team is closed right now. We open again tomorrow, Wednesday 25 November at 08:00, New York time. "
     "We will call you on the number ending in 0142 between 08:00 and 08:15 tomorrow, Wednesday 25 November, "
     "New York time. You are number 1 in line. To cancel, text CANCEL CALLBACK."),
    # 18:30 in New York is already Wednesday in Amsterdam: the same window is "today" there.
    ("nl-NL", "Europe/Amsterdam",
     "Geboekt: we bellen u op het nummer dat eindigt op 0142 tussen 14:00 en 14:15 morgen, woensdag 25 november, "
     "tijdzone Amsterdam. U bent nummer 1 in de rij.",
     "Ons team facturen is nu gesloten. We zijn weer open vandaag, woensdag 25 november om 14:00, tijdzone "
     "Amsterdam. We bellen u op het nummer dat eindigt op 0142 tussen 14:00 en 14:15 vandaag, woensdag 25 november, "
     "tijdzone Amsterdam. U bent nummer 1 in de rij. Annuleren? Sms ANNULEER."),
])
def test_chat_across_closing_time(app, runtime, clock, busy_agent, language, zone, booked, later):
    """Two minutes before closing with the only agent busy, nobody can call back today: the chat is told the
    morning's window, never a wait in minutes; asked after closing, it hears we are closed and the same window."""
    busy_agent("billing")
    clock.set(datetime(2026, 11, 24, 22, 58, tzinfo=UTC))  # Tuesday 17:58 in New York
    response = post(app.test_client(), clock, {"phone": "+12125550142", "skill": "billing", "language": language,
                                               "timezone": zone})
    assert response.status_code == 201, response.get_json()
    assert split_link(response.get_json()["message"])[0] == booked
    assert response.get_json()["estimated_wait_seconds"] is None
    clock.set(datetime(2026, 11, 24, 23, 30, tzinfo=UTC))  # 18:30: closed
    status, _link = split_link(chat_text(app, clock, "+12125550142", "STATUS"))
    assert status == later
