"""Stage 2: `lianchuang assign` (who leads each task), `tasks` (task cards) and `posts`."""

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
    StreetOption,
    YearOption,
    console,
    fitted_table,
    run_flow,
    scope,
    this_year,
    use,
)

assign_app = typer.Typer(help="阶段二：分工负责项目，设岗定责。", no_args_is_help=True)

tasks_app = typer.Typer(help="阶段二：任务卡（年度目标、完成时限、责任领导、联络员、协办单位、实施步骤）。", no_args_is_help=True)

posts_app = typer.Typer(help="阶段二：设岗定责（岗位种类、认领岗位、突发事件临时设岗）。", no_args_is_help=True)

GROUPS = [(assign_app, "assign"), (tasks_app, "tasks"), (posts_app, "posts")]


@assign_app.command("run")
def assign_run(year: YearOption = None, community: CommunityOption = None, street: StreetOption = None,
               district: DistrictOption = None) -> None:
    """为未分工的任务推荐牵头单位，补全任务卡，开设岗位，通知责任人。"""
    run_flow("division_stage", "分工负责·设岗定责", year=year or this_year(), communities=scope(community, street, district))


@assign_app.command("propose")
def assign_propose(year: YearOption = None,
                   street: Annotated[Optional[str], typer.Option("--street", "-s", help="只处理这个街道（编码或名称）")] = None,
                   redo: Annotated[bool, typer.Option("--redo", help="重新推荐所有非人工确定的分工（人工确定的保留）")] = False,
                   units: Annotated[bool, typer.Option("--units", help="列出每个单位承担的任务数")] = False) -> None:
    """按就近便利、择优配岗、总体平衡，为没有牵头单位的任务推荐牵头单位和协办单位（整体最优，不受任务顺序影响）。"""
    from lianchuang.tasks.division.use_cases import propose_owners

    year = year or this_year()
    proposals, cleared, balance = use(propose_owners, year, street, redo)
    show_balance(balance, units)
    console.print(f"已推荐 {proposals:,} 项任务的分工" + (f"（重新推荐，清除了 {cleared:,} 项原推荐）" if redo else "")
                  + (f"；{balance.unassigned} 项任务所在街道没有可承担任务的单位" if balance.unassigned else "")
                  + f"。下一步：lianchuang assign export --year {year} -o 分工表.xlsx 审核，或 lianchuang assign run --year {year}")


def show_balance(balance, per_unit: bool) -> None:
    table = fitted_table("承担任务数", "之前（单位数）", "之后（单位数）", title="各单位牵头任务数分布")
    for load, before, after in balance.histogram():
        table.add_row(str(load), f"{before:,}", f"{after:,}")
    console.print(table)
    figures = fitted_table("", "单位数", "任务数", "平均", "最多", "标准差", "超出可承担数的单位", title="总体平衡")
    for name, loads in (("之前", balance.before), ("之后", balance.after)):
        f = balance.figures(loads)
        figures.add_row(name, f"{f['units']:,}", f"{f['tasks']:,}", str(f["mean"]), str(f["max"]), str(f["std"]),
                        f"{f['over_capacity']:,}")
    console.print(figures)
    if per_unit:
        units = fitted_table("单位编码", "可承担", "之前", "之后")
        for unit_id, code in sorted(balance.codes.items(), key=lambda item: item[1]):
            units.add_row(code, str(balance.capacity[unit_id]), str(balance.before[unit_id]), str(balance.after[unit_id]))
        console.print(units)


@assign_app.command("export")
def assign_export(year: YearOption = None, community: CommunityOption = None,
                  output: Annotated[Path, typer.Option("--output", "-o", help="要生成的 .xlsx 文件")] = Path("分工表.xlsx"),
                  force: ForceOption = False) -> None:
    """导出分工表（牵头单位、协办单位、责任领导、联络员、目标、时限、推荐理由），供分工会议审核修改。"""
    from lianchuang.tasks.division.use_cases import export_assignment_sheet

    year = year or this_year()
    count = use(export_assignment_sheet, year, community, output, force)
    console.print(f"已导出 {count:,} 项任务：{output}。改好后运行：lianchuang assign import {output} --year {year}")


