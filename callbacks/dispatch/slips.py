"""Re-estimate while a callback waits, and tell the customer when it slips.

A waiting callback (queued, scheduled, retry_wait) carries the window its customer was told
(promised_from/promised_by). Each pass re-estimates the callbacks whose window has not ended yet,
earliest end first: the expected connect time is the estimate's (routing/estimate.py), never before
the entry's own due time, and never sooner than SLIP_GUARD_SECONDS from now (an agent's ring, the
whisper and the customer's ring take about that long; callbacks/promises.py: expected_connect(), and
window_around(), which a retry's window comes from too). When it falls after the window's end the
callback has slipped: the customer is told a new window around the new expected time (notices.py:
SMS when a messaging number is set; the status link always shows the stored window), and that new
window is stored, so one slip is told once. A supervisor's reschedule does not touch the window; if
it makes the callback late, that is a slip like any other and the customer is told. A callback being
dialled counts as connected CONNECT_SECONDS after its claim, and never sooner than what its call still has
to go through (STILL_TO_CONNECT: ringing the agent, the whisper, the customer's ring and the answering-
machine check are ahead while the agent's phone rings; the customer's ring and the check once it rings
them): claimed too close to its window's end, or ringing longer than usual, it is told the new window
before the old one ends (whatever the call then brings).
One pass reads each skill's inputs once (routing.estimate.estimate's `shared`): its hours, staffing and
handle time, its waiting entries (each callback's place is found from them), and the line's sample
paths, drawn once, from which each callback reads its turn at its place. The callbacks are checked in
one read-only transaction; a transaction (a unit of work) is opened only for each one that slipped.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from callbacks.dispatch.notices import Notices
from callbacks.dispatch.work import Units, Work
from callbacks.promises import estimate_for, expected_connect, window_around
from clock import Clock
from config import IvrConfig
from routing.predictor import Estimate
from routing.promise import Window, stored_window
from storage.db import transaction
from storage.models import CALLBACK, QueueEntry

WAITING = ("queued", "scheduled", "retry_wait")
DIALING = ("dialing_agent", "dialing_customer")
# A callback being dialled connects about this long after its claim (agent's ring, whisper, customer's
# ring, answering-machine check); one claimed too close to its window's end is told a new window too.
CONNECT_SECONDS = 60
# The least a callback being dialled still has to go through before it is connected, by state.
STILL_TO_CONNECT = {"dialing_agent": CONNECT_SECONDS // 2, "dialing_customer": CONNECT_SECONDS // 4}
BATCH = 200  # callbacks re-estimated per pass, those whose window ends first


def new_window(est: Estimate, entry: QueueEntry, told: Window, expected: datetime, now: datetime) -> Window | None:
    """The window to tell when `expected` falls after the told window: around it (never before the
    callback's own due time), in the zone the customer was told."""
    if expected <= told.end:
        return None
    return window_around(est, entry, expected, now, told.zone)


class Slips:
    def __init__(self, units: Units, clock: Clock, config: IvrConfig, notices: Notices):
        self.units = units
        self.clock = clock
        self.config = config
        self.notices = notices

    def tell(self) -> int:
        """Re-estimate waiting callbacks; tell each one that slipped its new window. Returns how many.
        The callbacks are read and re-estimated in one read-only transaction; only one that slipped gets a
        unit of work of its own, which checks it again (it may have moved on since) before telling it."""
        now = self.clock.now()
        shared: dict = {}  # each skill's inputs, read once per pass (routing.estimate.estimate)
        with transaction(self.units.sessions) as s:
            entries = s.scalars(select(QueueEntry).where(
                QueueEntry.kind == CALLBACK, QueueEntry.state.in_(WAITING + DIALING), QueueEntry.promised_by > now,
            ).order_by(QueueEntry.promised_by).limit(BATCH)).all()
            slipped = [e.id for e in entries if self._slipped(s, e, now, shared) is not None]
        return sum(1 for entry_id in slipped if self.units.on_entry(entry_id, lambda w, e: self._check(w, e, shared)))

    def _check(self, work: Work, entry: QueueEntry, shared: dict | None = None) -> bool:
        found = self._slipped(work.session, entry, work.now, shared)
        if found is None:
            return False
        told, window = found
        self.notices.window_moved(work, entry, told, window)
        return True

    def _slipped(self, session: Session, entry: QueueEntry, now: datetime,
                 shared: dict | None = None) -> tuple[Window, Window] | None:
        """(the window told, the new window to tell) when the callback slipped out of the one told."""
        told = stored_window(entry)
        if entry.state not in WAITING + DIALING or told is None or told.end <= now:
            return None
        if entry.state in DIALING:
            if entry.connected_at is not None:
                return None
            stamp = (entry.context or {}).get("claimed_at")
            claimed = datetime.fromisoformat(stamp) if stamp else now
            expected = max(now + timedelta(seconds=STILL_TO_CONNECT[entry.state]),
                           claimed + timedelta(seconds=CONNECT_SECONDS))
            est = Estimate("wait", seconds=int((expected - now).total_seconds()),
                           spread_seconds=CONNECT_SECONDS // 2)
        else:
            est = estimate_for(session, self.config, entry, now, shared)
            expected = expected_connect(est, entry, now)
        window = new_window(est, entry, told, expected, now) if expected is not None else None
        return None if window is None else (told, window)
