"""The `ivr` command (pyproject.toml's console script, installed by scripts/install): the app's commands
from any directory, starting without loading a speech model; the server loads them and warns once."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NO_MODEL = "No speech model for"


def ivr_command() -> str:
    found = Path(sys.executable).with_name("ivr")
    path = str(found) if found.exists() else shutil.which("ivr")
    assert path, "the `ivr` command is not installed: run scripts/install (pip install -e .)"
    return path


@pytest.fixture
def elsewhere(tmp_path):
    """A directory outside the checkout, and an environment with its own database there."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOSK_MODEL_PATH", "FLASK_"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'ivr.sqlite3'}", SECRET_KEY="commands-test",
               SPEECH_ENABLED="1", PYTHONPATH="")
    env.pop("SPEECH_DISABLE_POCKETSPHINX", None)
    work = tmp_path / "somewhere-else"
    work.mkdir()
    return work, env


def run(args, cwd, env, **kwargs):
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, **kwargs)


def test_one_command_form_works_from_any_directory(elsewhere):
    work, env = elsewhere
    ivr = ivr_command()
    listing = run([ivr, "--help"], work, env)
    assert listing.returncode == 0, listing.stderr
    for group in ("users", "agents", "speech", "serve"):
        assert re.search(rf"^\s+{group}\s+\S", listing.stdout, re.M), listing.stdout
    created = run([ivr, "users", "create", "ada", "--role", "admin", "--timezone", "Europe/Amsterdam",
                   "--password", "correct horse battery"], work, env)
    assert created.returncode == 0, created.stderr
    assert "Created admin ada" in created.stdout
    added = run([ivr, "agents", "add", "Ann", "--address", "+14155550100", "--skills", "billing:7"], work, env)
    assert added.returncode == 0, added.stderr
    assert run([ivr, "users", "list"], work, env).stdout.startswith("ada\tadmin\tEurope/Amsterdam\tactive")
    assert "Ann\toffline\tbilling:7" in run([ivr, "agents", "list"], work, env).stdout
    assert not list(work.iterdir())  # nothing written where the command was run


def test_commands_start_without_loading_speech_or_warning(elsewhere):
    """The nl-NL "No speech model" warning and the model loading belong to the server's start, not to --help."""
    work, env = elsewhere
    helped = run([ivr_command(), "users", "--help"], work, env)
    assert helped.returncode == 0 and "create" in helped.stdout
    assert NO_MODEL not in helped.stderr + helped.stdout
    loaded = run([sys.executable, "-c", "import sys, app; app.create_app(); "
                  "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pocketsphinx', 'vosk')))"],
                 ROOT, env)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]", "create_app loaded a speech engine"


def test_the_server_start_loads_speech_and_warns_once_per_language_without_a_model(elsewhere):
    work, env = elsewhere
    script = ("import logging, app\n"
              "logging.basicConfig(level=logging.WARNING)\n"
              "flask_app = app.create_app()\n"
              "print('created', flush=True)\n"
              "app.load_speech(flask_app)\n"
              "app.load_speech(flask_app)\n")
    started = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=120)
    assert started.returncode == 0, started.stdout
    before, _, after = started.stdout.partition("created\n")
    assert NO_MODEL not in before, before  # building the app warns of nothing
    assert after.count(NO_MODEL) == 1, after  # the server's start does, once
    assert "No speech model for nl-NL" in after and "ivr speech download-model nl-NL" in after


def test_the_docs_use_the_one_command_form():
    """README and docs/ say `ivr ...` (works from any directory), never `flask ...` (only from the checkout)."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    flask_form = re.compile(r"(?:^|[`$]\s?)flask (?:--app\b|[a-z][a-z-]* )", re.M)
    for page in pages:
        found = flask_form.findall(page.read_text(encoding="utf-8"))
        assert not found, f"{page.name} shows {found}: write the command as `ivr ...`, which works from any directory"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`ivr users create NAME --role admin" in readme and "`ivr agents add " in readme


# ---- the command line: what it loads, how it spells things, what it says at start ---------------------------------

HELP_PROBE = """
import sys
import argon2
hashed = []
real_hash = argon2.PasswordHasher.hash
argon2.PasswordHasher.hash = lambda self, *a, **k: hashed.append(1) or real_hash(self, *a, **k)
from commands import cli
try:
    cli(sys.argv[1:], prog_name="ivr")
except SystemExit:
    pass
