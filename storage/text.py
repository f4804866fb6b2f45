"""The one rule for text that reaches the database, a header or a log line: no control characters.

PostgreSQL refuses NUL in text (a 500 if it got that far), a CR or LF in a redirect target breaks
the header, and the other control characters only ever hide things from the person reading them.
Two strengths:
- free text (a note, a chat message, an SMS body, a form field): tab, newline and carriage return
  are allowed, every other C0 character and DEL are not;
- one line (a URL path, a query parameter, a redirect target, a name): no control character at all.

web/errors.py applies it to every request's path, query and form before any view runs (400, nothing
done); web's JSON reader (web/bodies.py) applies it to every string of a JSON body; domain code calls `check()`.
"""
from __future__ import annotations

import re

# The JSON-schema form of the free-text rule (callbacks.schemas uses it in the published API schema).
FREE_TEXT_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$"
_IN_FREE_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_IN_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")


class TextRefused(ValueError):
    """`field` holds a control character its kind of text may not hold."""

    def __init__(self, field: str, one_line: bool = False):
        what = "control characters or line breaks" if one_line else "control characters (such as NUL)"
        super().__init__(f"{field} may not contain {what}")
        self.field = field


def has_control(text: str, *, one_line: bool = False) -> bool:
    return (_IN_ONE_LINE if one_line else _IN_FREE_TEXT).search(text) is not None


def check(text: str, field: str, *, one_line: bool = False) -> str:
    """`text` unchanged, or TextRefused naming `field`."""
    if has_control(text, one_line=one_line):
        raise TextRefused(field, one_line)
    return text
