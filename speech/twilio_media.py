"""Twilio Media Streams: the one place that knows the wire format.

Incoming text frames are parsed into small typed events; anything that does not
match Twilio's documented shapes raises `MediaFormatError` so the endpoint can
drop the frame without crashing. Audio is G.711 mu-law, decoded here with a
lookup table (the stdlib `audioop` module is deprecated and gone in 3.13).
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Union

import numpy as np

MULAW_RATE = 8000
FRAME_BYTES = 160  # 20 ms of 8 kHz mu-law, what Twilio sends per media event
MAX_PAYLOAD_BYTES = 16000  # 2 s; anything bigger is not a Twilio frame
MAX_MESSAGE_CHARS = 64 * 1024


class MediaFormatError(ValueError):
    """A frame that is not a valid Twilio Media Streams message."""


@dataclass(frozen=True)
class Connected:
    protocol: str
    version: str


@dataclass(frozen=True)
class StreamEvent:
    """What every message after "connected" carries: the stream it belongs to (first, so each event
    is built as Kind(stream_sid, ...))."""

    stream_sid: str


@dataclass(frozen=True)
class Start(StreamEvent):
    call_sid: str
    account_sid: str
    encoding: str
    sample_rate: int
    channels: int
    tracks: tuple[str, ...]
    custom_parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Media(StreamEvent):
    track: str
    chunk: int
    timestamp_ms: int
    payload: bytes  # raw mu-law bytes, already base64-decoded


@dataclass(frozen=True)
class Dtmf(StreamEvent):
    digit: str


@dataclass(frozen=True)
class Mark(StreamEvent):
    name: str


@dataclass(frozen=True)
class Stop(StreamEvent):
    call_sid: str


Event = Union[Connected, Start, Media, Dtmf, Mark, Stop]

_DTMF_DIGITS = set("0123456789*#")


def _obj(d: dict, key: str) -> dict:
    value = d.get(key)
    if not isinstance(value, dict):
        raise MediaFormatError(f"'{key}' must be an object")
    return value


def _str(d: dict, key: str, required: bool = True) -> str:
    value = d.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise MediaFormatError(f"'{key}' must be a string")
    return value


def _int(d: dict, key: str, default: int | None = None) -> int:
    # Twilio sends counters as JSON strings and sampleRate/channels as numbers.
    value = d.get(key, default)
    if isinstance(value, bool):
        raise MediaFormatError(f"'{key}' must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise MediaFormatError(f"'{key}' must be an integer")


def parse_event(message: str | bytes) -> Event:
    """Parse one WebSocket text frame from Twilio into a typed event."""
    if isinstance(message, bytes):
        # Twilio only sends text frames; a binary frame is someone else.
        raise MediaFormatError("binary frames are not part of the protocol")
    if len(message) > MAX_MESSAGE_CHARS:
        raise MediaFormatError("message too large")
    try:
        data = json.loads(message)
    except (ValueError, RecursionError) as exc:
        raise MediaFormatError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MediaFormatError("message must be a JSON object")
    kind = data.get("event")
    if kind == "connected":
        return Connected(protocol=_str(data, "protocol", False), version=_str(data, "version", False))
    if kind == "start":
        start = _obj(data, "start")
        fmt = _obj(start, "mediaFormat")
        params = start.get("customParameters") or {}
        if not isinstance(params, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in params.items()
        ):
            raise MediaFormatError("customParameters must map strings to strings")
        tracks = start.get("tracks") or []
        if not isinstance(tracks, list) or not all(isinstance(t, str) for t in tracks):
            raise MediaFormatError("tracks must be a list of strings")
        return Start(
            stream_sid=_str(start, "streamSid"),
            call_sid=_str(start, "callSid"),
            account_sid=_str(start, "accountSid", False),
            encoding=_str(fmt, "encoding"),
            sample_rate=_int(fmt, "sampleRate"),
            channels=_int(fmt, "channels", 1),
            tracks=tuple(tracks),
            custom_parameters=dict(params),
        )
    if kind == "media":
        media = _obj(data, "media")
        try:
            payload = base64.b64decode(_str(media, "payload"), validate=True)
        except (binascii.Error, ValueError):
            raise MediaFormatError("payload is not base64") from None
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise MediaFormatError("payload too large")
        return Media(
            stream_sid=_str(data, "streamSid", False),
            track=_str(media, "track", False) or "inbound",
            chunk=_int(media, "chunk", 0),
            timestamp_ms=_int(media, "timestamp", 0),
            payload=payload,
        )
    if kind == "dtmf":
        digit = _str(_obj(data, "dtmf"), "digit")
        if digit not in _DTMF_DIGITS:
            raise MediaFormatError(f"not a DTMF digit: {digit!r}")
        return Dtmf(stream_sid=_str(data, "streamSid", False), digit=digit)
    if kind == "mark":
        return Mark(stream_sid=_str(data, "streamSid", False), name=_str(_obj(data, "mark"), "name"))
    if kind == "stop":
        stop = data.get("stop") if isinstance(data.get("stop"), dict) else {}
        return Stop(stream_sid=_str(data, "streamSid", False), call_sid=_str(stop, "callSid", False))
    raise MediaFormatError(f"unknown event {kind!r}")


# --- G.711 mu-law --------------------------------------------------------------

def _build_decode_table() -> np.ndarray:
    u = (~np.arange(256, dtype=np.int32)) & 0xFF
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(sign != 0, -magnitude, magnitude).astype("<i2")


def _build_encode_table() -> np.ndarray:
    # Index by the int16 sample reinterpreted as uint16 (0..65535). Same
    # 14-bit segment rule as the G.711 reference code (and audioop).
    s = np.arange(65536, dtype=np.int32)
    s = np.where(s >= 32768, s - 65536, s) >> 2
    mask = np.where(s < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(s), 8159) + 0x21
    segment_ends = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
    segment = np.searchsorted(segment_ends, magnitude)
    value = (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F)
    value = np.where(segment >= 8, 0x7F, value)  # beyond the last segment: clip
    return ((value ^ mask) & 0xFF).astype(np.uint8)


_DECODE = _build_decode_table()
_ENCODE = _build_encode_table()


def mulaw_to_pcm16(data: bytes) -> bytes:
    """Decode mu-law bytes to little-endian signed 16-bit PCM (same rate)."""
    return _DECODE[np.frombuffer(data, dtype=np.uint8)].tobytes()


def pcm16_to_mulaw(data: bytes) -> bytes:
    """Encode little-endian signed 16-bit PCM to mu-law bytes (for fixtures and replies)."""
    samples = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2")
    return _ENCODE[samples.view(np.uint16)].tobytes()


# --- messages to Twilio -------------------------------------------------------

def media_message(stream_sid: str, mulaw: bytes) -> str:
    return json.dumps({"event": "media", "streamSid": stream_sid,
                       "media": {"payload": base64.b64encode(mulaw).decode("ascii")}})


def mark_message(stream_sid: str, name: str) -> str:
    return json.dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def clear_message(stream_sid: str) -> str:
    return json.dumps({"event": "clear", "streamSid": stream_sid})
