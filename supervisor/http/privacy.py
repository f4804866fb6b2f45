"""The admin's export and erase actions (the users page): what `ivr privacy export|erase --phone` do,
from the browser.

Admin only, CSRF-checked like every form here. Export answers the JSON as a download; erase must be
confirmed (confirm=yes, a box the admin ticks). Both are recorded in privacy_requests with the admin's
name (never the number), each erased entry's trail gets an "erased" event; log lines and flashes name no
number.
"""
from __future__ import annotations

import functools
import json
import logging

from flask import Response, g, request

from privacy.records import OpenCallback, erase, export_recorded, phone_key
from storage.db import transaction
from supervisor.http import answer, bp, role_required, wording
from web.runtime import runtime

log = logging.getLogger("ivr.privacy")


def _privacy_form(path: str, refused_key: str):
    """An admin's privacy form posted to `path`: the view is called with the runtime and the number as
    looked for (E.164, or a caller's address as written); a number that cannot be read answers 400
    with `refused_key`'s wording."""
    def register(view):
        @bp.post(path)
        @role_required("admin")
        @functools.wraps(view)
        def guarded():
            rt = runtime()
            try:
                phone = phone_key(request.form.get("phone", ""), rt.settings.allowed_countries)
            except ValueError as exc:
                return answer(400, wording().text(refused_key, reason=exc))
            return view(rt, phone)

        return guarded

    return register


@_privacy_form("/privacy/export", "supervisor_export_refused")
def privacy_export(rt, phone: str):
    with transaction(rt.sessions) as db:
        held = export_recorded(db, phone, rt.clock.now(), actor=g.user.username)
    log.info("privacy export by %s: %d queue entries, %d calls", g.user.username,
             len(held["callbacks_and_holds"]), len(held["calls"]))
    stamp = rt.clock.now().strftime("%Y%m%dT%H%M%SZ")
    return Response(json.dumps(held, indent=2, ensure_ascii=False), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="privacy-export-{stamp}.json"', "Cache-Control": "no-store"})


@_privacy_form("/privacy/erase", "supervisor_erase_refused")
def privacy_erase(rt, phone: str):
    if request.form.get("confirm") != "yes":
        return answer(400, wording().text("supervisor_erase_unconfirmed"))
    try:
        with transaction(rt.sessions) as db:
            counts = erase(db, phone, rt.clock.now(), actor=g.user.username)
    except OpenCallback:
        return answer(409, wording().text("supervisor_erase_open_callback"))
    log.info("privacy erase by %s: %d queue entries, %d calls", g.user.username, counts["entries"], counts["calls"])
    return answer(200, wording().text("supervisor_erased", **counts), **counts)
