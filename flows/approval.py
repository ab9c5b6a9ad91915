"""The district coordinator's decision before a scheduled ranking is published: the run pauses in
the Prefect UI with a small form (approve, or hold with a reason). LIANCHUANG_AUTO_APPROVE skips it
for districts that want the schedule to publish on its own."""

from prefect.input import RunInput
from pydantic import Field

APPROVAL_HOURS = 72  # unanswered by then, the run fails (and shows as failed in the UI)


class RankingDecision(RunInput):
    approve: bool = Field(True, title="批准发布", description="勾选：发布排名并发送邮件；不勾选：暂缓发布")
    reason: str = Field("", title="暂缓原因", description="暂缓发布时填写，会通知区级联络人")


def decide(year: int, month: int, missing: list[str]) -> tuple[bool, str]:
    """(approved, reason): from the form in the Prefect UI, or at once with auto-approval."""
    from prefect import get_run_logger
    from prefect.flow_runs import pause_flow_run

    from lianchuang.settings import get_settings

    if get_settings().auto_approve:
        return True, ""
    missing_text = "、".join(missing) if missing else "无"
    get_run_logger().info("%d年%d月排名等待区级联络人审核：在 Prefect 界面打开本次运行，点 Resume 后填写决定", year, month)
    decision = pause_flow_run(
        wait_for_input=RankingDecision.with_initial_data(
            description=f"**{year}年{month}月排名预览**见本次运行的 Artifacts（ranking-preview-{year}-{month:02d}）。"
                        f"没有报告进度的社区：{missing_text}。批准后立即发布并发送，发布后只能公开更正。"),
        timeout=APPROVAL_HOURS * 3600)
    return decision.approve, decision.reason.strip()
