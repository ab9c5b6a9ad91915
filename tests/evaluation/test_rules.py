"""Each district's rules per year (`lianchuang rules`): a workbook checked whole, adopted as a
version, locked by the first ranking (ranking rules) or allocation (award rules), named by every
published figure; and simulated before adoption, with nothing written, reproduced when adopted."""

from datetime import date

import pytest
from factories import YEAR, open_evaluation_everywhere
from openpyxl import load_workbook
from sqlalchemy import func, select

from lianchuang.errors import ImportRefused, UserError
from lianchuang.models import AwardResult, Evaluator, Milestone, MonthlyRanking, RuleScheme, Task
from lianchuang.models.db import session_scope
from lianchuang.models.enums import EvaluatorGroup, Grade
from lianchuang.tasks import rule_schemes
from lianchuang.tasks.evaluation import award, codes as evaluation_codes, tally
from lianchuang.tasks.evaluation.ballots import NewBallot, cast_ballots
from lianchuang.tasks.progress import ranking
from lianchuang.tasks.rules import DEFAULT_RULES
from lianchuang.tasks.rules_simulation import simulate


def edit(path, values=None, tiers=None):
    """Change the exported workbook: items by their label, tier rows as (name, share, weight)."""
    book = load_workbook(path)
    sheet = book[rule_schemes.VALUES]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value in (values or {}):
            row[1].value = values[row[0].value]
    if tiers is not None:
        sheet = book[rule_schemes.TIERS]
        sheet.delete_rows(2, sheet.max_row)
        for tier in tiers:
            sheet.append(list(tier))
    book.save(path)
    return path


def exported(folder):
    path = folder / "规则.xlsx"
    rule_schemes.export_rules(YEAR, None, path)
    return path


@pytest.fixture
def year_closed(district, settings):
    """Every community with a task, reported in June and graded by its joint head (committed)."""
    with session_scope() as session:
        return _graded_year(session)


def _graded_year(session):
    cycle, communities = open_evaluation_everywhere(session)
    tasks = {t.community_id: t for t in session.scalars(select(Task))}
    session.add_all([Milestone(task_id=t.id, title=title, due_month=month, target_percent=percent)
                     for t in tasks.values() for month, percent, title in ((6, 50, "过半"), (12, 100, "完成"))])
    ranking.record_reports(session, [ranking.NewReport(t.id, date(YEAR, 6, 20), 20 + 7 * (i % 9))
                                     for i, t in enumerate(tasks.values())])
    for i, community in enumerate(communities):
        head = session.scalars(select(Evaluator).where(Evaluator.community_id == community.id,
                                                       Evaluator.group == EvaluatorGroup.joint_head)).first()
        code = evaluation_codes.issue_codes(session, cycle.id, [head.id])[head.id]
        cast_ballots(session, cycle.id, [(2, NewBallot(code, tasks[community.id].code, [Grade.excellent, Grade.good, Grade.fair][i % 3]))],
                     "选票.xlsx")
    return cycle, communities


def test_the_workbook_round_trip_adopts_a_version_and_an_unchanged_one_adds_none(settings, district, tmp_path):
    path = tmp_path / "规则.xlsx"
    rule_schemes.export_rules(YEAR, None, path)
    with pytest.raises(UserError, match="相同，没有新增版本"):
        rule_schemes.import_rules(YEAR, None, path)
    edit(path, {"月度排名·进度得分权重": 0.6, "月度排名·按时得分权重": "40%", "经费·每社区固定金额（元）": 5000})
    adopted = rule_schemes.import_rules(YEAR, None, path)
    assert (adopted.version, adopted.progress_weight, adopted.on_time_weight, adopted.fixed_per_community) == (1, 0.6, 0.4, 5000)
    shown = rule_schemes.rules_overview(YEAR, None)
    assert shown["rules"] == adopted and [v["version"] for v in shown["versions"]] == [1]
    assert rule_schemes.rules_overview(YEAR + 1, None)["rules"] == DEFAULT_RULES  # each year its own


def test_a_workbook_with_problems_is_refused_whole_with_each_located(settings, district, tmp_path):
    path = exported(tmp_path)
    edit(path, {"月度排名·进度得分权重": 0.8, "综合得分·民主评议权重": "很多", "经费·每社区最低金额（元）": 99.5},
         tiers=[("一等奖", 0.5, 3), ("一等奖", 0.7, 0)])
    with pytest.raises(ImportRefused) as refused:
        rule_schemes.import_rules(YEAR, None, path)
    located = {(p.file.split("/")[-1], p.row, p.column) for p in refused.value.problems}
    assert {(rule_schemes.VALUES, 4, "数值"), (rule_schemes.VALUES, 9, "数值"), (rule_schemes.VALUES, 0, "数值"),
            (rule_schemes.TIERS, 3, "奖项"), (rule_schemes.TIERS, 3, "奖励权重"), (rule_schemes.TIERS, 0, "名额比例")} <= located
    assert "月度排名的两个权重之和应为 1（现在是 1.1）" in str(refused.value.problems)


