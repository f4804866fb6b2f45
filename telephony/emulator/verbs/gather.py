"""<Gather>: keys (input="dtmf"). finishOnKey (default #) is not part of Digits; numDigits ends the
Gather; `timeout` seconds after the prompts and between keys submit the digits so far, or with none
the Gather falls through to the next verb (or requests the action with actionOnEmptyResult). The
action defaults to the document's URL. input="speech" is Twilio's own recogniser: not emulated (no
transcript, the Gather times out)."""
from __future__ import annotations

from telephony.emulator.verbs.segment import follow  # noqa: F401 - its nested prompts play first, as one Segment
from telephony.emulator.waits import GatherInput, GatherSpec, Target


def spec(run, verb, prompted: bool) -> GatherSpec:
    inputs = verb.attrib.get("input", "dtmf").split()
    num = verb.attrib.get("numDigits")
    timeout = verb.attrib.get("timeout", "5")
    return GatherSpec(
        action=run.url_attribute(verb, "action") or run.doc_url,
        method=verb.attrib.get("method", "POST").upper(),
        num_digits=int(num) if num else None,
        finish_on_key=verb.attrib.get("finishOnKey", "#"),
        timeout=5.0 if timeout == "auto" else float(timeout),
        dtmf="dtmf" in inputs,
        action_on_empty=verb.attrib.get("actionOnEmptyResult", "false") == "true",
        prompted=prompted,
    )


def collect(run, gather: GatherSpec, first_key: str | None):
    """Keys until the Gather ends; its action's Target, or None when it falls through."""
    digits = ""
    key = first_key
    while True:
        if key is not None:
            if gather.finish_on_key and key == gather.finish_on_key:
                if digits or gather.action_on_empty:
                    return _submit(run, gather, digits, key)
                return None
            digits += key
            if gather.num_digits and len(digits) >= gather.num_digits:
                return _submit(run, gather, digits, "")
        event = yield GatherInput(gather, digits)
        if event[0] == "timeout":
            if digits or gather.action_on_empty:
                return _submit(run, gather, digits, "")
            run.call.log.append(("no input", "the Gather falls through"))
            return None
        key = event[1]


def _submit(run, gather: GatherSpec, digits: str, finished_on: str) -> Target:
    run.call.log.append(("gathered", digits + (f" (ended with {finished_on})" if finished_on else "")))
    return Target(gather.action, gather.method,
                  {**run.queue_params(), "Digits": digits, "FinishedOnKey": finished_on})
