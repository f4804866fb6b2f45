"""What the dispatcher's calls say: the IVR file's wording, in the customer's language and voice
(agents serve that language), and the TwiML that says it."""
from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from callbacks.dialing import Dialer
from callbacks.dispatch.work import Work
from config import DispatchSettings, IvrConfig, Prompts
from storage.models import HOLDING, QueueEntry


class Talk:
    def __init__(self, config: IvrConfig, settings: DispatchSettings, dialer: Dialer):
        self.config = config
        self.settings = settings
        self.dialer = dialer

    def words(self, entry: QueueEntry | None) -> Prompts:
        return Prompts(self.config, entry.language if entry is not None else self.config.default_language)

    def text(self, entry: QueueEntry | None, key: str, **values) -> str:
        return self.words(entry).text(key, **values)

    def say(self, response: VoiceResponse, entry: QueueEntry, text: str) -> None:
        words = self.words(entry)
        response.say(text, voice=words.voice, language=words.language)

    def saying(self, entry: QueueEntry | None, key: str) -> str:
        """TwiML: say the IVR file's `key`, then hang up."""
        response = VoiceResponse()
        if entry is not None:
            self.say(response, entry, self.text(entry, key))
        else:
            response.say(self.text(None, key))
        response.hangup()
        return str(response)

    @staticmethod
    def hang_up() -> str:
        response = VoiceResponse()
        response.hangup()
        return str(response)

    def gone(self) -> str:
        return self.saying(None, "agent_no_longer_waiting")

    def tell_and_end(self, work: Work, call_sid: str | None, key: str, entry: QueueEntry) -> None:
        """After the commit: say the IVR file's `key` on a live call in the customer's voice, then hang up."""
        if not call_sid:
            return
        twiml = self.saying(entry, key)
        work.after_commit(lambda: self.dialer.steer(call_sid, twiml))

    def voicemail(self, entry: QueueEntry, answered_by: str, *, soon: bool = False) -> str:
        """The short message left on an answering machine (nothing for a fax); `soon`: we try again in
        a few minutes, inside the window told."""
        response = VoiceResponse()
        if answered_by != "fax":
            text = self.settings.voicemail_text.format(company=self.config.company_name) \
                if self.settings.voicemail_text else \
                self.text(entry, "callback_voicemail_soon" if soon else "callback_voicemail")
            self.say(response, entry, text)
        response.hangup()
        return str(response)

    def _who(self, entry: QueueEntry) -> str:
        if entry.caller_name:
            return entry.caller_name
        digits = (entry.phone_number or "")[-4:]
        words = self.words(entry)
        return words.fragment("whisper_who_number", digits=" ".join(digits)) if digits \
            else words.fragment("whisper_who_unknown")

    def whisper(self, entry: QueueEntry) -> str:
        """Who, for what, and what they already told us (the IVR path, or the reason they typed)."""
        skill = self.config.skills.get(entry.skill)
        words = self.words(entry)
        label = skill.label_in(words.language) if skill else entry.skill
        said = [step["said"] for step in (entry.context or {}).get("ivr_path", [])
                if step.get("said") and step.get("need")]
        if said:
            heard = words.text("whisper_heard", said="; ".join(said))
        elif entry.reason or entry.transcript:
            heard = words.text("whisper_reason", reason=entry.reason or entry.transcript)
        else:
            heard = ""
        if entry.kind == HOLDING:
            text = words.text("whisper_holding", skill=label, heard=heard)
        elif entry.state == "dialing_customer":
            text = words.text("whisper_on_line", who=self._who(entry), skill=label, heard=heard)
        else:
            text = words.text("whisper_callback", who=self._who(entry), skill=label, heard=heard)
        return " ".join(text.split())  # no double space where nothing was heard
