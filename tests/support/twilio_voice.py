"""Twilio's voice side for the tests: the product's emulator (telephony/emulator/), nothing else.

`twilio` (tests/conftest.py) is an `Emulator` attached to the test app; a call is a `Call`:
`call.press("1")`, `call.press("5", barge_in=True)`, `call.wait()`, `call.say(wav=...)`,
`call.hang_up()`, `call.heard`, `call.last_heard`, `call.lost_keys`, `call.ended`.
"""
from telephony.emulator import ACCOUNT_SID, Call, Emulator, WebhookError, new_sid

TwilioDouble = Emulator
PhoneCall = Call

__all__ = ["ACCOUNT_SID", "Call", "Emulator", "PhoneCall", "TwilioDouble", "WebhookError", "new_sid"]
