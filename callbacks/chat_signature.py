"""The chat channel's request signature: HMAC-SHA256 over "timestamp.nonce." + body with the integration's secret.

Pure, so the chat webhook (webhooks/chat.py) verifies with it and the dev phone's chat demo signs with it.
"""
from __future__ import annotations

import hashlib
import hmac


def signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.{nonce}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()
