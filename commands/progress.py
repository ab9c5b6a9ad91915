"""Stage 4: `lianchuang progress` (monthly reports), `rank` and `remind`."""

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from lianchuang import clock
from lianchuang.commands.common import CommunityOption, JsonOption, YearOption, console, parse_month, run_flow, this_year, use
from lianchuang.errors import UserError

progress_app = typer.Typer(help="阶段四：每月报告工作任务进度。", no_args_is_help=True)

GROUPS = [(progress_app, "progress")]


def rank(month: Annotated[str, typer.Option("--month", "-m", help="月份 YYYY-MM，例如 2026-10（默认上个月）")] = "",
         send: Annotated[bool, typer.Option("--send", help="同时给区、街道、社区联络人发送排名邮件")] = False,
         yes: Annotated[bool, typer.Option("--yes", help="有社区没有报告进度也照样发布")] = False,
         as_json: JsonOption = False) -> None:
    """计算并发布某月各社区工作任务进度排名（已发布的月份不会改变）；加 --send 发送排名邮件（不会重复发送）。"""
    from lianchuang.flows.stages import monthly_ranking
    from lianchuang.tasks.progress.use_cases import months_missing_reports, published_ranking

    year, number = parse_month(month) if month else clock.last_finished_month()
    missing = [] if yes else use(months_missing_reports, year, number)
    if missing:
        shown = "、".join(missing[:10]) + (f" 等 {len(missing)} 个社区" if len(missing) > 10 else "")
        raise UserError(f"{year}年{number}月还有社区没有报告进度：{shown}。发布后排名不能再改，"
                        f"请先收齐（lianchuang progress import），确要现在发布请加 --yes")
    run_flow(monthly_ranking, f"{year}年{number}月排名", year=year, months=[number], send=send, quiet=as_json)
    rows = use(published_ranking, year, number)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    show_ranking(rows, f"{year}年{number}月 社区工作任务进度排名")
    if not send:
        console.print(f"排名已发布。发送邮件：lianchuang rank --month {year}-{number:02d} --send")


def show_ranking(rows: list[dict], title: str, longest: int = 30) -> None:
    """The district table, its top and bottom when long (the whole list: --json); fits 80 columns."""
    shown = rows if len(rows) <= longest else rows[:10] + [None] + rows[-5:]
    table = Table("名次", "街道", "社区", "得分", "进度", "按时", "逾期", title=title)
    for row in shown:
        if row is None:
            table.add_row("…", f"（共 {len(rows):,} 个社区，全部见 --json）", "", "", "", "", "")
            continue
        table.add_row(str(row["rank_in_district"]), row["street"], row["community"], f"{row['score']:.1f}",
                      f"{row['progress_score']:.1f}", f"{row['on_time_score']:.1f}", str(row["overdue_tasks"]))
    console.print(table)


def remind(year: YearOption = None) -> None:
    """给节点逾期的任务负责人发逾期提醒（每个节点只提醒一次），并提醒联络员报送本月进度。"""
    from lianchuang.flows.stages import progress_reminders

    run_flow(progress_reminders, "提醒", year=year or this_year())


@progress_app.command("template")
def progress_template(year: YearOption = None, community: CommunityOption = None,
                      output: Annotated[Path, typer.Option("--output", "-o", help="要生成的 .xlsx 文件")] = Path("进度报表.xlsx")) -> None:
    """生成进度报表：列出各项任务和上次进度，填写本月完成百分比即可。"""
    from lianchuang.tasks.progress.use_cases import progress_template

    year = year or this_year()
    count = use(progress_template, year, community, output)
    console.print(f"已生成 {count} 项任务的进度报表：{output}。填好后运行：lianchuang progress import {output} --year {year}")


@progress_app.command("import")
def progress_import(file: Annotated[Path, typer.Argument(help="填好的进度报表（.xlsx 或 .csv）")], year: YearOption = None) -> None:
    """导入进度报表。有任何问题都不导入，并逐条列出行、列和原因；同一文件导入两次不会重复。"""
    from lianchuang.tasks.progress.use_cases import import_progress_file

    year = year or this_year()
    result = use(import_progress_file, year, file)
    for code, reported, counted in result["moved"]:
        console.print(f"{code}：{reported}月的排名已经发布，不再改变；这份进度计入 {counted} 月起的排名。")
    console.print(f"导入完成：{result['rows']} 条进度，新增 {result['new']} 条，已导入过 {result['already_there']} 条。"
                  f"月初发布上月排名：lianchuang rank --month {year}-MM")


@progress_app.command("add")
def progress_add(task: Annotated[str, typer.Argument(help="任务编号，例如 D01S01C01-003")],
                 percent: Annotated[str, typer.Option(help="完成百分比 0–100")],
                 for_month: Annotated[Optional[str], typer.Option("--month", help="报告的月份，如 3 或 2027-03（默认上个月）")] = None,
                 on: Annotated[Optional[str], typer.Option("--date", help="报告日期 YYYY-MM-DD（默认今天）")] = None,
                 milestone: Annotated[Optional[str], typer.Option(help="到达的节点月份")] = None,
                 note: Annotated[Optional[str], typer.Option(help="说明")] = None,
                 reason: Annotated[Optional[str], typer.Option(help="进度比上次低时的原因")] = None,
                 funds: Annotated[str, typer.Option(help="投入资金（元）")] = "0",
                 matters: Annotated[str, typer.Option(help="办理事项（件）")] = "0", year: YearOption = None) -> None:
    """报告一项任务的进度。"""
    from lianchuang.tasks.progress.use_cases import add_report

    row = dict(task=task, percent=percent, month=for_month or "", date=on or clock.today().isoformat(), milestone=milestone or "",
               note=note or "", reason=reason or "", funds=funds, matters=matters)
    new, moved = use(add_report, year or this_year(), row)
    console.print("已记录。" if new else "这一天的进度已经报告过，未重复记录。")
    for code, reported, counted in moved:
        console.print(f"{code}：{reported}月的排名已经发布，不再改变；这份进度计入 {counted} 月起的排名。")


COMMANDS = {"rank": rank, "remind": remind}  # top-level commands (`lianchuang rank`)
