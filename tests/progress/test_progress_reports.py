"""Progress in, rankings out: imports, the --send switch, charts in the emails, schedules."""

import email
import re
from datetime import date
from email import policy

import pytest
from factories import SMALL, YEAR, write_lines
from openpyxl import load_workbook
from sqlalchemy import select

from lianchuang import clock
from lianchuang.errors import ImportRefused, UserError
from lianchuang.models import Community, Milestone, ProgressReport, Task
from lianchuang.models.db import session_scope
from lianchuang.models.enums import Category
from lianchuang.tasks.cycle import ensure_cycle
from lianchuang.tasks.division.assignment import apply, propose
from lianchuang.tasks.division.cards import complete_task_cards
from lianchuang.tasks.opinions import rules as opinions
from lianchuang.tasks.progress.reports import import_progress, write_progress_template


@pytest.fixture
def tasks(district):
    """Two tasks per community with the default quarterly milestones and owners."""
    with session_scope() as session:
        cycle = ensure_cycle(session, YEAR)
        communities = session.scalars(select(Community).order_by(Community.code)).all()
        opinions.add_tasks(session, cycle.id, [opinions.NewTask(c.id, category, f"{c.name}{category.label}")
                                               for c in communities for category in (Category.services, Category.culture)])
        ids = [c.id for c in communities]
        apply(session, propose(session, cycle.id, ids)[0])
        complete_task_cards(session, YEAR, cycle.id, ids)
        return session.scalars(select(Task.code).order_by(Task.code)).all()


def csv_file(tmp_path, rows):
    return write_lines(tmp_path / "progress.csv",
                       ["任务编号,日期,完成百分比,到达节点（月份）,说明,进度下降原因,投入资金（元）,办理事项（件）"] + rows)


def do_import(path):
    with clock.frozen_at(date(YEAR, 7, 1)), session_scope() as session:
        return import_progress(session, ensure_cycle(session, YEAR).id, YEAR, path)


def test_the_template_lists_every_task_and_imports_back(tasks, tmp_path):
    path = tmp_path / "进度.xlsx"
    with clock.frozen_at(date(YEAR, 6, 28)), session_scope() as session:
        assert write_progress_template(session, path, ensure_cycle(session, YEAR).id,
                                       session.scalars(select(Community.id)).all()) == len(tasks)
    book = load_workbook(path)
    sheet = book["进度"]
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == tasks
    sheet.cell(2, 5, 55)
    sheet.cell(2, 6, 6)  # reached the June milestone
    sheet.cell(2, 9, 2000)
    book.save(path)
    assert do_import(path) == dict(rows=1, new=1, already_there=0, moved=[])
    assert do_import(path)["new"] == 0
    with session_scope() as session:
        report = session.scalars(select(ProgressReport)).one()
        milestone = session.get(Milestone, report.milestone_id)
    assert (report.percent, report.funds_yuan, milestone.due_month) == (55, 2000, 6)


def test_bad_progress_is_refused_whole_with_each_problem_located(tasks, tmp_path):
    first = tasks[0]
    path = csv_file(tmp_path, [f"{first},{YEAR}-05-25,60,,,,,",
                               f"NO-SUCH-TASK,{YEAR}-06-25,60,,,,,",
                               f"{first},{YEAR}-06-25,130,,,,,",
                               f"{tasks[1]},{YEAR}-08-25,40,,,,,",
                               f"{first},{YEAR}-06-20,40,,,,,",
                               f"{tasks[1]},{YEAR}-06-25,40,11,,,,",
                               f"{tasks[1]},{YEAR}-06-26,40,,,,-5,"])
    with pytest.raises(ImportRefused) as refused:
        do_import(path)
    located = {(p.row, p.column) for p in refused.value.problems}
    assert located == {(3, "任务编号"), (4, "完成百分比"), (5, "日期"), (6, "进度下降原因"), (7, "到达节点（月份）"),
                       (8, "投入资金（元）")}
    with session_scope() as session:
        assert session.scalars(select(ProgressReport)).all() == []


def test_a_decrease_with_a_reason_is_accepted(tasks, tmp_path):
    path = csv_file(tmp_path, [f"{tasks[0]},{YEAR}-05-25,60,,,,,", f"{tasks[0]},{YEAR}-06-25,45,,,重新评估工程量,,"])
    assert do_import(path)["new"] == 2
    with session_scope() as session:
        assert "重新评估工程量" in session.scalars(select(ProgressReport.note).where(ProgressReport.percent == 45)).one()


