"""Holding in Twilio's queue (`<Enqueue>`, named after the skill): joining it, the wait URL that tells
the position and wait, a key pressed while holding (1 = call me back instead), and leaving it."""
from __future__ import annotations

from twilio.twiml.voice_response import Gather, VoiceResponse

from callbacks import promises
from callbacks import services as callbacks
from ivr import asking, booking, turns
from ivr.exceptions import TurnMismatch
from routing import queue
from storage.models import Call


def hold(flow, call: Call, lead: list[str] | None = None) -> VoiceResponse:
    """The caller's place in line is theirs: say so and put them in Twilio's queue."""
    p = flow.prompts(call)
    entry = flow.entry(call)
    skill = flow.config.skills[entry.skill]
    entry.context = {**(entry.context or {}), **flow.entry_context(call)}
    response = VoiceResponse()
    for text in (lead or []) + [p.text("hold_intro", skill=skill.label_in(call.language))]:
        response.say(text, voice=p.voice, language=p.language)
    call.step = "holding"
    call.retries = 0
    response.enqueue(entry.skill, wait_url=flow.links.hold_wait(entry.public_id), wait_url_method="POST",
                     action=flow.links.hold_done(call.turn + 1), method="POST")
    return response


def wait(flow, entry_public_id: str, queue_sid: str | None) -> str:
    """Twilio's waitUrl: position and wait, refreshed every `hold_announce_every_seconds`."""
    entry = callbacks.get_entry(flow.session, entry_public_id)
    call = turns.load(flow, entry.call_sid)
    p = flow.prompts(call)
    response = VoiceResponse()
    if queue_sid and entry.context.get("queue_sid") != queue_sid:
        entry.context = {**entry.context, "queue_sid": queue_sid}
    if entry.state != "holding":
        # Taken out of line meanwhile (e.g. a supervisor cancelled): leave the Twilio queue too.
        response.leave()
        return str(response)
    now = flow.clock.now()
    pos = queue.position(flow.session, entry, now)
    est = promises.estimate_for(flow.session, flow.config, entry, now)
    gather = Gather(input="dtmf", num_digits=1, timeout=flow.config.hold_announce_every_seconds,
                    action=flow.links.hold_press(entry.public_id), method="POST")
    if est.announceable:
        # Every update told is recorded: the wait error counts them all.
        promises.announce(flow.session, entry, est, now, position=pos)
        texts = [p.text("hold_position", position=pos, wait=promises.wait_words(p, est.seconds)),
                 p.text("hold_offer")]
    else:  # nobody staffed can reach this caller before closing: no wait, but when we would call back
        texts = [p.text("hold_closing", window=promises.window_words(p, est.window(now, flow.zone(call).key), now))]
    for text in texts:
        gather.say(text, voice=p.voice, language=p.language)
    response.append(gather)
    response.redirect(flow.links.hold_wait(entry.public_id), method="POST")
    return str(response)


def press(flow, entry_public_id: str, digits: str | None) -> str:
    """A key pressed while holding. 1 = call me back instead: leave Twilio's queue, keep our place."""
    entry = callbacks.get_entry(flow.session, entry_public_id)
    call = turns.load(flow, entry.call_sid)
    response = VoiceResponse()
    if digits == "1" and entry.state == "holding":
        call.scratch = {**call.scratch, "wants_callback": True}
        response.leave()
    else:
        response.redirect(flow.links.hold_wait(entry.public_id), method="POST")
    return str(response)


def done(flow, call_sid: str, turn: int, queue_result: str | None, queue_time: str | None) -> str:
    """Twilio's Enqueue action: the caller left the queue (bridged, pressed 1, hung up, error)."""
    call = turns.load(flow, call_sid)
    if turn < call.turn:
        return turns.replay(flow, call, turn)
    if turn > call.turn or call.step != "holding":
        raise TurnMismatch(f"call {call_sid} is not holding at turn {turn}")
    entry = flow.entry(call)
    now = flow.clock.now()
    holding = entry is not None and entry.state == "holding"
    if queue_result == "leave" and call.scratch.get("wants_callback") and holding:
        return turns.answer(flow, call, turn, booking.start_callback(flow, call, mode="asap"))
    if queue_result in {"error", "system-error", "queue-full"} and holding:
        # Twilio could not keep the caller in its queue: keep the promise with a callback instead.
        return turns.answer(flow, call, turn, booking.start_callback(flow, call, mode="asap"))
    if queue_result == "leave":
        # Taken out of line by someone else (e.g. a supervisor cancelled the entry): a polite goodbye.
        return turns.answer(flow, call, turn, asking.goodbye(flow, call))
    if queue_result == "bridged" and holding:
        callbacks.change_state(flow.session, entry, "connected", now=now, reason="bridged from Twilio's queue",
                               queue_time=queue_time)
    elif queue_result == "hangup" and holding:
        callbacks.change_state(flow.session, entry, "abandoned", now=now, reason="caller hung up while holding",
                               actor="caller", queue_time=queue_time)
    response = VoiceResponse()
    response.hangup()
    call.step = "done"
    return turns.answer(flow, call, turn, response)
