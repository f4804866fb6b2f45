"""<Connect><Stream>: a bidirectional media stream that blocks until the app closes the socket, then
requests the Connect action (or goes on with the next verb). Keys on it travel as `dtmf` messages.
Other <Connect> nouns (Room, Conversation, VirtualAgent, ...) are not emulated."""
from __future__ import annotations

from telephony.emulator.streams import stream_from
from telephony.emulator.waits import StreamBlock, Target


def follow(run):
    call, verb = run.call, run.next_verb()
    action = run.url_attribute(verb, "action")
    element = verb.find("Stream")
    if element is None:
        run.not_followed(f"the emulator does not follow <Connect><{verb[0].tag if len(verb) else ''}>")
        return None
    return (yield from _connected(run, call, verb, element, action))


def _connected(run, call, verb, element, action):
    stream = stream_from(call, element, run.doc_url, bidirectional=True)
    call.connect_stream = stream
    call.log.append(("stream connected", stream.url.split("?", 1)[0]))
    if call.emulator.live:
        stream.open(keepalive=True)
    try:
        yield StreamBlock(stream)
    finally:
        stream.stop()
        call.connect_stream = None
    call.log.append(("stream closed by the app", ""))
    if action:
        return Target(action, verb.attrib.get("method", "POST").upper())
    return None
