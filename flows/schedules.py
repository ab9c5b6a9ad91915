"""The deployments `lianchuang serve` registers: the monthly ranking at 08:00 Beijing time on the
day after the reporting deadline (the 6th by default) for the previous month, and a weekly
reminder on Mondays at 08:00. Schedules need a real Prefect server (`lianchuang server`), which
this checks first."""

import os
import urllib.request

from lianchuang.errors import UserError

TIMEZONE = "Asia/Shanghai"
def monthly_cron() -> str:
    from lianchuang.settings import get_settings

    return f"0 8 {get_settings().reporting_deadline_day + 1} * *"


WEEKLY = "0 8 * * 1"


def prefect_server_url() -> str:
    """The API URL of a reachable Prefect server, or a user error saying how to start one."""
    url = os.environ.get("PREFECT_API_URL", "")
    how = ("定时任务需要一直运行的 Prefect 服务器：先在另一个窗口运行 `lianchuang server`，"
           "再设置 PREFECT_API_URL=http://127.0.0.1:4200/api 后运行 `lianchuang serve`")
    if not url:
        raise UserError(f"没有设置 PREFECT_API_URL。{how}")
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=5) as response:
            response.read()
    except OSError as error:
        raise UserError(f"连不上 Prefect 服务器 {url}（{error}）。{how}") from None
    return url


def deployments():
    from prefect.schedules import Cron

    from lianchuang.flows.stages import progress_reminders, scheduled_monthly_ranking

    return [
        scheduled_monthly_ranking.to_deployment(name="monthly-ranking", schedule=Cron(monthly_cron(), timezone=TIMEZONE),
                                                description="每月进度报送截止日的次日8:00发布并发送上月社区工作任务进度排名"),
        progress_reminders.to_deployment(name="weekly-reminders", schedule=Cron(WEEKLY, timezone=TIMEZONE),
                                         description="每周一8:00：节点逾期提醒与本月进度报送提醒"),
    ]


def serve_schedules() -> None:
    from prefect import serve

    prefect_server_url()
    serve(*deployments())
