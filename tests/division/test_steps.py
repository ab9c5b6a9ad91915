"""Each task's own steps (分步实施): derived from its deadline, set by command or sheet, followed by
the ranking and the warnings, and kept beside the published version once committed."""

import json
from datetime import date, datetime

import pytest
from factories import YEAR
from sqlalchemy import select

from lianchuang.errors import ImportRefused
from lianchuang.models import AuditEntry, Community, District, Milestone, Person, Street, Task, Unit
from lianchuang.models.enums import Category, Role, UnitKind
from lianchuang.tasks import plan
from lianchuang.tasks.board import build_board
from lianchuang.tasks.commitments.rules import prepare_commitments, publish, sign_in_community
from lianchuang.tasks.cycle import ensure_cycle
from lianchuang.tasks.division import assignment, sheets as task_cards
from lianchuang.tasks.division.cards import complete_task_cards
from lianchuang.tasks.opinions.rules import NewTask, add_tasks
from lianchuang.tasks.plan import Step
from lianchuang.tasks.progress import ranking


def months(steps):
    return [(s.month, s.percent) for s in steps]


def test_default_steps_reach_100_percent_by_the_deadline():
    assert months(plan.default_steps(date(YEAR, 12, 31), YEAR)) == [(3, 25), (6, 50), (9, 75), (12, 100)]
    assert months(plan.default_steps(None, YEAR)) == [(3, 25), (6, 50), (9, 75), (12, 100)]
    assert months(plan.default_steps(date(YEAR, 5, 31), YEAR)) == [(2, 25), (3, 50), (4, 75), (5, 100)]
    assert months(plan.default_steps(date(YEAR, 10, 15), YEAR)) == [(3, 25), (5, 50), (8, 75), (10, 100)]
    assert months(plan.default_steps(date(YEAR, 2, 28), YEAR)) == [(1, 50), (2, 100)]
    assert plan.default_steps(date(YEAR, 5, 31), YEAR)[-1].title == "全面完成并总结"


def test_steps_are_read_as_typed_and_wrong_ones_say_why():
    steps, problem = plan.parse_steps(f"5月 50% 完成设计；{YEAR}-10 100% 竣工验收", YEAR, date(YEAR, 10, 31))
    assert problem is None
    assert steps == [Step(5, 50, "完成设计"), Step(10, 100, "竣工验收")]
    assert plan.format_steps(steps) == "5月 50% 完成设计；10月 100% 竣工验收"
    assert plan.parse_steps(plan.format_steps(steps), YEAR, None)[0] == steps  # the sheet's round trip
    for text, words in [("6月 50%；5月 100%", "先后"), ("5月 50%；10月 80%", "100%"), ("5月 50%；12月 100%", "晚于截止日期"),
                        ("13月 100%", "1–12"), ("年底完成", "看不懂"), ("", "不能为空"), (f"{YEAR + 1}-03 100%", "不在")]:
        assert words in plan.parse_steps(text, YEAR, date(YEAR, 10, 31))[1], text


@pytest.fixture
def three_deadlines(session):
    """One community, one unit, three tasks due in May, October and December; cards completed."""
    district = District(code="D", name="测试区")
    street = Street(code="S1", name="一街道", district=district)
    community = Community(code="C1", name="一社区", street=street)
    session.add(community)
    session.flush()
    unit = Unit(code="A", name="单位A", kind=UnitKind.stationed_unit, community_id=community.id, capacity=5)
    session.add(unit)
    session.flush()
    session.add(Person(code="P1", name="吴建华", role=Role.unit_leader, community_id=community.id, unit_id=unit.id))
    cycle = ensure_cycle(session, YEAR)
    add_tasks(session, cycle.id, [NewTask(community.id, Category.services, t) for t in ("修路", "中秋晚会", "上门服务")])
    assignment.apply(session, assignment.propose(session, cycle.id, [community.id])[0])
    complete_task_cards(session, YEAR, cycle.id, [community.id])
    for code, deadline in (("C1-001", f"{YEAR}-05-31"), ("C1-002", f"{YEAR}-10-15")):
        task_cards.apply_changes(session, YEAR, cycle.id, [(0, task_cards.CardChange(code, deadline=deadline))], "命令行")
    session.flush()
    return cycle, community, {t.code: t for t in session.scalars(select(Task).order_by(Task.code))}


def steps_of(session, task):
    return plan.task_steps(session, [task.id])[task.id]


def test_a_new_deadline_moves_default_steps_and_the_ranking_follows_each_task(session, three_deadlines):
    cycle, community, tasks = three_deadlines
    assert months(steps_of(session, tasks["C1-001"])) == [(2, 25), (3, 50), (4, 75), (5, 100)]
    assert months(steps_of(session, tasks["C1-002"])) == [(3, 25), (5, 50), (8, 75), (10, 100)]
    assert months(steps_of(session, tasks["C1-003"])) == [(3, 25), (6, 50), (9, 75), (12, 100)]
    # June: every task reported 50%. The road (due May) is overdue and planned at 100%; the
    # festival is on its plan (50% in May, 75% by August: 58.3% in June); the service on plan.
    ranking.record_reports(session, [ranking.NewReport(t.id, date(YEAR, 6, 20), 50) for t in tasks.values()])
    status = {row.code: row for row in session.execute(ranking.task_status_query(cycle.id, YEAR, 6))}
    assert (status["C1-001"].planned, status["C1-001"].due) == (100, 100)
    assert round(status["C1-002"].planned, 1) == 58.3
    assert (status["C1-003"].planned, status["C1-003"].due) == (50, 50)
    score, = ranking.community_scores(session, cycle.id, YEAR, 6)
    assert score["overdue_tasks"] == 1  # only the road: the festival's May step (50%) is reached
    assert score["progress_score"] == round(100 * (50 + 50 + 50) / (100 + 175 / 3 + 50), 1)


