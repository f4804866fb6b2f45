"""/dev-phone: the page, its JSON API, its event stream and the microphone's WebSocket.

Registered only while the dev phone is on (devphone/wiring.py decides), so when it is off every URL
here is a plain 404. Thin: check the request, call the DevPhone's lines and phones (or agents.services
through agent_phone.py), answer JSON (problem+json when refused).

Same-origin only: every unsafe request is JSON (a cross-site form cannot send it without a CORS
preflight we never answer), carries the page's CSRF token in X-CSRFToken, and is refused when the
browser says it came from another site. The WebSocket checks Origin (browsers send it on every
WebSocket handshake and do not apply CORS to them). A browser session may act only on its own
calls: the ones it placed, or that ring its customer number or its agent.
"""
from __future__ import annotations

import json
import re
import secrets
import socket
import subprocess

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, session, \
    stream_with_context, url_for
from flask_sock import Sock
from flask_wtf.csrf import ValidationError, generate_csrf, validate_csrf
from simple_websocket import ConnectionClosed

from devphone import agent_phone
from devphone.lines import Line
from devphone.refused import Refused
from devphone.wiring import DevPhone
from refusals import RequestRefused
from web.bodies import parse_json_object
from web.errors import answers_json
from web.runtime import runtime

devphone = answers_json(Blueprint("devphone", __name__, url_prefix="/dev-phone", template_folder="templates",
                                  static_folder="static", static_url_path="/static"))
sock = Sock()

SESSION_KEY = "devphone_line"
SID = re.compile(r"^CA[0-9a-f]{32}$")
EVENT_WAIT_SECONDS = 5.0  # a beat event this often: a closed tab is noticed, proxies keep the stream open
AGENT_CHECK_SECONDS = 1.0  # how often the stream looks at its agent's state
STREAM_SECONDS = 300.0  # then the browser's EventSource reconnects (with Last-Event-ID: nothing is lost)
MAX_AUDIO_MESSAGE = 1600  # bytes of mu-law per WebSocket message: 200 ms
MAX_LATE_MESSAGES = 500  # 10 s of frames after the call ended, then the server closes the socket
# Caller numbers offered on the page (fictional ranges); any E.164 number can be typed instead.
CALLER_PRESETS = ("+12125550142", "+13125550199", "+31612345678", "+442079460958")


def dev_phone() -> DevPhone:
    return current_app.extensions["devphone"]


def _line(create: bool = False) -> Line:
    key = session.get(SESSION_KEY)
    if not isinstance(key, str) or len(key) != 32:
        if not create:
            abort(403, description="Open /dev-phone first: this browser has no dev phone yet.")
        key = session[SESSION_KEY] = secrets.token_hex(16)
    return dev_phone().lines.line(key)


def _sid(sid: str) -> str:
    if not SID.match(sid):
        abort(404, description="No such call.")
    return sid


def _same_site() -> bool:
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    return origin is None or origin == request.host_url.rstrip("/")


@devphone.before_request
def guard():
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if not _same_site():
        abort(403, description="The dev phone takes requests from its own page only.")
    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except ValidationError:
        abort(400, description="The page's CSRF token is missing or stale: reload /dev-phone.")
    if request.mimetype != "application/json":
        abort(415, description="Send JSON (Content-Type: application/json).")
    return None


def body() -> dict:
    try:
        return parse_json_object(request.get_data(cache=True))
    except RequestRefused as exc:
        raise Refused(f"Send a JSON object: {exc}") from None


@devphone.after_request
def private(response: Response) -> Response:
    if request.endpoint != "devphone.static":
        response.headers["Cache-Control"] = "no-store"
    return response


# ---- the page -------------------------------------------------------------------------------------

