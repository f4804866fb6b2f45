"""The browser dev phone: /dev-phone, two phones (a customer and an agent) on Twilio emulated in this app.

- wiring.py: whether it is on, and the in-process Twilio emulator the running app talks to (REST
  client, webhook token, number, the app's clock); it starts the live driver and hangs up the calls
  of pages nobody watches.
- lines.py: the browser sessions' lines: which calls each sees and may act on, the events it is sent.
- phones.py: what the page's phones do on their calls (call, keys, words, answer, hang up, microphone).
- relay.py: the emulator's events turned into the lines' events.
- agent_phone.py: the agent phone's agents (through agents.services) and the skills the page shows.
- refused.py: what a browser asked that cannot be done.
- http.py: the page, its JSON API, the event stream (SSE) and the microphone WebSocket.

Flask-free below http.py. How the page maps to Twilio's behaviour: docs/dev-phone.md.
"""
