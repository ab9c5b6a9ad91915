"""Stage 4: `lianchuang progress` (monthly reports), `rank` and `remind`."""

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from lianchuang import clock
from lianchuang.commands.common import (
    CommunityOption,
    DistrictOption,
    ForceOption,
    JsonOption,
    ReportingYearOption,
    StreetOption,
    console,
    fitted_table,
    parse_month,
    reporting_year,
    run_flow,
    scope,
    use,
)
from lianchuang.errors import UserError

progress_app = typer.Typer(help="阶段四：每月报告工作任务进度。", no_args_is_help=True)

GROUPS = [(progress_app, "progress")]


def rank(month: Annotated[str, typer.Option("--month", "-m", help="月份 YYYY-MM，例如 2026-10（默认上个月）")] = "",
         send: Annotated[bool, typer.Option("--send", help="同时给区、街道、社区联络人发送排名邮件")] = False,
         yes: Annotated[bool, typer.Option("--yes", help="有社区没有报告进度也照样发布")] = False,
         correct: Annotated[bool, typer.Option("--correct", help="更正已发布的月份（须加 --reason；更正前的版本保留可查）")] = False,
         reason: Annotated[Optional[str], typer.Option("--reason", help="更正的原因，公示在公开栏并写进更正通知")] = None,
         street: Annotated[Optional[str], typer.Option("--street", help="只显示这个街道的排名（名称或编号）")] = None,
         district: Annotated[Optional[list[str]], typer.Option(
             "--district", "-d", help="只排这些区（编码或名称，可重复）；各区分别排名、发布，默认全部")] = None,
         as_json: JsonOption = False) -> None:
    """计算并发布某月各社区工作任务进度排名（每个区单独排名、单独发布）；加 --send 发送排名邮件（不会重复发送）。
    已发布的月份不会自动改变，发现错误时用 --correct --reason 公开更正。"""
    from lianchuang.tasks.progress.use_cases import published_ranking

    year, number = parse_month(month) if month else clock.last_finished_month()
    if reason and not correct:  # the two options belong together; the rules themselves are the service's
        raise UserError("--reason 只用于更正已发布的排名，请同时加 --correct")
    title = f"{year}年{number}月排名" + ("更正" if correct else "")
    run_flow("monthly_ranking", title, year=year, months=[number], send=send, quiet=as_json,
             correction_reason=(reason or "").strip() if correct else None, districts=district, confirm=yes)
    rows = use(published_ranking, year, number, district)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    heading = f"{year}年{number}月 社区工作任务进度排名" + ("（已更正）" if correct else "")
    if street:
        rows = [r for r in rows if street in (r["street"], r["street_code"])]
        if not rows:
            raise UserError(f"{year}年{number}月的排名中没有街道“{street}”")
        show_street(rows, f"{street} {heading}", longest=len(rows))
    else:
        by_district: dict[str, list[dict]] = {}
        for row in rows:
            by_district.setdefault(row["district"], []).append(row)
        for name, members in by_district.items():
            show_ranking(members, f"{name} {heading}" if district or len(by_district) > 1 else heading)
            show_streets(members)
    if correct:
        console.print(f"已公开更正 {year}年{number}月的排名，原因：{reason.strip()}。更正前的版本保留在公开栏。"
                      + ("" if send else f"发送更正通知：lianchuang rank --month {year}-{number:02d} --send"))
    elif not send:
        console.print(f"排名已发布。发送邮件：lianchuang rank --month {year}-{number:02d} --send")


def show_ranking(rows: list[dict], title: str, longest: int = 30) -> None:
    """The district table, its top and bottom when long (the whole list: --json); fits 80 columns."""
    shown = rows if len(rows) <= longest else rows[:10] + [None] + rows[-5:]
    table = fitted_table("名次", "街道", "社区", "得分", "进度", "按时", "逾期", title=title)
    for row in shown:
        if row is None:
            table.add_row("…", f"（共 {len(rows):,} 个社区，全部见 --json）", "", "", "", "", "")
            continue
        table.add_row(str(row["rank_in_district"]), row["street"], row["community"], f"{row['score']:.1f}",
                      f"{row['progress_score']:.1f}", f"{row['on_time_score']:.1f}", str(row["overdue_tasks"]))
    console.print(table)


STREETS_SHOWN = 20


def show_streets(rows: list[dict]) -> None:
    """Each street's own ranking, its top 3 and bottom 2 where longer than 6."""
    by_street: dict[str, list[dict]] = {}
    for row in sorted(rows, key=lambda r: (r["rank_in_street"], r["community"])):
        by_street.setdefault(row["street"], []).append(row)
    for name, members in list(by_street.items())[:STREETS_SHOWN]:
        show_street(members, f"{name} 街道内排名")
    if len(by_street) > STREETS_SHOWN:
        console.print(f"另有 {len(by_street) - STREETS_SHOWN} 个街道，查看某个街道：--street 名称；全部：--json")