@devphone.get("")
@devphone.get("/")
def page():
    _line(create=True)
    rt = runtime()
    phone = dev_phone()
    # Without PUBLIC_BASE_URL the emulator reaches the app at PORT: a page served from another port
    # (`flask run --port ...`) means its webhooks go where no app listens.
    served = request.host.rsplit(":", 1)[-1] if ":" in request.host else ("443" if request.scheme == "https" else "80")
    mismatch = not rt.settings.public_base_url and served != str(rt.settings.port)
    return render_template(
        "devphone/page.html", csrf_token=generate_csrf(), company=rt.ivr_config.company_name,
        emulates_rest=phone.emulates_rest, port_mismatch=mismatch,
        local_base=phone.local_base, speech=bool(rt.speech_languages),
        api=url_for("devphone.setup").rsplit("/", 1)[0])


@devphone.get("/api/setup")
def setup():
    line = _line()
    rt = runtime()
    phone = dev_phone()
    numbers = [{"number": phone.emulator.number, "language": rt.ivr_config.language_for_number(phone.emulator.number)}]
    numbers += [{"number": n, "language": lang} for n, lang in rt.ivr_config.numbers.items()
                if n != phone.emulator.number]
    return jsonify({
        "numbers": numbers, "callers": list(CALLER_PRESETS), "customer": line.customer, "agent_id": line.agent_id,
        "skills": agent_phone.skills_view(rt), "agents": agent_phone.list_agents(rt),
        "speech_languages": sorted(rt.speech_languages), "emulates_rest": phone.emulates_rest,
        "open_every_team": phone.demo_hours.on,
        "supervisor": url_for("supervisor.queue_page") if "supervisor" in current_app.blueprints else None,
    })


@devphone.put("/api/demo-hours")
def demo_hours():
    """The "open every team for this demo" switch: every skill open at any hour while it is on."""
    _line()
    data = body()
    skills = agent_phone.set_demo_hours(runtime(), dev_phone().demo_hours, data.get("open_every_team"))
    return jsonify({"open_every_team": dev_phone().demo_hours.on, "skills": skills})


# ---- the agent phone --------------------------------------------------------------------------------

@devphone.get("/api/agents")
def agents_list():
    _line()
    return jsonify({"agents": agent_phone.list_agents(runtime())})


@devphone.post("/api/agents")
def demo_agent():
    _line()
    agent = agent_phone.add_demo_agent(runtime(), body().get("skill"))
    return jsonify(agent), 201


@devphone.put("/api/agents/<int:agent_id>/state")
def agent_state(agent_id: int):
    line = _line()
    if line.agent_id != agent_id:
        raise Refused("Pick this agent on the agent phone first.", 409)
    return jsonify(agent_phone.set_agent_state(runtime(), agent_id, body().get("state")))


@devphone.post("/api/line")
def set_line():
    """Which number the customer phone is, and which agent the agent phone stands in for."""
    line = _line()
    data = body()
    unknown = set(data) - {"customer", "agent"}
    if unknown:
        raise Refused(f"Unknown fields: {', '.join(sorted(unknown))} (customer, agent).")
    phone = dev_phone()
    customer = data.get("customer")
    agent = None
    if "agent" in data and data["agent"] is not None:
        agent = agent_phone.get_agent(runtime(), data["agent"])
    if customer is not None:
        if not isinstance(customer, str):
            raise Refused("customer must be a phone number such as +12125550142.")
        phone.lines.set_customer(line, customer)
    if "agent" in data:
        phone.lines.set_agent(line, agent["id"] if agent else None, agent["address"] if agent else None)
    # A page back after a restart or a lost connection sends its line again: what rings it meanwhile is its.
    phone.phones.claim_ringing(line)
    return jsonify({"customer": line.customer, "agent_id": line.agent_id})


# ---- calls ------------------------------------------------------------------------------------------

@devphone.post("/api/calls")
def place_call():
    line = _line()
    data = body()
    sid = dev_phone().phones.call(line, data.get("from") if isinstance(data.get("from"), str) else "",
                                  data.get("to") if isinstance(data.get("to"), str) else dev_phone().emulator.number)
    return jsonify({"call_sid": sid}), 201


