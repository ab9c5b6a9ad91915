"""The public notice board (公开栏): a static, offline site with an index and a page per community.
It shows names of units and post holders but never a contact detail."""

import gc
import json
import os
import sys
import traceback
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import NamedTuple

from markupsafe import Markup
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from lianchuang import clock
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
    Opinion,
    Person,
    PersonResult,
    Post,
    PostClaim,
    PostKind,
    ProgressReport,
    RankingAudit,
    RankingCorrection,
    Street,
    SupersededRanking,
    Task,
    Unit,
)
from lianchuang.models.db import session_scope, tuple_rows
from lianchuang.models.queries import latest_report_key, task_status_query
from lianchuang.tasks import workers
from lianchuang.tasks.board_chart import progress_chart
from lianchuang.tasks.files import page_in, replace_file
from lianchuang.tasks.open_data import open_data_rows, write_open_data
from lianchuang.tasks.outbox.rendering import cn_date, escape_cells, label, render_page
from lianchuang.tasks.plan import steps_text


def build_board(session: Session, cycle_id: int, year: int, out_dir: Path, community_ids: list[int] | None = None,
                ready=None, split: bool = False) -> int:
    """Write index.html (districts and their streets), a page per street (its communities at a
    glance) and a page per community into out_dir; returns the number of pages. With community_ids,
    only the pages those communities appear on: theirs, their streets' and the index. The whole
    board comes with its open data, whose tasks are the rows the board reads. With
    `ready`, the tasks (most of the work) are read and laid out first, and the rankings and
    everything else only once ready() returns (board_ahead: while the month is being published).
    With split, a large board's community pages and open data are written by two processes
    (_write_pages): only in a worker process of its own, whose other thread only watches its parent."""
    touched = set(community_ids) if community_ids is not None else None
    in_scope = select(Task.id).where(Task.cycle_id == cycle_id)
    if touched is not None:  # every community of the touched streets: a street page shows them all
        streets = select(Community.street_id).where(Community.id.in_(touched))
        in_scope = in_scope.where(Task.community_id.in_(select(Community.id).where(Community.street_id.in_(streets))))
    unit_names = dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(
        select(Task.lead_unit_id).where(Task.id.in_(in_scope))))).all())
    leader_names = dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(
        select(Task.responsible_person_id).where(Task.id.in_(in_scope))))).all())
    month = _measured_month(year)
    suggestions = _suggestions(session, in_scope)
    # One row per task: as the ranking measures it (its own query) and as the page shows it.
    report = aliased(ProgressReport)  # each task's latest of the year, in the ranking's order (month, then day)
    plans = tuple_rows(session, task_status_query(cycle_id, year, month, next_step=True)
                       .add_columns(Task.category, Task.lead_unit_id, Task.responsible_person_id, Task.goal, Task.deadline,
                                    steps_text().label("steps"), steps_text(committed=True).label("committed"),
                                    report.percent.label("reported"), report.month.label("reported_month"), report.reported_on)
                       .outerjoin(report, and_(report.task_id == Task.id, report.order_key == latest_report_key(12)))
                       .where(Task.id.in_(in_scope)).order_by(Task.code))
    tasks, changed_steps = defaultdict(list), defaultdict(list)
    for task in plans:  # formatted here: a province's board has 150,000 task rows
        tasks[task.community_id].append(TaskRow(
            task.code, label(task.category), task.title, unit_names.get(task.lead_unit_id) or "待分工",
            leader_names.get(task.responsible_person_id) or "", "；".join(filter(None, [task.goal, task.steps])),
            cn_date(task.deadline), task.reported or 0, round(task.planned), task.due,
            f"{task.next_month}月 {task.next_percent}% {task.next_title}".rstrip() if task.next_month else "",
            len(suggestions.get(task.code, ()))))
        if task.committed and task.committed != task.steps:  # the published plan, kept in view
            changed_steps[task.community_id].append((task.code, task.title, task.committed, task.steps or ""))
    cards = {community_id: task_cards(rows) for community_id, rows in tasks.items()}
    if ready is not None:
        ready()  # each read below is a transaction of its own (SQLite) or read committed: it sees the month
    out_dir.mkdir(parents=True, exist_ok=True)  # nothing is written before
    page_in(out_dir, "index.html")  # the folder itself: no link, nothing outside it (once, not per page)
    districts = session.scalars(select(District).order_by(District.code)).all()
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
    rankings, latest_rank, trend = defaultdict(list), {}, defaultdict(list)
    for ranking in session.execute(select(MonthlyRanking.community_id, MonthlyRanking.month, MonthlyRanking.score,
                                          MonthlyRanking.rank_in_street, MonthlyRanking.rank_in_district, Street.district_id,
                                          MonthlyRanking.reported_percent, MonthlyRanking.planned_percent)
                                   .join(Community, Community.id == MonthlyRanking.community_id)
                                   .join(Street, Street.id == Community.street_id)
                                   .where(MonthlyRanking.cycle_id == cycle_id).order_by(MonthlyRanking.month)):
        was_corrected = (ranking.district_id, ranking.month) in corrected
        rankings[ranking.community_id].append((f"{ranking.month}月" + ("（已更正）" if was_corrected else ""),
                                               ranking.score, ranking.rank_in_street, ranking.rank_in_district))
        latest_rank[ranking.community_id] = ranking
        trend[ranking.community_id].append((ranking.month, ranking.reported_percent, ranking.planned_percent))
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
    open_data = None  # the open data covers the whole year: refreshed with the whole board
    if touched is None:
        places = {c.id: (street.name, c.name) for district in districts for street in district.streets for c in street.communities}
        rows = open_data_rows(session, cycle_id, [
            (task.code, *places[task.community_id], task.category, task.title, unit_names.get(task.lead_unit_id),
             leader_names.get(task.responsible_person_id), task.goal, task.deadline, task.steps, task.reported,
             task.reported_month, task.reported_on) for task in plans])
        open_data = lambda: _publish_open_data(out_dir, year, rows)  # noqa: E731 - written with the pages, perhaps by the other process
        pages += 1
        # each district's integrity findings, month by month (kept with each published month)
        pages += _write_audit_pages(session, cycle_id, year, out_dir, districts)
    # the whole board has every task's plan at hand; a partial rebuild asks the database for the rest
    progress = _averaged(plans) if touched is None else community_progress(session, cycle_id, year, month)
    _write(_page(out_dir, "index.html"), "board/index.html", year=year, measured_month=month, open_data=touched is None or (out_dir / "data.html").exists(),
           districts=[_at_a_glance(district, latest_rank, published, awards, corrected, progress) for district in districts],
           charts=district_trends(session, cycle_id))
    def community_page(community: Community, street: Street, district: District) -> dict:
        return dict(year=year, community=community, street=street, tasks=tasks[community.id],
                    task_cards=cards.get(community.id) or task_cards([]), measured_month=month,
                    chart=progress_chart(f"{community.name}任务进度", trend[community.id]),
                    suggestions=[(row.code, row.title, suggestions[row.code]) for row in tasks[community.id]
                                 if row.code in suggestions],
                    posts=[(name, "、".join(holders)) for name, holders in posts[community.id].values()],
                    commitments=commitments[community.id],
                    commitments_published=published.get(community.id), rankings=rankings[community.id],
                    corrections=superseded[community.id], changed_steps=changed_steps[community.id],
                    results=results[community.id], people_results=people_results[community.id],
                    objections=objections[community.id],
                    award=awards.get(community.id), objection_deadline=deadlines.get(district.id))

    community_pages = []  # (page, community, street, district): rendered and written below, perhaps by two processes
    for district in districts:
        for street in district.streets:
            if touched is not None and not touched & {c.id for c in street.communities}:
                continue
            overview = [dict(community=c, tasks=len(tasks[c.id]), published=published.get(c.id),
                             latest=latest_rank.get(c.id)) for c in street.communities]
            _write(_page(out_dir, f"street-{street.code}.html"), "board/street.html", year=year, district=district,
                   street=street, communities=overview)
            pages += 1
            community_pages += [(_page(out_dir, f"{community.code}.html"), community, street, district)
                                for community in street.communities if touched is None or community.id in touched]
    _write_pages([(page, "board/community.html", lambda c=community, s=street, d=district: community_page(c, s, d))
                  for page, community, street, district in community_pages], split, open_data)
    return pages + len(community_pages)


