"""A call's media streams (Twilio Media Streams): the sockets <Start><Stream> forks (running across
documents until <Stop><Stream> or the end of the call) and the one <Connect><Stream> blocks on, each a
real WebSocket to the app (telephony/media.py), with `statusCallback` reports."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urljoin

from telephony.media import MediaStream
from telephony.rest import rfc2822


def stream_from(call, element: ET.Element, doc_url: str | None, bidirectional: bool) -> MediaStream:
    em = call.emulator
    url = urljoin(doc_url or "", element.attrib["url"])
    parameters = {p.attrib.get("name"): p.attrib.get("value") for p in element.findall("Parameter")}
    stream = MediaStream(account_sid=em.account_sid, call_sid=call.sid, url=url,
                         local_url=em.transport.websocket_url(url) if em.transport else url,
                         auth_token=em.auth_token, name=element.attrib.get("name"),
                         track=element.attrib.get("track", "inbound_track"), parameters=parameters,
                         bidirectional=bidirectional,
                         on_closed=lambda s: em.events.post(("stream_closed", call, s)))
    stream.status_callback = element.attrib.get("statusCallback")
    return stream


def open_stream(call, stream: MediaStream) -> None:
    if not stream.opened:
        stream.open(keepalive=call.emulator.media_keepalive)


def caller_streams(call) -> list[MediaStream]:
    """The open streams that carry what the caller says (the connected one is opened now if need be)."""
    streams = [s for s in call.forked.values() if s.carries_caller]
    if call.connect_stream is not None and not call.connect_stream.closed:
        open_stream(call, call.connect_stream)
        streams.append(call.connect_stream)
    return [s for s in streams if s.opened and not s.closed]


def fork(call, verb: ET.Element, doc_url: str | None) -> None:
    """<Start><Stream>: opens at once and never blocks; a stream of the same name is replaced."""
    for element in verb.findall("Stream"):
        stream = stream_from(call, element, doc_url, bidirectional=False)
        key = stream.name or stream.sid
        old = call.forked.pop(key, None)
        if old is not None:
            old.stop()
        call.forked[key] = stream
        call.log.append(("stream started", stream.name or stream.url.split("?", 1)[0]))
        stream.open(keepalive=call.emulator.media_keepalive)
        report(call, stream, "stream-started")
    for other in verb:
        if other.tag != "Stream":
            call.log.append(("ignored", f"<Start><{other.tag}>"))


def stop_named(call, verb: ET.Element) -> None:
    """<Stop><Stream name>: that forked stream (every one when no name is given)."""
    for element in verb.findall("Stream"):
        name = element.attrib.get("name")
        keys = [name] if name else list(call.forked)
        for key in keys:
            stream = call.forked.pop(key, None)
            if stream is not None:
                stream.stop()
                call.log.append(("stream stopped", key))
                report(call, stream, "stream-stopped")


def stop_all(call, report_stopped: bool = True) -> None:
    """The call ended (or the emulator closes): every stream stops."""
    for stream in list(call.forked.values()):
        stream.stop()
        if report_stopped:
            report(call, stream, "stream-stopped")
    call.forked.clear()
    if call.connect_stream is not None:
        call.connect_stream.stop()


def report(call, stream: MediaStream, event: str) -> None:
    url = stream.status_callback
    if url:
        em = call.emulator
        em.webhooks.request(url, {"AccountSid": em.account_sid, "CallSid": call.sid, "StreamSid": stream.sid,
                                  "StreamName": stream.name or stream.sid, "StreamEvent": event,
                                  "Timestamp": rfc2822(em.clock())}, "POST", twiml=False)
