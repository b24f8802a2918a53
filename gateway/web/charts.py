"""Server-rendered charts as inline SVG: no JavaScript, no chart library, nothing fetched.

Horizontal bars, one row per category, the label above its bar so that the chart stays legible
when it is scaled down to a phone's width. Colours are SVG attributes (the CSP forbids inline
styles). Each chart has a title and a text alternative; the same figures are in a table beside it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from markupsafe import Markup, escape

WIDTH = 400
ROW = 46
TOP = 4
BAR = 16
# Each at least 3:1 against the white chart background (WCAG 1.4.11, non-text contrast).
COLOURS = {"blue": "#0f4c8a", "green": "#2e8b57", "red": "#c62828", "amber": "#b07d00", "grey": "#7b8794"}


@dataclass(frozen=True)
class Segment:
    value: float
    colour: str      # a key of COLOURS
    label: str       # series name, for the tooltip and the text alternative


@dataclass(frozen=True)
class Bar:
    label: str
    segments: tuple[Segment, ...]
    note: str = ""   # shown at the right end of the label line, e.g. "12 / 20（60%）"


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], scale: float | None = None,
              normalise: bool = False) -> Markup:
    """Stacked horizontal bars; ``scale`` is the value of a full-width bar (default: the largest
    total); with ``normalise`` every bar is a share of its own total (a 100 % bar)."""
    totals = [sum(s.value for s in b.segments) for b in bars]
    full = scale if scale else max(totals + [0]) or 1
    height = TOP + ROW * max(len(bars), 1) + 4
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(_description(bars))}</desc>',
    ]
    if not bars:
        parts.append('<text x="0" y="24" font-size="14" fill="#5b6776">暂无数据</text>')
    for index, bar in enumerate(bars):
        y = TOP + index * ROW
        parts.append(f'<text x="0" y="{y + 14}" font-size="14" fill="#1d2733">{escape(bar.label)}</text>')
        if bar.note:
            parts.append(f'<text x="{WIDTH}" y="{y + 14}" font-size="13" fill="#5b6776" text-anchor="end">{escape(bar.note)}</text>')
        parts.append(f'<rect x="0" y="{y + 20}" width="{WIDTH}" height="{BAR}" rx="3" fill="#eef1f5"/>')
        x = 0.0
        whole = (sum(s.value for s in bar.segments) or 1) if normalise else full
        for segment in bar.segments:
            if segment.value <= 0:
                continue
            width = WIDTH * segment.value / whole
            parts.append(
                f'<rect x="{x:.2f}" y="{y + 20}" width="{width:.2f}" height="{BAR}" fill="{COLOURS[segment.colour]}">'
                f'<title>{escape(bar.label)} · {escape(segment.label)}：{_number(segment.value)}</title></rect>'
            )
            x += width
    parts.append("</svg>")
    return Markup("".join(parts))


def _description(bars: Sequence[Bar]) -> str:
    lines = []
    for bar in bars:
        values = "，".join(f"{s.label} {_number(s.value)}" for s in bar.segments)
        lines.append(f"{bar.label}：{values}")
    return "；".join(lines) or "暂无数据"


def legend(items: Sequence[tuple[str, str]]) -> Markup:
    """A legend for ``(colour, label)`` pairs, as HTML beside the chart."""
    entries = "".join(f'<li><i class="swatch-{escape(c)}" aria-hidden="true"></i>{escape(label)}</li>' for c, label in items)
    return Markup(f'<ul class="chart-legend">{entries}</ul>')


def percent_text(part: float, whole: float) -> str:
    return f"{part / whole * 100:.0f}%" if whole else "—"


# ------------------------------------------------------------------ the article 30 dashboard charts

def completion_chart(rows: Sequence[Any]) -> Markup:
    bars = [Bar(r.name, (Segment(r.published, "green", "已公示"),
                            Segment(max(r.inspected - r.published, 0), "blue", "已检查未公示"),
                            Segment(max(r.drawn - r.inspected, 0), "grey", "未检查")),
                f'{r.inspected} / {r.drawn}（{percent_text(r.inspected, r.drawn)}）') for r in rows]
    return bar_chart("chart-completion", "各部门检查完成情况", bars, normalise=True)


def on_time_chart(rows: Sequence[Any]) -> Markup:
    bars = [Bar(r.name, (Segment(r.published_on_time, "green", "按时公示"),
                            Segment(r.published_late, "red", "超期公示")),
                f'按时 {percent_text(r.published_on_time, r.published)}') for r in rows]
    return bar_chart("chart-on-time", "各部门按时公示情况", bars, normalise=True)


def problems_chart(rows: Sequence[Any]) -> Markup:
    bars = [Bar(r.name, (Segment(r.followed_up, "green", "已公示后续处置"),
                            Segment(max(r.problems_found - r.followed_up, 0), "amber", "发现问题待处置或无需处置")),
                f'{r.problems_found} 户（占已检查 {percent_text(r.problems_found, r.inspected)}）') for r in rows]
    return bar_chart("chart-problems", "各部门发现问题情况", bars)


def overdue_chart(rows: Sequence[Any]) -> Markup:
    bars = [Bar(r.name, (Segment(r.overdue, "red", "逾期未公示"), Segment(r.due_soon, "amber", "即将到期")),
                f'逾期 {r.overdue} · 即将到期 {r.due_soon}') for r in rows]
    return bar_chart("chart-overdue", "各部门逾期未公示情况", bars)
