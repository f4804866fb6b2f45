"""The pure predictor on fixed vectors (no database): routing/predictor.py."""
import math
from datetime import datetime, timedelta, timezone

from routing.predictor import Handle, Hours, Line, Supply, calibrated, predict

NOW = datetime(2027, 3, 2, 14, 0, tzinfo=timezone.utc)
OPEN = Hours(spans=((NOW - timedelta(hours=6), NOW + timedelta(hours=4)),
                    (NOW + timedelta(hours=18), NOW + timedelta(hours=28))))
AHT = Handle(mean=240.0, sd=120.0)


def busy(n, share=1.0):
    return [Supply(share=share) for _ in range(n)]


def test_a_free_agent_means_no_wait():
    e = predict(Line(ahead=0), busy(1) + [Supply(share=1.0, free=True)], AHT, OPEN, NOW)
    assert (e.status, e.seconds, e.announceable) == ("now", 0, True)


def test_queue_length_over_capacity_not_steps():
    # 10 busy agents, 4 ahead: the new caller waits for 5 departures at 10 per 240 s = 120 s
    e = predict(Line(ahead=4), busy(10), AHT, OPEN, NOW)
    assert (e.status, e.seconds) == ("wait", 120)
    # one ahead more is 24 s more, not a whole handle time
    assert predict(Line(ahead=5), busy(10), AHT, OPEN, NOW).seconds == 144


def test_free_agents_take_the_first_ones_at_once():
    e = predict(Line(ahead=3), busy(8) + [Supply(share=1.0, free=True)] * 2, AHT, OPEN, NOW)
    assert e.seconds == 48  # 3 - 2 + 1 = 2 departures at 10 / 240 s


def test_multi_skill_agents_count_as_their_share():
    full = predict(Line(ahead=1), busy(2), AHT, OPEN, NOW).seconds
    half = predict(Line(ahead=1), busy(2, share=0.5), AHT, OPEN, NOW).seconds
    assert half == 2 * full == 480


def test_scheduled_callbacks_falling_due_before_the_turn_are_counted():
    plain = predict(Line(ahead=3), busy(1), AHT, OPEN, NOW).seconds  # 960 s
    soon = (NOW + timedelta(seconds=100), NOW + timedelta(seconds=200))
    late = (NOW + timedelta(hours=2),)
    assert predict(Line(ahead=3, due=soon + late), busy(1), AHT, OPEN, NOW).seconds == plain + 2 * 240


def test_nobody_staffed_announces_no_wait_and_names_the_next_opening():
    e = predict(Line(ahead=2), [Supply(share=1.0, on_from=NOW + timedelta(hours=18))], AHT, OPEN, NOW)
    assert e.status == "unstaffed" and not e.announceable and e.seconds is None
    assert e.resume_at == NOW + timedelta(hours=18)
    assert e.expected_at == NOW + timedelta(hours=18, seconds=3 * 240)
    nobody = predict(Line(ahead=0), [], AHT, OPEN, NOW)
    assert nobody.status == "unstaffed" and nobody.expected_at is None and nobody.window(NOW, "UTC") is not None


def test_a_wait_past_closing_is_not_told():
    # 1 agent, 70 ahead: 71 * 240 s is past the closing in 4 h
    e = predict(Line(ahead=70), busy(1), AHT, OPEN, NOW)
    assert e.status == "after_closing" and not e.announceable
    assert e.resume_at == NOW + timedelta(hours=18)
    assert e.expected_at > e.resume_at
    w = e.window(NOW, "Europe/Amsterdam")
    assert w.start >= e.resume_at


def test_closed_now_gives_the_opening_and_a_window_after_it():
    night = NOW + timedelta(hours=6)
    e = predict(Line(ahead=0), busy(2), AHT, OPEN, night)
    assert e.status == "closed" and e.resume_at == NOW + timedelta(hours=18)
    w = e.window(night, "UTC")
    assert w.start == e.resume_at and w.end > w.start


def test_a_shift_ending_slows_the_line():
    leaving = [Supply(share=1.0, on_until=NOW + timedelta(seconds=240))] + busy(1)
    # 4 departures: 2 agents for 240 s (2 departures), then 1 agent for 2 more (480 s)
    assert predict(Line(ahead=3), leaving, AHT, OPEN, NOW).seconds == 720


def test_spread_grows_with_the_wait_and_the_window_holds_the_expectation():
    short = predict(Line(ahead=1), busy(5), AHT, OPEN, NOW)
    long = predict(Line(ahead=20), busy(5), AHT, OPEN, NOW)
    assert long.spread_seconds > short.spread_seconds > 0
    w = long.window(NOW, "UTC")
    assert w.start <= NOW + timedelta(seconds=long.seconds) <= w.end


