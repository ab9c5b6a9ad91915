"""Open data on the notice board: the year's tasks with their latest progress, the monthly rankings
(with corrections), the evaluation results and the award, as CSV (UTF-8 with BOM: opens in Excel
and WPS) and JSON, with a page describing every field (board/<year>/data/). Only what the board
already shows is published. Each report of each task is not: a province has 1.8 million, 27 s to
write each month; the rankings carry the monthly figures per community."""

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import orjson
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from lianchuang.models import (
    AwardResult,
    Community,
    EvaluationResult,
    MonthlyRanking,
    Person,
    PersonResult,
    RankingCorrection,
    Street,
    SupersededRanking,
    Task,
)
from lianchuang.models.db import plain_rows
from lianchuang.tasks.files import page_in, replace_file
from lianchuang.tasks.rules import ranking_formula


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    fields: list[tuple[str, str]]  # (field, what it means)

    def query(self, cycle_id: int) -> Select:
        return QUERIES[self.name](cycle_id)


DATASETS = [
    Dataset("tasks", "年度工作任务", [
        ("task_code", "任务编号（社区编码-序号）"), ("street", "街道"), ("community", "社区"), ("category", "类别"),
        ("title", "任务"), ("lead_unit", "牵头单位"), ("responsible", "责任领导"), ("goal", "年度目标"),
        ("deadline", "完成时限（YYYY-MM-DD）"), ("steps", "实施步骤（“月份 计划完成百分比 内容”，分号分隔；排名按它算计划进度）"),
        ("percent", "最近一次报告的完成百分比（0–100）"),
        ("reported_month", "最近一次报告的月份"), ("reported_on", "最近一次报告的日期")]),
    Dataset("rankings", "月度排名（现行版本）", [
        ("month", "月份"), ("street", "街道"), ("community", "社区"), ("score", ranking_formula()),
        ("progress_score", "进度得分（0–100）"), ("on_time_score", "按时得分（0–100）"), ("tasks", "任务数"),
        ("overdue_tasks", "逾期任务数"), ("rank_in_street", "街道内名次"), ("rank_in_district", "全区名次"),
        ("published_on", "发布（或更正）日期")]),
    Dataset("ranking_corrections", "月度排名更正记录（更正前的版本）", [
        ("month", "月份"), ("correction", "第几次更正"), ("corrected_on", "更正日期"), ("reason", "更正原因"),
        ("community", "社区"), ("score_before", "更正前得分"), ("rank_in_street_before", "更正前街道内名次"),
        ("rank_in_district_before", "更正前全区名次")]),
    Dataset("results", "年度民主评议结果（任务）", [
        ("task_code", "任务编号"), ("community", "社区"), ("title", "任务"), ("ballots", "有效票数"),
        ("score", "得分（空：有效票不足，未评定）")]),
    Dataset("people_results", "年度民主评议结果（责任人）", [
        ("responsible", "责任人"), ("community", "社区"), ("tasks", "负责任务数"), ("ballots", "有效票数"),
        ("score", "得分（空：未评定）")]),
    Dataset("award", "党建创新奖与工作经费", [
        ("community", "社区"), ("street", "街道"), ("year_score", "综合得分"), ("rank", "名次"), ("award", "奖项（空：未获奖）"),
        ("funding_yuan", "核定工作经费（元）"), ("explanation", "计算说明")]),
]


def _rankings(cycle_id: int) -> Select:
    return (select(MonthlyRanking.month, Street.name, Community.name, MonthlyRanking.score, MonthlyRanking.progress_score,
                   MonthlyRanking.on_time_score, MonthlyRanking.tasks, MonthlyRanking.overdue_tasks, MonthlyRanking.rank_in_street,
                   MonthlyRanking.rank_in_district, MonthlyRanking.published_on)
            .join(Community, MonthlyRanking.community_id == Community.id).join(Street, Community.street_id == Street.id)
            .where(MonthlyRanking.cycle_id == cycle_id).order_by(MonthlyRanking.month, MonthlyRanking.rank_in_district, Community.code))


def _corrections(cycle_id: int) -> Select:
    return (select(RankingCorrection.month, RankingCorrection.number, RankingCorrection.corrected_on, RankingCorrection.reason,
                   Community.name, SupersededRanking.score, SupersededRanking.rank_in_street, SupersededRanking.rank_in_district)
            .join(SupersededRanking, SupersededRanking.correction_id == RankingCorrection.id)
            .join(Community, SupersededRanking.community_id == Community.id)
            .where(RankingCorrection.cycle_id == cycle_id)
            .order_by(RankingCorrection.month, RankingCorrection.number, SupersededRanking.rank_in_district, Community.code))


