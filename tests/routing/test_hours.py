from datetime import date, datetime, time, timedelta, timezone

import pytest

from config import load_ivr_config
from routing import hours

NY = load_ivr_config().skills["billing"]  # Mon-Fri 08:00-18:00 America/New_York


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def test_open_inside_hours_in_the_skill_zone():
    assert hours.is_open(NY, utc(2026, 11, 24, 13, 0))       # Tue 08:00 EST
    assert not hours.is_open(NY, utc(2026, 11, 24, 12, 59))  # Tue 07:59 EST
    assert not hours.is_open(NY, utc(2026, 11, 24, 23, 0))   # Tue 18:00 EST: closing time is closed
    assert not hours.is_open(NY, utc(2026, 11, 28, 15, 0))   # Saturday


def test_next_opening_skips_the_weekend():
    assert hours.next_opening(NY, utc(2026, 11, 27, 23, 30)) == utc(2026, 11, 30, 13, 0)
    now = utc(2026, 11, 24, 15, 0)
    assert hours.next_opening(NY, now) == now


def test_next_opening_uses_summer_time_after_the_change():
    # Friday 2027-03-12 evening EST; Monday 2027-03-15 08:00 is EDT (UTC-4).
    assert hours.next_opening(NY, utc(2027, 3, 13, 0, 0)) == utc(2027, 3, 15, 12, 0)


def test_a_time_the_clocks_skip_is_refused():
    with pytest.raises(hours.TimeRefused) as refused:
        hours.local_to_utc(date(2027, 3, 14), time(2, 30), NY.timezone)
    assert refused.value.reason == "dst_gap"


def test_a_time_that_happens_twice_means_the_first():
    # 2026-11-01 01:30 happens in EDT (05:30 UTC) and again in EST (06:30 UTC).
    assert hours.local_to_utc(date(2026, 11, 1), time(1, 30), NY.timezone) == utc(2026, 11, 1, 5, 30)


@pytest.mark.parametrize("when,reason", [
    (utc(2026, 11, 24, 14, 0), "past"),
    (utc(2026, 12, 30, 15, 0), "horizon"),
    (utc(2026, 11, 25, 2, 0), "closed"),
])
def test_callback_times_refused_with_a_reason(when, reason):
    rules = hours.BookingRules(horizon=timedelta(days=14))
    with pytest.raises(hours.TimeRefused) as refused:
        hours.check_callback_time(NY, when, utc(2026, 11, 24, 15, 0), rules)
    assert refused.value.reason == reason


def test_describe_local_in_both_languages():
    now = utc(2026, 11, 24, 15, 0)
    assert hours.describe_local(utc(2026, 11, 25, 19, 30), NY.timezone, now, "en-US") == "tomorrow at 14:30"
    assert hours.describe_local(utc(2026, 11, 24, 19, 30), NY.timezone, now, "nl-NL") == "vandaag om 14:30"
    assert hours.describe_local(utc(2026, 11, 30, 13, 0), NY.timezone, now, "en-US") == "on Monday 30 at 08:00"
