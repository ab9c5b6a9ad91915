"""PNG bar charts of a month's ranking, embedded in the ranking emails. Drawn with matplotlib and
the Noto Sans CJK SC font that the mplfonts package ships, so Chinese names render on any machine."""

import io
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path


@lru_cache(maxsize=1)
def _font():
    from matplotlib.font_manager import FontProperties

    folder = Path(find_spec("mplfonts").submodule_search_locations[0]) / "fonts"
    return FontProperties(fname=str(folder / "NotoSansCJKsc-Regular.otf"))


def bar_chart(title: str, bars: list[tuple[str, float]], highlight: str | None = None) -> bytes:
    """Horizontal bars, best at the top; the highlighted bar (a community's own) in red."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    font = _font()
    figure = Figure(figsize=(6.4, 0.8 + 0.28 * len(bars)), dpi=90)
    axes = figure.add_subplot()
    labels = [name for name, _ in reversed(bars)]
    values = [score for _, score in reversed(bars)]
    colours = ["#c00000" if name == highlight else "#e8a0a0" for name in labels]
    axes.barh(range(len(bars)), values, color=colours)
    axes.set_yticks(range(len(bars)), labels, fontproperties=font, fontsize=9)
    axes.set_xlim(0, 105)
    axes.xaxis.set_visible(False)  # every bar carries its value; drawing the axis costs a quarter of the time
    axes.set_title(title, fontproperties=font, fontsize=11)
    for index, value in enumerate(values):
        axes.text(value + 1, index, f"{value:.1f}", va="center", fontsize=8)
    axes.spines[["top", "right", "bottom"]].set_visible(False)
    height = figure.get_figheight()
    figure.subplots_adjust(left=0.2, right=0.97, top=1 - 0.45 / height, bottom=0.35 / height)  # tight_layout costs 2x
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
