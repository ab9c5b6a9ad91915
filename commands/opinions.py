"""Stage 1: `lianchuang opinions` (solicit, gather) and `lianchuang deliberate` (the joint meeting)."""

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
    parse_date,
    run_flow,
    scope,
    this_year,
    use,
)
from lianchuang.models.enums import UnitKind

opinions_app = typer.Typer(help="阶段一：分类征求意见，联席议事决策。", no_args_is_help=True)

deliberate_app = typer.Typer(help="阶段一：联席会议逐条议定意见建议（导出议题表、导入决定）。", no_args_is_help=True)

GROUPS = [(opinions_app, "opinions"), (deliberate_app, "deliberate")]


@opinions_app.command("run")
def opinions_run(year: YearOption = None, community: CommunityOption = None, street: StreetOption = None,
                 district: DistrictOption = None,
                 deadline: Annotated[Optional[str], typer.Option(help="意见截止日期 YYYY-MM-DD（默认三周后）")] = None,
                 meeting_date: Annotated[Optional[str], typer.Option("--meeting-date", help="联席会议日期 YYYY-MM-DD（默认一周后）")] = None,
                 meeting_time: Annotated[Optional[str], typer.Option("--meeting-time", help="联席会议时间，如 14:30")] = None,
                 meeting_place: Annotated[Optional[str], typer.Option(
                     "--meeting-place", help="联席会议地点；{community} 代表各社区名称，如 \"{community}党群服务中心二楼\"")] = None) -> None:
    """发出征求意见通知；有待议建议的社区发联席会议通知（日期、时间、地点）；已议定的建议反馈给提出人。"""
    run_flow("opinions_stage", "征求意见·联席决策", year=year or this_year(), communities=scope(community, street, district),
             deadline=parse_date(deadline) if deadline else None, meeting_on=parse_date(meeting_date) if meeting_date else None,
             meeting_time=meeting_time, meeting_place=meeting_place)


@opinions_app.command("open")
def opinions_open(year: YearOption = None, community: CommunityOption = None, street: StreetOption = None,
                  district: DistrictOption = None,
                  deadline: Annotated[Optional[str], typer.Option(help="意见截止日期 YYYY-MM-DD（默认三周后）")] = None) -> None:
    """向各社区六类对象（挂点领导、挂点单位、驻区单位、民间组织、群团组织、社区群众）发出征求意见通知。"""
    from lianchuang.settings import get_settings

    year = year or this_year()
    run_flow("open_opinions", "征求意见", year=year, communities=scope(community, street, district), deadline=parse_date(deadline) if deadline else None)
    console.print(f"请打印各社区的征求意见公告（含意见表）张贴到公开栏：{get_settings().documents_dir / str(year) / '征求意见公告'}")
    console.print(f"下一步：lianchuang opinions template --year {year} -o 征集表.xlsx 发给各单位，收回后 lianchuang opinions import")


@opinions_app.command("template")
def opinions_template(year: YearOption = None, community: CommunityOption = None,
                      output: Annotated[Path, typer.Option("--output", "-o", help="要生成的 .xlsx 文件")] = Path("意见建议征集表.xlsx"),
                      force: ForceOption = False) -> None:
    """生成意见建议征集表（社区、来源类别、渠道为下拉选项），发给各单位填写。"""
    from lianchuang.tasks.opinions.use_cases import opinion_template

    use(opinion_template, year or this_year(), community, output, force)
    console.print(f"已生成：{output}。收回后运行：lianchuang opinions import {output} --year {year or this_year()}")


