"""How many free agents the dispatcher keeps for scheduled callbacks coming due (routing/due.reserve), on
fixed vectors: a lone slot keeps one agent RESERVE-seconds before; slots due together start keeping agents
earlier, the more so the fewer agents there are and the longer their calls."""
from datetime import datetime, timedelta, timezone

from routing.due import reserve

NOW = datetime(2027, 3, 2, 14, 0, tzinfo=timezone.utc)


def at(*seconds):
    return [NOW + timedelta(seconds=s) for s in seconds]


def test_a_lone_slot_keeps_one_agent_from_the_base_lead_on():
    assert reserve(at(300), NOW, staffed=8, handle_seconds=300, base_seconds=240) == 0
    assert reserve(at(240), NOW, staffed=8, handle_seconds=300, base_seconds=240) == 1
    assert reserve([], NOW, staffed=8, handle_seconds=300, base_seconds=240) == 0


def test_slots_due_together_keep_agents_earlier_with_few_agents_on_long_calls():
    three = at(600, 600, 600)
    # 4 agents at 400 s: about one frees up every 100 s; three slots need about (3 + 2 sqrt 3) x 100 s
    assert reserve(three, NOW, staffed=4, handle_seconds=400, base_seconds=240) == 3
    # 10 agents at 240 s free up fast enough: not yet
    assert reserve(three, NOW, staffed=10, handle_seconds=240, base_seconds=240) == 0
    # a lone slot that far off keeps nobody even with few agents: (1 + 2) x 100 s < 600 s
    assert reserve(at(600), NOW, staffed=4, handle_seconds=400, base_seconds=240) == 0


def test_nobody_on_keeps_from_the_base_lead_only():
    assert reserve(at(200, 900), NOW, staffed=0, handle_seconds=400, base_seconds=240) == 1
