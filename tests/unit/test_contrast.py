"""Grey text reads on its background at WCAG AA (4.5:1): the muted grey was 4.48:1."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def luminance(hex_colour: str) -> float:
    hex_colour = hex_colour.lstrip("#")
    if len(hex_colour) == 3:
        hex_colour = "".join(c * 2 for c in hex_colour)
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_muted_and_footer_text_meet_wcag_aa_on_every_page_background():
    for template, selector in (("page_base.html", ".muted"), ("notices/_layout.j2", ".footer"), ("en/notices/_layout.j2", ".footer")):
        css = (TEMPLATES / template).read_text(encoding="utf-8")
        colour = re.search(re.escape(selector) + r"\{color:(#[0-9a-fA-F]{3,6})", css).group(1)
        backgrounds = set(re.findall(r"background:(#[0-9a-fA-F]{3,6})", css)) | {"#ffffff"}
        for background in backgrounds:
            assert contrast(colour, background) >= 4.5, (template, colour, background, round(contrast(colour, background), 2))
    assert round(contrast("#777777", "#fafafa"), 2) < 4.5  # the grey it replaced, on the board's background
