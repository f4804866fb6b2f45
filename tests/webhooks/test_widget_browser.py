"""The "Call me back" button in a real browser (Debian chromium via Playwright) on the demo page.

Screenshots go to test-artifacts/ (gitignored) for a person to look at.
"""
from __future__ import annotations

from functools import partial

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from storage.models import QueueEntry
from tests.support import agents_api
from tests.support.browser import PATIENCE_MS, Pages, screenshot

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


@pytest.fixture(autouse=True)
def generous_limits(app):
    app.config.update(CALLBACK_LIMIT_PER_IP="1000/minute", CALLBACK_LIMIT_PER_NUMBER="1000/minute",
                      CALLBACK_LIMIT_STATUS_PER_IP="1000/minute")


@pytest.fixture
def page_for(browser, live_app):
    """The demo page with the button, in a visitor's zone; a missing file (e.g. /favicon.ico) is an error, a
    refusal of the booking is what a test looks at."""
    with Pages(browser, live_app, failed=lambda r: r.status == 404) as pages:
        yield lambda path="/demo", zone="Europe/Amsterdam", **options: pages.open(path, timezone_id=zone,
                                                                                  locale="en-US", **options)


shot = partial(screenshot, prefix="widget-")


def book_billing(page, number: str):
    """Book a billing callback on the button for a US number, as a visitor does; its dialog, showing the status."""
    page.get_by_role("button", name="Call me back").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Country").select_option("US")
    dialog.get_by_label("Phone number").fill(number)
    dialog.get_by_label("What is it about?").select_option(label="billing")
    dialog.get_by_role("button", name="Call me back").click()
    dialog.locator(".cmb-status").wait_for()
    return dialog


def entries(runtime):
    with runtime.sessions() as s:
        # not the callback a busy agent is on (agents_api.put_on_a_call)
        return list(s.scalars(select(QueueEntry).where(QueueEntry.phone_number != agents_api.BUSY_CUSTOMER)
                              .order_by(QueueEntry.id)))


@pytest.mark.parametrize("device,options", [("desktop", DESKTOP), ("phone", PHONE)])
def test_book_see_position_and_cancel(page_for, runtime, device, options, busy_agent):
    busy_agent("billing")
    page = page_for(**options)
    page.get_by_role("button", name="Call me back").click()
    dialog = page.get_by_role("dialog", name="We'll call you back")
    dialog.get_by_label("Country").select_option("US")
    dialog.get_by_label("Phone number").fill("212 555 0142")
    dialog.get_by_label("Your name (optional)").fill("Ann Smith")
    dialog.get_by_label("What is it about?").select_option(label="billing")
    dialog.get_by_label("Tell us briefly (optional)").fill("The last invoice is charged twice")
    shot(page, f"{device}-form")
    dialog.get_by_role("button", name="Call me back").click()

    status = dialog.locator(".cmb-status")
    status.wait_for()
    assert status.inner_text() == "You are number 1 in line."
    # The window, in the visitor's own zone (the browser's), named, with the date: the words the phone uses.
    assert dialog.locator(".cmb-wait").inner_text() == (
        "We will call you between 16:00 and 16:20 today, Tuesday 24 November, Amsterdam time.")
    expect(page.locator(".cmb-launch")).to_have_text("Callback booked: Tue, Nov 24 16:00–16:20 (Amsterdam)")
    shot(page, f"{device}-booked")
    (entry,) = entries(runtime)
    assert (entry.channel, entry.skill, entry.phone_number, entry.state) == ("web", "billing", "+12125550142", "queued")
    assert entry.caller_name == "Ann Smith"
    assert entry.context["page_url"].endswith("/demo")

    dialog.get_by_role("button", name="Cancel my callback").click()
    dialog.get_by_text("Your callback is cancelled.").wait_for()
    shot(page, f"{device}-cancelled")
    assert "already have a callback" not in dialog.inner_text()
    assert [e.state for e in entries(runtime)] == ["cancelled"]
    # The form is offered again, without a reload, and books a new callback.
    dialog.get_by_role("button", name="Book a new callback").click()
    dialog.get_by_role("button", name="Call me back").click()
    expect(dialog.locator(".cmb-status")).to_have_text("You are number 1 in line.")
    shot(page, f"{device}-booked-again")
    assert [e.state for e in entries(runtime)] == ["cancelled", "queued"]
    assert page.errors == []


