"""Stage 5: `lianchuang evaluate` (scheme, ballots, tally, objections) and `award`."""

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from lianchuang import clock
from lianchuang.commands.common import (
    DistrictOption,
    EvaluationYearOption,
    ForceOption,
    JsonOption,
    console,
    err,
    fitted_table,
    parse_date,
    run_flow,
    use,
)
from lianchuang.errors import UserError

evaluate_app = typer.Typer(help="阶段五：年底联合考评、创新奖与经费。", no_args_is_help=True)

GROUPS = [(evaluate_app, "evaluate")]


@evaluate_app.command("run")
def evaluate_run(year: EvaluationYearOption = None, close: Annotated[bool, typer.Option("--close", help="结束评议：计票并公示")] = False,
                 budget: Annotated[Optional[int], typer.Option(help="同时评创新奖并分配的党建工作经费总额（元）")] = None,
                 district: DistrictOption = None) -> None:
    """发出民主评议邀请（每人一次性评议码）；加 --close 结束评议并公示；再加 --budget 评创新奖、分配经费。"""
    run_flow("evaluation_stage", "联合考评", year=year or clock.evaluation_year(), close=close, budget=budget, districts=district)


@evaluate_app.command("open")
def evaluate_open(year: EvaluationYearOption = None, district: DistrictOption = None) -> None:
    """开始民主评议：按评议方案向各评议主体发出邀请，每人一个一次性评议码（重复运行只邀请新增的人）。"""
    from lianchuang.tasks.evaluation.use_cases import short_groups

    year = year or clock.evaluation_year()
    run_flow("evaluation_stage", "发出评议邀请", year=year, districts=district)
    short = use(short_groups, year, district)
    for group in short[:20]:
        err.print(f"注意：{group['community']}的“{group['group']}”只有 {group['people']} 人，少于计入得分所需的 {group['needed']} 人："
                  f"这一组的评价不会计入得分。可在组织架构中补充人员后重新运行 evaluate open，或在评议方案中调整")
    if len(short) > 20:
        err.print(f"……共 {len(short)} 个评议主体人数不足（全部：lianchuang evaluate scheme 查看最少人数）")
    console.print(f"有邮箱的评议人在邀请邮件里收到评议码；没有邮箱的凭纸质评议票投票：lianchuang evaluate slips --year {year}"
                  f"（打印后发给评议人；收回后 lianchuang evaluate template / evaluate import 录入）")


@evaluate_app.command("scheme")
def evaluate_scheme(year: EvaluationYearOption = None,
                    output: Annotated[Path, typer.Option("--output", "-o", help="要生成的 .xlsx 文件")] = Path("评议方案.xlsx"),
                    force: ForceOption = False) -> None:
    """导出评议方案（评议项目、各评议主体权重和最少票数、等次分值），修改后用 scheme-import 导入。"""
    from lianchuang.tasks.evaluation.use_cases import scheme_sheet

    year = year or clock.evaluation_year()
    use(scheme_sheet, year, output, force)
    console.print(f"已导出：{output}。改好后运行：lianchuang evaluate scheme-import {output} --year {year}")


@evaluate_app.command("scheme-import")
def evaluate_scheme_import(file: Annotated[Path, typer.Argument(help="改好的评议方案 .xlsx")], year: EvaluationYearOption = None) -> None:
    """导入评议方案（开始投票前）。有任何问题整个文件不导入。"""
    from lianchuang.tasks.evaluation.use_cases import import_scheme_file

    year = year or clock.evaluation_year()
    result = use(import_scheme_file, year, file)
    console.print(f"评议方案已更新：{result['items']} 个评议项目，{result['groups']} 个评议主体，{result['grades']} 个等次。"
                  f"下一步：lianchuang evaluate open --year {year}")


