"""/media: a socket that only ever sends `connected` must not hold a stream slot for as long as it likes,
and a token must not open a second stream once the first has closed. A socket
has START_TIMEOUT_SECONDS from connecting to show a valid start, whatever it sends meanwhile, takes a
stream slot only once it has, and a token opens one stream, ever. Over a real socket, with the calls
rung through the signed webhooks and the token read from the IVR's TwiML (tests/webhooks/test_media.py)."""
from __future__ import annotations

import logging
import threading
import time
from contextlib import ExitStack

from twilio.request_validator import RequestValidator
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from tests.support.media_stream import (SILENCE, closed_by_server, connected, open_stream, refused, results, ring,
                                        spoken_answer)
from tests.support.waiting import wait_for
from webhooks import media as media_module


def _chatter(url: str, stop: threading.Event, closed_by_server: list) -> None:
    """A socket that sends `connected` every 0.2 s and never a start, until the server closes it (noted)
    or the test ends (`stop`: it then leaves on its own, and nothing is noted)."""
    try:
        with connect(url) as ws:
            while not stop.is_set():
                ws.send(connected())
                time.sleep(0.2)
    except ConnectionClosed:
        closed_by_server.append(url)


def test_chattering_sockets_are_closed_by_the_deadline_and_hold_no_stream_slot(phone, runtime, ws_url,
                                                                                monkeypatch):
    monkeypatch.setattr(media_module, "START_TIMEOUT_SECONDS", 1.5)
    monkeypatch.setattr(media_module.streams, "limit", 2)
    stop, closed_after = threading.Event(), []
    chatter = [threading.Thread(target=_chatter, args=(ws_url, stop, closed_after)) for _ in range(6)]
    for thread in chatter:
        thread.start()
    try:
        wait_for(lambda: media_module.streams.waiting == 6, "all six to be connected and waiting")
        assert media_module.streams.count == 0  # ...holding no slot
        # A real call's stream, meanwhile, gets a slot and listens: the caller's answer is heard and stored.
        sid, token = ring(phone)
        with connect(ws_url) as ws:
            open_stream(ws, sid, token, spoken_answer())
            wait_for(lambda: media_module.streams.count == 1, "the call's stream to hold a slot")
            assert closed_by_server(ws, timeout=60)  # closed once it has the answer
        assert [(r.call_sid, r.ended_by) for r in results(runtime)] == [(sid, "speech")]
        # They chatter until the server closes them: the start deadline does (the limit only stops a hung test).
        for thread in chatter:
            thread.join(timeout=60)
    finally:
        stop.set()
    assert len(closed_after) == 6, closed_after


def test_unsigned_sockets_waiting_cannot_crowd_out_twilios(phone, runtime, ws_url, monkeypatch):
    """Past MAX_WAITING, unsigned upgrades get 503; Twilio signs its upgrades, and still streams."""
    monkeypatch.setattr(media_module.streams, "waiting_limit", 2)
    with ExitStack() as idle:
        for _ in range(2):
            idle.enter_context(connect(ws_url))
        wait_for(lambda: media_module.streams.waiting == 2, "both idle sockets to be waiting")
        assert refused(ws_url) == 503
        signature = RequestValidator(AUTH_TOKEN).compute_signature(
            PUBLIC_BASE_URL.replace("https://", "wss://") + "/media", {})
        sid, token = ring(phone)
        with connect(ws_url, additional_headers={"X-Twilio-Signature": signature}) as ws:
            open_stream(ws, sid, token, spoken_answer())
            assert closed_by_server(ws, timeout=60)  # closed once it has the answer
    assert [(r.call_sid, r.ended_by) for r in results(runtime)] == [(sid, "speech")]


def test_a_token_opens_one_stream_even_after_the_first_has_closed(phone, runtime, ws_url, caplog):
    sid, token = ring(phone)
    with connect(ws_url) as first:
        open_stream(first, sid, token, [SILENCE] * 5)
        # The server has read the start and opened the stream (a socket closed before that used no token).
        wait_for(lambda: media_module.streams.count == 1, "the first stream to open")
    wait_for(lambda: media_module.streams.count == 0, "the first stream to end")
    with caplog.at_level(logging.WARNING), connect(ws_url) as second:
        open_stream(second, sid, token, [SILENCE] * 5)
        assert closed_by_server(second, timeout=60)
    # Refused for its token at its start, not closed at the start deadline for want of one.
    assert [r.getMessage() for r in caplog.records if r.name == "webhooks.media"] == [
        "media stream refused: its token has already opened a stream"]
