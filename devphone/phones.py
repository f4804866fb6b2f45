"""What the page's two phones do on their calls: call the IVR, key, say words, answer, hang up, send the
microphone, report a prompt spoken. A line acts only on its own calls."""
from __future__ import annotations

import time

from devphone.lines import E164, CallView, Line
from devphone.refused import Refused

KEYS = "0123456789*#"
ANSWERS = {"human": "human", "voicemail": "machine_end_beep"}  # how the page's Answer buttons pick up
MAX_SAY_CHARS = 300
CHAT_INTEGRATION = "devphone"  # the chat API integration the page's chat hand-over signs as


class Phones:
    def __init__(self, dev_phone):
        self.dev_phone = dev_phone  # its lines, its emulator (built and started on first use), its runtime
        self.lines = dev_phone.lines

    def call(self, line: Line, from_number: str, to_number: str) -> str:
        """The customer phone rings the IVR: Twilio requests the number's voice URL."""
        lines = self.lines
        lines.set_customer(line, from_number)
        if not E164.match(to_number or ""):
            raise Refused("The number to call must be in international format: + and 7 to 15 digits.")
        self.dev_phone.start()
        with lines.lock:
            if line.placing or any(v.phone == "customer" and not v.ended for v in line.calls.values()):
                raise Refused("The customer phone is already on a call; hang up first.", 409)
            # What the emulator reports about this call before live_call returns is this line's.
            line.placing = (from_number, to_number)
            line.last_called = time.monotonic()  # it answers for numbers no phone has (lines.owner)
        try:
            sid = self.dev_phone.emulator.live_call(from_number, to_number, client_paces_prompts=True)
        finally:
            with lines.lock:
                line.placing = None
        with lines.lock:
            if sid not in line.calls:
                lines.register_placed(line, sid, from_number, to_number)
        return sid

    def claim_ringing(self, line: Line) -> int:
        """Calls ringing this line's number or agent that no page had (it was away, or the app restarted
        since it set them up): they ring here now, within their ring time-out. How many."""
        if self.dev_phone._emulator is None:
            return 0
        claimed = 0
        with self.lines.lock:
            owned = {sid for other in self.lines.all() for sid in other.calls}
            for call in list(self.dev_phone.emulator.calls.values()):
                if call.sid in owned or call.direction == "inbound" or call.status != "ringing":
                    continue
                if call.to_number not in (line.customer, line.agent_address) or call.to_number is None:
                    continue
                phone = "customer" if call.to_number == line.customer else "agent"
                line.calls[call.sid] = CallView(call.sid, phone, "outbound", to=call.to_number)
                self.lines.push(line, {"type": "ringing", "call_sid": call.sid, "phone": phone,
                                       "from": call.from_number, "to": call.to_number, "own_number": True})
                claimed += 1
        return claimed

    def text(self, line: Line, body: str) -> list[str]:
        """The customer phone texts the app's number: Twilio's signed Messaging webhook (POST
        /webhooks/sms) through the emulator; the reply's messages, as the phone would receive them."""
        from xml.etree import ElementTree

        from telephony.emulator import new_sid

        if not isinstance(body, str) or not body.strip() or len(body) > 1600 or any(ord(c) < 32 for c in body):
            raise Refused("A text is 1 to 1600 characters without control characters.")
        if not line.customer:
            raise Refused("Set the caller's number first: a text comes from it.", 409)
        emulator = self.dev_phone.emulator
        reply = emulator.post("/webhooks/sms", {
            "AccountSid": emulator.account_sid, "ApiVersion": "2010-04-01", "MessageSid": new_sid("SM"),
            "SmsSid": "", "From": line.customer, "To": emulator.number, "Body": body.strip(), "NumMedia": "0"},
            expect_ok=False)
        if reply.status_code >= 400:
            raise Refused(f"The app refused the text ({reply.status_code}).", 502)
        messages = [m.text or "" for m in ElementTree.fromstring(reply.get_data(as_text=True)).iter("Message")]
        with self.lines.lock:
            for message in messages:
                self.lines.push(line, {"type": "message", "phone": "customer", "body": message})
        return messages

    def chat(self, line: Line, text: str) -> dict:
        """A chat bot hands the customer's conversation over to a callback: the real chat API (POST
        /webhooks/chat/callback, signed as the "devphone" integration with the secret made up at start)
        over HTTP to this app. The API's answer (201/200 with the entry and its message, or a problem)."""
        import json
        import secrets
        import urllib.error
        import urllib.request

        from callbacks.chat_signature import signature

        if not isinstance(text, str) or not text.strip() or len(text) > 500 or any(ord(c) < 32 for c in text):
            raise Refused("What the customer wrote in the chat: 1 to 500 characters without control characters.")
        if not line.customer:
            raise Refused("Set the caller's number first: the callback goes to it.", 409)
        body = json.dumps({"phone": line.customer, "reason": text.strip(),
                           "transcript": [{"from": "customer", "text": text.strip()}]}).encode()
        timestamp, nonce = str(int(self.dev_phone.clock.now().timestamp())), secrets.token_hex(12)
        request = urllib.request.Request(
            self.dev_phone.local_base + "/webhooks/chat/callback", data=body, method="POST", headers={
                "Content-Type": "application/json", "X-Chat-Integration": CHAT_INTEGRATION,
                "X-Chat-Timestamp": timestamp, "X-Chat-Nonce": nonce,
                "X-Chat-Signature": signature(self.dev_phone.chat_secret, timestamp, nonce, body)})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as refused:
            answer = json.load(refused)
        if answer.get("message"):
            with self.lines.lock:
                self.lines.push(line, {"type": "message", "phone": "customer", "body": answer["message"],
                                       "channel": "chat"})
        return answer

    def press(self, line: Line, sid: str, digit: str) -> None:
        if not isinstance(digit, str) or len(digit) != 1 or digit not in KEYS:
            raise Refused("A key is one of 0-9, * and #.")
        self._answered(line, sid, "Keys reach a call once it is answered.")
        self.dev_phone.emulator.live_press(sid, digit)

    def prompt_done(self, line: Line, sid: str, prompt_id) -> bool:
        """The page finished speaking a prompt: the call goes on (Gather timeouts start now)."""
        if isinstance(prompt_id, bool) or not isinstance(prompt_id, int):
            raise Refused("prompt must be the id of a prompt the page was sent.")
        view, call = self._mine(line, sid, live=False)
        with self.lines.lock:
            found = view.prompts.pop(prompt_id, None)
        if found is None:
            return False  # already done, cut, or not this call's
        segment, index = found
        # Only while that very prompt still plays: a late report must not end the next one.
        if call.wait_state is not segment or segment.pos != index:
            return False
        self.dev_phone.emulator.live_prompt_done(sid, index)
        return True

    def answer(self, line: Line, sid: str, how: str) -> None:
        if how not in ANSWERS:
            raise Refused(f"answer as one of: {', '.join(ANSWERS)}")
        view, call = self._mine(line, sid)
        if view.direction != "outbound" or call.status not in ("queued", "ringing"):
            raise Refused("Only a ringing phone can be answered.", 409)
        self.dev_phone.emulator.live_answer(sid, ANSWERS[how])

    def hang_up(self, line: Line, sid: str) -> None:
        """Hang up; a ringing phone declines (Twilio reports busy to the caller)."""
        self._mine(line, sid)
        self.dev_phone.emulator.live_hang_up(sid)

    def audio(self, line: Line, sid: str, mulaw: bytes) -> None:
        """The microphone, 8 kHz mu-law: onto the call's media streams, as Twilio forwards it."""
        view, call = self._mine(line, sid)
        if call.status == "in-progress":
            self.dev_phone.emulator.live_audio(sid, mulaw)

    def say(self, line: Line, sid: str, text: str) -> None:
        """Typed words, spoken by espeak-ng in the call's language and sent as the caller's voice."""
        from telephony.audio import speak

        if not isinstance(text, str) or not text.strip() or len(text) > MAX_SAY_CHARS:
            raise Refused(f"Type 1 to {MAX_SAY_CHARS} characters to say.")
        if any(ord(c) < 32 for c in text):
            raise Refused("Words to say may not hold control characters.")
        view = self._answered(line, sid, "Words reach a call once it is answered.")
        runtime = self.dev_phone.runtime
        language = view.language or (runtime.ivr_config.default_language if runtime else "en-US")
        self.dev_phone.emulator.live_audio(sid, speak(text.strip(), language))

    def _answered(self, line: Line, sid: str, refusal: str):
        view, call = self._mine(line, sid)
        if call.status != "in-progress":
            raise Refused(refusal, 409)
        return view

    def _mine(self, line: Line, sid: str, *, live: bool = True):
        with self.lines.lock:
            view = line.calls.get(sid)
        if view is None:
            raise Refused("No such call on this dev phone.", 404)
        call = self.dev_phone.emulator.calls.get(sid)
        if call is None:
            raise Refused("The call is still being set up; try again in a moment.", 409)
        if live and view.ended:
            raise Refused("That call has ended.", 409)
        return view, call
