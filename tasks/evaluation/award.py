"""The innovation award and the party-building funding tied to it (see evaluation.py's module doc
for the rule): communities ranked on the year, the budget split to the yuan."""

from fractions import Fraction

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from lianchuang.errors import UserError
from lianchuang.models import AwardResult, Cycle, EvaluationResult, MonthlyRanking, Task
from lianchuang.models.db import insert_ignoring_duplicates
from lianchuang.models.queries import district_community_ids
from lianchuang.tasks.cycle import competition_ranks, only_district
from lianchuang.tasks.evaluation.ballots import closed_on, closing
from lianchuang.tasks.rules import DEFAULT_RULES, Rules, rules_for

AWARD_BY_DISTRICT = "创新奖按区评选、按区分配经费"  # said when a database of several districts is not told which
# The defaults by name (samples); a district's own are in its scheme (rules_for).
EVALUATION_WEIGHT, PROGRESS_WEIGHT, INNOVATION_WEIGHT = (DEFAULT_RULES.evaluation_weight, DEFAULT_RULES.ranking_weight,
                                                         DEFAULT_RULES.innovation_weight)
INNOVATION_CATEGORY = "party_building"


def award_rule(rules: Rules = DEFAULT_RULES) -> dict:
    """The rule as the notices state it, from the scheme that applies it."""
    return dict(evaluation=rules.evaluation_weight, progress=rules.ranking_weight, innovation=rules.innovation_weight,
                base_percent=round(rules.base_share * 100), tiers=[dict(name=t.name, weight=t.weight) for t in rules.tiers],
                tiers_text="、".join(f"{t.name} {t.weight:g}" for t in rules.tiers),
                fixed=rules.fixed_per_community, minimum=rules.minimum_per_community, version=rules.version)


def cycle_rules(session: Session, cycle_id: int, district_id: int) -> Rules:
    return rules_for(session, district_id, session.get(Cycle, cycle_id).year)


def raise_to_minimum(exact: list[Fraction], minimum: int) -> list[Fraction]:
    """Lift every amount below the minimum to it, taking what that costs from the amounts above it
    in proportion to how far above they are (the total stays the same; nobody drops below)."""
    short = sum((minimum - x for x in exact if x < minimum), Fraction(0))
    above = sum((x - minimum for x in exact if x > minimum), Fraction(0))
    if not short:
        return exact
    keep = (above - short) / above  # >= 0: the budget covers the minimum for everyone (checked before)
    return [minimum + (x - minimum) * keep if x > minimum else Fraction(minimum) for x in exact]


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
    rules = cycle_rules(session, cycle_id, district_id)
    rows = year_scores(session, cycle_id, district_id, rules)
    if not rows:
        raise UserError("还没有评议结果或月度排名，无法评选创新奖：请先完成民主评议")
    count = len(rows)
    _check_budget_covers(rules, budget, count)
    for row, rank in zip(rows, competition_ranks(rows, "year_score")):
        row["rank"] = rank
        row["award"], row["award_weight"], upper = None, 0, 0.0
        for tier in rules.tiers:
            upper += tier.share
            if rank <= max(1, round(upper * count)):
                row["award"], row["award_weight"] = tier.name, tier.weight
                break
    # Each community's exact amount (fixed + base + bonus, as fractions of a yuan), then whole yuan
    # once, on the totals: rounding the parts on their own gave the spare yuan to the lower codes.
    weights = [Fraction(str(r["award_weight"])) for r in rows]
    fixed = Fraction(rules.fixed_per_community)
    rest = budget - fixed * count
    base_fraction = Fraction(str(rules.base_share)) if any(weights) else Fraction(1)  # no award: all of it shared equally
    base_pool = rest * base_fraction
    base = [base_pool / count] * count
    bonus = [(rest - base_pool) * w / sum(weights) for w in weights] if any(weights) else [Fraction(0)] * count
    exact = raise_to_minimum([fixed + b + x for b, x in zip(base, bonus)], rules.minimum_per_community)
    order = sorted(range(count), key=lambda i: (rows[i]["rank"], i))  # a tie of fractions goes to the better rank
    whole = to_whole_yuan([exact[i] for i in order])
    for i, yuan in zip(order, whole):
        rows[i]["funding_yuan"] = yuan
    for row, base_yuan, bonus_yuan, final in zip(rows, base, bonus, exact):
        row["rules_version"] = rules.version
        row["explanation"] = _explanation(row, rules, count, budget, base_fraction, base_yuan, bonus_yuan, final)
    insert_ignoring_duplicates(session, AwardResult, [
        {k: row[k] for k in ("community_id", "year_score", "rank", "award", "funding_yuan", "explanation", "rules_version")}
        | dict(cycle_id=cycle_id) for row in rows], ["cycle_id", "community_id"])
    return rows