def test_a_callback_adds_the_customers_ring():
    ring = Handle(mean=240.0, sd=120.0, customer_ring=15.0)
    assert predict(Line(ahead=4), busy(10), ring, OPEN, NOW, callback=True).seconds == 135


def test_calibration_is_the_waits_had_over_the_models_within_bounds():
    assert calibrated([(100.0, 150.0)] * 5) == 1.5
    assert calibrated([(100.0, 150.0)] * 4) == 1.0  # too few to trust
    assert calibrated([(100.0, 1000.0)] * 5) == 3.0 and calibrated([(100.0, 0.0)] * 5) == 0.5
    assert calibrated([(0.0, 50.0)] * 6) == 1.0  # the model said nothing to scale


def test_a_scale_stretches_the_wait_and_keeps_the_models_own():
    # 10 busy agents, 4 ahead: the model says 120 s; a scale of 1.5 tells 180 s (the ring is not scaled)
    ring = Handle(mean=240.0, sd=120.0, customer_ring=15.0)
    e = predict(Line(ahead=4), busy(10), ring, OPEN, NOW, callback=True, scale=1.5)
    assert (e.status, e.seconds, e.model_seconds) == ("wait", 195, 135)
    assert e.expected_at == NOW + timedelta(seconds=195)
    # the model's wait 2 h 20 min fits before closing (4 h); scaled by 2 it does not: no wait is told
    assert predict(Line(ahead=349), busy(10), AHT, OPEN, NOW).seconds == 350 * 24
    late = predict(Line(ahead=349), busy(10), AHT, OPEN, NOW, scale=2.0)
    assert (late.status, late.seconds, late.announceable) == ("after_closing", None, False)


def test_a_free_agent_is_not_scaled():
    e = predict(Line(ahead=0), [Supply(share=1.0, free=True)], AHT, OPEN, NOW, scale=2.0)
    assert (e.status, e.seconds) == ("now", 0)


# Talk times measured (routing.estimate.handle_time): the wait is the median of sample paths of the line.
TALK = Handle(mean=270.0, sd=120.0, talk_mu=math.log(240.0) - 0.1, talk_sigma=0.45, wrap=30.0)


def talking(n, elapsed=60.0):
    return [Supply(share=1.0, phase="talking", elapsed=elapsed, wrap=30.0) for _ in range(n)]


def test_measured_talk_times_give_the_median_not_the_mean():
    # 10 agents all 60 s into their talks (a median talk is 217 s), 4 ahead: 5 departures, later than
    # the fluid mean's 5 * 270 / 10 = 135 s, which takes the agents anywhere in their entries
    e = predict(Line(ahead=4), talking(10), TALK, OPEN, NOW)
    assert e.status == "wait" and e.seconds == e.model_seconds == 170
    # the same inputs give the same wait (the sample paths have a fixed seed); one more ahead waits longer
    assert predict(Line(ahead=4), talking(10), TALK, OPEN, NOW).seconds == 170
    assert predict(Line(ahead=5), talking(10), TALK, OPEN, NOW).seconds > 170
    # agents far into their talks free up sooner
    assert predict(Line(ahead=4), talking(10, elapsed=300.0), TALK, OPEN, NOW).seconds < 135


def test_what_is_left_of_the_talks_in_progress_counts():
    soon = predict(Line(ahead=0), talking(4, elapsed=400.0), TALK, OPEN, NOW).seconds
    later = predict(Line(ahead=0), talking(4, elapsed=5.0), TALK, OPEN, NOW).seconds
    assert soon < later
    # an agent 20 s into a 30 s wrap-up takes the caller in 10 s
    wrapping = [Supply(share=1.0, phase="wrap_up", elapsed=20.0, wrap=30.0)] + talking(3, elapsed=5.0)
    assert predict(Line(ahead=0), wrapping, TALK, OPEN, NOW).seconds == 10


def test_holders_ahead_who_hang_up_shorten_the_wait():
    patient = predict(Line(ahead=10, holders=10), talking(4), TALK, OPEN, NOW).seconds
    leaving = predict(Line(ahead=10, holders=10, abandon_rate=1 / 120), talking(4), TALK, OPEN, NOW).seconds
    callbacks = predict(Line(ahead=10, holders=0, abandon_rate=1 / 120), talking(4), TALK, OPEN, NOW).seconds
    assert leaving < 0.75 * patient and callbacks == patient


