"""What every command group shares: the consoles, the year/community/--json options, the database
check, running a flow and printing its summary, and parsing dates and months."""

import os
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from lianchuang import clock
from lianchuang.commands.terminal import ChineseTable
from lianchuang.errors import UserError
from lianchuang.settings import get_settings
from lianchuang.tasks.summaries import result_lines

console = Console(soft_wrap=True)  # messages wrap at the terminal, never inside a figure or a path


err = Console(stderr=True, soft_wrap=True)


YearOption = Annotated[int, typer.Option("--year", "-y", help="年度，例如 2026（默认今年）")]


CommunityOption = Annotated[Optional[list[str]], typer.Option("--community", "-c", help="只处理这些社区（编码或名称，可重复）")]
StreetOption = Annotated[Optional[list[str]], typer.Option("--street", "-s", help="只处理这些街道的社区（编码或名称，可重复）")]
DistrictOption = Annotated[Optional[list[str]], typer.Option("--district", "-d", help="只处理这些区的社区（编码或名称，可重复）")]


def scope(community: list[str] | None, street: list[str] | None = None, district: list[str] | None = None) -> list[str] | None:
    """The communities, streets and districts named, as one list for a stage (None: everywhere)."""
    named = [*(community or []), *(street or []), *(district or [])]
    return named or None


EvaluationYearOption = Annotated[Optional[int], typer.Option("--year", "-y", help="考评年度，例如 2026（默认正在考评的年度：1月时为上一年）")]
JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON，供其他程序读取")]
ForceOption = Annotated[bool, typer.Option("--force", help="允许覆盖已有的、不是联创生成的文件（数据库和数据目录内部文件始终不覆盖）")]


def this_year() -> int:
    return clock.today().year


def reporting_year() -> int:
    """The year progress is reported for: the year of the last finished month (in January, last
    year's December is reported, ranked and reminded of)."""
    return clock.last_finished_month()[0]


ReportingYearOption = Annotated[Optional[int], typer.Option("--year", "-y", help="年度，例如 2026（默认上个月所在的年度：1月时为上一年）")]


def ready_database() -> str:
    """Make sure the database exists and has the current schema; an empty one is created."""
    from sqlalchemy.exc import OperationalError

    from lianchuang.models.db import schema_state, upgrade_database

    url = get_settings().db_url
    try:
        state = schema_state(url)
    except OperationalError as error:
        raise UserError(f"无法连接数据库（{url.split('@')[-1]}）：{str(error.orig).strip().splitlines()[0]}") from None
    if state == "empty":
        upgrade_database(url)
    elif state == "outdated":
        raise UserError("数据库结构需要升级：请先运行 `lianchuang db upgrade`")
    return url


def use(use_case, *args, **kwargs):
    """Run one use case (a function of tasks/) on a database with the current schema."""
    ready_database()
    return use_case(*args, **kwargs)


def fitted_table(*headers: str, **options) -> Table:
    """A table for an 80-column terminal: a long header or cell wraps inside its column, never cut
    to "…", and breaks as Chinese is set (commands/terminal.py)."""
    table = ChineseTable(**options)
    for header in headers:
        table.add_column(header, overflow="fold")
    return table


def print_summary(summary: dict, title: str) -> None:
    """The figures of a run that say something: zeros are left out, so what happened stands out."""
    lines = [(label, value) for label, value in result_lines(summary) if value != "0"]
    if not lines:
        console.print(f"{title}：没有新的变化（已做过的不会重复）。")
        return
    table = fitted_table("", "", title=title, show_header=False)
    for label, value in lines:
        table.add_row(label, value)
    console.print(table)
    if summary.get("to_print"):
        from lianchuang.settings import get_settings

        console.print(f"没有邮箱的人的通知按批次印在 {get_settings().print_dir}（每批一个日期文件夹）。"
                      f"把上次以来新增的合成一页打印：lianchuang outbox print")


@contextmanager
def _prefect_quiet_in_terminal():
    """While a flow runs for a command, Prefect's own log lines stay out of the terminal (the run's
    logs are in the Prefect UI): a user error is then said once, by the command, as 错误：…"""
    import logging

    from prefect.logging.handlers import PrefectConsoleHandler

    handlers = [h for h in logging.getLogger().handlers if isinstance(h, PrefectConsoleHandler)]
    levels = [h.level for h in handlers]
    for handler in handlers:
        handler.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for handler, level in zip(handlers, levels):
            handler.setLevel(level)


@contextmanager
def prefect_connected():
    """For flows run by a command: a Prefect server (flows/local_server), Prefect quiet in the terminal."""
    from lianchuang.flows.local_server import connected, starting

    if starting():  # the first command in a data folder: say why it waits
        err.print("正在启动这个数据文件夹的 Prefect 服务器（只在第一次，约 5–10 秒；之后的命令共用它）……",
                  markup=False, highlight=False)
    from prefect import tags

    from lianchuang.tasks.cycle import STARTED_BY, current_actor

    # who started the run, as the audit trail names them (the verified database user on PostgreSQL)
    with _prefect_quiet_in_terminal(), connected() as server, tags(f"{STARTED_BY}{current_actor()}"):
        if server and server.started_now:
            err.print(f"已在后台启动这个数据文件夹的 Prefect 服务器，之后的命令共用它：界面 {server.ui}"
                      f"（查看：lianchuang server status；停止：lianchuang server stop）", markup=False, highlight=False)
        yield


def ready_for_flows() -> None:
    """The database checked, and meanwhile the data folder's Prefect server starting (if it must)."""
    from lianchuang.flows.local_server import start_early

    start_early()
    ready_database()


def run_flow(flow: str, title: str, quiet: bool = False, **parameters) -> dict:
    """Run a stage's flow (its name in flows/stages) with a spinner and print its figures (quiet: for
    --json, where stdout is data). The flows are imported only once the data folder's server is
    starting: importing them (and Prefect) took 1.7 s, which the first command's server waited for."""
    ready_for_flows()
    from lianchuang.flows import stages

    flow = getattr(stages, flow)
    with console.status(f"{title}……"), prefect_connected():
        result = flow(**parameters)
    if not quiet:
        print_summary(result, title)
    return result


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"日期“{text}”格式不对，应为 YYYY-MM-DD，例如 {clock.today().isoformat()}") from None


def parse_month(text: str) -> tuple[int, int]:
    try:
        year, month = (int(part) for part in text.split("-"))
        date(year, month, 1)
    except ValueError:
        raise UserError(f"月份“{text}”格式不对，应为 YYYY-MM，例如 2026-10") from None
    return year, month


def set_locale(locale: str) -> None:
    """The language of notices for this command (--locale), checked."""
    if locale not in ("zh_CN", "en"):
        raise UserError(f"语言只能是 zh_CN 或 en，不是“{locale}”")
    os.environ["LIANCHUANG_LOCALE"] = locale
    from lianchuang.settings import reset_settings

    reset_settings()
