"""A Twilio emulator inside the product: calls that follow TwiML, media streams, and the REST API.

The test suite's only Twilio double and the dev phone's engine (docs/dev-phone.md):

- emulator/: the account, its phones, calls, queues and conferences; one event-driven core
  with two drivers, STEPPED (tests: deterministic, virtual time) and LIVE (people: real timers);
  one module per TwiML verb (emulator/verbs/, picked from verbs/table.py). Its __init__ says
  where each part lives.
- media.py: the media-stream side (a real WebSocket client sending Twilio's messages).
- rest.py: twilio-python's HttpClient answered from the emulator's state, every request
  checked against Twilio's OpenAPI spec (the vendored subset in spec/).
- transport.py: how webhooks reach the app (in-process WSGI or HTTP) and how wss:// maps to it.
- twiml.py: TwiML checked against twilio-python's own verb definitions.
"""