def test_failed_validation_is_shown_at_the_field(page_for, runtime):
    page = page_for(**DESKTOP)
    page.get_by_role("button", name="Call me back").click()
    dialog = page.get_by_role("dialog")
    submit = dialog.get_by_role("button", name="Call me back")

    submit.click()  # nothing entered: checked in the browser
    phone = dialog.get_by_label("Phone number")
    assert dialog.get_by_text("Please enter your phone number.").is_visible()
    assert phone.get_attribute("aria-invalid") == "true"

    dialog.get_by_label("Country").select_option("US")
    phone.fill("900 555 0100")  # looks fine locally; the server refuses premium numbers
    submit.click()
    error = dialog.get_by_text("We cannot call premium-rate or shared-cost numbers.")
    error.wait_for()
    assert phone.get_attribute("aria-invalid") == "true"
    shot(page, "desktop-refused")
    assert entries(runtime) == []
    assert page.errors == []


def test_scheduled_slot_in_dutch(page_for, runtime):
    page = page_for("/demo?lang=nl", **PHONE)
    page.get_by_role("button", name="Bel mij terug").click()
    dialog = page.get_by_role("dialog", name="Wij bellen u terug")
    dialog.get_by_label("Telefoonnummer").fill("020 123 4567")  # Netherlands preselected, trunk 0 dropped
    with page.expect_response(lambda r: "skill=billing" in r.url):  # the slots follow the topic
        dialog.get_by_label("Waar gaat het over?").select_option(label="facturen")
    dialog.get_by_text("Op een tijdstip dat mij past").click()
    slot = dialog.get_by_label("Tijdstip", exact=True)
    options = slot.locator("option").all()
    assert options, "no slots offered"
    chosen = options[3].get_attribute("value")
    slot.select_option(chosen)
    dialog.get_by_role("button", name="Bel mij terug").click()
    status = dialog.locator(".cmb-status")
    status.wait_for()
    hour = chosen.split("T")[1]
    assert status.inner_text().startswith(f"We bellen u tussen {hour} en ")
    assert status.inner_text().endswith(", tijdzone Amsterdam.")
    shot(page, "phone-scheduled-nl")
    (entry,) = entries(runtime)
    assert (entry.phone_number, entry.state, entry.language, entry.customer_timezone) == (
        "+31201234567", "scheduled", "nl-NL", "Europe/Amsterdam")


def test_hostile_name_is_shown_as_text(page_for, runtime):
    hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    page = page_for(**DESKTOP)
    page.get_by_role("button", name="Call me back").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Country").select_option("US")
    dialog.get_by_label("Phone number").fill("212 555 0143")
    dialog.get_by_label("Your name (optional)").fill(hostile)
    dialog.get_by_role("button", name="Call me back").click()
    thanks = dialog.locator(".cmb-thanks")
    thanks.wait_for()
    assert thanks.inner_text() == f"Thank you, {hostile}."
    assert dialog.locator("img").count() == 0
    assert page.errors == []  # no alert() ran
    assert entries(runtime)[0].caller_name == hostile