@devphone.post("/api/texts")
def text():
    """The customer phone sends a text message to the app's number (a signed SMS webhook)."""
    return jsonify({"replies": dev_phone().phones.text(_line(), body().get("body"))}), 201


@devphone.post("/api/chat")
def chat():
    """The chat hand-over demo: a chat bot asks the real chat API for a callback to the customer."""
    answer = dev_phone().phones.chat(_line(), body().get("text"))
    return jsonify(answer), 201 if "message" in answer else 422  # the API's refusal, passed on


@devphone.post("/api/calls/<sid>/keys")
def press(sid: str):
    dev_phone().phones.press(_line(), _sid(sid), body().get("key"))
    return "", 204


@devphone.post("/api/calls/<sid>/prompt-done")
def prompt_done(sid: str):
    done = dev_phone().phones.prompt_done(_line(), _sid(sid), body().get("prompt"))
    return jsonify({"applied": done})


@devphone.post("/api/calls/<sid>/answer")
def answer(sid: str):
    dev_phone().phones.answer(_line(), _sid(sid), body().get("as", "human"))
    return "", 204


@devphone.post("/api/calls/<sid>/hang-up")
def hang_up(sid: str):
    body()
    dev_phone().phones.hang_up(_line(), _sid(sid))
    return "", 204


@devphone.post("/api/calls/<sid>/say")
def say(sid: str):
    from telephony.audio import AudioError

    try:
        dev_phone().phones.say(_line(), _sid(sid), body().get("text"))
    except (AudioError, OSError, subprocess.SubprocessError) as exc:
        raise Refused(f"Could not synthesise the words: {exc}", 503) from None
    return "", 204


@devphone.post("/api/speech")
def speech():
    """A prompt as a WAV (espeak-ng), for browsers without speech-synthesis voices."""
    from telephony.audio import ESPEAK_VOICES, AudioError, synthesise

    _line()
    data = body()
    text, language = data.get("text"), data.get("language") or runtime().ivr_config.default_language
    if not isinstance(text, str) or not text.strip() or len(text) > 2000 or any(ord(c) < 32 for c in text):
        raise Refused("text must be 1 to 2000 characters without control characters.")
    if language not in runtime().ivr_config.languages:
        raise Refused(f"language must be one of {', '.join(runtime().ivr_config.languages)}.")
    try:
        wav = synthesise(text.strip(), ESPEAK_VOICES.get(language, language.split("-")[0].lower()), 160)
    except (AudioError, OSError, subprocess.SubprocessError) as exc:
        raise Refused(f"Could not synthesise the words: {exc}", 503) from None
    return Response(wav, mimetype="audio/wav")


# ---- the event stream -------------------------------------------------------------------------------

