"""After an attempt that did not connect: back to its place in line, another attempt later, or give up.

- The agent did not take an offer (missed, declined, could not be rung): the entry goes back to its
  place in line at once; that was not the customer's attempt. Customer-first, with the customer
  already on the line: they are told and called again after the retry delay, and that attempt is
  not counted either (an attempt counts only when the customer was dialled and not reached).
- The customer did not answer, was busy, or an answering machine took the call, and the window they
  were told still has time left: another attempt soon (CALLBACK_RETRY_IN_WINDOW_SECONDS, per outcome,
  never within a minute of the missed call), no later than a minute before the window ends and only
  while the skill is open. The promise stands, so no new window is told (an SMS, if on, says when we
  try again). Once per callback: that one attempt is not counted in CALLBACK_MAX_ATTEMPTS, whose
  attempts stay the long-delay ones (an unreachable customer is rung at most once more than before).
- Otherwise (the window cannot be kept, or it was already retried in, or the customer hung up, the
  call failed, the agent left first): another attempt after CALLBACK_RETRY_DELAY_SECONDS, rolled into
  opening hours, and the customer is told the new time and window; after CALLBACK_MAX_ATTEMPTS
  attempts the callback has failed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from callbacks import services as callbacks
from callbacks.dispatch.legs import customer_on_line, iso
from callbacks.dispatch.notices import Notices
from callbacks.dispatch.talk import Talk
from callbacks.dispatch.work import Work
from callbacks.promises import expected_connect
from config import MIN_RETRY_SECONDS, DispatchSettings, IvrConfig
from routing import hours
from routing.estimate import estimate
from routing.promise import stored_window
from storage.models import HOLDING, QueueEntry

# An attempt inside the window is placed at least this long before the window ends: time for an agent
# to be offered it and the customer's phone to ring (the whisper, the ring and the machine check).
IN_WINDOW_MARGIN_SECONDS = 60


@dataclass(frozen=True)
class RetryAt:
    """A callback as it would stand retrying at `next_attempt_at` (what the estimate reads of an entry)."""

    id: int
    skill: str
    kind: str
    priority: int
    arrived_at: datetime
    next_attempt_at: datetime
    state: str = "retry_wait"


@dataclass(eq=False)
class RetryPolicy:
    config: IvrConfig
    settings: DispatchSettings
    talk: Talk
    notices: Notices
    name: str

    def retry(self, work: Work, entry: QueueEntry, reason: str, event: str = "retry_wait", *,
              unreached: bool = True, outcome: str | None = None) -> bool:
        """Another attempt: inside the window told when `outcome` (no-answer, busy, machine) allows it and
        the window has time left, else after the retry delay (rolled into opening hours), or failed after
        the last one. `unreached`: the customer was not reached, and the retry SMS says so (else they
        were told on the call). Returns True when the next attempt keeps the window told."""
        agent_id, entry.agent_id = entry.agent_id, None
        context = entry.context or {}
        soon = self.in_window(work, entry, outcome, agent_id)
        if soon is not None:
            entry.context = {**context, "retries_in_window": int(context.get("retries_in_window", 0)) + 1}
            entry.next_attempt_at = soon
            callbacks.change_state(work.session, entry, "retry_wait", now=work.now, event=event, actor=self.name,
                                   reason=reason, retry_at=iso(soon), attempt=entry.attempts, in_window=True)
            if unreached:
                self.notices.retry_at(work, entry, soon, keep_window=True)
            return True
        if entry.attempts - int(context.get("retries_in_window", 0)) >= self.settings.max_attempts:
            callbacks.change_state(work.session, entry, "failed", now=work.now, event="failed", actor=self.name,
                                   reason=f"{reason}; gave up after {entry.attempts} attempts", last_event=event)
            return False
        when = work.now + timedelta(seconds=self.settings.retry_delay_seconds)
        skill = self.config.skills.get(entry.skill)
        if skill is not None:
            when = hours.next_opening(skill, when) or when
        entry.next_attempt_at = when
        callbacks.change_state(work.session, entry, "retry_wait", now=work.now, event=event, actor=self.name,
                               reason=reason, retry_at=iso(when), attempt=entry.attempts)
        if unreached:
            self.notices.retry_at(work, entry, when)
        return False

    def in_window(self, work: Work, entry: QueueEntry, outcome: str | None, agent_id: int | None = None):
        """When to try again inside the window the customer was told, or None when it cannot be kept
        (no delay for this outcome, no window, already retried once inside a window, too little of it
        left, the skill closed by then, or the estimate expects no agent for it before the window ends;
        `agent_id`, the agent who took the missed attempt, counts as free: their call is ending)."""
        delay = self.settings.retry_in_window.get(outcome) if outcome else None
        told = stored_window(entry)
        if not delay or told is None or (entry.context or {}).get("retries_in_window"):
            return None
        latest = told.end - timedelta(seconds=IN_WINDOW_MARGIN_SECONDS)
        when = min(work.now + timedelta(seconds=max(delay, MIN_RETRY_SECONDS)), latest)
        if when < work.now + timedelta(seconds=MIN_RETRY_SECONDS) or when < told.start:
            return None  # too little of the window left; or dialled well before it (then: the retry delay)
        skill = self.config.skills.get(entry.skill)
        if skill is None or not hours.is_open(skill, when):
            return None  # a skill no longer in the IVR file has no hours or estimate: the retry delay
        # Only when the estimate (the one the slip pass reads, routing/estimate.py) expects the retry to be
        # connected before the window ends: at peak every agent may still be busy then.
        as_retry = RetryAt(id=entry.id, skill=entry.skill, kind=entry.kind, priority=entry.priority,
                           arrived_at=entry.arrived_at, next_attempt_at=when)
        est = estimate(work.session, entry.skill, work.now, config=self.config, entry=as_retry, released=agent_id)
        expected = expected_connect(est, as_retry, work.now)
        if expected is None or expected > told.end:
            return None
        return when

    def offer_lost(self, work: Work, entry: QueueEntry, event: str, reason: str) -> None:
        """The agent did not take the offer: the entry goes back to its place in line."""
        if entry.kind == HOLDING:
            if entry.state == "holding":
                entry.agent_id = None
                callbacks.record(work.session, entry, event, now=work.now, actor=self.name, reason=reason)
        elif entry.state == "dialing_agent":
            entry.agent_id = None
            callbacks.change_state(work.session, entry, "queued", now=work.now, event=event, actor=self.name,
                                   reason=reason)
        elif entry.state == "dialing_customer" and customer_on_line(entry):
            # Customer-first: the customer answered and waits; apologise and call again later. The
            # miss was ours, so this attempt is not one of the customer's.
            entry.attempts = max(0, entry.attempts - 1)
            self.talk.tell_and_end(work, entry.dial_call_sid, "callback_no_agent", entry)
            self.retry(work, entry, reason, event=event, unreached=False)