@evaluate_app.command("template")
def evaluate_template(community: Annotated[str, typer.Option("--community", "-c", help="社区编码或名称")], year: EvaluationYearOption = None,
                      output: Annotated[Path, typer.Option("--output", "-o", help="要生成的 .xlsx 文件")] = Path("选票录入表.xlsx"),
                      force: ForceOption = False) -> None:
    """生成某社区的纸质选票录入表（每项任务一行，填评议码和等次）。"""
    from lianchuang.tasks.evaluation.use_cases import ballot_sheet

    name, count = use(ballot_sheet, year or clock.evaluation_year(), community, output, force)
    console.print(f"已生成 {name} 选票录入表（{count} 项任务）：{output}。录好后运行：lianchuang evaluate import {output}")


@evaluate_app.command("slips")
def evaluate_slips(community: Annotated[Optional[list[str]], typer.Option("--community", "-c", help="社区编码或名称（可多个；默认全部）")] = None,
                   again_for: Annotated[Optional[list[str]], typer.Option(
                       "--for", help="补打这些人的评议票（人员编码或姓名，可重复）：他们原来的评议码（邮件或旧票上的）随之作废")] = None,
                   year: EvaluationYearOption = None) -> None:
    """打印纸质评议票：给没有邮箱（邀请里没有评议码）、还没有评议票的评议人每人一张，有评议码和本社区各项任务的等次方框，不写姓名。
    有邮箱的评议人用邀请邮件里的评议码，不受影响；要给某人补打，用 --for（其原评议码作废）。"""
    from lianchuang.tasks.evaluation.use_cases import ballot_slips

    year = year or clock.evaluation_year()
    written = use(ballot_slips, year, community, again_for)
    for name, page, count, _ in written[:20]:
        console.print(f"{name}：{count} 张评议票 → {page}")
    if len(written) > 20:
        console.print(f"……共 {len(written)} 个社区，{sum(c for _, _, c, _ in written)} 张评议票，都在 {Path(written[0][1]).parent}")
    replaced = [person for *_, names in written for person in names]
    if replaced:
        console.print(f"这些人原来的评议码已作废，请告诉本人改用新评议票：{'、'.join(replaced)}")
    console.print("评议票上的评议码只能使用一次，系统只保存其校验值，不能再次显示。用浏览器打开后打印（A4）。"
                  "收回后录入：lianchuang evaluate template -c 社区 -o 选票录入表.xlsx，再 lianchuang evaluate import 选票录入表.xlsx")


@evaluate_app.command("import")
def evaluate_import(file: Annotated[Path, typer.Argument(help="录好的选票 .xlsx 或 .csv（评议码、任务编号、等次）")],
                    year: EvaluationYearOption = None) -> None:
    """录入纸质选票。评议码不存在或已用过、评了别的社区的任务、同一任务评两次，整个文件都不录入。"""
    from lianchuang.tasks.evaluation.use_cases import import_ballot_file

    result = use(import_ballot_file, year or clock.evaluation_year(), file)
    if result.get("already_entered"):
        console.print(f"{file.name} 已经录入过（内容完全相同），这次没有新增任何选票。")
        return
    console.print(f"已录入 {result['evaluators']} 人的选票，共 {result['ballots']} 票。评议结束前结果不公开。")


@evaluate_app.command("vote")
def evaluate_vote(code: Annotated[str, typer.Argument(help="评议码")],
                  grades: Annotated[list[str], typer.Argument(help="任务编号=等次，例如 D01S01C01-001=优秀（可多个）")],
                  year: EvaluationYearOption = None) -> None:
    """一人一次投票：评议码加上对本社区各项任务的等次。评议码只能用一次。"""
    from lianchuang.models.enums import Grade
    from lianchuang.tasks.evaluation.ballots import NewBallot
    from lianchuang.tasks.evaluation.codes import normalized_code
    from lianchuang.tasks.evaluation.use_cases import vote

    ballots = []
    for number, pair in enumerate(grades, start=1):
        task, _, grade = pair.partition("=")
        if not Grade.parse(grade):
            raise UserError(f"第{number}个“{pair}”格式不对：应为 任务编号=等次，等次是 优秀、良好、一般 或 较差")
        ballots.append((number, NewBallot(normalized_code(code), task.strip(), Grade.parse(grade))))
    count = use(vote, year or clock.evaluation_year(), ballots)
    console.print(f"已投票：{count} 项任务。谢谢参与！评议码已作废。")


