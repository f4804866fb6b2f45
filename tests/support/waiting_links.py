"""The waiting page's link at the end of a text or chat reply (config/ivr.toml `text_waiting_link`)."""
from __future__ import annotations

import re

LINK = re.compile(r" (?:See your place, move or cancel|Uw plaats bekijken, verzetten of annuleren): "
                  r"https://ivr\.example\.com(/wait/[0-9a-f]{32}\?token=[A-Za-z0-9_-]{20,})$")


def split_link(reply: str) -> tuple[str, str]:
    """(the words before the waiting page's link, the link's path); fails when the link is missing."""
    found = LINK.search(reply)
    assert found, reply
    return reply[:found.start()], found.group(1)
