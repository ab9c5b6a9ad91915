"""Prefect tasks: each runs one step of a stage for the whole scope (district or a list of
communities) in one transaction, calling the plain rule functions of the stage modules."""

from collections import Counter
from datetime import date, timedelta

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select

from lianchuang import clock
from lianchuang.models import Community, Cycle, Task
from lianchuang.models.db import preview_scope, session_scope
from lianchuang.models.enums import Stage, StageStatus
from lianchuang.settings import get_settings
from lianchuang.tasks.access import district_coordinators_only
from lianchuang.tasks.board import BoardAhead, board_ahead, start_board
from lianchuang.tasks.commitments import rules as commitments
from lianchuang.tasks.cycle import (
    audit,
    communities_in_scope,
    districts_in_scope,
    ensure_cycle,
    existing_cycle,
    one_district,
    set_stage,
)
from lianchuang.tasks.division import assignment, cards as division, notices as division_notices
from lianchuang.tasks.evaluation import award, ballots as evaluation, notices as evaluation_notices, tally as evaluation_tally
from lianchuang.tasks.opinions import fulfilment, notices as opinion_notices, rules as opinions
from lianchuang.tasks.org import resolve_one
from lianchuang.tasks.outbox import chats, delivery, drafts as outbox, print_pages
from lianchuang.tasks.progress import integrity, notices as progress_notices, ranking as progress
from lianchuang.tasks.progress.use_cases import named_by_district, publish_month

stage_task = task(cache_policy=NO_CACHE)  # every step writes to the database: never serve it from a cache


@stage_task
def gather_and_decide(year: int, community_codes: list[str] | None, deadline: date | None, meeting_on: date | None = None,
                      meeting_time: str | None = None, meeting_place: str | None = None) -> dict:
    """Solicit every party of the six source kinds; call a joint meeting where suggestions wait (on
    the day, time and place given; by default in a week, at the settings' time and place); send
    feedback on decided ones; a community is done when none is pending."""
    today = clock.today()
    with session_scope() as session:
        cycle = ensure_cycle(session, year)
        ids = [c.id for c in communities_in_scope(session, community_codes)]
        solicited = _solicit(session, year, ids, deadline)
        undecided = opinions.undecided_communities(session, cycle.id, ids)
        meetings = outbox.queue(session, opinion_notices.meeting_drafts(session, year, sorted(undecided),
                                                                        meeting_on or today + timedelta(days=7),
                                                                        meeting_time or "", meeting_place or ""))
        feedback = outbox.queue(session, opinion_notices.feedback_drafts(session, year, cycle.id, ids))
        set_stage(session, cycle, undecided, Stage.opinions, StageStatus.in_progress)
        set_stage(session, cycle, set(ids) - undecided, Stage.opinions, StageStatus.done)
        audit(session, "run", "stage:opinions", year=year, communities=len(ids))
        return solicited | dict(meeting_notices=meetings, feedback=feedback,
                                communities_decided=len(ids) - len(undecided), communities=len(ids))


@stage_task
def solicit(year: int, community_codes: list[str] | None, deadline: date | None) -> dict:
    """Send the solicitation to every party of the six source kinds (once each)."""
    with session_scope() as session:
        cycle = ensure_cycle(session, year)
        ids = [c.id for c in communities_in_scope(session, community_codes)]
        solicited = _solicit(session, year, ids, deadline)
        set_stage(session, cycle, ids, Stage.opinions, StageStatus.in_progress)
        audit(session, "run", "stage:opinions:solicit", year=year, communities=len(ids))
        return solicited | dict(communities=len(ids))


def _solicit(session, year: int, community_ids: list[int], deadline: date | None) -> dict:
    """The solicitation to everyone who speaks for a source kind, and the public call to post."""
    deadline = deadline or clock.today() + timedelta(days=21)
    return dict(solicitations=outbox.queue(session, opinion_notices.solicitation_drafts(session, year, community_ids, deadline)),
                public_calls=opinion_notices.write_public_calls(session, year, community_ids, deadline))


@stage_task
def opinion_coverage(year: int) -> list[dict]:
    from lianchuang.tasks.opinions.sheets import coverage

    with session_scope() as session:
        return coverage(session, existing_cycle(session, year).id)