@assign_app.command("import")
def assign_import(file: Annotated[Path, typer.Argument(help="改好的分工表 .xlsx 或 .csv")], year: YearOption = None) -> None:
    """导入审核后的分工表。改动的任务记为“人工确定”，重新推荐时保留；有任何问题整个文件不导入。"""
    from lianchuang.tasks.division.use_cases import import_assignment_sheet

    year = year or this_year()
    result = use(import_assignment_sheet, year, file)
    console.print(f"导入完成：共 {result['rows']:,} 项任务，改动 {result['changed']:,} 项（记为人工确定）。"
                  f"下一步：lianchuang tasks check --year {year}")


@assign_app.command("set")
def assign_set(task: Annotated[str, typer.Argument(help="任务编号")], year: YearOption = None,
               lead: Annotated[Optional[str], typer.Option("--lead", help="牵头单位（编码或名称）")] = None,
               co: Annotated[Optional[list[str]], typer.Option("--co", help="协办单位（编码或名称，可重复）")] = None,
               leader: Annotated[Optional[str], typer.Option("--leader", help="责任领导（人员编码或姓名）")] = None,
               liaison: Annotated[Optional[str], typer.Option("--liaison", help="联络员（人员编码或姓名）")] = None,
               goal: Annotated[Optional[str], typer.Option("--goal", help="年度目标")] = None,
               deadline: Annotated[Optional[str], typer.Option("--deadline", help="完成时限 YYYY-MM-DD")] = None,
               steps: Annotated[Optional[str], typer.Option(
                   "--steps", help="实施步骤，如 \"5月 50% 完成设计；10月 100% 竣工验收\"（只改时限时，默认步骤随之重排）")] = None) -> None:
    """人工确定一项任务的分工或任务卡内容（重新推荐时保留）。"""
    from lianchuang.tasks.division.sheets import CardChange
    from lianchuang.tasks.division.use_cases import set_task_card

    change = CardChange(task, lead=lead, co=co, leader=leader, liaison=liaison, goal=goal, deadline=deadline, steps=steps)
    changed, card = use(set_task_card, year or this_year(), change)
    if not changed:
        console.print(f"任务 {task} 没有变化。")
        return
    console.print(f"任务 {task} 已更新（人工确定）。完成时限 {card['deadline']}；实施步骤：{card['steps']}")
    if card["committed_steps"] and card["committed_steps"] != card["steps"]:
        console.print(f"承诺时的步骤是：{card['committed_steps']}。改动已记入审计记录，公开栏同时显示“承诺时”和“现在”。")


@tasks_app.command("check")
def tasks_check(year: YearOption = None, community: CommunityOption = None, as_json: JsonOption = False) -> None:
    """列出任务卡不完整的任务（缺牵头单位、责任领导、联络员、目标、时限或实施步骤）。不完整时不能公开承诺。"""
    from lianchuang.tasks.division.cards import HOW_TO_FILL
    from lianchuang.tasks.division.use_cases import incomplete_cards

    year = year or this_year()
    rows = use(incomplete_cards, year, community)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif not rows:
        console.print(f"所有任务卡都已完整，可以签订并公开承诺：lianchuang commitments run --year {year}")
    else:
        table = fitted_table("任务编号", "社区", "任务", "缺少")
        for row in rows:
            table.add_row(row["code"], row["community"], row["title"], "、".join(row["missing"]))
        console.print(table)
        console.print(f"{len(rows):,} 项任务的任务卡不完整，这些社区暂不能公开承诺。怎么补：")
        for field in dict.fromkeys(field for row in rows for field in row["missing"]):
            console.print(f"  缺{field}：{HOW_TO_FILL[field]}")
        console.print("  也可以 lianchuang assign export 导出分工表，改好后 assign import")
    if rows:
        raise typer.Exit(1)


@posts_app.command("kinds")
def posts_kinds() -> None:
    """列出岗位种类及其职责。"""
    from lianchuang.tasks.division.use_cases import post_kinds

    table = fitted_table("岗位", "职责", "突发事件")
    for name, duty, emergency in use(post_kinds):
        table.add_row(name, duty, "是" if emergency else "")
    console.print(table)


