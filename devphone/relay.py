"""The emulator's events (its worker thread) as the browser lines' events: a call ringing a line's
phone, its prompts (each with an id the page reports back when it finished speaking it), keys lost,
its state, who it is connected to, its end."""
from __future__ import annotations

import itertools

from devphone.lines import CallView, Line, Lines
from telephony.emulator import Segment, Talking


class EventRelay:
    def __init__(self, lines: Lines, emulator, stopping):
        self.lines = lines
        self.emulator = emulator
        self.stopping = stopping  # a threading.Event: set while the app stops
        self._prompt_ids = itertools.count(1)

    def on_event(self, event: dict) -> None:
        kind, sid = event["type"], event.get("call_sid")
        if self.stopping.is_set():
            return  # calls being torn down (the app is stopping): nobody is listening
        with self.lines.lock:
            if kind == "message":
                for line in self.lines.all():
                    if line.customer and event.get("to") == line.customer:
                        self.lines.push(line, {"type": "message", "phone": "customer", "body": event.get("body")})
                return
            line, view = self.lines.owner(sid, event)
            if view is None or view.ended:
                return  # not a dev phone's call, or over (its last state change comes after `ended`)
            call = self.emulator.calls.get(sid)
            if call is not None:
                # The page speaks this call's prompts and says when each ended (live_prompt_done).
                call.client_paces_prompts = True
            handler = self.KINDS.get(kind)
            if handler is not None:
                handler(self, line, view, call, event, {"call_sid": sid, "phone": view.phone})

    def _ringing(self, line: Line, view: CallView, call, event: dict, base: dict) -> None:
        view.status = "ringing"
        if any(v.phone == view.phone and v.sid != view.sid and not v.ended for v in line.calls.values()):
            # This phone is on a call already: a second one gets busy (no call waiting here).
            self.emulator.live_hang_up(view.sid)
            self.lines.push(line, {**base, "type": "busy", "from": event.get("from")})
            return
        self.lines.push(line, {**base, "type": "ringing", "from": event.get("from"), "to": event.get("to"),
                               "own_number": event.get("to") in (line.customer, line.agent_address)})

    def _answered(self, line: Line, view: CallView, call, event: dict, base: dict) -> None:
        view.status = "in-progress"
        self.lines.push(line, {**base, "type": "answered"})

    def _prompt(self, line: Line, view: CallView, call, event: dict, base: dict) -> None:
        segment = call.wait_state if call is not None else None
        prompt = {**base, "type": "prompt", "prompt": next(self._prompt_ids), "text": event.get("text"),
                  "voice": event.get("voice"), "language": event.get("language"),
                  "seconds": event.get("seconds"), "in_gather": bool(event.get("in_gather"))}
        if isinstance(segment, Segment):
            view.prompts[prompt["prompt"]] = (segment, segment.pos)
        view.status = "in-progress"
        view.playing = prompt
        view.language = event.get("language") or view.language
        self.lines.push(line, prompt)

    def _play(self, line: Line, view: CallView, call, event: dict, base: dict) -> None:
        self.lines.push(line, {**base, "type": "play", "url": event.get("url")})

    def _prompt_cut(self, line: Line, view: CallView, call, event: dict, base: dict) -> None:
        self._stop_playing(line, view, "cut")

    def _key_lost(self, line: Line, view: CallView, call, event: dict, base: dict) -> None:
        self.lines.push(line, {**base, "type": "key_lost", "digit": event.get("digit")})

    def _state(self, line: Line, view: CallView, call, event: dict, base: dict) -> None:
        if not self._still_playing(view, call):
            self._stop_playing(line, view, "over")
        view.state = {"wait": event.get("wait"), "queue": event.get("queue"), "conference": event.get("conference")}
        self.lines.push(line, {**base, "type": "state", **view.state})
        self._links(call)

    def _ended(self, line: Line, view: CallView, call, event: dict, base: dict) -> None:
        self._stop_playing(line, view, "over")
        view.status = event.get("status") or "completed"
        view.prompts.clear()
        view.linked = []
        self.lines.push(line, {**base, "type": "ended", "status": view.status})
        self._links(call)

    KINDS = {"ringing": _ringing, "answered": _answered, "prompt": _prompt, "play": _play,
             "prompt_cut": _prompt_cut, "key_lost": _key_lost, "state": _state, "ended": _ended}

    def _still_playing(self, view: CallView, call) -> bool:
        if view.playing is None or call is None:
            return False
        found = view.prompts.get(view.playing["prompt"])
        segment = call.wait_state
        return found is not None and isinstance(segment, Segment) and found == (segment, segment.pos)

    def _stop_playing(self, line: Line, view: CallView, why: str) -> None:
        if view.playing is not None:
            self.lines.push(line, {"type": "stop", "call_sid": view.sid, "phone": view.phone,
                                   "prompt": view.playing["prompt"], "why": why})
            view.prompts.pop(view.playing["prompt"], None)
            view.playing = None

    @staticmethod
    def _connected(call) -> list:
        """The calls this one can talk to now: its bridged peer, or the others in its started conference."""
        state = call.wait_state if call is not None else None
        if not isinstance(state, Talking) or call.status != "in-progress":
            return []
        if state.conference is not None:
            return [c for c in state.conference.connected(call) if c.status == "in-progress"]
        return [state.peer] if state.peer is not None and state.peer.status == "in-progress" else []

    def _links(self, call) -> None:
        """Tell every phone in a conversation with this call who it is connected to now."""
        if call is None:
            return
        touched = {call.sid: call}
        touched.update((c.sid, c) for c in self._connected(call))
        state = call.wait_state
        if isinstance(state, Talking) and state.conference is not None:
            touched.update((c.sid, c) for c in state.conference.participants)
        for line in self.lines.all():  # whoever was connected to this call hears it moved on too
            for view in line.calls.values():
                if any(item["call_sid"] == call.sid for item in view.linked) and view.sid in self.emulator.calls:
                    touched[view.sid] = self.emulator.calls[view.sid]
        for each in touched.values():
            line, view = self.lines.owner(each.sid, {"type": "link"})
            if view is None:
                continue
            linked = [] if view.ended else [self._describe(c) for c in self._connected(each)]
            if linked != view.linked:
                view.linked = linked
                self.lines.push(line, {"type": "link", "call_sid": each.sid, "phone": view.phone, "with": linked})

    def _describe(self, call) -> dict:
        _, view = self.lines.owner(call.sid, {"type": "link"})
        address = call.to_number if call.direction != "inbound" else call.from_number
        return {"call_sid": call.sid, "phone": view.phone if view else None, "address": address}
