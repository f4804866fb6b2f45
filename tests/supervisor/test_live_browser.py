"""The queue page follows the floor live. Pages already open at phone and desktop widths, which nobody
touches, show what requests from outside make happen: an agent signing on through /api/agents, a caller
through the signed voice webhooks, a web callback through POST /api/callbacks over real HTTP, the caller
hanging up, the agent signing off. Each shows without a reload, because the page's event stream said
`change` (supervisor/live.py looks every half second) and the page fetched the fresh board.

How fast that is is measured in bench/supervisor_bench.py and never asserted here: each wait below has a
generous limit that only stops a hung test (tests/support/waiting.py)."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.support import agents_api
from tests.support.waiting import wait_for
from tests.supervisor.test_browser import api_request, page_for, row, shot  # noqa: F401 (page_for: a fixture)

PHONE = {"viewport": {"width": 360, "height": 780}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}

# Counts the `change` events the page's own EventSource receives, and the board swaps that follow them.
COUNT_LIVE_UPDATES = """
(() => {
  const Source = window.EventSource;
  window.__changes = 0;
  window.__swaps = 0;
  window.EventSource = function (url, options) {
    const source = new Source(url, options);
    source.addEventListener("change", () => { window.__changes += 1; });
    return source;
  };
  window.EventSource.prototype = Source.prototype;
  document.addEventListener("board:updated", () => { window.__swaps += 1; }, true);
})();
"""


def board_text(page) -> str:
    return page.evaluate("document.getElementById('board').innerText")


def agent_badge(page, name: str) -> str | None:
    return page.evaluate("""name => {
        const row = Array.from(document.querySelectorAll('#board tr[data-agent]'))
            .find(tr => tr.innerText.includes(name));
        return row ? row.querySelector('.badge').innerText.trim() : null;
    }""", name)


def billing_count(page) -> str:
    return page.evaluate("document.querySelector('[data-testid=count-billing]').innerText.trim()")


def test_changes_made_by_requests_show_on_open_pages_without_a_reload(
        page_for, app, live_app, twilio, monkeypatch):  # noqa: F811
    monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)
    pages = {"phone": page_for("sam", init_script=COUNT_LIVE_UPDATES, **PHONE),
             "desktop": page_for("kim", init_script=COUNT_LIVE_UPDATES, **DESKTOP)}
    for page in pages.values():
        assert row(page, "Grace Hopper").count() == 0 and agent_badge(page, "Ann Lee") is None
        page.evaluate("window.__notReloaded = true")

    def made_shows(request, what: str, condition):
        """Make `request`; every open page then comes to show `what` by itself, through its event stream and a
        board swap (counted from before the request, so a quick update is not missed)."""
        before = {name: page.evaluate("[window.__changes, window.__swaps]") for name, page in pages.items()}
        result = request()
        for name, page in pages.items():
            wait_for(lambda: condition(page), f"the {name} page to show {what}")
            changes, swaps = page.evaluate("[window.__changes, window.__swaps]")
            assert changes > before[name][0] and swaps > before[name][1], (name, what, before[name])
            assert page.evaluate("window.__notReloaded") is True, (name, what)
        return result

    agents = app.test_client()
    ann = made_shows(lambda: agents_api.add_available(agents, "Ann Lee", "+14155550101", ["billing"]),
                     "Ann signed on", lambda page: agent_badge(page, "Ann Lee") == "available")

    def ring():
        call = twilio.call(from_number="+12125550142")
        call.press("1")  # billing: Ann is free, so the caller holds for her
        return call

    call = made_shows(ring, "the caller holding",
                      lambda page: "+12125550142" in board_text(page) and billing_count(page) == "1")

    made_shows(lambda: api_request(live_app, {"phone": "+12125550177", "name": "Grace Hopper", "skill": "billing",
                                              "reason": "charged twice for November", "channel": "api"}),
               "the web callback",
               lambda page: "charged twice for November" in board_text(page) and billing_count(page) == "2")
    for name, page in pages.items():
        expect(row(page, "Grace Hopper")).to_contain_text("+12125550177")
        shot(page, f"live-{name}")

    made_shows(call.hang_up, "the holder gone",
               lambda page: "+12125550142" not in board_text(page) and billing_count(page) == "1")

    def sign_off():
        off = agents.put(f"/api/agents/{ann}/state", json={"state": "offline"},
                         headers={"Authorization": f"Bearer {agents_api.TOKEN}"})
        assert off.status_code == 200, off.get_data(as_text=True)

    made_shows(sign_off, "Ann signed off", lambda page: agent_badge(page, "Ann Lee") == "offline")
    for page in pages.values():
        assert page.errors == []