@pytest.mark.parametrize("device,options", [("desktop", DESKTOP), ("phone", PHONE)])
def test_booked_callback_survives_a_reload(page_for, runtime, device, options, busy_agent):
    busy_agent("billing")
    page = page_for(**options)
    launcher = page.locator(".cmb-launch")
    book_billing(page, "212 555 0144")
    expect(launcher).to_have_text("Callback booked: Tue, Nov 24 16:00–16:20 (Amsterdam)")
    page.reload()
    # The launcher says so before it is opened: booked, and when.
    expect(launcher).to_have_text("Callback booked: Tue, Nov 24 16:00–16:20 (Amsterdam)")
    box, width = launcher.bounding_box(), options["viewport"]["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
    shot(page, f"{device}-launcher-booked")
    launcher.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Cancel my callback").click()
    dialog.get_by_text("Your callback is cancelled.").wait_for()
    expect(launcher).to_have_text("Call me back")
    page.reload()
    expect(launcher).to_have_text("Call me back")
    assert page.errors == []


def test_a_scheduled_callback_shows_its_time_on_the_launcher_in_dutch(page_for, runtime):
    page = page_for("/demo?lang=nl", **PHONE)
    page.get_by_role("button", name="Bel mij terug").click()
    dialog = page.get_by_role("dialog", name="Wij bellen u terug")
    dialog.get_by_label("Telefoonnummer").fill("020 123 4568")
    with page.expect_response(lambda r: "skill=billing" in r.url):
        dialog.get_by_label("Waar gaat het over?").select_option(label="facturen")
    dialog.get_by_text("Op een tijdstip dat mij past").click()
    slot = dialog.get_by_label("Tijdstip", exact=True)
    chosen = slot.locator("option").nth(3).get_attribute("value")
    slot.select_option(chosen)
    dialog.get_by_role("button", name="Bel mij terug").click()
    dialog.locator(".cmb-status").wait_for()
    page.reload()
    launcher = page.locator(".cmb-launch")
    expect(launcher).to_contain_text("Terugbellen geregeld: ")
    expect(launcher).to_contain_text(chosen.split("T")[1])  # the agreed time, as the confirmation said it
    shot(page, "phone-launcher-scheduled-nl")
    assert page.errors == []


@pytest.mark.parametrize("typed,advice", [
    ("12345", "This number is too short. Enter the whole number, area code included."),
    ("212 555 01x2", "Use digits only; spaces and dashes are fine (e.g. 212 555 0142)."),
    ("1234567890123456", "This number is too long. Please check it."),
])
def test_a_number_that_is_plainly_wrong_gets_the_right_advice(page_for, runtime, typed, advice):
    page = page_for(**DESKTOP)
    page.get_by_role("button", name="Call me back").click()
    dialog = page.get_by_role("dialog")
    phone = dialog.get_by_label("Phone number")
    phone.fill(typed)
    dialog.get_by_role("button", name="Call me back").click()
    error = dialog.locator("#cmb-phone-error")
    expect(error).to_have_text(advice)
    assert "country code" not in error.inner_text()
    assert phone.get_attribute("aria-invalid") == "true"
    assert entries(runtime) == []


# Each option's text against the room the closed dropdown gives it (padding and arrow taken off).
COUNTRY_FIT = """() => {
  const select = document.querySelector('.cmb-host').shadowRoot.querySelector('select[name=country]');
  const style = getComputedStyle(select);
  const pen = document.createElement('canvas').getContext('2d');
  pen.font = style.font;
  const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
  return Array.from(select.options).map(o => [o.text, Math.ceil(pen.measureText(o.text).width), Math.floor(room)]);
}"""


@pytest.mark.parametrize("path,options,button", [("/demo", DESKTOP, "Call me back"), ("/demo", PHONE, "Call me back"),
                                                 ("/demo?lang=nl", {**PHONE, "viewport": {"width": 360, "height": 740}},
                                                  "Bel mij terug")])
def test_the_country_names_are_shown_in_full(page_for, runtime, path, options, button):
    page = page_for(path, **options)
    page.get_by_role("button", name=button).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator("select[name=country] option")).to_have_count(6)
    for text, needed, room in page.evaluate(COUNTRY_FIT):
        assert needed <= room, f"{text!r} needs {needed}px, the dropdown shows {room}px"
    width = options["viewport"]["width"]
    shot(page, f"{'phone' if width < 500 else 'desktop'}-{width}-form-{'nl' if 'nl' in path else 'en'}")


def test_position_updates_live_when_a_phone_caller_ahead_leaves(page_for, twilio, runtime, clock, busy_agent):
    busy_agent("billing")
    caller = twilio.call(from_number="+12125550100")
    caller.press("1")  # billing
    caller.press("2")  # hold: first in line
    clock.advance(60)
    page = page_for("/demo?refresh=2", **DESKTOP)
    status = book_billing(page, "212 555 0145").locator(".cmb-status")
    assert status.inner_text() == "You are number 2 in line."  # behind the phone caller, same line
    caller.hang_up()
    page.wait_for_function(
        "() => document.querySelector('.cmb-host').shadowRoot.querySelector('.cmb-status').textContent"
        " === 'You are number 1 in line.'", timeout=PATIENCE_MS)


def test_embedded_on_another_site(browser, app, live_app, runtime):
    """The real deployment: the button on a shop's own site (another origin), allowed by CALLBACK_WIDGET_ORIGINS."""
    from flask import Flask

    from tests.support.live_server import serve

    shop = Flask("shop")

    @shop.get("/")
    def home():
        return (f'<!doctype html><html lang="en"><body><h1>Shop</h1>'
                f'<script src="{live_app}/static/widget/callback-button.js" data-reference="SHOP-42" defer>'
                f'</script></body></html>')

    with serve(shop, host="127.0.0.1") as shop_url:
        shop_origin = shop_url.replace("127.0.0.1", "localhost")  # another origin than the app's 127.0.0.1
        context = browser.new_context(timezone_id="America/New_York")
        try:
            page = context.new_page()
            page.set_default_timeout(PATIENCE_MS)

            def book(number):
                page.goto(shop_origin + "/")
                page.get_by_role("button", name="Call me back").click()
                dialog = page.get_by_role("dialog")
                dialog.get_by_label("Country").select_option("US")
                dialog.get_by_label("Phone number").fill(number)
                dialog.get_by_role("button", name="Call me back").click()
                return dialog

            # Not on the allow-list: the form cannot even load its token.
            app.config["CALLBACK_WIDGET_ORIGINS"] = ()
            page.goto(shop_origin + "/")
            page.get_by_role("button", name="Call me back").click()
            page.get_by_role("dialog").get_by_role("alert").wait_for()
            assert entries(runtime) == []

            app.config["CALLBACK_WIDGET_ORIGINS"] = (shop_origin,)
            dialog = book("212 555 0146")
            dialog.locator(".cmb-status").wait_for()
            assert dialog.locator(".cmb-status").inner_text() == "You are number 1 in line."
            (entry,) = entries(runtime)
            assert entry.context == {"page_url": shop_origin + "/", "customer_reference": "SHOP-42"}
            dialog.get_by_role("button", name="Cancel my callback").click()
            dialog.get_by_text("Your callback is cancelled.").wait_for()
            assert entries(runtime)[0].state == "cancelled"
        finally:
            context.close()


