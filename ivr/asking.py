"""How the flow speaks: a question from the table (`ask`), the same question again (`retry`), and
the goodbye that ends a call.

Every question is asked the same way, so callers can interrupt any prompt: `<Gather input="dtmf">`
around the `<Say>`s takes keys (a key stops the prompt), and, where the caller's language has a
speech engine, `<Start><Stream>` first forks the caller's audio to /media. A question's own words
(with values such as a wait or a window) come from its step's module (`ivr.moves.QUESTIONS`)."""
from __future__ import annotations

from twilio.twiml.voice_response import Start, VoiceResponse

from ivr import steps
from ivr.answers import Meaning
from ivr.turns import stream_name
from storage.models import Call


def ask(flow, call: Call, step_name: str, *, lead: list[str] | None = None,
        keep_retries: bool = False) -> VoiceResponse:
    """Ask a question from the table: the prompt inside a Gather (keys interrupt it), and, with
    speech, the caller's audio forked to /media first (speaking interrupts it too)."""
    step = steps.STEPS[step_name]
    p = flow.prompts(call)
    response = VoiceResponse()
    if not keep_retries:
        call.retries = 0
    call.step = step_name
    next_turn = call.turn + 1
    action = flow.links.step(step_name, next_turn)
    if flow.speech_on(call) and step.expects.listen:
        start = Start()
        stream = start.stream(name=stream_name(next_turn), url=flow.links.stream())
        stream.parameter(name="token", value=flow.links.stream_token(call.call_sid, step_name, next_turn))
        response.append(start)
    gather = steps.gather(step, action)
    for text in (lead or []) + [flow.question_text(call, step)]:
        gather.say(text, voice=p.voice, language=p.language)
    response.append(gather)
    # No key and no recognised answer: Gather falls through to here, and the same action hears "nothing".
    response.redirect(action, method="POST")
    return response


def retry(flow, call: Call, step: steps.Step, meaning: Meaning, lead: list[str] | None = None) -> VoiceResponse:
    """Ask again (at most MAX_RETRIES times), then the step's `give_up` move."""
    call.retries += 1
    if call.retries > steps.MAX_RETRIES:
        call.retries = 0
        return flow.move(step.give_up, call, meaning)
    p = flow.prompts(call)
    sorry = lead or [p.text("no_input" if meaning.kind == "nothing" else "not_understood")]
    return ask(flow, call, step.name, lead=sorry, keep_retries=True)


def goodbye(flow, call: Call, lead: list[str] | None = None) -> VoiceResponse:
    p = flow.prompts(call)
    response = VoiceResponse()
    for text in (lead or []) + [p.text("goodbye")]:
        response.say(text, voice=p.voice, language=p.language)
    response.hangup()
    call.step = "done"
    return response
