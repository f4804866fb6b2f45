"""The public callback API: /api/callbacks (book, read, cancel), the web button's form data, and the
OpenAPI description at /api/openapi.json. Thin: parse, check origin/token, call callbacks.requests.

Browsers (any request with an Origin header, and every channel=web request) must come from an
allow-listed origin (CALLBACK_WIDGET_ORIGINS, plus this app's own) and carry a form token fetched
from GET /api/callback-form; server-to-server clients send neither. See docs/public-api.md.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.exceptions import RequestEntityTooLarge

from callbacks import idempotency
from callbacks import requests as callback_requests
from callbacks.waiting import closed_for, closed_now, waiting_path
from phone_numbers import dialling_codes
from callbacks import channels
from refusals import RequestRefused
from storage.db import retry_on_conflict, transaction
from storage.models import QueueEntry
from web.bodies import parse_json_object
from web.limits import (TOO_MANY, TOO_MANY_FOR_NUMBER, limiter, number_in_json, per_ip, per_number, status_per_ip,
                             when_accepted)
from web.problems import problem
from web.runtime import runtime
from webhooks.security import public_base

api = Blueprint("callbacks_api", __name__, url_prefix="/api")

FORM_TOKEN_SALT = "callback-form"
# A visitor may leave the form open a while; after this the widget fetches a fresh token.
FORM_TOKEN_MAX_AGE = 2 * 60 * 60
PUBLIC_ID = r"^[0-9a-f]{32}$"


# ---- helpers ---------------------------------------------------------------------------------------

@api.errorhandler(RequestEntityTooLarge)
def too_large(exc):
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return problem(413, "Content too large", f"the body is larger than {limit // 1024} KiB; shorten the chat "
                   "transcript or other long fields", code="too_large")


def own_origins() -> set[str]:
    origins = {request.host_url.rstrip("/")}
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        parts = urlsplit(base)
        origins.add(f"{parts.scheme}://{parts.netloc}")
    return origins


def allowed_origins() -> set[str]:
    return own_origins() | set(current_app.config.get("CALLBACK_WIDGET_ORIGINS", ()))


def origin_allowed(origin: str | None) -> bool:
    return bool(origin) and origin.rstrip("/") in allowed_origins()


def form_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=FORM_TOKEN_SALT)


def check_browser(body: dict) -> None:
    """Browsers must come from an allowed origin with a form token issued to that origin."""
    origin = request.headers.get("Origin")
    if origin is None and body.get("channel") != "web":
        return
    if origin is not None and not origin_allowed(origin):
        raise RequestRefused(f"requests from {origin} are not allowed; add it to CALLBACK_WIDGET_ORIGINS",
                             code="origin_not_allowed", status=403)
    token = body.get("form_token")
    if not isinstance(token, str) or not token:
        raise RequestRefused("form_token is required for requests from a web page; fetch GET /api/callback-form",
                             field="/form_token", code="form_token_missing", status=403)
    try:
        claims = form_serializer().loads(token, max_age=FORM_TOKEN_MAX_AGE)
    except SignatureExpired:
        raise RequestRefused("the form has expired; reload it and try again", field="/form_token",
                             code="form_token_expired", status=403) from None
    except BadSignature:
        raise RequestRefused("form_token is not valid", field="/form_token", code="form_token_invalid",
                             status=403) from None
    if origin is not None and claims.get("origin") != origin.rstrip("/"):
        raise RequestRefused("form_token was issued to another site", field="/form_token",
                             code="form_token_invalid", status=403)


def read_json() -> dict:
    """The body as a JSON object, or a precise 4xx (web/bodies.py says what is refused)."""
    if not request.mimetype or request.mimetype != "application/json":
        raise RequestRefused("send the body as JSON with Content-Type: application/json", code="media_type",
                             status=415)
    return parse_json_object(request.get_data(cache=True))


def iso_utc(when: datetime | None) -> str | None:
    return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if when else None


def callback_view(entry: QueueEntry, *, position: int | None, wait: int | None, token: str | None,
                  created: bool, window: dict | None = None) -> dict:
    zone = entry.customer_timezone
    local = None
    if entry.scheduled_for and zone:
        local = entry.scheduled_for.astimezone(callback_requests.zone_named(zone)).strftime("%Y-%m-%dT%H:%M")
    view = {
        "id": entry.public_id,
        "created": created,
        "state": entry.state,
        "skill": entry.skill,
        "channel": entry.channel,
        "language": entry.language,
        "position": position,
        "estimated_wait_seconds": wait,
        "scheduled_for": iso_utc(entry.scheduled_for),
        "scheduled_for_local": local,
        "timezone": zone,
        "requested_at": iso_utc(entry.arrived_at),
        # The window the customer was told (UTC ends, local ends and words in the zone it was told in).
        "window": {**window, "from": iso_utc(window["from"]), "by": iso_utc(window["by"]),
                   "told_at": iso_utc(entry.promised_at),
                   "moved": int((entry.context or {}).get("windows_moved", 0))} if window else None,
    }
    if token:
        view["status_url"] = f"{public_base()}/api/callbacks/{entry.public_id}?token={token}"
        view["waiting_url"] = public_base() + waiting_path(entry.public_id, token)
    return view


@retry_on_conflict
def book(body: dict, caller: callback_requests.Caller, key: str | None = None) -> tuple[dict, int, bool]:
    """Book through the domain service in one transaction; (view, 201|200, replayed). With an
    Idempotency-Key seen before (and the same body), the first answer again (callbacks/idempotency.py)."""
    rt = runtime()
    now = rt.clock.now()
    with transaction(rt.sessions) as session:
        first = idempotency.claim(session, key, body, now) if key else None
        if isinstance(first, idempotency.FirstAnswer):
            entry = callback_requests.find_by_public_id(session, first.public_id)
            position, wait = callback_requests.place_in_line(session, rt.ivr_config, entry, now)
            view = callback_view(entry, position=position, wait=wait, token=first.status_token,
                                 created=first.status == 201,
                                 window=callback_requests.window_view(rt.ivr_config, entry, now))
            return view, first.status, True
        outcome = callback_requests.request_callback(
            session, rt.ivr_config, body, now=now, allowed_countries=rt.settings.allowed_countries,
            caller=caller)
        status = 201 if outcome.created else 200
        view = callback_view(outcome.entry, position=outcome.position, wait=outcome.estimated_wait_seconds,
                             token=outcome.status_token, created=outcome.created,
                             window=callback_requests.window_view(rt.ivr_config, outcome.entry, now))
        if first is not None:
            idempotency.record(key, first, idempotency.FirstAnswer(status, outcome.entry.public_id,
                                                                   outcome.status_token))
    return view, status, False


# ---- CORS for the embedded button -------------------------------------------------------------------

@api.after_request
def cors(response: Response) -> Response:
    origin = request.headers.get("Origin")
    if origin and origin_allowed(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"
    response.vary.add("Origin")
    return response


# ---- endpoints ---------------------------------------------------------------------------------------

@api.post("/callbacks")
@limiter.limit(per_ip, error_message=TOO_MANY)
@limiter.limit(per_number, key_func=number_in_json, error_message=TOO_MANY_FOR_NUMBER,
               deduct_when=when_accepted)
def create_callback():
    body = read_json()
    check_browser(body)
    channel = body.get("channel") if body.get("channel") in channels.REQUESTED else "api"
    key = idempotency.checked_key(request.headers.get("Idempotency-Key"))
    view, status, replayed = book(body, callback_requests.Caller(channel=channel), key)
    response = jsonify(view)
    response.status_code = status
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    if status == 201:
        response.headers["Location"] = view["status_url"]
    return response


def token_arg() -> str:
    token = request.args.get("token", "")
    if not token:
        raise RequestRefused("the status link needs its ?token=", field="token", code="token_missing", status=404)
    return token


@api.get("/callbacks/<public_id>")
@limiter.limit(status_per_ip, error_message=TOO_MANY)
def callback_status(public_id: str):
    rt = runtime()
    with transaction(rt.sessions) as session:
        entry = callback_requests.find_by_token(session, public_id, token_arg())
        position, wait = callback_requests.place_in_line(session, rt.ivr_config, entry, rt.clock.now())
        view = callback_view(entry, position=position, wait=wait, token=None, created=False,
                             window=callback_requests.window_view(rt.ivr_config, entry, rt.clock.now()))
        # While the team is closed: that it is, and when it opens (the button and the waiting page show it).
        view["closed_text"] = closed_for(rt.ivr_config, entry, now=rt.clock.now())
    return jsonify(view)


@api.delete("/callbacks/<public_id>")
@api.post("/callbacks/<public_id>/cancel")
@limiter.limit(status_per_ip, error_message=TOO_MANY)
def cancel_callback(public_id: str):
    rt = runtime()
    with transaction(rt.sessions) as session:
        entry = callback_requests.cancel(session, public_id, token_arg(), now=rt.clock.now())
        view = callback_view(entry, position=None, wait=None, token=None, created=False)
    rt.hang_up_cancelled(entry.id)
    return jsonify(view)


@api.get("/callback-form")
@limiter.limit(status_per_ip, error_message=TOO_MANY)
def form_data():
    """What the web button needs: a form token for this origin, the skills, and open time slots."""
    rt = runtime()
    config = rt.ivr_config
    origin = request.headers.get("Origin")
    if origin is not None and not origin_allowed(origin):
        raise RequestRefused(f"requests from {origin} are not allowed; add it to CALLBACK_WIDGET_ORIGINS",
                             code="origin_not_allowed", status=403)
    language = request.args.get("language", config.default_language)
    if language not in config.languages:
        raise RequestRefused(f"language must be one of: {', '.join(config.languages)}", field="language",
                             code="not_allowed")
    skill = request.args.get("skill", config.fallback_skill.name)
    if skill not in config.skills:
        raise RequestRefused(f"skill must be one of: {', '.join(sorted(config.skills))}", field="skill",
                             code="not_allowed")
    zone_name = request.args.get("timezone", config.skills[skill].timezone.key)
    zone = callback_requests.zone_named(zone_name, field="timezone")
    now = rt.clock.now()
    with rt.sessions() as session:  # full slots are not offered
        slots = callback_requests.open_slots(config, skill, zone, now, session=session)
        preview = callback_requests.asap_preview(session, config, skill, language, zone, now)
    # Browsers send no Origin on a same-origin GET: such a token belongs to this app's own pages.
    token = form_serializer().dumps({"origin": (origin or request.host_url).rstrip("/")})
    return jsonify({
        "form_token": token,
        "expires_in": FORM_TOKEN_MAX_AGE,
        "language": language,
        "languages": config.languages,
        "skill": skill,
        "skills": [{"name": s.name, "label": s.label_in(language)} for s in config.skills.values()],
        "countries": dialling_codes(rt.settings.allowed_countries),
        "timezone": zone.key,
        "open_now": bool(slots) and callback_requests.hours.is_open(config.skills[skill], now),
        # While the team is closed: that it is, and when it opens, in the visitor's zone (as the phone says it).
        "closed_text": closed_now(config, skill, language, zone, now),
        **preview,
        "slots": [{"value": s.strftime("%Y-%m-%dT%H:%M"), "date": s.strftime("%Y-%m-%d"),
                   "time": s.strftime("%H:%M")} for s in slots],
    })


@api.get("/openapi.json")
def openapi():
    return jsonify(openapi_description())


# ---- OpenAPI -----------------------------------------------------------------------------------------

def openapi_description() -> dict:
    config = runtime().ivr_config
    states = ["queued", "scheduled", "retry_wait", "dialing_agent", "dialing_customer", "connected", "completed",
              "failed", "cancelled"]
    nullable_int = {"type": ["integer", "null"], "minimum": 0}
    problem_ref = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    callback_ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Callback"}}}

    def errors(*codes: int) -> dict:
        words = {400: "Malformed request (control characters, not JSON) or automated request", 403: "Origin or form token refused",
                 404: "No callback matches this link", 409: "The callback is finished and cannot change",
                 413: "Body too large", 415: "Body is not JSON", 422: "A field is invalid (see `field`)",
                 429: "Too many requests; see Retry-After"}
        return {str(c): {"description": words[c], "content": problem_ref} for c in codes}

    id_param = {"name": "public_id", "in": "path", "required": True,
                "schema": {"type": "string", "pattern": PUBLIC_ID}}
    token_param = {"name": "token", "in": "query", "required": True, "schema": {"type": "string", "minLength": 1},
                   "description": "The secret from the status_url returned at booking."}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{config.company_name} callback API",
            "version": "1.0.0",
            "description": "Ask for a callback from the web, a chat bot or your own system. Web callbacks join "
                           "the same line as phone callers, ordered by request time. See docs/public-api.md.",
        },
        "servers": [{"url": public_base()}],
        "paths": {
            "/api/callbacks": {
                "post": {
                    "operationId": "requestCallback",
                    "summary": "Book a callback (or get the open one this number already has for the skill)",
                    "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                                    "description": "16-128 of A-Z a-z 0-9 _.:- chosen at random; the same key "
                                                   "and body within 24 hours answers the first answer again",
                                    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{16,128}$"}}],
                    "requestBody": {"required": True, "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/CallbackRequest"}}}},
                    "responses": {
                        "201": {"description": "Booked; status_url is the only way to read or cancel it",
                                "content": callback_ref,
                                "headers": {"Location": {"schema": {"type": "string"}}}},
                        "200": {"description": "This number already has an open callback for the skill",
                                "content": callback_ref},
                        **errors(400, 403, 413, 415, 422, 429),
                        "409": {"description": "The preferred_time is fully booked (`code` full); `next_free` "
                                               "names the next free times", "content": problem_ref},
                    },
                },
            },
            "/api/callbacks/{public_id}": {
                "parameters": [id_param, token_param],
                "get": {"operationId": "getCallback", "summary": "State, position and estimated wait",
                        "responses": {"200": {"description": "The callback", "content": callback_ref},
                                      **errors(400, 404, 429)}},
                "delete": {"operationId": "cancelCallback", "summary": "Cancel the callback",
                           "responses": {"200": {"description": "Cancelled", "content": callback_ref},
                                         **errors(400, 404, 409, 429)}},
            },
            "/api/callbacks/{public_id}/cancel": {
                "parameters": [id_param, token_param],
                "post": {"operationId": "cancelCallbackPost", "summary": "Cancel (for clients that cannot DELETE)",
                         "responses": {"200": {"description": "Cancelled", "content": callback_ref},
                                       **errors(400, 404, 409, 429)}},
            },
            "/api/callback-form": {
                "get": {
                    "operationId": "callbackForm",
                    "summary": "Form token, skills and open time slots for the web button",
                    "parameters": [
                        {"name": "language", "in": "query", "schema": {"type": "string", "enum": config.languages}},
                        {"name": "skill", "in": "query", "schema": {"type": "string", "enum": sorted(config.skills)}},
                        {"name": "timezone", "in": "query", "schema": {"type": "string", "maxLength": 64}},
                    ],
                    "responses": {"200": {"description": "Form data", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Form"}}}}, **errors(400, 403, 422, 429)},
                },
            },
        },
        "components": {"schemas": {
            "CallbackRequest": callback_requests.request_schema(config),
            "Callback": {
                "type": "object",
                "required": ["id", "created", "state", "skill", "channel", "language", "position",
                             "estimated_wait_seconds", "scheduled_for", "scheduled_for_local", "timezone",
                             "requested_at"],
                "properties": {
                    "id": {"type": "string", "pattern": PUBLIC_ID},
                    "created": {"type": "boolean"},
                    "state": {"type": "string", "enum": states},
                    "skill": {"type": "string"},
                    "channel": {"type": "string", "enum": list(channels.BY_NAME)},
                    "language": {"type": "string"},
                    "position": {**nullable_int, "description": "1 = next; null while scheduled or being called"},
                    "estimated_wait_seconds": nullable_int,
                    "scheduled_for": {"type": ["string", "null"], "format": "date-time"},
                    "scheduled_for_local": {"type": ["string", "null"]},
                    "timezone": {"type": ["string", "null"]},
                    "requested_at": {"type": "string", "format": "date-time"},
                    "window": {"type": ["object", "null"], "description": "The window the customer was told",
                               "properties": {"from": {"type": "string", "format": "date-time"},
                                              "by": {"type": "string", "format": "date-time"},
                                              "from_local": {"type": "string"}, "by_local": {"type": "string"},
                                              "timezone": {"type": "string"}, "text": {"type": "string"},
                                              "told_at": {"type": ["string", "null"], "format": "date-time"},
                                              "moved": {"type": "integer"}}},
                    "status_url": {"type": "string", "format": "uri",
                                   "description": "Only in the 201 answer: read (GET) or cancel (DELETE) here"},
                    "closed_text": {"type": ["string", "null"],
                                    "description": "Only when read (GET): while the team is closed, that it is "
                                                   "and when it opens"},
                    "waiting_url": {"type": "string", "format": "uri",
                                    "description": "Only in the 201 answer: the customer's waiting page (place, "
                                                   "window, cancel, move to a later slot)"},
                },
            },
            "Form": {
                "type": "object",
                "required": ["form_token", "expires_in", "skills", "slots", "timezone"],
                "properties": {
                    "form_token": {"type": "string"}, "expires_in": {"type": "integer"},
                    "language": {"type": "string"}, "languages": {"type": "array", "items": {"type": "string"}},
                    "skill": {"type": "string"}, "timezone": {"type": "string"}, "open_now": {"type": "boolean"},
                    "asap_now": {"type": "boolean", "description": "a staffed agent can call back today"},
                    "closed_text": {"type": ["string", "null"],
                                    "description": "while the team is closed: that it is and when it opens"},
                    "asap_window": {"type": ["string", "null"],
                                    "description": "the window an ASAP callback booked now would be told"},
                    "skills": {"type": "array", "items": {"type": "object", "properties": {
                        "name": {"type": "string"}, "label": {"type": "string"}}}},
                    "countries": {"type": "array", "items": {"type": "object", "properties": {
                        "code": {"type": "string"}, "dial": {"type": "string"}}}},
                    "slots": {"type": "array", "items": {"type": "object", "properties": {
                        "value": {"type": "string"}, "date": {"type": "string"}, "time": {"type": "string"}}}},
                },
            },
            "Problem": {
                "type": "object",
                "required": ["title", "status", "detail"],
                "properties": {
                    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "field": {"type": "string", "description": "JSON pointer of the field at fault"},
                    "code": {"type": "string", "description": "Stable machine-readable reason"},
                    "next_free": {"type": "array", "items": {"type": "string"},
                                  "description": "With code full: the next free times (YYYY-MM-DDTHH:MM, in `timezone`)"},
                    "timezone": {"type": "string", "description": "With next_free: the IANA zone of its times"},
                },
            },
        }},
    }


def init_api(app) -> None:
    """Origins allowed to embed the button, from the environment (comma-separated)."""
    raw = os.environ.get("CALLBACK_WIDGET_ORIGINS", "")
    app.config.setdefault("CALLBACK_WIDGET_ORIGINS",
                          tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip()))
