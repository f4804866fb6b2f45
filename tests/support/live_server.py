"""The real app served over real HTTP on a free loopback port, for browsers and WebSocket clients
(the product's helper: telephony/transport.py)."""
from telephony.transport import serve

__all__ = ["serve"]
