"""One Prefect flow per stage of the yearly cycle, and `annual_cycle`, which chains them.
Flows only orchestrate: the work is in tasks/, and every stage can be run again safely."""

from datetime import date

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from lianchuang import clock
from lianchuang.errors import log_user_errors_as_reasons
from lianchuang.models.enums import Stage
from lianchuang.tasks import steps
from lianchuang.tasks.outbox.rendering import label
from lianchuang.tasks.summaries import result_lines

log_user_errors_as_reasons()  # wherever a flow runs: the CLI, `serve`, a worker


def _name_who_ran_it(flow, flow_run, state) -> None:
    """A run started from the Prefect UI (one shared password) or a schedule names no person: tag it
    with the login it runs as (a worker's, on PostgreSQL its verified user), as its audit entries do."""
    from prefect.client.orchestration import get_client

    from lianchuang.tasks.cycle import RAN_AS, STARTED_BY, current_actor

    if not any(tag.startswith(STARTED_BY) for tag in flow_run.tags):
        with get_client(sync_client=True) as client:
            client.update_flow_run(flow_run.id, tags=[*flow_run.tags, f"{RAN_AS}{current_actor()}"])


def stage_flow(**options):
    """A stage's flow: a Prefect flow whose runs say who ran them."""
    return flow(on_running=[_name_who_ran_it], **options)


def _report(title: str, summary: dict) -> dict:
    """The run's summary: a markdown artifact keyed by flow (the Artifacts page keeps each key's
    history) and one log line."""
    from prefect.runtime import flow_run

    lines = result_lines(summary)
    table = "\n".join(f"| {label} | {value} |" for label, value in lines)
    create_markdown_artifact(f"### {title}\n\n| 项目 | 数量 |\n|---|---|\n{table}\n", description=title,
                             key=f"{flow_run.flow_name or 'lianchuang'}-summary")
    get_run_logger().info("%s：%s", title, "，".join(f"{label} {value}" for label, value in lines))
    return summary


def _months_run_name() -> str:
    from prefect.runtime import flow_run

    parameters = flow_run.parameters
    title = f"{_scope_label(parameters.get('districts'))}{parameters['year']}年{'、'.join(str(m) for m in parameters['months'])}月排名"
    return title + ("更正" if parameters.get("correction_reason") else "")


def _scope_label(places: list[str] | None) -> str:
    """The districts, streets or communities a run is limited to, to begin its name."""
    return "、".join(places) + " " if places else ""


def _reminders_run_name() -> str:
    from prefect.runtime import flow_run

    parameters = flow_run.parameters
    return f"{_scope_label(parameters.get('communities'))}{parameters.get('year') or clock.today().year} 逾期与报送提醒"


@stage_flow(name="stage-1-opinions", flow_run_name="{year} 征求意见·联席决策")
def opinions_stage(year: int, communities: list[str] | None = None, deadline: date | None = None,
                   meeting_on: date | None = None, meeting_time: str | None = None, meeting_place: str | None = None) -> dict:
    """征求意见·联席决策: solicit, convene (the meeting's day, time and place), give feedback on the meeting's decisions."""
    summary = steps.gather_and_decide(year, communities, deadline, meeting_on, meeting_time, meeting_place)
    _coverage_artifact(year)
    summary |= steps.deliver_notices(year, [Stage.opinions])
    return _report(f"{year} 征求意见·联席决策", summary | steps.publish_board(year, communities))


@stage_flow(name="stage-1-open-opinions", flow_run_name="{year} 发出征求意见")
def open_opinions(year: int, communities: list[str] | None = None, deadline: date | None = None) -> dict:
    """征求意见: send the solicitation to the six kinds of source, with the deadline."""
    summary = steps.solicit(year, communities, deadline)
    return _report(f"{year} 征求意见", summary | steps.deliver_notices(year, [Stage.opinions]))


def _coverage_artifact(year: int) -> None:
    rows = steps.opinion_coverage(year)
    create_table_artifact(key=f"opinions-coverage-{year}", description=f"{year}年各社区意见建议征集情况", table=[
        {"社区": r["community"], "建议数": r["total"], "采纳": r["adopted"], "合并": r["merged"], "不采纳": r["declined"],
         "待议": r["pending"], "未征求到的来源": "、".join(label(k) for k in r["kinds_not_heard"])} for r in rows])


@stage_flow(name="stage-2-division", flow_run_name="{year} 分工负责·设岗定责")
def division_stage(year: int, communities: list[str] | None = None) -> dict:
    """分工负责·设岗定责: propose owners, complete task cards, open posts, notify owners."""
    summary = steps.divide_work(year, communities)
    summary |= steps.deliver_notices(year, [Stage.division])
    return _report(f"{year} 分工负责·设岗定责", summary | steps.publish_board(year, communities))