def test_hand_made_steps_that_no_longer_fit_a_new_deadline_are_refused(session, three_deadlines):
    cycle, _, tasks = three_deadlines
    change = task_cards.CardChange("C1-003", steps="4月 30% 摸底；11月 100% 全部上门")
    task_cards.apply_changes(session, YEAR, cycle.id, [(0, change)], "命令行")
    assert months(steps_of(session, tasks["C1-003"])) == [(4, 30), (11, 100)]
    with pytest.raises(ImportRefused) as refused:
        task_cards.apply_changes(session, YEAR, cycle.id, [(0, task_cards.CardChange("C1-003", deadline=f"{YEAR}-09-30"))], "命令行")
    problem, = refused.value.problems
    assert problem.column == "截止日期" and "请同时改实施步骤" in str(problem)
    assert tasks["C1-003"].deadline == date(YEAR, 12, 31)  # nothing written
    both = task_cards.CardChange("C1-003", deadline=f"{YEAR}-09-30", steps="4月 30% 摸底；9月 100% 全部上门")
    assert task_cards.apply_changes(session, YEAR, cycle.id, [(0, both)], "命令行") == 1
    assert months(steps_of(session, tasks["C1-003"])) == [(4, 30), (9, 100)]


def test_the_assignment_sheet_carries_the_steps_both_ways(session, three_deadlines, tmp_path):
    from openpyxl import load_workbook

    cycle, community, tasks = three_deadlines
    path = tmp_path / "分工表.xlsx"
    task_cards.export_assignments(session, path, cycle.id, [community.id])
    assert task_cards.import_assignments(session, YEAR, cycle.id, path)["changed"] == 0  # unchanged round trip
    book = load_workbook(path)
    sheet = book["分工"]
    header = [cell.value for cell in sheet[1]]
    column = header.index("实施步骤")
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert rows["C1-001"][column].value == "2月 25% 制定方案、落实人员；3月 50% 过半推进；4月 75% 基本完成；5月 100% 全面完成并总结"
    rows["C1-002"][column].value = "7月 40% 节目排练；9月 100% 晚会举办"
    rows["C1-003"][column].value = "6月 50%；5月 100%"
    book.save(path)
    with pytest.raises(ImportRefused) as refused:
        task_cards.import_assignments(session, YEAR, cycle.id, path)
    assert [(p.row, p.column) for p in refused.value.problems] == [(4, "实施步骤")]
    assert months(steps_of(session, tasks["C1-002"])) == [(3, 25), (5, 50), (8, 75), (10, 100)]  # refused whole
    rows["C1-003"][column].value = "6月 50%；12月 100%"
    book.save(path)
    assert task_cards.import_assignments(session, YEAR, cycle.id, path)["changed"] == 2
    assert steps_of(session, tasks["C1-002"]) == [Step(7, 40, "节目排练"), Step(9, 100, "晚会举办")]
    assert steps_of(session, tasks["C1-003"]) == [Step(6, 50, "过半推进"), Step(12, 100, "全面完成并总结")]


def test_a_report_naming_a_removed_step_keeps_its_percent(session, three_deadlines):
    cycle, _, tasks = three_deadlines
    march = session.scalar(select(Milestone).where(Milestone.task_id == tasks["C1-003"].id, Milestone.due_month == 3))
    ranking.record_reports(session, [ranking.NewReport(tasks["C1-003"].id, date(YEAR, 3, 25), 30, milestone_id=march.id)])
    task_cards.apply_changes(session, YEAR, cycle.id, [(0, task_cards.CardChange("C1-003", steps="6月 50%；12月 100%"))], "命令行")
    status = {row.code: row for row in session.execute(ranking.task_status_query(cycle.id, YEAR, 3))}
    assert status["C1-003"].actual == 30


def test_steps_changed_after_publication_are_audited_and_shown_beside_the_committed_ones(session, three_deadlines, settings):
    cycle, community, tasks = three_deadlines
    prepare_commitments(session, YEAR, cycle.id, [community.id])
    sign_in_community(session, cycle.id, community.id, None, "王书记", datetime(YEAR, 3, 1))
    publish(session, YEAR, cycle.id, [community.id], date(YEAR, 3, 2))
    before = plan.format_steps(steps_of(session, tasks["C1-002"]))
    task_cards.apply_changes(session, YEAR, cycle.id, [(0, task_cards.CardChange("C1-002", steps="9月 50% 排练；10月 100% 演出"))],
                             "命令行")
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "change_steps")).one()
    assert entry.entity == "task:C1-002"
    assert json.loads(entry.detail) == dict(committed=before, before=before, after="9月 50% 排练；10月 100% 演出")
    build_board(session, cycle.id, YEAR, settings.data_dir / "board")
    page = (settings.data_dir / "board" / "C1.html").read_text(encoding="utf-8")
    assert "承诺后调整的实施步骤" in page and before in page and "9月 50% 排练；10月 100% 演出" in page
    assert page.count('<td data-label="承诺时">') == 1  # one row: the unchanged tasks are not listed
    assert "C1-001" not in page.split("承诺后调整的实施步骤")[1].split("设岗定责")[0]