class TaskRow(NamedTuple):
    code: str
    category: str
    title: str
    unit: str
    leader: str
    plan: str  # the goal and the steps
    deadline: str
    actual: int  # the latest report's percent (latest month reported on, then latest day: as the ranking orders them)
    planned: int  # what the plan calls for at the end of the last finished month (the ranking's)
    reached: int  # the percent of the last step due by then: below it, the task is overdue
    due: str  # the next step ("12月 100% 全面完成")
    suggestions: int  # residents' suggestions it answers


def _measured_month(year: int) -> int:
    """The month the board measures plans at, as the ranking does: the last finished month of the
    year (12 once it is over, 0 before it ends its first month)."""
    finished_year, month = clock.last_finished_month()
    return 12 if year < finished_year else 0 if year > finished_year else month


def _suggestions(session: Session, task_ids) -> dict[str, list[tuple[str, str]]]:
    """The residents' suggestions each task answers, by task code: what was asked and when, never who."""
    found = defaultdict(list)
    for code, content, submitted_on in session.execute(
            select(Task.code, Opinion.content, Opinion.submitted_on).join(Task, Task.id == Opinion.task_id)
            .where(Opinion.task_id.in_(task_ids)).order_by(Task.code, Opinion.submitted_on, Opinion.id)):
        text = content if len(content) <= SUGGESTION_CHARS else content[:SUGGESTION_CHARS] + "……"
        found[code].append((text, cn_date(submitted_on)))
    return found