@stage_flow(name="emergency-posts", flow_run_name="{year} {community} 临时设岗")
def emergency_posts(year: int, community: str, kind: str, capacity: int, situation: str) -> dict:
    """突发事件设岗: open temporary posts mid-year and send the rapid notice at once to the members
    of the community and of the other communities of its street."""
    summary = steps.open_emergency_posts(year, community, kind, capacity, situation)
    summary |= steps.deliver_notices(year, [Stage.division])
    return _report(f"{year} 临时设岗", summary | steps.publish_board(year, [community]))


@stage_flow(name="stage-3-commitments", flow_run_name="{year} 联名公开承诺")
def commitments_stage(year: int, communities: list[str] | None = None) -> dict:
    """联名公开承诺: statements and letters, joint publication on the notice board."""
    summary = steps.commit_publicly(year, communities)
    summary |= steps.deliver_notices(year, [Stage.commitments])
    return _report(f"{year} 联名公开承诺", summary | steps.publish_board(year, communities))


@stage_flow(name="stage-4-monthly-ranking", flow_run_name=_months_run_name)
def monthly_ranking(year: int, months: list[int], send: bool = True, correction_reason: str | None = None,
                    districts: list[str] | None = None, confirm: bool = False) -> dict:
    """分步实施·月度排名: rank communities for each month given (one run may cover several), each
    district on its own (those named, or all); with send, email the ranking to the district, street
    and community coordinators. Without send, nothing is delivered. With a correction reason,
    publish a correction (更正) of each month given of one district, which must be published already.
    A month in which a community reported nothing is refused unless confirmed (`rank --yes`, the form's 照样发布)."""
    steps.start_board_ahead(year)  # a province's board lays out its tasks on the other core while the months are ranked
    try:
        for month in months:
            result = steps.rank_month(year, month, correction_reason, districts, confirm)
            if result["table"]:
                create_table_artifact(key=f"ranking-{year}-{month:02d}", table=result["table"],
                                      description=f"{year}年{month}月社区工作任务进度排名")
            if result.get("integrity"):
                create_table_artifact(key=f"integrity-{year}-{month:02d}", table=result["integrity"],
                                      description=f"{year}年{month}月排名数据核查：名次稳定性与末日跳升（随机抽查见区级排名邮件和公开栏）")
    except BaseException:
        steps.call_off_board_ahead(year)
        raise
    board = steps.publish_board.submit(year)  # and finishes there meanwhile
    summary = {"months": len(months), "ranking_notices": 0}
    if send:
        summary |= steps.queue_ranking_emails(year, months, districts)
        summary |= steps.deliver_notices(year, [Stage.progress])
    return _report(f"{year} 月度排名", summary | board.result())


@stage_flow(name="stage-5-evaluation", flow_run_name="{year} 联合考评")
def evaluation_stage(year: int, close: bool = False, budget: int | None = None, districts: list[str] | None = None) -> dict:
    """联合考评: invite evaluators; with close=True tally and announce the results (公示); with a
    budget as well, award the innovation prize and allocate the funding. Each district closes its
    own (those named, or all). Started from the Prefect UI, closing and allocating first wait for
    the district coordinator's approval."""
    command = "lianchuang evaluate close" + "".join(f" --district {d}" for d in districts or [])
    held = close and _held_in_ui(year, "close", lambda: steps.preview_close(year, districts), command)
    if held:
        return _report(f"{year} 联合考评暂缓", held)
    summary = steps.evaluate_jointly(year, close, districts)
    if close and budget is not None:  # a budget given with close allocates at once: that is its confirmation
        summary |= steps.allocate_funding(year, budget, False, districts, confirm=True)
    summary |= steps.deliver_notices(year, [Stage.evaluation])
    return _report(f"{year} 联合考评", summary | steps.publish_board(year))


@stage_flow(name="stage-5-award", flow_run_name="{year} 创新奖与经费")
def award_stage(year: int, budget: int, redo: bool = False, districts: list[str] | None = None, confirm: bool = False) -> dict:
    """创新奖与经费: rank a district's communities on the year and allocate its budget to the yuan
    (each district its own; from the Prefect UI: after the district coordinator approves the preview).
    Refused during the objection period or with objections unanswered unless confirmed (`award --yes`,
    the form's 照样分配)."""
    command = f"lianchuang award --budget {budget}" + (" --redo" if redo else "") + " --yes" * confirm + "".join(
        f" --district {d}" for d in districts or [])
    held = _held_in_ui(year, "award", lambda: steps.preview_award(year, budget, redo, districts, confirm), command)
    if held:
        return _report(f"{year} 创新奖与经费暂缓", held)
    summary = steps.allocate_funding(year, budget, redo, districts, confirm) | steps.deliver_notices(year, [Stage.evaluation])
    return _report(f"{year} 创新奖与经费", summary | steps.publish_board(year))


APPROVAL_TITLES = {"close": "{year}年度联合考评的计票与结果公示", "award": "{year}年度创新奖评定和经费分配"}


