"""The one way a JSON body is read (callback API, chat webhook, their rate-limit keys): bounded and
checked before anything uses it, so hostile JSON is a precise 4xx, never a 500.

Refused: not JSON / not UTF-8 (400), nesting deeper than MAX_DEPTH (400), numbers longer than
MAX_NUMBER_CHARS or NaN/Infinity (400), text with lone surrogates such as "\\ud800" (400, no
database can store them) or with control characters other than tab and line breaks (400, the rule of
storage.text), anything but an object at the top (422). The size is bounded before
this by MAX_CONTENT_LENGTH (413).
"""
from __future__ import annotations

import json
import math
import re
from itertools import accumulate

from refusals import RequestRefused
from storage.text import has_control

MAX_DEPTH = 32
MAX_NUMBER_CHARS = 32
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _malformed(message: str) -> RequestRefused:
    return RequestRefused(message, code="malformed_json", status=400)


def _depth(raw: bytes) -> int:
    brackets = _STRINGS.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(accumulate(1 if b in b"[{" else -1 for b in brackets), default=0)


def _number(text: str):
    if len(text) > MAX_NUMBER_CHARS:
        raise _malformed(f"a number in the body is longer than {MAX_NUMBER_CHARS} characters")
    if not any(c in text for c in ".eE"):
        return int(text)
    value = float(text)
    if not math.isfinite(value):
        raise _malformed(f"the number {text} is too large")
    return value


def _no_constants(name: str):
    raise _malformed(f"{name} is not a JSON value")


def _check_text(value, path: str = "") -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise RequestRefused(f"{path or 'the body'} contains a lone surrogate (an escaped \\ud800-\\udfff "
                                 "that is not half of a pair); send real text", field=path or "/",
                                 code="malformed_json", status=400) from None
        if has_control(value):
            raise RequestRefused(f"{path or 'a key'} contains control characters (such as \\u0000)",
                                 field=path or "/", code="format", status=400)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, path + "/")
            _check_text(item, f"{path}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, f"{path}/{index}")


def parse_json_object(raw: bytes) -> dict:
    """`raw` as a JSON object, or RequestRefused saying precisely why not."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _malformed("the body is not UTF-8 text") from None
    if _depth(raw) > MAX_DEPTH:
        raise _malformed(f"the body nests deeper than {MAX_DEPTH} levels")
    try:
        body = json.loads(text, parse_int=_number, parse_float=_number, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise _malformed(f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (ValueError, RecursionError):
        raise _malformed("the body is not valid JSON") from None
    _check_text(body)
    if not isinstance(body, dict):
        raise RequestRefused("the body must be a JSON object", field="/", code="wrong_type")
    return body