@stage_task
def divide_work(year: int, community_codes: list[str] | None) -> dict:
    """Propose lead units, complete task cards, open posts, tell the owners."""
    today = clock.today()
    with session_scope() as session:
        cycle = existing_cycle(session, year, lock=True)
        ids = [c.id for c in communities_in_scope(session, community_codes)]
        proposals, _ = assignment.propose(session, cycle.id, ids)
        assignment.apply(session, proposals)
        completed = division.complete_task_cards(session, year, cycle.id, ids)
        posts = division.open_posts(session, cycle.id, ids, today)
        notices = outbox.queue(session, division_notices.assignment_drafts(session, year, cycle.id, ids))
        incomplete = division.incomplete_tasks(session, cycle.id, ids)
        with_tasks = set(session.scalars(select(Task.community_id).where(Task.cycle_id == cycle.id, Task.community_id.in_(ids))))
        set_stage(session, cycle, with_tasks - set(incomplete), Stage.division, StageStatus.done)
        set_stage(session, cycle, set(incomplete), Stage.division, StageStatus.in_progress)
        audit(session, "run", "stage:division", year=year, proposals=len(proposals))
        return dict(tasks_assigned=len(proposals), cards_completed=completed, posts_opened=posts,
                    assignment_notices=notices, incomplete_tasks=sum(map(len, incomplete.values())))


@stage_task
def open_emergency_posts(year: int, community_code: str, kind: str, capacity: int, situation: str) -> dict:
    """Open a temporary post and queue the rapid notice to the community and its neighbours."""
    from lianchuang.tasks.division.posts import callout_chat_messages, open_emergency, write_callout_page

    with session_scope() as session:
        cycle = ensure_cycle(session, year)
        community = resolve_one(session, Community, community_code)
        capacity, drafts = open_emergency(session, year, cycle.id, community, kind, capacity, situation, clock.today())
        notices = outbox.queue(session, drafts)
        chats.queue(session, callout_chat_messages(session, year, community, kind, capacity, situation, clock.today()))
        to_call, page = write_callout_page(session, year, community, drafts)
        audit(session, "open", "post:emergency", year=year, community=community.code, kind=kind, capacity=capacity)
        return dict(emergency_places=capacity, emergency_notices=notices, to_call=to_call,
                    callout_page=str(page) if page else "")


@stage_task
def commit_publicly(year: int, community_codes: list[str] | None) -> dict:
    """Prepare statements and letters; publish jointly where all are signed and every card complete."""
    today = clock.today()
    with session_scope() as session:
        cycle = existing_cycle(session, year, lock=True)
        ids = [c.id for c in communities_in_scope(session, community_codes)]
        prepared = commitments.prepare_commitments(session, year, cycle.id, ids)
        incomplete = division.incomplete_tasks(session, cycle.id, ids)
        ready = commitments.publishable_communities(session, cycle.id, ids, incomplete)
        notices = outbox.queue(session, commitments.publish(session, year, cycle.id, ready, today))
        set_stage(session, cycle, ids, Stage.commitments, StageStatus.in_progress)
        set_stage(session, cycle, ready, Stage.commitments, StageStatus.done)
        audit(session, "run", "stage:commitments", year=year, published=len(ready))
        return dict(commitments_prepared=prepared, communities_published=len(ready), commitment_notices=notices,
                    blocked_by_incomplete_cards=len(incomplete))


@stage_task
def rank_month(year: int, month: int, correction_reason: str | None = None, districts: list[str] | None = None,
               confirm: bool = False) -> dict:
    """`rank` and the ranking deployment alike: the service holds every check (see publish_month).
    With a month published, the residents whose suggestion became a task now complete hear it (a
    stage-1 notice, queued here so that stage 4 knows nothing of stage 1; sent with the ranking)."""
    result = publish_month(year, month, correction_reason, districts, confirm)
    if "community_ids" in result:
        with session_scope() as session:
            cycle_id = existing_cycle(session, year).id
            outbox.queue(session, fulfilment.completed_drafts(session, year, cycle_id, month, result.pop("community_ids")))
    return result


