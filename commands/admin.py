"""The database, the whole cycle, reports, the demo, and the Prefect server and schedules."""

import json
from typing import Annotated, Optional

import typer

from lianchuang.commands.common import (
    JsonOption,
    YearOption,
    console,
    fitted_table,
    prefect_connected,
    print_summary,
    ready_for_flows,
    this_year,
    use,
)
from lianchuang.errors import UserError
from lianchuang.settings import get_settings
from lianchuang.tasks.summaries import result_lines
from lianchuang.words import word

db_app = typer.Typer(help="数据库：初始化与升级。", no_args_is_help=True)

cycle_app = typer.Typer(help="年度工作周期：一次推进各阶段，查看各社区进度。", no_args_is_help=True)

report_app = typer.Typer(help="报表。", no_args_is_help=True)

GROUPS = [(db_app, "db"), (cycle_app, "cycle"), (report_app, "report")]


@db_app.command("upgrade")
def db_upgrade() -> None:
    """创建或升级数据库结构（可重复运行）。"""
    from lianchuang.models.db import current_revision, upgrade_database

    url = get_settings().db_url
    before = current_revision(url)
    upgrade_database(url)
    after, where = current_revision(url), url.split('@')[-1]
    if before == after:
        console.print(f"数据库已是最新结构（{after}），没有改动：{where}")
    else:
        console.print(f"数据库结构已{'从 ' + before + ' ' if before else '新建并'}升级到 {after}：{where}")
    from lianchuang.models.db import session_scope
    from lianchuang.tasks.access import refresh_policies

    with session_scope() as session:
        if refresh_policies(session):
            console.print("分级权限规则已按新结构更新（lianchuang users list 查看用户）")


def serve(district: Annotated[Optional[str], typer.Option(
        "--district", "-d", help="只登记这个区的各阶段和定时任务（编码或名称）")] = None) -> None:
    """在 Prefect 服务器上登记定时任务并运行：每月进度报送截止日的次日8:00（北京时间，默认6日）发布并发送上月排名；每周一8:00逾期提醒。"""
    import os
    import sys

    from lianchuang.flows.schedules import district_code, prefect_server_url
    from lianchuang.flows.supervised import run_supervised

    code = use(district_code, district) if district else None
    url = prefect_server_url()
    console.print(f"在 Prefect 服务器 {url.removesuffix('/api')} 登记{code + ' 的' if code else ''}各阶段、定时任务和运行提醒，并运行它们。"
                  "按 Ctrl+C 停止（正在运行的阶段一起结束，可以重新运行）。")
    # A child of its own, with PREFECT_API_URL set before Prefect reads its settings, which ends with
    # everything it started on SIGTERM or SIGINT (Prefect's runner alone ignores SIGTERM once it ran a flow).
    exit_code = run_supervised([sys.executable, "-m", "lianchuang.flows.schedules", *([code] if code else [])],
                               os.environ | {"PREFECT_API_URL": url})
    console.print("serve 已停止：定时任务不会再运行，直到再次启动 lianchuang serve。")
    raise typer.Exit(exit_code)


@cycle_app.command("run")
def cycle_run(year: YearOption = None) -> None:
    """按今天的日期，把本年度各阶段尽可能向前推进一步。"""
    ready_for_flows()
    from lianchuang.flows.stages import annual_cycle

    with console.status("推进年度工作周期……"), prefect_connected():
        results = annual_cycle(year=year or this_year())
    for stage, summary in results.items():
        print_summary(summary, stage)


@cycle_app.command("status")
def cycle_status(year: YearOption = None, as_json: JsonOption = False) -> None:
    """查看每个社区在各阶段的进度。"""
    from lianchuang.models.enums import Stage, StageStatus
    from lianchuang.tasks.cycle import stage_overview_of

    rows = use(stage_overview_of, year or this_year())
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = fitted_table("社区", "街道", *(stage.label.split("·")[0] for stage in Stage))  # 80 columns: the short names
    for row in rows:
        table.add_row(row["community"], row["street"], *(StageStatus(row[stage.value]).label for stage in Stage))
    console.print(table)


def show_summary(figures: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
        return
    table = fitted_table("", "", title=f"{figures['year']} 年度“三级联创”工作概况", show_header=False)
    for key, value in figures.items():
        table.add_row(word("summary", key), f"{value:,}" if isinstance(value, int) and key != "year" else str(value))
    console.print(table)


@report_app.command("summary")
def report_summary(year: YearOption = None, as_json: JsonOption = False) -> None:
    """年度概况：征集意见、任务、岗位、承诺、排名、评议、经费和通知的数字。"""
    from lianchuang.tasks.cycle import year_summary

    show_summary(use(year_summary, year or this_year()), as_json)


def demo(scale: Annotated[str, typer.Option(help="规模：district（梅列区规模，约1分钟）、city、province（很慢）")] = "district",
         year: YearOption = None, fresh: Annotated[bool, typer.Option("--fresh", help="清空数据文件夹里的演示数据，从头开始")] = False) -> None:
    """生成演示区并用模拟时钟跑完一整年，最后打印年度概况。再次运行会从中断处继续，不会重复。"""
    from lianchuang.tasks.cycle import year_summary
    from lianchuang.tasks.demo.data import SCALE_NAMES, SCALES

    if scale not in SCALES:
        raise UserError(f"规模只能是 {'、'.join(SCALES)}，不是“{scale}”")
    settings = get_settings()
    year = year or this_year()
    if fresh:
        reset_data()
    ready_for_flows()  # before importing the flows (1.7 s): the server starts meanwhile
    from lianchuang.flows.demo import demo_steps, run_demo

    steps = len(demo_steps(year, scale))
    console.print(f"演示：{SCALE_NAMES.get(scale, scale)}，{year} 年度，数据文件夹 {settings.data_dir.resolve()}")
    done = 0

    def on_step(description: str, result) -> None:
        nonlocal done
        done += 1
        detail = result if isinstance(result, str) else (
            f"{result:,} 条" if isinstance(result, int) else "，".join(
                f"{label} {value}" for label, value in result_lines(result or {}) if value != "0"))
        console.print(f"[{done:>2}/{steps}] {description}：{detail}", markup=False, highlight=False)

    with prefect_connected():
        run_demo(year, scale, on_step)
    show_summary(use(year_summary, year), as_json=False)
    console.print(f"数据库：{settings.db_url}")
    console.print(f"邮件（Maildir）：{settings.maildir.resolve()}    纸质送达：{settings.print_dir.resolve()}")
    console.print(f"公开栏：{(settings.board_dir / str(year) / 'index.html').resolve()}    责任状与承诺书：{settings.documents_dir.resolve()}")
    from lianchuang.flows.local_server import console_address

    console.print(f"在 Prefect 界面查看各阶段的运行：{console_address()}（本机服务器：lianchuang server status|stop）")


def reset_data() -> None:
    """Drop the app's tables (and delete the SQLite file, outbox, documents and board)."""
    import shutil

    from lianchuang.models.db import drop_everything

    settings = get_settings()
    drop_everything(settings.db_url)
    for folder in (settings.maildir.parent, settings.documents_dir, settings.board_dir):
        shutil.rmtree(folder, ignore_errors=True)


COMMANDS = {"serve": serve, "demo": demo}  # top-level commands (`lianchuang rank`)
