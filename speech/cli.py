"""`ivr speech ...`: download a Vosk model, recognise a WAV file like a call would.

Plain click (no Flask import); app.py registers the group with app.cli.add_command.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile

import click

from clock import Clock
from speech.vosk_engine import env_key

# The official catalogue of Vosk models, published by the Vosk authors.
MODEL_LIST_URL = "https://alphacephei.com/vosk/models/model-list.json"
DEFAULT_MODEL_DIR = os.path.join(os.path.expanduser("~"), ".cache", "vosk")


@click.group("speech")
def speech_cli():
    """Offline speech recognition (Vosk, PocketSphinx)."""


# --- download-model -----------------------------------------------------------

def pick_model(models: list[dict], lang: str) -> dict:
    """The newest small, non-obsolete model for `lang` (en-US, en-us, nl, nl-NL ...).

    Small models are the ones to use on the phone: they accept runtime grammars,
    load in seconds and are trained with narrow-band audio in the mix."""
    wanted = lang.lower()
    candidates = [m for m in models if m.get("obsolete") != "true" and m.get("type") == "small"]
    exact = [m for m in candidates if m.get("lang", "").lower() == wanted]
    base = [m for m in candidates if m.get("lang", "").lower() == wanted.split("-")[0]]
    found = exact or base
    if not found:
        langs = sorted({m.get("lang", "") for m in candidates})
        raise click.ClickException(f"no small Vosk model for {lang}; languages with one: {', '.join(langs)}")
    return max(found, key=lambda m: _version(m.get("version", "")))


def _version(text: str) -> tuple[int, ...]:
    """"0.22" -> (0, 22): versions compare as numbers ("0.22" is newer than "0.3")."""
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def _fetch(url: str, timeout: float = 20):
    try:
        return urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 - fixed https URL or the user's override
    except (urllib.error.URLError, OSError) as exc:
        raise click.ClickException(
            f"cannot reach {url}: {getattr(exc, 'reason', exc)}. Downloading a model needs internet access; "
            "on an offline machine, copy an unpacked model folder over and set VOSK_MODEL_PATH_<LANG> to it."
        ) from None


@speech_cli.command("download-model")
@click.argument("lang")
@click.option("--dir", "target_dir", default=DEFAULT_MODEL_DIR, show_default=True, help="Where to unpack it.")
def download_model(lang: str, target_dir: str):
    """Download the official small Vosk model for LANG, named as the IVR names its languages (en-US,
    nl-NL); a bare language or Vosk's own spelling (nl, en-us, ko) works too; or a Whisper model
    converted for faster-whisper: whisper:NAME (tiny.en, base.en, small.en, ...)."""
    if lang.startswith("whisper:"):
        _download_whisper(lang.split(":", 1)[1], None if target_dir == DEFAULT_MODEL_DIR else target_dir)
        return
    list_url = os.environ.get("VOSK_MODEL_LIST_URL", MODEL_LIST_URL)
    with _fetch(list_url) as response:
        models = json.load(response)
    model = pick_model(models, lang)
    folder = os.path.join(target_dir, model["name"])
    if not os.path.isdir(folder):
        os.makedirs(target_dir, exist_ok=True)
        click.echo(f"downloading {model['name']} ({model.get('size_text', '?')}) ...", err=True)
        with tempfile.NamedTemporaryFile(suffix=".zip", dir=target_dir, delete=False) as tmp:
            with _fetch(model["url"], timeout=60) as response:
                shutil.copyfileobj(response, tmp)
        try:
            if model.get("md5"):
                with open(tmp.name, "rb") as f:
                    if hashlib.md5(f.read()).hexdigest() != model["md5"]:  # noqa: S324 - the list publishes md5
                        raise click.ClickException("download is corrupt (md5 mismatch); try again")
            with zipfile.ZipFile(tmp.name) as archive:
                archive.extractall(target_dir)
        finally:
            os.unlink(tmp.name)
    click.echo(f"{folder}")
    click.echo(f"set {env_key(_caller_language(lang))}={folder}", err=True)


def _download_whisper(name: str, target_dir: str | None) -> None:
    """Fetch Systran's CTranslate2 conversion of Whisper NAME into WHISPER_MODEL_DIR/NAME (where this
    machine may download; the packaged tiny.en needs none of this)."""
    from speech.whisper_engine import NAMES, is_model, model_dir

    if name not in NAMES:
        raise click.ClickException(f"unknown Whisper model {name!r}; one of {', '.join(NAMES)}")
    folder = os.path.join(target_dir or model_dir(), name)
    if not is_model(folder):
        try:
            from huggingface_hub import snapshot_download
        except ImportError:
            raise click.ClickException("downloading a Whisper model needs faster-whisper (pip install "
                                       "faster-whisper); or copy a model folder over and set WHISPER_MODEL") from None
        click.echo(f"downloading faster-whisper-{name} ...", err=True)
        try:
            snapshot_download(f"Systran/faster-whisper-{name}", local_dir=folder)
        except Exception as exc:  # no network, or the hub refused
            raise click.ClickException(f"cannot download faster-whisper-{name}: {exc}. Without internet, copy a "
                                       "model folder over and set WHISPER_MODEL to it.") from None
    click.echo(folder)
    click.echo(f"set WHISPER_MODEL={name} (or {folder})", err=True)


def _caller_language(lang: str) -> str:
    """The IVR language a model name serves ("nl" -> "nl-NL"), so the printed variable is the one read."""
    from config import load_ivr_config

    wanted = lang.lower()
    for language in load_ivr_config().languages:
        if language.lower() == wanted or language.split("-")[0].lower() == wanted.split("-")[0]:
            return language
    return lang


# --- recognize ----------------------------------------------------------------

def recognize_file(path: str, step: str, lang: str, free_form: bool = False,
                   phrases: dict[str, list[str]] | None = None, context=None, kind: str | None = None) -> dict:
    """Run a WAV through the same engine, grammar and end-of-speech logic a call gets.

    Any WAV the reader knows (PCM 8-32 bit, float, mu-law, A-law; any rate; stereo mixed down)
    is first brought to a call's 8 kHz, so the result is what a caller saying it would get."""
    from speech.audio import WavError, read_wav, resample
    from speech.engines import engine_for
    from speech.grammar import grammar_for
    from speech.session import SessionLimits, SpeechSession
    from speech.twilio_media import MULAW_RATE

    from ivr.steps import listen_kind
    from understanding.answers import completeness
    from understanding.decision import StepContext, decide

    context = context or StepContext()
    if phrases:
        context = context.with_phrases(phrases, lang)
    try:
        audio = read_wav(path)
    except (WavError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    # A one-off command: decode in this process rather than start worker processes.
    engine = engine_for(lang, dict(os.environ, SPEECH_WORKERS="0"))
    if engine is None:
        raise click.ClickException(f"no speech engine for {lang} (see the warning above)")
    kind = kind or listen_kind(step) or "skill"
    grammar = None
    if not free_form:
        examples = phrases or (context.understanding.examples(lang) if context.understanding else None)
        grammar = grammar_for(kind, lang, examples)
    pcm = resample(audio.pcm16, audio.sample_rate, MULAW_RATE)
    seconds = len(pcm) / 2 / MULAW_RATE
    started = time.perf_counter()
    session = SpeechSession(engine.recognizer(MULAW_RATE, grammar),
                            SessionLimits(max_duration=max(15.0, seconds + 1)),
                            complete=completeness(kind, lang) if grammar is not None else None)
    frame = MULAW_RATE // 50 * 2  # 20 ms, as a call delivers it
    outcome = None
    for i in range(0, len(pcm), frame):
        outcome = session.feed_audio(pcm[i:i + frame])
        if outcome:
            break
    outcome = outcome or session.hangup()
    elapsed = time.perf_counter() - started
    result = decide(kind, outcome.transcript, lang, context, asr_confidence=outcome.confidence or 0.0,
                    now=Clock().now(), step=step)
    result.update(engine=engine.name, asr_confidence=outcome.confidence, end=outcome.reason,
                  grammar=grammar is not None, listen=kind if grammar is not None else None,
                  audio_seconds=round(seconds, 3), file_rate=audio.sample_rate, file_encoding=audio.encoding,
                  rtf=round(elapsed / seconds, 4) if seconds else None)
    return result


@speech_cli.command("recognize")
@click.argument("wav", type=click.Path(exists=True, dir_okay=False))
@click.option("--step", default="menu", show_default=True, help="IVR step whose grammar to use.")
@click.option("--kind", default=None,
              help="Answer kind to listen for: skill, yes_no, digits or time (understanding.decision.ANSWER_KINDS; "
                   "default: the step's).")
@click.option("--lang", default=None, help="Caller's language (default: the IVR's default).")
@click.option("--skill", default=None, help="Skill whose time zone and hours apply (time steps).")
@click.option("--free-form", is_flag=True, help="No grammar: recognise any words.")
@click.option("--phrase", "extra", multiple=True, metavar="SKILL=PHRASE",
              help="Example answers to use instead of the configured ones (repeatable).")
def recognize(wav: str, step: str, kind: str | None, lang: str | None, skill: str | None, free_form: bool,
              extra: tuple[str, ...]):
    """Recognise WAV (any sample rate and bit depth, mono or stereo) and print one JSON decision,
    with the top skills and their scores for a skill question."""
    from config import load_ivr_config
    from understanding.decision import ANSWER_KINDS, context_from_config

    if kind is not None and kind not in ANSWER_KINDS:
        raise click.BadParameter(f"{kind!r} is not one of {', '.join(ANSWER_KINDS)}", param_hint="--kind")
    config = load_ivr_config()
    lang = lang or config.default_language
    context = context_from_config(config, skill, lang)
    phrases: dict[str, list[str]] = {}
    for item in extra:
        name, sep, phrase = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: use SKILL=PHRASE", param_hint="--phrase")
        phrases.setdefault(name, []).append(phrase)
    result = recognize_file(wav, step, lang, free_form, phrases or None, context, kind)
    click.echo(json.dumps(result, ensure_ascii=False))
    sys.stdout.flush()
