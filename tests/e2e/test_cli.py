"""The command as a coordinator runs it: real processes, exit codes, one-line reasons."""

import json
import os
import subprocess
import sys

import pytest
from factories import add_task_per_community, fill_in_samples


def run(settings, *args, env=None):
    environment = os.environ | {"LIANCHUANG_DATA_DIR": str(settings.data_dir),
                                "LIANCHUANG_DATABASE_URL": settings.db_url} | (env or {})
    return subprocess.run([sys.executable, "-m", "lianchuang.cli", *args], capture_output=True, text=True,
                          env=environment, timeout=120)


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert all(fragment in result.stderr for fragment in fragments), result.stderr


def test_help_speaks_to_coordinators(settings):
    result = run(settings, "--help")
    assert result.returncode == 0 and "三级联创" in result.stdout
    for group in ("opinions", "assign", "commitments", "rank", "evaluate", "demo", "server"):
        assert group in result.stdout


def test_org_template_then_import_then_list(settings, tmp_path):
    template = tmp_path / "org.xlsx"
    assert run(settings, "org", "template", "-o", str(template)).returncode == 0
    fill_in_samples(template)
    imported = run(settings, "org", "import", str(template))
    assert imported.returncode == 0 and "社区 1" in imported.stdout
    listed = json.loads(run(settings, "org", "list", "--json").stdout)
    assert listed[0]["community"] == "江滨社区"


@pytest.mark.parametrize("args, fragments", [
    (("org", "import", "no-such-file.xlsx"), ("找不到文件",)),
    (("report", "summary", "--year", "2031"), ("还没有 2031 年度",)),
    (("rank", "--month", "2026-13"), ("月份“2026-13”格式不对",)),
    (("demo", "--scale", "planet"), ("规模只能是",)),
])
def test_user_mistakes_end_with_one_line_and_no_traceback(settings, args, fragments):
    assert_one_line_error(run(settings, *args), *fragments)


def test_a_refused_import_lists_every_problem(settings, tmp_path):
    from openpyxl import load_workbook

    from lianchuang.tasks.org import write_org_template

    path = tmp_path / "org.xlsx"
    write_org_template(path)
    fill_in_samples(path)
    book = load_workbook(path)
    book["人员"].cell(2, 3, "校长")
    book["人员"].cell(3, 8, "bad-address")
    book.save(path)
    result = run(settings, "org", "import", str(path))
    assert_one_line_error(result, "org.xlsx/人员 第2行 [身份]", "org.xlsx/人员 第3行 [电子邮箱]", "共 2 处问题")


def test_a_bad_setting_is_named(settings):
    assert_one_line_error(run(settings, "org", "list", env={"LIANCHUANG_SMTP_PORT": "abc"}), "LIANCHUANG_SMTP_PORT")


def test_a_prefect_server_that_starts_too_slowly_is_explained_and_ended(settings):
    from lianchuang.flows.local_server import recorded

    result = run(settings, "outbox", "flush", env={"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "1",
                                                   "PREFECT_API_URL": "", "PREFECT_HOME": str(settings.data_dir / "prefect")})
    assert_one_line_error(result, "没有在 1 秒内启动", "请再运行一次")
    assert recorded() is None and not (settings.data_dir / "prefect" / "server.json").exists()


def test_fresh_start_drops_the_data_and_keeps_the_schema_creatable(settings, district):
    from sqlalchemy import func, select

    from lianchuang.commands.admin import reset_data
    from lianchuang.models import Community
    from lianchuang.models.db import schema_state, session_scope, upgrade_database

    settings.board_dir.mkdir(parents=True)
    reset_data()
    assert schema_state(settings.db_url) == "empty" and not settings.board_dir.exists()
    upgrade_database(settings.db_url)
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Community)) == 0


def test_notices_preview_in_english_and_to_a_file(settings, tmp_path):
    shown = run(settings, "notices", "preview", "overdue", "--locale", "en", "--text")
    assert shown.returncode == 0 and "[Overdue]" in shown.stdout and "Dear 王建国," in shown.stdout
    page = tmp_path / "ranking.html"
    assert run(settings, "notices", "preview", "ranking", "-o", str(page)).returncode == 0
    assert "计分规则" in page.read_text(encoding="utf-8")
    assert_one_line_error(run(settings, "notices", "preview", "nope"), "没有模板“nope”")


def test_outbox_list_and_show(settings):
    from lianchuang.models.db import session_scope
    from lianchuang.tasks.demo.samples import SAMPLES
    from lianchuang.tasks.outbox import drafts as outbox

    with session_scope() as session:
        outbox.queue(session, [outbox.Draft(2026, "progress", "overdue", "P1", "王建国", None, SAMPLES["overdue"])])
    listed = json.loads(run(settings, "outbox", "list", "--status", "printed", "--json").stdout)
    assert [row["recipient"] for row in listed] == ["王建国"]
    shown = run(settings, "outbox", "show", str(listed[0]["id"]))
    assert shown.returncode == 0 and "改造老旧下水道" in shown.stdout and "打印送达" in shown.stdout
    assert_one_line_error(run(settings, "outbox", "show", "999"), "没有编号为 999 的通知")
    assert_one_line_error(run(settings, "outbox", "list", "--status", "lost"), "状态只能是")


