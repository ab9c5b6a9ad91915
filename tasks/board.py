"""The public notice board (公开栏): a static, offline site with an index and a page per community.
It shows names of units and post holders but never a contact detail."""

import json
import os
from collections import defaultdict
from concurrent.futures import Future
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianchuang.errors import UserError
from lianchuang.models import (
    AwardResult,
    Commitment,
    Community,
    District,
    DistrictEvaluation,
    EvaluationResult,
    MonthlyRanking,
    Objection,
    Person,
    PersonResult,
    Post,
    PostClaim,
    PostKind,
    RankingAudit,
    RankingCorrection,
    Street,
    SupersededRanking,
    Task,
    Unit,
)
from lianchuang.models.db import session_scope
from lianchuang.models.queries import latest_percents
from lianchuang.tasks import workers
from lianchuang.tasks.files import page_in, replace_file
from lianchuang.tasks.open_data import write_open_data
from lianchuang.tasks.outbox.rendering import cn_date, label, render_page
from lianchuang.tasks.plan import steps_text


def build_board(session: Session, cycle_id: int, year: int, out_dir: Path, community_ids: list[int] | None = None,
                open_data: bool = True) -> int:
    """Write index.html (districts and their streets), a page per street (its communities at a
    glance) and a page per community into out_dir; returns the number of pages. With community_ids,
    only the pages those communities appear on: theirs, their streets' and the index. The whole
    board comes with its open data, unless open_data is False (another process writes it)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    districts = session.scalars(select(District).order_by(District.code)).all()
    touched = set(community_ids) if community_ids is not None else None
    in_scope = select(Task.id).where(Task.cycle_id == cycle_id)
    if touched is not None:  # every community of the touched streets: a street page shows them all
        streets = select(Community.street_id).where(Community.id.in_(touched))
        in_scope = in_scope.where(Task.community_id.in_(select(Community.id).where(Community.street_id.in_(streets))))
    # Grouped queries joined in Python: a derived-table join over every report was pathological on SQLite.
    percent = {task_id: latest for task_id, (_, latest) in latest_percents(session, in_scope).items()}
    unit_names = dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(
        select(Task.lead_unit_id).where(Task.id.in_(in_scope))))).all())
    leader_names = dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(
        select(Task.responsible_person_id).where(Task.id.in_(in_scope))))).all())
    now, committed = steps_text(cycle_id, task_ids=in_scope), steps_text(cycle_id, committed=True, task_ids=in_scope)
    tasks, changed_steps = defaultdict(list), defaultdict(list)
    for task in session.execute(select(Task.id, Task.code, Task.community_id, Task.category, Task.title, Task.lead_unit_id,
                                       Task.responsible_person_id, Task.goal, Task.deadline, now.c.text.label("steps"),
                                       committed.c.text.label("committed"))
                                .outerjoin(now, now.c.task_id == Task.id).outerjoin(committed, committed.c.task_id == Task.id)
                                .where(Task.id.in_(in_scope)).order_by(Task.code)):
        # Table rows as the page shows them, formatted here: a province's board has 150,000 task rows.
        tasks[task.community_id].append((task.code, label(task.category), task.title,
                                         unit_names.get(task.lead_unit_id) or "待分工",
                                         leader_names.get(task.responsible_person_id) or "",
                                         "；".join(filter(None, [task.goal, task.steps])),
                                         cn_date(task.deadline), f"{percent.get(task.id, 0)}%"))
        if task.committed and task.committed != task.steps:  # the published plan, kept in view
            changed_steps[task.community_id].append((task.code, task.title, task.committed, task.steps or ""))
    posts = defaultdict(dict)
    for community_id, post_id, kind, temporary, holder in session.execute(
            select(Post.community_id, Post.id, PostKind.name, Post.temporary, Person.name)
            .join(PostKind, Post.post_kind_id == PostKind.id).outerjoin(PostClaim, PostClaim.post_id == Post.id)
            .outerjoin(Person, PostClaim.person_id == Person.id).where(Post.cycle_id == cycle_id)
            .order_by(Post.id, Person.code)):
        holders = posts[community_id].setdefault(post_id, [kind + ("（临时）" if temporary else ""), []])[1]
        if holder:
            holders.append(holder)
    commitments = defaultdict(list)
    published = {}
    for community_id, unit_name, person_name, published_on in session.execute(
            select(Commitment.community_id, Unit.name, Person.name, Commitment.published_on)
            .outerjoin(Unit, Commitment.unit_id == Unit.id).outerjoin(Person, Commitment.person_id == Person.id)
            .where(Commitment.cycle_id == cycle_id, Commitment.published_on.is_not(None)).order_by(Commitment.holder_key)):
        commitments[community_id].append(unit_name or person_name)
        published[community_id] = published_on
    corrected = {(correction.district_id, correction.month) for correction in session.scalars(
        select(RankingCorrection).where(RankingCorrection.cycle_id == cycle_id))}  # each district corrects its own months
    rankings, latest_rank = defaultdict(list), {}
    for ranking in session.execute(select(MonthlyRanking.community_id, MonthlyRanking.month, MonthlyRanking.score,
                                          MonthlyRanking.rank_in_street, MonthlyRanking.rank_in_district, Street.district_id)
                                   .join(Community, Community.id == MonthlyRanking.community_id)
                                   .join(Street, Street.id == Community.street_id)
                                   .where(MonthlyRanking.cycle_id == cycle_id).order_by(MonthlyRanking.month)):
        was_corrected = (ranking.district_id, ranking.month) in corrected
        rankings[ranking.community_id].append((f"{ranking.month}月" + ("（已更正）" if was_corrected else ""),
                                               ranking.score, ranking.rank_in_street, ranking.rank_in_district))
        latest_rank[ranking.community_id] = ranking
    superseded = defaultdict(list)  # the versions corrections replaced, kept in view
    for correction, before in session.execute(
            select(RankingCorrection, SupersededRanking).join(SupersededRanking, SupersededRanking.correction_id == RankingCorrection.id)
            .where(RankingCorrection.cycle_id == cycle_id).order_by(RankingCorrection.month, RankingCorrection.number)):
        superseded[before.community_id].append(
            f"{correction.month}月排名于 {cn_date(correction.corrected_on)} 更正，原因：{correction.reason}。"
            f"更正前：得分 {before.score}，街道内第 {before.rank_in_street} 名，全区第 {before.rank_in_district} 名。")
    results = defaultdict(list)
    for row in session.execute(select(Task.community_id, Task.code, Task.title, EvaluationResult.ballots, EvaluationResult.score)
                               .join(EvaluationResult, EvaluationResult.task_id == Task.id)
                               .where(Task.cycle_id == cycle_id).order_by(Task.code)):
        results[row.community_id].append((row.code, row.title, row.ballots, row.score))
    objections = defaultdict(list)  # shown with their answers: the evaluation is public, so is what it was asked
    for o in session.scalars(select(Objection).where(Objection.cycle_id == cycle_id).order_by(Objection.id)):
        answer = (("异议成立，结果修正：" if o.upheld else "") + o.response + f"（{cn_date(o.answered_on)}）") if o.response else "待答复"
        objections[o.community_id].append((o.id, o.subject, o.content, cn_date(o.received_on), answer))
    awards = {a.community_id: a for a in session.scalars(select(AwardResult).where(AwardResult.cycle_id == cycle_id))}
    people_results = defaultdict(list)
    for name, community_id, tasks_led, score in session.execute(
            select(Person.name, Person.community_id, PersonResult.tasks, PersonResult.score)
            .join(PersonResult, PersonResult.person_id == Person.id).where(PersonResult.cycle_id == cycle_id)
            .order_by(Person.code)):
        people_results[community_id].append((name, f"{tasks_led}项", score))
    deadlines = dict(session.execute(select(DistrictEvaluation.district_id, DistrictEvaluation.objection_deadline)
                                     .where(DistrictEvaluation.cycle_id == cycle_id)).all())  # each district closes its own
    pages = 1
    if touched is None and open_data:  # the open data covers the whole year: refreshed with the whole board
        pages += publish_open_data(session, cycle_id, year, out_dir)
    if touched is None:  # each district's integrity findings, month by month (kept with each published month)
        pages += _write_audit_pages(session, cycle_id, year, out_dir, districts)
    _write(_page(out_dir, "index.html"), "board/index.html", year=year, open_data=touched is None or (out_dir / "data.html").exists(),
           districts=[_at_a_glance(district, latest_rank, published, awards, corrected) for district in districts])
    for district in districts:
        for street in district.streets:
            if touched is not None and not touched & {c.id for c in street.communities}:
                continue
            overview = [dict(community=c, tasks=len(tasks[c.id]), published=published.get(c.id),
                             latest=latest_rank.get(c.id)) for c in street.communities]
            _write(_page(out_dir, f"street-{street.code}.html"), "board/street.html", year=year, district=district,
                   street=street, communities=overview)
            pages += 1
            for community in street.communities:
                if touched is not None and community.id not in touched:
                    continue
                _write(_page(out_dir, f"{community.code}.html"), "board/community.html",
                       year=year, community=community, street=street, tasks=tasks[community.id],
                       posts=[(name, "、".join(holders)) for name, holders in posts[community.id].values()],
                       commitments=commitments[community.id],
                       commitments_published=published.get(community.id), rankings=rankings[community.id],
                       corrections=superseded[community.id], changed_steps=changed_steps[community.id],
                       results=results[community.id], people_results=people_results[community.id],
                       objections=objections[community.id],
                       award=awards.get(community.id), objection_deadline=deadlines.get(district.id))
                pages += 1
    return pages


def _write_audit_pages(session: Session, cycle_id: int, year: int, out_dir: Path, districts: list[District]) -> int:
    found = defaultdict(dict)
    for district_id, month, findings in session.execute(select(RankingAudit.district_id, RankingAudit.month, RankingAudit.findings)
                                                          .where(RankingAudit.cycle_id == cycle_id)):
        found[district_id][month] = json.loads(findings)
    for district in districts:
        months = sorted(((m, f) for m, f in found[district.id].items() if m <= 12), reverse=True)
        _write(_page(out_dir, f"audit-{district.code}.html"), "board/audit.html", year=year, district=district, months=months,
               year_end=found[district.id].get(13))
    return len(districts)


def _at_a_glance(district: District, latest_rank: dict, published: dict, awards: dict, corrected: set) -> dict:
    """The index's view of a district: its streets, the latest ranking's top ten, how many
    communities have published their commitments, and the award's winners."""
    communities = [(street, c) for street in district.streets for c in street.communities]
    month = max((latest_rank[c.id].month for _, c in communities if c.id in latest_rank), default=None)
    ranked = sorted(((latest_rank[c.id], street, c) for street, c in communities
                     if c.id in latest_rank and latest_rank[c.id].month == month), key=lambda item: item[0].rank_in_district)
    winners = sorted(((awards[c.id], street, c) for street, c in communities if c.id in awards and awards[c.id].award),
                     key=lambda item: item[0].rank)
    return dict(name=district.name, code=district.code, streets=district.streets, communities=len(communities), month=month,
                corrected=(district.id, month) in corrected,
                committed=sum(1 for _, c in communities if c.id in published),
                top=[(r.rank_in_district, c, street.name, r.score) for r, street, c in ranked[:10]],
                winners=[(a.rank, c, a.award, f"{a.funding_yuan:,}") for a, _, c in winners])


