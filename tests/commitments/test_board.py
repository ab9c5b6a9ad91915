"""The public notice board in a real headless browser (Debian's chromium, driven by Playwright
with the system browser: nothing is downloaded). Skipped where chromium is not installed, unless
LIANCHUANG_REQUIRE_BROWSER is set, as CI does."""

import re
from datetime import date
from pathlib import Path

import pytest
from factories import CHROMIUM, DESKTOP, PHONE, SMALL, YEAR, needs_chromium, through_commitments
from sqlalchemy import select

from lianchuang.models import Community, Person, Task
from lianchuang.models.db import session_scope
from lianchuang.models.enums import Category
from lianchuang.tasks.board import build_board
from lianchuang.tasks.commitments import rules as commitments
from lianchuang.tasks.cycle import ensure_cycle
from lianchuang.tasks.demo import simulation
from lianchuang.tasks.opinions.rules import NewTask, add_tasks
from lianchuang.tasks.progress.ranking import publish_ranking

pytestmark = needs_chromium


@pytest.fixture
def board(district, tmp_path) -> Path:
    """A small district through stages 2-4 with the app's own rules, then its board."""
    with session_scope() as session:
        cycle = ensure_cycle(session, YEAR)
        ids = list(session.scalars(select(Community.id)))
        through_commitments(session, cycle.id, ids)
        simulation.sign_commitments(session, cycle.id, YEAR)
        commitments.publish(session, YEAR, cycle.id, ids, date(YEAR, 3, 25))
        publish_ranking(session, cycle.id, YEAR, 3, date(YEAR, 4, 1))
        out = tmp_path / "board"
        # the index, the open data page and a data-check page per district; a page per street and community
        assert build_board(session, cycle.id, YEAR, out) == 2 + SMALL.districts + SMALL.streets_per_district + SMALL.communities
        contacts = [c for person in session.scalars(select(Person)) for c in (person.email, person.phone) if c]
    assert contacts, "the district should have contact details to keep off the board"
    for page in out.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not [c for c in contacts if c in text], f"{page.name} shows a contact detail"
    return out


def visit_all(browser, start: Path) -> dict[str, dict]:
    """Follow every link from the index; per page: its title, the fonts that drew its heading, its
    width on a phone, the requests it made and the links that led nowhere."""
    seen, queue = {}, [start.resolve()]
    while queue:
        path = queue.pop()
        if path.name in seen:
            continue
        page = browser.new_page(viewport=PHONE)
        requests, errors = [], []
        page.on("request", lambda request: requests.append(request.url))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(path.as_uri())
        cdp = page.context.new_cdp_session(page)
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        heading = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
        cdp.send("CSS.enable")
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": heading})["fonts"]
        hrefs = page.eval_on_selector_all("a", "links => links.map(a => a.href)")
        targets = [Path(re.sub(r"^file://", "", href.split("#")[0])) for href in hrefs]
        seen[path.name] = dict(title=page.title(), heading=page.inner_text("h1"), fonts=fonts, errors=errors,
                               width=page.evaluate("document.documentElement.scrollWidth"),
                               outside=[u for u in requests if not u.startswith("file://")],
                               broken=[str(t) for t in targets if not t.exists()])
        queue += [t for t in targets if t.exists() and t.suffix == ".html"]  # data files are checked to exist only
        page.close()
    return seen


