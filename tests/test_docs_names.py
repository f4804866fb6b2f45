"""Every code name README.md and docs/ cite exists: backticked dotted names whose first part is one of
the project's modules (`routing.queue.line`, `callbacks.requests.request_callback`) and backticked
paths of the project's files (`webhooks/voice.py`)."""
import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TICKED = re.compile(r"`([^`\s]+)`")
DOTTED = re.compile(r"^[a-z_][a-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+(?:\(\))?$")
FILE = re.compile(r"^[\w.-]+(?:/[\w.-]+)+\.(?:py|md|html|js|css|toml|sh)$")
EXTENSIONS = {"py", "md", "toml", "html", "js", "css", "json", "wav", "txt", "tsv", "ini", "yml", "yaml", "dict",
              "sh", "log", "db", "env", "cfg", "csv", "svg", "png"}


def _top_level() -> set[str]:
    names = {p.stem for p in ROOT.glob("*.py")}
    names |= {p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name not in ("tests", "bench")}
    return names


def _exists(dotted: str) -> bool:
    parts = dotted.removesuffix("()").split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            if not hasattr(found, name):
                return False
            found = getattr(found, name)
        return True
    return False


def cited() -> list[tuple[str, str]]:
    top = _top_level()
    found = []
    for page in PAGES:
        for token in TICKED.findall(page.read_text(encoding="utf-8")):
            if DOTTED.match(token) and token.split(".")[0] in top and token.rsplit(".", 1)[-1] not in EXTENSIONS:
                found.append((page.name, token))
            elif FILE.match(token) and token.split("/")[0] in top | {"tests", "bench", "scripts", "docs", "config",
                                                                     "templates", "static", "migrations"}:
                found.append((page.name, token))
    return found


def test_the_docs_cite_code_names():
    assert len(cited()) > 20  # the pattern still finds what the pages cite


def test_every_code_name_the_docs_cite_exists():
    missing = [f"{page}: {token}" for page, token in cited()
               if not ((ROOT / token).exists() if "/" in token else _exists(token))]
    assert missing == []
