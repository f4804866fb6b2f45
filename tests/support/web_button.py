"""A callback asked for on the web button, as a visitor's browser asks for it: the form token from
GET /api/callback-form, then POST /api/callbacks from the page's origin (this app's own), from the visitor's
own address. Booked at the clock's now."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from tests.conftest import PUBLIC_BASE_URL as ORIGIN  # the app's own pages


def book_on_the_web(client, config, number: str, skill: str = "billing", *, address: str = "203.0.113.1",
                    scheduled_for=None, reason: str | None = "a question", name: str | None = None,
                    customer_timezone: str | None = None, language: str = "en-US", origin: str = ORIGIN) -> dict:
    """The API's answer (201) for a new callback; `scheduled_for` (aware, whole minutes) becomes the slot the
    visitor picks in `customer_timezone`, or in the skill's zone. `origin`: the page the button is on (an app
    without PUBLIC_BASE_URL knows only the address it is reached at: the test client's is http://localhost)."""
    visitor = {"REMOTE_ADDR": address}
    origin = {"Origin": origin}
    zone = customer_timezone or config.skills[skill].timezone.key
    form = client.get("/api/callback-form", query_string={"skill": skill, "language": language, "timezone": zone},
                      headers=origin, environ_base=visitor)
    assert form.status_code == 200, form.get_json()
    body = {"phone": number, "skill": skill, "language": language, "channel": "web",
            "form_token": form.get_json()["form_token"]}
    if reason:
        body["reason"] = reason
    if name:
        body["name"] = name
    if customer_timezone:
        body["timezone"] = customer_timezone
    if scheduled_for is not None:
        assert scheduled_for.second == scheduled_for.microsecond == 0, "the form offers whole minutes"
        body.update(preferred_time=scheduled_for.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M"), timezone=zone)
    response = client.post("/api/callbacks", json=body, headers=origin, environ_base=visitor)
    assert response.status_code == 201, response.get_json()
    return response.get_json()
