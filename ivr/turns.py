"""One webhook, one turn: the TwiML a turn answered is stored with it, so a retried request (Twilio
retries webhooks) gets the stored answer back and changes nothing. Every URL the flow hands Twilio
carries the turn it answers."""
from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from ivr.exceptions import TurnMismatch, UnknownCall
from storage.models import Call, CallTurn


def stream_name(turn: int) -> str:
    """The name of the audio fork that listens for the answer of `turn` (so it can be stopped)."""
    return f"answer-{turn}"


def load(flow, call_sid: str | None) -> Call:
    """The call a webhook names (UnknownCall when we never saw it)."""
    call = flow.session.get(Call, call_sid) if call_sid else None
    if call is None:
        raise UnknownCall(f"no call {call_sid!r}")
    return call


def answer(flow, call: Call, turn: int, response: VoiceResponse) -> str:
    """Store `response` as the answer of `turn`; the call moves on to the next turn."""
    twiml = str(response)
    flow.session.add(CallTurn(call_sid=call.call_sid, turn=turn, twiml=twiml))
    call.turn = turn + 1
    flow.session.flush()
    return twiml


def replay(flow, call: Call, turn: int) -> str:
    """The stored answer of a turn already answered."""
    stored = flow.session.get(CallTurn, (call.call_sid, turn))
    if stored is None:
        raise TurnMismatch(f"turn {turn} of {call.call_sid} was never answered")
    return stored.twiml
