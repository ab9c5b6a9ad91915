"""A small line chart drawn as inline SVG on the board's pages: the tasks' average reported percent
against what their plans called for, month by month, as the published rankings recorded them. No
image file and no script: it prints, scales to a phone and reads offline."""

from markupsafe import Markup, escape

WIDTH, HEIGHT = 360, 170
LEFT, RIGHT, TOP, BOTTOM = 34, 10, 12, 30  # room for the percent axis, the months and the legend


def _x(month: int) -> float:
    return LEFT + (month - 1) * (WIDTH - LEFT - RIGHT) / 11


def _y(percent: float) -> float:
    return TOP + (100 - max(0.0, min(100.0, percent))) * (HEIGHT - TOP - BOTTOM) / 100


def _line(points: list[tuple[int, float]], css: str) -> str:
    if not points:
        return ""
    coordinates = " ".join(f"{_x(month):.1f},{_y(percent):.1f}" for month, percent in points)
    dots = "".join(f'<circle cx="{_x(m):.1f}" cy="{_y(p):.1f}" r="2.5" class="{css}"/>' for m, p in points)
    return f'<polyline points="{coordinates}" class="{css}"/>{dots}'


def progress_chart(title: str, months: list[tuple[int, float | None, float | None]]) -> Markup:
    """(month, reported, planned) → the chart, titled; empty when no month has both figures."""
    points = [(month, reported, planned) for month, reported, planned in months if reported is not None and planned is not None]
    if not points:
        return Markup("")
    last_month, last_reported, last_planned = points[-1]
    summary = f"{title}：{last_month}月底报告进度平均 {last_reported:.0f}%，计划 {last_planned:.0f}%"
    grid = "".join(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_y(p):.1f}" y2="{_y(p):.1f}" class="grid"/>'
                   f'<text x="{LEFT - 4}" y="{_y(p) + 4:.1f}" text-anchor="end">{p}%</text>' for p in (0, 50, 100))
    axis = "".join(f'<text x="{_x(m):.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">{m}</text>' for m in range(1, 13))
    legend = (f'<line x1="{LEFT}" x2="{LEFT + 18}" y1="{HEIGHT - 5}" y2="{HEIGHT - 5}" class="planned"/>'
              f'<text x="{LEFT + 22}" y="{HEIGHT - 1}">计划</text>'
              f'<line x1="{LEFT + 62}" x2="{LEFT + 80}" y1="{HEIGHT - 5}" y2="{HEIGHT - 5}" class="reported"/>'
              f'<text x="{LEFT + 84}" y="{HEIGHT - 1}">报告进度（月份）</text>')
    lines = _line([(m, p) for m, _, p in points], "planned") + _line([(m, r) for m, r, _ in points], "reported")
    return Markup(f'<figure class="chart"><svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(summary)}">'
                  f"<title>{escape(summary)}</title>{grid}{axis}{lines}{legend}</svg>"
                  f"<figcaption>{escape(summary)}</figcaption></figure>")
