"""The innovation award and the party-building funding tied to it (see evaluation.py's module doc
for the rule): communities ranked on the year, the budget split to the yuan."""

from fractions import Fraction

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from lianchuang.errors import UserError
from lianchuang.models import AwardResult, EvaluationResult, MonthlyRanking, Task
from lianchuang.models.db import insert_ignoring_duplicates
from lianchuang.models.queries import district_community_ids
from lianchuang.tasks.cycle import competition_ranks, only_district
from lianchuang.tasks.evaluation.ballots import closed_on
from lianchuang.tasks.rules import AWARDS, BASE_SHARE, YEAR_EVALUATION_WEIGHT, YEAR_INNOVATION_WEIGHT, YEAR_RANKING_WEIGHT

AWARD_BY_DISTRICT = "创新奖按区评选、按区分配经费"  # said when a database of several districts is not told which
EVALUATION_WEIGHT, PROGRESS_WEIGHT, INNOVATION_WEIGHT = YEAR_EVALUATION_WEIGHT, YEAR_RANKING_WEIGHT, YEAR_INNOVATION_WEIGHT
INNOVATION_CATEGORY = "party_building"


def award_rule() -> dict:
    """The rule as the notices state it, from the constants that apply it."""
    return dict(evaluation=EVALUATION_WEIGHT, progress=PROGRESS_WEIGHT, innovation=INNOVATION_WEIGHT,
                base_percent=round(BASE_SHARE * 100), award_weights=[weight for _, _, weight in AWARDS])


def split_exactly(total: int, weights: list[float]) -> list[int]:
    """Whole-yuan shares of `total` proportional to `weights` that add up to `total` exactly
    (largest remainder method)."""
    weight_sum = sum(Fraction(w) for w in weights)
    if not weight_sum:
        return [0] * len(weights)
    return to_whole_yuan([total * Fraction(w) / weight_sum for w in weights])


def to_whole_yuan(exact: list[Fraction]) -> list[int]:
    """Whole yuan for exact amounts whose sum is whole, adding up to it: each gets its whole part,
    and the yuan left go one each to the largest fractional parts (ties: the earlier in the list,
    which the award orders by rank)."""
    shares = [int(x) for x in exact]  # floor: the amounts are never negative
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_remainder[:int(sum(exact)) - sum(shares)]:
        shares[i] += 1
    return shares


def award(session: Session, cycle_id: int, budget: int, redo: bool = False, district_id: int | None = None) -> list[dict]:
    """Rank a district's communities on the year and allocate its budget (each district has its
    own; the database's only one when none is given). Done once per year: running it again with the
    same budget changes nothing; another budget needs redo (it replaces the allocation)."""
    district_id = only_district(session, district_id, AWARD_BY_DISTRICT)
    allocated = check_can_allocate(session, cycle_id, budget, redo, district_id)
    in_district = (AwardResult.cycle_id == cycle_id, AwardResult.community_id.in_(district_community_ids(district_id)))
    if allocated is not None and not redo:
        return [dict(community_id=a.community_id, funding_yuan=a.funding_yuan)
                for a in session.scalars(select(AwardResult).where(*in_district))]
    session.execute(delete(AwardResult).where(*in_district))
    rows = year_scores(session, cycle_id, district_id)
    if not rows:
        raise UserError("还没有评议结果或月度排名，无法评选创新奖：请先完成民主评议")
    ranks = competition_ranks(rows, "year_score")
    count = len(rows)
    for row, rank in zip(rows, ranks):
        row["rank"] = rank
        row["award"], row["award_weight"], upper = None, 0, 0.0
        for name, fraction, weight in AWARDS:
            upper += fraction
            if rank <= max(1, round(upper * count)):
                row["award"], row["award_weight"] = name, weight
                break
    # Each community's exact amount (base + bonus, as fractions of a yuan), then whole yuan once, on
    # the totals: rounding the two parts on their own gave the spare yuan to the lower codes.
    weights = [r["award_weight"] for r in rows]
    base_fraction = Fraction(str(BASE_SHARE)) if any(weights) else Fraction(1)  # no award: all of it shared equally
    base_pool = budget * base_fraction
    base = [base_pool / count] * count
    bonus = [(budget - base_pool) * w / sum(weights) for w in weights] if any(weights) else [Fraction(0)] * count
    order = sorted(range(count), key=lambda i: (rows[i]["rank"], i))  # a tie of fractions goes to the better rank
    whole = to_whole_yuan([base[i] + bonus[i] for i in order])
    for i, yuan in zip(order, whole):
        rows[i]["funding_yuan"] = yuan
    for row, base_yuan, bonus_yuan in zip(rows, base, bonus):
        exact = base_yuan + bonus_yuan
        row["explanation"] = (
            f"综合得分 {row['year_score']} = {EVALUATION_WEIGHT}×评议平均分 {row['evaluation']:.1f} + {PROGRESS_WEIGHT}×月度进度平均分 "
            f"{row['progress']:.1f} + {INNOVATION_WEIGHT}×党建创新得分 {row['innovation']:.1f}，{count} 个社区中排第 {row['rank']} 名；"
            f"基础经费 {float(base_yuan):,.2f} 元（预算 {budget:,} 元的 {float(base_fraction):.0%} 由 {count} 个社区均分）"
            + (f" + 奖励经费 {float(bonus_yuan):,.2f} 元（{row['award']}，权重 {row['award_weight']}；预算的 {float(1 - base_fraction):.0%} "
               f"按获奖社区权重分配）" if bonus_yuan else "")
            + ("" if exact == row["funding_yuan"] else
               f" = {float(exact):,.2f} 元，按最大余数法取整（各社区合计正好等于预算）")
            + f" = {row['funding_yuan']:,} 元")
    insert_ignoring_duplicates(session, AwardResult, [
        {k: row[k] for k in ("community_id", "year_score", "rank", "award", "funding_yuan", "explanation")}
        | dict(cycle_id=cycle_id) for row in rows], ["cycle_id", "community_id"])
    return rows


