"""The "Call me back" button around closing time and across daylight-saving changes, in a real browser
(Debian chromium via Playwright), in both languages, at phone (390 px) and desktop widths, with the app's
ManualClock. What the button says must be what the phone and the waiting page say: closed now, when we
open, and the window with its date and zone, in the visitor's own zone.

Screenshots go to test-artifacts/ (gitignored) for a person to look at.
"""
from __future__ import annotations

from datetime import datetime, timezone
from functools import partial

import pytest
from playwright.sync_api import expect

# The button's page, its limits and the database as test_widget_browser.py opens and reads them.
from tests.support.browser import screenshot
from tests.webhooks.test_widget_browser import DESKTOP, PHONE, entries, generous_limits, page_for  # noqa: F401

UTC = timezone.utc


shot = partial(screenshot, prefix="widget-hours-")


def book(page, number, lang):
    """Open the button, pick billing, type the number and book as soon as possible; the dialog."""
    nl = lang == "nl"
    page.locator(".cmb-launch").click()
    dialog = page.get_by_role("dialog")
    with page.expect_response(lambda r: "skill=billing" in r.url):
        dialog.locator("select[name=skill]").select_option("billing")
    dialog.locator("select[name=country]").select_option("US")
    dialog.get_by_label("Telefoonnummer" if nl else "Phone number").fill(number)
    return dialog


# Friday 18:30 in New York, after closing (18:00), the weekend before a clock change: till Monday 08:00.
CASES = [
    # US clocks go forward on Sunday 14 March 2027, Europe's stay: Monday 08:00 New York is 13:00 in Amsterdam
    # (not the usual 14:00).
    ("us-dst", datetime(2027, 3, 12, 23, 30, tzinfo=UTC), "America/New_York", "",
     "Our billing team is closed right now. We open again on Monday 15 March at 08:00, New York time. "
     "We would call you between 08:00 and 08:10 on Monday 15 March, New York time.",
     "Callback booked: Mon, Mar 15 08:00–08:10 (New York)"),
    ("us-dst", datetime(2027, 3, 12, 23, 30, tzinfo=UTC), "Europe/Amsterdam", "?lang=nl",
     "Ons team facturen is nu gesloten. We zijn weer open op maandag 15 maart om 13:00, tijdzone Amsterdam. "
     "We zouden u bellen tussen 13:00 en 13:10 op maandag 15 maart, tijdzone Amsterdam.",
     "Terugbellen geregeld: ma 15 mrt 13:00–13:10 (Amsterdam)"),
    # Europe's clocks go forward on Sunday 28 March 2027: Monday 08:00 New York is 14:00 in Amsterdam again.
    ("eu-dst", datetime(2027, 3, 26, 22, 30, tzinfo=UTC), "Europe/Amsterdam", "",
     "Our billing team is closed right now. We open again on Monday 29 March at 14:00, Amsterdam time. "
     "We would call you between 14:00 and 14:10 on Monday 29 March, Amsterdam time.",
     "Callback booked: Mon, Mar 29 14:00–14:10 (Amsterdam)"),
    ("eu-dst", datetime(2027, 3, 26, 22, 30, tzinfo=UTC), "America/New_York", "?lang=nl",
     "Ons team facturen is nu gesloten. We zijn weer open op maandag 29 maart om 08:00, tijdzone New York. "
     "We zouden u bellen tussen 08:00 en 08:10 op maandag 29 maart, tijdzone New York.",
     "Terugbellen geregeld: ma 29 mrt 08:00–08:10 (New York)"),
]


