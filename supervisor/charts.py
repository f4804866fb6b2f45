"""Small inline SVG charts, drawn on the server (no chart library): a line over time and a histogram."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

PALETTE = ("#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0a7b83", "#57606a")


@dataclass
class Series:
    label: str
    points: list[tuple[datetime, int]]


def line_chart(series: list[Series], zone: ZoneInfo, *, width: int = 520, height: int = 230,
               title: str = "") -> Markup:
    pad_l, pad_r, pad_t, pad_b = 48, 14, 14, 34
    all_points = [p for s in series for p in s.points]
    if not all_points:
        return Markup('<p class="muted">No data for this period.</p>')
    t0 = min(p[0] for p in all_points).timestamp()
    t1 = max(p[0] for p in all_points).timestamp()
    top = max(max(p[1] for p in all_points), 1)
    span = max(t1 - t0, 1)
    plot_w, plot_h = width - pad_l - pad_r, height - pad_t - pad_b

    def x(t: datetime) -> float:
        return pad_l + (t.timestamp() - t0) / span * plot_w

    def y(v: int) -> float:
        return pad_t + plot_h - v / top * plot_h

    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">']
    parts.append(f"<title>{escape(title)}</title>")
    for frac in (0, 0.5, 1):
        value = round(top * frac)
        parts.append(f'<line class="grid" x1="{pad_l}" x2="{width - pad_r}" y1="{y(value):.1f}" y2="{y(value):.1f}"/>')
        parts.append(f'<text class="axis" x="{pad_l - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value}</text>')
    for frac in (0, 0.25, 0.5, 0.75, 1):
        when = datetime.fromtimestamp(t0 + span * frac, tz=ZoneInfo("UTC")).astimezone(zone)
        label = when.strftime("%H:%M") if span <= 36 * 3600 else when.strftime("%d %b")
        anchor = "start" if frac == 0 else ("end" if frac == 1 else "middle")
        parts.append(f'<text class="axis" x="{pad_l + plot_w * frac:.1f}" y="{height - 8}" '
                     f'text-anchor="{anchor}">{label}</text>')
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        # a step line: the count holds until the next moment
        coords = []
        for k, (t, v) in enumerate(s.points):
            if k:
                coords.append(f"{x(t):.1f},{y(s.points[k - 1][1]):.1f}")
            coords.append(f"{x(t):.1f},{y(v):.1f}")
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(coords)}">'
                     f"<title>{escape(s.label)}</title></polyline>")
    parts.append("</svg>")
    legend = "".join(f'<span class="key"><i style="background:{PALETTE[i % len(PALETTE)]}"></i>{escape(s.label)}</span>'
                     for i, s in enumerate(series))
    return Markup("".join(parts) + f'<div class="legend">{legend}</div>')


def histogram_chart(buckets: list[tuple[str, int]], *, width: int = 520, height: int = 220,
                    title: str = "") -> Markup:
    if not any(count for _, count in buckets):
        return Markup('<p class="muted">No connections in this period.</p>')
    pad_l, pad_b, pad_t = 32, 36, 22
    top = max(count for _, count in buckets)
    slot = (width - pad_l) / len(buckets)
    plot_h = height - pad_b - pad_t
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>"]
    for i, (label, count) in enumerate(buckets):
        h = count / top * plot_h
        bx = pad_l + i * slot + slot * 0.1
        by = pad_t + plot_h - h
        parts.append(f'<rect class="bar" x="{bx:.1f}" y="{by:.1f}" width="{slot * 0.8:.1f}" height="{h:.1f}">'
                     f"<title>{escape(label)}: {count}</title></rect>")
        if count:
            parts.append(f'<text class="axis" x="{bx + slot * 0.4:.1f}" y="{by - 3:.1f}" text-anchor="middle">{count}</text>')
        parts.append(f'<text class="axis" x="{bx + slot * 0.4:.1f}" y="{height - 10}" text-anchor="middle">'
                     f"{escape(label)}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))