@stage_task
def preview_month(year: int, month: int, districts: list[str] | None = None) -> dict:
    """The month's ranking of the districts in scope not yet published, as it would be published,
    without publishing it (for approval)."""
    with session_scope() as session:
        cycle_id = existing_cycle(session, year).id
        waiting = [d for d in districts_in_scope(session, districts)
                   if month not in progress.published_months(session, cycle_id, d.id)]
        if not waiting:
            return dict(published=True, table=[], missing=[])
        names = dict(session.execute(select(Community.id, Community.name)).all())
        table, missing = [], []
        for district in waiting:
            scores = progress.ranked_scores(session, cycle_id, year, month, district.id)
            table += [named_by_district(len(waiting), district.name) | {
                "全区名次": s["rank_in_district"], "社区": names[s["community_id"]], "得分": s["score"],
                "逾期任务": s["overdue_tasks"]} for s in sorted(scores, key=lambda s: s["rank_in_district"])]
            missing += progress.communities_without_reports(session, cycle_id, month, district.id)
        return dict(published=False, table=table, missing=missing)


@stage_task
def hold_ranking(year: int, month: int, reason: str, districts: list[str] | None = None) -> dict:
    """The district coordinator held the month: nothing is published; the district's coordinators hear why."""
    with session_scope() as session:
        existing_cycle(session, year, lock=True)
        chosen = districts_in_scope(session, districts)
        audit(session, "hold", "stage:progress", year=year, month=month, reason=reason, districts=[d.code for d in chosen])
        drafts = progress_notices.held_drafts(session, year, month, reason, [d.id for d in chosen])
        return dict(hold_notices=outbox.queue(session, drafts))


@stage_task
def remind(year: int, through_month: int, communities: list[str] | None = None) -> dict:
    """The week's overdue letter to each owner (of the communities in scope) of tasks behind their
    steps due by the end of `through_month` (one letter a week per person, listing them all), and the
    request to report the next month's progress."""
    with session_scope() as session:
        cycle = existing_cycle(session, year, lock=True)
        ids = [c.id for c in communities_in_scope(session, communities)] if communities else None
        week = "{}-W{:02d}".format(*clock.today().isocalendar()[:2])
        overdue = outbox.queue(session, progress_notices.overdue_drafts(session, year, cycle.id, through_month, ids, week))
        requests = outbox.queue(session, progress_notices.reminder_drafts(session, year, cycle.id, through_month + 1, ids))
        chats.queue(session, progress_notices.overdue_chat_messages(session, year, cycle.id, through_month, ids))
        return dict(overdue_reminders=overdue, progress_reminders=requests)


@stage_task
def evaluate_jointly(year: int, close: bool, districts: list[str] | None = None) -> dict:
    """Open the evaluation (invitations with one-time codes) in the districts in scope (all: None)
    whose evaluation is open; with close, tally and announce each one's results with its objection
    deadline. Each district closes its own."""
    today = clock.today()
    with session_scope() as session:
        district_coordinators_only(session, "开启和结束年终考评")
        cycle = existing_cycle(session, year, lock=True)
        summary = Counter()
        for district in districts_in_scope(session, districts):
            ids = [c.id for c in communities_in_scope(session, [district.code])]
            if not evaluation.closed_on(session, cycle.id, district.id):
                summary["invitations"] += outbox.queue(session, evaluation.open_evaluation(
                    session, year, cycle.id, ids, today + timedelta(days=10)))
            set_stage(session, cycle, ids, Stage.evaluation, StageStatus.in_progress)
            if close:
                summary["tasks_rated"] += evaluation_tally.close(session, cycle.id, today, district.id)
                summary["result_notices"] += outbox.queue(session, evaluation_notices.result_drafts(
                    session, year, cycle.id, district.id))
                chats.queue(session, evaluation_notices.results_chat_messages(session, year, cycle.id, district.id))
                summary["fulfilment_notices"] += outbox.queue(session, fulfilment.year_end_drafts(session, year, cycle.id, ids))
                summary["progress_ahead_of_grades"] += len(integrity.record_year_audit(session, cycle.id, year, district.id)["ahead"])
        audit(session, "run", "stage:evaluation", year=year, close=close, districts=districts)
        return dict(summary)


