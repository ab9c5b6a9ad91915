"""The ranking chart: every name, bar and score is drawn where a reader expects it."""

import io

from PIL import Image

from lianchuang.tasks.progress.charts import LEVELS, bar_chart, glyph

DPI, TOP, ROW, WIDTH = 90, 0.5, 0.34, 4.2  # a phone's width: 378 px
LEFT, SPAN = 0.40 * WIDTH * DPI, 0.46 * WIDTH * DPI


def dark(pixel) -> bool:
    return sum(pixel) < 300


def test_each_row_has_its_name_left_of_a_bar_as_long_as_its_score_and_the_score_after_it():
    image = Image.open(io.BytesIO(bar_chart("列东街道 2026年10月 社区得分", [("江滨社区", 90.0), ("碧湖社区", 45.0)])))
    image = image.convert("RGB")
    assert image.size == (round(WIDTH * DPI), round((TOP + 2 * ROW + 0.2) * DPI))
    for index, score in enumerate((90.0, 45.0)):
        y = round((TOP + ROW * (index + 0.5)) * DPI)
        band = [(x, yy) for x in range(image.width) for yy in range(y - 6, y + 7)]
        name = [p for p in band if p[0] < LEFT - 2 and dark(image.getpixel(p))]
        end = LEFT + SPAN * score / 100
        score_text = [p for p in band if end + 2 < p[0] < end + 60 and dark(image.getpixel(p))]
        assert name and score_text, f"row {index}: name or score missing"
        r, g, b = image.getpixel((round(end - 10), y))
        assert r > 200 and g < 190, "the bar reaches its score"
        assert min(image.getpixel((min(round(end + 70), image.width - 1), y))) > 245, "and stops there"
    title = [(x, y) for x in range(image.width) for y in range(10, 35) if dark(image.getpixel((x, y)))]
    assert title and abs((min(x for x, _ in title) + max(x for x, _ in title)) / 2 - image.width / 2) < 10


def test_glyphs_advance_per_character_and_a_space_has_no_mask():
    mask, _, top, advance = glyph("社", 15)
    assert mask is not None and top < 0 and 13 < advance < 17  # above the baseline, about an em wide
    space, _, _, gap = glyph(" ", 15)
    assert space is None and 0 < gap < advance


def test_the_chart_is_a_16_colour_png_of_ink_shades_and_the_bar():
    image = Image.open(io.BytesIO(bar_chart("得分", [("江滨社区", 90.0)])))
    assert image.mode == "P" and len(image.getpalette()) == 3 * (LEVELS + 1)
    colours = {colour for _, colour in image.convert("RGB").getcolors()}
    assert (255, 255, 255) in colours and (0xE8, 0xA0, 0xA0) in colours and (0x22, 0x22, 0x22) in colours