def _results(cycle_id: int) -> Select:
    return (select(Task.code, Community.name, Task.title, EvaluationResult.ballots, EvaluationResult.score)
            .join(Task, EvaluationResult.task_id == Task.id).join(Community, Task.community_id == Community.id)
            .where(EvaluationResult.cycle_id == cycle_id).order_by(Task.code))


def _people_results(cycle_id: int) -> Select:
    return (select(Person.name, Community.name, PersonResult.tasks, PersonResult.ballots, PersonResult.score)
            .join(Person, PersonResult.person_id == Person.id).outerjoin(Community, Person.community_id == Community.id)
            .where(PersonResult.cycle_id == cycle_id).order_by(Person.code))


def _award(cycle_id: int) -> Select:
    return (select(Community.name, Street.name, AwardResult.year_score, AwardResult.rank, AwardResult.award,
                   AwardResult.funding_yuan, AwardResult.explanation)
            .join(Community, AwardResult.community_id == Community.id).join(Street, Community.street_id == Street.id)
            .where(AwardResult.cycle_id == cycle_id).order_by(AwardResult.rank, Community.code))


# The tasks' rows are the board's own (open_data_rows): it reads every task's plan, steps and latest report.
QUERIES = dict(rankings=_rankings, ranking_corrections=_corrections, results=_results,
               people_results=_people_results, award=_award)


def open_data_rows(session: Session, cycle_id: int, tasks: list[tuple]) -> dict[str, list]:
    """Every dataset's rows: the tasks' as the board read them (one row per task in the dataset's
    field order: the board and the open data show the same figures, read once), the rest read here."""
    return {dataset.name: tasks if dataset.name == "tasks" else plain_rows(session, dataset.query(cycle_id)).all()
            for dataset in DATASETS}


def write_open_data(folder: Path, rows: dict[str, list]) -> list[tuple[Dataset, int]]:
    """Write every dataset's rows (open_data_rows) as <name>.csv and <name>.json into folder;
    returns (dataset, rows). Reads nothing from the database: a forked process may write them."""
    folder.mkdir(parents=True, exist_ok=True)
    for dataset in DATASETS:
        table, records = _files(dataset, rows[dataset.name])
        replace_file(page_in(folder, f"{dataset.name}.csv"), table, public=True)
        replace_file(page_in(folder, f"{dataset.name}.json"), records, public=True)
    return [(dataset, len(rows[dataset.name])) for dataset in DATASETS]


def _files(dataset: Dataset, rows: list) -> tuple[str, bytes]:
    """A dataset's CSV (with a BOM: Excel reads UTF-8) and JSON (orjson: the tasks' 150,000 records
    in a sixth of the standard library's time, the same text as json.dumps(…, ensure_ascii=False,
    separators=(",", ":")))."""
    keys = [key for key, _ in dataset.fields]
    rows = _plain_rows(rows)
    table = io.StringIO(newline="")
    writer = csv.writer(table)
    writer.writerow(keys)
    writer.writerows(_inert_rows(rows))
    records = orjson.dumps([dict(zip(keys, row)) for row in rows])
    return "\ufeff" + table.getvalue(), records


def _plain_rows(rows: list) -> list[list]:
    """Dates as ISO text, enumerations by their Chinese name: what CSV and JSON both hold. Converted
    column by column, each distinct value once, only the columns that hold such values (150,000
    tasks: 2 million cells, a few hundred distinct dates)."""
    rows = [list(row) for row in rows]
    for index in range(len(rows[0]) if rows else 0):
        sample = next((row[index] for row in rows if row[index] is not None), None)
        if hasattr(sample, "isoformat") or hasattr(sample, "label"):
            plain = {value: _plain(value) for value in {row[index] for row in rows}}
            for row in rows:
                row[index] = plain[row[index]]
    return rows


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return getattr(value, "label", value)


FORMULA_START = re.compile(r"\n[=+\-@\t\r]")  # a literal first character: the search skips ahead (0.27 → 0.15 s for the tasks)


def _inert_rows(rows: list[list]) -> list[list]:
    """The rows with _inert applied to the text columns that hold a cell a spreadsheet would run
    (found by one search over the column's text, each cell after a line break; most columns hold none)."""
    risky = [index for index, column in enumerate(zip(*rows))
             if FORMULA_START.search("\n" + "\n".join(value for value in column if isinstance(value, str)))]
    if not risky:
        return rows
    inert = []
    for row in rows:
        row = row.copy()
        for index in risky:
            row[index] = _inert(row[index])
        inert.append(row)
    return inert


def _inert(value):
    """A text cell a spreadsheet would run as a formula (=, +, -, @) is written with a leading
    apostrophe, as OWASP advises for CSV files opened in Excel."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
