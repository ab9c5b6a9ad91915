"""PNG bar charts of a month's ranking, embedded in the ranking emails. Drawn with Pillow in the
Noto Sans CJK SC font that the mplfonts package ships, so Chinese names render on any machine."""

import io
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from lianchuang.tasks.files import replace_file

INK, BAR = (0x22, 0x22, 0x22), (0xE8, 0xA0, 0xA0)
LEVELS = 15  # shades of ink on white for the text's anti-aliased edges; with the bar, a 16-colour (4-bit) PNG
PALETTE = [round(255 + (ink - 255) * level / (LEVELS - 1)) for level in range(LEVELS) for ink in INK] + list(BAR)
TO_LEVEL = [round(coverage * (LEVELS - 1) / 255) for coverage in range(256)]


@lru_cache(maxsize=4)
def _font(pixels: float):
    from PIL import ImageFont

    folder = Path(find_spec("mplfonts").submodule_search_locations[0]) / "fonts"
    return ImageFont.truetype(str(folder / "NotoSansCJKsc-Regular.otf"), pixels)


@lru_cache(maxsize=8192)
def glyph(character: str, pixels: float) -> tuple:
    """A character's coverage mask (None for a space), its offset from the pen on the baseline, and
    its advance; drawn once per process: a province's 360 charts carry ~12,000 labels a month,
    made of a few hundred characters."""
    from PIL import Image, ImageDraw

    font = _font(pixels)
    left, top, right, bottom = font.getbbox(character, anchor="ls")
    mask = None
    if right > left and bottom > top:
        mask = Image.new("L", (right - left, bottom - top))
        ImageDraw.Draw(mask).text((-left, -top), character, font=font, fill=255, anchor="ls")
    return mask, left, top, font.getlength(character)


def bar_chart(title: str, bars: list[tuple[str, float]]) -> bytes:
    """Horizontal bars of scores out of 100, top to bottom in the given order, as a 16-colour PNG
    (one chart travels in up to 30 emails). The text is laid down as coverage from cached glyphs,
    then mapped to shades of ink; the bars never touch text, so need no blending."""
    from PIL import Image, ImageDraw

    # Drawn at a phone's width (378 px), so an email shows it at its own size with 14-15 px text,
    # not shrunk to half on the screen most coordinators read it on.
    row, top, bottom, width, dpi = 0.34, 0.5, 0.2, 4.2, 90  # inches, dots per inch
    coverage = Image.new("L", (round(width * dpi), round((top + row * len(bars) + bottom) * dpi)), 0)
    left, span = 0.40 * width * dpi, 0.46 * width * dpi  # the bar area, in pixels

    def write(text: str, points: float, x: float, y: float, align: str) -> None:
        """Text centred vertically on y (pixels from the top); x is where it starts, ends or centres (align)."""
        pixels = points * dpi / 72
        glyphs = [glyph(character, pixels) for character in text]
        x -= {"left": 0, "right": 1, "center": 0.5}[align] * sum(advance for *_, advance in glyphs)
        baseline = round(y + 0.38 * pixels)
        for mask, dx, dy, advance in glyphs:
            if mask is not None:
                coverage.paste(255, (round(x) + dx, baseline + dy), mask)
            x += advance

    write(title, 12, width * dpi / 2, 0.3 * dpi, "center")
    boxes = []
    for index, (name, score) in enumerate(bars):
        y, length = (top + row * (index + 0.5)) * dpi, span * max(score, 0) / 100
        half = 0.36 * row * dpi
        if round(length):
            boxes.append((round(left), round(y - half), round(left + length) - 1, round(y + half) - 1))
        write(name if len(name) <= 8 else name[:7] + "…", 11, left - 0.06 * dpi, y, "right")  # fits left of the bars
        write(f"{score:.1f}", 10, left + length + 0.06 * dpi, y, "left")
    image = coverage.point(TO_LEVEL)
    image.putpalette(PALETTE)  # the shade levels become palette indices: the image is now mode P
    draw = ImageDraw.Draw(image)
    for box in boxes:
        draw.rectangle(box, fill=LEVELS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=3)  # level 3: 0.9 ms against the default's 1.5, a file a sixth larger
    return buffer.getvalue()


def draw_charts(jobs) -> int:
    """Write each (path, title, bars) chart. At ~1.7 ms a chart, a province's 360 take 0.6 s: less
    than a worker process would take to start."""
    for path, title, bars in jobs:
        replace_file(Path(path), bar_chart(title, bars))
    return len(jobs)
