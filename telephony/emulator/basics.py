"""The emulator's shared vocabulary: Twilio's identifiers and numbers, how long a prompt takes, the
verbs a queue's or a whisper's document may use, and the error a test sees when the app misbehaves."""
from __future__ import annotations

import uuid

ACCOUNT_SID = "AC" + "0" * 32
API_VERSION = "2010-04-01"
DEFAULT_NUMBER = "+15005550006"
MACHINE = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax", "unknown")
ANSWERS = ("manual", "human") + MACHINE + ("busy", "no-answer", "failed")
WAIT_VERBS = ("Play", "Say", "Pause", "Gather", "Redirect", "Leave", "Hangup")  # allowed in a waitUrl document
WHISPER_VERBS = ("Play", "Say", "Pause", "Redirect")  # <Queue url> and <Number url> documents
APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def prompt_seconds(text: str) -> float:
    """How long a <Say> takes: about 2.7 words a second, as Twilio's voices speak."""
    return 0.3 + len((text or "").split()) / 2.7


class WebhookError(AssertionError):
    """The app answered a webhook with an error, or with TwiML that Twilio would refuse (strict mode)."""
