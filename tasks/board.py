"""The public notice board (公开栏): a static, offline site with an index and a page per community.
It shows names of units and post holders but never a contact detail."""

from collections import defaultdict
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianchuang import clock
from lianchuang.models import (Commitment, Community, District, EvaluationResult, MonthlyRanking, Person, Post,
                               PostClaim, PostKind, ProgressReport, Street, Task, Unit)
from lianchuang.tasks.rendering import render_page


def build_board(session: Session, cycle_id: int, year: int, out_dir: Path) -> int:
    """Write index.html and one page per community into out_dir; returns the number of pages."""
    out_dir.mkdir(parents=True, exist_ok=True)
    districts = session.scalars(select(District).order_by(District.code)).all()
    latest = (select(ProgressReport.task_id, func.max(ProgressReport.percent).label("percent"))
              .group_by(ProgressReport.task_id).subquery())
    tasks = defaultdict(list)
    for task, lead, percent in session.execute(
            select(Task, Unit.name, latest.c.percent).outerjoin(Unit, Task.lead_unit_id == Unit.id)
            .outerjoin(latest, latest.c.task_id == Task.id).where(Task.cycle_id == cycle_id).order_by(Task.code)):
        tasks[task.community_id].append(dict(code=task.code, category=task.category, title=task.title, lead=lead,
                                             goal=task.goal, deadline=task.deadline, percent=percent or 0))
    posts = defaultdict(dict)
    for community_id, post_id, kind, temporary, holder in session.execute(
            select(Post.community_id, Post.id, PostKind.name, Post.temporary, Person.name)
            .join(PostKind, Post.post_kind_id == PostKind.id).outerjoin(PostClaim, PostClaim.post_id == Post.id)
            .outerjoin(Person, PostClaim.person_id == Person.id).where(Post.cycle_id == cycle_id)
            .order_by(Post.id, Person.code)):
        entry = posts[community_id].setdefault(post_id, dict(name=kind, temporary=temporary, holders=[]))
        if holder:
            entry["holders"].append(holder)
    commitments = defaultdict(list)
    published = {}
    for community_id, unit_name, person_name, published_on in session.execute(
            select(Commitment.community_id, Unit.name, Person.name, Commitment.published_on)
            .outerjoin(Unit, Commitment.unit_id == Unit.id).outerjoin(Person, Commitment.person_id == Person.id)
            .where(Commitment.cycle_id == cycle_id, Commitment.published_on.is_not(None)).order_by(Commitment.holder_key)):
        commitments[community_id].append(unit_name or person_name)
        published[community_id] = published_on
    rankings = defaultdict(list)
    for ranking in session.scalars(select(MonthlyRanking).where(MonthlyRanking.cycle_id == cycle_id).order_by(MonthlyRanking.month)):
        rankings[ranking.community_id].append(ranking)
    results = defaultdict(list)
    for task, result in session.execute(select(Task, EvaluationResult).join(EvaluationResult, EvaluationResult.task_id == Task.id)
                                        .where(Task.cycle_id == cycle_id).order_by(Task.code)):
        results[task.community_id].append(dict(code=task.code, title=task.title, ballots=result.ballots, score=result.score))
    today = clock.today()
    (out_dir / "index.html").write_text(render_page("board/index.html", dict(year=year, districts=districts)),
                                        encoding="utf-8")
    pages = 1
    for district in districts:
        for street in district.streets:
            for community in street.communities:
                page = render_page("board/community.html", dict(
                    year=year, community=community, street=street.name, tasks=tasks[community.id],
                    posts=list(posts[community.id].values()), commitments=commitments[community.id],
                    commitments_published=published.get(community.id), rankings=rankings[community.id],
                    results=results[community.id]))
                (out_dir / f"{community.code}.html").write_text(page, encoding="utf-8")
                pages += 1
    return pages
