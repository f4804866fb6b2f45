"""A real browser: Debian's chromium driven by Playwright (no browser download; see .ci/run)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    # Without these chromium keeps trying to reach Google and this machine's closed network refuses it.
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


# How long a browser step may take before the test is called hung. Generous on purpose: it only stops a
# test that would never pass; a 2-core machine running other work can take well over 10 s for one step.
PATIENCE_MS = 60_000


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


# Screenshots for a person to look at (gitignored).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def screenshot(page, name: str, *, prefix: str = "", full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{prefix}{name}.png"), full_page=full_page)


class Pages:
    """Pages of the live app, each in a browser context of its own (locale, zone, device), all closed on
    leaving the `with`. A page's `errors` lists its script errors, any dialog (dismissed) and the responses
    `failed` picks out, so a test can check that nothing went wrong that it did not look at."""

    def __init__(self, browser, base_url: str, failed=lambda response: response.status >= 400):
        self.browser, self.base_url, self.failed = browser, base_url, failed
        self.contexts = []

    def open(self, path: str, **context_options):
        context = self.browser.new_context(**context_options)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(PATIENCE_MS)
        page.errors = errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("dialog", lambda dialog: errors.append("dialog: " + dialog.message) or dialog.dismiss())
        page.on("response", lambda r: self.failed(r) and errors.append(f"{r.status} {r.url}"))
        page.goto(self.base_url + path)
        return page

    def __enter__(self) -> "Pages":
        return self

    def __exit__(self, *exc) -> None:
        for context in self.contexts:
            context.close()