def show_street(rows: list[dict], title: str, longest: int = 6) -> None:
    shown = rows if len(rows) <= longest else rows[:3] + [None] + rows[-2:]
    table = fitted_table("街道内名次", "社区", "得分", "全区名次", title=title)
    for row in shown:
        if row is None:
            table.add_row("…", f"（共 {len(rows)} 个社区）", "", "")
            continue
        table.add_row(str(row["rank_in_street"]), row["community"], f"{row['score']:.1f}", str(row["rank_in_district"]))
    console.print(table)


def remind(year: ReportingYearOption = None, community: CommunityOption = None, street: StreetOption = None,
           district: DistrictOption = None) -> None:
    """给任务落后于实施步骤的负责人和联络员发逾期提醒（每人每周一封，列出其全部落后任务和目前进度），并提醒联络员报送本月进度。"""
    run_flow("progress_reminders", "提醒", year=year or reporting_year(), communities=scope(community, street, district))


@progress_app.command("template")
def progress_template(year: ReportingYearOption = None, community: CommunityOption = None,
                      output: Annotated[Path, typer.Option("--output", "-o", help="要生成的 .xlsx 文件")] = Path("进度报表.xlsx"),
                      force: ForceOption = False) -> None:
    """生成进度报表：列出各项任务和上次进度，填写本月完成百分比即可。"""
    from lianchuang.tasks.progress.use_cases import progress_template

    year = year or reporting_year()
    count = use(progress_template, year, community, output, force)
    console.print(f"已生成 {count} 项任务的进度报表：{output}。填好后运行：lianchuang progress import {output} --year {year}")


@progress_app.command("import")
def progress_import(file: Annotated[Path, typer.Argument(help="填好的进度报表（.xlsx 或 .csv）")], year: ReportingYearOption = None) -> None:
    """导入进度报表。有任何问题都不导入，并逐条列出行、列和原因；同一文件导入两次不会重复。"""
    from lianchuang.tasks.progress.use_cases import import_progress_file

    year = year or reporting_year()
    result = use(import_progress_file, year, file)
    say_moved(result["moved"], year)
    console.print(f"导入完成：{result['rows']} 条进度，新增 {result['new']} 条，已导入过 {result['already_there']} 条。"
                  + rank_next(year))


def rank_next(year: int) -> str:
    """What to do once the month's reports are in: publish the month a ranking can be published for now."""
    finished_year, finished_month = clock.last_finished_month()
    month = finished_month if finished_year == year else 12
    return f"报送截止后发布排名：lianchuang rank --month {year}-{month:02d}"


@progress_app.command("add")
def progress_add(task: Annotated[str, typer.Argument(help="任务编号，例如 D01S01C01-003")],
                 percent: Annotated[str, typer.Option(help="完成百分比 0–100")],
                 for_month: Annotated[Optional[str], typer.Option("--month", help="报告的月份，如 3 或 2027-03（默认上个月）")] = None,
                 on: Annotated[Optional[str], typer.Option("--date", help="报告日期 YYYY-MM-DD（默认今天）")] = None,
                 milestone: Annotated[Optional[str], typer.Option(help="到达的节点月份")] = None,
                 note: Annotated[Optional[str], typer.Option(help="说明")] = None,
                 reason: Annotated[Optional[str], typer.Option(help="进度比上次低的原因；更正当天已报的进度时也须填写")] = None,
                 funds: Annotated[str, typer.Option(help="投入资金（元）")] = "0",
                 matters: Annotated[str, typer.Option(help="办理事项（件）")] = "0", year: ReportingYearOption = None) -> None:
    """报告一项任务的进度。"""
    from lianchuang.tasks.progress.use_cases import add_report

    row = dict(task=task, percent=percent, month=for_month or "", date=on or clock.today().isoformat(), milestone=milestone or "",
               note=note or "", reason=reason or "", funds=funds, matters=matters)
    year = year or reporting_year()
    outcome, moved = use(add_report, year, row, replace=bool(reason))
    console.print({"recorded": f"已记录 {task} 的进度 {percent}%。" + rank_next(year), "same": "这一天已经报告过同样的进度，未重复记录。",
                   "replaced": f"已更正这一天的报告（原因：{reason}），更正前的内容记录在操作日志中。"}[outcome])
    say_moved(moved, year)


def say_moved(moved: list[tuple[str, int, int | None]], year: int) -> None:
    """Tell which reports were for a month already published, where they count, and how to correct it."""
    for code, reported, counted in moved[:20]:
        where = f"计入 {counted} 月起的排名" if counted else "全年排名都已发布，只在更正时计入"
        console.print(f"{code}：{reported}月的排名已经发布，这份进度{where}。")
    if len(moved) > 20:
        console.print(f"……共 {len(moved)} 条进度报告的是已发布的月份。")
    for month in sorted({reported for _, reported, _ in moved}):
        console.print(f"如果{month}月的排名因此有误，可以公开更正：lianchuang rank --month {year}-{month:02d} --correct --reason \"……\"")


COMMANDS = {"rank": rank, "remind": remind}  # top-level commands (`lianchuang rank`)
