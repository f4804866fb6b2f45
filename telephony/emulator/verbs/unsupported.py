"""What the table has no module for. A TwiML verb the emulator does not follow (Record, Echo, Pay,
Refer, Sms, ...) and a tag that is no TwiML verb at all: strict (tests) raises WebhookError; otherwise
the call goes on with the next verb and the call's log says what was skipped. For a tag that is not a
verb that is Twilio's documented behaviour: warning 12200 (schema validation warning, "misspelled
verbs"), not a failed document."""
from __future__ import annotations

from telephony.twiml import is_verb


def follow(run):
    tag = run.next_verb().tag
    if is_verb(tag):
        run.not_followed(f"the emulator does not follow <{tag}>")
    else:
        run.not_followed(f"<{tag}> is not a TwiML verb (Twilio: warning 12200, the verb is skipped)")
    return None
