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