def test_every_page_renders_chinese_offline_on_a_phone_and_every_link_resolves(board):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        pages = visit_all(browser, board / "index.html")
        desk = browser.new_page(viewport=DESKTOP)
        for path in board.glob("*.html"):  # at desktop width too: nothing wider than the screen
            desk.goto(path.as_uri())
            assert desk.evaluate("document.documentElement.scrollWidth") <= 1280, path.name
        browser.close()
    assert set(pages) == {p.name for p in board.glob("*.html")}  # every page is reachable from the index
    for name, page in pages.items():
        assert "公开栏" in page["title"] and re.search(r"[\u4e00-\u9fff]", page["heading"]), name
        cjk_glyphs = sum(f["glyphCount"] for f in page["fonts"] if "CJK" in f["familyName"] or "Hei" in f["familyName"])
        assert cjk_glyphs > 0, f"{name}: Chinese drawn with no CJK font: {page['fonts']}"
        assert page["width"] <= PHONE["width"], f"{name} scrolls sideways on a phone ({page['width']}px)"
        assert not page["outside"], f"{name} fetched {page['outside']}"
        assert not page["broken"] and not page["errors"], name


def test_a_community_page_shows_tasks_posts_commitments_and_ranking(board):
    page = next(p for p in board.glob("D*.html")).read_text(encoding="utf-8")
    for heading in ("年度工作任务", "设岗定责", "联名公开承诺", "月度进度排名"):
        assert heading in page
    assert "已于 2026年3月25日 联名公开承诺" in page


def one_task_s_row(tmp_path, reports) -> str:
    """The board's row of a new task given these reports (NewReport fields after the task id)."""
    from lianchuang.tasks.progress.ranking import NewReport, record_reports

    with session_scope() as session:
        cycle = ensure_cycle(session, YEAR)
        community = session.scalars(select(Community).order_by(Community.code)).first()
        code, = add_tasks(session, cycle.id, [NewTask(community.id, Category.culture, "组建社区文艺队")])
        task_id = session.scalar(select(Task.id).where(Task.code == code))
        record_reports(session, [NewReport(task_id, *fields, **named) for fields, named in reports])
        build_board(session, cycle.id, YEAR, tmp_path)
    row = re.search(rf'<tr><td data-label="编号">{code}</td>.*?</tr>', (tmp_path / f"{community.code}.html").read_text(encoding="utf-8"))
    assert row
    return row.group(0)


def test_a_task_shows_its_latest_reported_progress_even_after_a_drop(district, tmp_path):
    row = one_task_s_row(tmp_path, [((date(YEAR, 4, 25), 60), {}), ((date(YEAR, 5, 25), 40), dict(note="场地被收回，重新选址"))])
    assert re.search(r'<td data-label="进度" class="progress">.*</div>40% · 计划', row)


def test_a_late_report_for_an_earlier_month_does_not_undo_the_later_month_on_the_board(district, tmp_path):
    """The board orders a task's reports as the ranking does: the latest month reported on first
    (a late report for April, made after May's, is not the task's progress)."""
    row = one_task_s_row(tmp_path, [((date(YEAR, 5, 25), 70), {}), ((date(YEAR, 6, 2), 45), dict(month=4))])
    assert re.search(r'<td data-label="进度" class="progress">.*</div>70% · 计划', row)


def test_board_pages_and_open_data_are_readable_by_a_web_server(board):
    """A web server serving the board runs as another user: its files are world-readable (0644),
    while the files a command writes for one person stay its owner's."""
    from lianchuang.tasks.files import replace_file

    for path in [*board.glob("*.html"), *board.glob("data/*")]:
        assert path.stat().st_mode & 0o777 == 0o644, path.name
    assert replace_file(board.parent / "private.txt", "x").stat().st_mode & 0o777 == 0o600


def test_a_large_board_is_built_by_a_worker_process_with_the_same_pages(board, monkeypatch, tmp_path):
    from lianchuang.tasks import board as board_module

    monkeypatch.setattr(board_module, "LARGE_BOARD", 0)
    with session_scope() as session:
        cycle = ensure_cycle(session, YEAR)
        pages = board_module.start_board(session, cycle.id, YEAR, tmp_path / "by-worker").result()
    assert pages == len(list(board.glob("*.html")))
    for page in [*board.glob("*.html"), *board.glob("data/*")]:  # the open data by a process of its own
        assert (tmp_path / "by-worker" / page.relative_to(board)).read_text(encoding="utf-8") == page.read_text(encoding="utf-8")