@evaluate_app.command("close")
def evaluate_close(year: EvaluationYearOption = None, district: DistrictOption = None) -> None:
    """结束评议：计票（按主体加权、去掉最高最低分、不足最少票数不计），公示结果并通知，开始异议期。各区分别结束（--district）。"""
    from lianchuang.tasks.evaluation.use_cases import check_close, results_summary

    year = year or clock.evaluation_year()
    use(check_close, year)
    run_flow("evaluation_stage", "结束评议·公示结果", year=year, close=True, districts=district)
    results = use(results_summary, year, district)
    console.print(f"{year}年度考评结果已公示：评定 {results['rated']:,} 项任务（平均 {results['mean'] if results['mean'] is not None else '—'} 分），"
                  f"{results['unrated']:,} 项票数不足未评定。异议可提出到 {results['objection_deadline']}："
                  f"lianchuang evaluate object 任务编号 --by 姓名 --content \"……\"；公示期满后：lianchuang award --year {year}")


@evaluate_app.command("explain")
def evaluate_explain(subject: Annotated[str, typer.Argument(help="任务编号或责任人的人员编码")], year: EvaluationYearOption = None,
                     as_json: JsonOption = False) -> None:
    """说明一项任务或一位责任人的得分是怎么算出来的（各评议主体票数、平均分、权重；不显示谁投了什么）。"""
    from lianchuang.tasks.evaluation.scheme import SECRET_GROUP_MINIMUM
    from lianchuang.tasks.evaluation.use_cases import explain_score

    result = use(explain_score, year or clock.evaluation_year(), subject)
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    table = fitted_table("评议主体", "评议人（票数）", "最少人数", "各等次票数", "平均分", "权重", "折算权重", title=result["subject"])
    for g in result["groups"]:
        grades = "、".join(f"{k}{v}" for k, v in g["by_grade"].items() if v) if g["by_grade"] else "（不足3人，不列出）"
        mean = "（不足3人，不公布）" if g["mean"] is None else f"{g['mean']}" + ("（去掉最高、最低各1票）" if g["trimmed"] else "")
        table.add_row(g["group"] + ("（记名）" if g.get("open") else ""), f"{g['evaluators']}（{g['ballots']}）", str(g["quorum"]), grades,
                      mean if g["counted"] else f"{mean}，人数不足不计",
                      str(g["weight"]), f"{g['share']:.1%}" if g["counted"] else "—")
    console.print(table)
    score = result["score"]
    console.print(f"得分 = 各计入主体平均分 × 折算权重之和 = {score}" if score is not None else "未评定：没有评议主体达到最少票数")
    console.print(f"联席会负责人的评价是记名的、公开的；其他评议主体不记名，不足 {SECRET_GROUP_MINIMUM} 人的不计入得分（否则能从得分反推出个人的评价）。")


@evaluate_app.command("object")
def evaluate_object(subject: Annotated[str, typer.Argument(help="对哪项结果有异议：任务编号或责任人编码")],
                    by: Annotated[str, typer.Option("--by", help="异议人")],
                    content: Annotated[str, typer.Option("--content", help="异议内容")],
                    on: Annotated[Optional[str], typer.Option("--date", help="收到日期 YYYY-MM-DD（默认今天）")] = None,
                    year: EvaluationYearOption = None) -> None:
    """登记公示期内收到的异议（过了公示期也登记，但标为逾期）。"""
    from lianchuang.tasks.evaluation.use_cases import object_to

    number, in_time = use(object_to, year or clock.evaluation_year(), subject, by, content, parse_date(on) if on else clock.today())
    console.print(f"已登记异议（编号 {number}）" + ("" if in_time else "，已过公示期，标为逾期") + "。查看：lianchuang evaluate objections")


