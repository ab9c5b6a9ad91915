"""The printable documents (documents/<year>/): each community's statements and letters (责任状与
承诺书), its public call for opinions (征求意见公告) and its ballot slips (评议票), as a coordinator
opens them before printing, in headless Chromium at 390 px and 1280 px, then printed to A4."""

import os
import re
from datetime import date
from pathlib import Path

import pytest
from factories import CHROMIUM, DESKTOP, PHONE, YEAR, needs_chromium, through_commitments
from sqlalchemy import func, select

from lianchuang.models import Commitment, Community
from lianchuang.models.db import session_scope
from lianchuang.tasks.cycle import ensure_cycle
from lianchuang.tasks.evaluation.ballots import open_evaluation
from lianchuang.tasks.evaluation.slips import write_ballot_slips
from lianchuang.tasks.opinions.notices import write_public_calls

pytestmark = needs_chromium


@pytest.fixture
def documents(district, settings) -> tuple[Path, dict[str, int]]:
    """A small district's documents of the year; returns their folder and, per commitments page, how
    many statements and letters it holds (a printed page each)."""
    with session_scope() as session:
        cycle = ensure_cycle(session, YEAR)
        communities = session.scalars(select(Community).order_by(Community.code)).all()
        ids = [c.id for c in communities]
        write_public_calls(session, YEAR, ids, date(YEAR, 1, 31))
        through_commitments(session, cycle.id, ids, title="{}任务（含较长的任务名称以测换行）")
        open_evaluation(session, YEAR, cycle.id, ids, date(YEAR, 12, 20))
        assert write_ballot_slips(session, YEAR, cycle.id, communities[0])[1] > 0
        held = {Path(path).name: count for path, count in session.execute(
            select(Commitment.document_path, func.count()).group_by(Commitment.document_path))}
    return settings.documents_dir / str(YEAR), held


def test_every_document_fits_a_phone_and_a_desktop_and_prints_a_page_per_document(documents, tmp_path):
    """Nothing wider than the screen and no table cell off it at either width (a wide table scrolls
    inside its own box, so every column can be reached) nor squeezed too narrow to read; on A4
    a statement, a letter and each half of a public call take one page each, with no blank page."""
    from playwright.sync_api import sync_playwright

    folder, held = documents
    shots = Path(os.environ.get("LIANCHUANG_SCREENSHOTS") or tmp_path)  # kept for a person to look at
    shots.mkdir(parents=True, exist_ok=True)
    pages = sorted(folder.rglob("*.html"))
    kinds = {path.parent.name if path.parent != folder else "责任状与承诺书" for path in pages}
    assert kinds == {"责任状与承诺书", "征求意见公告", "评议票"}, kinds
    assert {path.name for path in pages if path.parent == folder} == set(held)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for viewport in (PHONE, DESKTOP):
            page = browser.new_page(viewport=viewport)
            for path in pages:
                page.goto(path.as_uri())
                name = f"{path.relative_to(folder)} at {viewport['width']} px"
                page.screenshot(path=str(shots / f"{path.parent.name}-{path.stem}-{viewport['width']}.png"), full_page=True)
                assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], name
                # a cell beyond the screen must sit in a box that scrolls sideways, never cut off
                cut = page.eval_on_selector_all("td, th", """cells => cells.filter(c => {
                    const box = c.closest('.wrap'), right = c.getBoundingClientRect().right;
                    return right > innerWidth + 1 && !(box && box.scrollWidth > box.clientWidth
                        && getComputedStyle(box).overflowX === 'auto');
                }).length""")
                assert cut == 0, f"{name}: {cut} cells cut off"
                # no column squeezed to a character or two a line (a 7-column table at 390 px was)
                squeezed = page.eval_on_selector_all("td", """cells => cells.filter(c => c.innerText.trim().length > 2
                    && c.getBoundingClientRect().width < 3.5 * parseFloat(getComputedStyle(c).fontSize)).map(c => c.innerText)""")
                assert not squeezed, f"{name}: squeezed cells {squeezed[:3]}"
            page.close()
        page = browser.new_page(viewport=DESKTOP)
        for path in pages:
            page.goto(path.as_uri())
            pdf = page.pdf(prefer_css_page_size=True, print_background=False)
            printed = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
            if path.parent.name == "征求意见公告":
                assert printed == 2, f"{path.name}: the call and its form print on {printed} pages"
            elif path.parent.name == "评议票":
                slips = page.eval_on_selector_all("section.slip", "s => s.length")
                assert 1 <= printed <= slips, f"{path.name}: {slips} slips printed on {printed} pages"
            else:
                assert printed == held[path.name], f"{path.name}: {held[path.name]} documents on {printed} pages"
        browser.close()
