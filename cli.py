"""The `lianchuang` command: the root Typer app, the locale, the error mapping and `main`. Each
command group lives in its own module of `commands/`; a command parses, calls one use case and prints."""

import os
import sys
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from lianchuang.commands import (
    admin,
    channels,
    commitments,
    division,
    evaluation,
    opinions,
    org,
    outbox,
    progress,
    rules,
    server,
    users,
)
from lianchuang.commands.common import err, set_locale
from lianchuang.errors import ImportRefused, UserError
from lianchuang.settings import configure_prefect_environment, get_settings

# `--help` lists the year's work first, in the order of the year, then the operations.
THE_YEAR, OPERATIONS = "一年的工作（按阶段先后）", "运行与维护"
YEARS_WORK = ["org", "opinions", "deliberate", "assign", "tasks", "posts", "commitments", "board", "progress", "rank",
              "remind", "evaluate", "award", "rules"]
OPERATIONS_ORDER = ["serve", "deploy", "worker", "server", "cycle", "report", "outbox", "notices", "channels", "users", "demo", "db"]


class YearFirst(TyperGroup):
    def list_commands(self, ctx) -> list[str]:
        order = YEARS_WORK + OPERATIONS_ORDER
        return sorted(super().list_commands(ctx), key=lambda name: order.index(name) if name in order else len(order))


app = typer.Typer(cls=YearFirst, help="联创：社区党建“三级联创”责任机制年度工作平台（区、街道、社区联络人使用）。",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
for module in (org, opinions, division, commitments, progress, evaluation, rules, admin, server, outbox, channels, users):
    for group, name in module.GROUPS:
        app.add_typer(group, name=name, rich_help_panel=THE_YEAR if name in YEARS_WORK else OPERATIONS)
    for name, command in module.COMMANDS.items():
        app.command(name, rich_help_panel=THE_YEAR if name in YEARS_WORK else OPERATIONS)(command)


@app.callback()
def choose_locale(locale: Annotated[Optional[str], typer.Option("--locale", help="通知语言：zh_CN（默认）或 en")] = None) -> None:
    """联创：社区党建“三级联创”责任机制年度工作平台。"""
    if locale:
        set_locale(locale)


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

def run() -> None:
    """The installed `lianchuang` command: `main`, then an immediate exit once the output is out. The
    work is committed and Prefect's events and logs are sent (flows/local_server.connected); the
    interpreter's own teardown of some 2,000 modules would add 0.3 s to every command."""
    try:
        main()
        code = 0
    except SystemExit as finished:
        code = finished.code if isinstance(finished.code, int) else (0 if finished.code is None else 1)
        if isinstance(finished.code, str):
            print(finished.code, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
