"""A real browser: Debian's chromium driven by Playwright (no browser download; see .ci/run)."""
from __future__ import annotations

import os
import shutil

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