@stage_task
def preview_close(year: int, districts: list[str] | None = None) -> dict:
    """What closing the evaluation would announce in the districts in scope still open, per
    community (tallied, then rolled back), for the district coordinator's approval."""
    from sqlalchemy import func

    from lianchuang.models import EvaluationResult

    with preview_scope() as session:
        cycle_id = existing_cycle(session, year, lock=True).id
        still_open = [d for d in districts_in_scope(session, districts) if not evaluation.closed_on(session, cycle_id, d.id)]
        if not still_open:
            return dict(closed=True, table=[])
        for district in still_open:
            evaluation_tally.close(session, cycle_id, clock.today(), district.id)
        communities = [c.id for c in communities_in_scope(session, [d.code for d in still_open])]
        rows = session.execute(
            select(Community.name, func.count(EvaluationResult.score), func.count() - func.count(EvaluationResult.score),
                   func.avg(EvaluationResult.score), func.sum(EvaluationResult.ballots))
            .join(Task, Task.community_id == Community.id).join(EvaluationResult, EvaluationResult.task_id == Task.id)
            .where(EvaluationResult.cycle_id == cycle_id, Community.id.in_(communities))
            .group_by(Community.id, Community.name).order_by(Community.code))
        return dict(closed=False, table=[{"社区": name, "评出得分的任务": rated, "票数不足的任务": unrated,
                                          "平均分": round(float(mean), 1) if mean is not None else "—", "选票": ballots or 0}
                                         for name, rated, unrated, mean, ballots in rows])


@stage_task
def preview_award(year: int, budget: int, redo: bool, districts: list[str] | None = None, confirm: bool = False) -> dict:
    """The award and allocation the budget would give the district (computed, then rolled back), for
    approval; refused, before anyone is asked, where allocating would be."""
    with preview_scope() as session:
        cycle_id = existing_cycle(session, year, lock=True).id
        district_id = one_district(session, districts, award.AWARD_BY_DISTRICT).id
        if award.check_allocation(session, cycle_id, budget, redo, district_id, confirm) is not None and not redo:
            return dict(allocated=True, table=[])
        names = dict(session.execute(select(Community.id, Community.name)).all())
        rows = sorted(award.award(session, cycle_id, budget, redo, district_id), key=lambda r: (r["rank"], names[r["community_id"]]))
        return dict(allocated=False, table=[{"名次": r["rank"], "社区": names[r["community_id"]], "综合得分": r["year_score"],
                                             "奖项": r["award"] or "—", "经费（元）": r["funding_yuan"]} for r in rows])


@stage_task
def hold_decision(year: int, step: str, reason: str, command: str) -> dict:
    """The district coordinator held a step started from the Prefect UI: nothing was done; the
    district coordinators hear what, why and how to do it later."""
    with session_scope() as session:
        audit(session, "hold", "stage:evaluation", year=year, step=step, reason=reason)
        drafts = outbox.to_district_coordinators(session, year, Stage.evaluation, "decision_held",
                                                 period=f"{step}-{clock.now():%m%d%H%M%S}",  # each hold is news
                                                 context=dict(year=year, step=step, reason=reason or "—", command=command))
        return dict(hold_notices=outbox.queue(session, drafts))


@stage_task
def allocate_funding(year: int, budget: int, redo: bool, districts: list[str] | None = None, confirm: bool = False) -> dict:
    """Rank the district's communities on the year, allocate its budget, notify each community (once
    per budget); refused as `award` refuses (award.check_allocation), unless confirmed."""
    with session_scope() as session:
        district_coordinators_only(session, "评定创新奖和分配经费")
        cycle = existing_cycle(session, year, lock=True)
        district = one_district(session, districts, award.AWARD_BY_DISTRICT)
        award.check_allocation(session, cycle.id, budget, redo, district.id, confirm)
        awards = award.award(session, cycle.id, budget, redo, district.id)
        notices = outbox.queue(session, evaluation_notices.award_drafts(session, year, cycle.id, district.id))
        set_stage(session, cycle, [a["community_id"] for a in awards], Stage.evaluation, StageStatus.done)
        audit(session, "run", "stage:award", year=year, budget=budget, redo=redo, district=district.code)
        return dict(communities_awarded=sum(1 for a in awards if a.get("award")),
                    funding_allocated=sum(a["funding_yuan"] for a in awards), award_notices=notices)


