"""Short simulated days (bench/simday.py) that keep the simulation honest: the real IVR, services and
dispatcher on a virtual clock must behave as queueing theory says in cases with a known answer."""
from __future__ import annotations

import math
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import simday  # noqa: E402
from simday_model import Contact, draw_contacts, erlang_c_wait, load_scenario  # noqa: E402
from storage.models import QueueEntry  # noqa: E402

HEADER = """
name = "{name}"
date = "2027-03-02"
zone = "America/New_York"
seed = {seed}
channels = {channels}
accept_callback = {accept}
answer = {answer}
agent_answer_seconds = 0
sweep_seconds = 1
drain_minutes = 30
"""
SKILL = """
[[skills]]
name = "billing"
open = "08:00"
close = "{close}"
arrivals_per_hour = [{rate}]
handle_seconds = {{ mean = {handle}, dist = "exponential" }}
wrap_seconds = 0
patience_seconds = 1000000000
agents = [{agents}]
"""


def run_day(tmp_path, *, name, rate, agents, close, channels='{ phone = 1.0 }', accept=0.0, handle=60, seed=1,
            answer="{ human = 1.0 }", extra=""):
    path = tmp_path / f"{name}.toml"
    shifts = f'{{ count = {agents}, from = "08:00", to = "{close}" }}' if agents else ""
    path.write_text(HEADER.format(name=name, seed=seed, channels=channels, accept=accept, answer=answer) + extra
                    + SKILL.format(close=close, rate=rate, handle=handle, agents=shifts))
    day = simday.Day(load_scenario(path), str(tmp_path))
    result = day.run()
    with day.rt.sessions() as s:
        entries = list(s.scalars(select(QueueEntry).options(selectinload(QueueEntry.events))))
        s.expunge_all()
    return day, result, entries


def test_zero_load_connects_every_callback_at_once(tmp_path):
    """Many free agents and a trickle of web requests: each callback is dialled at the next sweep and
    connected after the agent's leg, the customer's ring and answering-machine detection."""
    day, result, entries = run_day(tmp_path, name="zero", rate=20, agents=10, close="09:00",
                                   channels="{ web = 1.0 }")
    callbacks = [e for e in entries if e.kind == "callback"]
    assert len(callbacks) == len(day.contacts) >= 10
    sc = day.sc
    at_once = sc.sweep_seconds + sc.agent_answer_seconds + sc.customer_ring_seconds + sc.amd_seconds
    waits = [(e.connected_at - e.arrived_at).total_seconds() for e in callbacks if e.connected_at]
    assert len(waits) == len(callbacks) and max(waits) <= at_once
    assert result["callbacks_not_connected"] == 0 and result["asap_kept"] == 1.0
    assert result["abandon_rate"] == 0.0


def test_no_agents_connects_nobody_and_tells_no_wait(tmp_path):
    day, result, entries = run_day(tmp_path, name="nobody", rate=30, agents=0, close="09:00",
                                   channels="{ phone = 0.5, web = 0.5 }", accept=1.0)
    assert len(entries) == len(day.contacts) >= 10
    assert all(e.connected_at is None for e in entries)
    assert not any(ev.event == "dialing_agent" for e in entries for ev in e.events)
    # Nobody is staffed all day: any number of minutes told would be a promise nobody can keep.
    assert result["waits_told_with_nobody_staffed"] == 0
    assert [ev.detail for e in entries for ev in e.events if ev.event == "wait_announced"] == []


