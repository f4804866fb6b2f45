"""After an attempt that did not connect: back to its place in line, another attempt later, or give up.

- The agent did not take an offer (missed, declined, could not be rung): the entry goes back to its
  place in line at once; that was not the customer's attempt. Customer-first, with the customer
  already on the line: they are told and called again after the retry delay, and that attempt is
  not counted either (an attempt counts only when the customer was dialled and not reached).
- The customer was not reached (no answer, busy, voicemail, the agent left first): another attempt
  after CALLBACK_RETRY_DELAY_SECONDS, rolled into opening hours, and the customer is told when; after
  CALLBACK_MAX_ATTEMPTS attempts the callback has failed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from callbacks import services as callbacks
from callbacks.dispatch.legs import customer_on_line, iso
from callbacks.dispatch.notices import Notices
from callbacks.dispatch.talk import Talk
from callbacks.dispatch.work import Work
from config import DispatchSettings, IvrConfig
from routing import hours
from storage.models import HOLDING, QueueEntry


@dataclass(eq=False)
class RetryPolicy:
    config: IvrConfig
    settings: DispatchSettings
    talk: Talk
    notices: Notices
    name: str

    def retry(self, work: Work, entry: QueueEntry, reason: str, event: str = "retry_wait", *,
              unreached: bool = True) -> None:
        """Another attempt after the retry delay (rolled into opening hours), or failed after the last one.
        `unreached`: the customer was not reached, and the retry SMS says so (else they were told on the call)."""
        entry.agent_id = None
        if entry.attempts >= self.settings.max_attempts:
            callbacks.change_state(work.session, entry, "failed", now=work.now, event="failed", actor=self.name,
                                   reason=f"{reason}; gave up after {entry.attempts} attempts", last_event=event)
            return
        when = work.now + timedelta(seconds=self.settings.retry_delay_seconds)
        skill = self.config.skills.get(entry.skill)
        if skill is not None:
            when = hours.next_opening(skill, when) or when
        entry.next_attempt_at = when
        callbacks.change_state(work.session, entry, "retry_wait", now=work.now, event=event, actor=self.name,
                               reason=reason, retry_at=iso(when), attempt=entry.attempts)
        if unreached:
            self.notices.retry_at(work, entry, when)

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
