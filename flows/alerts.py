"""Prefect automations that tell the district coordinators, through the app's own outbox, when a
stage's run failed, crashed, or was still not started an hour after it fell late (a scheduled
ranking with no `serve` or worker to take it). They are triggers on the `stage-alert` deployment,
registered with the stages by `lianchuang serve` and by `lianchuang deploy --pool`, so the server
watches in both setups, and whoever runs the stages (serve, or a pool's workers) sends the email."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger

from lianchuang.errors import log_user_errors_as_reasons

log_user_errors_as_reasons()

FAILED = ("prefect.flow-run.Failed", "prefect.flow-run.Crashed")
LATE = "prefect.flow-run.Late"  # the server marks a run Late when its start time has passed unstarted
STARTED_OR_ENDED = {f"prefect.flow-run.{state}" for state in
                    ("Pending", "Running", "Completed", "Failed", "Crashed", "Cancelling", "Cancelled", "Paused", "Suspended")}
BEIJING = ZoneInfo("Asia/Shanghai")
WATCHED_TAGS = ("stage-1", "stage-2", "stage-3", "stage-4", "stage-5", "operations")  # not the alerts' own runs
WHAT_HAPPENED = {"Failed": "失败", "Crashed": "中断（运行它的进程意外退出）", "Late": "没有开始"}


def alert_triggers(district: str | None = None, late_after: timedelta = timedelta(hours=1)) -> list:
    """The automations' triggers: a watched run (of the district, given its code) failed or crashed;
    a watched run was marked Late and did not start within `late_after`."""
    from prefect.events import DeploymentEventTrigger

    related = [{"prefect.resource.role": "tag", "prefect.resource.id": [f"prefect.tag.{tag}" for tag in WATCHED_TAGS]}]
    if district:
        related.append({"prefect.resource.role": "tag", "prefect.resource.id": f"prefect.tag.district-{district}"})
    common = dict(match={"prefect.resource.id": "prefect.flow-run.*"}, match_related=related,
                  parameters={"resource": "{{ event.resource.id }}", "happened": "{{ event.event }}"})
    scope = f"{district}：" if district else ""
    return [
        DeploymentEventTrigger(name=f"{scope}阶段运行失败或中断时通知区级联络人", posture="Reactive", expect=set(FAILED),
                               description="一个阶段的运行失败或崩溃：通过联创的发件箱给区级联络人发邮件", **common),
        DeploymentEventTrigger(name=f"{scope}阶段运行迟迟没有开始时通知区级联络人", posture="Proactive", after={LATE},
                               expect=STARTED_OR_ENDED, for_each={"prefect.resource.id"}, within=late_after,
                               description=f"一个运行到时间后 {late_after.total_seconds() / 60:.0f} 分钟仍没有开始"
                                           "（没有 serve 或工作节点在运行）：给区级联络人发邮件", **common),
    ]


def _happened(event: str) -> str:
    """'Failed', 'Crashed' or 'Late' from the event's name (prefect.flow-run.Failed)."""
    state = event.rsplit(".", 1)[-1]
    return state if state in WHAT_HAPPENED else "Failed"


@flow(name="stage-alert", flow_run_name="运行提醒：{happened}")
def stage_alert(resource: str, happened: str) -> dict:
    """运行提醒: the run named by the event (prefect.flow-run.<id>) failed, crashed or did not start;
    its district's coordinators (every district's, for a run not kept to one) are emailed once."""
    from uuid import UUID

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(resource.removeprefix("prefect.flow-run.")))
        deployment = client.read_deployment(run.deployment_id) if run.deployment_id else None
    told = notify_coordinators(run, deployment, _happened(happened))
    get_run_logger().info("运行“%s”%s：通知了 %d 位区级联络人", run.name, WHAT_HAPPENED[_happened(happened)], told)
    return {"alerts": told}


def notify_coordinators(run, deployment, happened: str) -> int:
    """Queue and send the alert about `run` to its district's coordinators; returns how many were
    newly told (0 when this run's alert of this kind was sent already)."""
    from sqlalchemy import select

    from lianchuang import clock
    from lianchuang.flows.local_server import console_address
    from lianchuang.models import District
    from lianchuang.models.db import session_scope
    from lianchuang.tasks.outbox import delivery

    codes = [tag.removeprefix("district-") for tag in run.tags if tag.startswith("district-")]
    expected = run.expected_start_time.astimezone(BEIJING) if run.expected_start_time else None
    context = dict(run=run.name, deployment=(deployment.description or deployment.name) if deployment else run.name,
                   happened=WHAT_HAPPENED[happened], kind=happened,
                   detail=((run.state.message or "") if run.state and happened != "Late" else "")[:300],
                   expected=f"{expected:%Y-%m-%d %H:%M}" if expected else "",
                   link=f"{console_address()}/runs/flow-run/{run.id}")
    with session_scope() as session:
        districts = session.scalars(select(District.id).where(District.code.in_(codes))).all() if codes else None
    return delivery.alert_district_coordinators(clock.today().year, "run_alert", f"{happened[0]}{run.id.hex[:15]}",
                                                context, districts)
