"""A live holder's side of an offer: Twilio bridges the holder from its <Queue> to the agent who took
the offer (<Dial><Queue url>), and the agent's <Dial> ends."""
from __future__ import annotations

from sqlalchemy import select
from twilio.twiml.voice_response import VoiceResponse

from agents import services as agents
from callbacks import services as callbacks
from callbacks.dispatch.talk import Talk
from callbacks.dispatch.work import Units, Work
from storage.models import Agent, QueueEntry


class HolderLeg:
    def __init__(self, units: Units, talk: Talk):
        self.units = units
        self.talk = talk

    def bridged(self, public_id: str, leg: int, holder_call_sid: str, agent_call_sid: str | None) -> str:
        """This holder (maybe not the one we offered, if Twilio's FIFO differs) is being bridged to the
        agent. The holder hears a short line, then the agent."""
        def apply(work: Work, offered: QueueEntry) -> str:
            s, now = work.session, work.now
            actual = s.scalar(select(QueueEntry).where(QueueEntry.call_sid == holder_call_sid,
                                                       QueueEntry.state == "holding"))
            agent = agents.find_by_call(s, agent_call_sid) if agent_call_sid else None
            agent = agent or (s.get(Agent, offered.agent_id) if offered.agent_id else None)
            response = VoiceResponse()
            if actual is None:
                return str(response)
            if actual.id != offered.id and offered.state == "holding" and offered.agent_id is not None:
                offered.agent_id = None
                callbacks.record(s, offered, "agent_went_to_earlier_caller", now=now, actor="twilio")
            actual.agent_id = agent.id if agent else actual.agent_id
            actual.agent_call_sid = agent_call_sid
            callbacks.change_state(s, actual, "connected", now=now, actor="twilio", reason="agent bridged",
                                   agent=agent.name if agent else None)
            if agent is not None:
                agent.entry_id = actual.id
            self.talk.say(response, actual, self.talk.text(actual, "callback_connecting"))
            return str(response)

        return self.units.on_public_id(public_id, apply) or str(VoiceResponse())

    def dial_done(self, dial_status: str | None) -> str:
        """The agent's <Dial><Queue> ended: nobody was in the queue, or the conversation is over."""
        if dial_status == "completed":
            return self.talk.hang_up()
        return self.talk.saying(None, "agent_caller_no_longer_waiting")
