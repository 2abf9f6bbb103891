"""Chart geometry for the reports: server-rendered SVG, readable without JavaScript.

Python works out every coordinate and the text description; templates/reports/_charts.html
draws them with presentation attributes only (the Content-Security-Policy allows no inline styles).
"""
from __future__ import annotations

import math

from .. import metrics

WIDTH, HEIGHT = 960, 380
LEFT, RIGHT, TOP, BOTTOM = 64, 20, 20, 70


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _top_of_scale(values: list[float]) -> float:
    """The smallest multiple of 10% at or above every value (at least 10%)."""
    highest = max([v for v in values if v is not None] or [0.0])
    return max(0.1, min(1.0, math.ceil(highest * 10 + 1e-9) / 10))


def month_chart(o: metrics.Overview) -> dict:
    months = o.months
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    centre = o.nfa_baseline.rate
    top = _top_of_scale([m.nfa.rate for m in months] + [m.limits[1] for m in months if m.limits]
                        + ([centre] if centre is not None else []))
    step = plot_w / max(1, len(months))

    def x(i: int) -> float:
        return round(LEFT + step * (i + 0.5), 1)

    def y(value: float) -> float:
        return round(TOP + plot_h * (1 - value / top), 1)

    points = [{"x": x(i), "y": y(m.nfa.rate), "label": m.label, "rate": _pct(m.nfa.rate), "n": m.nfa.n,
               "signal": m.signal} for i, m in enumerate(months) if m.nfa.rate is not None]
    upper, lower = [], []
    for i, m in enumerate(months):
        if m.limits:
            left, right = round(x(i) - step / 2, 1), round(x(i) + step / 2, 1)
            upper += [f"{left},{y(m.limits[1])}", f"{right},{y(m.limits[1])}"]
            lower += [f"{left},{y(m.limits[0])}", f"{right},{y(m.limits[0])}"]
    baseline_idx = [i for i, m in enumerate(months) if m.in_baseline]
    shade = None
    if baseline_idx:
        shade = {"x": round(x(baseline_idx[0]) - step / 2, 1),
                 "width": round(step * (baseline_idx[-1] - baseline_idx[0] + 1), 1)}
    ticks = [{"y": y(v / 10), "label": f"{v * 10}%"} for v in range(0, int(round(top * 10)) + 1)]
    every = max(1, math.ceil(len(months) / 12))
    labels = [{"x": x(i), "label": m.label} for i, m in enumerate(months) if i % every == 0]
    return {
        "width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "top": TOP,
        "bottom": HEIGHT - BOTTOM, "points": points, "line": " ".join(f"{p['x']},{p['y']}" for p in points),
        "upper": " ".join(upper), "lower": " ".join(lower), "shade": shade, "ticks": ticks, "labels": labels,
        "centre": y(centre) if centre is not None else None,
        "title": "Share of referrals ending in No Further Action, month by month",
        "description": month_description(o),
    }


def month_description(o: metrics.Overview) -> str:
    """The chart in words, for screen readers and anyone who cannot see it."""
    months = [m for m in o.months if m.nfa.n]
    if not months:
        return "There are no decided referrals in these months, so there is nothing to chart."
    span = metrics.Period(min(o.current.start, o.baseline.start), max(o.current.end, o.baseline.end))
    parts = [f"A line chart of the monthly NFA rate from {span.describe()}."]
    if o.nfa_baseline.rate is not None:
        parts.append(f"The baseline rate, the chart's centre line, is {_pct(o.nfa_baseline.rate)}; the "
                     "control limits around it show how far a month can move by chance alone.")
    current = [m for m in months if m.in_current]
    if current:
        low = min(current, key=lambda m: m.nfa.rate)
        high = max(current, key=lambda m: m.nfa.rate)
        parts.append(f"In this period the rate ranged from {_pct(low.nfa.rate)} ({low.label}) to "
                     f"{_pct(high.nfa.rate)} ({high.label}).")
        below = [m.label for m in current if m.signal == "below"]
        above = [m.label for m in current if m.signal == "above"]
        if below:
            parts.append(f"{len(below)} month{'s' if len(below) != 1 else ''} fell below the lower control "
                         f"limit: {', '.join(below)}.")
        if above:
            parts.append(f"{len(above)} month{'s' if len(above) != 1 else ''} rose above the upper control "
                         f"limit: {', '.join(above)}.")
        if not below and not above:
            parts.append("No month in this period was outside the control limits.")
    parts.append("The table below the chart gives every month's figures.")
    return " ".join(parts)


def bar_chart(title: str, rows: list[metrics.RateRow]) -> dict:
    """Horizontal bars of the NFA rate per group, with the 95% interval drawn as a whisker."""
    rows = [r for r in rows if r.nfa.n]
    label_w, bar_h, gap = 300, 22, 12
    plot_w = WIDTH - label_w - RIGHT - 60
    top = _top_of_scale([r.nfa.interval[1] for r in rows])

    def x(value: float) -> float:
        return round(label_w + plot_w * value / top, 1)

    bars = []
    for i, row in enumerate(rows):
        y = TOP + i * (bar_h + gap)
        low, high = row.nfa.interval
        bars.append({"label": row.label, "y": y, "mid": y + bar_h / 2, "height": bar_h, "x": label_w,
                     "width": round(x(row.nfa.rate) - label_w, 1), "low": x(low), "high": x(high),
                     "text_x": x(high) + 6, "rate": _pct(row.nfa.rate), "n": row.nfa.n})
    height = TOP + len(rows) * (bar_h + gap) + 40
    ticks = [{"x": x(v / 10), "label": f"{v * 10}%"} for v in range(0, int(round(top * 10)) + 1)]
    if rows:
        words = "; ".join(f"{r.label}: {_pct(r.nfa.rate)} of {r.nfa.n}" for r in rows)
        description = f"A bar chart of the NFA rate of decided referrals, by group. {words}. " \
                      "The lines across each bar show the 95% interval; the table below gives every figure."
    else:
        description = "There are no decided referrals to chart."
    return {"width": WIDTH, "height": height, "bars": bars, "ticks": ticks, "axis_y": height - 30,
            "label_w": label_w, "title": title, "description": description}
