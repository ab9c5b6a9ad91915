"""The evaluation scheme of a year: items in the five categories, evaluator groups with weights and
quorums, and the points of each grade. Set up with defaults when the evaluation opens; exported
to a workbook and imported back (all or nothing) to change it, until the first ballot is cast."""

import math
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from lianchuang.errors import ImportRefused, Problem, UserError
from lianchuang.models import Ballot, EvaluationItem, GradePoint, GroupWeight
from lianchuang.models.db import insert_ignoring_duplicates
from lianchuang.models.enums import Category, EvaluatorGroup, Grade
from lianchuang.tasks.sheets import Column, read_workbook, write_template

DEFAULT_ITEMS = {
    Category.party_building: ["联席会议制度落实", "党员设岗定责履职", "非公企业党建延伸", "党务公开", "党建工作创新"],
    Category.public_safety: ["巡逻防控", "治安隐患整改", "小区“四管”落实", "矛盾纠纷调解", "消防安全"],
    Category.sanitation: ["楼院卫生整治", "下水道等设施改造", "垃圾分类与监督", "绿化养护"],
    Category.services: ["困难群众帮扶", "老年人关爱", "就业和便民服务", "青少年教育", "群团民间组织参与"],
    Category.culture: ["文艺队伍建设", "文明创建活动", "邻里文体活动", "婚育新风宣传"],
}
# A secret group's mean counts only from this many voters: the mean of one or two people, published
# in a task's score beside known weights, gives their grades back. The joint-meeting head votes openly.
SECRET_GROUP_MINIMUM = 3
DEFAULT_WEIGHTS = {EvaluatorGroup.joint_head: 0.2, EvaluatorGroup.stationed_units: 0.2, EvaluatorGroup.mass_orgs: 0.1,
                   EvaluatorGroup.civil_orgs: 0.1, EvaluatorGroup.party_members: 0.2, EvaluatorGroup.resident_reps: 0.2}
DEFAULT_POINTS = {Grade.excellent: 95.0, Grade.good: 80.0, Grade.fair: 65.0, Grade.poor: 40.0}
ITEMS, GROUPS, GRADES = "评议项目", "评议主体", "等次分值"
SHEETS = {
    ITEMS: [Column("code", "编号", ("code",), True), Column("category", "类别", ("category",), True),
            Column("name", "评议项目", ("item", "name"), True, limit=128)],
    GROUPS: [Column("group", "评议主体", ("group",), True), Column("weight", "权重", ("weight",), True),
             Column("quorum", "最少票数", ("quorum",), True)],
    GRADES: [Column("grade", "等次", ("grade",), True), Column("points", "分值", ("points",), True)],
}


def ensure_scheme(session: Session, cycle_id: int) -> None:
    """The default scheme, where the year has none yet (an imported one is kept)."""
    have = [session.scalar(select(func.count()).where(model.cycle_id == cycle_id)) for model in (EvaluationItem, GroupWeight, GradePoint)]
    if have[0] and have[1:] == [len(DEFAULT_WEIGHTS), len(DEFAULT_POINTS)]:
        return  # nothing to add: a reader needs no right to write the scheme (roles, tasks/access.py)
    if not session.scalar(select(func.count()).where(EvaluationItem.cycle_id == cycle_id)):
        insert_ignoring_duplicates(session, EvaluationItem, [
            dict(cycle_id=cycle_id, code=f"{category.value[:2].upper()}{i + 1}", category=category, name=name)
            for category, names in DEFAULT_ITEMS.items() for i, name in enumerate(names)], ["cycle_id", "code"])
    insert_ignoring_duplicates(session, GroupWeight, [
        dict(cycle_id=cycle_id, group=group, weight=weight, quorum=1 if group == EvaluatorGroup.joint_head else SECRET_GROUP_MINIMUM)
        for group, weight in DEFAULT_WEIGHTS.items()], ["cycle_id", "group"])
    insert_ignoring_duplicates(session, GradePoint, [dict(cycle_id=cycle_id, grade=grade, points=points)
                                                     for grade, points in DEFAULT_POINTS.items()], ["cycle_id", "grade"])


def grade_points(session: Session, cycle_id: int) -> dict[Grade, float]:
    return dict(session.execute(select(GradePoint.grade, GradePoint.points).where(GradePoint.cycle_id == cycle_id)).all())


def items_by_category(session: Session, cycle_id: int) -> list[list]:
    """[[category, [item names]], ...] in category order, for the invitation."""
    grouped = {category: [] for category in Category}
    for category, name in session.execute(select(EvaluationItem.category, EvaluationItem.name)
                                          .where(EvaluationItem.cycle_id == cycle_id).order_by(EvaluationItem.id)):
        grouped[category].append(name)
    return [[category.value, names] for category, names in grouped.items() if names]


