"""PNG bar charts of a month's ranking, embedded in the ranking emails. Drawn with matplotlib and
the Noto Sans CJK SC font that the mplfonts package ships, so Chinese names render on any machine."""

import io
from collections.abc import Callable
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path


@lru_cache(maxsize=1)
def _font():
    from matplotlib.font_manager import FontProperties

    folder = Path(find_spec("mplfonts").submodule_search_locations[0]) / "fonts"
    return FontProperties(fname=str(folder / "NotoSansCJKsc-Regular.otf"))


def bar_chart(title: str, bars: list[tuple[str, float]], highlight: str | None = None) -> bytes:
    """Horizontal bars of scores out of 100, in the given order from the top; the highlighted bar
    (a community's own) in red. Drawn as rectangles and texts on a bare figure: axes and their tick
    machinery cost most of matplotlib's time, and a province draws 360 of these a month."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    font = _font()
    row, top, width = 0.28, 0.5, 6.4  # inches
    height = top + row * len(bars) + 0.2
    figure = Figure(figsize=(width, height), dpi=90)
    figure.text(0.5, 1 - 0.3 / height, title, ha="center", va="center", fontproperties=font, fontsize=11)
    left, span = 0.22, 0.66  # bar area, as fractions of the width
    for index, (name, score) in enumerate(bars):
        y = 1 - (top + row * (index + 0.5)) / height
        figure.text(left - 0.01, y, name, ha="right", va="center", fontproperties=font, fontsize=9)
        figure.patches.append(Rectangle((left, y - 0.36 * row / height), span * max(score, 0) / 100, 0.72 * row / height,
                                        transform=figure.transFigure, color="#c00000" if name == highlight else "#e8a0a0"))
        figure.text(left + span * max(score, 0) / 100 + 0.01, y, f"{score:.1f}", va="center", fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})  # level 6 costs 10 ms more a chart
    return buffer.getvalue()


def _draw(job: list) -> None:
    path, title, bars = job
    Path(path).write_bytes(bar_chart(title, [tuple(bar) for bar in bars]))


def draw_all(jobs: list[tuple[str, str, list[tuple[str, float]]]]) -> Callable[[], None]:
    """Start writing each (path, title, bars) chart; returns a function that waits until all are
    written, so the caller can do other work meanwhile. Many charts (a province has 360 a month,
    ~60 ms each) are drawn by one worker process per core, each a plain
    `python -m lianchuang.tasks.charts` (not multiprocessing, which would re-import the caller's
    main module or share its database connections); a few are drawn at once, here, since a worker
    takes about a second to start."""
    if len(jobs) < 24:
        for job in jobs:
            _draw(list(job))
        return lambda: None
    import json
    import os
    import subprocess
    import sys

    workers = max(1, os.cpu_count() or 1)
    processes = [subprocess.Popen([sys.executable, "-m", "lianchuang.tasks.charts"], stdin=subprocess.PIPE)
                 for _ in range(workers)]
    for index, process in enumerate(processes):
        process.stdin.write(json.dumps(jobs[index::workers], ensure_ascii=False).encode("utf-8"))
        process.stdin.close()

    def wait() -> None:
        if any(process.wait() for process in processes):
            raise RuntimeError("drawing the ranking charts failed (see the error above)")

    return wait


if __name__ == "__main__":  # a chart worker: draws the jobs it reads as JSON from stdin
    import json
    import sys

    for job in json.loads(sys.stdin.buffer.read()):
        _draw(job)