def test_mmc_waits_match_queueing_theory(tmp_path):
    """M/M/2 (exponential handle times of 60 s, 84 callers an hour, load 0.7, nobody hangs up, FIFO).
    Given what a caller finds on arriving (b agents busy, q callers waiting), the wait is exactly
    Erlang-distributed: 0 while b + q < c, else the time for k = b + q - c + 1 completions at rate c*mu,
    mean k / (c*mu), variance k / (c*mu)^2. The callers' mean wait minus that conditional mean must
    lie within 4 standard errors (plus the 1 s sweep of the dispatcher); the day's mean wait is also
    compared with Erlang C's steady-state mean."""
    c, rate, mu = 2, 84, 1 / 60
    day, result, entries = run_day(tmp_path, name="mmc", rate=rate, agents=c, close="10:00", seed=3)
    # Callers told just before closing that nobody can take them today, who then end the call, are
    # not in the queue (and not in M/M/c).
    declined = {c.number for c in day.contacts if c.fate == "declined"}
    assert len(declined) <= 5
    holders = sorted((e for e in entries if e.kind == "holding" and e.phone_number not in declined),
                     key=lambda e: e.arrived_at)
    assert len(holders) == len(day.contacts) - len(declined) >= 120
    assert all(e.connected_at is not None and e.closed_at is not None for e in holders)
    residuals, variance = [], 0.0
    for e in holders:
        t = e.arrived_at
        busy = sum(1 for o in holders if o is not e and o.connected_at <= t < o.closed_at)
        waiting = sum(1 for o in holders if o.arrived_at < t < o.connected_at)
        k = busy + waiting - c + 1
        expected = k / (c * mu) if k > 0 else 0.0
        variance += k / (c * mu) ** 2 if k > 0 else 0.0
        residuals.append((e.connected_at - t).total_seconds() - expected)
    n = len(residuals)
    standard_error = math.sqrt(variance) / n
    mean_residual = sum(residuals) / n
    assert -4 * standard_error <= mean_residual <= 4 * standard_error + day.sc.sweep_seconds, \
        (mean_residual, standard_error)
    mean_wait = sum((e.connected_at - e.arrived_at).total_seconds() for e in holders) / n
    steady = erlang_c_wait(rate / 3600, 1 / mu, c)
    assert steady == pytest.approx(57.65, abs=0.01)
    assert 0.5 * steady <= mean_wait <= 1.6 * steady, mean_wait
    assert result["utilisation"] == pytest.approx(rate / 3600 / (c * mu), abs=0.15)


@pytest.mark.parametrize("answer", ["{ human = 1.0 }", "{ human = 0.6, none = 0.4 }"])
def test_wait_error_to_first_call(tmp_path, answer):
    """The companion wait error scores the same announcements until we first dialled the customer. With
    the customer's ring and answering-machine detection taking no time, a customer who answers the
    first call is connected the moment we dial, so the two figures agree when everyone answers; when
    some do not, they wait the retry delay after our first call, which only the official figure counts."""
    day, result, _entries = run_day(tmp_path, name="first-call", rate=100, agents=2, close="09:00",
                                    channels="{ web = 1.0 }", answer=answer,
                                    extra="customer_ring_seconds = 0\namd_seconds = 0\n")
    assert result["announcements_connected"] >= 50
    assert result["announcements_scored_to_first_call"] == result["announcements_connected"]
    assert set(result["ewt_mae_to_first_call_s"]) == set(result["ewt_mae_s"])
    unanswered = sum(1 for c in day.contacts if c.connected_at and c.attempts > 1)
    if answer == "{ human = 1.0 }":
        assert unanswered == 0
        assert result["ewt_mae_to_first_call_s"] == result["ewt_mae_s"]
        assert result["ewt_bias_to_first_call_s"] == result["ewt_bias_s"]
    else:
        assert unanswered >= 5
        # Until the first call is never longer than until connected: every predictor's bias rises.
        for p, bias in result["ewt_bias_s"].items():
            if bias is not None:
                assert result["ewt_bias_to_first_call_s"][p] > bias, p
        assert result["ewt_mae_to_first_call_s"]["ours"] < result["ewt_mae_s"]["ours"]


