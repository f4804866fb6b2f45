"""What a supervisor reads on the pages: figures without "– 0/0", explained where they are shown, the
site's icon, and customers' context in people's words."""
from __future__ import annotations

import re
from html import unescape

from tests.supervisor.conftest import book


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def figure_rows(page: str) -> list[str]:
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    return [text_of(row).strip() for row in body.split("<tr>")[1:]]


def test_empty_figures_say_so_in_words(sign_in):
    page = sign_in("sam").get("/supervisor/metrics?period=today").get_data(as_text=True)
    rows = figure_rows(page)
    assert [row.split()[0] for row in rows] == ["billing", "support", "sales", "general"]
    for row in rows:
        assert "0/0" not in row and "–" not in row, row
        assert "no callbacks ended yet" in row and "no callbacks connected yet" in row
        assert "no holds ended yet" in row and "nobody connected yet" in row


def test_figures_with_data_show_rates_and_counts(app, sign_in, runtime, clock):
    book(app)  # one callback requested: offered and accepted
    page = sign_in("sam").get("/supervisor/metrics?period=today").get_data(as_text=True)
    billing = figure_rows(page)[0]
    assert billing.startswith("billing 1 1 (100%) no callbacks ended yet"), billing


def test_figures_are_explained_on_the_page_not_in_a_file_name(sign_in):
    page = sign_in("sam").get("/supervisor/metrics").get_data(as_text=True)
    assert "docs/supervisor.md" not in page and ".md" not in text_of(page)
    explained = page[page.index('<details class="card how"'):]
    explained = explained[:explained.index("</details>")]
    assert "How each figure is computed" in explained
    terms = [text_of(t).strip() for t in re.findall(r"<dt>(.*?)</dt>", explained, re.S)]
    for column in ("Offered", "Accepted", "Callback success", "Callback wait median and p90",
                   "Abandoned while holding", "Service level (60s)", "Wait error", "People in line",
                   "Waits to connection"):
        assert column in terms, column


def test_the_site_icon_is_served_to_anyone(app):
    response = app.test_client().get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file


# ---- the customer's context ------------------------------------------------------------------------

def rendered(app, context: dict, *, phone="+12125550100", transcript=None, confidence=None) -> dict[str, str]:
    """The queue row's and the entry page's context for an entry with this context (as the IVR, the API
    or the dispatcher store it), as a supervisor in New York reads it."""
    from types import SimpleNamespace

    from flask import g

    from supervisor import board

    entry = SimpleNamespace(context=context, transcript=transcript, confidence=confidence, phone_number=phone)
    with app.test_request_context("/supervisor/"):
        g.user = me = SimpleNamespace(timezone="America/New_York", username="sam", role="supervisor")
        ctx = board.customer_context(entry, app.extensions["ivr"].ivr_config)
        parts = {}
        for name in ("context_row", "context_facts", "context_details"):
            template = app.jinja_env.from_string(
                '{% from "supervisor/_macros.html" import ' + name + ' with context %}{{ ' + name + '(ctx, "k") }}'
                if name == "context_row" else
                '{% from "supervisor/_macros.html" import ' + name + ' with context %}{{ ' + name + '(ctx) }}')
            parts[name] = template.render(ctx=ctx, me=me)
        return parts


def test_the_ivr_path_in_peoples_words(app):
    path = [{"step": "menu", "asked": "menu", "said": "my internet is down", "confidence": 0.82, "meaning": "support"},
            {"step": "wait_offer", "asked": "wait_offer", "keys": "1", "meaning": "yes"},
            {"step": "callback_when", "asked": "callback_when"},  # no answer: no line
            {"step": "callback_pick_time", "asked": "callback_pick_time", "keys": "1030",
             "meaning": "2026-11-25T15:30:00+00:00"}]
    parts = rendered(app, {"ivr_path": path, "caller_number": "+12125550100", "called_number": "+15005550006"})
    facts = text_of(parts["context_facts"])
    assert "Said “my internet is down” (82% sure) → technical support" in facts
    assert "Keyed 1 → yes" in facts
    assert "Keyed 1030 → Wed 25 Nov 10:30 EST" in facts  # the supervisor's zone, not the stored UTC
    assert "Callback instead of holding?" in facts and "Menu" in facts
    assert facts.count("Keyed") == 2 and "When?" not in facts  # the unanswered question is left out
    row = text_of(parts["context_row"])
    assert row.startswith(" Menu Said “my internet is down” (82% sure) → technical support (+2)")
    # the caller's own number is their callback number: not repeated; the number they rang is bookkeeping
    assert "Called from" not in facts + row and "+15005550006" not in facts + row
    assert "Number they rang" in text_of(parts["context_details"])


def test_older_entries_with_ivr_heard_and_never_an_empty_label(app):
    parts = rendered(app, {"ivr_heard": [{"step": "menu", "transcript": "billing please", "confidence": 0.9}]})
    assert "Menu Said “billing please” (90% sure)" in text_of(parts["context_facts"])
    empty = rendered(app, {"ivr_heard": [], "page_url": "", "chat_transcript": None})
    assert all(not text_of(html).strip() for html in empty.values()), empty
    assert "Ivr heard" not in str(empty)
    spoken = rendered(app, {}, transcript="I was charged twice", confidence=0.74)
    assert "Said “I was charged twice” (74% sure)" in text_of(spoken["context_row"])


def test_where_they_came_from_and_dispatcher_internals_behind_details(app):
    parts = rendered(app, {"page_url": "https://shop.example.com/invoices/7", "customer_reference": "K-778",
                           "chat_transcript": "customer: my bill is wrong\nbot: shall we call you?",
                           "caller_number": "+12125550199", "integration": "helpbot", "leg": 3,
                           "claimed_at": "2026-11-24T15:00:07.098458+00:00", "mode": "agent_first"})
    row, facts = parts["context_row"], parts["context_facts"]
    assert '<a href="https://shop.example.com/invoices/7"' in row and ">shop.example.com/invoices/7</a>" in row
    people = text_of(row + facts)
    assert "Page shop.example.com/invoices/7" in people and "Page url" not in people
    assert "Their reference K-778" in people and "Called from +12125550199" in people
    assert "Chat: customer: my bill is wrong" in people and "bot: shall we call you?" in people
    for internal in ("Leg", "leg", "Claimed", "claimed", "agent_first", "Mode", "2026-11-24T", "helpbot"):
        assert internal not in people, internal
    details = text_of(parts["context_details"])
    assert "Technical details" in details
    assert "Dial attempt (leg) 3" in details and "Who is rung first agent first" in details
    assert "Taken by the dispatcher 10:00 EST" in details and "Sent by helpbot" in details
    assert "2026-11-24T" not in details


def test_a_page_address_that_is_not_a_web_page_is_not_a_link(app):
    row = rendered(app, {"page_url": "javascript:alert(1)"})["context_row"]
    assert "<a " not in row and "javascript:alert(1)" in text_of(row)
