"""PNG bar charts of a month's ranking, embedded in the ranking emails. Drawn with matplotlib and
the Noto Sans CJK SC font that the mplfonts package ships, so Chinese names render on any machine."""

import io
import os
from collections.abc import Callable
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path


@lru_cache(maxsize=1)
def _font():
    from matplotlib.font_manager import FontProperties

    folder = Path(find_spec("mplfonts").submodule_search_locations[0]) / "fonts"
    return FontProperties(fname=str(folder / "NotoSansCJKsc-Regular.otf"))


class BarChartPainter:
    """Draws ranking bar charts (horizontal bars of scores out of 100, top to bottom in the given
    order) on one figure that it reuses: a province draws 360 charts a month, and making a new
    figure with its text artists each time cost about a third of a chart. Drawn as rectangles and
    texts on a bare figure, since axes and their tick machinery would cost more than the rest."""

    ROW, TOP, BOTTOM, WIDTH = 0.28, 0.5, 0.2, 6.4  # inches
    LEFT, SPAN = 0.22, 0.66  # the bar area, as fractions of the width

    def __init__(self):
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(self.WIDTH, 3), dpi=90)
        self.canvas = FigureCanvasAgg(self.figure)
        self.title = self.figure.text(0.5, 0, "", ha="center", va="center", fontproperties=_font(), fontsize=11)
        self.rows: list[tuple] = []  # (name text, bar, score text), made as the longest chart needs

    def _row(self, index: int) -> tuple:
        from matplotlib.patches import Rectangle

        while len(self.rows) <= index:
            bar = Rectangle((self.LEFT, 0), 0, 0, transform=self.figure.transFigure, color="#e8a0a0")
            self.figure.patches.append(bar)
            self.rows.append((self.figure.text(self.LEFT - 0.01, 0, "", ha="right", va="center", fontproperties=_font(),
                                               fontsize=9),
                              bar, self.figure.text(0, 0, "", va="center", fontsize=8)))
        return self.rows[index]

    def draw(self, title: str, bars: list[tuple[str, float]]) -> bytes:
        """The chart as a PNG with a 32-colour palette (a quarter of the size of full colour, and
        each one travels in up to 30 emails)."""
        from PIL import Image

        height = self.TOP + self.ROW * len(bars) + self.BOTTOM
        self.figure.set_size_inches(self.WIDTH, height)
        self.title.set_text(title)
        self.title.set_y(1 - 0.3 / height)
        for index in range(max(len(bars), len(self.rows))):
            name_text, bar, score_text = self._row(index)
            for artist in (name_text, bar, score_text):
                artist.set_visible(index < len(bars))
            if index >= len(bars):
                continue
            name, score = bars[index]
            y, length = 1 - (self.TOP + self.ROW * (index + 0.5)) / height, self.SPAN * max(score, 0) / 100
            name_text.set_text(name if len(name) <= 12 else name[:11] + "…")  # the bar area starts at a fifth
            name_text.set_y(y)
            bar.set_bounds(self.LEFT, y - 0.36 * self.ROW / height, length, 0.72 * self.ROW / height)
            score_text.set_text(f"{score:.1f}")
            score_text.set_position((self.LEFT + length + 0.01, y))
        self.canvas.draw()
        image = Image.frombuffer("RGBA", self.canvas.get_width_height(), self.canvas.buffer_rgba()).convert("RGB")
        buffer = io.BytesIO()
        image.quantize(colors=32, method=Image.Quantize.FASTOCTREE).save(buffer, format="PNG")
        return buffer.getvalue()


def draw_all(jobs: list[tuple[str, str, list[tuple[str, float]]]]) -> Callable[[], None]:
    """Start writing each (path, title, bars) chart; returns a function that waits until all are
    written, so the caller can do other work meanwhile. Many charts (a province has 360 a month,
    ~30 ms each) are drawn by one worker process per core; a few are drawn at once, here."""
    if len(jobs) < 24:
        draw_charts(jobs)
        return lambda: None
    from lianchuang.tasks import workers

    count = max(1, os.cpu_count() or 1)
    waits = [workers.start("lianchuang.tasks.charts", jobs[index::count]) for index in range(count)]

    def wait_for_all() -> None:
        for wait in waits:
            wait()

    return wait_for_all


def draw_charts(jobs) -> int:
    painter = BarChartPainter()
    for path, title, bars in jobs:
        Path(path).write_bytes(painter.draw(title, [tuple(bar) for bar in bars]))
    return len(jobs)


if __name__ == "__main__":
    from lianchuang.tasks import workers

    workers.serve(draw_charts)
