"""`lianchuang rules simulate`: a proposed scheme replayed on a district's year (or the year so
far) beside the rules in force: who moves in each published month's ranking, and how each
community's year score, award and funding would change, to the yuan. It composes stages 4 and 5
with their own code (the award is allocated by `award.award` itself), inside a transaction that is
rolled back: nothing is written, and the same scheme adopted reproduces the figures exactly."""

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from lianchuang import clock
from lianchuang.models import AwardResult, Community, MonthlyRanking, RuleScheme, Street
from lianchuang.models.db import session_scope
from lianchuang.models.queries import district_community_ids
from lianchuang.tasks.cycle import competition_ranks, existing_cycle
from lianchuang.tasks.evaluation import award
from lianchuang.tasks.evaluation.ballots import closed_on
from lianchuang.tasks.files import check_output
from lianchuang.tasks.rule_schemes import district_named, locks, read_rules
from lianchuang.tasks.rules import Rules, rules_for
from lianchuang.tasks.sheets import Column, write_template


@dataclass
class Simulation:
    district: str
    year: int
    current: Rules
    proposed: Rules
    moves: list[dict] = field(default_factory=list)  # a community whose rank in a month would change
    months: list[int] = field(default_factory=list)
    funding: list[dict] = field(default_factory=list)  # every community's award before and after
    budget: int | None = None
    award_note: str = ""
    locked_note: str = ""  # what of the proposal this year can no longer adopt


def simulate(year: int, district: str | None, path: Path, budget: int | None = None, output: Path | None = None,
             force: bool = False) -> Simulation:
    proposed = read_rules(path)
    if output:
        check_output(output, force)  # before any work: never the database, never a file the user filled in
    with session_scope() as session:
        place = district_named(session, district)
        cycle = existing_cycle(session, year)
        result = Simulation(place.name, year, rules_for(session, place.id, year), proposed)
        result.locked_note = _locked_note(session, place.id, year, result)
        savepoint = session.begin_nested()
        try:
            before = _award_before(session, cycle.id, place.id, budget, result)  # today's, first: from the months as published
            _replay_months(session, cycle.id, place.id, proposed, result)
            if before is not None:
                _replay_award(session, cycle.id, place.id, year, proposed, before, result)
        finally:
            savepoint.rollback()  # nothing is written
    if output:
        write_simulation_sheet(result, output)
    return result


def _locked_note(session, district_id: int, year: int, result: Simulation) -> str:
    ranking_locked, award_locked = locks(session, district_id, year)
    locked = [what for is_locked, changed, what in (
        (ranking_locked, result.proposed.ranking_part() != result.current.ranking_part(), "排名规则（已发布过排名）"),
        (award_locked, result.proposed.award_part() != result.current.award_part(), "经费规则（已分配过经费）")) if is_locked and changed]
    if not locked:
        return ""
    return f"注意：本年的{'和'.join(locked)}已锁定，这份方案不能用于{year}年，只能作为{year + 1}年的规则导入（--year {year + 1}）"


def _award_before(session, cycle_id: int, district_id: int, budget: int | None, result: Simulation) -> dict | None:
    """Each community's award under the rules in force: as allocated, or (no allocation yet, or
    another budget) as today's rules would allocate it; None when there is nothing to compare."""
    if not closed_on(session, cycle_id, district_id):
        result.award_note = "本区民主评议尚未结束，创新奖和经费无法试算（只试算了月度排名）"
        return None
    allocated = {a.community_id: a for a in session.scalars(select(AwardResult).where(
        AwardResult.cycle_id == cycle_id, AwardResult.community_id.in_(district_community_ids(district_id))))}
    total = sum(a.funding_yuan for a in allocated.values())
    result.budget = budget if budget is not None else total or None
    if result.budget is None:
        result.award_note = "本区还没有分配经费：请用 --budget 给出经费总额，才能试算经费"
        return None
    if allocated and result.budget == total:
        return {cid: dict(rank=a.rank, award=a.award, funding=a.funding_yuan, year_score=a.year_score)
                for cid, a in allocated.items()}
    return {row["community_id"]: dict(rank=row["rank"], award=row["award"], funding=row["funding_yuan"],
                                      year_score=row["year_score"])
            for row in award.award(session, cycle_id, result.budget, redo=True, district_id=district_id)}