def check_can_allocate(session: Session, cycle_id: int, budget: int, redo: bool, district_id: int | None = None) -> int | None:
    """Refuse a negative budget, an open evaluation, or another budget without redo; returns what
    was allocated before in the district (None: nothing yet)."""
    district_id = only_district(session, district_id, AWARD_BY_DISTRICT)
    if budget < 0:
        raise UserError("经费预算不能为负数")
    if not closed_on(session, cycle_id, district_id):
        raise UserError("民主评议还没有结束：请先运行 lianchuang evaluate close，再评创新奖、分配经费")
    allocated = session.scalar(select(func.sum(AwardResult.funding_yuan)).where(
        AwardResult.cycle_id == cycle_id, AwardResult.community_id.in_(district_community_ids(district_id))))
    if allocated is not None and allocated != budget and not redo:
        raise UserError(f"本年度经费已按 {allocated:,} 元分配；要按 {budget:,} 元重新分配，请加 --redo")
    return allocated


def year_scores(session: Session, cycle_id: int, district_id: int) -> list[dict]:
    """Each community of the district: its evaluation, progress and innovation figures and its year score."""
    communities = district_community_ids(district_id)
    rated = (select(Task.community_id, func.avg(EvaluationResult.score))
             .join(EvaluationResult, EvaluationResult.task_id == Task.id)
             .where(EvaluationResult.cycle_id == cycle_id, EvaluationResult.score.is_not(None), Task.community_id.in_(communities))
             .group_by(Task.community_id))
    evaluation = dict(session.execute(rated).all())
    innovation = dict(session.execute(rated.where(Task.category == INNOVATION_CATEGORY)).all())
    progress = dict(session.execute(select(MonthlyRanking.community_id, func.avg(MonthlyRanking.score))
                                    .where(MonthlyRanking.cycle_id == cycle_id, MonthlyRanking.community_id.in_(communities))
                                    .group_by(MonthlyRanking.community_id)).all())
    rows = []
    for community_id in sorted(set(evaluation) | set(progress)):
        row = dict(community_id=community_id, evaluation=float(evaluation.get(community_id) or 0),
                   progress=float(progress.get(community_id) or 0))
        row["innovation"] = float(innovation.get(community_id) or row["evaluation"])
        row["year_score"] = round(EVALUATION_WEIGHT * row["evaluation"] + PROGRESS_WEIGHT * row["progress"]
                                  + INNOVATION_WEIGHT * row["innovation"], 1)
        rows.append(row)
    return rows


