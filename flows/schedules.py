"""The deployments `lianchuang serve` registers: every stage, startable from the Prefect UI with a
form in Chinese; the monthly ranking at 08:00 Beijing time on the day after the reporting deadline
(the 6th by default) for the previous month, which waits for approval; a weekly reminder on
Mondays at 08:00. Schedules need a real Prefect server: PREFECT_API_URL, else the data folder's own (flows/local_server)."""

import os

from lianchuang.errors import UserError

TIMEZONE = "Asia/Shanghai"
def monthly_cron() -> str:
    from lianchuang.settings import get_settings

    return f"0 8 {get_settings().reporting_deadline_day + 1} * *"


WEEKLY = "0 8 * * 1"


def prefect_server_url() -> str:
    """The API URL of a reachable Prefect server: PREFECT_API_URL when set (a province's shared
    server), else the data folder's own server, started in the background if need be."""
    from lianchuang.flows.local_server import ensure_running, healthy

    url = os.environ.get("PREFECT_API_URL", "")
    if not url:
        return ensure_running().url
    if not healthy(url, timeout=5):
        raise UserError(f"连不上 Prefect 服务器 {url}：请检查 PREFECT_API_URL，或取消这个设置以使用本机数据文件夹里的服务器")
    return url


# The run form's labels: Prefect titles every parameter with its Python name, so the Chinese title
# and help (the CLI's) are set on each deployment's parameter schema here, in one place.
PARAMETERS = {
    "year": ("年度", "如 2027；留空为今年（评议和创新奖：正在考评的年度）"),
    "month": ("月份", "1–12；年度和月份都留空：上个月（进度报送截止日之后）"),
    "months": ("月份", "要排名的月份，如 [3]；已发布的月份不会改变"),
    "districts": ("区", "区的编码或名称的列表；留空为全部区（各区分别发布、评选）"),
    "communities": ("社区、街道或区", "社区、街道或区的编码或名称的列表（街道、区代表其下全部社区）；留空为全部社区"),
    "deadline": ("截止日期", "征求意见的截止日期，如 2027-01-31；留空为两周后"),
    "send": ("发送邮件", "同时给区、街道、社区联络人发送排名邮件"),
    "correction_reason": ("更正原因", "只在更正已发布的月份时填写；原因会公示"),
    "confirm": ("照样发布", "有社区没有报告进度也照样发布（发布后排名不会自动改变）；同命令行的 --yes"),
    "meeting_on": ("联席会议日期", "有待议建议的社区召开联席会议的日期，如 2027-02-17；留空为一周后"),
    "meeting_time": ("联席会议时间", "如 14:30；留空用设置里的时间"),
    "meeting_place": ("联席会议地点", "如 江滨社区党群服务中心二楼；写 {community} 代表各社区名称；留空用设置里的地点"),
    "close": ("结束评议", "计票并公示结果，开始异议期"),
    "budget": ("经费总额（元）", "党建工作经费总额，如 500000"),
    "redo": ("重新分配", "按新的经费总额重新分配"),
    "through_month": ("提醒截至月份", "提醒截至该月的逾期节点；留空为上个月"),
    "retry_failed": ("重发失败的通知", "把发送失败的通知放回队列再发"),
    "resource": ("运行", "出问题的运行（由自动化填写）"),
    "happened": ("发生了什么", "失败、中断或没有开始（由自动化填写）"),
}


# A parameter whose meaning is the flow's own (a confirmation confirms something different per stage).
FLOW_PARAMETERS = {
    "stage-5-award": {"confirm": ("照样分配", "公示期内、或还有未答复的异议时也现在就评选和分配；同命令行的 --yes")},
}


# What a field accepts, in JSON Schema (the server refuses a run whose parameters break it, so a
# month of 13 never reaches a flow): put on the field's number, or on a list's items.
MONTH = {"minimum": 1, "maximum": 12}
BOUNDS = {"year": {"minimum": 2000, "maximum": 2100}, "month": MONTH, "through_month": MONTH,
          "months": {"items": {"type": "integer", **MONTH}, "minItems": 1}, "budget": {"minimum": 0}}


