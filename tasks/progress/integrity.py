"""Integrity beside the ranking (数据核查): with each district's published month, what a careful
district office would look at before trusting the figures, stored with the month so the email, the
board and the run's artifact show the same findings, reproducibly:

- reports that jump on the last day (the month's last day or the reporting deadline) by
  JUMP_POINTS or more over the task's previous report;
- how stable each community's rank is: its district rank when the progress weight moves ±0.1 (the
  on-time weight the other way), and when any one of its tasks is dropped;
- a random sample of the month's reports per street to spot-check, drawn from a seed made of the
  district, year and month (the same sample every time);
- at the year end (month 13): communities whose reported progress runs far ahead of their
  evaluation grades (by AHEAD_POINTS or more)."""

import hashlib
import json
import random
from bisect import bisect_right
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianchuang import clock
from lianchuang.models import Community, EvaluationResult, MonthlyRanking, ProgressReport, RankingAudit, Street, Task
from lianchuang.models.db import chunked, tuple_rows
from lianchuang.models.queries import district_community_ids, month_status_made, task_status_query
from lianchuang.tasks.cycle import competition_ranks
from lianchuang.tasks.rules import rules_for

JUMP_POINTS = 30
AHEAD_POINTS = 25
SAMPLE_PER_STREET = 3
YEAR_END = 13


def record_month_audits(session: Session, cycle_id: int, year: int, month: int, district_ids: set[int]) -> dict[int, dict]:
    """Compute the published month's findings of each district given and keep them (a correction's
    replace the month's): one pass over the month's figures for all of them (a province's 60)."""
    in_districts = select(Community.id).join(Street, Street.id == Community.street_id).where(Street.district_id.in_(district_ids))
    district_of = dict(session.execute(select(Community.id, Street.district_id).join(Street, Street.id == Community.street_id)
                                       .where(Street.district_id.in_(district_ids))).all())
    findings = {d: dict(jumps=[], stability=[], sample=[], jump_points=JUMP_POINTS) for d in district_ids}
    for community_id, row in last_day_jumps(session, cycle_id, year, month, in_districts):
        findings[district_of[community_id]]["jumps"].append(row)
    for district_id, rows in rank_stability(session, cycle_id, year, month, district_of, in_districts).items():
        findings[district_id]["stability"] = rows
    samples = spot_check_samples(session, cycle_id, year, month, district_ids)
    for district_id in district_ids:
        findings[district_id]["sample"] = samples.get(district_id, [])
        _keep(session, cycle_id, district_id, month, findings[district_id])
    return findings


def record_year_audit(session: Session, cycle_id: int, year: int, district_id: int) -> dict:
    findings = dict(ahead=progress_ahead_of_grades(session, cycle_id, year, district_id), ahead_points=AHEAD_POINTS)
    _keep(session, cycle_id, district_id, YEAR_END, findings)
    return findings


def _keep(session: Session, cycle_id: int, district_id: int, month: int, findings: dict) -> None:
    kept = session.scalar(select(RankingAudit).where(RankingAudit.cycle_id == cycle_id, RankingAudit.district_id == district_id,
                                                     RankingAudit.month == month))
    text = json.dumps(findings, ensure_ascii=False)
    if kept is None:
        session.add(RankingAudit(cycle_id=cycle_id, district_id=district_id, month=month, findings=text))
    else:
        kept.findings = text