def _held_in_ui(year: int, step: str, preview_step, command: str) -> dict | None:
    """None when the step may go on: run by a CLI command, nothing new to do (an empty preview), or
    approved in the Prefect UI. Held, the district coordinators hear why; returns that summary."""
    from lianchuang.flows.approval import decide, started_from_ui

    if not started_from_ui():
        return None
    preview = preview_step()["table"]
    if not preview:
        return None
    what, key = APPROVAL_TITLES[step].format(year=year), f"{step}-preview-{year}"
    create_table_artifact(key=key, table=preview, description=f"{what}预览（未发布）")
    approved, reason = decide(what, key)
    if approved:
        return None
    return steps.hold_decision(year, step, reason, command) | steps.deliver_notices(year, [Stage.evaluation])


@stage_flow(name="progress-reminders", flow_run_name=_reminders_run_name)
def progress_reminders(year: int | None = None, through_month: int | None = None, communities: list[str] | None = None) -> dict:
    """逾期提醒与进度报送提醒: one letter a week to each owner of tasks behind their steps due by the last finished month
    and ask liaisons to report this month's progress, in the communities, streets or districts named
    (or everywhere). Defaults to the clock's current year."""
    today = clock.today()
    year = year or today.year
    through_month = through_month if through_month is not None else (today.month - 1 if today.year == year else 12)
    return _report(f"{year} 提醒", steps.remind(year, through_month, communities) | steps.deliver_notices(year, [Stage.progress]))


def _scheduled_run_name() -> str:
    from prefect.runtime import flow_run

    parameters = flow_run.parameters
    year, month, scope = parameters.get("year"), parameters.get("month"), _scope_label(parameters.get("districts"))
    if not (year and month):  # started without parameters: the month it will rank, as it decides it
        year, month = clock.last_finished_month()
    return scope + f"{year}年{month}月排名（待审核）"


@stage_flow(name="scheduled-monthly-ranking", flow_run_name=_scheduled_run_name)
def scheduled_monthly_ranking(year: int | None = None, month: int | None = None, districts: list[str] | None = None) -> dict:
    """月度排名（审核后发布）: by default the last finished month, once its reporting deadline has
    passed. Shows the preview (table artifact, communities with no report) and waits in the Prefect
    UI for the district coordinator's decision, unless LIANCHUANG_AUTO_APPROVE is set: approved, it
    publishes and emails the ranking; held, it tells the district coordinators why. With districts,
    only theirs (a province deploys one such schedule per district)."""
    from lianchuang.flows.approval import decide

    if year is None or month is None:
        year, month = clock.last_finished_month()
        if month not in clock.reported_months(year):
            get_run_logger().warning("%d年%d月的进度报送截止日 %s 还没有过，暂不排名", year, month,
                                     clock.reporting_deadline(year, month))
            return {"months": 0}
    preview = steps.preview_month(year, month, districts)
    if preview["published"]:
        get_run_logger().info("%d年%d月的排名已经发布，不再重复发布（更正请用 lianchuang rank --correct）", year, month)
        return {"months": 0}
    create_table_artifact(key=f"ranking-preview-{year}-{month:02d}", table=preview["table"],
                          description=f"{year}年{month}月排名预览（未发布）；没有报告进度的社区：{'、'.join(preview['missing']) or '无'}")
    approved, reason = decide(f"{year}年{month}月排名", f"ranking-preview-{year}-{month:02d}",
                              f"没有报告进度的社区：{'、'.join(preview['missing']) or '无'}。")
    if not approved:
        return _report(f"{year}年{month}月排名暂缓发布", steps.hold_ranking(year, month, reason, districts)
                       | steps.deliver_notices(year, [Stage.progress]))
    # approved with the communities that reported nothing shown in the preview: that is the confirmation
    return monthly_ranking(year, [month], send=True, districts=districts, confirm=True)


@stage_flow(name="board", flow_run_name="{year} 公开栏")
def board_stage(year: int) -> dict:
    """公开栏: rebuild the whole notice board of the year and its open data."""
    return _report(f"{year} 公开栏", steps.publish_board(year))


@stage_flow(name="deliver-outbox", flow_run_name="发送通知")
def deliver_outbox(retry_failed: bool = False) -> dict:
    """发送通知: deliver what is queued, by SMTP when configured, else to the Maildir."""
    return _report("发送通知", steps.flush_outbox(retry_failed))


@stage_flow(name="annual-cycle", flow_run_name="{year} 全年推进")
def annual_cycle(year: int, close_evaluation: bool = False, budget: int | None = None) -> dict:
    """Push every stage of the year as far as its inputs allow, up to today."""
    today = clock.today()
    results = dict(opinions=opinions_stage(year), division=division_stage(year), commitments=commitments_stage(year))
    finished_months = clock.reported_months(year)  # not before the reporting deadline: no ranking without data
    if finished_months:
        results["progress"] = monthly_ranking(year, finished_months, confirm=True)  # what came in by the deadline
    if today >= date(year, 12, 1):
        results["evaluation"] = evaluation_stage(year, close_evaluation, budget)
    return results