@posts_app.command("kind-add")
def posts_kind_add(name: Annotated[str, typer.Argument(help="岗位名称，例如 垃圾分类督导岗")],
                   duty: Annotated[str, typer.Option("--duty", help="岗位职责")] = "",
                   emergency: Annotated[bool, typer.Option("--emergency", help="用于突发事件的临时岗位")] = False) -> None:
    """新增岗位种类，或修改已有岗位的职责。新增的岗位在下次 assign run 时在各社区开设。"""
    from lianchuang.tasks.division.use_cases import save_kind

    new = use(save_kind, name, duty, emergency)
    console.print(f"已新增岗位“{name}”。" if new else f"已更新岗位“{name}”。")


@posts_app.command("list")
def posts_list(community: Annotated[str, typer.Option("--community", "-c", help="社区编码或名称")], year: YearOption = None) -> None:
    """查看某社区开设的岗位、人数上限和在岗人员。"""
    from lianchuang.tasks.division.use_cases import community_posts

    name, rows = use(community_posts, year or this_year(), community)
    table = fitted_table("岗位", "人数", "在岗人员", title=f"{name} 设岗定责")
    for row in rows:
        table.add_row(row["kind"] + ("（临时）" if row["temporary"] else ""), f"{len(row['holders'])}/{row['capacity']}",
                      "、".join(row["holders"]))
    console.print(table if rows else f"{name}还没有开设岗位：请先运行 lianchuang assign run")


@posts_app.command("claim")
def posts_claim(person: Annotated[str, typer.Option("--person", "-p", help="认领人（人员编码或姓名）")],
                community: Annotated[str, typer.Option("--community", "-c", help="社区编码或名称")],
                kind: Annotated[str, typer.Option("--kind", "-k", help="岗位名称，例如 平安创建岗")],
                year: YearOption = None) -> None:
    """登记一人认领一个岗位（岗位满员或重复认领会被拒绝）。"""
    from lianchuang.tasks.division.use_cases import claim_post

    use(claim_post, year or this_year(), person, community, kind, clock.today())
    console.print("已登记认领。")


@posts_app.command("template")
def posts_template(year: YearOption = None, community: CommunityOption = None,
                   output: Annotated[Path, typer.Option("--output", "-o", help="要生成的 .xlsx 文件")] = Path("岗位认领表.xlsx"),
                   force: ForceOption = False) -> None:
    """生成岗位认领表（社区、岗位为下拉选项），收集纸质认领。"""
    from lianchuang.tasks.division.use_cases import claim_template

    use(claim_template, community, output, force)
    console.print(f"已生成：{output}。收回后运行：lianchuang posts import {output} --year {year or this_year()}")


@posts_app.command("import")
def posts_import(file: Annotated[Path, typer.Argument(help="填好的岗位认领表 .xlsx 或 .csv")], year: YearOption = None) -> None:
    """导入岗位认领。有任何问题（人员或岗位不存在、满员、重复）整个文件不导入；已登记的认领不会重复。"""
    from lianchuang.tasks.division.use_cases import import_claim_file

    result = use(import_claim_file, year or this_year(), file, clock.today())
    console.print(f"导入完成：共 {result['rows']:,} 条，新登记 {result['new']:,} 条，已登记过 {result['already_there']:,} 条。")


@posts_app.command("emergency")
def posts_emergency(community: Annotated[str, typer.Option("--community", "-c", help="发生突发事件的社区（编码或名称）")],
                    situation: Annotated[str, typer.Option("--situation", help="情况说明，例如 强降雨致沿江小区进水，急需人手")],
                    kind: Annotated[str, typer.Option("--kind", "-k", help="岗位名称")] = "突发事件处置岗",
                    capacity: Annotated[int, typer.Option("--capacity", help="需要多少人")] = 20,
                    year: YearOption = None) -> None:
    """突发事件时开设临时岗位，并立即向本社区和同街道相邻社区的党员、积极分子发出紧急通知。"""
    summary = run_flow("emergency_posts", "临时设岗", year=year or this_year(), community=community, kind=kind,
                       capacity=capacity, situation=situation)
    if summary["to_call"]:
        table = fitted_table("姓名", "社区", "电话", title=f"没有邮箱、请立即电话或上门通知的 {len(summary['to_call'])} 人")
        for person in summary["to_call"]:
            table.add_row(person["name"], person["community"], person["phone"] or "（无，请上门）")
        console.print(table)
        console.print(f"打印通知单（已注明日期）：{summary['callout_page']}")


COMMANDS = {}  # top-level commands (`lianchuang rank`)
