import base64
import json

import numpy as np
import pytest

from speech import twilio_media as tm

START = {"event": "start", "sequenceNumber": "1",
         "start": {"accountSid": "AC123", "streamSid": "MZ123", "callSid": "CA123", "tracks": ["inbound"],
                   "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                   "customParameters": {"call_sid": "CA123", "step": "menu"}},
         "streamSid": "MZ123"}


def test_parses_twilio_event_shapes():
    assert tm.parse_event('{"event":"connected","protocol":"Call","version":"1.0.0"}') == tm.Connected("Call", "1.0.0")
    start = tm.parse_event(json.dumps(START))
    assert (start.call_sid, start.stream_sid, start.sample_rate, start.encoding) == ("CA123", "MZ123", 8000, "audio/x-mulaw")
    assert start.custom_parameters == {"call_sid": "CA123", "step": "menu"}
    payload = bytes(range(160))
    media = tm.parse_event(json.dumps({"event": "media", "sequenceNumber": "2", "streamSid": "MZ123",
                                       "media": {"track": "inbound", "chunk": "1", "timestamp": "20",
                                                 "payload": base64.b64encode(payload).decode()}}))
    assert media.payload == payload and media.chunk == 1 and media.timestamp_ms == 20
    dtmf = tm.parse_event('{"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"1"}}')
    assert dtmf == tm.Dtmf("MZ1", "1")
    assert tm.parse_event('{"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"x"}}') == tm.Mark("MZ1", "x")
    stop = tm.parse_event('{"event":"stop","sequenceNumber":"5","stop":{"accountSid":"AC1","callSid":"CA1"},"streamSid":"MZ1"}')
    assert stop == tm.Stop("MZ1", "CA1")


@pytest.mark.parametrize("message", [
    "not json", "[]", "null", '{"event":"launch"}', '{"event":"start"}', '{"event":"start","start":{}}',
    '{"event":"media","media":{"payload":"%%%not base64"}}', '{"event":"media","media":{}}',
    '{"event":"media","media":{"payload":"AAAA","chunk":"one"}}',
    '{"event":"dtmf","dtmf":{"digit":"A1"}}', '{"event":"dtmf"}', '{"event":"mark","mark":{}}',
    json.dumps({**START, "start": {**START["start"], "customParameters": {"a": 1}}}),
    json.dumps({**START, "start": {**START["start"], "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": "fast"}}}),
    b'{"event":"connected"}', "[" * 100000, '{"event":"media","media":{"payload":"' + "A" * 70000 + '"}}',
])
def test_rejects_malformed_frames(message):
    with pytest.raises(tm.MediaFormatError):
        tm.parse_event(message)


def test_mulaw_decodes_g711_reference_values():
    # G.711: 0xFF and 0x7F are zero, 0x00/0x80 the loudest negative/positive values.
    decoded = np.frombuffer(tm.mulaw_to_pcm16(bytes([0xFF, 0x7F, 0x00, 0x80, 0xEF, 0x6F])), "<i2")
    assert decoded.tolist() == [0, 0, -32124, 32124, 132, -132]


def test_mulaw_decode_is_monotonic_per_sign():
    values = np.frombuffer(tm.mulaw_to_pcm16(bytes(range(256))), "<i2").astype(int)
    # Codes 0x80..0xFF go from +32124 down to 0; 0x00..0x7F from -32124 up to 0.
    assert all(np.diff(values[128:]) < 0) and all(np.diff(values[:128]) > 0)


def test_mulaw_round_trip_error_is_within_g711_step():
    pcm = (np.sin(np.arange(8000) / 8000 * 2 * np.pi * 440) * 20000).astype("<i2")
    back = np.frombuffer(tm.mulaw_to_pcm16(tm.pcm16_to_mulaw(pcm.tobytes())), "<i2").astype(int)
    err = np.abs(back - pcm.astype(int))
    # mu-law keeps ~4% relative error at most (quantisation step / amplitude)
    assert np.all(err <= np.maximum(8, np.abs(pcm.astype(int)) * 0.04))
    assert tm.pcm16_to_mulaw(tm.mulaw_to_pcm16(bytes(range(256)))) == bytes(range(256)).replace(b"\x7f", b"\xff")


def test_outgoing_messages_are_twilio_shapes():
    media = json.loads(tm.media_message("MZ1", b"\xff" * 160))
    assert media == {"event": "media", "streamSid": "MZ1", "media": {"payload": base64.b64encode(b"\xff" * 160).decode()}}
    assert json.loads(tm.mark_message("MZ1", "prompt")) == {"event": "mark", "streamSid": "MZ1", "mark": {"name": "prompt"}}
    assert json.loads(tm.clear_message("MZ1")) == {"event": "clear", "streamSid": "MZ1"}