SUGGESTION_CHARS = 120


def status_word(row: TaskRow) -> tuple[str, str]:
    """(word, css class) of a task's progress against its plan."""
    if row.actual >= 100:
        return "已完成", "done"
    if row.actual < row.reached:  # a step due is not reached: the ranking counts it overdue
        return "逾期", "late"
    if row.actual < row.planned:
        return "落后于计划", "late"
    return ("按计划推进" if row.actual or row.planned else "未开始"), "ok"


def task_cards(rows: list[TaskRow]) -> Markup:
    """The tasks as a table at desktop width and, on a phone, a card per task (title first, then
    its unit, leader, deadline, a progress bar with the plan marker, its status and the step due):
    one markup, the page's CSS lays it out (an 8-column table shrank to 1-2 characters a column).
    The text of every row is escaped at once (escape_cells)."""
    escaped = escape_cells([(row.code, row.category, row.title, row.unit, row.leader, row.plan, row.deadline, row.due)
                            for row in rows])
    body = [_task_row(row, *cells) for row, cells in zip(rows, escaped)]
    return Markup(f'<div class="wrap tasks"><table><tr>{TASK_HEAD}</tr>\n{"".join(body)}</table></div>')


def _task_row(row: TaskRow, code, category, title, unit, leader, plan, deadline, due) -> str:
    """One task's row of already escaped texts."""
    word, css = status_word(row)
    source = f'<br><a class="from" href="#from-{code}">回应 {row.suggestions} 条群众意见建议</a>' if row.suggestions else ""
    next_step = f"<br><small>应达：{due}</small>" if due and row.actual < 100 else ""
    progress = (f'<div class="bar" role="img" aria-label="已报告 {row.actual}%，计划 {row.planned}%">'
                f'<span class="{css}" style="width:{min(row.actual, 100)}%"></span><i style="left:{min(row.planned, 100)}%"></i>'
                f'</div>{row.actual}% · 计划 {row.planned}% · <b class="{css}">{word}</b>{next_step}')
    return (f'<tr><td data-label="编号">{code}</td><td data-label="类别">{category}</td>'
            f'<td data-label="任务" class="title">{title}{source}</td><td data-label="牵头单位">{unit}</td>'
            f'<td data-label="责任领导">{leader}</td><td data-label="年度目标与实施步骤">{plan}</td>'
            f'<td data-label="完成时限">{deadline}</td><td data-label="进度" class="progress">{progress}</td></tr>\n')


TASK_HEAD = "".join(f"<th>{name}</th>" for name in ("编号", "类别", "任务", "牵头单位", "责任领导", "年度目标与实施步骤", "完成时限", "进度"))


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