@evaluate_app.command("answer")
def evaluate_answer(number: Annotated[int, typer.Argument(help="异议编号（lianchuang evaluate objections 列出）")],
                    text: Annotated[str, typer.Option("--text", help="答复内容（公示在公开栏，并通知异议人所在社区）")],
                    upheld: Annotated[bool, typer.Option("--upheld", help="异议成立，结果要修正")] = False,
                    on: Annotated[Optional[str], typer.Option("--date", help="答复日期 YYYY-MM-DD（默认今天）")] = None,
                    year: EvaluationYearOption = None) -> None:
    """答复一件异议：记录答复，通知异议人所在社区的联络人（异议人是登记人员时也通知本人），公开栏公示。"""
    from lianchuang.tasks.evaluation.use_cases import answer

    done = use(answer, year or clock.evaluation_year(), number, text, upheld, parse_date(on) if on else clock.today())
    console.print(f"已答复异议 {done['id']}（异议人：{done['by']}），{done['notices']} 封通知已放入发件箱："
                  "lianchuang outbox flush 发送。所有异议答复后：lianchuang award")


@evaluate_app.command("objections")
def evaluate_objections(year: EvaluationYearOption = None) -> None:
    """列出收到的异议。"""
    from lianchuang.tasks.evaluation.use_cases import objections

    rows = use(objections, year or clock.evaluation_year())
    table = fitted_table("编号", "社区", "对象", "异议人", "内容", "收到", "答复")
    for o in rows:
        answer = (("【成立】" if o["upheld"] else "") + o["response"]) if o["response"] else "[red]未答复[/red]"
        table.add_row(str(o["id"]), o["community"], o["subject"], o["by"], o["content"],
                      o["received_on"] + ("" if o["within_deadline"] else "（逾期）"), answer)
    console.print(table if rows else "没有收到异议。")


def award(year: EvaluationYearOption = None, budget: Annotated[int, typer.Option("--budget", help="党建工作经费总额（元）")] = 500_000,
          redo: Annotated[bool, typer.Option("--redo", help="按新的预算重新分配（替换原分配）")] = False,
          yes: Annotated[bool, typer.Option("--yes", help="公示期内、或还有未答复的异议时也现在就评（默认等公示期满、异议都答复）")] = False,
          output: Annotated[Optional[Path], typer.Option("--output", "-o", help="经费分配表 .xlsx（交财务）")] = None,
          force: ForceOption = False,
          district: Annotated[Optional[str], typer.Option(
              "--district", "-d", help="评选这个区（编码或名称）：各区分别评选、分配各自的经费；只有一个区时可不填")] = None,
          as_json: JsonOption = False) -> None:
    """评选党建创新奖并分配党建工作经费（基础经费均分 + 奖励经费按奖项），分配额合计正好等于预算，每个社区收到计算说明。"""
    from lianchuang.tasks.evaluation.use_cases import award_rows, check_award, write_funding_sheet

    year = year or clock.evaluation_year()
    districts = [district] if district else None
    use(check_award, year, budget, redo, yes, districts)
    run_flow("award_stage", "创新奖与经费", quiet=as_json, year=year, budget=budget, redo=redo, districts=districts, confirm=yes)
    rows = use(award_rows, year, districts)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = fitted_table("名次", "社区", "综合得分", "奖项", "经费（元）", title=f"{district + ' ' if district else ''}{year}年度 创新奖与党建工作经费")
    for row in rows:
        table.add_row(str(row["rank"]), row["community"], f"{row['year_score']:.1f}", row["award"] or "", f"{row['funding_yuan']:,}")
    console.print(table)
    console.print(f"合计 {sum(r['funding_yuan'] for r in rows):,} 元。每个社区的计算过程见其通知，或 lianchuang award --json")
    if output:
        use(write_funding_sheet, year, output, districts, force)
        console.print(f"经费分配表（交财务）：{output}")


COMMANDS = {"award": award}  # top-level commands (`lianchuang rank`)
