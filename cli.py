"""The `lianchuang` command: parses, calls a flow or a query, prints. No business rules here."""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from lianchuang import clock
from lianchuang.errors import COMMAND_LINE, ImportRefused, UserError
from lianchuang.models.enums import UnitKind
from lianchuang.settings import configure_prefect_environment, get_settings
from lianchuang.tasks.summaries import result_lines
from rich.console import Console
from rich.table import Table

console = Console()
err = Console(stderr=True)
app = typer.Typer(help="联创：社区党建“三级联创”责任机制年度工作平台（区、街道、社区联络人使用）。",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
db_app = typer.Typer(help="数据库：初始化与升级。", no_args_is_help=True)
org_app = typer.Typer(help="组织架构：导入区、街道、社区、单位和人员。", no_args_is_help=True)
opinions_app = typer.Typer(help="阶段一：分类征求意见，联席议事决策。", no_args_is_help=True)
deliberate_app = typer.Typer(help="阶段一：联席会议逐条议定意见建议（导出议题表、导入决定）。", no_args_is_help=True)
assign_app = typer.Typer(help="阶段二：分工负责项目，设岗定责。", no_args_is_help=True)
commitments_app = typer.Typer(help="阶段三：签订责任状和承诺书，联名公开承诺。", no_args_is_help=True)
progress_app = typer.Typer(help="阶段四：每月报告工作任务进度。", no_args_is_help=True)
evaluate_app = typer.Typer(help="阶段五：年底联合考评、创新奖与经费。", no_args_is_help=True)
cycle_app = typer.Typer(help="年度工作周期：一次推进各阶段，查看各社区进度。", no_args_is_help=True)
report_app = typer.Typer(help="报表。", no_args_is_help=True)
outbox_app = typer.Typer(help="发件箱：查看、发送、重发通知。", no_args_is_help=True)
notices_app = typer.Typer(help="通知模板。", no_args_is_help=True)
tasks_app = typer.Typer(help="阶段二：任务卡（年度目标、完成时限、责任领导、联络员、协办单位、实施步骤）。", no_args_is_help=True)
posts_app = typer.Typer(help="阶段二：设岗定责（岗位种类、认领岗位、突发事件临时设岗）。", no_args_is_help=True)
board_app = typer.Typer(help="公开栏：生成可离线浏览、手机可看的静态网页。", no_args_is_help=True)
for group, name in ((db_app, "db"), (org_app, "org"), (opinions_app, "opinions"), (assign_app, "assign"),
                    (commitments_app, "commitments"), (evaluate_app, "evaluate"), (cycle_app, "cycle"), (report_app, "report"),
                    (outbox_app, "outbox"), (notices_app, "notices"), (deliberate_app, "deliberate"), (progress_app, "progress"),
                    (tasks_app, "tasks"), (posts_app, "posts"), (board_app, "board")):
    app.add_typer(group, name=name)

YearOption = Annotated[int, typer.Option("--year", "-y", help="年度，例如 2026（默认今年）")]
CommunityOption = Annotated[Optional[list[str]], typer.Option("--community", "-c", help="只处理这些社区（编码或名称，可重复）")]
JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON，供其他程序读取")]


def this_year() -> int:
    return clock.today().year


def ready_database() -> str:
    """Make sure the database exists and has the current schema; an empty one is created."""
    from lianchuang.models.db import schema_state, upgrade_database
    from sqlalchemy.exc import OperationalError

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


def session():
    from lianchuang.models.db import session_scope

    ready_database()
    return session_scope()


def print_summary(summary: dict, title: str) -> None:
    table = Table(title=title, show_header=False)
    for label, value in result_lines(summary):
        table.add_row(label, value)
    console.print(table)


@app.callback()
def choose_locale(locale: Annotated[Optional[str], typer.Option("--locale", help="通知语言：zh_CN（默认）或 en")] = None) -> None:
    """联创：社区党建“三级联创”责任机制年度工作平台。"""
    if locale:
        if locale not in ("zh_CN", "en"):
            raise UserError(f"语言只能是 zh_CN 或 en，不是“{locale}”")
        os.environ["LIANCHUANG_LOCALE"] = locale
        from lianchuang.settings import reset_settings

        reset_settings()


# ---- db ----

@db_app.command("upgrade")
def db_upgrade() -> None:
    """创建或升级数据库结构（可重复运行）。"""
    from lianchuang.models.db import upgrade_database

    url = get_settings().db_url
    upgrade_database(url)
    console.print(f"数据库已是最新结构：{url.split('@')[-1]}")


# ---- org ----

@org_app.command("template")
def org_template(output: Annotated[Path, typer.Option("--output", "-o", help="要生成的 .xlsx 文件")] = Path("组织架构模板.xlsx")) -> None:
    """生成组织架构导入模板（街道、社区、单位、人员四张表，带下拉选项）。"""
    from lianchuang.tasks.org import write_org_template

    write_org_template(output)
    console.print(f"已生成模板：{output}。填好后运行：lianchuang org import {output}")


@org_app.command("import")
def org_import(file: Annotated[Path, typer.Argument(help="填好的组织架构 .xlsx 文件")]) -> None:
    """导入组织架构。有任何错误则整个文件不导入，并逐条列出文件、行、列和原因。"""
    from lianchuang.tasks.cycle import audit
    from lianchuang.tasks.org import load_org, parse_workbook

    with session() as s:
        counts = load_org(s, parse_workbook(s, file))
        audit(s, "import", "org", file=str(file), **counts)
    console.print("导入完成：" + "，".join(f"{label} {counts[key]}" for key, label in (
        ("districts", "区"), ("streets", "街道"), ("communities", "社区"), ("units", "单位"), ("people", "人员"))))


@org_app.command("list")
def org_list(as_json: JsonOption = False) -> None:
    """列出已导入的社区及其单位、人员数。"""
    from lianchuang.tasks.org import org_overview

    with session() as s:
        rows = org_overview(s)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("区", "街道", "社区编码", "社区", "单位数", "人员数")
    for row in rows:
        table.add_row(row["district"], row["street"], row["code"], row["community"], str(row["units"]), str(row["people"]))
    console.print(table)
    console.print(f"共 {len(rows)} 个社区")


# ---- stages ----

def run_flow(flow, title: str, **parameters) -> dict:
    ready_database()
    with console.status(f"{title}……"):
        result = flow(**parameters)
    print_summary(result, title)
    return result


@opinions_app.command("run")
def opinions_run(year: YearOption = None, community: CommunityOption = None,
                 deadline: Annotated[Optional[str], typer.Option(help="意见截止日期 YYYY-MM-DD（默认三周后）")] = None) -> None:
    """发出征求意见通知；有待议建议的社区发联席会议通知；已议定的建议反馈给提出人。"""
    from lianchuang.flows.stages import opinions_stage

    run_flow(opinions_stage, "征求意见·联席决策", year=year or this_year(), communities=community,
             deadline=parse_date(deadline) if deadline else None)


@opinions_app.command("open")
def opinions_open(year: YearOption = None, community: CommunityOption = None,
                  deadline: Annotated[Optional[str], typer.Option(help="意见截止日期 YYYY-MM-DD（默认三周后）")] = None) -> None:
    """向各社区六类对象（挂点领导、挂点单位、驻区单位、民间组织、群团组织、社区群众）发出征求意见通知。"""
    from lianchuang.flows.stages import open_opinions

    run_flow(open_opinions, "征求意见", year=year or this_year(), communities=community,
             deadline=parse_date(deadline) if deadline else None)


@opinions_app.command("template")
def opinions_template(year: YearOption = None, community: CommunityOption = None,
                      output: Annotated[Path, typer.Option("--output", "-o", help="要生成的 .xlsx 文件")] = Path("意见建议征集表.xlsx")) -> None:
    """生成意见建议征集表（社区、来源类别、渠道为下拉选项），发给各单位填写。"""
    from lianchuang.tasks.opinions.sheets import write_opinion_template

    with session() as s:
        write_opinion_template(s, output, year or this_year(), community)
    console.print(f"已生成：{output}。收回后运行：lianchuang opinions import {output} --year {year or this_year()}")


@opinions_app.command("import")
def opinions_import(file: Annotated[Path, typer.Argument(help="填好的征集表（.xlsx 或 .csv，UTF-8 或 GBK 均可）")],
                    year: YearOption = None) -> None:
    """导入意见建议。整个文件有任何问题都不导入，并逐条列出行、列和原因；同一文件导入两次不会重复。"""
    from lianchuang.tasks.cycle import audit, ensure_cycle
    from lianchuang.tasks.opinions.sheets import import_opinions

    year = year or this_year()
    with session() as s, console.status("导入中……"):
        result = import_opinions(s, ensure_cycle(s, year).id, year, file)
        audit(s, "import", "opinions", file=str(file), **result)
    console.print(f"导入完成：共 {result['rows']:,} 条，新增 {result['new']:,} 条，已导入过 {result['already_there']:,} 条。"
                  f"下一步：lianchuang deliberate agenda --year {year} --community 社区 -o 议题.xlsx")


@opinions_app.command("add")
def opinions_add(community: Annotated[str, typer.Option("--community", "-c", help="社区编码或名称")],
                 source: Annotated[str, typer.Option(help="来源类别：挂点领导、挂点单位、驻区单位、民间组织、群团组织、社区群众")],
                 channel: Annotated[str, typer.Option(help="渠道，例如 入户、公开栏、意见箱、热线电话")],
                 content: Annotated[str, typer.Option(help="建议内容")],
                 submitter: Annotated[Optional[str], typer.Option(help="提出人（可不填，匿名）")] = None,
                 contact: Annotated[Optional[str], typer.Option(help="联系方式（填邮箱可收到反馈）")] = None,
                 on: Annotated[Optional[str], typer.Option("--date", help="日期 YYYY-MM-DD（默认今天）")] = None,
                 year: YearOption = None) -> None:
    """录入一条纸质意见表或入户记录。"""
    from lianchuang.errors import ImportRefused
    from lianchuang.tasks.cycle import ensure_cycle
    from lianchuang.tasks.opinions.rules import record_opinions
    from lianchuang.tasks.opinions.sheets import OpinionRows

    year = year or this_year()
    problems = []
    with session() as s:
        opinion = OpinionRows(s, year).parse(COMMAND_LINE, 0, dict(community=community, source_kind=source, channel=channel,
                                                           content=content, submitter=submitter or "", contact=contact or "",
                                                           date=on or clock.today().isoformat()), problems)
        if problems:
            raise ImportRefused(problems)
        new = record_opinions(s, ensure_cycle(s, year).id, [opinion])
    console.print("已录入。" if new else "这条建议已经录入过，未重复录入。")


@opinions_app.command("report")
def opinions_report(year: YearOption = None, as_json: JsonOption = False) -> None:
    """各社区意见征集情况：按来源类别和渠道统计，采纳/合并/不采纳/待议，并标出没有征求到的来源类别。"""
    from lianchuang.models.enums import SOURCE_KINDS
    from lianchuang.tasks.cycle import existing_cycle
    from lianchuang.tasks.opinions.sheets import coverage

    with session() as s:
        rows = coverage(s, existing_cycle(s, year or this_year()).id)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("社区", *(k.label for k in SOURCE_KINDS), "采纳", "合并", "不采纳", "待议", "未征求到")
    for row in rows:
        table.add_row(row["community"], *(str(row["by_source_kind"].get(k.value, 0)) for k in SOURCE_KINDS),
                      str(row["adopted"]), str(row["merged"]), str(row["declined"]), str(row["pending"]),
                      "[red]" + "、".join(UnitKind(k).label for k in row["kinds_not_heard"]) + "[/red]" if row["kinds_not_heard"] else "")
    console.print(table)


@deliberate_app.command("agenda")
def deliberate_agenda(community: Annotated[str, typer.Option("--community", "-c", help="社区编码或名称")],
                      year: YearOption = None,
                      output: Annotated[Path, typer.Option("--output", "-o", help="要生成的议题表 .xlsx")] = Path("联席会议议题.xlsx")) -> None:
    """导出某社区待议的意见建议（措辞相近的已标出），供联席会议逐条填写决定。"""
    from lianchuang.tasks.cycle import communities_in_scope, existing_cycle
    from lianchuang.tasks.opinions.agenda import write_agenda

    with session() as s:
        place = communities_in_scope(s, [community])[0]
        count = write_agenda(s, existing_cycle(s, year or this_year()).id, place, output)
    console.print(f"已导出 {place.name} 待议建议 {count} 条：{output}。会后运行：lianchuang deliberate import {output}")


@deliberate_app.command("import")
def deliberate_import(file: Annotated[Path, typer.Argument(help="联席会议填好决定的议题表")], year: YearOption = None) -> None:
    """导入联席会议的决定：采纳的建议成为年度任务，合并的并入任务，不采纳的记录理由；然后给提出人发反馈。"""
    from lianchuang.flows.stages import opinions_stage
    from lianchuang.tasks.cycle import audit, existing_cycle
    from lianchuang.tasks.opinions.agenda import import_decisions

    year = year or this_year()
    with session() as s:
        result = import_decisions(s, existing_cycle(s, year).id, file)
        audit(s, "import", "decisions", file=str(file), **result)
    console.print(f"{result['community']}：采纳 {result['adopted']} 条，合并 {result['merged']} 条，不采纳 {result['declined']} 条，"
                  f"此前已议定 {result['unchanged']} 条，仍待议 {result['still_pending']} 条。")
    run_flow(opinions_stage, "发送反馈通知", year=year, communities=[result["community"]])


@assign_app.command("run")
def assign_run(year: YearOption = None, community: CommunityOption = None) -> None:
    """为未分工的任务推荐牵头单位，补全任务卡，开设岗位，通知责任人。"""
    from lianchuang.flows.stages import division_stage

    run_flow(division_stage, "分工负责·设岗定责", year=year or this_year(), communities=community)


@assign_app.command("propose")
def assign_propose(year: YearOption = None,
                   street: Annotated[Optional[str], typer.Option("--street", "-s", help="只处理这个街道（编码或名称）")] = None,
                   redo: Annotated[bool, typer.Option("--redo", help="重新推荐所有非人工确定的分工（人工确定的保留）")] = False,
                   units: Annotated[bool, typer.Option("--units", help="列出每个单位承担的任务数")] = False) -> None:
    """按就近便利、择优配岗、总体平衡，为没有牵头单位的任务推荐牵头单位和协办单位（整体最优，不受任务顺序影响）。"""
    from lianchuang.tasks.cycle import audit, existing_cycle
    from lianchuang.tasks.division import assignment

    year = year or this_year()
    with session() as s:
        cycle = existing_cycle(s, year)
        ids = street_community_ids(s, street)
        cleared = assignment.clear_proposals(s, cycle.id, ids) if redo else 0
        proposals, balance = assignment.propose(s, cycle.id, ids)
        assignment.apply(s, proposals)
        audit(s, "propose", "assignment", year=year, street=street, proposals=len(proposals), cleared=cleared)
    show_balance(balance, units)
    console.print(f"已推荐 {len(proposals):,} 项任务的分工" + (f"（重新推荐，清除了 {cleared:,} 项原推荐）" if redo else "")
                  + (f"；{balance.unassigned} 项任务所在街道没有可承担任务的单位" if balance.unassigned else "")
                  + f"。下一步：lianchuang assign export --year {year} -o 分工表.xlsx 审核，或 lianchuang assign run --year {year}")


def street_community_ids(s, street: str | None) -> list[int]:
    from lianchuang.models import Community, Street
    from sqlalchemy import or_, select

    if not street:
        return list(s.scalars(select(Community.id)))
    found = s.scalars(select(Street).where(or_(Street.code == street, Street.name == street))).first()
    if found is None:
        raise UserError(f"找不到街道“{street}”（用 lianchuang org list 查看）")
    return list(s.scalars(select(Community.id).where(Community.street_id == found.id)))


def show_balance(balance, per_unit: bool) -> None:
    table = Table("承担任务数", "之前（单位数）", "之后（单位数）", title="各单位牵头任务数分布")
    for load, before, after in balance.histogram():
        table.add_row(str(load), f"{before:,}", f"{after:,}")
    console.print(table)
    figures = Table("", "单位数", "任务数", "平均", "最多", "标准差", "超出可承担数的单位", title="总体平衡")
    for name, loads in (("之前", balance.before), ("之后", balance.after)):
        f = balance.figures(loads)
        figures.add_row(name, f"{f['units']:,}", f"{f['tasks']:,}", str(f["mean"]), str(f["max"]), str(f["std"]),
                        f"{f['over_capacity']:,}")
    console.print(figures)
    if per_unit:
        units = Table("单位编码", "可承担", "之前", "之后")
        for unit_id, code in sorted(balance.codes.items(), key=lambda item: item[1]):
            units.add_row(code, str(balance.capacity[unit_id]), str(balance.before[unit_id]), str(balance.after[unit_id]))
        console.print(units)


@assign_app.command("export")
def assign_export(year: YearOption = None, community: CommunityOption = None,
                  output: Annotated[Path, typer.Option("--output", "-o", help="要生成的 .xlsx 文件")] = Path("分工表.xlsx")) -> None:
    """导出分工表（牵头单位、协办单位、责任领导、联络员、目标、时限、推荐理由），供分工会议审核修改。"""
    from lianchuang.tasks.cycle import communities_in_scope, existing_cycle
    from lianchuang.tasks.division.sheets import export_assignments

    year = year or this_year()
    with session() as s:
        count = export_assignments(s, output, existing_cycle(s, year).id, [c.id for c in communities_in_scope(s, community)])
    console.print(f"已导出 {count:,} 项任务：{output}。改好后运行：lianchuang assign import {output} --year {year}")


@assign_app.command("import")
def assign_import(file: Annotated[Path, typer.Argument(help="改好的分工表 .xlsx 或 .csv")], year: YearOption = None) -> None:
    """导入审核后的分工表。改动的任务记为“人工确定”，重新推荐时保留；有任何问题整个文件不导入。"""
    from lianchuang.tasks.cycle import audit, existing_cycle
    from lianchuang.tasks.division.sheets import import_assignments

    year = year or this_year()
    with session() as s:
        result = import_assignments(s, year, existing_cycle(s, year).id, file)
        audit(s, "import", "assignments", file=str(file), **result)
    console.print(f"导入完成：共 {result['rows']:,} 项任务，改动 {result['changed']:,} 项（记为人工确定）。"
                  f"下一步：lianchuang tasks check --year {year}")


@assign_app.command("set")
def assign_set(task: Annotated[str, typer.Argument(help="任务编号")], year: YearOption = None,
               lead: Annotated[Optional[str], typer.Option("--lead", help="牵头单位编码")] = None,
               co: Annotated[Optional[list[str]], typer.Option("--co", help="协办单位编码（可重复）")] = None,
               leader: Annotated[Optional[str], typer.Option("--leader", help="责任领导的人员编码")] = None,
               liaison: Annotated[Optional[str], typer.Option("--liaison", help="联络员的人员编码")] = None,
               goal: Annotated[Optional[str], typer.Option("--goal", help="年度目标")] = None,
               deadline: Annotated[Optional[str], typer.Option("--deadline", help="完成时限 YYYY-MM-DD")] = None) -> None:
    """人工确定一项任务的分工或任务卡内容（重新推荐时保留）。"""
    from lianchuang.tasks.cycle import audit, existing_cycle
    from lianchuang.tasks.division.sheets import CardChange, apply_changes

    year = year or this_year()
    change = CardChange(task, lead=lead, co=co, leader=leader, liaison=liaison, goal=goal, deadline=deadline)
    with session() as s:
        changed = apply_changes(s, year, existing_cycle(s, year).id, [(0, change)], COMMAND_LINE)
        audit(s, "set", f"task:{task}", **{k: v for k, v in vars(change).items() if v is not None})
    console.print(f"任务 {task} 已更新（人工确定）。" if changed else f"任务 {task} 没有变化。")


@tasks_app.command("check")
def tasks_check(year: YearOption = None, community: CommunityOption = None, as_json: JsonOption = False) -> None:
    """列出任务卡不完整的任务（缺牵头单位、责任领导、联络员、目标、时限或实施步骤）。不完整时不能公开承诺。"""
    from lianchuang.tasks.cycle import communities_in_scope, existing_cycle
    from lianchuang.tasks.division.cards import missing_fields

    year = year or this_year()
    with session() as s:
        rows = missing_fields(s, existing_cycle(s, year).id, [c.id for c in communities_in_scope(s, community)])
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif not rows:
        console.print("所有任务卡都已完整，可以签订并公开承诺：lianchuang commitments run")
    else:
        table = Table("任务编号", "社区", "任务", "缺少")
        for row in rows:
            table.add_row(row["code"], row["community"], row["title"], "、".join(row["missing"]))
        console.print(table)
        console.print(f"{len(rows):,} 项任务的任务卡不完整，这些社区暂不能公开承诺。补全：lianchuang assign export 后改好再 "
                      "assign import，或 lianchuang assign set 任务编号 ...；负责人和步骤可由 lianchuang assign run 按牵头单位自动补全")
    if rows:
        raise typer.Exit(1)


# ---- posts ----

@posts_app.command("kinds")
def posts_kinds() -> None:
    """列出岗位种类及其职责。"""
    from lianchuang.models import PostKind
    from lianchuang.tasks.division.cards import ensure_post_kinds
    from sqlalchemy import select

    with session() as s:
        ensure_post_kinds(s)
        kinds = s.scalars(select(PostKind).order_by(PostKind.id)).all()
        table = Table("岗位", "职责", "突发事件")
        for kind in kinds:
            table.add_row(kind.name, kind.duty, "是" if kind.emergency else "")
    console.print(table)


@posts_app.command("kind-add")
def posts_kind_add(name: Annotated[str, typer.Argument(help="岗位名称，例如 垃圾分类督导岗")],
                   duty: Annotated[str, typer.Option("--duty", help="岗位职责")] = "",
                   emergency: Annotated[bool, typer.Option("--emergency", help="用于突发事件的临时岗位")] = False) -> None:
    """新增岗位种类，或修改已有岗位的职责。新增的岗位在下次 assign run 时在各社区开设。"""
    from lianchuang.tasks.division.posts import save_post_kind

    with session() as s:
        new = save_post_kind(s, name, duty, emergency)
    console.print(f"已新增岗位“{name}”。" if new else f"已更新岗位“{name}”。")


@posts_app.command("list")
def posts_list(community: Annotated[str, typer.Option("--community", "-c", help="社区编码或名称")], year: YearOption = None) -> None:
    """查看某社区开设的岗位、人数上限和在岗人员。"""
    from lianchuang.tasks.cycle import communities_in_scope, existing_cycle
    from lianchuang.tasks.division.posts import post_table

    with session() as s:
        place = communities_in_scope(s, [community])[0]
        rows = post_table(s, existing_cycle(s, year or this_year()).id, place.id)
    table = Table("岗位", "人数", "在岗人员", title=f"{place.name} 设岗定责")
    for row in rows:
        table.add_row(row["kind"] + ("（临时）" if row["temporary"] else ""), f"{len(row['holders'])}/{row['capacity']}",
                      "、".join(row["holders"]))
    console.print(table if rows else f"{place.name}还没有开设岗位：请先运行 lianchuang assign run")


@posts_app.command("claim")
def posts_claim(person: Annotated[str, typer.Option("--person", "-p", help="人员编码")],
                community: Annotated[str, typer.Option("--community", "-c", help="社区编码或名称")],
                kind: Annotated[str, typer.Option("--kind", "-k", help="岗位名称，例如 平安创建岗")],
                year: YearOption = None) -> None:
    """登记一人认领一个岗位（岗位满员或重复认领会被拒绝）。"""
    from lianchuang.tasks.cycle import existing_cycle
    from lianchuang.tasks.division.posts import claim

    with session() as s:
        result = claim(s, existing_cycle(s, year or this_year()).id,
                       [(0, dict(person=person, community=community, kind=kind))], COMMAND_LINE, clock.today())
    if not result["new"]:
        raise UserError(f"{person} 已经认领过{community}的{kind}，不能重复认领")
    console.print("已登记认领。")


@posts_app.command("template")
def posts_template(year: YearOption = None, community: CommunityOption = None,
                   output: Annotated[Path, typer.Option("--output", "-o", help="要生成的 .xlsx 文件")] = Path("岗位认领表.xlsx")) -> None:
    """生成岗位认领表（社区、岗位为下拉选项），收集纸质认领。"""
    from lianchuang.tasks.cycle import communities_in_scope
    from lianchuang.tasks.division.posts import write_claim_template

    with session() as s:
        write_claim_template(s, output, [c.id for c in communities_in_scope(s, community)])
    console.print(f"已生成：{output}。收回后运行：lianchuang posts import {output} --year {year or this_year()}")


@posts_app.command("import")
def posts_import(file: Annotated[Path, typer.Argument(help="填好的岗位认领表 .xlsx 或 .csv")], year: YearOption = None) -> None:
    """导入岗位认领。有任何问题（人员或岗位不存在、满员、重复）整个文件不导入；已登记的认领不会重复。"""
    from lianchuang.tasks.cycle import audit, existing_cycle
    from lianchuang.tasks.division.posts import import_claims

    with session() as s:
        result = import_claims(s, existing_cycle(s, year or this_year()).id, file, clock.today())
        audit(s, "import", "post_claims", file=str(file), **result)
    console.print(f"导入完成：共 {result['rows']:,} 条，新登记 {result['new']:,} 条，已登记过 {result['already_there']:,} 条。")


@posts_app.command("emergency")
def posts_emergency(community: Annotated[str, typer.Option("--community", "-c", help="发生突发事件的社区（编码或名称）")],
                    situation: Annotated[str, typer.Option("--situation", help="情况说明，例如 强降雨致沿江小区进水，急需人手")],
                    kind: Annotated[str, typer.Option("--kind", "-k", help="岗位名称")] = "突发事件处置岗",
                    capacity: Annotated[int, typer.Option("--capacity", help="需要多少人")] = 20,
                    year: YearOption = None) -> None:
    """突发事件时开设临时岗位，并立即向本社区和同街道相邻社区的党员、积极分子发出紧急通知。"""
    from lianchuang.flows.stages import emergency_posts

    run_flow(emergency_posts, "临时设岗", year=year or this_year(), community=community, kind=kind, capacity=capacity,
             situation=situation)


# ---- commitments and board ----

@commitments_app.command("list")
def commitments_list(community: Annotated[str, typer.Option("--community", "-c", help="社区编码或名称")],
                     year: YearOption = None) -> None:
    """查看某社区的责任状和承诺书：谁签了、何时签、是否已公开。"""
    from lianchuang.tasks.commitments.rules import commitment_table
    from lianchuang.tasks.cycle import communities_in_scope, existing_cycle

    with session() as s:
        place = communities_in_scope(s, [community])[0]
        rows = commitment_table(s, existing_cycle(s, year or this_year()).id, place.id)
    table = Table("编号", "类别", "签订方", "签字人", "签订时间", "公开日期", title=f"{place.name} 责任状与承诺书")
    for row in rows:
        table.add_row(row["holder_key"], row["kind"], row["holder"], row["signed_by"] or "[red]未签[/red]",
                      row["signed_at"] or "", row["published_on"] or "")
    console.print(table if rows else f"{place.name}还没有责任状和承诺书：请先运行 lianchuang commitments run")
    if rows:
        console.print(f"可打印文件：{rows[0]['document_path']}")


@commitments_app.command("sign")
def commitments_sign(community: Annotated[str, typer.Option("--community", "-c", help="社区编码或名称")],
                     by: Annotated[str, typer.Option("--by", help="签字人姓名，或签订会议名称")],
                     holder: Annotated[Optional[list[str]], typer.Option("--holder", help="签订方：单位编码或人员编码（可重复）；不填则用 --all")] = None,
                     all_: Annotated[bool, typer.Option("--all", help="本社区所有未签的责任状和承诺书（分工大会集中签订时用）")] = False,
                     on: Annotated[Optional[str], typer.Option("--date", help="签订日期 YYYY-MM-DD（默认今天）")] = None,
                     year: YearOption = None) -> None:
    """记录责任状、承诺书已签订（谁签、何时签）。签齐且任务卡完整后，commitments run 会联名公开。"""
    from datetime import datetime

    from lianchuang.tasks.commitments.rules import sign_in_community
    from lianchuang.tasks.cycle import audit, communities_in_scope, existing_cycle

    if not holder and not all_:
        raise UserError("请用 --holder 指定签订方（单位或人员编码），或用 --all 签订本社区全部")
    at = datetime.combine(parse_date(on), datetime.min.time()) if on else clock.now()
    with session() as s:
        place = communities_in_scope(s, [community])[0]
        signed, already = sign_in_community(s, existing_cycle(s, year or this_year()).id, place.id, holder, by, at)
        audit(s, "sign", f"commitments:{place.code}", actor=by, signed=signed)
    console.print(f"已记录签订 {signed} 份" + (f"，{already} 份此前已签" if already else "")
                  + f"。签齐后运行：lianchuang commitments run --community {place.code}")


@board_app.command("build")
def board_build(year: YearOption = None,
                output: Annotated[Optional[Path], typer.Option("--output", "-o", help="输出目录（默认数据目录下的 board/年度）")] = None) -> None:
    """生成公开栏静态网站：首页、每个街道一页、每个社区一页（任务、岗位、承诺、排名、考评结果），不含联系方式。"""
    from lianchuang.tasks.board import build_board
    from lianchuang.tasks.cycle import existing_cycle

    year = year or this_year()
    out_dir = output or get_settings().board_dir / str(year)
    with session() as s, console.status("生成公开栏……"):
        pages = build_board(s, existing_cycle(s, year).id, year, out_dir)
    console.print(f"公开栏已生成 {pages:,} 页：{out_dir / 'index.html'}（可直接用浏览器打开，或复制到网站）")


@app.command("rank")
def rank(month: Annotated[str, typer.Option("--month", "-m", help="月份 YYYY-MM，例如 2026-10（默认上个月）")] = "",
         send: Annotated[bool, typer.Option("--send", help="同时给区、街道、社区联络人发送排名邮件")] = False) -> None:
    """计算并发布某月各社区工作任务进度排名（已发布的月份不会改变）；加 --send 发送排名邮件（不会重复发送）。"""
    from lianchuang.flows.stages import monthly_ranking

    today = clock.today()
    year, number = (today.year - (today.month == 1), (today.month - 2) % 12 + 1) if not month else parse_month(month)
    run_flow(monthly_ranking, f"{year}年{number}月排名", year=year, months=[number], send=send)
    if not send:
        console.print(f"排名已发布。发送邮件：lianchuang rank --month {year}-{number:02d} --send")


@app.command("remind")
def remind(year: YearOption = None) -> None:
    """给节点逾期的任务负责人发逾期提醒（每个节点只提醒一次），并提醒联络员报送本月进度。"""
    from lianchuang.flows.stages import progress_reminders

    run_flow(progress_reminders, "提醒", year=year or this_year())


@progress_app.command("template")
def progress_template(year: YearOption = None, community: CommunityOption = None,
                      output: Annotated[Path, typer.Option("--output", "-o", help="要生成的 .xlsx 文件")] = Path("进度报表.xlsx")) -> None:
    """生成进度报表：列出各项任务和上次进度，填写本月完成百分比即可。"""
    from lianchuang.tasks.cycle import communities_in_scope, existing_cycle
    from lianchuang.tasks.progress.reports import write_progress_template

    year = year or this_year()
    with session() as s:
        count = write_progress_template(s, output, existing_cycle(s, year).id, [c.id for c in communities_in_scope(s, community)])
    console.print(f"已生成 {count} 项任务的进度报表：{output}。填好后运行：lianchuang progress import {output} --year {year}")


@progress_app.command("import")
def progress_import(file: Annotated[Path, typer.Argument(help="填好的进度报表（.xlsx 或 .csv）")], year: YearOption = None) -> None:
    """导入进度报表。有任何问题都不导入，并逐条列出行、列和原因；同一文件导入两次不会重复。"""
    from lianchuang.tasks.cycle import audit, existing_cycle
    from lianchuang.tasks.progress.reports import import_progress

    year = year or this_year()
    with session() as s:
        result = import_progress(s, existing_cycle(s, year).id, year, file)
        audit(s, "import", "progress", file=str(file), **result)
    console.print(f"导入完成：{result['rows']} 条进度，新增 {result['new']} 条，已导入过 {result['already_there']} 条。")


@progress_app.command("add")
def progress_add(task: Annotated[str, typer.Argument(help="任务编号，例如 D01S01C01-003")],
                 percent: Annotated[str, typer.Option(help="完成百分比 0–100")],
                 on: Annotated[Optional[str], typer.Option("--date", help="日期 YYYY-MM-DD（默认今天）")] = None,
                 milestone: Annotated[Optional[str], typer.Option(help="到达的节点月份")] = None,
                 note: Annotated[Optional[str], typer.Option(help="说明")] = None,
                 reason: Annotated[Optional[str], typer.Option(help="进度比上次低时的原因")] = None,
                 funds: Annotated[str, typer.Option(help="投入资金（元）")] = "0",
                 matters: Annotated[str, typer.Option(help="办理事项（件）")] = "0", year: YearOption = None) -> None:
    """报告一项任务的进度。"""
    from lianchuang.tasks.cycle import existing_cycle
    from lianchuang.tasks.progress.ranking import record_reports
    from lianchuang.tasks.progress.reports import check_reports

    year = year or this_year()
    row = dict(task=task, percent=percent, date=on or clock.today().isoformat(), milestone=milestone or "",
               note=note or "", reason=reason or "", funds=funds, matters=matters)
    with session() as s:
        new = record_reports(s, check_reports(s, existing_cycle(s, year).id, year, COMMAND_LINE, [(0, row)]))
    console.print("已记录。" if new else "这一天的进度已经报告过，未重复记录。")


@app.command("serve")
def serve() -> None:
    """在 Prefect 服务器上登记定时任务并运行：每月1日8:00（北京时间）发布并发送上月排名；每周一8:00逾期提醒。"""
    from lianchuang.flows.schedules import serve_schedules

    serve_schedules()


@evaluate_app.command("run")
def evaluate_run(year: YearOption = None, close: Annotated[bool, typer.Option("--close", help="结束评议：计票并公示")] = False,
                 budget: Annotated[Optional[int], typer.Option(help="同时评创新奖并分配的党建工作经费总额（元）")] = None) -> None:
    """发出民主评议邀请（每人一次性评议码）；加 --close 结束评议并公示；再加 --budget 评创新奖、分配经费。"""
    from lianchuang.flows.stages import evaluation_stage

    run_flow(evaluation_stage, "联合考评", year=year or this_year(), close=close, budget=budget)


@evaluate_app.command("open")
def evaluate_open(year: YearOption = None) -> None:
    """开始民主评议：按评议方案向各评议主体发出邀请，每人一个一次性评议码（重复运行只邀请新增的人）。"""
    from lianchuang.flows.stages import evaluation_stage

    run_flow(evaluation_stage, "发出评议邀请", year=year or this_year())


@evaluate_app.command("scheme")
def evaluate_scheme(year: YearOption = None,
                    output: Annotated[Path, typer.Option("--output", "-o", help="要生成的 .xlsx 文件")] = Path("评议方案.xlsx")) -> None:
    """导出评议方案（评议项目、各评议主体权重和最少票数、等次分值），修改后用 scheme-import 导入。"""
    from lianchuang.tasks.cycle import ensure_cycle
    from lianchuang.tasks.evaluation.scheme import export_scheme

    year = year or this_year()
    with session() as s:
        export_scheme(s, output, ensure_cycle(s, year).id)
    console.print(f"已导出：{output}。改好后运行：lianchuang evaluate scheme-import {output} --year {year}")


@evaluate_app.command("scheme-import")
def evaluate_scheme_import(file: Annotated[Path, typer.Argument(help="改好的评议方案 .xlsx")], year: YearOption = None) -> None:
    """导入评议方案（开始投票前）。有任何问题整个文件不导入。"""
    from lianchuang.tasks.cycle import audit, ensure_cycle
    from lianchuang.tasks.evaluation.scheme import import_scheme

    with session() as s:
        result = import_scheme(s, ensure_cycle(s, year or this_year()).id, file)
        audit(s, "import", "evaluation_scheme", file=str(file), **result)
    console.print(f"评议方案已更新：{result['items']} 个评议项目，{result['groups']} 个评议主体，{result['grades']} 个等次。")


@evaluate_app.command("template")
def evaluate_template(community: Annotated[str, typer.Option("--community", "-c", help="社区编码或名称")], year: YearOption = None,
                      output: Annotated[Path, typer.Option("--output", "-o", help="要生成的 .xlsx 文件")] = Path("选票录入表.xlsx")) -> None:
    """生成某社区的纸质选票录入表（每项任务一行，填评议码和等次）。"""
    from lianchuang.tasks.cycle import communities_in_scope, existing_cycle
    from lianchuang.tasks.evaluation.ballots import write_ballot_sheet

    with session() as s:
        place = communities_in_scope(s, [community])[0]
        count = write_ballot_sheet(s, output, existing_cycle(s, year or this_year()).id, place)
    console.print(f"已生成 {place.name} 选票录入表（{count} 项任务）：{output}。录好后运行：lianchuang evaluate import {output}")


@evaluate_app.command("import")
def evaluate_import(file: Annotated[Path, typer.Argument(help="录好的选票 .xlsx 或 .csv（评议码、任务编号、等次）")],
                    year: YearOption = None) -> None:
    """录入纸质选票。评议码不存在或已用过、评了别的社区的任务、同一任务评两次，整个文件都不录入。"""
    from lianchuang.tasks.cycle import audit, existing_cycle
    from lianchuang.tasks.evaluation.ballots import import_ballots

    with session() as s:
        result = import_ballots(s, existing_cycle(s, year or this_year()).id, file)
        audit(s, "import", "ballots", file=str(file), **result)
    console.print(f"已录入 {result['evaluators']} 人的选票，共 {result['ballots']} 票。评议结束前结果不公开。")


@evaluate_app.command("vote")
def evaluate_vote(code: Annotated[str, typer.Argument(help="评议码")],
                  grades: Annotated[list[str], typer.Argument(help="任务编号=等次，例如 D01S01C01-001=优秀（可多个）")],
                  year: YearOption = None) -> None:
    """一人一次投票：评议码加上对本社区各项任务的等次。评议码只能用一次。"""
    from lianchuang.models.enums import Grade
    from lianchuang.tasks.cycle import existing_cycle
    from lianchuang.tasks.evaluation.ballots import NewBallot, cast_ballots

    ballots = []
    for number, pair in enumerate(grades, start=1):
        task, _, grade = pair.partition("=")
        if not Grade.parse(grade):
            raise UserError(f"第{number}个“{pair}”格式不对：应为 任务编号=等次，等次是 优秀、良好、一般 或 较差")
        ballots.append((number, NewBallot(code.strip().upper(), task.strip(), Grade.parse(grade))))
    with session() as s:
        count = cast_ballots(s, existing_cycle(s, year or this_year()).id, ballots, COMMAND_LINE)
    console.print(f"已投票：{count} 项任务。谢谢参与！评议码已作废。")


@evaluate_app.command("close")
def evaluate_close(year: YearOption = None) -> None:
    """结束评议：计票（按主体加权、去掉最高最低分、不足最少票数不计），公示结果并通知，开始异议期。"""
    from lianchuang.flows.stages import evaluation_stage

    run_flow(evaluation_stage, "结束评议·公示结果", year=year or this_year(), close=True)


@evaluate_app.command("explain")
def evaluate_explain(subject: Annotated[str, typer.Argument(help="任务编号或责任人的人员编码")], year: YearOption = None,
                     as_json: JsonOption = False) -> None:
    """说明一项任务或一位责任人的得分是怎么算出来的（各评议主体票数、平均分、权重；不显示谁投了什么）。"""
    from lianchuang.tasks.cycle import existing_cycle
    from lianchuang.tasks.evaluation.ballots import explain

    with session() as s:
        result = explain(s, existing_cycle(s, year or this_year()).id, subject)
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    table = Table("评议主体", "票数", "最少票数", "各等次票数", "平均分", "权重", "折算权重", title=result["subject"])
    for g in result["groups"]:
        grades = "、".join(f"{k}{v}" for k, v in g["by_grade"].items() if v) if g["by_grade"] else "（不足3票，不列出）"
        mean = f"{g['mean']}" + ("（去掉最高、最低各1票）" if g["trimmed"] else "")
        table.add_row(g["group"], str(g["ballots"]), str(g["quorum"]), grades, mean if g["counted"] else f"{mean}，票数不足不计",
                      str(g["weight"]), f"{g['share']:.1%}" if g["counted"] else "—")
    console.print(table)
    score = result["score"]
    console.print(f"得分 = 各计入主体平均分 × 折算权重之和 = {score}" if score is not None else "未评定：没有评议主体达到最少票数")


@evaluate_app.command("object")
def evaluate_object(subject: Annotated[str, typer.Argument(help="对哪项结果有异议：任务编号或责任人编码")],
                    by: Annotated[str, typer.Option("--by", help="异议人")],
                    content: Annotated[str, typer.Option("--content", help="异议内容")],
                    on: Annotated[Optional[str], typer.Option("--date", help="收到日期 YYYY-MM-DD（默认今天）")] = None,
                    year: YearOption = None) -> None:
    """登记公示期内收到的异议（过了公示期也登记，但标为逾期）。"""
    from lianchuang.tasks.cycle import audit, existing_cycle
    from lianchuang.tasks.evaluation.ballots import record_objection

    with session() as s:
        objection = record_objection(s, existing_cycle(s, year or this_year()).id, subject, by, content,
                                     parse_date(on) if on else clock.today())
        audit(s, "object", f"result:{subject}", actor=by)
        late = not objection.within_deadline
    console.print(f"已登记异议（编号 {objection.id}）" + ("，已过公示期，标为逾期" if late else "") + "。查看：lianchuang evaluate objections")


@evaluate_app.command("objections")
def evaluate_objections(year: YearOption = None) -> None:
    """列出收到的异议。"""
    from lianchuang.models import Community, Objection
    from lianchuang.tasks.cycle import existing_cycle
    from sqlalchemy import select

    with session() as s:
        rows = s.execute(select(Objection, Community.name).join(Community, Objection.community_id == Community.id)
                         .where(Objection.cycle_id == existing_cycle(s, year or this_year()).id).order_by(Objection.id)).all()
        table = Table("编号", "社区", "对象", "异议人", "内容", "收到日期", "公示期内")
        for o, community in rows:
            table.add_row(str(o.id), community, o.subject, o.submitted_by, o.content, o.received_on.isoformat(),
                          "是" if o.within_deadline else "[red]逾期[/red]")
    console.print(table if rows else "没有收到异议。")


@app.command("award")
def award(year: YearOption = None, budget: Annotated[int, typer.Option("--budget", help="党建工作经费总额（元）")] = 500_000,
          redo: Annotated[bool, typer.Option("--redo", help="按新的预算重新分配（替换原分配）")] = False) -> None:
    """评选党建创新奖并分配党建工作经费（基础经费均分 + 奖励经费按奖项），分配额合计正好等于预算，每个社区收到计算说明。"""
    from lianchuang.flows.stages import award_stage
    from lianchuang.tasks.cycle import existing_cycle
    from lianchuang.tasks.evaluation.award import check_can_allocate

    with session() as s:  # a mistake is told here in one line, not as a failed flow run
        check_can_allocate(s, existing_cycle(s, year or this_year()).id, budget, redo)
    run_flow(award_stage, "创新奖与经费", year=year or this_year(), budget=budget, redo=redo)


@cycle_app.command("run")
def cycle_run(year: YearOption = None) -> None:
    """按今天的日期，把本年度各阶段尽可能向前推进一步。"""
    from lianchuang.flows.stages import annual_cycle

    ready_database()
    with console.status("推进年度工作周期……"):
        results = annual_cycle(year=year or this_year())
    for stage, summary in results.items():
        print_summary(summary, stage)


@cycle_app.command("status")
def cycle_status(year: YearOption = None, as_json: JsonOption = False) -> None:
    """查看每个社区在各阶段的进度。"""
    from lianchuang.models.enums import Stage, StageStatus
    from lianchuang.models.queries import stage_overview
    from lianchuang.tasks.cycle import existing_cycle

    with session() as s:
        rows = stage_overview(s, existing_cycle(s, year or this_year()))
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("社区", "街道", *(stage.label for stage in Stage))
    for row in rows:
        table.add_row(row["community"], row["street"], *(StageStatus(row[stage.value]).label for stage in Stage))
    console.print(table)


# ---- outbox and notices ----

@outbox_app.command("list")
def outbox_list(status: Annotated[Optional[str], typer.Option(help="只看某种状态：queued 待发送、sent 已发送、printed 待打印、failed 失败")] = None,
                year: Annotated[Optional[int], typer.Option("--year", "-y", help="年度")] = None,
                limit: Annotated[int, typer.Option(help="最多显示多少条")] = 50, as_json: JsonOption = False) -> None:
    """列出最近的通知及其发送状态。"""
    from lianchuang.models.enums import NoticeStatus
    from lianchuang.models.queries import outbox

    if status and NoticeStatus.parse(status) is None:
        raise UserError(f"状态只能是 {'、'.join(s.value for s in NoticeStatus)}，不是“{status}”")
    with session() as s:
        rows = outbox(s, NoticeStatus.parse(status) if status else None, year, limit)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("编号", "收件人", "邮箱", "主题", "状态", "说明")
    for row in rows:
        table.add_row(str(row["id"]), row["recipient"], row["email"] or "（无，打印送达）", row["subject"],
                      NoticeStatus(row["status"]).label, row["error"] or "")
    console.print(table)


@outbox_app.command("show")
def outbox_show(notice_id: Annotated[int, typer.Argument(help="通知编号（见 outbox list）")]) -> None:
    """显示一条通知的收件人、主题、状态和正文。"""
    from lianchuang.models import Notice

    with session() as s:
        notice = s.get(Notice, notice_id)
        if notice is None:
            raise UserError(f"没有编号为 {notice_id} 的通知（用 `lianchuang outbox list` 查看）")
        console.print(f"收件人：{notice.recipient_name} <{notice.recipient_email or '无邮箱，打印送达'}>", markup=False)
        console.print(f"主题：{notice.subject}\n状态：{notice.status.label}（尝试 {notice.attempts} 次）"
                      + (f"\n错误：{notice.last_error}" if notice.last_error else "") + f"\nMessage-ID：{notice.message_id}\n",
                      markup=False)
        console.print(notice.body_text, markup=False, highlight=False)


@outbox_app.command("flush")
def outbox_flush() -> None:
    """发送所有待发送的通知（设置了 LIANCHUANG_SMTP_HOST 时用 SMTP，否则写入 Maildir 文件夹）。"""
    from lianchuang.flows.stages import deliver_outbox

    run_flow(deliver_outbox, "发送通知")


@outbox_app.command("retry")
def outbox_retry() -> None:
    """把发送失败的通知重新排队并发送（例如改正邮箱地址之后）。"""
    from lianchuang.flows.stages import deliver_outbox

    run_flow(deliver_outbox, "重发失败通知", retry_failed=True)


@notices_app.command("preview")
def notices_preview(template: Annotated[str, typer.Argument(help="模板名，例如 ranking、solicitation")],
                    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="把 HTML 写入这个文件")] = None,
                    text: Annotated[bool, typer.Option("--text", help="显示纯文本版本")] = False,
                    locale: Annotated[Optional[str], typer.Option("--locale", help="zh_CN（默认）或 en")] = None) -> None:
    """用示例数据渲染一个通知模板，预览主题和正文。"""
    from lianchuang.tasks.demo.samples import SAMPLES
    from lianchuang.tasks.outbox.rendering import render_notice

    if template not in SAMPLES:
        raise UserError(f"没有模板“{template}”，可选：{'、'.join(sorted(SAMPLES))}")
    if locale:
        choose_locale(locale)
    rendered = render_notice(template, {"recipient": "王建国", **SAMPLES[template]}, get_settings().locale)
    if output:
        output.write_text(rendered.html, encoding="utf-8")
        console.print(f"主题：{rendered.subject}\n已写入：{output}", markup=False)
        return
    console.print(f"主题：{rendered.subject}\n", markup=False)
    console.print(rendered.html if not text else rendered.text, markup=False, highlight=False)