def community_progress(session: Session, cycle_id: int, year: int, month: int) -> dict[int, tuple[float, float, int]]:
    """Per community of the cycle: its tasks' average reported percent and the average their plans
    call for at the end of `month`, and how many tasks it has: the ranking's own figures, grouped in
    SQL (the index of a province shows 5,000 communities, on partial rebuilds too)."""
    status = task_status_query(cycle_id, year, month).subquery()
    rows = session.execute(select(status.c.community_id, func.avg(status.c.actual), func.avg(status.c.planned), func.count())
                           .group_by(status.c.community_id))
    return {community_id: (float(done), float(due), count) for community_id, done, due, count in rows}


def district_trends(session: Session, cycle_id: int) -> dict[str, Markup]:
    """Per district code, the chart of its communities' monthly averages (each weighted by its tasks)."""
    weighted = lambda column: func.sum(column * MonthlyRanking.tasks) * 1.0 / func.sum(MonthlyRanking.tasks)  # noqa: E731
    months = defaultdict(list)
    for code, name, month, reported, planned in session.execute(
            select(District.code, District.name, MonthlyRanking.month, weighted(MonthlyRanking.reported_percent),
                   weighted(MonthlyRanking.planned_percent))
            .join(Community, Community.id == MonthlyRanking.community_id).join(Street, Street.id == Community.street_id)
            .join(District, District.id == Street.district_id).where(MonthlyRanking.cycle_id == cycle_id)
            .group_by(District.code, District.name, MonthlyRanking.month).order_by(District.code, MonthlyRanking.month)):
        months[(code, name)].append((month, reported, planned))
    return {code: progress_chart(f"{name}各社区任务进度", points) for (code, name), points in months.items()}


def _averaged(plans) -> dict[int, tuple[float, float, int]]:
    """community_progress from the tasks' status rows."""
    sums = defaultdict(lambda: [0.0, 0.0, 0])
    for plan in plans:
        total = sums[plan.community_id]
        total[0] += plan.actual
        total[1] += plan.planned
        total[2] += 1
    return {community: (done / count, due / count, count) for community, (done, due, count) in sums.items()}


def _at_a_glance(district: District, latest_rank: dict, published: dict, awards: dict, corrected: set,
                 progress: dict[int, tuple[float, float, int]]) -> dict:
    """The index's view of a district: its streets, every community with its latest score and its
    tasks' progress (the district's overall), how many communities have published their
    commitments, and the award's winners."""
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
                every=[dict(community=c, street=street, rank=latest_rank[c.id].rank_in_district if c.id in latest_rank and
                            latest_rank[c.id].month == month else None,
                            score=latest_rank[c.id].score if c.id in latest_rank and latest_rank[c.id].month == month else None,
                            done=round(progress.get(c.id, (0, 0, 0))[0]), due=round(progress.get(c.id, (0, 0, 0))[1]),
                            tasks=progress.get(c.id, (0, 0, 0))[2],
                            rank_key=(latest_rank[c.id].rank_in_district if c.id in latest_rank and latest_rank[c.id].month == month
                                      else 10**9, street.code, c.code)) for street, c in communities],
                done=_weighted(progress, [c.id for _, c in communities], 0), due=_weighted(progress, [c.id for _, c in communities], 1),
                winners=[(a.rank, c, a.award, f"{a.funding_yuan:,}") for a, _, c in winners])


def _weighted(progress: dict, community_ids: list[int], column: int) -> int:
    """The average over every task of these communities (a community's average weighted by its tasks)."""
    total = sum(progress[c][2] for c in community_ids if c in progress)
    return round(sum(progress[c][column] * progress[c][2] for c in community_ids if c in progress) / total) if total else 0


def _publish_open_data(out_dir: Path, year: int, rows: dict[str, list]) -> None:
    """The open data files and data.html, the page describing them."""
    datasets = write_open_data(out_dir / "data", rows)
    _write(page_in(out_dir, "data.html"), "board/data.html", year=year, datasets=datasets)


def _write(path: Path, template: str, **context) -> None:
    replace_file(path, render_page(template, context), public=True)