def publish_open_data(session: Session, cycle_id: int, year: int, out_dir: Path) -> int:
    """The open data files and data.html, the page describing them; returns 1 (the page)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _write(_page(out_dir, "data.html"), "board/data.html", year=year, datasets=write_open_data(session, cycle_id, out_dir / "data"))
    return 1


def _write(path: Path, template: str, **context) -> None:
    replace_file(path, render_page(template, context))


def _page(out_dir: Path, name: str) -> Path:
    """A page's file in the board's folder; a code like "../x" or a linked folder can never write elsewhere."""
    if "/" in name or "\\" in name or name in ("", ".", ".."):
        raise UserError(f"公开栏页面名“{name}”含有路径字符，未写入：请检查编码")
    return page_in(out_dir, name)


def start_board(session: Session, cycle_id: int, year: int, out_dir: Path, community_ids: list[int] | None = None) -> Future:
    """Rebuild the board (or the pages of some communities); the future gives the number of pages.
    A large board (a province: 5,300 pages, several seconds) is built by a worker process on the
    other core while the caller delivers the notices; a small one at once, here."""
    count = len(community_ids) if community_ids is not None else session.scalar(select(func.count()).select_from(Community))
    if count < LARGE_BOARD:
        return workers.done(build_board(session, cycle_id, year, out_dir, community_ids))
    job = workers.app_job(cycle_id=cycle_id, year=year, out_dir=str(out_dir), community_ids=community_ids)
    if community_ids is not None:
        return workers.submit(_build_in_worker, job)
    # The open data (a province's 150,000 tasks: 3 s) is written by a third process meanwhile.
    return workers.total(workers.submit(_build_in_worker, job | dict(open_data=False)), workers.submit(_open_data_in_worker, job))


LARGE_BOARD = 500  # communities


def _build_in_worker(job: dict) -> int:
    if hasattr(os, "nice"):  # the board is not awaited until the end: the charts and emails go first
        os.nice(10)
    with workers.app_context(job), session_scope() as session:
        return build_board(session, job["cycle_id"], job["year"], Path(job["out_dir"]), job["community_ids"],
                           job.get("open_data", True))


def _open_data_in_worker(job: dict) -> int:
    if hasattr(os, "nice"):
        os.nice(10)
    with workers.app_context(job), session_scope() as session:
        return publish_open_data(session, job["cycle_id"], job["year"], Path(job["out_dir"]))
