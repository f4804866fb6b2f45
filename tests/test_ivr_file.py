"""Tests own their world: each test's IVR file is the shipped one unless the test says otherwise
(@pytest.mark.ivr), and the calendar is a fixed, injected clock."""
from __future__ import annotations

from datetime import time

import pytest

from config import DEFAULT_IVR_CONFIG, load_ivr_config
from routing import hours
from tests.conftest import OPEN_HOURS
from tests.support.ivr_file import ALWAYS_OPEN, calendar, shipped, skill, write


def test_the_shipped_file_by_default_and_a_fixed_clock(settings, runtime, clock):
    assert settings.ivr_config_path == str(DEFAULT_IVR_CONFIG)
    assert runtime.ivr_config == load_ivr_config(str(DEFAULT_IVR_CONFIG))
    assert clock.now() == OPEN_HOURS and runtime.clock is clock


def test_a_written_file_reads_back_as_the_shipped_one(tmp_path):
    raw = shipped()
    assert load_ivr_config(str(write(raw, tmp_path / "ivr.toml"))) == load_ivr_config(str(DEFAULT_IVR_CONFIG))


@pytest.mark.ivr(calendar(hours={"sat": "10:00-12:00"}, zone="Europe/Amsterdam", skills=["billing"]),
                 skill("support", callback_mode="customer_first"))
def test_a_test_chooses_hours_zone_and_fields(settings, runtime, clock):
    billing = runtime.ivr_config.skills["billing"]
    assert settings.ivr_config_path != str(DEFAULT_IVR_CONFIG)
    assert billing.timezone.key == "Europe/Amsterdam" and billing.hours == {5: (time(10), time(12))}
    assert not hours.is_open(billing, clock.now())  # Tuesday: closed in this test's world
    assert hours.next_opening(billing, clock.now()).isoformat() == "2026-11-28T09:00:00+00:00"
    assert runtime.ivr_config.skills["support"].callback_mode == "customer_first"
    assert hours.is_open(runtime.ivr_config.skills["sales"], clock.now())  # the others as shipped


@pytest.mark.ivr(calendar(hours=ALWAYS_OPEN))
def test_always_open(runtime, clock):
    clock.set(OPEN_HOURS.replace(hour=7, minute=30))  # 02:30 in New York, when the shipped file is closed
    assert all(hours.is_open(s, clock.now()) for s in runtime.ivr_config.skills.values())


def test_an_unknown_skill_is_a_mistake_in_the_test():
    with pytest.raises(KeyError, match="no such skill among"):
        skill("nope", callback_mode="customer_first")(shipped())
