"""storage.db.one_write and insert_together: the rows of one write go in all together or not at all,
on SQLite (a transaction) and on PostgreSQL (one statement in autocommit)."""
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from storage.db import insert_together, one_write
from storage.models import Call, CallTurn


def test_a_failing_row_takes_the_others_with_it(twilio, runtime, clock):
    call = twilio.call(from_number="+12125550142")  # a real call: its row and its turn 0
    with runtime.sessions() as s:
        assert s.get(CallTurn, (call.sid, 0)) is not None
    new_call = {"call_sid": "CA" + "1" * 32, "language": "en-US", "step": "menu", "turn": 1, "retries": 0,
                "scratch": {"path": []}, "status": "in-progress", "started_at": clock.now()}
    with pytest.raises(IntegrityError):
        with one_write(runtime.engine) as connection:
            insert_together(connection, (Call.__table__, new_call),
                            (CallTurn.__table__, {"call_sid": call.sid, "turn": 0, "twiml": "<Response/>"}))
    with runtime.sessions() as s:
        assert s.get(Call, new_call["call_sid"]) is None
    with one_write(runtime.engine) as connection:
        insert_together(connection, (Call.__table__, new_call),
                        (CallTurn.__table__, {"call_sid": new_call["call_sid"], "turn": 0, "twiml": "<Response/>"}))
    with runtime.sessions() as s:
        stored = s.get(Call, new_call["call_sid"])
        assert (stored.scratch, stored.started_at) == ({"path": []}, clock.now())
        assert s.scalar(select(func.count()).select_from(CallTurn).where(CallTurn.call_sid == stored.call_sid)) == 1
