"""`ivr privacy export/erase/retain` on data made the way production makes it: a callback booked and
cancelled through the API, a call through the signed webhooks."""
import json
from urllib.parse import parse_qs, urlparse

from sqlalchemy import select

from privacy.policy import PERSONAL
from storage.models import Base, Call, PrivacyRequest, QueueEntry, QueueEvent, ReceivedText
from tests.webhooks.test_sms import text

NUMBER = "+12125550100"


def book_and_cancel(app) -> str:
    client = app.test_client()
    booked = client.post("/api/callbacks", json={"phone": NUMBER, "name": "Grace Hopper", "reason": "double charge",
                                                 "skill": "billing", "channel": "api"})
    assert booked.status_code == 201, booked.get_json()
    token = parse_qs(urlparse(booked.get_json()["status_url"]).query)["token"][0]
    public_id = booked.get_json()["id"]
    assert client.post(f"/api/callbacks/{public_id}/cancel?token={token}").status_code == 200
    return public_id


def test_export_then_erase_a_number(app, runtime, twilio):
    public_id = book_and_cancel(app)
    call = twilio.call(from_number=NUMBER)
    assert call.heard
    cli = app.test_cli_runner()
    exported = cli.invoke(args=["privacy", "export", "--phone", "+1 (212) 555-0100"])
    assert exported.exit_code == 0, exported.output
    held = json.loads(exported.output)
    assert [e["public_id"] for e in held["callbacks_and_holds"]] == [public_id]
    assert held["callbacks_and_holds"][0]["caller_name"] == "Grace Hopper"
    assert [c["call_sid"] for c in held["calls"]] == [call.sid]

    erased = cli.invoke(args=["privacy", "erase", "--phone", NUMBER, "--actor", "dpo"])
    assert erased.exit_code == 0, erased.output
    with runtime.sessions() as s:
        entry = s.scalars(select(QueueEntry).where(QueueEntry.public_id == public_id)).one()
        assert (entry.phone_number, entry.caller_name, entry.reason) == (None, None, None)
        assert entry.state == "cancelled" and entry.skill == "billing"  # the aggregates survive
        events = s.scalars(select(QueueEvent).where(QueueEvent.entry_id == entry.id)).all()
        assert [(e.event, e.actor) for e in events][-1] == ("erased", "dpo")
        assert s.get(Call, call.sid).from_number is None
    again = json.loads(cli.invoke(args=["privacy", "export", "--phone", NUMBER]).output)
    assert again["callbacks_and_holds"] == [] and again["calls"] == []
    assert personal_left(runtime, entry_ids=[held["callbacks_and_holds"][0]["id"]], call_sids=[call.sid]) == {}
    with runtime.sessions() as s:  # each export and the erasure recorded: who, how much; not the number
        done = [(r.action, r.actor, r.entries, r.calls) for r in s.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id))]
    assert done == [("export", "cli", 1, 1), ("erase", "dpo", 1, 1), ("export", "cli", 0, 0)]


# Rows no number leads to: a text's reply (keyed by Twilio's message SID) goes with retention only.
NOT_BY_NUMBER = {"received_texts"}


def personal_left(runtime, entry_ids, call_sids) -> dict:
    """Every column privacy/policy.py calls personal (staff's aside) that still holds something in the rows
    of these entries and calls: a personal column added to the policy is checked here without a word."""
    keys = {"queue_entries": ("id", entry_ids), "queue_events": ("entry_id", entry_ids),
            "calls": ("call_sid", call_sids), "speech_results": ("call_sid", call_sids),
            "call_turns": ("call_sid", call_sids)}
    left = {}
    with runtime.sessions() as s:
        for name, kind in PERSONAL.items():
            table, column = name.split(".")
            if kind == "staff" or table in NOT_BY_NUMBER:
                continue
            assert table in keys, f"{name}: personal, but erasure does not say how it finds its rows by number"
            key, values = keys[table]
            found = Base.metadata.tables[table]
            held = [v for v in s.execute(select(found.c[column]).where(found.c[key].in_(values))).scalars()
                    if v not in (None, {}, "")]
            if held:
                left[name] = held
    return left


def test_erasing_a_number_that_only_called_is_recorded(app, runtime, twilio):
    call = twilio.call(from_number=NUMBER)
    assert call.heard
    erased = app.test_cli_runner().invoke(args=["privacy", "erase", "--phone", NUMBER, "--actor", "dpo"])
    assert erased.exit_code == 0 and "0 queue entries, 1 calls" in erased.output
    with runtime.sessions() as s:
        assert s.get(Call, call.sid).from_number is None
        assert [(r.action, r.actor, r.entries, r.calls) for r in s.scalars(select(PrivacyRequest))] == [
            ("erase", "dpo", 0, 1)]


def test_an_open_callback_is_not_erased(app, runtime):
    client = app.test_client()
    assert client.post("/api/callbacks", json={"phone": NUMBER, "skill": "billing"}).status_code == 201
    refused = app.test_cli_runner().invoke(args=["privacy", "erase", "--phone", NUMBER])
    assert refused.exit_code != 0 and "cancel it first" in refused.output
    with runtime.sessions() as s:
        assert s.scalars(select(QueueEntry.phone_number)).one() == NUMBER


def test_retention_clears_what_closed_long_ago(app, runtime, clock, twilio):
    public_id = book_and_cancel(app)
    assert text(twilio, "CALL ME", from_number=NUMBER).status_code == 200  # a reply kept for a repeated delivery
    cli = app.test_cli_runner()
    assert json.loads(cli.invoke(args=["privacy", "retain"]).output)["entry_numbers"] == 0
    clock.advance(days=31)
    done = json.loads(cli.invoke(args=["privacy", "retain"]).output)
    assert done["entry_context"] == 1 and done["entry_numbers"] == 0 and done["texts"] == 1
    clock.advance(days=60)
    assert json.loads(cli.invoke(args=["privacy", "retain"]).output)["entry_numbers"] == 1
    with runtime.sessions() as s:
        entry = s.scalars(select(QueueEntry).where(QueueEntry.public_id == public_id)).one()
        assert entry.phone_number is None and entry.state == "cancelled"
        assert s.scalars(select(ReceivedText)).all() == []


def test_retention_clears_a_phone_callers_context_without_a_reason(app, runtime, clock, twilio):
    """A callback asked for in a call keeps the number called from (and the IVR path) in its context, and
    has no typed reason: context retention clears it all the same."""
    call = twilio.call(from_number=NUMBER)
    call.press("1")  # billing, nobody on: a callback at the opening
    call.press("1")
    call.press("2")  # to another number
    call.press("13125550199#")
    call.press("1")
    assert call.ended
    assert text(twilio, "CANCEL CALLBACK", from_number="+13125550199").status_code == 200
    with runtime.sessions() as s:
        entry = s.scalars(select(QueueEntry)).one()
    assert (entry.state, entry.reason, entry.context["caller_number"]) == ("cancelled", None, NUMBER)
    cli = app.test_cli_runner()
    clock.advance(days=31)
    assert json.loads(cli.invoke(args=["privacy", "retain"]).output)["entry_context"] == 1
    assert json.loads(cli.invoke(args=["privacy", "retain"]).output)["entry_context"] == 0  # once
    with runtime.sessions() as s:
        assert s.scalars(select(QueueEntry.context)).one() == {}
