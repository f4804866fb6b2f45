"""What the page's two phones do on their calls: call the IVR, key, say words, answer, hang up, send the
microphone, report a prompt spoken. A line acts only on its own calls."""
from __future__ import annotations

from devphone.lines import E164, Line
from devphone.refused import Refused

KEYS = "0123456789*#"
ANSWERS = {"human": "human", "voicemail": "machine_end_beep"}  # how the page's Answer buttons pick up
MAX_SAY_CHARS = 300


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
        try:
            sid = self.dev_phone.emulator.live_call(from_number, to_number, client_paces_prompts=True)
        finally:
            with lines.lock:
                line.placing = None
        with lines.lock:
            if sid not in line.calls:
                lines.register_placed(line, sid, from_number, to_number)
        return sid

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
