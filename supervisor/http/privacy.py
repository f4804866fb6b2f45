"""The admin's erase action (the users page): what `ivr privacy erase --phone` does, from the browser.

Admin only, CSRF-checked like every form here, and confirmed: the form must carry confirm=yes (a box
the admin ticks). The log line and the flash name no number; each erased entry's trail gets an
"erased" event with the admin's name (privacy.records.erase).
"""
from __future__ import annotations

import logging

from flask import g, request

from privacy.records import OpenCallback, erase, phone_key
from storage.db import transaction
from supervisor.http import answer, bp, role_required, wording
from web.runtime import runtime

log = logging.getLogger("ivr.privacy")


@bp.post("/privacy/erase")
@role_required("admin")
def privacy_erase():
    rt = runtime()
    try:
        phone = phone_key(request.form.get("phone", ""), rt.settings.allowed_countries)
    except ValueError as exc:
        return answer(400, wording().text("supervisor_erase_refused", reason=exc))
    if request.form.get("confirm") != "yes":
        return answer(400, wording().text("supervisor_erase_unconfirmed"))
    try:
        with transaction(rt.sessions) as db:
            counts = erase(db, phone, rt.clock.now(), actor=g.user.username)
    except OpenCallback:
        return answer(409, wording().text("supervisor_erase_open_callback"))
    log.info("privacy erase by %s: %d queue entries, %d calls", g.user.username, counts["entries"], counts["calls"])
    return answer(200, wording().text("supervisor_erased", **counts), **counts)