def _write_pages(pages: list[tuple[Path, str, Callable[[], dict]]], split: bool, also: Callable[[], None] | None) -> None:
    """Render and write each (path, template, context()) page, and do `also` (the open data). With
    split, a large board's `also` and a third of its pages are done by a forked child, which shares
    every row already read and never touches the database. A province's 5,000 community pages and
    150,000 tasks' open data (~5 s) are the monthly run's tail, when the rest is done and the other
    core idles."""
    if not split or len(pages) < SPLIT_PAGES or not hasattr(os, "fork"):
        if also:
            also()
        for path, template, context in pages:
            _write(path, template, **context())
        return
    mine, theirs = pages[::3] + pages[1::3], pages[2::3]  # the child's third comes with the open data
    gc.freeze()  # the rows read stay out of the child's collections, which would copy every page they touch
    child = os.fork()
    if child == 0:  # the child: its pages, then out at once (no clean-up of the parent's connections)
        status = 1
        try:
            if also:
                also()
            for path, template, context in theirs:
                _write(path, template, **context())
            status = 0
        except BaseException:  # noqa: BLE001 - told on stderr; the parent fails the build
            traceback.print_exc()
            sys.stderr.flush()
        finally:
            os._exit(status)
    gc.unfreeze()
    try:
        for path, template, context in mine:
            _write(path, template, **context())
    finally:
        _, status = os.waitpid(child, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"公开栏页面的另一半没有写完（子进程退出码 {os.waitstatus_to_exitcode(status)}）")


SPLIT_PAGES = 1000


def _page(out_dir: Path, name: str) -> Path:
    """A page's file in the board's folder, which build_board has checked once (page_in); a code
    like "../x" can never write elsewhere."""
    if "/" in name or "\\" in name or name in ("", ".", ".."):
        raise UserError(f"公开栏页面名“{name}”含有路径字符，未写入：请检查编码")
    return out_dir / name


def start_board(session: Session, cycle_id: int, year: int, out_dir: Path, community_ids: list[int] | None = None) -> Future:
    """Rebuild the board (or the pages of some communities); the future gives the number of pages.
    A large board (a province: 5,300 pages, several seconds) is built by a worker process on the
    other core while the caller delivers the notices; a small one at once, here."""
    count = len(community_ids) if community_ids is not None else _communities(session)
    if count < LARGE_BOARD:
        return workers.done(build_board(session, cycle_id, year, out_dir, community_ids))
    if community_ids is None:
        return board_ahead(session, cycle_id, year, out_dir).release()
    return workers.submit(_build_in_worker, workers.app_job(cycle_id=cycle_id, year=year, out_dir=str(out_dir),
                                                            community_ids=community_ids))


class BoardAhead(NamedTuple):
    """A whole large board that worker processes prepare (its tasks read and laid out) while the
    caller publishes the month it will show; release() lets them go on, call_off() stops them."""
    pages: Future
    gates: list[workers.Gate]

    def release(self) -> Future:
        for gate in self.gates:
            gate.open()
        return self.pages

    def call_off(self) -> None:
        for gate in self.gates:
            gate.call_off()


def board_ahead(session: Session, cycle_id: int, year: int, out_dir: Path) -> BoardAhead | None:
    """Start preparing the whole board, with its open data, in a worker process (None: a small
    board, built at once when asked)."""
    if _communities(session) < LARGE_BOARD:
        return None
    gate = workers.Gate()
    job = workers.app_job(cycle_id=cycle_id, year=year, out_dir=str(out_dir), community_ids=None)
    return BoardAhead(workers.submit(_build_in_worker, job, gate.receiver), [gate])


def _communities(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Community))


LARGE_BOARD = 500  # communities


def _build_in_worker(job: dict, gate=None) -> int:
    return _in_worker(job, gate, lambda session, ready: build_board(
        session, job["cycle_id"], job["year"], Path(job["out_dir"]), job["community_ids"], ready, split=True))


def _in_worker(job: dict, gate, work) -> int:
    """In a worker process: work(session, ready) on the caller's database and day, ready waiting at
    the gate if one was given; 0 pages when the caller called it off."""
    if gate is not None:
        workers.at_gate(gate)
    if hasattr(os, "nice"):  # the board is not awaited until the end: the charts and emails go first
        os.nice(10)
    with workers.app_context(job), session_scope() as session:
        try:
            return work(session, gate and (lambda: workers.wait_at(gate)))
        except workers.CalledOff:
            return 0
