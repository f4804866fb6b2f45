"""/media driven by a Media Streams client we did not write: the third-party simulator `streamdouble` (PyPI),
as the `<Start><Stream>` fork the IVR asks for (fork=True: caller audio in, nothing back).

The call is made through the signed /voice/incoming webhook and the stream token read from the TwiML, as in
test_media.py; streamdouble then sends its own `connected`, `start`, `media` and `stop` frames and checks the
app's side of the protocol.
"""
from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from streamdouble.protocol import StreamIdentity
from streamdouble.session import Session, SessionConfig

from storage.db import transaction
from storage.models import Call
from tests.speech.conftest import AUDIO
from tests.support.media_stream import SILENCE, frames, results, ring


def test_a_spoken_answer_streamed_by_streamdouble_as_a_fork_is_heard_once(phone, runtime, ws_url):
    sid, token = ring(phone)
    caller = [SILENCE] * 25 + frames(os.path.join(AUDIO, "en", "tts_en_billing.wav")) + [SILENCE] * 150
    config = SessionConfig(fork=True, tracks=["inbound"], strict_fork=True, custom_parameters={"token": token},
                           response_timeout_s=30, quiet_period_s=0.5)
    identity = StreamIdentity(call_sid=sid, account_sid=phone.account_sid)
    # Its own thread, with its own event loop: an earlier test (Playwright) may leave a loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(asyncio.run, Session(ws_url, caller, config=config, identity=identity).run()).result()

    assert result.violations == [], result.violations  # the app kept to the protocol, as a fork
    assert not result.audio_received  # a fork has no channel back: the app sent nothing
    [heard] = results(runtime)
    assert (heard.call_sid, heard.step, heard.turn, heard.ended_by) == (sid, "menu", 1, "speech")
    assert "a question about my" in heard.transcript.lower(), heard.transcript  # the words arrived in order
    updates = [r["form"]["Url"] for r in phone.rest.requests if r["method"] == "POST" and sid in r["path"]]
    assert [u.split("/voice/")[-1] for u in updates] == ["step/menu/listen?t=1", "step/menu?t=1"]
    # Twilio follows the move: the menu step decides from what the stream heard (which team the recogniser's
    # words mean is the understanding tests' business; here, that this answer is the one the IVR used).
    phone.post("/voice/step/menu?t=1", {"AccountSid": phone.account_sid, "CallSid": sid, "CallStatus": "in-progress",
                                       "From": "+12125550142", "To": "+15005550006"})
    with transaction(runtime.sessions) as session:
        [step] = session.get(Call, sid).scratch["path"]
    assert (step["step"], step["said"]) == ("menu", heard.transcript) and step["meaning"]