@stage_task
def flush_outbox(retry_failed: bool) -> dict:
    """Deliver everything queued (after putting failed notices back in the queue, with retry_failed)."""
    requeued = 0
    if retry_failed:
        with session_scope() as session:
            requeued = delivery.requeue_failed(session)
    report = delivery.deliver_all()
    if report.errors:
        get_run_logger().warning("发送问题（%d 条）：%s", len(report.errors), "；".join(report.errors[:5]))
    return dict(requeued=requeued, delivered=report.delivered, failed=report.failed, deferred=report.deferred) | _deliver_chats()


def _deliver_chats() -> dict:
    """The group chat messages queued (they are few: a ranking, a call-out), after the emails."""
    report = chats.deliver_pending()
    if report.errors:
        get_run_logger().warning("群消息问题（%d 条）：%s", len(report.errors), "；".join(report.errors[:5]))
    return dict(chat_sent=report.delivered, chat_failed=report.failed, chat_deferred=report.deferred)


@stage_task
def queue_ranking_emails(year: int, months: list[int], districts: list[str] | None = None) -> dict:
    """Queue the published months' rankings of the districts in scope to their district, street and
    community coordinators (once each), with their charts."""
    queued = 0
    for month in months:
        with session_scope() as session:
            cycle_id = existing_cycle(session, year, lock=True).id
            drafts, with_chats = [], chats.any_channel(session)
            overdue = progress.overdue_lists(session, cycle_id, year, month)  # every district's, in one query
            for district in districts_in_scope(session, districts):
                drafts += progress_notices.ranking_drafts(session, year, cycle_id, month, district.id, overdue=overdue)
                if with_chats:
                    chats.queue(session, progress_notices.ranking_chat_messages(session, year, cycle_id, month, district.id))
            queued += outbox.queue(session, drafts)
    return dict(ranking_notices=queued)


@stage_task
def deliver_notices(year: int, stages: list[str]) -> dict:
    """Deliver the year's queued notices of these stages (by SMTP or to the Maildir), and write the
    print pages for people without email."""
    report = delivery.deliver_all(year, tuple(stages))
    with session_scope() as session:
        printed = print_pages.write_print_batches(session, year)
    if report.errors:
        get_run_logger().warning("发送问题（%d 条）：%s", len(report.errors), "；".join(report.errors[:5]))
    return dict(delivered=report.delivered, failed=report.failed, deferred=report.deferred, to_print=printed) | _deliver_chats()


@stage_task
def publish_board(year: int, community_codes: list[str] | None = None) -> dict:
    """Rebuild the notice board's pages of these communities (all when none are named); a large
    board is built by a worker process while the flow goes on (started ahead by start_board_ahead)."""
    ahead = None if community_codes else _BOARDS_AHEAD.pop(year, None)
    if ahead is not None:
        return dict(board_pages=ahead.release().result())
    with session_scope() as session:
        cycle_id = existing_cycle(session, year).id
        ids = [c.id for c in communities_in_scope(session, community_codes)] if community_codes else None
        pages = start_board(session, cycle_id, year, get_settings().board_dir / str(year), ids)
    return dict(board_pages=pages.result())


_BOARDS_AHEAD: dict[int, BoardAhead] = {}  # by year: the flow that started one releases it (publish_board) or calls it off


def start_board_ahead(year: int) -> None:
    """Before a flow publishes a month: a large board's worker processes read and lay out its tasks
    on the other core meanwhile, and wait for publish_board (a province: a third of the board's work)."""
    with session_scope() as session:
        cycle = session.scalar(select(Cycle).where(Cycle.year == year))
        ahead = cycle and board_ahead(session, cycle.id, year, get_settings().board_dir / str(year))
    if ahead:
        _BOARDS_AHEAD[year] = ahead


def call_off_board_ahead(year: int) -> None:
    """The flow ends without publishing the board it started ahead (a refused month): stop its workers."""
    if (ahead := _BOARDS_AHEAD.pop(year, None)) is not None:
        ahead.call_off()
