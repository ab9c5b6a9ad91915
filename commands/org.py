"""`lianchuang org`: the organisation (districts, streets, communities, units, people)."""

import json
from pathlib import Path
from typing import Annotated

import typer

from lianchuang.commands.common import ForceOption, JsonOption, console, fitted_table, this_year, use

org_app = typer.Typer(help="组织架构：导入区、街道、社区、单位和人员。", no_args_is_help=True)

GROUPS = [(org_app, "org")]


@org_app.command("template")
def org_template(output: Annotated[Path, typer.Option("--output", "-o", help="要生成的 .xlsx 文件")] = Path("组织架构模板.xlsx"),
                 force: ForceOption = False) -> None:
    """生成组织架构导入模板（街道、社区、单位、人员四张表，带下拉选项）。"""
    from lianchuang.tasks.org import write_org_template

    write_org_template(output, force)
    console.print(f"已生成模板：{output}。填好后运行：lianchuang org import {output}")


@org_app.command("import")
def org_import(file: Annotated[Path, typer.Argument(help="填好的组织架构 .xlsx 文件")]) -> None:
    """导入组织架构。有任何错误则整个文件不导入，并逐条列出文件、行、列和原因。"""
    from lianchuang.tasks.org import import_org_file

    counts = use(import_org_file, file)
    console.print("导入完成：" + "，".join(f"{label} {counts[key]}" for key, label in (
        ("districts", "区"), ("streets", "街道"), ("communities", "社区"), ("units", "单位"), ("people", "人员")))
        + f"。查看：lianchuang org list；下一步：lianchuang opinions open --year {this_year()}")


@org_app.command("list")
def org_list(as_json: JsonOption = False) -> None:
    """列出已导入的社区及其单位、人员数。"""
    from lianchuang.tasks.org import organisation

    rows = use(organisation)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = fitted_table("区", "街道", "社区编码", "社区", "单位数", "人员数")
    for row in rows:
        table.add_row(row["district"], row["street"], row["code"], row["community"], str(row["units"]), str(row["people"]))
    console.print(table)
    console.print(f"共 {len(rows)} 个社区")


COMMANDS = {}  # top-level commands (`lianchuang rank`)
