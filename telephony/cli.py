"""`ivr devphone call ...` (in the checkout also `flask devphone call ...`): ring this app's IVR
in-process through the Twilio emulator and print the call.

  ivr devphone call --from +31612345678 --press 1 --say "my internet is down" --wait --press 1

Steps run in the order given: --press DIGITS (keys after the prompts; with --barge-in before it, while
the prompt plays), --say TEXT (spoken by espeak-ng, phone band, over the media stream), --audio
FILE.wav (a recording as the answer), --wait (do nothing: the timeout runs), --hang-up. Webhooks are
signed with the app's TWILIO_AUTH_TOKEN, or with a token made up for this run when it is unset; the
app's Twilio REST client is pointed at the emulator for the run, so nothing reaches Twilio.
"""
from __future__ import annotations

import secrets
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

STEPS = {"--press": True, "--say": True, "--audio": True, "--wait": False, "--hang-up": False, "--barge-in": False}


def parse_steps(args: list[str]) -> list[tuple[str, str | None, bool]]:
    """[(step, value, barge_in)] from the raw step arguments, in order."""
    steps, barge_in, i = [], False, 0
    while i < len(args):
        name = args[i]
        if "=" in name and name.split("=", 1)[0] in STEPS:
            name, value = name.split("=", 1)
            args = args[:i] + [name, value] + args[i + 1:]
        if name not in STEPS:
            raise click.UsageError(f"unknown step {name!r}; steps: {', '.join(STEPS)}")
        if name == "--barge-in":
            barge_in = True
            i += 1
            continue
        value = None
        if STEPS[name]:
            if i + 1 >= len(args):
                raise click.UsageError(f"{name} needs a value")
            value = args[i + 1]
            i += 1
        if name == "--press" and not all(c in "0123456789*#" for c in value):
            raise click.UsageError(f"--press takes keys 0-9, * and #, not {value!r}")
        steps.append((name[2:], value, barge_in))
        barge_in = False
        i += 1
    return steps


class Printer:
    """Turns a call's log into lines a person reads."""

    LABELS = {"heard": "IVR says", "played": "IVR plays", "said": "caller says", "keyed, lost": "key lost",
              "prompt cut": "prompt cut off", "enqueued": "waiting in queue", "left queue": "left the queue",
              "dialling": "IVR dials", "joined conference": "in conference", "dequeued by": "connected to an agent",
              "call ended": "call ended", "said, nobody listening": "caller says (nobody listening)",
              "no input": "no key pressed", "moved on by the app": "the IVR moved the call on",
              "answering machine detection": "answering machine detection", "invalid TwiML": "TwiML refused"}
    QUIET = {"stream started", "stream stopped", "stream closed by the app", "stream connected", "gathered",
             "end of document", "ringing", "answered", "ignored", "ended by the app", "dial ended"}

    def __init__(self, echo=click.echo):
        self.echo = echo
        self.done = 0

    def flush(self, call) -> None:
        keys = ""
        for what, detail in call.log[self.done:]:
            if what == "keyed":
                keys += detail
                continue
            if keys:
                self.echo(f"  caller keys: {keys}")
                keys = ""
            if what in self.QUIET:
                continue
            label = self.LABELS.get(what, what)
            if what == "said":
                detail = f'"{detail}"'
            if what == "keyed, lost":
                detail = f"{detail} (pressed while a prompt played outside a Gather: Twilio drops it)"
            if what == "moved on by the app":
                detail = detail.split("?", 1)[0].rsplit("/", 2)[-2:]
                detail = "/".join(detail)
            self.echo(f"  {label}: {detail}" if detail else f"  {label}")
        if keys:
            self.echo(f"  caller keys: {keys}")
        self.done = len(call.log)


def describe_outcome(app, call_sid: str, echo=click.echo) -> None:
    """What the IVR recorded for this call: its path (keys, words heard, meaning) and the queue entry."""
    from storage.models import Call as CallRow
    from storage.models import QueueEntry

    rt = app.extensions["ivr"]
    with rt.sessions() as session:
        row = session.get(CallRow, call_sid)
        if row is None:
            echo("The IVR has no record of this call.")
            return
        path = (row.scratch or {}).get("path") or (row.scratch or {}).get("heard") or []
        echo("What the IVR recognised and decided:")
        if not path:
            echo("  (nothing recorded)")
        for step in path:
            if step.get("keys"):
                got = f"keyed {step['keys']}"
            elif step.get("said") or step.get("transcript"):
                confidence = step.get("confidence")
                got = f'heard "{step.get("said") or step.get("transcript")}"' + \
                    (f" (confidence {confidence:.2f})" if isinstance(confidence, (int, float)) else "")
            else:
                got = "nothing"
            meaning = f" -> {step['meaning']}" if step.get("meaning") else ""
            echo(f"  {step.get('step', '?')}: {got}{meaning}")
        if row.skill:
            echo(f"  skill: {row.skill}")
        if row.entry_id:
            entry = session.get(QueueEntry, row.entry_id)
            if entry is not None:
                when = f", for {entry.scheduled_for.isoformat()}" if entry.scheduled_for else ""
                echo(f"  queue entry: {entry.kind} for {entry.skill}, {entry.state}{when}")


