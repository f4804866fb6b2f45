"""The media-stream side of a call: a real WebSocket to the app's stream URL, carrying Twilio's messages.

Twilio opens the socket when `<Connect><Stream>` (bidirectional) or `<Start><Stream>` (forked,
one-way) runs, signs the handshake (X-Twilio-Signature over the wss:// URL), sends `connected`, then
`start` (accountSid, streamSid, callSid, tracks, mediaFormat, customParameters), then one `media`
message per 20 ms of audio (160 bytes of 8 kHz mu-law, base64), `dtmf` for keys (bidirectional
streams only), and `stop` when the stream or the call ends. Counters are JSON strings.

A stream here has a sender thread: it sends what the caller says, and silence every 20 ms in between
(as a phone line does), and a reader thread that notices the app closing the socket (which ends a
`<Connect>`) and answers `mark` messages as Twilio does once the audio before them has played.
"""
from __future__ import annotations

import base64
import json
import logging
import queue
import threading
import time
import uuid

from twilio.request_validator import RequestValidator

from speech.twilio_media import MULAW_RATE
from telephony.audio import SILENCE_FRAME, frames

log = logging.getLogger("telephony.media")
FRAME_SECONDS = 0.02


class MediaStream:
    def __init__(self, *, account_sid: str, call_sid: str, url: str, local_url: str, auth_token: str,
                 name: str | None = None, track: str = "inbound_track", parameters: dict | None = None,
                 bidirectional: bool = False, on_closed=None, on_message=None):
        self.sid = "MZ" + uuid.uuid4().hex
        self.account_sid = account_sid
        self.call_sid = call_sid
        self.url = url
        self.local_url = local_url
        self.auth_token = auth_token
        self.name = name
        self.track = track
        self.parameters = dict(parameters or {})
        self.bidirectional = bidirectional
        self.on_closed = on_closed  # called once when the app closes the socket (not when we do)
        self.on_message = on_message  # what the app sent back (bidirectional: media, mark, clear)
        self.opened = False
        self.closed = False
        self.closed_by_app = False
        self.sent_frames = 0
        self.spoken_to = False  # the caller has spoken on it (its closing is the app's answer to that)
        self.status_callback: str | None = None  # <Stream statusCallback>: stream-started / stream-stopped
        self.received: list[dict] = []
        self._seq = 0
        self._ws = None
        self._outbox: queue.Queue = queue.Queue()
        self._keepalive = False
        self._send_lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    # ---- opening and closing ---------------------------------------------------------------------

    @property
    def tracks(self) -> list[str]:
        if self.bidirectional or self.track == "inbound_track":
            return ["inbound"]
        if self.track == "outbound_track":
            return ["outbound"]
        return ["inbound", "outbound"]

    @property
    def carries_caller(self) -> bool:
        return "inbound" in self.tracks and not self.closed

    def open(self, keepalive: bool = True) -> None:
        from websockets.sync.client import connect

        if self.opened:
            return
        self.opened = True
        signature = RequestValidator(self.auth_token).compute_signature(self.url, {})
        self._ws = connect(self.local_url, additional_headers={"X-Twilio-Signature": signature},
                           open_timeout=10, close_timeout=2, max_size=2 ** 20).__enter__()
        self._send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        self._send({"event": "start", "sequenceNumber": self._next_seq(), "streamSid": self.sid, "start": {
            "accountSid": self.account_sid, "streamSid": self.sid, "callSid": self.call_sid, "tracks": self.tracks,
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": MULAW_RATE, "channels": 1},
            "customParameters": self.parameters}}, seq_done=True)
        self._keepalive = keepalive
        for target, name in ((self._sender, "media-send"), (self._reader, "media-read")):
            thread = threading.Thread(target=target, name=f"{name}-{self.sid[:8]}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Twilio ends the stream (Stop/Stream, the call moved on or ended): `stop`, then close."""
        if self.closed:
            return
        self.closed = True
        if self._ws is None:
            return
        try:
            self._send({"event": "stop", "sequenceNumber": self._next_seq(), "streamSid": self.sid,
                        "stop": {"accountSid": self.account_sid, "callSid": self.call_sid}}, seq_done=True)
        except Exception:  # noqa: BLE001 - the app may have closed it at the same moment
            pass
        try:
            self._ws.close()
        except Exception:  # noqa: BLE001
            pass

    def join(self, timeout: float = 2.0) -> None:
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout)

    # ---- what the caller does ---------------------------------------------------------------------

    def send_audio(self, mulaw: bytes, paced: bool = True) -> float:
        """Queue the caller's audio; returns its length in seconds."""
        chunks = frames(mulaw)
        for chunk in chunks:
            self._outbox.put((chunk, paced))
        return len(chunks) * FRAME_SECONDS

    def send_dtmf(self, digit: str) -> None:
        self._outbox.put((("dtmf", digit), False))

    def drained(self) -> bool:
        return self._outbox.empty()

    # ---- threads ------------------------------------------------------------------------------------

    def _next_seq(self) -> str:
        self._seq += 1
        return str(self._seq)

    def _send(self, message: dict, seq_done: bool = True) -> None:
        with self._send_lock:
            self._ws.send(json.dumps(message))

    def _sender(self) -> None:
        from websockets.exceptions import ConnectionClosed

        next_tick = time.monotonic()
        while not self.closed:
            try:
                item, paced = self._outbox.get(timeout=FRAME_SECONDS)
            except queue.Empty:
                if not self._keepalive:
                    continue
                item, paced = SILENCE_FRAME, True
            try:
                with self._send_lock:
                    if self.closed:
                        return
                    if isinstance(item, tuple):
                        self._ws.send(json.dumps({"event": "dtmf", "streamSid": self.sid,
                                                  "sequenceNumber": self._next_seq(),
                                                  "dtmf": {"track": "inbound_track", "digit": item[1]}}))
                        continue
                    self.sent_frames += 1
                    self._ws.send(json.dumps({
                        "event": "media", "sequenceNumber": self._next_seq(), "streamSid": self.sid,
                        "media": {"track": "inbound", "chunk": str(self.sent_frames),
                                  "timestamp": str((self.sent_frames - 1) * 20),
                                  "payload": base64.b64encode(item).decode()}}))
            except (ConnectionClosed, OSError):
                return
            if paced:
                next_tick = max(next_tick + FRAME_SECONDS, time.monotonic() - FRAME_SECONDS)
                delay = next_tick - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            else:
                next_tick = time.monotonic()

    def _reader(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            while True:
                raw = self._ws.recv()
                try:
                    message = json.loads(raw)
                except (TypeError, ValueError):
                    continue
                self.received.append(message)
                if message.get("event") == "mark" and self.bidirectional and not self.closed:
                    # Twilio answers a mark once the audio queued before it has played.
                    try:
                        self._send({"event": "mark", "sequenceNumber": self._next_seq(), "streamSid": self.sid,
                                    "mark": message.get("mark", {})})
                    except (ConnectionClosed, OSError):
                        pass
                if self.on_message is not None:
                    self.on_message(self, message)
        except (ConnectionClosed, OSError):
            pass
        if not self.closed:
            self.closed = True
            self.closed_by_app = True
            if self.on_closed is not None:
                self.on_closed(self)
