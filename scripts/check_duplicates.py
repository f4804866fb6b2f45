#!/usr/bin/env python3
"""Blocks of six or more identical lines repeated in the project's source (Python, templates, JS, CSS).

Lines are compared normalised: leading and trailing space dropped, blank lines, comment-only lines
lines too short to say anything (`else:`) and lines of closing tags or block ends alone (`</td>`,
`{% endfor %}`, `});`) skipped. Two places that share
six such lines in a row are a repeat. tests/, bench/, migrations/ and static/widget/ (kept by its own
checks) are left out, and so are repeats between telephony/ (the Twilio emulator, which stays
independent of the code it stands in for) and the rest. Standard library only:

    python3 scripts/check_duplicates.py      # prints each repeat; exit status 1 when there is one

tests/test_duplicates.py runs it. It finds the same lines only; the `duplicates` tool also finds the
same shape with other names (run `duplicates --change --base main` before a commit).
"""
from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = 6
SUFFIXES = {".py", ".html", ".js", ".css"}
LEFT_OUT = ("tests/", "bench/", "migrations/", "static/widget/", "instance/", "docs/")
APART = "telephony/"  # repeats between this folder and the rest are allowed
COMMENT = ("#", "//", "/*", "*", "{#", "<!--")
SHORTEST = 4  # characters a line needs to count
# Lines of closing tags and block ends alone (`</td>`, `{% endfor %}`, `});`) say nothing either.
CLOSING = re.compile(r"^(?:</[\w-]+>|\{%-?\s*(?:end\w+|else)\s*-?%\}|[)\]}]+[;,]?)+$")


def source_files(root: Path = ROOT) -> list[Path]:
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.suffix not in SUFFIXES or not path.is_file() or rel.startswith(LEFT_OUT) \
                or any(part.startswith(".") or part in ("node_modules", "__pycache__") for part in path.parts):
            continue
        files.append(path)
    return files


def meaningful(text: str) -> list[tuple[int, str]]:
    """(line number, normalised line) for the lines that count."""
    kept = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = " ".join(line.split())
        if len(line) < SHORTEST or line.startswith(COMMENT) or CLOSING.match(line.replace(" ", "")):
            continue
        kept.append((number, line))
    return kept


def repeats(root: Path = ROOT, block: int = BLOCK) -> list[str]:
    """One line per pair of places sharing `block` meaningful lines: `a.py:10-17 ~ b.py:40-47`."""
    seen: dict[tuple[str, ...], list[tuple[str, int, int]]] = defaultdict(list)
    for path in source_files(root):
        rel = path.relative_to(root).as_posix()
        lines = meaningful(path.read_text(encoding="utf-8", errors="replace"))
        for i in range(len(lines) - block + 1):
            window = lines[i:i + block]
            seen[tuple(text for _, text in window)].append((rel, window[0][0], window[-1][0]))
    pairs: dict[tuple[str, str], tuple[tuple[str, int, int], tuple[str, int, int]]] = {}
    for places in seen.values():
        for a_index, a in enumerate(places):
            for b in places[a_index + 1:]:
                if a[0] == b[0] and b[1] <= a[2]:
                    continue  # overlapping runs of one repeated line
                if (a[0].startswith(APART)) != (b[0].startswith(APART)):
                    continue
                pairs.setdefault((a[0], b[0]), (a, b))  # the first run of each pair of files names it
    return [f"{a[0]}:{a[1]}-{a[2]} ~ {b[0]}:{b[1]}-{b[2]}" for a, b in pairs.values()]


def main() -> int:
    found = repeats()
    for line in found:
        print("repeated:", line)
    if not found:
        print(f"no block of {BLOCK} identical lines repeated in source")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