def test_the_board_publishes_open_data_with_every_field_described(board):
    import csv
    import json

    from lianchuang.tasks.open_data import DATASETS, _inert

    page = (board / "data.html").read_text(encoding="utf-8")
    for dataset in DATASETS:
        with open(board / "data" / f"{dataset.name}.csv", encoding="utf-8-sig", newline="") as sheet:
            rows = list(csv.reader(sheet))
        records = json.loads((board / "data" / f"{dataset.name}.json").read_text(encoding="utf-8"))
        assert rows[0] == [key for key, _ in dataset.fields] and len(rows) - 1 == len(records)
        assert all(f'<td data-label="字段">{key}</td><td data-label="含义">{meaning}</td>' in page
                   for key, meaning in dataset.fields), dataset.name
    tasks = json.loads((board / "data" / "tasks.json").read_text(encoding="utf-8"))
    assert tasks and {t["category"] for t in tasks} == {"治安联防", "文体活动联谊"}  # by name, not code
    assert all(t["percent"] is None and t["reported_on"] is None for t in tasks)  # nothing reported: empty, not 0
    rankings = json.loads((board / "data" / "rankings.json").read_text(encoding="utf-8"))
    assert {r["month"] for r in rankings} == {3} and len(rankings) == SMALL.communities
    assert _inert("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")" and _inert("-1") == "'-1" and _inert(5) == 5


def test_the_index_shows_the_latest_ranking_and_the_commitments(board):
    index = (board / "index.html").read_text(encoding="utf-8")
    assert "3月排名与任务进度" in index and f"已联名公开承诺 {SMALL.communities} 个" in index and "到11月底，全区任务平均完成" in index
    assert index.count('.html">') >= SMALL.communities + SMALL.streets_per_district  # each ranked community links to its page


def test_the_index_lists_every_community_with_a_street_filter_and_a_search_that_work_offline(board):
    """Every community of the district with its score and progress (not only the top ten), and
    the street filter and the name search, in Chromium with no network."""
    from playwright.sync_api import sync_playwright

    with session_scope() as session:
        streets = {street: sorted(names) for street, names in _names_by_street(session).items()}
    first_street, names = next(iter(streets.items()))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport=PHONE)
        page.goto((board / "index.html").as_uri())
        visible = lambda: sorted(page.eval_on_selector_all(
            "tr[data-street]", "rows => rows.filter(r => !r.hidden).map(r => r.dataset.name)"))
        assert len(visible()) == SMALL.communities and page.inner_text(".shown") == f"显示 {SMALL.communities} 个社区"
        page.select_option(".finder select", first_street)
        assert visible() == names
        page.select_option(".finder select", "")
        page.fill(".finder input", names[0][:3])
        assert names[0] in visible() and len(visible()) < SMALL.communities
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        browser.close()


def _names_by_street(session) -> dict[str, list[str]]:
    from lianchuang.models import Street

    found = {}
    for street, community in session.execute(select(Street.name, Community.name).join(Community.street).order_by(Street.code)):
        found.setdefault(street, []).append(community)
    return found