def test_stage_two_to_five_commands_guide_the_coordinator(settings, district):
    """From the command line: propose with the balance shown, check the cards, and the mistakes of
    stages 2-5 each end with one line that says what to do."""
    add_task_per_community(2026)
    checked = run(settings, "tasks", "check", "--year", "2026")
    assert checked.returncode == 1 and "牵头单位" in checked.stdout and "assign export" in checked.stdout
    proposed = run(settings, "assign", "propose", "--year", "2026")
    assert proposed.returncode == 0 and "总体平衡" in proposed.stdout and "之后" in proposed.stdout
    assert_one_line_error(run(settings, "assign", "set", "D01S01C01-001", "--year", "2026", "--lead", "NOPE"), "NOPE", "命令被拒绝")
    assert_one_line_error(run(settings, "assign", "propose", "--year", "2026", "--street", "火星街道"), "找不到街道")
    assert_one_line_error(run(settings, "evaluate", "vote", "ABC", "D01S01C01-001=很好", "--year", "2026"), "等次")
    assert_one_line_error(run(settings, "evaluate", "explain", "D01S01C01-001", "--year", "2026"), "评议尚未结束")
    assert_one_line_error(run(settings, "award", "--year", "2026"), "民主评议还没有结束")


def test_an_opinion_added_by_hand_says_what_to_do_next(settings, district):
    community = district.communities[0]["code"]
    args = ("opinions", "add", "-c", community, "--source", "社区群众", "--channel", "入户", "--content", "楼道灯坏了",
            "--year", "2026")
    added, again = run(settings, *args), run(settings, *args)
    assert added.returncode == 0 and "已录入。" in added.stdout
    assert f"lianchuang deliberate agenda --year 2026 --community {community}" in added.stdout
    assert again.returncode == 0 and "已经录入过" in again.stdout and "deliberate agenda" in again.stdout


def test_a_progress_report_added_by_hand_says_what_it_recorded_and_what_to_do_next(settings, district):
    code = add_task_per_community(2026)[0]
    added = run(settings, "progress", "add", code, "--percent", "30", "--year", "2026", env={"LIANCHUANG_TODAY": "2026-07-03"})
    assert added.returncode == 0, added.stdout + added.stderr
    assert f"已记录 {code} 的进度 30%" in added.stdout and "lianchuang rank --month 2026-06" in added.stdout


def test_stage_three_is_reachable_from_the_command_line(settings, district):
    """`tasks check` and `commitments sign` point to `commitments run`: it exists, prepares the
    documents, and a signing date in the future is refused."""
    add_task_per_community(2026)
    assert run(settings, "assign", "run", "--year", "2026").returncode == 0
    prepared = run(settings, "commitments", "run", "--year", "2026")
    assert prepared.returncode == 0, prepared.stderr
    assert "新生成责任状/承诺书" in prepared.stdout and "commitments sign" in prepared.stdout
    listed = run(settings, "commitments", "list", "-c", "D01S01C01", "--year", "2026")
    assert "未签" in listed.stdout
    assert_one_line_error(run(settings, "commitments", "sign", "-c", "D01S01C01", "--by", "王书记", "--all",
                              "--date", "2099-01-01", "--year", "2026"), "还没有到")


def test_a_wrong_year_never_advises_starting_a_new_one_and_a_flow_mistake_has_no_traceback(settings, district):
    from lianchuang.models.db import session_scope
    from lianchuang.tasks.cycle import ensure_cycle

    with session_scope() as session:
        ensure_cycle(session, 2027)
    january = {"LIANCHUANG_TODAY": "2028-01-10"}
    closed = run(settings, "evaluate", "close", env=january)  # defaults to 2027, the year under evaluation
    assert "2028" not in closed.stderr and "opinions" not in closed.stderr + closed.stdout
    wrong = run(settings, "evaluate", "close", "--year", "2031", env=january)
    assert_one_line_error(wrong, "已有：2027 年度", "--year 2027")
    assert "opinions" not in wrong.stderr
    assert_one_line_error(run(settings, "rank", "--month", "2028-01", env=january), "还没有结束")
    assert_one_line_error(run(settings, "opinions", "open", "--year", "2027", "-c", "火星社区", env=january), "找不到社区")


def test_in_january_the_commands_default_to_the_year_that_still_has_work(settings, district, tmp_path):
    """January: December's progress is reported for last year, and last year's award notices for
    people without email are printed; the commands default there, as `evaluate` and `award` do."""
    from lianchuang.models.db import session_scope
    from lianchuang.tasks.outbox import drafts as outbox

    codes = add_task_per_community(2026)
    with session_scope() as session:
        outbox.queue(session, [outbox.Draft(2026, "evaluation", "overdue", "P-paper", "周大爷", None, dict(year=2026, through_month=6, tasks=[["T-001", "江滨社区", "夜间巡逻", "6月：过半", "50%", "20%"]]))])
    january = {"LIANCHUANG_TODAY": "2027-01-03"}
    template = run(settings, "progress", "template", "-o", str(tmp_path / "进度.xlsx"), env=january)
    assert template.returncode == 0 and "--year 2026" in template.stdout, template.stderr
    sheet = tmp_path / "进度.csv"
    sheet.write_text("任务编号,报告日期,完成百分比,报告月份\n" + f"{codes[0]},2027-01-02,100,12\n", encoding="utf-8")
    imported = run(settings, "progress", "import", str(sheet), env=january)
    assert imported.returncode == 0 and "新增 1 条" in imported.stdout, imported.stderr
    assert "lianchuang rank --month 2026-12" in imported.stdout and "MM" not in imported.stdout  # no placeholder
    printed = run(settings, "outbox", "print", env=january)
    assert printed.returncode == 0 and "2026年度共 1 份纸质通知待打印" in printed.stdout, printed.stderr
