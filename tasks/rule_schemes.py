"""A district's rules for a year as a workbook (`lianchuang rules show|export|import`): read and
checked whole, adopted as a new version, refused where locked. The ranking rules lock with the
district's first published ranking of the year, the award rules with its first allocation."""

import math
from dataclasses import replace
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianchuang import clock
from lianchuang.errors import ImportRefused, Problem, UserError
from lianchuang.models import AwardResult, Cycle, District, MonthlyRanking, RuleScheme
from lianchuang.models.db import session_scope
from lianchuang.models.queries import district_community_ids
from lianchuang.tasks.access import district_coordinators_only
from lianchuang.tasks.cycle import audit, current_actor, only_district
from lianchuang.tasks.files import check_output
from lianchuang.tasks.org import resolve_one
from lianchuang.tasks.rules import DEFAULT_RULES, Rules, Tier, rules_for
from lianchuang.tasks.sheets import Column, read_workbook, write_template

VALUES, TIERS = "规则", "奖项"
SHEETS = {
    VALUES: [Column("item", "项目", ("item",), True), Column("value", "数值", ("value",), True),
             Column("note", "说明", ("note",), multiline=True)],
    TIERS: [Column("name", "奖项", ("award", "name"), True, limit=32), Column("share", "名额比例", ("share",), True),
            Column("weight", "奖励权重", ("weight",), True)],
}
# (field, item as the sheet names it, what it means, kind): "weight" 0–1, "share" 0–1 or a percent, "yuan" whole ≥ 0
ITEMS = [
    ("progress_weight", "月度排名·进度得分权重", "得分 = 进度权重×进度得分 + 按时权重×按时得分；两个权重之和为 1", "weight"),
    ("on_time_weight", "月度排名·按时得分权重", "同上", "weight"),
    ("evaluation_weight", "综合得分·民主评议权重", "综合得分 = 评议×评议平均分 + 排名×月度得分平均 + 创新×党建创新得分；三者之和为 1", "weight"),
    ("ranking_weight", "综合得分·月度排名权重", "同上", "weight"),
    ("innovation_weight", "综合得分·党建创新权重", "同上", "weight"),
    ("base_share", "经费·平均分配比例", "扣除固定经费后，这一比例由各社区平均分配，其余按奖项权重分给获奖社区（如 0.6 或 60%）", "share"),
    ("fixed_per_community", "经费·每社区固定金额（元）", "每个社区先得的固定经费，如 5000；0 为不设", "yuan"),
    ("minimum_per_community", "经费·每社区最低金额（元）", "低于此数的社区补足，由高于此数的社区按超出部分的比例让出；0 为不设", "yuan"),
]
LOCKED_RANKING = "本区{year}年已经发布过月度排名，排名规则（进度和按时权重）已锁定，不能再改"
LOCKED_AWARD = "本区{year}年已经分配过经费，创新奖和经费规则已锁定，不能再改"


def district_named(session: Session, district: str | None):
    if district:
        return resolve_one(session, District, district)
    return session.get(District, only_district(session, None, "规则按区制定"))


def locks(session: Session, district_id: int, year: int) -> tuple[bool, bool]:
    """(ranking rules locked, award rules locked) for the district's year."""
    communities = district_community_ids(district_id)
    cycles = select(Cycle.id).where(Cycle.year == year)
    ranked = session.scalar(select(func.count()).where(MonthlyRanking.cycle_id.in_(cycles),
                                                       MonthlyRanking.community_id.in_(communities)))
    allocated = session.scalar(select(func.count()).where(AwardResult.cycle_id.in_(cycles),
                                                          AwardResult.community_id.in_(communities)))
    return bool(ranked), bool(allocated)


def rules_overview(year: int, district: str | None) -> dict:
    """`rules show`: the scheme in force, its versions, and what is locked."""
    with session_scope() as session:
        place = district_named(session, district)
        rules = rules_for(session, place.id, year)
        ranking_locked, award_locked = locks(session, place.id, year)
        versions = [dict(version=s.version, adopted_at=s.adopted_at.isoformat(sep=" ", timespec="minutes"),
                         adopted_by=s.adopted_by, source=s.source or "")
                    for s in session.scalars(select(RuleScheme).where(RuleScheme.district_id == place.id, RuleScheme.year == year)
                                             .order_by(RuleScheme.version))]
        return dict(district=place.name, year=year, rules=rules, versions=versions,
                    ranking_locked=ranking_locked, award_locked=award_locked)


def export_rules(year: int, district: str | None, path: Path, force: bool = False) -> str:
    check_output(path, force)  # before any work: never the database, never a file the user filled in
    with session_scope() as session:
        place = district_named(session, district)
        rules = rules_for(session, place.id, year)
    write_template(path, SHEETS, choices={}, examples={
        VALUES: [[label, _shown(getattr(rules, name)), note] for name, label, note, _ in ITEMS],
        TIERS: [[t.name, _shown(t.share), _shown(t.weight)] for t in rules.tiers]}, notes=[
        f"{place.name}{year}年度的计分与经费规则（现行{rules.label}）。改“数值”列和“奖项”表，然后：",
        f"先试算：lianchuang rules simulate 本文件.xlsx --year {year}（按新规则重算已发布的月份和经费，什么都不写入）",
        f"再采用：lianchuang rules import 本文件.xlsx --year {year}（成为新的一版；发布第一次排名后排名规则锁定，分配经费后经费规则锁定）",
        "“奖项”表自上而下：名额比例是该奖项占全区社区的比例（如 0.1 为前 10%），奖励权重决定奖励经费怎么分。"])
    return place.name