def test_the_country_list_is_the_operators_allowed_countries(page_for, runtime):
    from dataclasses import replace

    runtime.settings = replace(runtime.settings, allowed_countries=("NL", "SE"))
    page = page_for()
    page.get_by_role("button", name="Call me back").click()
    dialog = page.get_by_role("dialog", name="We'll call you back")
    country = dialog.get_by_label("Country")
    expect_options = [("NL", "+31 Netherlands"), ("SE", "+46 Sweden")]
    options = country.locator("option")
    expect(options).to_have_count(2)  # the list the server sent replaces the built-in one
    assert [(options.nth(i).get_attribute("value"), options.nth(i).inner_text()) for i in range(2)] == expect_options
    country.select_option("SE")
    dialog.get_by_label("Phone number").fill("070 123 45 67")  # the national trunk 0 is dropped
    dialog.get_by_label("What is it about?").select_option(label="billing")
    dialog.get_by_role("button", name="Call me back").click()
    dialog.locator(".cmb-status").wait_for()
    assert [e.phone_number for e in entries(runtime)] == ["+46701234567"]
    assert page.errors == []


def test_while_only_the_agent_rings_the_widget_does_not_say_we_are_calling(page_for, app, runtime, clock, busy_agent):
    from tests.support import agents_api

    busy_agent("billing")
    page = page_for("/demo?refresh=2", **PHONE)
    dialog = book_billing(page, "212 555 0146")
    # (busy_agent set the API token.)
    agents_api.add_available(app.test_client(), "Ann", "+14155550101", ["billing"], wrap_up_seconds=0)
    clock.advance(5)  # the dispatcher places a call a second: the busy agent's two legs were placed just now
    runtime.extras["dispatcher"].run_once()  # agent first: Ann's phone rings, the customer's does not yet
    assert [e.state for e in entries(runtime)] == ["dialing_agent"]
    expect(dialog.locator(".cmb-status")).to_have_text(
        "An agent is being connected; your phone will ring in a moment.", timeout=PATIENCE_MS)
    expect(page.locator(".cmb-launch")).to_have_text("Callback: an agent is being connected")
    assert "We are calling you now" not in dialog.inner_text()
    shot(page, "phone-connecting")
    assert page.errors == []


def test_a_cancel_too_late_is_told_in_the_operators_words(page_for, app, runtime, clock, busy_agent, twilio):
    """The button still shows the callback waiting (its polls held back here) when the customer is already
    talking with an agent: Cancel is refused (409 transition_refused) and the button says, in the IVR file's
    words, that it can no longer be cancelled, never the API's English detail; the booking stands."""
    import re

    from tests.support.outbound_legs import Outbound

    busy_agent("billing")
    page = page_for(**PHONE)
    dialog = book_billing(page, "212 555 0147")
    status = re.compile(r"/api/callbacks/[0-9a-f]+\?token=")
    page.route(status, lambda route: route.abort() if route.request.method == "GET" else route.continue_())
    agents_api.add_available(app.test_client(), "Ann", "+14155550101", ["billing"], wrap_up_seconds=0)
    clock.advance(5)  # the dispatcher places a call a second: the busy agent's two legs were placed just now
    runtime.extras["dispatcher"].run_once()
    legs = Outbound(twilio)
    legs.to("+14155550101").answer().press("1")
    legs.to("+12125550147").answer().amd("human")
    assert [e.state for e in entries(runtime)] == ["connected"]
    dialog.get_by_role("button", name="Cancel my callback").click()
    words = runtime.ivr_config.prompts["en-US"]["button_code_transition_refused"]
    expect(dialog.locator(".cmb-alert")).to_have_text(words)
    shot(page, "phone-cancel-too-late")
    assert [e.state for e in entries(runtime)] == ["connected"]
    assert page.errors == []
