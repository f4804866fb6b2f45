"""./scripts/serve installs the packages only when what an install depends on changed:
the real scripts/serve and scripts/install, run in a copy of the checkout with pip, dpkg and the app
stood in for by logging stubs on the PATH."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

STUB_PYTHON = """#!/bin/sh
echo "python3 $*" >> "$STUB_LOG"
case "$1" in
  app.py) echo listening ;;
esac
exit 0
"""
STUB_INSTALLED = """#!/bin/sh
echo "install ok installed"
"""


def checkout(tmp_path: Path) -> tuple[Path, dict]:
    work = tmp_path / "checkout"
    (work / "scripts").mkdir(parents=True)
    for name in ("scripts/serve", "scripts/install", "requirements.txt", "pyproject.toml"):
        shutil.copy2(ROOT / name, work / name)
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name, text in (("python3", STUB_PYTHON), ("dpkg-query", STUB_INSTALLED), ("espeak-ng", "#!/bin/sh\n")):
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{stubs}:/usr/bin:/bin", "STUB_LOG": str(tmp_path / "log")}
    return work, env


def serve(work: Path, env: dict, log: Path) -> list[str]:
    log.write_text("")
    done = subprocess.run([str(work / "scripts/serve")], cwd=work, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("listening")
    return log.read_text().splitlines()


def pip_runs(calls: list[str]) -> int:
    return sum(1 for c in calls if c.startswith("python3 -m pip install"))


def test_serve_installs_on_the_first_start_and_when_requirements_change_only(tmp_path):
    work, env = checkout(tmp_path)
    log = tmp_path / "log"
    assert pip_runs(serve(work, env, log)) == 2  # the packages, then the project itself
    assert (work / "instance/.installed").exists()
    again = serve(work, env, log)
    assert pip_runs(again) == 0 and again[-1] == "python3 app.py"  # straight to the app
    with open(work / "requirements.txt", "a") as fh:
        fh.write("\n# a change\n")
    assert pip_runs(serve(work, env, log)) == 2
    assert pip_runs(serve(work, env, log)) == 0
