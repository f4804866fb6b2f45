"""Every module takes "now" from the injected clock (clock.py), never from the wall clock directly."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WALL_CLOCK = re.compile(r"\b(?:datetime\.(?:now|utcnow|today)|date\.today)\(")
LEFT_OUT = {"tests", "bench", "migrations", "scripts"}


def test_only_clock_py_reads_the_wall_clock():
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in LEFT_OUT or relative.parts[0].startswith("."):
            continue
        if relative.name != "clock.py" or len(relative.parts) > 1:
            found += [f"{relative}:{n}" for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                      if WALL_CLOCK.search(line)]
    assert found == []