def test_the_ranking_follows_the_districts_weights_names_the_version_and_locks_them(year_closed, tmp_path):
    cycle, _ = year_closed
    path = exported(tmp_path)
    rule_schemes.import_rules(YEAR, None, edit(path, {"月度排名·进度得分权重": 0.5, "月度排名·按时得分权重": 0.5}))
    with session_scope() as session:
        ranking.publish_ranking(session, cycle.id, YEAR, 6, date(YEAR, 7, 6))
        for row in session.scalars(select(MonthlyRanking)):
            assert row.rules_version == 1
            assert row.score == round(0.5 * row.progress_score + 0.5 * row.on_time_score, 1)
    with pytest.raises(UserError, match="排名规则（进度和按时权重）已锁定"):
        rule_schemes.import_rules(YEAR, None, edit(path, {"月度排名·进度得分权重": 0.7, "月度排名·按时得分权重": 0.3}))
    edit(path, {"月度排名·进度得分权重": 0.5, "月度排名·按时得分权重": 0.5, "经费·平均分配比例": 0.5})
    assert rule_schemes.import_rules(YEAR, None, path).version == 2  # the award rules are still open


def publish_june_and_close(cycle):
    with session_scope() as session:
        ranking.publish_ranking(session, cycle.id, YEAR, 6, date(YEAR, 7, 6))
        tally.close(session, cycle.id, date(YEAR, 12, 28))


def test_fixed_and_minimum_amounts_add_up_to_the_budget_to_the_yuan(year_closed, tmp_path):
    cycle, communities = year_closed
    publish_june_and_close(cycle)
    path = exported(tmp_path)
    rule_schemes.import_rules(YEAR, None, edit(path, {"经费·每社区固定金额（元）": 5000, "经费·每社区最低金额（元）": 9000}))
    budget = 10_000 * len(communities) + 1
    with session_scope() as session:
        rows = award.award(session, cycle.id, budget)
        assert sum(r["funding_yuan"] for r in rows) == budget
        assert min(r["funding_yuan"] for r in rows) >= 9000
        assert {a.rules_version for a in session.scalars(select(AwardResult))} == {1}
        assert all(r["explanation"].startswith("按本区第1版规则：") and "固定经费 5,000 元" in r["explanation"] for r in rows)
        with pytest.raises(UserError, match="不够本区第1版规则里每个社区的固定经费"):
            award.award(session, cycle.id, 4_000 * len(communities), redo=True)


def stored():
    with session_scope() as session:
        return ([(a.community_id, a.funding_yuan, a.award) for a in session.scalars(select(AwardResult).order_by(AwardResult.id))],
                [(r.community_id, r.score, r.rank_in_district) for r in session.scalars(select(MonthlyRanking).order_by(MonthlyRanking.id))],
                session.scalar(select(func.count()).select_from(RuleScheme)))


def test_a_simulation_writes_nothing_and_the_same_scheme_adopted_reproduces_it(year_closed, tmp_path):
    cycle, communities = year_closed
    publish_june_and_close(cycle)
    with session_scope() as session:
        award.award(session, cycle.id, 500_000)
    before = stored()
    path = exported(tmp_path)
    edit(path, {"月度排名·进度得分权重": 0.3, "月度排名·按时得分权重": 0.7, "综合得分·民主评议权重": 0.2,
                "综合得分·月度排名权重": 0.6, "经费·每社区固定金额（元）": 5000},
         tiers=[("一等奖", 0.2, 5), ("二等奖", 0.3, 1)])
    result = simulate(YEAR, None, path, output=tmp_path / "试算.xlsx")
    assert result.months == [6] and result.moves, "the new weights move somebody in June"
    assert f"只能作为{YEAR + 1}年的规则导入" in result.locked_note  # June's ranking locked the ranking rules
    assert sum(f["funding_after"] for f in result.funding) == 500_000
    assert any(f["change"] for f in result.funding)
    assert all(f["funding_after"] >= 5000 for f in result.funding)
    assert stored() == before and before[2] == 0
    sheet = load_workbook(tmp_path / "试算.xlsx")["经费变化"]
    assert sheet.max_row == len(communities) + 1


def test_the_same_scheme_adopted_reproduces_the_simulation_to_the_yuan(year_closed, tmp_path):
    """Before the allocation (the award rules still open; June's ranking has locked the ranking's)."""
    cycle, communities = year_closed
    publish_june_and_close(cycle)
    path = edit(exported(tmp_path), {"综合得分·民主评议权重": 0.2, "综合得分·月度排名权重": 0.6,
                                      "经费·每社区固定金额（元）": 5000, "经费·每社区最低金额（元）": 40000},
                tiers=[("一等奖", 0.2, 5), ("二等奖", 0.3, 1)])
    simulated = simulate(YEAR, None, path, budget=500_000)
    assert not simulated.moves and stored() == ([], stored()[1], 0)  # nothing allocated, nothing adopted
    assert simulated.locked_note == ""  # the award rules are still open: this year may adopt it
    assert {f["funding_before"] for f in simulated.funding} != {f["funding_after"] for f in simulated.funding}
    rule_schemes.import_rules(YEAR, None, path)
    with session_scope() as session:
        adopted = {r["community_id"]: r["funding_yuan"] for r in award.award(session, cycle.id, 500_000)}
    names = {c.id: c.name for c in communities}
    assert {names[cid]: yuan for cid, yuan in adopted.items()} == {f["community"]: f["funding_after"] for f in simulated.funding}
