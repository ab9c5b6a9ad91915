"""Every kind of email as a phone shows it (390 px wide), in headless Chromium: nothing runs off the
screen sideways (a wide table scrolls inside its own box), the Chinese is drawn with a CJK font,
and the ranking's chart is shown. Screenshots are kept for a person to look at: into
LIANCHUANG_SCREENSHOTS if set, else the test's folder."""

import os
import re
from pathlib import Path

from factories import CHROMIUM, DESKTOP, PHONE, needs_chromium

from lianchuang.tasks.demo.samples import SAMPLES
from lianchuang.tasks.outbox.rendering import render_notice

pytestmark = needs_chromium
DISTRICT_ROWS = [[rank, (rank + 1) // 2, f"第{rank}号示范社区", f"第{(rank + 1) // 2}街道", 90 - rank, 92.3 - rank, 72.7, 30, rank % 4]
                 for rank in range(1, 26)]  # a district's 25 communities, long names


def pages(folder: Path) -> dict[str, Path]:
    from lianchuang.tasks.progress.charts import bar_chart

    chart = folder / "chart.png"
    chart.write_bytes(bar_chart("列东街道 2026年10月 社区得分", [(row[2], row[4]) for row in DISTRICT_ROWS[:8]]))
    written = {}
    contexts = {name: sample for name, sample in SAMPLES.items()}
    contexts["ranking-district"] = SAMPLES["ranking"] | dict(scope="district", scope_name="全区", rows=DISTRICT_ROWS, chart=True)
    contexts["ranking-community"] = SAMPLES["ranking"] | dict(chart=True)
    for name, context in contexts.items():
        template = name.split("-")[0]
        html = render_notice(template, {"recipient": "王明", **context}, "zh_CN").html
        written[name] = folder / f"email-{name}.html"
        written[name].write_text(html.replace("cid:chart", chart.name), encoding="utf-8")
    return written


def test_every_email_fits_a_phone_draws_chinese_and_shows_its_chart(settings, tmp_path):
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("LIANCHUANG_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport=PHONE)
        for name, path in pages(tmp_path).items():
            page.goto(path.as_uri())
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{name} runs off a phone's screen ({width} px)"
            cdp = page.context.new_cdp_session(page)
            root = cdp.send("DOM.getDocument")["root"]["nodeId"]
            heading = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
            cdp.send("CSS.enable")
            fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": heading})["fonts"]
            assert any("CJK" in f["familyName"] and f["glyphCount"] for f in fonts), f"{name}: {fonts}"
            images = page.eval_on_selector_all("img", "images => images.map(i => [i.naturalWidth, i.getBoundingClientRect().width])")
            assert all(natural > 0 and 0 < shown <= PHONE["width"] for natural, shown in images), (name, images)
            if name.startswith("ranking-"):
                assert images, f"{name} shows no chart"
            # every cell of every table on the screen: a wide table stacks, a block per row
            off = page.eval_on_selector_all("td", f"cells => cells.filter(c => c.getBoundingClientRect().right > {PHONE['width']} + 1).length")
            assert off == 0, f"{name}: {off} table cells are off a phone's screen"
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        desk = browser.new_page(viewport=DESKTOP)  # and at desktop width: nothing hidden either
        for name, path in pages(tmp_path).items():
            desk.goto(path.as_uri())
            assert desk.evaluate("document.documentElement.scrollWidth") <= 1280, name
            assert desk.eval_on_selector_all("td", "cells => cells.filter(c => c.getBoundingClientRect().right > 1281).length") == 0, name
        browser.close()


def test_a_print_page_reads_on_a_phone_and_a_desktop(settings, tmp_path):
    """A batch of paper notices (one per person without email: a table, a list, paragraphs), opened
    as the coordinator opens it before printing: fits 390 px and 1280 px, CJK drawn, dated, no
    reply line."""
    from playwright.sync_api import sync_playwright

    from lianchuang.models.db import session_scope
    from lianchuang.tasks.outbox import delivery, drafts as outbox, print_pages

    templates = ["award_summary", "evaluation_invitation", "solicitation", "overdue"]
    with session_scope() as session:
        outbox.queue(session, [outbox.Draft(2026, "evaluation", name, f"P{n}", "王明", None, SAMPLES[name])
                               for n, name in enumerate(templates)])
    delivery.deliver_all()
    with session_scope() as session:
        assert print_pages.write_print_batches(session, 2026) >= 1
    [page_file] = (settings.print_dir / "2026").glob("*/区级.html")
    shots = Path(os.environ.get("LIANCHUANG_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for name, viewport in {"phone": PHONE, "desktop": DESKTOP}.items():
            page = browser.new_page(viewport=viewport)
            page.goto(page_file.as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], name
            text = page.inner_text("body")
            assert text.count("签收") >= len(templates) and "请勿直接回复" not in text and "年" in text
            assert page.eval_on_selector_all("section.doc", "docs => docs.length") == len(templates)
            cdp = page.context.new_cdp_session(page)
            root = cdp.send("DOM.getDocument")["root"]["nodeId"]
            heading = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h2"})["nodeId"]
            cdp.send("CSS.enable")
            fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": heading})["fonts"]
            assert any("CJK" in f["familyName"] and f["glyphCount"] for f in fonts), fonts
            page.screenshot(path=str(shots / f"print-page-{name}.png"), full_page=True)
        # Printed on A4: a page per notice, no blank page after each (the page box was 270 mm high
        # where A4 leaves 261 mm inside its margins, and the last notice was followed by another break)
        pdf = page.pdf(prefer_css_page_size=True, print_background=False)
        assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == len(templates)
        browser.close()