def last_day_jumps(session: Session, cycle_id: int, year: int, month: int, communities) -> list[tuple[int, list]]:
    """(community id, [community, task code, title, previous %, reported %, day]) of the month's
    reports made on its last day or on the reporting deadline that rose JUMP_POINTS or more over
    the task's report before."""
    last_days = {clock.month_end(year, month), clock.reporting_deadline(year, month)}
    rows = session.execute(
        select(Task.community_id, Community.name, Task.code, Task.title, ProgressReport.task_id, ProgressReport.order_key,
               ProgressReport.percent, ProgressReport.reported_on)
        .join(Task, Task.id == ProgressReport.task_id).join(Community, Community.id == Task.community_id)
        .where(Task.cycle_id == cycle_id, ProgressReport.month == month, ProgressReport.reported_on.in_(last_days),
               Task.community_id.in_(communities))
        .order_by(Task.code)).all()
    if not rows:
        return []
    before = defaultdict(list)
    for chunk in chunked(sorted({r.task_id for r in rows})):
        for task_id, key, percent in session.execute(
                select(ProgressReport.task_id, ProgressReport.order_key, ProgressReport.percent)
                .where(ProgressReport.task_id.in_(chunk)).order_by(ProgressReport.task_id, ProgressReport.order_key)):
            before[task_id].append((key, percent))
    jumps = []
    for community_id, community, code, title, task_id, key, percent, day in rows:
        earlier = [p for k, p in before[task_id] if k < key]
        start = earlier[-1] if earlier else 0
        if percent - start >= JUMP_POINTS:
            jumps.append((community_id, [community, code, title, f"{start}%", f"{percent}%", day.isoformat()]))
    return jumps


def rank_stability(session: Session, cycle_id: int, year: int, month: int, district_of: dict[int, int],
                   communities) -> dict[int, list[list]]:
    """Per district: [community, rank, ranks with the weights ±0.1, ranks with any one of its tasks
    dropped] per community, from the month as published (its stored progress and on-time scores for
    the weights; the task figures of the month for the drops, the others' scores as they stand)."""
    published = defaultdict(list)
    for ranking in session.execute(select(MonthlyRanking.community_id, MonthlyRanking.score, MonthlyRanking.progress_score,
                                          MonthlyRanking.on_time_score, MonthlyRanking.rank_in_district, Community.name)
                                   .join(Community, Community.id == MonthlyRanking.community_id)
                                   .where(MonthlyRanking.cycle_id == cycle_id, MonthlyRanking.month == month,
                                          MonthlyRanking.community_id.in_(communities))):
        published[district_of[ranking.community_id]].append((ranking, ranking.name))
    tasks = defaultdict(list)
    status = month_status_made(session, cycle_id, month)  # the publication's, when it scored every district
    for row in tuple_rows(session, task_status_query(cycle_id, year, month).where(Task.community_id.in_(communities))
                          if status is None else select(status).where(status.c.community_id.in_(communities))):
        tasks[row.community_id].append((min(float(row.actual), float(row.planned)), float(row.planned), row.actual < row.due))
    stability = {}
    for district_id, rows in published.items():
        rules = rules_for(session, district_id, year)
        by_weights = defaultdict(set)
        for shift in (-0.1, 0.0, 0.1):
            weight = min(1.0, max(0.0, rules.progress_weight + shift))
            items = [dict(id=r.community_id, score=round(weight * r.progress_score + (1 - weight) * r.on_time_score, 1)) for r, _ in rows]
            for item, rank in zip(items, competition_ranks(items)):
                by_weights[item["id"]].add(rank)
        scores = sorted(r.score for r, _ in rows)
        stability[district_id] = [
            [name, r.rank_in_district, _span(by_weights[r.community_id]),
             _span(_ranks_dropping_one(tasks[r.community_id], r.score, scores, rules) or {r.rank_in_district})]
            for r, name in sorted(rows, key=lambda p: (p[0].rank_in_district, p[1]))]
    return stability


def _ranks_dropping_one(own: list[tuple[float, float, bool]], standing: float, scores: list[float], rules) -> set[int]:
    """A community's district ranks when each one of its tasks is left out (the others as they stand):
    its rank is one more than the number of other communities scoring higher (bisect on the sorted
    scores); each drop takes its task from the community's totals."""
    ranks = set()
    if len(own) < 2:
        return ranks
    achieved, planned, on_plan, kept = sum(a for a, _, _ in own), sum(p for _, p, _ in own), sum(not late for *_, late in own), len(own) - 1
    for task_achieved, task_planned, late in own:
        rest = planned - task_planned
        progress = 100.0 * (achieved - task_achieved) / rest if rest else 100.0
        on_time = 100.0 * (on_plan - (not late)) / kept
        score = round(rules.progress_weight * progress + rules.on_time_weight * on_time, 1)
        higher = len(scores) - bisect_right(scores, score) - (1 if standing > score else 0)  # not counting itself
        ranks.add(1 + higher)
    return ranks


