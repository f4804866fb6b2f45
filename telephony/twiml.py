"""Checks a TwiML document against what twilio's own `twilio.twiml.voice_response` defines.

A child verb is allowed under a parent only if the parent's class has a method that builds it
(VoiceResponse.gather, Gather.say, Connect.stream, ...), and an attribute only if that method names
it as a parameter (snake_case there, camelCase in the XML).
"""
from __future__ import annotations

import inspect
import re
import xml.etree.ElementTree as ET
from functools import lru_cache

from twilio.twiml import voice_response as vr


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _camel(name: str) -> str:
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(part.title() for part in rest)


@lru_cache(maxsize=None)
def _builder(parent_cls, tag: str):
    # twilio-python's method names: say_as for <say-as>, amazon_effect for <amazon:effect>, break_ for <break>.
    name = re.sub(r"[-:]", "_", _snake(tag))
    method = getattr(parent_cls, name, None) or getattr(parent_cls, name + "_", None)
    if method is None:
        return None, None, frozenset()
    source = inspect.getsource(method)
    match = re.search(r"return self\.nest\(\s*(\w+)\(", source)
    child_cls = getattr(vr, match.group(1)) if match else None
    allowed = frozenset(_camel(name) for name in inspect.signature(method).parameters
                        if name not in {"self", "kwargs"})
    return method, child_cls, allowed


_XML_NS = "{http://www.w3.org/XML/1998/namespace}"


class TwiMLError(AssertionError):
    """A document Twilio would refuse (error 12100 and friends)."""


def is_verb(tag: str) -> bool:
    """Whether <tag> is a verb of a voice <Response>."""
    method, child_cls, _ = _builder(vr.VoiceResponse, tag)
    return method is not None and child_cls is not None


def check(xml: str, *, skip_unknown_verbs: bool = False) -> ET.Element:
    """Parse and check a Voice TwiML document; return its root or raise TwiMLError. With
    `skip_unknown_verbs`, a child of <Response> that is no verb at all is let through, as Twilio lets a
    misspelled verb through with warning 12200 and goes on without it."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise TwiMLError(f"not XML: {exc}\n{xml}") from exc
    if root.tag != "Response":
        raise TwiMLError(f"root must be <Response>, not <{root.tag}>")
    if root.attrib:
        raise TwiMLError(f"<Response> takes no attributes: {root.attrib}")
    _check_children(vr.VoiceResponse, root, skip_unknown=skip_unknown_verbs)
    return root


def _check_children(parent_cls, element: ET.Element, skip_unknown: bool = False) -> None:
    for child in element:
        method, child_cls, allowed = _builder(parent_cls, child.tag)
        if method is None or child_cls is None:
            if skip_unknown:
                continue
            raise TwiMLError(f"<{child.tag}> is not allowed inside <{element.tag}>")
        for attribute in child.attrib:
            name = attribute
            if child_cls.__name__.startswith("Ssml"):  # SSML inside <Say>: xml:lang, interpret-as as written
                name = _camel(re.sub(r"[-:]", "_", attribute.replace(_XML_NS, "xml:")))
            if name not in allowed:
                raise TwiMLError(f"<{child.tag}> has no attribute {attribute!r} (allowed: {sorted(allowed)})")
        needs_body = child.tag in {"Say", "Play", "Redirect"} or (child.tag == "Enqueue" and "workflowSid" not in child.attrib)
        if needs_body and not (child.text or "").strip():
            raise TwiMLError(f"<{child.tag}> needs a body")
        _check_children(child_cls, child)