@opinions_app.command("import")
def opinions_import(file: Annotated[Path, typer.Argument(help="填好的征集表（.xlsx 或 .csv，UTF-8 或 GBK 均可）")],
                    year: YearOption = None) -> None:
    """导入意见建议。整个文件有任何问题都不导入，并逐条列出行、列和原因；同一文件导入两次不会重复。"""
    from lianchuang.tasks.opinions.use_cases import import_opinion_file

    year = year or this_year()
    with console.status("导入中……"):
        result = use(import_opinion_file, year, file)
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
    from lianchuang.tasks.opinions.use_cases import add_opinion

    year = year or this_year()
    new = use(add_opinion, year, dict(community=community, source_kind=source, channel=channel, content=content,
                                     submitter=submitter or "", contact=contact or "", date=on or clock.today().isoformat()))
    console.print(("已录入。" if new else "这条建议已经录入过，未重复录入。") + "可继续录入下一条；收齐后生成联席会议议题表："
                  f"lianchuang deliberate agenda --year {year} --community {community} -o 议题.xlsx")


@opinions_app.command("report")
def opinions_report(year: YearOption = None, as_json: JsonOption = False) -> None:
    """各社区意见征集情况：按来源类别和渠道统计，采纳/合并/不采纳/待议，并标出没有征求到的来源类别。"""
    from lianchuang.tasks.opinions.use_cases import opinion_coverage

    rows = use(opinion_coverage, year or this_year())
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = fitted_table("社区", "各类来源的建议", "议定情况", "未征求", "征求了未回应")
    for row in rows:
        heard = " ".join(f"{UnitKind(k).label}{n}" for k, n in row["by_source_kind"].items())
        silent = [k for k in row["kinds_asked"] if k in row["kinds_not_heard"]]
        table.add_row(row["community"], heard or "—",
                      f"采纳{row['adopted']} 合并{row['merged']} 不采纳{row['declined']} 待议{row['pending']}",
                      "[red]" + "、".join(UnitKind(k).label for k in row["kinds_not_asked"]) + "[/red]",
                      "、".join(UnitKind(k).label for k in silent))
    console.print(table)
    not_asked = sum(1 for row in rows if row["kinds_not_asked"])
    if not_asked:
        console.print(f"{not_asked} 个社区有来源类别没有征求到：在组织架构表里补上这类单位的负责人或联络员"
                      f"（挂点领导、居民代表、楼栋长填在“人员”表），再运行 lianchuang opinions open --year {year or this_year()}")


@deliberate_app.command("agenda")
def deliberate_agenda(community: Annotated[str, typer.Option("--community", "-c", help="社区编码或名称")],
                      year: YearOption = None,
                      output: Annotated[Path, typer.Option("--output", "-o", help="要生成的议题表 .xlsx")] = Path("联席会议议题.xlsx"),
                      force: ForceOption = False) -> None:
    """导出某社区待议的意见建议（措辞相近的已标出），供联席会议逐条填写决定。"""
    from lianchuang.tasks.opinions.use_cases import export_agenda

    name, count = use(export_agenda, year or this_year(), community, output, force)
    console.print(f"已导出 {name} 待议建议 {count} 条：{output}。会后运行：lianchuang deliberate import {output}")


@deliberate_app.command("import")
def deliberate_import(file: Annotated[Path, typer.Argument(help="联席会议填好决定的议题表")], year: YearOption = None) -> None:
    """导入联席会议的决定：采纳的建议成为年度任务，合并的并入任务，不采纳的记录理由；然后给提出人发反馈。"""
    from lianchuang.tasks.opinions.use_cases import import_decision_file

    year = year or this_year()
    result = use(import_decision_file, year, file)
    console.print(f"{result['community']}：采纳 {result['adopted']} 条，合并 {result['merged']} 条，不采纳 {result['declined']} 条，"
                  f"此前已议定 {result['unchanged']} 条，仍待议 {result['still_pending']} 条。")
    run_flow("opinions_stage", "发送反馈通知", year=year, communities=[result["community"]])
    if result["still_pending"]:
        console.print(f"下一步：还有 {result['still_pending']} 条建议待议，下次联席会前导出议题："
                      f"lianchuang deliberate agenda -c {result['community']} -o 议题.xlsx --year {year}")
    else:
        console.print(f"下一步：{result['community']}的建议已全部议定。推荐分工：lianchuang assign propose --year {year}，"
                      f"审核后分工：lianchuang assign export -o 分工表.xlsx --year {year}")


COMMANDS = {}  # top-level commands (`lianchuang rank`)
