"""What a callback request from the web, a chat bot or an API client may contain, as JSON Schema.

The same schemas are published in the OpenAPI description (webhooks/api.py), so what the docs
promise and what the server accepts cannot drift apart. `validate()` reports the first problem
with the field it concerns (a JSON pointer such as /context/page_url) and a sentence a person can
act on; nothing is written for a request that fails here.
"""
from __future__ import annotations

from typing import Any, Iterable

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from callbacks import channels
from refusals import RequestRefused
from storage.text import FREE_TEXT_PATTERN

CHANNELS = channels.REQUESTED  # callbacks/channels.py declares them
# Wall-clock time without an offset ("2026-11-25T14:30"); the zone comes from `timezone`.
LOCAL_TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$"
# Long enough for a real chat, well under the 64 KiB body limit (web/errors.py MAX_BODY_BYTES).
MAX_TRANSCRIPT = 20_000

# The keys stored in QueueEntry.context for web/chat/SMS/API callbacks (docs/public-api.md).
CONTEXT_KEYS = ("page_url", "chat_transcript", "customer_reference", "integration")


# No control characters except tab, newline and carriage return (storage.text: the one rule for text).
PRINTABLE = FREE_TEXT_PATTERN


def _text(max_length: int, *, min_length: int = 0, description: str = "") -> dict:
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length, "pattern": PRINTABLE}
    if min_length:
        schema["minLength"] = min_length
    if description:
        schema["description"] = description
    return schema


CONTEXT_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "description": "What the customer was doing, shown to the agent so they never repeat themselves.",
    "properties": {
        "page_url": {**_text(2000, description="The page the request came from (http or https)."),
                     "pattern": "^https?://[^\\s\\x00-\\x1f\\x7f]+$"},
        "chat_transcript": _text(MAX_TRANSCRIPT, description="The chat so far, as plain text."),
        "customer_reference": _text(120, description="Your reference for the customer (account or ticket)."),
    },
}


def callback_request_schema(skills: Iterable[str], languages: Iterable[str]) -> dict:
    """The body of POST /api/callbacks for this installation's skills and languages."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["phone"],
        "properties": {
            "phone": _text(32, min_length=1, description="Number to call, with country code (+31 20 123 4567)."),
            "name": _text(120, description="How the agent should address the customer."),
            "skill": {"type": "string", "enum": sorted(skills), "description": "The team to call back from."},
            "reason": _text(500, description="Free text; mapped to a skill when `skill` is not given."),
            "when": {"type": "string", "enum": ["asap", "scheduled"], "default": "asap",
                     "description": "asap: in turn, as soon as possible; scheduled: at preferred_time."},
            "preferred_time": {"type": "string", "pattern": LOCAL_TIME_PATTERN,
                               "description": "Local wall-clock time in `timezone`, e.g. 2026-11-25T14:30."},
            "timezone": _text(64, min_length=1, description="IANA time zone of preferred_time, e.g. Europe/Amsterdam."),
            "language": {"type": "string", "enum": list(languages)},
            "channel": {"type": "string", "enum": list(CHANNELS), "default": "api"},
            "context": CONTEXT_SCHEMA,
            # Widget-only: the signed form token and the honeypot field a person never sees.
            "form_token": _text(400, description="Token from GET /api/callback-form (browsers only)."),
            "website": _text(200, description="Leave empty. Anything here marks the request as automated."),
        },
    }


def chat_request_schema(skills: Iterable[str], languages: Iterable[str]) -> dict:
    """The body a chat bot posts to /webhooks/chat/callback."""
    message = {
        "type": "object",
        "additionalProperties": False,
        "required": ["text"],
        "properties": {"from": _text(40), "text": _text(4000), "at": _text(40)},
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["phone"],
        "properties": {
            "phone": _text(32, min_length=1),
            "name": _text(120),
            "skill": {"type": "string", "enum": sorted(skills)},
            "reason": _text(500),
            "preferred_time": {"type": "string", "pattern": LOCAL_TIME_PATTERN},
            "timezone": _text(64, min_length=1),
            "language": {"type": "string", "enum": list(languages)},
            "customer_reference": _text(120),
            "transcript": {"oneOf": [_text(MAX_TRANSCRIPT), {"type": "array", "maxItems": 200, "items": message}]},
        },
    }


def _pointer(error: ValidationError) -> str:
    return "/" + "/".join(str(part) for part in error.absolute_path)


def _explain(error: ValidationError) -> RequestRefused:
    field = _pointer(error)
    name = field.rsplit("/", 1)[-1] or "body"
    kind = error.validator
    if kind == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        where = f" in {field}" if field != "/" else ""
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        return RequestRefused(f"unknown field {', '.join(extra)}{where}; allowed: {allowed}",
                              field=f"{field.rstrip('/')}/{extra[0]}" if extra else field, code="unknown_field")
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return RequestRefused(f"{missing} is required", field=f"{field.rstrip('/')}/{missing}", code="missing")
    if kind == "type":
        wanted = error.validator_value if isinstance(error.validator_value, str) else " or ".join(error.validator_value)
        return RequestRefused(f"{name} must be a{'n' if wanted[0] in 'aeiou' else ''} {wanted}", field=field,
                              code="wrong_type")
    if kind == "enum":
        return RequestRefused(f"{name} must be one of: {', '.join(map(str, error.validator_value))}", field=field,
                              code="not_allowed")
    if kind == "maxLength":
        return RequestRefused(f"{name} is too long (at most {error.validator_value} characters)", field=field,
                              code="too_long")
    if kind == "minLength":
        return RequestRefused(f"{name} must not be empty", field=field, code="missing")
    if kind == "maxItems":
        return RequestRefused(f"{name} has too many items (at most {error.validator_value})", field=field,
                              code="too_long")
    if kind == "pattern":
        if error.validator_value == PRINTABLE:
            return RequestRefused(f"{name} contains control characters", field=field, code="format")
        if name == "page_url":
            return RequestRefused("page_url must be an http(s) URL", field=field, code="format")
        return RequestRefused(f"{name} must look like 2026-11-25T14:30 (local time, no offset)", field=field,
                              code="format")
    if kind in ("oneOf", "anyOf") and error.context:
        # Report inside the alternative that got furthest (e.g. /transcript/0/text), if any did.
        deepest = max(error.context, key=lambda e: len(e.absolute_path))
        if len(deepest.absolute_path) > len(error.absolute_path):
            return _explain(deepest)
    if kind == "oneOf":
        return RequestRefused(f"{name} must be text or a list of {{from, text}} messages", field=field,
                              code="wrong_type")
    return RequestRefused(f"{name}: {error.message}", field=field)


def chat_message_schema() -> dict:
    """The body a chat bot posts to /webhooks/chat/message: one text from a customer, answered as an SMS is."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["phone", "text"],
        "properties": {"phone": _text(32, min_length=1), "text": _text(1600, min_length=1)},
    }


def validate(body: Any, schema: dict) -> dict:
    """`body` if it matches `schema`; else RequestRefused about the first (shallowest) problem."""
    errors = sorted(Draft202012Validator(schema).iter_errors(body),
                    key=lambda e: (len(e.absolute_path), str(list(e.absolute_path)), e.validator))
    if errors:
        raise _explain(errors[0])
    return body