@pytest.mark.parametrize("device,options", [("phone", PHONE), ("desktop", DESKTOP)])
@pytest.mark.parametrize("case,now,zone,lang,closed,launcher", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_closed_over_a_clock_change_the_button_says_when_we_open_and_call(
        page_for, runtime, clock, device, options, case, now, zone, lang, closed, launcher):
    clock.set(now)
    page = page_for("/demo" + lang, zone=zone, **options)
    dialog = book(page, "212 555 0150", "nl" if lang else "en")
    expect(dialog.locator(".cmb-asap-when")).to_have_text(closed)
    shot(page, f"{device}-{case}-{zone.split('/')[1].lower()}-form")
    dialog.locator(".cmb-submit").click()
    dialog.locator(".cmb-status").wait_for()
    (entry,) = entries(runtime)
    # The window told is the one the form announced: the first minutes after the opening.
    assert (entry.channel, entry.promised_zone) == ("web", zone)
    # "We would call you between ..." / "We zouden u bellen tussen ...": the same window, now promised.
    window = closed.split(". ")[-1].split(" ", 4)[-1]
    expect(dialog.locator(".cmb-result")).to_contain_text(window.rstrip("."))
    expect(page.locator(".cmb-launch")).to_have_text(launcher)
    follow = dialog.locator(".cmb-follow a")
    expect(follow).to_be_visible()
    shot(page, f"{device}-{case}-{zone.split('/')[1].lower()}-booked")
    # The waiting page behind the link tells the same window, in the same words.
    with page.context.expect_page() as opened:
        follow.click()
    waiting = opened.value
    expect(waiting.locator("body")).to_contain_text(window.rstrip("."))
    waiting.close()
    assert page.errors == []


@pytest.mark.parametrize("lang,zone,before,after", [
    ("", "America/New_York",
     "Nobody can call you back today. We would call you between 08:00 and 08:15 tomorrow, Wednesday 25 November, "
     "New York time.",
     "Our billing team is closed right now. We open again tomorrow, Wednesday 25 November at 08:00, New York time. "
     "We would call you between 08:00 and 08:15 tomorrow, Wednesday 25 November, New York time."),
    ("?lang=nl", "Europe/Amsterdam",
     "Vandaag kan niemand u meer terugbellen. We zouden u bellen tussen 14:00 en 14:15 morgen, woensdag "
     "25 november, tijdzone Amsterdam.",
     # 18:30 in New York is already Wednesday in Amsterdam: "today" is the visitor's day, not the team's.
     "Ons team facturen is nu gesloten. We zijn weer open vandaag, woensdag 25 november om 14:00, tijdzone Amsterdam. "
     "We zouden u bellen tussen 14:00 en 14:15 vandaag, woensdag 25 november, tijdzone Amsterdam."),
])
def test_across_closing_the_form_offered_again_after_a_cancel_says_we_are_closed_now(
        page_for, runtime, clock, busy_agent, lang, zone, before, after):
    """Two minutes before closing with the only agent busy, nobody can call back today; the visitor books, cancels
    after closing and is offered the form again, without a reload, which now says we are closed."""
    busy_agent("billing")
    clock.set(datetime(2026, 11, 24, 22, 58, tzinfo=UTC))  # Tuesday 17:58 in New York
    page = page_for("/demo" + lang, zone=zone, **PHONE)
    dialog = book(page, "212 555 0151", "nl" if lang else "en")
    expect(dialog.locator(".cmb-asap-when")).to_have_text(before)
    dialog.locator(".cmb-submit").click()
    dialog.locator(".cmb-status").wait_for()
    shot(page, f"phone-closing-booked{'-nl' if lang else ''}")
    clock.set(datetime(2026, 11, 24, 23, 30, tzinfo=UTC))  # 18:30: closed
    dialog.locator(".cmb-cancel").click()
    expect(dialog.locator(".cmb-status")).to_have_text(
        "Uw terugbelverzoek is geannuleerd." if lang else "Your callback is cancelled.")
    assert [e.state for e in entries(runtime)] == ["cancelled"]
    with page.expect_response(lambda r: "/api/callback-form" in r.url):
        dialog.locator(".cmb-again").click()
    expect(dialog.locator(".cmb-asap-when")).to_have_text(after)
    expect(page.locator(".cmb-launch")).to_have_text("Bel mij terug" if lang else "Call me back")
    shot(page, f"phone-closed-again{'-nl' if lang else ''}")
    dialog.locator(".cmb-submit").click()
    dialog.locator(".cmb-status").wait_for()
    assert [e.state for e in entries(runtime)] == ["cancelled", "scheduled"]
    assert page.errors == []
