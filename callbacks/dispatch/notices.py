"""Messages to customers about their callback: the booking's confirmation, when we will try again,
and a new window when the callback slipped out of the one they were told (slips.py).

Each is sent by SMS (when CALLBACK_SMS is on and a messaging number is set) after the commit that
decided it, and recorded in the entry's audit trail. A time told is a window told: it is stored on
the entry (promised_from/promised_by), which the status link shows.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from callbacks import channels
from callbacks import requests as callback_requests  # the one confirmation wording
from callbacks import services as callbacks
from callbacks import waiting
from callbacks.promises import estimate_for, expected_connect, window_around, window_words
from callbacks.dialing import Dialer
from callbacks.dispatch.talk import Talk
from callbacks.dispatch.work import Units, Work
from clock import Clock
from config import DispatchSettings, IvrConfig
from routing import hours
from routing.promise import Window, slot_window, store_window, stored_window
from storage.db import transaction
from storage.models import QueueEntry, QueueEvent


class Notices:
    def __init__(self, units: Units, clock: Clock, config: IvrConfig, settings: DispatchSettings, dialer: Dialer,
                 talk: Talk, name: str):
        self.units = units
        self.clock = clock
        self.config = config
        self.settings = settings
        self.dialer = dialer
        self.talk = talk
        self.name = name

    def can_text(self, entry: QueueEntry | None = None) -> bool:
        return bool(self.settings.sms and self.dialer.messaging_number and (entry is None or entry.phone_number))

    def _send(self, work: Work, entry: QueueEntry, event: str, body: str, **details) -> None:
        number = entry.phone_number
        work.after_commit(lambda: self.dialer.text(number, body))
        callbacks.record(work.session, entry, event, now=work.now, actor=self.name, **details)

    def zone_of(self, entry: QueueEntry) -> ZoneInfo | None:
        """The customer's zone when they gave one, else the skill's."""
        if entry.customer_timezone:
            try:
                return ZoneInfo(entry.customer_timezone)
            except Exception:  # noqa: BLE001 - a bad stored zone falls back to the skill's
                pass
        skill = self.config.skills.get(entry.skill)
        return skill.timezone if skill else None

    def retry_at(self, work: Work, entry: QueueEntry, when: datetime, *, keep_window: bool = False) -> None:
        """We will try again at `when`: say so by SMS, in the customer's zone and language, and store the
        retry's window (the status page shows it) whether or not an SMS could be sent. `keep_window`:
        `when` is inside the window already told, which stands (nothing new stored or told)."""
        zone = self.zone_of(entry)
        if self.can_text(entry):
            words = self.talk.words(entry)
            body = words.text("sms_retry", when=hours.describe_local(when, zone, work.now, words.language)
                              if zone else when.isoformat())
            self._send(work, entry, "sms_retry", body)
        told = stored_window(entry)
        if zone is not None and not keep_window:
            self._store(work, entry, self.retry_window(work, entry, when, told.zone if told else zone.key), "retry")

    def retry_window(self, work: Work, entry: QueueEntry, when: datetime, zone: str) -> Window:
        """The retry's window, from the estimate as the slip pass reads it (slips.py), so it is not
        slipped seconds after it is told: from `when` (the entry's next_attempt_at) on, around when its
        turn comes (the entry keeps its place in line: only those ahead of it count)."""
        if entry.skill not in self.config.skills:  # gone from the IVR file: no line to estimate, the time as set
            return slot_window(when, zone)
        est = estimate_for(work.session, self.config, entry, work.now)
        expected = expected_connect(est, entry, work.now)
        return slot_window(when, zone) if expected is None else window_around(est, entry, expected, work.now, zone)

    def window_moved(self, work: Work, entry: QueueEntry, told: Window, window: Window) -> None:
        """The callback slipped out of the window its customer was told: tell them `window`, and keep it."""
        sms = self.can_text(entry)
        if sms:
            words = self.talk.words(entry)
            number, body = entry.phone_number, words.text("sms_window_moved",
                                                          window=window_words(words, window, work.now))
            work.after_commit(lambda: self.dialer.text(number, body))
        context = entry.context or {}
        entry.context = {**context, "windows_moved": int(context.get("windows_moved", 0)) + 1}
        self._store(work, entry, window, "slipped", previous_start=told.start.isoformat(),
                    previous_end=told.end.isoformat(), sms=sms)

    def _store(self, work: Work, entry: QueueEntry, window: Window, reason: str, **details) -> None:
        store_window(entry, window, work.now)
        callbacks.record(work.session, entry, "window_told", now=work.now, actor=self.name, reason=reason,
                         start=window.start.isoformat(), end=window.end.isoformat(), zone=window.zone, **details)

    def confirm_bookings(self, window_minutes: int = 15) -> int:
        """SMS to callbacks booked in the last minutes that have not had one (once each)."""
        if not self.can_text():
            return 0
        now = self.clock.now()
        # Callbacks requested lately (booked, or converted from holding): found through the audit
        # trail's time index, so the cost does not grow with the number of callbacks waiting.
        with transaction(self.units.sessions) as s:
            ids = s.scalars(select(QueueEvent.entry_id).where(
                QueueEvent.at >= now - timedelta(minutes=window_minutes), QueueEvent.event == "requested",
                QueueEvent.state.in_(("queued", "scheduled"))).distinct()).all()
        return sum(1 for entry_id in sorted(ids) if self.units.on_entry(entry_id, self._confirm))

    def _confirm(self, work: Work, entry: QueueEntry) -> bool:
        # A texter was already answered by the SMS webhook with the same confirmation.
        if (entry.context or {}).get("sms_confirmed") or not entry.phone_number or \
                entry.channel == channels.SMS or entry.state not in ("queued", "scheduled"):
            return False
        entry.context = {**entry.context, "sms_confirmed": True}  # at most once, even on a crash
        position, wait = callback_requests.place_in_line(work.session, self.config, entry, work.now)
        # A callback booked without a channel that tells a window gets one here, stored and recorded.
        window = callback_requests.ensure_window(work.session, self.config, entry, work.now)
        outcome = callback_requests.Outcome(entry, True, None, position, wait, window)
        body = callback_requests.confirmation(self.config, outcome, work.now)
        # A phone caller never saw a link at booking: this text brings them their waiting page.
        link = waiting.link_for_phone(entry, self.dialer.links.base)
        if link:
            body += " " + self.talk.words(entry).text("text_waiting_link", url=link)
        self._send(work, entry, "sms_confirmation", body, waiting_link=bool(link))
        return True