def test_ranking_sends_only_when_asked_and_never_twice(prefect_harness, settings, tasks):
    from lianchuang.flows.stages import monthly_ranking

    with clock.frozen_at(date(YEAR, 7, 1)):
        assert monthly_ranking(YEAR, [6], send=False, confirm=True)["ranking_notices"] == 0
        sent = monthly_ranking(YEAR, [6], send=True, confirm=True)
        assert sent["ranking_notices"] > 0 and sent["delivered"] == sent["ranking_notices"]
        assert monthly_ranking(YEAR, [6], send=True, confirm=True)["ranking_notices"] == 0
    messages = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in (settings.maildir / "new").iterdir()]
    street = next(m for m in messages if "街道社区工作任务进度" in m["Subject"])
    assert street.get_content_type() == "multipart/related"
    chart = next(part for part in street.walk() if part.get_content_type() == "image/png")
    assert chart["Content-ID"] == "<chart>" and chart.get_content().startswith(b"\x89PNG")
    assert 'src="cid:chart"' in street.get_body(("html",)).get_content()


def test_a_month_not_over_cannot_be_ranked(prefect_harness, settings, tasks):
    from lianchuang.flows.stages import monthly_ranking

    with clock.frozen_at(date(YEAR, 6, 30)), pytest.raises(UserError, match="还没有结束"):
        monthly_ranking(YEAR, [6], confirm=True)


def test_a_large_board_started_ahead_shows_the_month_published_meanwhile_or_is_called_off(prefect_harness, settings, tasks,
                                                                                            monkeypatch, tmp_path):
    """The flow starts a large board's workers before it ranks (they lay out the tasks meanwhile):
    released after the month is published, the pages show it, as a board built afterwards does;
    with the month refused, the workers are called off and write nothing."""
    from concurrent.futures import wait

    from lianchuang.flows.stages import monthly_ranking
    from lianchuang.tasks import board, steps

    monkeypatch.setattr(board, "LARGE_BOARD", 0)  # the district counts as large: worker processes, started ahead
    started = []
    monkeypatch.setattr(steps, "board_ahead", lambda *args: started.append(board.board_ahead(*args)) or started[-1])
    folder = settings.board_dir / str(YEAR)
    with clock.frozen_at(date(YEAR, 6, 30)), pytest.raises(UserError, match="还没有结束"):
        monthly_ranking(YEAR, [6], send=False, confirm=True)
    wait([started[0].pages], timeout=30)  # the workers are ended, not left reading until they reach the gate
    assert started[0].pages.done() and not folder.exists() and not steps._BOARDS_AHEAD
    with clock.frozen_at(date(YEAR, 7, 1)):
        pages = monthly_ranking(YEAR, [6], send=False, confirm=True)["board_pages"]
        with session_scope() as session:
            after = board.build_board(session, ensure_cycle(session, YEAR).id, YEAR, tmp_path / "after")
    assert len(started) == 2 and pages == after == len(list(folder.glob("*.html")))
    community = next(folder.glob("D*C*.html")).read_text(encoding="utf-8")
    assert "月度进度排名" in community and re.search(r"<td[^>]*>6月</td>", community)
    for page in (tmp_path / "after").glob("*.html"):
        assert (folder / page.name).read_text(encoding="utf-8") == page.read_text(encoding="utf-8"), page.name


def test_schedules_are_monthly_and_weekly_in_beijing_time():
    from lianchuang.flows.schedules import deployments

    by_name = {d.name: d for d in deployments()}
    monthly, weekly = by_name["monthly-ranking"], by_name["weekly-reminders"]
    assert (monthly.schedules[0].schedule.cron, monthly.schedules[0].schedule.timezone) == ("0 8 6 * *", "Asia/Shanghai")
    assert (weekly.schedules[0].schedule.cron, weekly.schedules[0].schedule.timezone) == ("0 8 * * 1", "Asia/Shanghai")


def test_serve_names_an_unreachable_server(monkeypatch):
    from lianchuang.flows.schedules import prefect_server_url

    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    with pytest.raises(UserError, match="连不上"):
        prefect_server_url()


def test_february_reported_on_the_first_of_march_counts_for_february(tasks, tmp_path):
    """The coordinator's case: reports gathered on 1 March for February counted for March, and
    February was published at 30.0 for everyone. A report carries the month it reports on."""
    from lianchuang.models import MonthlyRanking
    from lianchuang.tasks.progress.ranking import publish_ranking

    path = write_lines(tmp_path / "progress.csv", ["任务编号,报告日期,完成百分比,报告月份"] + [
        f"{code},{YEAR}-03-01,20,{YEAR}-02" for code in tasks])
    with clock.frozen_at(date(YEAR, 3, 1)), session_scope() as session:
        cycle = ensure_cycle(session, YEAR)
        assert import_progress(session, cycle.id, YEAR, path)["new"] == len(tasks)
        publish_ranking(session, cycle.id, YEAR, 2, date(YEAR, 3, 6))
        scores = set(session.scalars(select(MonthlyRanking.progress_score).where(MonthlyRanking.month == 2)))
    assert scores == {100.0}  # 20% against February's plan of 16.7%, not 0%


