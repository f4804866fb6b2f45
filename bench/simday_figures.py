"""The simulated day's figures, read from the product's own records (queue entries and their audit
trail) and the announcements bench/simday.py noted, and its chart. Definitions: docs/simday.md."""
from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from simday_model import percentile
from storage.models import QueueEntry

PREDICTORS = ("ours", "step_formula", "asterisk_ewma", "flex_5min", "queue_aht", "erlang_c", "hol", "les")
ON_TIME_SECONDS = 60


def _share(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def _told(entry: QueueEntry):
    """(when, seconds) of the last wait the customer was told, or (None, None)."""
    told = [e for e in entry.events if e.event == "wait_announced"]
    if not told:
        return None, None
    return told[-1].at, (told[-1].detail or {}).get("seconds", entry.announced_wait_seconds)


def _windows_told(entry: QueueEntry) -> list[tuple]:
    """(told at, start, end, reason) of every window the customer was told, in order (window_told events)."""
    out = []
    for ev in entry.events:
        detail = ev.detail or {}
        if ev.event == "window_told" and detail.get("start") and detail.get("end"):
            out.append((ev.at, datetime.fromisoformat(detail["start"]), datetime.fromisoformat(detail["end"]), ev.reason))
    return sorted(out, key=lambda w: w[0])


def _slips(entry: QueueEntry, window, end_of_day) -> tuple[int, int, int]:
    """(windows slipped, of those told a new window before they ended, windows unreached). Each window told
    is one promise: it slipped when the callback was not connected inside it and either a new window was
    told because of that (reason "slipped": noticed if told before the old one ended), or no new one came
    (never noticed). A window in which the customer was dialled and not reached is kept by us: followed
    by a retry's window (reason "retry") or, after the last attempt, by none (the callback failed); the
    latter are counted apart as unreached."""
    told = _windows_told(entry)
    if not told and window is not None:
        told = [(None, window[0], window[1], None)]
    slipped = noticed = unreached = 0
    for i, (_at, start, end, _reason) in enumerate(told):
        later = told[i + 1] if i + 1 < len(told) else None
        if later is not None:
            if later[3] == "slipped":
                slipped += 1
                noticed += later[0] < end
            continue
        if entry.state == "failed" and any(ev.event == "dialing_customer" and start <= ev.at <= end
                                           for ev in entry.events):
            unreached += 1
        elif (entry.connected_at is None and end < end_of_day) or (entry.connected_at is not None
                                                                    and entry.connected_at > end):
            slipped += 1
    return slipped, noticed, unreached


def callback_figures(day, entries: list[QueueEntry]) -> dict:
    from simday import window_of

    end_of_day = day.clock.now()
    kept = kept_first = asap = slipped = noticed = unreached = scheduled = on_time = next_day = 0
    widths, waits, kinds = [], [], set()
    for e in entries:
        if e.kind != "callback":
            continue
        if e.scheduled_for is not None:
            plan = day.plans[e.skill]
            if plan.staffed(e.scheduled_for) == 0:
                continue
            scheduled += 1
            first = next((ev.at for ev in e.events if ev.event in ("dialing_agent", "dialing_customer")), None)
            on_time += first is not None and abs((first - e.scheduled_for).total_seconds()) <= ON_TIME_SECONDS
            window = window_of(e, e.scheduled_for, None)
        else:
            told_at, seconds = _told(e)
            window = window_of(e, told_at, seconds)
            if window is not None and window[0] >= end_of_day:
                next_day += 1  # told a window after the simulated day: neither kept nor broken here
                continue
            asap += 1
            waits.append((e.connected_at - e.arrived_at).total_seconds() if e.connected_at else math.inf)
            if window is not None:
                start, end, kind = window
                kinds.add(kind)
                widths.append((end - start).total_seconds())
                kept += e.connected_at is not None and start <= e.connected_at <= end
                told = _windows_told(e)
                first = (told[0][1], told[0][2]) if told else (start, end)
                kept_first += e.connected_at is not None and first[0] <= e.connected_at <= first[1]
        s, n, u = _slips(e, window, end_of_day)
        slipped += s
        noticed += n
        unreached += u
    return {
        "asap_callbacks": asap,
        "asap_told_after_the_day": next_day,
        "asap_kept": _share(kept, asap),
        "asap_kept_first_window": _share(kept_first, asap),
        "window": "/".join(sorted(kinds)) or None,
        "window_width_p50_s": percentile(widths, 50),
        "scheduled_callbacks": scheduled,
        "scheduled_on_time": _share(on_time, scheduled),
        "callback_wait_p50_s": percentile(waits, 50),
        "callback_wait_p90_s": percentile(waits, 90),
        "callbacks_not_connected": sum(1 for w in waits if math.isinf(w)),
        "slipped": slipped,
        "slips_noticed": _share(noticed, slipped),
        "windows_unreached": unreached,
    }


def chose_a_slot(day, entries: list[QueueEntry]) -> set[int]:
    """The contacts (by n) who, after being told a wait, asked for a later time of their own choosing."""
    chosen = set()
    for e in entries:
        contact = day.by_number.get(e.phone_number)
        if contact is not None and contact.later and e.scheduled_for is not None:
            chosen.add(contact.n)
    return chosen


def customer_dials(day, entries: list[QueueEntry]) -> dict[int, list[datetime]]:
    """When we dialled each contact's phone (the product's `dialing_customer` events), by contact n, in order."""
    dials: dict[int, list[datetime]] = {}
    for e in entries:
        contact = day.by_number.get(e.phone_number)
        if contact is not None:
            dials.setdefault(contact.n, []).extend(ev.at for ev in e.events if ev.event == "dialing_customer")
    return {n: sorted(times) for n, times in dials.items()}


def _mae(errors: dict[str, list[float]]) -> dict:
    return {p: round(sum(map(abs, v)) / len(v), 1) if v else None for p, v in errors.items()}


def _bias(errors: dict[str, list[float]]) -> dict:
    return {p: round(sum(v) / len(v), 1) if v else None for p, v in errors.items()}


def ewt_figures(day, chosen: set[int] = frozenset(), dials: dict[int, list[datetime]] | None = None) -> dict:
    """Wait errors over the waits told that were followed by a connection, leaving out those after which
    the customer chose a later time (`chosen`): their wait is their choice, not what was predicted.
    Twice over the same announcements and predictors: until connected (the official figure), and until
    the moment the promise is about (`dials`: when we first dialled the customer after the wait was told;
    a holder, never dialled, until connected). A customer who does not answer our first call then waits
    the retry delay, which no predictor can foresee; the second figure leaves that wait out."""
    errors = {p: [] for p in PREDICTORS}
    to_first_call = {p: [] for p in PREDICTORS}
    undefined = {p: 0 for p in PREDICTORS}
    told_unstaffed = called = 0
    for row in day.announcements:
        contact = day.contacts[row["n"]]
        if row["staffed"] == 0 and row["ours"] is not None:
            told_unstaffed += 1
        if contact.connected_at is None or contact.n in chosen:
            continue
        actual = (contact.connected_at - row["at"]).total_seconds()
        first = next((t for t in (dials or {}).get(contact.n, ()) if row["at"] <= t <= contact.connected_at), None)
        called += first is not None
        until_call = (first - row["at"]).total_seconds() if first is not None else actual
        for p in PREDICTORS:
            if row.get(p) is None:
                undefined[p] += 1
            else:
                errors[p].append(row[p] - actual)
                to_first_call[p].append(row[p] - until_call)
    return {
        "announcements": len(day.announcements),
        "announcements_connected": len(errors["hol"]),
        "ewt_mae_s": _mae(errors),
        "ewt_bias_s": _bias(errors),
        "announcements_scored_to_first_call": called,
        "ewt_mae_to_first_call_s": _mae(to_first_call),
        "ewt_bias_to_first_call_s": _bias(to_first_call),
        "ewt_undefined": {p: n for p, n in undefined.items() if n},
        "waits_told_with_nobody_staffed": told_unstaffed,
        "announcements_then_chose_a_slot": sum(1 for row in day.announcements if row["n"] in chosen),
    }


def explain(day, out) -> None:
    """Why a promise was not kept, one entry per line on `out` (no personal data: entry ids and times):
    each slipped window told no new window before it ended, and each scheduled callback not dialled on
    time, with the entry's audit trail (time, event, state, reason)."""
    end_of_day = day.clock.now()
    with day.rt.sessions() as s:
        for e in s.scalars(select(QueueEntry).options(selectinload(QueueEntry.events))):
            if e.kind != "callback":
                continue
            told = _windows_told(e)
            slipped, noticed, _unreached = _slips(e, (told[0][1], told[0][2]) if told else None, end_of_day)
            why = []
            if slipped > noticed:
                why.append("slip not told")
            if e.scheduled_for is not None and day.plans[e.skill].staffed(e.scheduled_for):
                first = next((ev.at for ev in e.events if ev.event in ("dialing_agent", "dialing_customer")), None)
                if first is None or abs((first - e.scheduled_for).total_seconds()) > ON_TIME_SECONDS:
                    why.append(f"slot {e.scheduled_for:%H:%M:%S} first dialled {first:%H:%M:%S}" if first
                               else f"slot {e.scheduled_for:%H:%M:%S} never dialled")
            if not why:
                continue
            trail = "; ".join(f"{ev.at:%H:%M:%S} {ev.event}/{ev.state}" + (f" ({ev.reason})" if ev.reason else "")
                              + (f" [{ev.detail['start'][11:16]}-{ev.detail['end'][11:16]}]"
                                 if ev.event == "window_told" and ev.detail else "") for ev in e.events)
            print(f"{day.sc.name} entry {e.id} {e.skill} {e.channel} {e.state}: {', '.join(why)} | {trail}",
                  file=out, flush=True)


def figures(day) -> dict:
    with day.rt.sessions() as s:
        entries = list(s.scalars(select(QueueEntry).options(selectinload(QueueEntry.events))))
        abandoned = sum(1 for e in entries if any(ev.event == "abandoned" for ev in e.events))
        result = {
            "contacts": len(day.contacts),
            "holders": sum(1 for e in entries if any(ev.event == "arrived" for ev in e.events)),
            **callback_figures(day, entries),
            "abandon_rate": _share(abandoned, len(day.contacts)),
        }
        chosen = chose_a_slot(day, entries)
        dials = customer_dials(day, entries)
    busy = sum(b for _, _, _, b, _ in day.samples)
    on = sum(o for _, _, _, _, o in day.samples)
    result["utilisation"] = _share(busy, on)
    result.update(ewt_figures(day, chosen, dials))
    return result


def chart(day, path) -> None:
    """Two panels: wait told against wait had (ours and the queue-length predictor); the callback backlog
    and the staff on shift through the day."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    for name, marker in (("ours", "o"), ("queue_aht", "x")):
        pts = [(r[name] / 60, (day.contacts[r["n"]].connected_at - r["at"]).total_seconds() / 60)
               for r in day.announcements if r.get(name) is not None and day.contacts[r["n"]].connected_at]
        if pts:
            left.scatter([p[0] for p in pts], [p[1] for p in pts], s=9, marker=marker, alpha=0.5, label=name)
    top = max([1.0] + [v for c in left.collections for v in c.get_offsets().flatten()])
    left.plot([0, top], [0, top], color="grey", linewidth=1, label="told = had")
    # Linear to 10 minutes, logarithmic beyond: the bulk of the waits stays readable beside the few
    # callbacks connected hours later (retried, or told the next opening).
    left.set_xscale("symlog", linthresh=10)
    left.set_yscale("symlog", linthresh=10)
    left.set_xlabel("wait told (minutes; log beyond 10)")
    left.set_ylabel("wait until connected (minutes; log beyond 10)")
    left.set_title(f"{day.sc.name}: wait told vs actual")
    left.legend()
    zone = day.sc.zone
    for plan in day.sc.skills:
        rows = [(t, b, o) for t, skill, b, _, o in day.samples if skill == plan.name]
        hours = [t.astimezone(zone).hour + t.astimezone(zone).minute / 60 for t, _, _ in rows]
        right.plot(hours, [b for _, b, _ in rows], label=f"{plan.name}: callbacks waiting")
        right.plot(hours, [o for _, _, o in rows], linestyle="--", label=f"{plan.name}: agents on shift")
    right.set_xlabel(f"local time ({zone.key})")
    right.set_title(f"{day.sc.name}: callback backlog through the day")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)