def _replay_months(session, cycle_id: int, district_id: int, proposed: Rules, result: Simulation) -> None:
    """Each published month re-scored from its stored progress and on-time scores, ranked again;
    the new scores are left in the (rolled back) transaction for the award to average."""
    rows = session.execute(select(MonthlyRanking, Community.name, Street.name, Community.street_id)
                           .join(Community, Community.id == MonthlyRanking.community_id)
                           .join(Street, Street.id == Community.street_id)
                           .where(MonthlyRanking.cycle_id == cycle_id,
                                  MonthlyRanking.community_id.in_(district_community_ids(district_id)))
                           .order_by(MonthlyRanking.month, Community.code)).all()
    by_month = defaultdict(list)
    for ranking, community, street, street_id in rows:
        score = round(proposed.progress_weight * ranking.progress_score + proposed.on_time_weight * ranking.on_time_score, 1)
        by_month[ranking.month].append(dict(ranking=ranking, before=(ranking.score, ranking.rank_in_district, ranking.rank_in_street),
                                            community=community, street=street, street_id=street_id, score=score))
    for month, items in by_month.items():
        for item, rank in zip(items, competition_ranks(items)):
            item["rank_in_district"] = rank
        for street_items in _grouped(items, "street_id"):
            for item, rank in zip(street_items, competition_ranks(street_items)):
                item["rank_in_street"] = rank
        for item in sorted(items, key=lambda i: (i["rank_in_district"], i["community"])):
            score, district_rank, street_rank = item["before"]
            if (score, district_rank, street_rank) != (item["score"], item["rank_in_district"], item["rank_in_street"]):
                result.moves.append(dict(month=month, community=item["community"], street=item["street"],
                                         score_before=score, score_after=item["score"],
                                         district_rank_before=district_rank, district_rank_after=item["rank_in_district"],
                                         street_rank_before=street_rank, street_rank_after=item["rank_in_street"]))
        for item in items:
            item["ranking"].score = item["score"]
    session.flush()
    result.months = sorted(by_month)


def _grouped(items: list[dict], key: str) -> list[list[dict]]:
    groups = defaultdict(list)
    for item in items:
        groups[item[key]].append(item)
    return list(groups.values())


def _replay_award(session, cycle_id: int, district_id: int, year: int, proposed: Rules, before: dict,
                  result: Simulation) -> None:
    """The award allocated by its own code under the proposed scheme, adopted for the moment."""
    session.add(RuleScheme(district_id=district_id, year=year, version=result.current.version + 1, rules=proposed.to_json(),
                           adopted_at=clock.now(), adopted_by="试算"))
    session.flush()
    after = award.award(session, cycle_id, result.budget, redo=True, district_id=district_id)
    names = dict(session.execute(select(Community.id, Community.name).where(
        Community.id.in_([r["community_id"] for r in after]))).all())
    for row in sorted(after, key=lambda r: (r["rank"], names[r["community_id"]])):
        old = before.get(row["community_id"], dict(rank=None, award=None, funding=0, year_score=None))
        result.funding.append(dict(community=names[row["community_id"]], year_score_before=old["year_score"],
                                   year_score_after=row["year_score"], rank_before=old["rank"], rank_after=row["rank"],
                                   award_before=old["award"], award_after=row["award"], funding_before=old["funding"],
                                   funding_after=row["funding_yuan"], change=row["funding_yuan"] - old["funding"]))


def write_simulation_sheet(result: Simulation, path: Path) -> None:
    months = [Column(k, h) for k, h in (("month", "月份"), ("community", "社区"), ("street", "街道"), ("score_before", "现行得分"),
                                          ("score_after", "试算得分"), ("district_rank_before", "现行全区名次"),
                                          ("district_rank_after", "试算全区名次"), ("street_rank_before", "现行街道内名次"),
                                          ("street_rank_after", "试算街道内名次"))]
    funding = [Column(k, h) for k, h in (("community", "社区"), ("year_score_before", "现行综合得分"),
                                           ("year_score_after", "试算综合得分"), ("rank_before", "现行名次"),
                                           ("rank_after", "试算名次"), ("award_before", "现行奖项"), ("award_after", "试算奖项"),
                                           ("funding_before", "现行经费（元）"), ("funding_after", "试算经费（元）"),
                                           ("change", "变化（元）"))]
    write_template(path, {"月度排名变化": months, "经费变化": funding}, choices={}, examples={
        "月度排名变化": [[m[c.key] for c in months] for m in result.moves],
        "经费变化": [[f[c.key] if f[c.key] is not None else "" for c in funding] for f in result.funding]}, notes=[
        f"{result.district}{result.year}年度规则试算：现行 {result.current.label} 对比所给方案。只列名次或得分有变化的月度排名；"
        "经费列出每个社区。试算没有写入任何数据。", result.award_note])

