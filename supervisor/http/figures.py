"""The figures page and its CSV: a period's service level, waits and line lengths, per skill."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from flask import Response, flash, g, redirect, render_template, request, url_for

from supervisor import board, charts, metrics, services
from supervisor.http import bp, login_required, refuse_json, skill_param
from web.runtime import runtime


def _period() -> tuple[datetime, datetime, str, str, str]:
    """[start, end) from ?period=today|yesterday|7d or ?start=YYYY-MM-DD&end=YYYY-MM-DD (whole days, my zone)."""
    zone = board.zone(g.user.timezone)
    now = runtime().clock.now()
    today = now.astimezone(zone).date()
    period = request.args.get("period") or ("custom" if request.args.get("start") else "today")

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)

    if period == "custom":
        try:
            first = date.fromisoformat(request.args.get("start", ""))
            last = date.fromisoformat(request.args.get("end") or request.args.get("start", ""))
        except ValueError:
            raise services.SteeringRefused("give the period as start and end dates (YYYY-MM-DD)") from None
        if last < first:
            first, last = last, first
        if (last - first).days > 92:
            raise services.SteeringRefused("a period can be at most 92 days")
        try:
            start, end = midnight(first), min(midnight(last + timedelta(days=1)), now)
        except OverflowError:  # the first or last day there is (0001-01-01, 9999-12-31)
            raise services.SteeringRefused("give dates between the years 1 and 9998") from None
    elif period == "yesterday":
        first = last = today - timedelta(days=1)
        start, end = midnight(first), midnight(today)
    elif period == "7d":
        first, last = today - timedelta(days=6), today
        start, end = midnight(first), now
    else:
        period, first, last = "today", today, today
        start, end = midnight(today), now
    # "until now" includes what happened this very second
    if end >= now:
        end = now + timedelta(seconds=1)
    return start, end, period, first.isoformat(), last.isoformat()


def _figures():
    rt = runtime()
    start, end, period, first, last = _period()
    with rt.sessions() as db:
        lines = metrics.timelines(db, start, end)
        figs = metrics.figures(db, list(rt.ivr_config.skills), start, end, lines=lines)
        db.expunge_all()
    return lines, figs, start, end, period, first, last


@bp.get("/metrics")
@login_required
def metrics_page():
    try:
        lines, figs, start, end, period, first, last = _figures()
    except services.SteeringRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for("supervisor.metrics_page"))
    zone = board.zone(g.user.timezone)
    skill = skill_param()
    shown = [skill] if skill else list(figs)
    length = charts.line_chart(
        [charts.Series(s, metrics.queue_length_series(lines, s, start, end)) for s in shown], zone,
        title="People in line over time")
    waits = []
    for s in shown:
        waits += figs[s].waits_to_connect
    wait_chart = charts.histogram_chart(metrics.histogram(waits), title="Waits to connection")
    today_figures = None
    if period != "today":
        # today stays in view while looking at another period
        rt = runtime()
        now = rt.clock.now()
        midnight = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone).astimezone(timezone.utc)
        with rt.sessions() as db:
            today_figures = list(metrics.figures(db, list(rt.ivr_config.skills), midnight,
                                                 now + timedelta(seconds=1)).values())
            db.expunge_all()
    return render_template("supervisor/metrics.html", figures=[figs[s] for s in figs], length_chart=length,
                           today_figures=today_figures,
                           wait_chart=wait_chart, start=start, end=end, period=period, first=first, last=last,
                           skill=skill, skills=list(runtime().ivr_config.skills),
                           sl_seconds=metrics.SERVICE_LEVEL_SECONDS)


@bp.get("/metrics.csv")
@login_required
def metrics_csv():
    try:
        _lines, figs, start, end, *_ = _figures()
    except services.SteeringRefused as exc:
        return refuse_json(400, str(exc))
    body = metrics.to_csv(list(figs.values()))
    name = f"callback-figures-{start.date().isoformat()}-{end.date().isoformat()}.csv"
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})