def _span(ranks: set[int]) -> str:
    low, high = min(ranks), max(ranks)
    return str(low) if low == high else f"{low}–{high}"


def spot_check_samples(session: Session, cycle_id: int, year: int, month: int, district_ids: set[int]) -> dict[int, list[list]]:
    """Per district: [street, community, task code, title, %, day] of SAMPLE_PER_STREET of the
    month's reports per street, drawn from a seed made of the district, year and month (the same
    sample every time). The draw reads only the reports' ids (a province has 150,000 a month), the
    sample's details are read after."""
    candidates = session.execute(
        select(Street.district_id, Street.code, ProgressReport.id)
        .join(Task, Task.id == ProgressReport.task_id).join(Community, Community.id == Task.community_id)
        .join(Street, Street.id == Community.street_id)
        .where(Task.cycle_id == cycle_id, ProgressReport.month == month, Street.district_id.in_(district_ids))
        .order_by(Street.district_id, Street.code, ProgressReport.id)).all()
    by_street = defaultdict(lambda: defaultdict(list))
    for district_id, street, report_id in candidates:
        by_street[district_id][street].append(report_id)
    chosen = {}
    for district_id, streets in by_street.items():
        draw = random.Random(int(hashlib.sha256(f"{district_id}:{year}:{month}".encode()).hexdigest()[:16], 16))
        chosen[district_id] = [i for street in sorted(streets) for i in draw.sample(streets[street], min(SAMPLE_PER_STREET, len(streets[street])))]
    details = {}
    for chunk in chunked(sorted(i for ids in chosen.values() for i in ids)):
        for report_id, *row in session.execute(
                select(ProgressReport.id, Street.name, Community.name, Task.code, Task.title, ProgressReport.percent, ProgressReport.reported_on)
                .join(Task, Task.id == ProgressReport.task_id).join(Community, Community.id == Task.community_id)
                .join(Street, Street.id == Community.street_id).where(ProgressReport.id.in_(chunk))):
            street, community, code, title, percent, day = row
            details[report_id] = [street, community, code, title, f"{percent}%", day.isoformat()]
    return {district_id: sorted(details[i] for i in ids) for district_id, ids in chosen.items()}


def progress_ahead_of_grades(session: Session, cycle_id: int, year: int, district_id: int) -> list[list]:
    """[community, year-end reported progress, evaluation mean score, gap] where the reported
    progress runs AHEAD_POINTS or more ahead of what the evaluators graded."""
    status = task_status_query(cycle_id, year, 12, district_id).subquery()
    progress = dict(session.execute(select(status.c.community_id, func.avg(status.c.actual)).group_by(status.c.community_id)).all())
    graded = dict(session.execute(select(Task.community_id, func.avg(EvaluationResult.score))
                                  .join(EvaluationResult, EvaluationResult.task_id == Task.id)
                                  .where(EvaluationResult.cycle_id == cycle_id, EvaluationResult.score.is_not(None),
                                         Task.community_id.in_(district_community_ids(district_id)))
                                  .group_by(Task.community_id)).all())
    names = dict(session.execute(select(Community.id, Community.name).where(Community.id.in_(graded))).all())
    ahead = [[names[cid], round(float(progress[cid]), 1), round(float(score), 1), round(float(progress[cid]) - float(score), 1)]
             for cid, score in graded.items() if cid in progress and float(progress[cid]) - float(score) >= AHEAD_POINTS]
    return sorted(ahead, key=lambda row: -row[3])


def stored_findings(session: Session, cycle_id: int, district_id: int, month: int) -> dict | None:
    kept = session.scalar(select(RankingAudit.findings).where(RankingAudit.cycle_id == cycle_id,
                                                              RankingAudit.district_id == district_id, RankingAudit.month == month))
    return json.loads(kept) if kept else None
