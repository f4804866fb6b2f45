from datetime import datetime, timedelta, timezone

import pytest

from routing.promise import Window, callback_window, slot_window

NOW = datetime(2027, 3, 2, 15, 7, 30, tzinfo=timezone.utc)


def test_asap_window_rounds_outwards_to_five_minutes_and_contains_the_expected_time():
    w = callback_window(now=NOW, expected_seconds=600, spread_seconds=120, zone="Europe/Amsterdam")
    expected = NOW + timedelta(seconds=600)
    assert w.start <= expected <= w.end
    assert w.start.minute % 5 == 0 and w.end.minute % 5 == 0 and w.end.second == 0
    assert w.start >= NOW.replace(second=0) and w.zone == "Europe/Amsterdam"
    # 600 s - 1.5 * 120 s = 15:14:30 -> 15:10; 600 s + 2.5 * 120 s = 15:22:30 -> 15:25
    assert (w.start.strftime("%H:%M"), w.end.strftime("%H:%M")) == ("15:10", "15:25")


def test_a_certain_short_wait_still_gets_the_minimum_width_and_never_starts_in_the_past():
    w = callback_window(now=NOW, expected_seconds=0, spread_seconds=0, zone="UTC")
    assert w.start == NOW.replace(second=0)
    assert w.width_seconds >= 600


def test_window_after_closing_starts_at_the_opening():
    opening = datetime(2027, 3, 3, 13, 0, tzinfo=timezone.utc)
    w = callback_window(now=NOW, expected_seconds=300, spread_seconds=60, zone="UTC", earliest=opening)
    assert w.start == opening and w.end > opening + timedelta(seconds=300)


def test_kept_and_timing():
    w = slot_window(datetime(2027, 3, 2, 14, 0, tzinfo=timezone.utc), "America/New_York")
    assert w.width_seconds == 900
    assert w.contains(w.start) and w.contains(w.end) and not w.contains(None)
    assert w.timing(w.start - timedelta(seconds=1)) == "early"
    assert w.timing(w.end) == "on_time"
    assert w.timing(w.end + timedelta(seconds=1)) == "late"


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="naive datetime given to a window"):
        callback_window(now=NOW.replace(tzinfo=None), expected_seconds=1, spread_seconds=1, zone="UTC")
    assert isinstance(slot_window(NOW, "UTC"), Window)