def export_scheme(session: Session, path: Path, cycle_id: int) -> None:
    ensure_scheme(session, cycle_id)
    items = session.execute(select(EvaluationItem).where(EvaluationItem.cycle_id == cycle_id).order_by(EvaluationItem.id)).scalars()
    weights = session.scalars(select(GroupWeight).where(GroupWeight.cycle_id == cycle_id).order_by(GroupWeight.id))
    points = session.scalars(select(GradePoint).where(GradePoint.cycle_id == cycle_id).order_by(GradePoint.id))
    write_template(path, SHEETS, choices={"category": Category.labels(), "group": EvaluatorGroup.labels(),
                                          "grade": Grade.labels()},
                   examples={ITEMS: [[i.code, i.category.label, i.name] for i in items],
                             GROUPS: [[w.group.label, w.weight, w.quorum] for w in weights],
                             GRADES: [[p.grade.label, p.points] for p in points]},
                   notes=["评议方案：可增删改评议项目（五个类别），调整各评议主体的权重和最少票数（少于此数该主体不计分），以及各等次的分值。",
                          "权重按计入的主体重新折算，不必加起来等于1。等次分值须从优秀到较差依次降低。",
                          "开始投票后方案不能再改。改好后运行：lianchuang evaluate scheme-import 本文件.xlsx"])


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None  # "inf" and "nan" parse as floats


def import_scheme(session: Session, cycle_id: int, path: Path) -> dict:
    """Replace the year's scheme with the workbook's, refusing it whole on any problem."""
    if session.scalar(select(func.count()).where(Ballot.cycle_id == cycle_id)):
        raise UserError("已经有人投票，评议方案不能再修改")
    problems: list[Problem] = []
    sheets = read_workbook(path, SHEETS, problems)
    items, weights, points = [], {}, {}
    if ITEMS in sheets:
        seen = {}
        for row, values in sheets[ITEMS].rows:
            file, category = sheets[ITEMS].file, Category.parse(values.get("category", ""))
            if category is None:
                problems.append(Problem(file, row, "类别", f"“{values.get('category', '')}”不是五个类别之一：{'、'.join(Category.labels())}"))
            if not values.get("name"):
                problems.append(Problem(file, row, "评议项目", "评议项目名称为空"))
            code = values.get("code", "")
            if not code or code in seen:
                problems.append(Problem(file, row, "编号", f"编号“{code}”为空或与第{seen.get(code)}行重复"))
            seen[code] = row
            items.append(dict(cycle_id=cycle_id, code=code[:16], category=category, name=values.get("name", "")[:128]))
        if not items:
            problems.append(Problem(sheets[ITEMS].file, 0, "", "没有任何评议项目"))
    if GROUPS in sheets:
        for row, values in sheets[GROUPS].rows:
            file, group = sheets[GROUPS].file, EvaluatorGroup.parse(values.get("group", ""))
            weight, quorum = _number(values.get("weight", "")), values.get("quorum", "")
            if group is None:
                problems.append(Problem(file, row, "评议主体", f"“{values.get('group', '')}”不是评议主体之一：{'、'.join(EvaluatorGroup.labels())}"))
            if weight is None:
                problems.append(Problem(file, row, "权重", f"“{values.get('weight', '')}”应为不小于 0 的数"))
            least = 1 if group == EvaluatorGroup.joint_head else SECRET_GROUP_MINIMUM
            if not quorum.isdecimal() or not least <= int(quorum) <= 10_000:
                problems.append(Problem(file, row, "最少票数", f"“{quorum}”应为不小于 {least} 的整数" + (
                    f"（不记名的评议主体不足 {SECRET_GROUP_MINIMUM} 人时，公布的得分能反推出每个人的评价）" if least > 1 else "")))
            if group is not None and weight is not None and quorum.isdecimal():
                weights[group] = (weight, int(quorum))
        missing = [g.label for g in EvaluatorGroup if g not in weights]
        if missing or not sum(w for w, _ in weights.values()):
            problems.append(Problem(sheets[GROUPS].file, 0, "", f"每个评议主体都要有一行且权重不能全为 0（缺：{'、'.join(missing) or '无'}）"))
    if GRADES in sheets:
        for row, values in sheets[GRADES].rows:
            file, grade, value = sheets[GRADES].file, Grade.parse(values.get("grade", "")), _number(values.get("points", ""))
            if grade is None or value is None or value > 100:
                problems.append(Problem(file, row, "分值" if grade else "等次", "应为 优秀/良好/一般/较差 之一，分值 0–100"))
            else:
                points[grade] = value
        ordered = [points.get(g) for g in Grade]
        if None in ordered or ordered != sorted(ordered, reverse=True) or len(set(ordered)) < len(ordered):
            problems.append(Problem(sheets[GRADES].file, 0, "", "四个等次都要有分值，且从优秀到较差依次降低"))
    if problems:
        raise ImportRefused(problems)
    session.execute(delete(EvaluationItem).where(EvaluationItem.cycle_id == cycle_id))
    session.execute(delete(GroupWeight).where(GroupWeight.cycle_id == cycle_id))
    session.execute(delete(GradePoint).where(GradePoint.cycle_id == cycle_id))
    session.flush()
    insert_ignoring_duplicates(session, EvaluationItem, items, ["cycle_id", "code"])
    insert_ignoring_duplicates(session, GroupWeight, [dict(cycle_id=cycle_id, group=g, weight=w, quorum=q)
                                                      for g, (w, q) in weights.items()], ["cycle_id", "group"])
    insert_ignoring_duplicates(session, GradePoint, [dict(cycle_id=cycle_id, grade=g, points=p) for g, p in points.items()],
                               ["cycle_id", "grade"])
    return dict(items=len(items), groups=len(weights), grades=len(points))
