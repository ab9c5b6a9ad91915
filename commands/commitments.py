"""Stage 3: `lianchuang commitments` (statements and letters, signing, publishing) and `board`."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from lianchuang import clock
from lianchuang.commands.common import (
    CommunityOption,
    DistrictOption,
    ForceOption,
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
from lianchuang.errors import UserError

commitments_app = typer.Typer(help="阶段三：签订责任状和承诺书，联名公开承诺。", no_args_is_help=True)

board_app = typer.Typer(help="公开栏：生成可离线浏览、手机可看的静态网页。", no_args_is_help=True)

GROUPS = [(commitments_app, "commitments"), (board_app, "board")]


@commitments_app.command("run")
def commitments_run(year: YearOption = None, community: CommunityOption = None, street: StreetOption = None,
                    district: DistrictOption = None) -> None:
    """准备责任状和承诺书（可打印）；签齐且任务卡完整的社区联名公开承诺，并通知各方。可重复运行。"""
    year = year or this_year()
    summary = run_flow("commitments_stage", "联名公开承诺", year=year, communities=scope(community, street, district))
    where = f" --community {community[0]}" if community and len(community) == 1 else ""
    if summary.get("blocked_by_incomplete_cards"):
        console.print(f"有社区的任务卡不完整，暂不能公开。查看缺什么：lianchuang tasks check --year {year}")
    console.print(f"下一步：打印责任状和承诺书签字后登记：lianchuang commitments sign --year {year} -c 社区 --by 签字人 --all；"
                  f"签齐后再运行：lianchuang commitments run --year {year}{where}")


@commitments_app.command("list")
def commitments_list(community: Annotated[str, typer.Option("--community", "-c", help="社区编码或名称")],
                     year: YearOption = None) -> None:
    """查看某社区的责任状和承诺书：谁签了、何时签、是否已公开。"""
    from lianchuang.tasks.commitments.use_cases import community_commitments

    name, rows = use(community_commitments, year or this_year(), community)
    table = fitted_table("编码", "类别", "签订方", "签字人", "签订时间", "公开日期", title=f"{name} 责任状与承诺书")
    for row in rows:
        table.add_row(row["holder_code"], row["kind"], row["holder"], row["signed_by"] or "[red]未签[/red]",
                      row["signed_at"] or "", row["published_on"] or "")
    console.print(table if rows else f"{name}还没有责任状和承诺书：请先运行 lianchuang commitments run")
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

    from lianchuang.tasks.commitments.use_cases import sign_commitments

    if not holder and not all_:
        raise UserError("请用 --holder 指定签订方（单位或人员编码），或用 --all 签订本社区全部")
    at = datetime.combine(parse_date(on), datetime.min.time()) if on else clock.now()
    year = year or this_year()
    code, signed, already = use(sign_commitments, year, community, holder, by, at)
    console.print(f"已记录签订 {signed} 份" + (f"，{already} 份此前已签" if already else "")
                  + f"。签齐后运行：lianchuang commitments run --year {year} --community {code}")


@board_app.command("build")
def board_build(year: YearOption = None,
                output: Annotated[Optional[Path], typer.Option("--output", "-o", help="输出目录（默认数据目录下的 board/年度）")] = None,
                force: ForceOption = False) -> None:
    """生成公开栏静态网站：首页、每个街道一页、每个社区一页（任务、岗位、承诺、排名、考评结果），不含联系方式。"""
    from lianchuang.tasks.commitments.use_cases import build_notice_board

    with console.status("生成公开栏……"):
        pages, out_dir = use(build_notice_board, year or this_year(), output, force)
    console.print(f"公开栏已生成 {pages:,} 页：{out_dir / 'index.html'}（可直接用浏览器打开，或复制到网站）")


COMMANDS = {}  # top-level commands (`lianchuang rank`)