STAGE_TAGS = {  # the Prefect UI filters runs by tag: a stage of the year, or the operations
    "stage-1-open-opinions": "stage-1", "stage-1-opinions": "stage-1", "stage-2-division": "stage-2",
    "stage-3-commitments": "stage-3", "stage-4-monthly-ranking": "stage-4", "scheduled-monthly-ranking": "stage-4",
    "progress-reminders": "stage-4", "stage-5-evaluation": "stage-5", "stage-5-award": "stage-5",
}


# Runs of these deployments wait for the one before to end (Prefect's deployment concurrency limit):
# two rankings of one district at once would compute the same month twice.
ONE_AT_A_TIME = {"stage-4-monthly-ranking": 1, "scheduled-monthly-ranking": 1, "stage-5-award": 1, "stage-5-evaluation": 1}


def titled(deployment):
    """The deployment with Chinese titles, help and bounds on its run form."""
    own = FLOW_PARAMETERS.get(deployment.flow_name, {})
    for name, field in deployment._parameter_openapi_schema.properties.items():
        if name in own or name in PARAMETERS:
            field["title"], field["description"] = own.get(name) or PARAMETERS[name]
        if name in BOUNDS:
            _bound(field, BOUNDS[name])
    return deployment


def _bound(field: dict, bounds: dict) -> None:
    """Add the bounds to the field's schema, or to its non-null branch (an optional field is anyOf)."""
    for branch in field.get("anyOf", [field]):
        if branch.get("type") in ("integer", "array"):
            if "items" in bounds and branch.get("type") == "array":
                branch["items"] = {**branch.get("items", {}), **bounds["items"]}
                branch.update({k: v for k, v in bounds.items() if k != "items"})
            elif "items" not in bounds:
                branch.update(bounds)


def deployments(district: str | None = None, **options):
    """Every stage, startable from the Prefect UI, and the two schedules (options: to_deployment's).
    With a district's code, the stages and schedules are that district's: named with its code and
    kept to it, so the districts of a province run their years on their own calendars (the outbox
    and the board, shared, keep their plain names)."""
    from datetime import timedelta

    from prefect.schedules import Cron

    from lianchuang.flows import stages
    from lianchuang.flows.alerts import alert_triggers, stage_alert
    from lianchuang.settings import get_settings

    scheduled = [
        (stages.scheduled_monthly_ranking, "monthly-ranking", Cron(monthly_cron(), timezone=TIMEZONE),
         "每月进度报送截止日的次日8:00：预览上月排名，区级联络人在界面上批准后发布并发送（也可手动运行，选定年度和月份）"),
        (stages.progress_reminders, "weekly-reminders", Cron(WEEKLY, timezone=TIMEZONE), "每周一8:00：节点逾期提醒与本月进度报送提醒"),
    ]
    on_demand = [
        (stages.open_opinions, "opinions-open", "阶段一：向六类来源发出征求意见通知，生成公开栏征求意见公告"),
        (stages.opinions_stage, "opinions", "阶段一：征求意见、召集联席会议、反馈审议结果"),
        (stages.division_stage, "division", "阶段二：推荐分工、完善任务卡、设岗、通知责任单位"),
        (stages.commitments_stage, "commitments", "阶段三：生成责任状和承诺书，签齐的社区联名公开承诺"),
        (stages.monthly_ranking, "ranking", "阶段四：发布指定月份的排名（已发布的月份不变；填写更正原因即公开更正）"),
        (stages.evaluation_stage, "evaluation", "阶段五：发出评议邀请；勾选“结束评议”则计票并公示"),
        (stages.award_stage, "award", "阶段五：评选创新奖并分配党建工作经费"),
        (stages.deliver_outbox, "deliver-outbox", "发送队列中的通知（邮件或打印页）"),
        (stages.board_stage, "board", "重新生成公开栏和公开数据"),
    ]
    def deployment(flow, name, text, schedule=None):
        scope = _district_scope(flow, district)
        tags = [STAGE_TAGS.get(flow.name, "operations")] + ([f"district-{district}"] if scope else [])
        return titled(flow.to_deployment(name=f"{name}-{district}" if scope else name, schedule=schedule,
                                         description=f"{district}：{text}" if scope else text, parameters=scope,
                                         tags=tags, concurrency_limit=ONE_AT_A_TIME.get(flow.name), **options))

    late_after = timedelta(seconds=get_settings().late_alert_seconds)
    alerts = stage_alert.to_deployment(
        name=f"alerts-{district}" if district else "alerts", tags=["alerts"] + ([f"district-{district}"] if district else []),
        description=(f"{district}：" if district else "") + "一个阶段的运行失败、中断或迟迟没有开始时，给区级联络人发邮件（由自动化触发）",
        triggers=alert_triggers(district, late_after), **options)
    return ([deployment(flow, name, text, schedule) for flow, name, schedule, text in scheduled]
            + [deployment(flow, name, text) for flow, name, text in on_demand] + [titled(alerts)])