def test_on_a_phone_each_task_is_a_card_with_its_progress_against_its_plan(district, tmp_path):
    """On a phone (390 px) a task is a card: title first at full width, then a bar of its progress
    with the plan's marker, its status word and the step due; the suggestions it answers are a
    link away. At desktop width the same markup stays an 8-column table."""
    from factories import add_opinion
    from playwright.sync_api import sync_playwright

    from lianchuang.models import Opinion
    from lianchuang.tasks.plan import Step, replace_steps
    from lianchuang.tasks.progress.ranking import NewReport, record_reports

    with session_scope() as session:  # the suite's today is 4 December: plans are measured at the end of November
        cycle = ensure_cycle(session, YEAR)
        community = session.scalars(select(Community).order_by(Community.code)).first()
        code, = add_tasks(session, cycle.id, [NewTask(community.id, Category.public_safety, "加强沿江小区夜间巡逻")])
        task = session.scalars(select(Task).where(Task.code == code)).one()
        replace_steps(session, task.id, [Step(3, 25, "组建巡逻队"), Step(9, 75, "覆盖全部小区"), Step(12, 100, "全年巡逻总结")])
        record_reports(session, [NewReport(task.id, date(YEAR, 10, 25), 80)])
        opinion = add_opinion(session, community.id, "沿江小区晚上太黑，希望加强巡逻", submitter_name="张秘密")
        session.get(Opinion, opinion).task_id = task.id
        session.flush()
        build_board(session, cycle.id, YEAR, tmp_path)
    page = tmp_path / f"{community.code}.html"
    html = page.read_text(encoding="utf-8")
    # the ranking's plan at the end of November: 75% in September, 100% in December, so 92%
    assert "80% · 计划 92% · <b class=\"late\">落后于计划</b>" in html and "应达：12月 100% 全年巡逻总结" in html
    assert 'style="width:80%"' in html and 'style="left:92%"' in html
    assert f'href="#from-{code}">回应 1 条群众意见建议' in html and f'id="from-{code}"' in html
    assert "沿江小区晚上太黑" in html and "张秘密" not in html  # what was asked, never who asked
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        boxes = {}
        for width in (390, 1280):
            view = browser.new_page(viewport={"width": width, "height": 900})
            view.goto(page.as_uri())
            row = view.locator(".tasks tr", has_text=code)
            boxes[width] = {name: row.locator(f'td[data-label="{name}"]').bounding_box() for name in ("任务", "进度", "完成时限")}
            boxes[width]["header"] = view.locator(".tasks tr").first.is_visible()
            assert view.evaluate("document.documentElement.scrollWidth") <= width
            view.close()
        browser.close()
    phone, desktop = boxes[390], boxes[1280]
    assert not phone["header"] and phone["任务"]["width"] > 300 and phone["进度"]["width"] > 300  # a card, full width
    assert phone["任务"]["y"] < phone["进度"]["y"] < phone["完成时限"]["y"]  # title, then progress, then the details
    assert desktop["header"] and desktop["任务"]["y"] == desktop["进度"]["y"] == desktop["完成时限"]["y"]  # one table row


@pytest.mark.parametrize("actual, word", [(100, "已完成"), (60, "逾期"), (80, "落后于计划"), (95, "按计划推进"), (0, "逾期")])
def test_a_task_s_status_word_follows_the_ranking_s_measures(actual, word):
    """Below the last step due (75%) the ranking counts a task overdue; below the plan's line (92%)
    it is behind; from there it is on plan."""
    from lianchuang.tasks.board import TaskRow, status_word

    row = TaskRow("D01S01C01-001", "治安联防", "巡逻", "派出所", "", "", "", actual, 92, 75, "12月 100%", 0)
    assert status_word(row)[0] == word


def test_a_task_s_card_escapes_what_it_shows_even_with_separator_characters():
    """The rows are escaped together, joined by control characters: markup in a title is shown as
    text, and a title holding a separator does not shift the cells."""
    from lianchuang.tasks.board import TaskRow, task_cards

    rows = [TaskRow("C-001", "治安联防", '<script>alert("x")</script>', "派\x00出所", "李\x01明", "3月 25%", "—", 10, 20, 0, "", 2),
            TaskRow("C-002", "文体", "文艺队 & 合唱", "文化站", "", "", "—", 100, 100, 100, "", 0)]
    html = str(task_cards(rows))
    assert "<script>" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert '<td data-label="牵头单位">派出所</td><td data-label="责任领导">李明</td>' in html
    assert "文艺队 &amp; 合唱" in html and html.count("<tr>") == 3 and 'href="#from-C-001">回应 2 条' in html