@pytest.mark.parametrize("away, second", [([300.0], "none"), ([], "human")])
def test_a_customer_who_missed_a_call_stays_away_for_a_while(away, second):
    """The simulated customer who did not answer is still unreachable two minutes on when drawn away for
    five (the retry meets the same: it rings out); back after that, each attempt meets its own draw.
    Without a time away (the old model) a retry at once meets its own draw."""
    t = datetime(2027, 3, 2, 14, 0, tzinfo=timezone.utc)
    c = Contact(n=0, skill="billing", arrival=t, channel="web", handle=60, patience=60, accepts=True, later=False,
                later_minutes=30, answers=["none", "human", "human"], more=["human"], away=away)
    c.attempts = 1
    assert c.meets(t) == "none"
    c.attempts = 2
    assert c.meets(t + timedelta(seconds=120)) == second
    c.attempts = 3
    assert c.meets(t + timedelta(seconds=301)) == "human"


AWAY_DAY = HEADER.format(name="away", seed=3, channels="{ web = 1.0 }", accept=0.0,
                         answer="{ human = 0.5, none = 0.5 }") + "{away}\n" + SKILL.format(
    close="12:00", rate=60, handle=60, agents='{ count = 2, from = "08:00", to = "12:00" }')


def contacts_with(tmp_path, away_line: str):
    path = tmp_path / "away.toml"
    path.write_text(AWAY_DAY.replace("{away}", away_line))
    return draw_contacts(load_scenario(path))


def test_the_time_away_can_be_given_from_data(tmp_path):
    """`away_seconds` as observed seconds (an empirical draw) or as a table (each time with its share);
    the number stays the exponential's mean. Data is drawn from a stream of its own: every other draw of the
    day (arrivals, handle times, what each attempt meets) is that of the day with nobody away."""
    default = contacts_with(tmp_path, "")
    assert len(default) > 100 and len({round(a, 3) for c in default for a in c.away}) > 100  # continuous
    observed = contacts_with(tmp_path, "away_seconds = [45, 130, 130, 600]")
    table = contacts_with(tmp_path, "away_seconds = { seconds = [60, 900, 7200], share = [0.75, 0.25, 0] }")
    never = contacts_with(tmp_path, "away_seconds = 0")
    assert [(c.arrival, c.handle, c.answers) for c in never] == [(c.arrival, c.handle, c.answers) for c in default]
    for day in (observed, table):
        assert [(c.arrival, c.handle, c.answers, c.more) for c in day] == \
            [(c.arrival, c.handle, c.answers, c.more) for c in never]
    drawn = [a for c in observed for a in c.away]
    assert set(drawn) == {45.0, 130.0, 600.0}
    assert 0.4 < drawn.count(130.0) / len(drawn) < 0.6  # drawn twice as often: it was seen twice
    drawn = [a for c in table for a in c.away]
    assert set(drawn) == {60.0, 900.0}  # a share of 0 is never drawn
    assert 0.7 < drawn.count(60.0) / len(drawn) < 0.8
    assert all(c.away == [] for c in never)


@pytest.mark.parametrize("line, said", [
    ("away_seconds = []", "away_seconds: the list of observed seconds is empty"),
    ('away_seconds = [60, "2m"]', "away_seconds[1] must be a number of seconds, 0 or more (got '2m')"),
    ("away_seconds = -5", "away_seconds must be a number of seconds, 0 or more (got -5)"),
    ("away_seconds = { seconds = [60, 120], share = [1] }",
     "away_seconds: seconds and share must be lists of the same, non-zero length"),
    ("away_seconds = { seconds = [60], weights = [1] }",
     "away_seconds: a table needs exactly the keys seconds and share (got seconds, weights)"),
    ("away_seconds = { seconds = [60, 120], share = [0, 0] }", "away_seconds: the shares add up to 0"),
    ('away_seconds = "5 minutes"', "away_seconds must be a number, a list of seconds or a table (got '5 minutes')"),
])
def test_a_time_away_that_cannot_be_used_is_said_before_the_day_runs(tmp_path, capsys, line, said):
    path = tmp_path / "away.toml"
    path.write_text(AWAY_DAY.replace("{away}", line))
    with pytest.raises(SystemExit):
        simday.main(["--no-baseline", str(path)])
    assert f"{path}: {said}" in capsys.readouterr().err
