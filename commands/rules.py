"""`lianchuang rules`: a district's ranking and award rules for a year: show, export, try, adopt."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from lianchuang.commands.common import ForceOption, console, fitted_table, this_year, use

rules_app = typer.Typer(help="计分与经费规则（各区每年一套，有版本；先试算再采用）。", no_args_is_help=True)
GROUPS = [(rules_app, "rules")]
COMMANDS = {}

DistrictName = Annotated[Optional[str], typer.Option("--district", "-d", help="哪个区（编码或名称）；只有一个区时可不填")]
RulesYear = Annotated[Optional[int], typer.Option("--year", "-y", help="年度，例如 2026（默认今年）")]


@rules_app.command("show")
def rules_show(year: RulesYear = None, district: DistrictName = None) -> None:
    """显示本区现行的计分与经费规则、历次版本和锁定情况。"""
    from lianchuang.tasks.rule_schemes import rules_lines, rules_overview

    year = year or this_year()
    shown = use(rules_overview, year, district)
    table = fitted_table("项目", "数值", title=f"{shown['district']}{year}年度{shown['rules'].label}")
    for item, value in rules_lines(shown["rules"]):
        table.add_row(item, value)
    console.print(table)
    for version in shown["versions"]:
        console.print(f"第{version['version']}版：{version['adopted_at']} 由 {version['adopted_by']} 采用"
                      + (f"（{version['source']}）" if version["source"] else ""))
    console.print("排名规则：" + ("已锁定（本年已发布排名）" if shown["ranking_locked"] else "可修改，到本年第一次发布排名为止"))
    console.print("经费规则：" + ("已锁定（本年已分配经费）" if shown["award_locked"] else "可修改，到本年分配经费为止"))
    console.print(f"要修改：lianchuang rules export --year {year} -o 规则.xlsx，改好后先 rules simulate 试算，再 rules import 采用")


@rules_app.command("export")
def rules_export(output: Annotated[Path, typer.Option("--output", "-o", help="规则表 .xlsx")], year: RulesYear = None,
                 district: DistrictName = None, force: ForceOption = False) -> None:
    """把现行规则导出为表格，改好后试算或导入。"""
    from lianchuang.tasks.rule_schemes import export_rules

    year = year or this_year()
    name = use(export_rules, year, district, output, force)
    console.print(f"已导出{name}{year}年度规则：{output}。改“数值”列和“奖项”表后：\n"
                  f"  试算：lianchuang rules simulate {output} --year {year}\n  采用：lianchuang rules import {output} --year {year}")


@rules_app.command("import")
def rules_import(file: Annotated[Path, typer.Argument(help="改好的规则表 .xlsx")], year: RulesYear = None,
                 district: DistrictName = None) -> None:
    """采用规则表为本区本年度的新一版规则（全部检查通过才采用；已锁定的部分不能改）。"""
    from lianchuang.tasks.rule_schemes import import_rules

    year = year or this_year()
    adopted = use(import_rules, year, district, file)
    console.print(f"已采用为{year}年度{adopted.label}。之后发布的排名和分配的经费都注明按此版本计算。"
                  f"查看：lianchuang rules show --year {year}")


@rules_app.command("simulate")
def rules_simulate(file: Annotated[Path, typer.Argument(help="拟采用的规则表 .xlsx")], year: RulesYear = None,
                   district: DistrictName = None,
                   budget: Annotated[Optional[int], typer.Option("--budget", help="经费总额（元）；默认本年已分配的总额")] = None,
                   output: Annotated[Optional[Path], typer.Option("--output", "-o", help="把对比写成表格 .xlsx")] = None,
                   force: ForceOption = False) -> None:
    """按拟采用的规则重算本年已发布的月度排名和经费，与现行规则对比。什么都不写入。"""
    from lianchuang.tasks.rules_simulation import simulate

    year = year or this_year()
    result = use(simulate, year, district, file, budget, output, force)
    console.print(f"{result.district}{year}年度规则试算：现行 {result.current.label} → {file.name}（未写入任何数据）")
    if not result.months:
        console.print("本年还没有发布过月度排名，排名部分没有可重算的月份。")
    elif result.moves:
        table = fitted_table("月份", "社区", "得分", "全区名次", "街道内名次", title="名次或得分会变的月份")
        for m in result.moves:
            table.add_row(f"{m['month']}月", m["community"], f"{m['score_before']}→{m['score_after']}",
                          f"{m['district_rank_before']}→{m['district_rank_after']}", f"{m['street_rank_before']}→{m['street_rank_after']}")
        console.print(table)
    else:
        console.print(f"已发布的 {len(result.months)} 个月里，没有社区的得分或名次会变。")
    if result.funding:
        table = fitted_table("社区", "名次", "奖项", "经费（元）", "变化", title=f"创新奖与经费（预算 {result.budget:,} 元）")
        for f in result.funding:
            table.add_row(f["community"], f"{f['rank_before'] or '—'}→{f['rank_after']}",
                          f"{f['award_before'] or '—'}→{f['award_after'] or '—'}",
                          f"{f['funding_before']:,}→{f['funding_after']:,}", f"{f['change']:+,}")
        console.print(table)
    elif result.award_note:
        console.print(result.award_note)
    if output:
        console.print(f"对比表：{output}")
    if result.locked_note:
        console.print(result.locked_note)
    else:
        console.print(f"要采用：lianchuang rules import {file} --year {year}")
