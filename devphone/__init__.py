"""The browser dev phone: /dev-phone, two phones (a customer and an agent) on Twilio emulated in this app.

- wiring.py: whether it is on, the in-process Twilio emulator the running app talks to (REST client,
  webhook token, number), and the browser phones' lines: which calls each browser session sees
  and may act on, and the events it is sent.
- http.py: the page, its JSON API, the event stream (SSE) and the microphone WebSocket.

Flask-free below http.py. How the page maps to Twilio's behaviour: docs/dev-phone.md.
"""