def test_the_paths_count_shares_shifts_and_callbacks_falling_due():
    full = predict(Line(ahead=1), talking(2), TALK, OPEN, NOW).seconds
    half = [Supply(share=0.5, phase="talking", elapsed=60.0, wrap=30.0) for _ in range(2)]
    assert predict(Line(ahead=1), half, TALK, OPEN, NOW).seconds > 1.5 * full
    leaving = [Supply(share=1.0, phase="talking", elapsed=60.0, on_until=NOW + timedelta(seconds=240))] + talking(1)
    assert predict(Line(ahead=3), leaving, TALK, OPEN, NOW).seconds > predict(Line(ahead=3), talking(2), TALK,
                                                                             OPEN, NOW).seconds + 100
    soon = (NOW + timedelta(seconds=100), NOW + timedelta(seconds=200))
    assert predict(Line(ahead=3, due=soon), talking(1), TALK, OPEN, NOW).seconds == \
        predict(Line(ahead=5), talking(1), TALK, OPEN, NOW).seconds


def test_a_holder_hears_the_agents_answer_added():
    answer = Handle(mean=240.0, sd=120.0, answer=4.0)
    assert predict(Line(ahead=0), [Supply(share=1.0, free=True)], answer, OPEN, NOW).seconds == 4
    assert predict(Line(ahead=4), busy(10), answer, OPEN, NOW).seconds == 120 + 4


def test_places_of_one_line_read_their_turns_from_shared_paths_as_if_each_were_alone():
    """The slip pass draws a line's sample paths once and reads each callback's turn from its place: the
    same estimate, place for place, as drawing the paths for each alone (read here from the back first,
    so the shared paths are drawn furthest before the front places read them)."""
    staff = talking(3) + [Supply(share=0.5, phase="wrap_up", elapsed=10.0, wrap=30.0),
                          Supply(share=1.0, on_from=NOW + timedelta(seconds=900))]
    due = (NOW + timedelta(seconds=300), NOW + timedelta(seconds=1300))
    lines = [Line(ahead=n, holders=n // 2, abandon_rate=1 / 400, due=due[:n % 3]) for n in range(25)]
    alone = [predict(line, staff, TALK, OPEN, NOW, callback=True) for line in lines]
    shared: dict = {}
    together = [predict(line, staff, TALK, OPEN, NOW, callback=True, paths=shared) for line in reversed(lines)]
    assert together[::-1] == alone
    assert "paths" in shared and len({e.seconds for e in alone}) > 10


def test_a_retry_falling_due_later_is_served_from_its_own_time():
    free = [Supply(share=1.0, free=True)]
    # Nobody else in line: the free agent is still free at its time, 120 s from now.
    alone = predict(Line(ahead=0, not_before=120.0), free, AHT, OPEN, NOW)
    assert (alone.status, alone.seconds) == ("wait", 120)
    # Someone after it in line takes the free agent meanwhile: it waits for that entry's handle time.
    after = predict(Line(ahead=0, not_before=120.0, behind=1), free, AHT, OPEN, NOW)
    assert after.seconds == 240
    # Never before its own time, even when departures come sooner.
    assert predict(Line(ahead=0, not_before=300.0), busy(10), AHT, OPEN, NOW).seconds == 300
    # Someone ahead takes the free agent first: nobody is free at its time, and at 240 s it comes before
    # the one after it (not a whole extra service for them).
    assert predict(Line(ahead=1, not_before=120.0, behind=1), free, AHT, OPEN, NOW).seconds == 240
    # Two ahead, one agent busy for 240 s each: by its time (2400 s) the agent has served the two ahead and
    # some of those after it; it is served at the first departure after its own time.
    assert predict(Line(ahead=2, not_before=2400.0, behind=20), busy(1), AHT, OPEN, NOW).seconds == 2640


def test_the_sample_paths_serve_a_retry_from_its_own_time():
    free = [Supply(share=1.0, free=True)]
    assert predict(Line(ahead=0, not_before=120.0), free, TALK, OPEN, NOW).seconds == 120
    after = predict(Line(ahead=0, not_before=120.0, behind=1), free, TALK, OPEN, NOW).seconds
    # The agent takes the one after it at once; the retry waits for that whole entry (its median).
    assert 200 < after < 300


def test_a_callback_wait_is_the_median_of_reached_and_missed_first_calls():
    from dataclasses import replace
    staff = talking(3)
    line = Line(ahead=4)
    alone = predict(line, staff, TALK, OPEN, NOW, callback=True).seconds
    # 10% of customers miss the first call and wait 600 s more: the median moves up a little
    # (to the 56th percentile of the paths), not by the mixture's mean (60 s).
    few = predict(line, staff, replace(TALK, miss_rate=0.1, miss_delays=(600.0,)), OPEN, NOW, callback=True).seconds
    assert alone < few < alone + 60
    # More than half miss it: the median is a missed customer's wait.
    most = predict(line, staff, replace(TALK, miss_rate=0.6, miss_delays=(600.0,)), OPEN, NOW, callback=True).seconds
    assert most > alone + 500
    # Holders are not dialled: no mixture.
    assert predict(line, staff, replace(TALK, miss_rate=0.6, miss_delays=(600.0,)), OPEN, NOW).seconds \
        == predict(line, staff, TALK, OPEN, NOW).seconds