def _district_scope(flow, district: str | None) -> dict:
    """The parameters keeping a flow's runs to a district, for the flows that take a scope."""
    import inspect

    accepted = inspect.signature(flow.fn).parameters
    for name in ("districts", "communities"):
        if district and name in accepted:
            return {name: [district]}
    return {}


def district_code(name_or_code: str) -> str:
    """A district's code from its code or name, checked against the organisation imported."""
    from lianchuang.models import District
    from lianchuang.models.db import session_scope
    from lianchuang.tasks.org import resolve

    with session_scope() as session:
        found, missing = resolve(session, District, [name_or_code])
        if name_or_code.strip() not in found:
            reason = missing.get(name_or_code.strip())
            raise UserError(reason if getattr(reason, "shared", False) else
                            f"找不到区“{name_or_code}”：--district 填区的编码或名称（lianchuang org list 可查）")
        return found[name_or_code.strip()].code


def deploy_to_pool(pool: str, district: str | None = None) -> list[str]:
    """Register every stage and schedule (of a district, given its code) on a process work pool
    (created if missing): workers on any machine where the app is installed run them, importing the
    flows by module path (no code is copied). Returns the deployments' names."""
    from prefect import deploy
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.deployments.runner import EntrypointType
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    os.environ["PREFECT_API_URL"] = prefect_server_url()
    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process",
                                                   base_job_template=ProcessWorker.get_default_base_job_template()))
    registered = deployments(district, entrypoint_type=EntrypointType.MODULE_PATH)
    deploy(*registered, work_pool_name=pool, build=False, push=False, print_next_steps_message=False, ignore_warnings=True)
    return [d.name for d in registered]


def worker_environment() -> dict[str, str]:
    """The app's settings (from the environment or lianchuang.toml) as LIANCHUANG_* variables, for a
    worker's flow runs, which start in a folder of their own where no lianchuang.toml is found."""
    from lianchuang.settings import get_settings

    settings = get_settings()
    if not settings.smtp_host:
        raise UserError("工作节点的邮件必须经 SMTP 发出（否则会写进某台机器的文件夹，联络人收不到）："
                        "请先设置 LIANCHUANG_SMTP_HOST（及端口、账号），再启动工作节点")
    values = settings.model_dump(exclude_none=True) | {"data_dir": settings.data_dir.resolve(), "database_url": settings.db_url}
    return {f"LIANCHUANG_{name.upper()}": str(value) for name, value in values.items()}


def serve_schedules(district: str | None = None) -> None:
    """Register and run the deployments (of a district, given its code) until stopped. Run by
    `lianchuang serve` in a process of its own with PREFECT_API_URL set: Prefect reads its settings
    once, at import, and without it would start a second, temporary API server on the same data."""
    from prefect import serve

    from lianchuang.flows.schedule_watch import watch_in_background

    watch_in_background(district)  # emails the district coordinators if the monthly run is missing or failed
    serve(*deployments(district))


if __name__ == "__main__":  # `lianchuang serve`'s supervised child: python -m lianchuang.flows.schedules [DISTRICT]
    import sys

    serve_schedules(sys.argv[1] if len(sys.argv) > 1 else None)
