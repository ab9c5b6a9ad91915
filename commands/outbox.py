"""`lianchuang outbox` (list, show, deliver notices) and `notices preview`."""

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from lianchuang import clock
from lianchuang.commands.common import (
    ForceOption,
    JsonOption,
    console,
    fitted_table,
    parse_date,
    run_flow,
    set_locale,
    this_year,
    use,
)
from lianchuang.errors import UserError
from lianchuang.settings import get_settings

outbox_app = typer.Typer(help="发件箱：查看、发送、重发通知。", no_args_is_help=True)

notices_app = typer.Typer(help="通知模板。", no_args_is_help=True)

GROUPS = [(outbox_app, "outbox"), (notices_app, "notices")]


@outbox_app.command("list")
def outbox_list(status: Annotated[Optional[str], typer.Option(help="只看某种状态：待发送、已发送、待打印、失败（或 queued、sent、printed、failed）")] = None,
                year: Annotated[Optional[int], typer.Option("--year", "-y", help="年度")] = None,
                limit: Annotated[int, typer.Option(help="最多显示多少条")] = 50, as_json: JsonOption = False) -> None:
    """列出最近的通知及其发送状态。"""
    from lianchuang.models.enums import NoticeStatus
    from lianchuang.tasks.outbox.use_cases import recent_notices

    if status and NoticeStatus.parse(status) is None:
        raise UserError(f"状态只能是 {'、'.join(s.label for s in NoticeStatus)}（或 {'、'.join(s.value for s in NoticeStatus)}），不是“{status}”")
    rows = use(recent_notices, NoticeStatus.parse(status) if status else None, year, limit)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = fitted_table("编号", "收件人", "邮箱", "主题", "状态", "说明")
    for row in rows:
        table.add_row(str(row["id"]), row["recipient"], row["email"] or "（无，打印送达）", row["subject"],
                      NoticeStatus(row["status"]).label, row["error"] or "")
    console.print(table)


@outbox_app.command("print")
def outbox_print(since: Annotated[Optional[str], typer.Option("--since", help="从哪天起（YYYY-MM-DD；默认上次打印之后）")] = None,
                 year: Annotated[Optional[int], typer.Option("--year", "-y", help="年度（默认今年，1月时也包括上一年：考评和创新奖的通知）")] = None) -> None:
    """把新增的纸质通知（没有邮箱的人）合成一页，用浏览器打开后打印，每份一页，带签收栏。"""
    from lianchuang.tasks.outbox.use_cases import collect_paper

    years = [year] if year else sorted({clock.evaluation_year(), this_year()})  # January: last year's work too
    for each in years:
        page, counts = use(collect_paper, each, parse_date(since) if since else None)
        if page is None:
            console.print(f"{each}年度{'自 ' + since + ' 起' if since else '上次打印以来'}没有新的纸质通知。")
            continue
        console.print(f"{each}年度共 {sum(counts.values())} 份纸质通知待打印：" + "、".join(f"{name} {count} 份" for name, count in counts.items()))
        console.print(f"已合成一页：{page}（用浏览器打开后打印；下次运行只收新增的，要重印用 --since 日期）")


@outbox_app.command("show")
def outbox_show(notice_id: Annotated[int, typer.Argument(help="通知编号（见 outbox list）")]) -> None:
    """显示一条通知的收件人、主题、状态和正文。"""
    from lianchuang.tasks.outbox.use_cases import notice_in_full

    notice = use(notice_in_full, notice_id)
    console.print(f"收件人：{notice['recipient']} <{notice['email'] or '无邮箱，打印送达'}>", markup=False)
    console.print(f"主题：{notice['subject']}\n状态：{notice['status']}（尝试 {notice['attempts']} 次）"
                  + (f"\n错误：{notice['error']}" if notice["error"] else "") + f"\nMessage-ID：{notice['message_id']}\n",
                  markup=False)
    console.print(notice["body"], markup=False, highlight=False)


@outbox_app.command("flush")
def outbox_flush() -> None:
    """发送所有待发送的通知（设置了 LIANCHUANG_SMTP_HOST 时用 SMTP，否则写入 Maildir 文件夹）。"""
    run_flow("deliver_outbox", "发送通知")


@outbox_app.command("retry")
def outbox_retry() -> None:
    """把发送失败的通知重新排队并发送（例如改正邮箱地址之后）。"""
    run_flow("deliver_outbox", "重发失败通知", retry_failed=True)


@notices_app.command("preview")
def notices_preview(template: Annotated[str, typer.Argument(help="模板名，例如 ranking、solicitation")],
                    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="把 HTML 写入这个文件")] = None,
                    force: ForceOption = False,
                    text: Annotated[bool, typer.Option("--text", help="显示纯文本版本")] = False,
                    locale: Annotated[Optional[str], typer.Option("--locale", help="zh_CN（默认）或 en")] = None) -> None:
    """用示例数据渲染一个通知模板，预览主题和正文。"""
    from lianchuang.tasks.demo.samples import SAMPLES
    from lianchuang.tasks.files import write_output
    from lianchuang.tasks.outbox.rendering import render_notice

    if template not in SAMPLES:
        raise UserError(f"没有模板“{template}”，可选：{'、'.join(sorted(SAMPLES))}")
    if locale:
        set_locale(locale)
    rendered = render_notice(template, {"recipient": "王建国", **SAMPLES[template]}, get_settings().locale)
    if output:
        write_output(output, rendered.html, force)
        console.print(f"主题：{rendered.subject}\n已写入：{output}", markup=False)
        return
    console.print(f"主题：{rendered.subject}\n", markup=False)
    console.print(rendered.html if not text else rendered.text, markup=False, highlight=False)


COMMANDS = {}  # top-level commands (`lianchuang rank`)