def test_a_report_for_a_published_month_counts_from_the_next_and_says_so(tasks, tmp_path):
    from lianchuang.tasks.progress.ranking import publish_ranking

    with clock.frozen_at(date(YEAR, 4, 10)), session_scope() as session:
        cycle = ensure_cycle(session, YEAR)
        publish_ranking(session, cycle.id, YEAR, 2, date(YEAR, 3, 6))
        publish_ranking(session, cycle.id, YEAR, 3, date(YEAR, 4, 6))
        path = write_lines(tmp_path / "late.csv", ["任务编号,报告日期,完成百分比,报告月份", f"{tasks[0]},{YEAR}-04-10,30,2",
                                                  f"{tasks[1]},{YEAR}-04-10,30,{YEAR}-05"])
        with pytest.raises(ImportRefused, match="还没有到"):
            import_progress(session, cycle.id, YEAR, path)
        path = write_lines(tmp_path / "late.csv", ["任务编号,报告日期,完成百分比,报告月份", f"{tasks[0]},{YEAR}-04-10,30,2"])
        result = import_progress(session, cycle.id, YEAR, path)
        assert result["moved"] == [(tasks[0], 2, 4)]
        assert session.scalars(select(ProgressReport.month)).all() == [2]  # kept for the month reported on


def test_a_late_report_for_an_earlier_month_does_not_undo_a_later_month(tasks, tmp_path):
    from lianchuang.tasks.progress.ranking import task_status_query

    path = write_lines(tmp_path / "p.csv", ["任务编号,报告日期,完成百分比,报告月份,进度下降原因", f"{tasks[0]},{YEAR}-04-02,50,3,",
                                            f"{tasks[0]},{YEAR}-04-03,30,2,补报2月"])
    with clock.frozen_at(date(YEAR, 4, 3)), session_scope() as session:
        cycle = ensure_cycle(session, YEAR)
        import_progress(session, cycle.id, YEAR, path)
        actual = {row.code: row.actual for row in session.execute(task_status_query(cycle.id, YEAR, 3))}
        february = {row.code: row.actual for row in session.execute(task_status_query(cycle.id, YEAR, 2))}
    assert actual[tasks[0]] == 50  # March's report, though February's was entered a day later
    assert february[tasks[0]] == 30


def test_rank_names_the_communities_that_have_not_reported_before_publishing(tasks, tmp_path):
    from lianchuang.tasks.progress.ranking import publish_ranking
    from lianchuang.tasks.progress.use_cases import months_missing_reports

    with clock.frozen_at(date(YEAR, 4, 3)):
        assert len(months_missing_reports(YEAR, 3)) == SMALL.communities
        with pytest.raises(UserError, match="还没有结束"):
            months_missing_reports(YEAR, 4)
        path = write_lines(tmp_path / "march.csv", ["任务编号,报告日期,完成百分比,报告月份", f"{tasks[0]},{YEAR}-04-02,30,3"])
        with session_scope() as session:
            import_progress(session, ensure_cycle(session, YEAR).id, YEAR, path)
        assert len(months_missing_reports(YEAR, 3)) == SMALL.communities - 1
        with session_scope() as session:
            publish_ranking(session, ensure_cycle(session, YEAR).id, YEAR, 3, date(YEAR, 4, 6))
        assert months_missing_reports(YEAR, 3) == []  # published: nothing to ask any more


def test_the_cycle_publishes_a_month_only_after_its_reporting_deadline():
    assert clock.reported_months(2027, date(2027, 2, 5)) == []  # reports for January are due by 5 February
    assert clock.reported_months(2027, date(2027, 2, 6)) == [1]
    assert clock.reported_months(2027, date(2027, 3, 6)) == [1, 2]


def test_two_runs_of_one_month_at_once_publish_it_once(tasks):
    """Two workers (or the schedule and a coordinator) ranking June at the same moment: the second
    waits for the first and finds June published (it failed with a UniqueViolation before)."""
    import threading

    from lianchuang.models import MonthlyRanking, RankingOverdueTask
    from lianchuang.tasks import steps

    clock.set_today(date(YEAR, 7, 1))
    start, results, errors = threading.Barrier(2), [], []

    def rank():
        start.wait()
        try:
            results.append(steps.rank_month.fn(YEAR, 6, confirm=True)["newly_published"])
        except Exception as error:  # noqa: BLE001 (the test reports it)
            errors.append(error)

    threads = [threading.Thread(target=rank) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and sorted(results) == [False, True]
    with session_scope() as session:
        assert len(session.scalars(select(MonthlyRanking)).all()) == SMALL.communities
        overdue = session.scalars(select(RankingOverdueTask.task_id)).all()
        assert len(overdue) == len(set(overdue)) > 0