def _check_budget_covers(rules: Rules, budget: int, count: int) -> None:
    for amount, what in ((rules.fixed_per_community, "固定经费"), (rules.minimum_per_community, "最低经费")):
        if amount * count > budget:
            raise UserError(f"经费预算 {budget:,} 元不够本区{rules.label}里每个社区的{what} {amount:,} 元："
                            f"{count} 个社区共需 {amount * count:,} 元。请增加预算，或用 lianchuang rules import 修改规则")


def _explanation(row: dict, rules: Rules, count: int, budget: int, base_fraction: Fraction, base_yuan: Fraction,
                 bonus_yuan: Fraction, final: Fraction) -> str:
    """How a community's amount was reached, step by step, in the words of the award notice."""
    fixed = rules.fixed_per_community
    rest = f"预算 {budget:,} 元" + (f"减去固定经费后余下 {budget - fixed * count:,} 元" if fixed else "")
    parts = [f"按本区{rules.label}：综合得分 {row['year_score']} = {rules.evaluation_weight}×评议平均分 {row['evaluation']:.1f} + "
             f"{rules.ranking_weight}×月度进度平均分 {row['progress']:.1f} + {rules.innovation_weight}×党建创新得分 "
             f"{row['innovation']:.1f}，{count} 个社区中排第 {row['rank']} 名；"
             + (f"固定经费 {fixed:,} 元 + " if fixed else "")
             + f"基础经费 {float(base_yuan):,.2f} 元（{rest}的 {float(base_fraction):.0%} 由 {count} 个社区均分）"]
    if bonus_yuan:
        parts.append(f" + 奖励经费 {float(bonus_yuan):,.2f} 元（{row['award']}，权重 {row['award_weight']}；"
                     f"余下的 {float(1 - base_fraction):.0%} 按获奖社区权重分配）")
    before_minimum = fixed + base_yuan + bonus_yuan
    if final != before_minimum:
        parts.append(f" = {float(before_minimum):,.2f} 元，按每个社区最低 {rules.minimum_per_community:,} 元调整为 {float(final):,.2f} 元"
                     + ("（补足）" if final > before_minimum else "（按超出最低额的比例让出）"))
    if final != row["funding_yuan"]:
        parts.append(f" = {float(final):,.2f} 元，按最大余数法取整（各社区合计正好等于预算）")
    parts.append(f" = {row['funding_yuan']:,} 元")
    return "".join(parts)


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


def check_allocation(session: Session, cycle_id: int, budget: int, redo: bool, district_id: int, confirm: bool) -> int | None:
    """Every rule of allocating a district's award, for the command and the Prefect task alike:
    check_can_allocate's, then, unless confirmed (`award --yes`, the form's 照样分配), no objection
    received in time still unanswered and the objection period over. Showing an allocation made
    needs no confirmation. Returns what was allocated before (None: nothing yet)."""
    from lianchuang import clock
    from lianchuang.tasks.evaluation.tally import open_objections

    allocated = check_can_allocate(session, cycle_id, budget, redo, district_id)
    if (allocated is not None and not redo) or confirm:
        return allocated
    waiting = open_objections(session, cycle_id, district_id)
    if waiting:
        raise UserError(f"还有 {len(waiting)} 件异议没有答复（编号 {'、'.join(str(o.id) for o in waiting)}）："
                        f"先答复（lianchuang evaluate answer 编号 --text \"……\" [--upheld]），再评创新奖；"
                        f"确认现在就评请加 --yes（在 Prefect 界面：勾选“照样分配”）")
    deadline = closing(session, cycle_id, district_id).objection_deadline
    if clock.today() <= deadline:
        year = session.get(Cycle, cycle_id).year
        raise UserError(f"{year}年度考评结果还在公示期，异议可提出到 {deadline.isoformat()}；"
                        f"公示期满后再评创新奖，或确认现在就评请加 --yes（在 Prefect 界面：勾选“照样分配”）")
    return allocated


def year_scores(session: Session, cycle_id: int, district_id: int, rules: Rules = DEFAULT_RULES) -> list[dict]:
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
        row["year_score"] = round(rules.evaluation_weight * row["evaluation"] + rules.ranking_weight * row["progress"]
                                  + rules.innovation_weight * row["innovation"], 1)
        rows.append(row)
    return rows


