"""The admin's export and erase actions (the users page): what `ivr privacy export|erase --phone` do,
from the browser.

Admin only, CSRF-checked like every form here. Export answers the JSON as a download; erase must be
confirmed (confirm=yes, a box the admin ticks). Both are recorded in privacy_requests with the admin's
name (never the number), each erased entry's trail gets an "erased" event; log lines and flashes name no
number.
"""
from __future__ import annotations

import json
import logging

from flask import Response, g, request

from privacy.records import OpenCallback, erase, export_recorded, phone_key
from storage.db import transaction
from supervisor.http import answer, bp, role_required, wording
from web.runtime import runtime

log = logging.getLogger("ivr.privacy")


def _number(rt, refused_key: str):
    """The form's number as looked for (E.164, or a caller's address as written), or the 400 answer."""
    try:
        return phone_key(request.form.get("phone", ""), rt.settings.allowed_countries), None
    except ValueError as exc:
        return None, answer(400, wording().text(refused_key, reason=exc))


@bp.post("/privacy/export")
@role_required("admin")
def privacy_export():
    rt = runtime()
    phone, refused = _number(rt, "supervisor_export_refused")
    if refused is not None:
        return refused
    with transaction(rt.sessions) as db:
        held = export_recorded(db, phone, rt.clock.now(), actor=g.user.username)
    log.info("privacy export by %s: %d queue entries, %d calls", g.user.username,
             len(held["callbacks_and_holds"]), len(held["calls"]))
    stamp = rt.clock.now().strftime("%Y%m%dT%H%M%SZ")
    return Response(json.dumps(held, indent=2, ensure_ascii=False), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="privacy-export-{stamp}.json"', "Cache-Control": "no-store"})


@bp.post("/privacy/erase")
@role_required("admin")
def privacy_erase():
    rt = runtime()
    phone, refused = _number(rt, "supervisor_erase_refused")
    if refused is not None:
        return refused
    if request.form.get("confirm") != "yes":
        return answer(400, wording().text("supervisor_erase_unconfirmed"))
    try:
        with transaction(rt.sessions) as db:
            counts = erase(db, phone, rt.clock.now(), actor=g.user.username)
    except OpenCallback:
        return answer(409, wording().text("supervisor_erase_open_callback"))
    log.info("privacy erase by %s: %d queue entries, %d calls", g.user.username, counts["entries"], counts["calls"])
    return answer(200, wording().text("supervisor_erased", **counts), **counts)