def _shown(value):
    return int(value) if isinstance(value, float) and value.is_integer() and value > 1 else value


def read_rules(path: Path) -> Rules:
    """The scheme in a workbook, checked whole: every problem by file, row and column."""
    problems: list[Problem] = []
    sheets = read_workbook(path, SHEETS, problems)
    values: dict = {}
    if VALUES in sheets:
        by_label = {label: (name, kind) for name, label, _, kind in ITEMS}
        for row, cells in sheets[VALUES].rows:
            item = cells.get("item", "")
            if item not in by_label:
                problems.append(Problem(sheets[VALUES].file, row, "项目", f"“{item}”不是规则项目之一：{'、'.join(by_label)}"))
                continue
            name, kind = by_label[item]
            value, problem = _value(cells.get("value", ""), kind)
            if problem:
                problems.append(Problem(sheets[VALUES].file, row, "数值", f"{item}：{problem}"))
            values[name] = value
        missing = [label for name, label, _, _ in ITEMS if name not in values]
        if missing:
            problems.append(Problem(sheets[VALUES].file, 0, "", f"缺少规则项目：{'、'.join(missing)}"))
        for names, what in ((("progress_weight", "on_time_weight"), "月度排名的两个权重"),
                            (("evaluation_weight", "ranking_weight", "innovation_weight"), "综合得分的三个权重")):
            found = [values.get(n) for n in names]
            if None not in found and not math.isclose(sum(found), 1.0, abs_tol=1e-9):
                problems.append(Problem(sheets[VALUES].file, 0, "数值", f"{what}之和应为 1（现在是 {sum(found):g}）"))
    tiers = []
    if TIERS in sheets:
        seen = set()
        for row, cells in sheets[TIERS].rows:
            name = cells.get("name", "")
            share, share_problem = _value(cells.get("share", ""), "share")
            weight, weight_problem = _value(cells.get("weight", ""), "positive")
            if not name or name in seen:
                problems.append(Problem(sheets[TIERS].file, row, "奖项", f"奖项名称“{name}”为空或重复"))
            for problem, column in ((share_problem, "名额比例"), (weight_problem, "奖励权重")):
                if problem:
                    problems.append(Problem(sheets[TIERS].file, row, column, problem))
            if share == 0 and not share_problem:
                problems.append(Problem(sheets[TIERS].file, row, "名额比例", "名额比例应大于 0"))
            seen.add(name)
            tiers.append(Tier(name, share or 0.0, weight or 0.0))
        if sum(t.share for t in tiers) > 1 + 1e-9:
            problems.append(Problem(sheets[TIERS].file, 0, "名额比例", "各奖项的名额比例之和不能超过 1（全区社区）"))
    if problems:
        raise ImportRefused(problems)
    return replace(DEFAULT_RULES, tiers=tuple(tiers), **values)


def _value(text: str, kind: str):
    """The number a cell holds for its kind, or (None, why not)."""
    text = text.strip().replace(",", "").replace("，", "")
    percent = text.endswith(("%", "％"))
    try:
        value = float(text.rstrip("%％"))
    except ValueError:
        return None, f"“{text}”不是数"
    if not math.isfinite(value) or value < 0:
        return None, f"“{text}”应为不小于 0 的数"
    if percent:
        value /= 100
    if kind == "yuan":
        return (int(value), None) if value.is_integer() and not percent else (None, f"“{text}”应为整数元")
    if kind in ("weight", "share") and value > 1:
        return None, f"“{text}”应在 0 到 1 之间（或写百分数，如 60%）"
    if kind == "positive" and value == 0:
        return None, "应大于 0"
    return value, None


def import_rules(year: int, district: str | None, path: Path) -> Rules:
    """Adopt the workbook's scheme as the district's next version for the year; refused whole if
    anything is wrong or it changes locked rules; unchanged rules add no version."""
    proposed = read_rules(path)
    with session_scope() as session:
        district_coordinators_only(session, "采用排名和评奖规则")
        place = district_named(session, district)
        current = rules_for(session, place.id, year)
        ranking_locked, award_locked = locks(session, place.id, year)
        refused = [message.format(year=year) for locked, changed, message in (
            (ranking_locked, proposed.ranking_part() != current.ranking_part(), LOCKED_RANKING),
            (award_locked, proposed.award_part() != current.award_part(), LOCKED_AWARD)) if locked and changed]
        if refused:
            raise UserError("；".join(refused) + f"。{path.name} 未采用。下一年度的规则可以用 --year {year + 1} 导入")
        if replace(proposed, version=current.version) == current:
            raise UserError(f"{path.name} 与{place.name}{year}年现行的{current.label}相同，没有新增版本")
        version = 1 + (session.scalar(select(func.max(RuleScheme.version)).where(
            RuleScheme.district_id == place.id, RuleScheme.year == year)) or 0)
        adopted = replace(proposed, version=version)
        session.add(RuleScheme(district_id=place.id, year=year, version=version, rules=adopted.to_json(),
                               adopted_at=clock.now(), adopted_by=current_actor(), source=path.name[:255]))
        audit(session, "adopt", f"rules:{place.code}:{year}", version=version, file=str(path))
        return adopted


def rules_lines(rules: Rules) -> list[tuple[str, str]]:
    """(item, value) for printing a scheme as the workbook names its items."""
    lines = [(label, f"{getattr(rules, name):g}" if isinstance(getattr(rules, name), float) else f"{getattr(rules, name):,}")
             for name, label, _, _ in ITEMS]
    return lines + [(f"奖项·{t.name}", f"名额 {t.share:.0%}，权重 {t.weight:g}") for t in rules.tiers]

