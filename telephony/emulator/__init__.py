"""Twilio's voice side, emulated: an account with phones, calls that follow TwiML, queues, conferences.

Where things live (split as Twilio's documentation is):

- account.py: the account, the front door (`Emulator`), each job handed to a collaborator: directory.py
  (numbers, phones), queues.py (`Rooms`), network_time.py (the time on the network), listeners.py (who
  hears what happens).
- call.py: one call leg (`Call`): its state, what its person heard, and what they do in the stepped
  driver; exchange.py places and rings calls; answering.py picks one up; ending.py ends one.
- program.py: TwiML documents followed verb by verb; verbs/: one module per verb, picked from the
  table in verbs/table.py; waits.py: what a call's program waits for; stepping.py moves it on;
  playing.py: prompts and keys.
- streams.py: media streams (<Start><Stream>, <Connect><Stream>); queues.py: queues and conferences;
  status.py: status callbacks and answering-machine detection; webhooks.py: the signed requests;
  rest_side.py: what the REST API (telephony/rest.py) does to calls.
- events.py: what reaches a call from outside, applied in order by a driver: stepped.py (tests,
  `ivr devphone call`: synchronous, deterministic, virtual time) or live.py (people: a worker thread
  with real timers).

Rules followed (Twilio's documentation; docs/dev-phone.md lists what is simplified):
- Every webhook is signed with twilio's RequestValidator over the full public URL (+ sorted POST
  parameters), with Twilio's parameter names; a URL fragment (#rc=2...) is never sent or signed.
- Keys count only inside `<Gather>`: a key during a `<Say>`/`<Play>` outside one is lost; a key during
  a prompt nested in `<Gather input="dtmf">` ends that prompt (and the Gather's remaining prompts) and
  counts. finishOnKey (default #) is not part of Digits; numDigits ends the Gather; `timeout` seconds
  after the prompts and between keys submit the digits so far, or with none the Gather falls through.
- `<Start><Stream>` forks the caller's audio and does not block; it runs across documents until
  `<Stop><Stream name>` or the end of the call. `<Connect><Stream>` blocks until the app closes the
  socket, then requests the Connect action (or goes on with the next verb). Keys travel as `dtmf`
  messages only on `<Connect><Stream>`.
- `calls(sid).update(url=...|twiml=...)` stops whatever the live call is doing and runs the new
  document; `status=completed|canceled` ends it. The end of a document hangs up.
- A verb the emulator does not follow, or a tag that is no verb: strict (tests) raises WebhookError;
  otherwise it is skipped (Twilio: warning 12200) and the call goes on.
"""
from telephony.emulator.account import Emulator
from telephony.emulator.basics import ACCOUNT_SID, DEFAULT_NUMBER, WebhookError, new_sid, prompt_seconds
from telephony.emulator.call import Call
from telephony.emulator.exchange import Phone
from telephony.emulator.queues import Conference, Queue
from telephony.emulator.waits import Segment, Talking

__all__ = ["Emulator", "Call", "Phone", "Queue", "Conference", "WebhookError", "ACCOUNT_SID", "DEFAULT_NUMBER",
           "new_sid", "prompt_seconds", "Segment", "Talking"]