loaded = sorted(m for m in ("app", "sqlalchemy", "twilio", "supervisor.auth", "storage.db") if m in sys.modules)
print("LOADED", loaded, "HASHED", len(hashed))
"""


def probe(*args, env=None):
    return subprocess.run([sys.executable, "-c", HELP_PROBE, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_ivr_help_lists_only_our_commands_and_builds_no_app(elsewhere):
    """`ivr --help` neither imports the app (SQLAlchemy, Twilio, the argon2 hash of supervisor/auth.py)
    nor shows Flask's own -e/-A/--debug options or routes/shell/limiter (timings: bench/cli_start.py)."""
    _, env = elsewhere
    env["PYTHONPATH"] = str(ROOT)
    shown = probe("--help", env=env)
    assert shown.returncode == 0, shown.stderr
    listed = re.findall(r"^  ([a-z-]+)  ", shown.stdout.split("Commands:")[1], re.M)
    assert listed == ["agents", "devphone", "privacy", "scheduler", "serve", "speech", "understand", "users"], shown.stdout
    for flask_own in ("--env-file", "--app", "--debug", "routes", "shell", "limiter"):
        assert flask_own not in shown.stdout
    assert "LOADED [] HASHED 0" in shown.stdout, shown.stdout
    assert "SECRET_KEY" not in shown.stderr  # no app was built, so no key was made either


def test_supervisor_auth_hashes_nothing_at_import_and_still_times_unknown_names(elsewhere):
    _, env = elsewhere
    env["PYTHONPATH"] = str(ROOT)
    listed = probe("users", "--help", env=env)
    assert listed.returncode == 0 and "create" in listed.stdout
    assert "'supervisor.auth'" in listed.stdout and "HASHED 0" in listed.stdout, listed.stdout
    from supervisor import auth

    assert auth._hasher.verify(auth._dummy_hash(), "not-a-real-password")  # made on first sign-in attempt


def test_the_commands_still_build_the_app_when_they_need_it(elsewhere):
    work, env = elsewhere
    env["PYTHONPATH"] = str(ROOT)
    created = run([sys.executable, "-m", "commands", "users", "create", "ada", "--role", "admin",
                   "--password", "correct horse battery"], ROOT, env)
    assert created.returncode == 0, created.stderr
    assert "Created admin ada" in created.stdout
    listed = run([sys.executable, "-m", "commands", "users", "list"], ROOT, env)
    assert listed.stdout.startswith("ada\tadmin")
    assert run([sys.executable, "-m", "commands", "ivr", "classify", "x"], ROOT, env).returncode == 2  # renamed
    understood = run([sys.executable, "-m", "commands", "understand", "classify", "my bill is wrong"], ROOT, env)
    assert understood.returncode == 0 and "-> billing" in understood.stdout, understood.stderr


def test_download_model_is_spelled_as_the_server_log_spells_it_and_both_spellings_work():
    from config import load_ivr_config
    from speech.cli import pick_model

    languages = load_ivr_config().languages
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "commands.py"]
    written = [(page.name, lang) for page in pages
               for lang in re.findall(r"download-model ([A-Za-z-]+)\b(?!:)", page.read_text(encoding="utf-8"))]
    assert written, "the docs show how to download a model"
    assert all(lang in languages for _, lang in written), written  # nl-NL, as the server's warning says
    models = [{"lang": "nl", "type": "small", "name": "vosk-model-small-nl-0.22", "version": "0.22"},
              {"lang": "en-us", "type": "small", "name": "vosk-model-small-en-us-0.15", "version": "0.15"}]
    assert pick_model(models, "nl")["name"] == pick_model(models, "nl-NL")["name"] == "vosk-model-small-nl-0.22"
    assert pick_model(models, "en-us")["name"] == pick_model(models, "en-US")["name"]


def test_readme_counts_the_tries_as_the_ivr_asks_them():
    from ivr.steps import MAX_RETRIES

    words = {2: "two", 3: "three", 4: "four"}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    asked = MAX_RETRIES + 1  # the question, then MAX_RETRIES more times
    assert f"asked at most {words[asked]}" in readme and f"{words[asked]} failed tries lead to a person" in readme
    assert "two failed tries" not in readme or asked == 2


def test_the_start_up_message_says_what_an_unsigned_webhook_gets(settings):
    from dataclasses import replace

    from app import create_app, describe_setup

    development = replace(settings, twilio_auth_token=None, twilio_account_sid=None, public_base_url=None,
                          dev_phone=None)
    app = create_app(development)
    text = describe_setup(development, app.extensions.get("devphone"))
    assert "devphone" in app.extensions
    assert "503" not in text and "(403)" in text
    unsigned = app.test_client().post("/voice/incoming", data={"CallSid": "CA" + "0" * 32})
    assert unsigned.status_code == 403  # as the message says
    production = replace(development, dev_phone="off")
    text = describe_setup(production, create_app(production).extensions.get("devphone"))
    assert "refused (503)" in text