def test_the_index_figures_are_the_same_from_a_whole_and_a_partial_rebuild(board):
    """A whole rebuild averages the plans it read; a partial one asks the database: same figures."""
    from lianchuang.models.queries import task_status_query
    from lianchuang.tasks.board import _averaged, _measured_month, community_progress

    with session_scope() as session:
        cycle = ensure_cycle(session, YEAR)
        month = _measured_month(YEAR)
        whole = _averaged(session.execute(task_status_query(cycle.id, YEAR, month)).all())
        partial = community_progress(session, cycle.id, YEAR, month)
    assert whole.keys() == partial.keys() and len(whole) == SMALL.communities
    assert all(abs(whole[c][0] - partial[c][0]) < 1e-9 and abs(whole[c][1] - partial[c][1]) < 1e-9 for c in whole)
    assert any(planned > 0 for _, planned, _ in whole.values())


def test_a_community_page_and_the_index_chart_reported_against_planned_progress_by_month(board):
    """The charts read the averages each published month stored: one point per month, the
    community's on its page, the district's (weighted by tasks) on the index."""
    from lianchuang.models import MonthlyRanking

    with session_scope() as session:
        cycle = ensure_cycle(session, YEAR)
        for month in (4, 5):
            publish_ranking(session, cycle.id, YEAR, month, date(YEAR, month + 1, 6))
        stored = session.execute(select(MonthlyRanking.month, MonthlyRanking.reported_percent, MonthlyRanking.planned_percent)
                                 .order_by(MonthlyRanking.community_id, MonthlyRanking.month)).all()
        build_board(session, cycle.id, YEAR, board)
    assert all(reported is not None and planned is not None for _, reported, planned in stored)
    page = next(board.glob("D01S01C01.html")).read_text(encoding="utf-8")
    chart = re.search(r'<figure class="chart"><svg.*?</figure>', page, re.S).group(0)
    points = re.findall(r'<polyline points="([^"]+)" class="(planned|reported)"', chart)
    assert [(len(p.split()), css) for p, css in points] == [(3, "planned"), (3, "reported")]
    assert "5月底报告进度平均" in chart
    index = (board / "index.html").read_text(encoding="utf-8")
    assert "梅列区各社区任务进度：5月底报告进度平均" in index


def test_each_tasks_steps_text_is_its_own_in_month_order_whatever_order_they_were_written(district):
    """The board's and the open data's steps text: a subquery per task, months in order even when
    a later step was written first (its row id comes first), each task's own, none for none."""
    from lianchuang.models import CommittedMilestone, Milestone
    from lianchuang.tasks.plan import steps_text

    with session_scope() as session:
        cycle = ensure_cycle(session, YEAR)
        community = session.scalars(select(Community).order_by(Community.code)).first()
        first, second, bare = add_tasks(session, cycle.id, [NewTask(community.id, Category.public_safety, title)
                                                             for title in ("夜间巡逻", "楼道照明", "尚无步骤")])
        ids = dict(session.execute(select(Task.code, Task.id)).all())
        session.execute(Milestone.__table__.delete().where(Milestone.task_id.in_(ids.values())))
        session.add_all([Milestone(task_id=ids[first], due_month=12, target_percent=100, title="总结"),
                         Milestone(task_id=ids[second], due_month=5, target_percent=100, title="全部装好"),
                         Milestone(task_id=ids[first], due_month=3, target_percent=30, title="组队"),
                         CommittedMilestone(task_id=ids[first], due_month=12, target_percent=100, title="总结")])
        session.flush()
        rows = dict((code, (now, committed)) for code, now, committed in session.execute(
            select(Task.code, steps_text(), steps_text(committed=True)).where(Task.code.in_([first, second, bare]))))
    assert rows == {first: ("3月 30% 组队；12月 100% 总结", "12月 100% 总结"), second: ("5月 100% 全部装好", None),
                    bare: (None, None)}
