"""The one way a JSON endpoint refuses: an RFC 9457 problem+json body a person can act on."""
from __future__ import annotations

from flask import Response, jsonify


def problem(status: int, title: str, detail: str, **extra) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response
