"""The district coordinator's decision before something that cannot be taken back is published: a
scheduled monthly ranking, and closing the evaluation or allocating the award when started from
the Prefect UI. The run is suspended with a small form (approve, or hold with a reason): its state
and the form are kept on the server and no process waits, so a restart of `serve` or of a worker
loses nothing; once answered, the run starts again from the top (its steps before the decision only
read) and picks up the answer where it asked. LIANCHUANG_AUTO_APPROVE skips it for districts that
want the schedule to publish on its own."""

from prefect.input import RunInput
from pydantic import Field

APPROVAL_HOURS = 72  # unanswered by then, the run fails (and shows as failed in the UI)


class Decision(RunInput):
    approve: bool = Field(True, title="批准发布", description="勾选：发布并发送通知；不勾选：暂缓，不做任何改变")
    reason: str = Field("", title="暂缓原因", description="暂缓时填写，会通知区级联络人")


def started_from_ui() -> bool:
    """Run from a deployment (the Prefect UI, the API, a schedule), not by a CLI command, which
    has its own confirmation."""
    from prefect.runtime import deployment

    return deployment.id is not None


def decide(what: str, preview_key: str, detail: str = "") -> tuple[bool, str]:
    """(approved, reason): from the form in the Prefect UI, or at once with auto-approval."""
    from prefect import get_run_logger
    from prefect.flow_runs import suspend_flow_run

    from lianchuang.settings import get_settings

    if get_settings().auto_approve:
        return True, ""
    get_run_logger().info("%s等待区级联络人审核：在 Prefect 界面打开本次运行，点 Resume 后填写决定", what)
    decision = suspend_flow_run(  # the same key when the run starts again: the answer given is returned
        wait_for_input=Decision.with_initial_data(
            description=f"**{what}预览**见本次运行的 Artifacts（{preview_key}）。{detail}"
                        "批准后立即发布并发送通知，发布后只能公开更正。"),
        timeout=APPROVAL_HOURS * 3600, key=preview_key)
    return decision.approve, decision.reason.strip()