# ---- reports ----

SUMMARY_LABELS = {
    "year": "年度", "streets": "街道", "communities": "社区", "units": "参与单位", "suggestions_gathered": "征集意见建议（条）",
    "source_kinds_heard": "意见来源类别（共6类）", "suggestions_adopted": "采纳为任务", "suggestions_merged": "并入已有任务",
    "suggestions_declined": "不予采纳（已说明理由）", "suggestions_pending": "待议", "tasks": "工作任务（项）",
    "units_with_tasks": "牵头单位", "post_kinds": "岗位种类", "post_holders": "设岗定责人数", "commitments_signed": "已签责任状/承诺书",
    "commitments_published": "已公开承诺", "months_ranked": "已排名月份", "matters_handled": "单位办理事项（件）",
    "funds_yuan": "单位支持资金（元）", "ballots": "评议票数", "tasks_rated": "已评定任务", "average_task_score": "任务平均得分",
    "communities_awarded": "获创新奖社区", "funding_allocated_yuan": "核定党建经费（元）", "notices_sent": "已发送通知（邮件）",
    "notices_to_print": "纸质送达通知（无邮箱）", "notices_queued": "待发送通知", "notices_failed": "发送失败通知",
}


def show_summary(figures: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{figures['year']} 年度“三级联创”工作概况", show_header=False)
    for key, value in figures.items():
        table.add_row(SUMMARY_LABELS.get(key, key), f"{value:,}" if isinstance(value, int) and key != "year" else str(value))
    console.print(table)


@report_app.command("summary")
def report_summary(year: YearOption = None, as_json: JsonOption = False) -> None:
    """年度概况：征集意见、任务、岗位、承诺、排名、评议、经费和通知的数字。"""
    from lianchuang.models.queries import summary
    from lianchuang.tasks.cycle import existing_cycle

    with session() as s:
        figures = summary(s, existing_cycle(s, year or this_year()))
    show_summary(figures, as_json)


# ---- demo and server ----

@app.command("demo")
def demo(scale: Annotated[str, typer.Option(help="规模：district（梅列区规模，约1分钟）、city、province（很慢）")] = "district",
         year: YearOption = None, fresh: Annotated[bool, typer.Option("--fresh", help="清空数据文件夹里的演示数据，从头开始")] = False) -> None:
    """生成演示区并用模拟时钟跑完一整年，最后打印年度概况。再次运行会从中断处继续，不会重复。"""
    from lianchuang.flows.demo import demo_steps, run_demo
    from lianchuang.models.queries import summary
    from lianchuang.tasks.cycle import existing_cycle
    from lianchuang.tasks.demo.data import SCALES

    if scale not in SCALES:
        raise UserError(f"规模只能是 {'、'.join(SCALES)}，不是“{scale}”")
    settings = get_settings()
    year = year or this_year()
    if fresh:
        reset_data()
    ready_database()
    steps = len(demo_steps(year, scale))
    console.print(f"演示：{scale} 规模，{year} 年度，数据文件夹 {settings.data_dir.resolve()}")
    done = 0

    def on_step(description: str, result) -> None:
        nonlocal done
        done += 1
        detail = result if isinstance(result, str) else (
            f"{result:,} 条" if isinstance(result, int) else "，".join(
                f"{label} {value}" for label, value in result_lines(result or {}) if value != "0"))
        console.print(f"[{done:>2}/{steps}] {description}：{detail}", markup=False, highlight=False)

    run_demo(year, scale, on_step)
    with session() as s:
        show_summary(summary(s, existing_cycle(s, year)), as_json=False)
    console.print(f"数据库：{settings.db_url}")
    console.print(f"邮件（Maildir）：{settings.maildir.resolve()}    纸质送达：{settings.print_dir.resolve()}")
    console.print(f"公开栏：{(settings.board_dir / str(year) / 'index.html').resolve()}    责任状与承诺书：{settings.documents_dir.resolve()}")
    console.print("在 Prefect 界面查看各阶段的运行：在同一文件夹运行 `lianchuang server`，然后打开 http://127.0.0.1:4200")


def reset_data() -> None:
    """Drop the app's tables (and delete the SQLite file, outbox, documents and board)."""
    import shutil

    from lianchuang.models.db import drop_everything

    settings = get_settings()
    drop_everything(settings.db_url)
    for folder in (settings.maildir.parent, settings.documents_dir, settings.board_dir):
        shutil.rmtree(folder, ignore_errors=True)


@app.command("server")
def server(port: Annotated[int, typer.Option(help="端口")] = 4200) -> None:
    """启动本地 Prefect 服务器和界面（http://127.0.0.1:4200），可查看各阶段的运行记录。按 Ctrl+C 停止。"""
    console.print(f"Prefect 界面：http://127.0.0.1:{port}（数据：{os.environ['PREFECT_HOME']}）")
    raise typer.Exit(subprocess.call([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                      "--port", str(port)]))


# ---- parsing ----

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


def main() -> None:
    from pydantic import ValidationError

    try:
        configure_prefect_environment(get_settings())
    except ValidationError as error:
        first = error.errors()[0]
        err.print(f"错误：设置 LIANCHUANG_{str(first['loc'][0]).upper()} 的值不对：{first['msg']}", markup=False)
        raise SystemExit(2)
    try:
        app()
    except ImportRefused as refused:
        for problem in refused.problems:
            err.print(f"  {problem}", markup=False, highlight=False)
        err.print(f"错误：{refused}", markup=False, highlight=False)
        raise SystemExit(2)
    except UserError as error:
        err.print(f"错误：{error}", markup=False, highlight=False)
        raise SystemExit(2)
    except KeyboardInterrupt:
        err.print("已中断。再次运行同一命令会从中断处继续。")
        raise SystemExit(130)
    except RuntimeError as error:
        if "ephemeral Prefect API server" not in str(error):
            raise
        err.print("错误：Prefect 临时服务器没有按时启动（机器较慢或磁盘繁忙时会这样）。请再运行一次；"
                  "或先在另一个终端运行 `lianchuang server`，再设置 PREFECT_API_URL=http://127.0.0.1:4200/api 后运行。",
                  markup=False, highlight=False)
        raise SystemExit(3)


if __name__ == "__main__":
    main()
