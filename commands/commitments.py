"""Stage 3: `lianchuang commitments` (statements and letters, signing, publishing) and `board`."""

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from lianchuang import clock
from lianchuang.commands.common import YearOption, console, parse_date, session, this_year
from lianchuang.errors import UserError
from lianchuang.settings import get_settings

commitments_app = typer.Typer(help="阶段三：签订责任状和承诺书，联名公开承诺。", no_args_is_help=True)

board_app = typer.Typer(help="公开栏：生成可离线浏览、手机可看的静态网页。", no_args_is_help=True)

GROUPS = [(commitments_app, "commitments"), (board_app, "board")]


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


COMMANDS = {}  # top-level commands (`lianchuang rank`)