@devphone.get("/api/events")
def events():
    line = _line()
    tab = request.args.get("tab", "")
    if not (8 <= len(tab) <= 64 and tab.replace("-", "").isalnum()):
        abort(400, description="tab must name this page (8 to 64 letters, digits and dashes).")
    phone = dev_phone()
    phone.start()
    raw_last = request.headers.get("Last-Event-ID") or ""

    def stream():
        import time

        phone.lines.tune_in(line, tab)
        try:
            yield "retry: 1000\n\n"
            # Event ids are "<this process>.<n>": after a restart the page gets a fresh snapshot.
            epoch, _, number = raw_last.partition(".")
            if epoch == phone.lines.epoch and number.isdigit():
                last = int(number)
            else:
                snapshot = phone.lines.snapshot(line)
                last = snapshot["id"]
                yield f"event: snapshot\nid: {phone.lines.epoch}.{last}\ndata: {json.dumps(snapshot)}\n\n"
            started = beat = time.monotonic()
            agent = None
            while time.monotonic() - started < STREAM_SECONDS and not phone.stopping:
                # The agent phone's agent as the database has it (the dispatcher and call events move
                # it): sent when it changes, so the page never polls.
                now_agent = _agent_of(line)
                if now_agent != agent:
                    agent = now_agent
                    yield f"event: agent\ndata: {json.dumps(agent)}\n\n"
                batch = phone.lines.events_after(line, last, AGENT_CHECK_SECONDS)
                if not batch and time.monotonic() - beat >= EVENT_WAIT_SECONDS:
                    beat = time.monotonic()
                    # An event, not a comment: the page's watchdog sees it, and reconnects without it.
                    yield "event: beat\ndata: {}\n\n"
                for event in batch:
                    last = event["id"]
                    yield f"id: {phone.lines.epoch}.{last}\ndata: {json.dumps(event)}\n\n"
        finally:
            phone.lines.tune_out(line)

    return Response(stream_with_context(stream()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _agent_of(line: Line) -> dict | None:
    if line.agent_id is None:
        return None
    try:
        return agent_phone.get_agent(runtime(), line.agent_id)
    except Refused:  # removed meanwhile
        return None


# ---- the microphone ---------------------------------------------------------------------------------

@sock.route("/api/calls/<sid>/audio", bp=devphone)
def microphone(ws, sid: str):
    """Binary messages of 8 kHz mu-law from the page's microphone, handed to the emulator, whose media
    streams carry them to /media in Twilio's 20 ms frames."""
    try:
        _listen(ws, sid)
    finally:
        # Werkzeug's development server writes an HTTP response after the handler returns; on a
        # socket that carried WebSocket frames a browser reports it as an invalid frame. The
        # closing handshake is done: end the connection before that happens.
        try:
            ws.close()
        except ConnectionClosed:  # the page closed it first
            pass
        try:
            request.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
        except (KeyError, OSError):  # another server, or gone already
            pass


def _listen(ws, sid: str) -> None:
    if request.headers.get("Origin") != request.host_url.rstrip("/") or not SID.match(sid):
        ws.close(reason=1008, message="The dev phone's microphone takes its own page only.")
        return
    key = session.get(SESSION_KEY)
    if not isinstance(key, str):
        ws.close(reason=1008, message="Open /dev-phone first.")
        return
    phone = dev_phone()
    line = phone.lines.line(key)
    try:
        phone.phones.audio(line, sid, b"")
    except Refused as exc:
        ws.close(reason=1008, message=str(exc)[:120])
        return
    late = 0  # frames after the call ended: the page closes its microphone once it hears so
    while late < MAX_LATE_MESSAGES:
        message = ws.receive(timeout=30)
        if message is None:  # a muted microphone sends nothing
            late += MAX_LATE_MESSAGES if _ended(phone, line, sid) else 0
            continue
        if isinstance(message, str) or len(message) > MAX_AUDIO_MESSAGE:
            ws.close(reason=1003, message="Send binary 8 kHz mu-law, at most 200 ms a message.")
            return
        try:
            phone.phones.audio(line, sid, bytes(message))
        except Refused:
            late += 1
    ws.close(reason=1000, message="The call has ended.")


def _ended(phone: DevPhone, line: Line, sid: str) -> bool:
    try:
        phone.phones.audio(line, sid, b"")
        return False
    except Refused:
        return True


def install(app, runtime, dev_phone_: DevPhone) -> None:
    """Register /dev-phone on an app whose dev phone is on (when it is off nothing is registered: 404)."""
    dev_phone_.runtime = runtime
    # The chat hand-over demo is a chat integration of its own (webhooks/chat.py), with a made-up secret.
    from devphone.phones import CHAT_INTEGRATION

    app.config["CHAT_SECRETS"] = {**(app.config.get("CHAT_SECRETS") or {}), CHAT_INTEGRATION: dev_phone_.chat_secret}
    app.extensions["devphone"] = dev_phone_
    # A message larger than this closes the microphone's socket before it is buffered whole (the audio
    # messages themselves are bounded by MAX_AUDIO_MESSAGE once read).
    app.config.setdefault("SOCK_SERVER_OPTIONS", {"max_message_size": 64 * 1024})
    app.register_blueprint(devphone)