@click.group("devphone")
def devphone_cli():
    """Call this app's IVR through the built-in Twilio emulator (no Twilio account needed)."""


@devphone_cli.command("call", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": True})
@click.option("--from", "from_number", default="+12125550142", show_default=True, help="The caller's number.")
@click.option("--to", "to_number", default=None, help="The number called (default: TWILIO_NUMBER, or the emulator's).")
@click.argument("steps", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def call_command(from_number: str, to_number: str | None, steps: tuple[str, ...]):
    """Ring the IVR and run STEPS in order: --press DIGITS, --say TEXT, --audio FILE.wav, --wait,
    --hang-up; --barge-in before a step makes it happen while the prompt plays."""
    plan = parse_steps(list(steps))
    sys.exit(run_call(current_app._get_current_object(), from_number, to_number, plan))


def run_call(app, from_number: str, to_number: str | None, plan, echo=click.echo) -> int:
    from telephony.audio import AudioError
    from telephony.emulator import Emulator
    from telephony.transport import WsgiTransport

    rt = app.extensions["ivr"]
    # Without a public URL the app accepts Twilio's signatures for the address it serves, from this
    # machine (webhooks/security.py): sign for that address.
    base = (app.config.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{rt.settings.port}").rstrip("/")
    token = app.config.get("TWILIO_AUTH_TOKEN")
    saved_token, saved_base = token, app.config.get("PUBLIC_BASE_URL")
    # For this run the app is reached at `base` (its media streams through a loopback server on another
    # port): it checks signatures against that URL, as behind a tunnel with PUBLIC_BASE_URL set.
    app.config["PUBLIC_BASE_URL"] = base
    if not token:
        token = secrets.token_hex(16)  # this run only: the app checks signatures with it
        app.config["TWILIO_AUTH_TOKEN"] = token
    number = to_number or rt.settings.twilio_number or "+15005550006"
    emulator = Emulator(token, base, transport=WsgiTransport(app, base), clock=rt.clock.now, number=number,
                        account_sid=rt.settings.twilio_account_sid or "AC" + "0" * 32, strict=False)
    saved_client, dispatcher = rt.twilio, rt.extras.get("dispatcher")
    saved_dialer = dispatcher.dialer.client if dispatcher is not None else None
    saved_languages = rt.speech_languages
    if rt.twilio is None and rt.settings.speech_enabled:
        # Started without Twilio credentials, the app asks for keys only (barge-in needs the REST API);
        # the emulator is a REST API, so the languages an engine is set up for can listen.
        from speech.engines import speech_configured

        rt.speech_languages = frozenset(
            lang for lang in rt.ivr_config.languages
            if speech_configured(lang, default_language=rt.ivr_config.default_language))
    rt.twilio = emulator.client()
    if dispatcher is not None:
        dispatcher.dialer.client = rt.twilio
    printer = Printer(echo)
    try:
        echo(f"Calling {number} from {from_number} (dev phone: the IVR in this process, Twilio emulated)")
        call = emulator.call(from_number, number)
        printer.flush(call)
        for step, value, barge_in in plan:
            if call.ended:
                echo(f"  (the call has ended: --{step} not done)")
                break
            if step == "press":
                call.press(value, barge_in=barge_in)
            elif step == "wait":
                call.wait()
            elif step == "hang-up":
                echo("  caller hangs up")
                call.hang_up()
            else:
                language = _language(call) or "en-US"
                try:
                    # A generous wait: the first words of a run may wait for the speech engine to load.
                    spoken = call.say(text=value, language=language, barge_in=barge_in, timeout=60) \
                        if step == "say" else call.say(wav=value, barge_in=barge_in, timeout=60)
                except (AudioError, OSError) as exc:
                    echo(f"  cannot {step}: {exc}")
                    return 2
                if not spoken:
                    echo("    (no media stream was open: this prompt takes keys only)")
            printer.flush(call)
        if not call.ended:
            echo(f"  (after the last step the call is {_where(call)}; the dev phone hangs up)")
            call.hang_up()
            printer.flush(call)
        echo("")
        describe_outcome(app, call.sid, echo)
        echo(f"Call ended: {call.status}")
        return 0
    finally:
        rt.twilio, rt.speech_languages = saved_client, saved_languages
        if dispatcher is not None:
            dispatcher.dialer.client = saved_dialer
        if not saved_token:
            app.config["TWILIO_AUTH_TOKEN"] = saved_token
        app.config["PUBLIC_BASE_URL"] = saved_base
        emulator.close()


def _language(call) -> str | None:
    for document in reversed(call.documents):
        marker = 'language="'
        if marker in document:
            return document.split(marker, 1)[1].split('"', 1)[0]
    return None


def _where(call) -> str:
    if call.queue:
        return f"waiting in queue {call.queue}"
    if call.conference:
        return f"in conference {call.conference}"
    state = call.describe_wait()
    return {"Segment": "at a prompt", "GatherInput": "waiting for keys", "StreamBlock": "listening for speech",
            "QueueRefetch": "waiting in a queue"}.get(state, state)
