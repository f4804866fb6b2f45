"""The dispatcher: free agents meet the next entries of their skills' lines, and every callback is made once.

Flask-free, clock injected. The database is the truth; APScheduler (callbacks/scheduler.py) only
decides *when* run_once() is called. Design and the exactly-once argument: docs/dispatcher.md.

This is the front door: the webhooks (webhooks/outbound.py) and the scheduler call it, and it hands
each job to its part in callbacks/dispatch/ (the serve loop, the legs, retries, notices, recovery).
Which entries are due is routing/due.py's; the settings are config.DispatchSettings.
"""
from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from callbacks.dialing import ENDED, Dialer
from callbacks.dispatch.agent_leg import AgentLeg
from callbacks.dispatch.customer_leg import CustomerLeg
from callbacks.dispatch.holder_leg import HolderLeg
from callbacks.dispatch.legs import HUMAN, MACHINE
from callbacks.dispatch.notices import Notices
from callbacks.dispatch.outage import DialHealth
from callbacks.dispatch.pacing import SharedPacer
from callbacks.dispatch.placing import Claim, Placer
from callbacks.dispatch.recovery import Recovery
from callbacks.dispatch.retry import RetryPolicy
from callbacks.dispatch.serving import Report, Server
from callbacks.dispatch.slips import Slips
from callbacks.dispatch.talk import Talk
from callbacks.dispatch import wakeup
from callbacks.dispatch.work import Units
from clock import Clock
from config import DispatchSettings, IvrConfig

__all__ = ["Claim", "DispatchSettings", "Dispatcher", "ENDED", "HUMAN", "MACHINE", "Report"]


class Dispatcher:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock, config: IvrConfig, dialer: Dialer,
                 settings: DispatchSettings | None = None, name: str = "dispatcher"):
        self.sessions = sessions
        self.clock = clock
        self.config = config
        self.dialer = dialer
        self.settings = settings = settings or DispatchSettings()
        # One calls-per-second budget per Twilio account, for every process and every leg.
        self.limiter = SharedPacer(sessions, settings.calls_per_second,
                                   lambda: getattr(dialer.client, "account_sid", None))
        self.name = name
        units = Units(sessions, clock)
        talk = Talk(config, settings, dialer)
        self.notices = Notices(units, clock, config, settings, dialer, talk, name)
        retry = RetryPolicy(config, settings, talk, self.notices, name)
        self.health = DialHealth(sessions)  # Twilio away or refusing our credentials: back off
        self.placer = Placer(units, dialer, talk, retry, name, self.limiter, self.health)
        self.server = Server(sessions, clock, config, settings, dialer, self.limiter, self.placer, name, self.health)
        self.agent_leg = AgentLeg(units, dialer, talk, retry, self.placer, name)
        self.customer_leg = CustomerLeg(units, dialer, talk, retry, self.placer)
        self.holder_leg = HolderLeg(units, talk)
        self.slips = Slips(units, clock, config, self.notices)
        self.recovery = Recovery(units, clock, settings, dialer, talk, self.agent_leg, self.customer_leg, name)
        # The serve loop
        self.run_once = self.server.run_once
        self.plan = self.server.plan
        self.claim = self.server.claim
        self.next_wake = self.server.next_wake
        self.place = self.placer.place
        self.hang_up_cancelled = self.placer.hang_up_cancelled
        # Twilio's events of the calls we place (webhooks/outbound.py)
        self.agent_answer = self.agent_leg.answer
        self.agent_accept = self.agent_leg.accept
        self.agent_status = self.agent_leg.status
        self.customer_answer = self.customer_leg.answer
        self.customer_amd = self.customer_leg.amd
        self.customer_status = self.customer_leg.status
        self.holder_bridged = self.holder_leg.bridged
        # Notices, and after a crash
        self.confirm_bookings = self.notices.confirm_bookings
        self.tell_slips = self.slips.tell
        self.recover = self.recovery.recover
        self.recover_agents = self.recovery.recover_agents

    def holder_dial_done(self, public_id: str, leg: int, call_sid: str, dial_status: str | None) -> str:
        return self.holder_leg.dial_done(dial_status)

    def wake(self) -> bool:
        """Ask for a pass soon (an agent became available, a callback was booked): directly when the
        scheduler runs in this process, else by NOTIFY on PostgreSQL (callbacks/dispatch/wakeup.py).
        False: nobody can be told; the scheduler's next sweep will see the change."""
        hook = getattr(self, "on_wake", None)
        if callable(hook):
            hook()
            return True
        return wakeup.notify(self.sessions.kw.get("bind"))
